//! Segment files: their names, their preallocation, and the directory's bookkeeping.
//!
//! A segment is named after its first record's sequence number (`00000000000000000001.seg`),
//! so the directory listing alone orders the segments and finds the one holding a record.
//!
//! Preallocation writes zeros over the whole segment once, before any record goes in, and
//! syncs them. `fallocate` would be cheaper but only reserves blocks as *unwritten* extents:
//! the first write into each one converts it, a metadata change that every `fdatasync` would
//! then commit to the filesystem's journal — the very cost preallocating is meant to avoid.
//! With written zeros, a record's `fdatasync` writes only the record's pages. The price is
//! one sequential write of the segment's length per segment, paid off the commit path: the
//! next segment is prepared by a thread of its own while the current one fills (a "spare").

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::JournalError;

const SUFFIX: &str = ".seg";

/// The next segment, zeroed and synced, waiting for its header and its name.
const SPARE: &str = "spare";
/// A spare being prepared; renamed to [`SPARE`] once complete.
const SPARE_PARTIAL: &str = "spare.partial";

/// Zeros written per call while preallocating.
const ZERO_CHUNK: usize = 1 << 20;

pub(crate) fn path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}{SUFFIX}"))
}

/// The first sequence numbers of the segments in `dir`, ascending.
pub(crate) fn list(dir: &Path) -> Result<Vec<u64>, JournalError> {
    let mut firsts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(JournalError::io("cannot list", dir))?;
    for entry in entries {
        let entry = entry.map_err(JournalError::io("cannot list", dir))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else {
            continue;
        };
        if let Ok(first) = stem.parse::<u64>() {
            firsts.push(first);
        }
    }
    firsts.sort_unstable();
    Ok(firsts)
}

/// Creates a file readable and writable by its owner only: it holds audit events.
pub(crate) fn create_private(path: &Path) -> Result<File, JournalError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(JournalError::io("cannot create", path))
}

pub(crate) fn open_rw(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(JournalError::io("cannot open", path))
}

/// Makes renames and removals in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(JournalError::io("cannot sync", dir))
}

/// Overwrites `file` with zeros from `from` to `to` where it is not zero already (reading is
/// cheaper than writing, and after a clean stop or a `kill -9` almost all of it is zero).
pub(crate) fn zero_range(file: &File, path: &Path, from: u64, to: u64) -> Result<(), JournalError> {
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut chunk = vec![0u8; ZERO_CHUNK];
    let mut offset = from;
    while offset < to {
        let len = usize::try_from((to - offset).min(ZERO_CHUNK as u64)).unwrap_or(ZERO_CHUNK);
        let (Some(chunk), Some(zeros)) = (chunk.get_mut(..len), zeros.get(..len)) else {
            break;
        };
        let read =
            read_at_most(file, chunk, offset).map_err(JournalError::io("cannot read", path))?;
        if read < len || chunk.iter().any(|b| *b != 0) {
            file.write_all_at(zeros, offset)
                .map_err(JournalError::io("cannot preallocate", path))?;
        }
        offset += len as u64;
    }
    Ok(())
}

fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match file.read_at(rest, offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Removes spares left by a previous run: a partial one may be short, and a complete one
/// is cheaper to make again than to check.
pub(crate) fn remove_spares(dir: &Path) -> Result<(), JournalError> {
    for name in [SPARE, SPARE_PARTIAL] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(JournalError::io("cannot remove", path)(e)),
        }
    }
    Ok(())
}

/// Prepares the spare: `bytes` of zeros, written and synced, then named [`SPARE`].
pub(crate) fn prepare_spare(dir: &Path, bytes: u64) -> Result<(), JournalError> {
    let partial = dir.join(SPARE_PARTIAL);
    let mut file = create_private(&partial)?;
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut left = bytes;
    while left > 0 {
        let len = usize::try_from(left.min(ZERO_CHUNK as u64)).unwrap_or(ZERO_CHUNK);
        let Some(zeros) = zeros.get(..len) else {
            break;
        };
        file.write_all(zeros)
            .map_err(JournalError::io("cannot preallocate", &partial))?;
        left -= len as u64;
    }
    file.sync_all()
        .map_err(JournalError::io("cannot sync", &partial))?;
    std::fs::rename(&partial, dir.join(SPARE)).map_err(JournalError::io("cannot rename", &partial))
}

/// Prepares a spare of `bytes` without writing them: a sparse file, which reads as zeros like
/// a written one. Only a new journal's first segment is made so: writing a whole segment of
/// zeros before the first answer would hold a fresh server's start (64 MiB, tens of
/// milliseconds), while the holes only make this one segment's syncs commit block allocations,
/// until the zeroed spare the spare thread prepares meanwhile takes over.
pub(crate) fn prepare_sparse_spare(dir: &Path, bytes: u64) -> Result<(), JournalError> {
    let partial = dir.join(SPARE_PARTIAL);
    let file = create_private(&partial)?;
    file.set_len(bytes)
        .map_err(JournalError::io("cannot size", &partial))?;
    file.sync_all()
        .map_err(JournalError::io("cannot sync", &partial))?;
    std::fs::rename(&partial, dir.join(SPARE)).map_err(JournalError::io("cannot rename", &partial))
}

/// Turns the prepared spare into the segment starting at `first_seq`: its header is written
/// and synced before the rename, and the rename is synced before any record goes in, so a
/// file with a segment's name always has a valid header.
pub(crate) fn install_spare(dir: &Path, first_seq: u64) -> Result<File, JournalError> {
    let spare = dir.join(SPARE);
    let file = open_rw(&spare)?;
    file.write_all_at(&crate::format::segment_header(first_seq), 0)
        .map_err(JournalError::io("cannot write", &spare))?;
    file.sync_data()
        .map_err(JournalError::io("cannot sync", &spare))?;
    std::fs::rename(&spare, path(dir, first_seq))
        .map_err(JournalError::io("cannot rename", &spare))?;
    sync_dir(dir)?;
    Ok(file)
}
