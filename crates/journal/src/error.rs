use std::path::PathBuf;
use std::sync::Arc;

/// Why a journal operation failed.
///
/// Cloneable: one failed group write is reported to every appender waiting for it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("journal {what} `{}`: {source}", path.display())]
    Io {
        /// What the journal was doing (`cannot write`, `cannot open`, ...).
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: Arc<std::io::Error>,
    },
    /// Bytes that should hold a record or a segment header do not.
    #[error("journal segment `{}` is corrupt at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Where in it.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record longer than the journal accepts.
    #[error("a journal record of {length} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The record's length.
        length: usize,
        /// The maximum.
        max: u64,
    },
    /// A read asked for records that retention has already removed.
    #[error("journal record {seq} is no longer kept (the oldest is {oldest})")]
    NotRetained {
        /// The sequence number asked for.
        seq: u64,
        /// The oldest sequence number still kept.
        oldest: u64,
    },
    /// An earlier write or sync failed; the journal accepts nothing more until it is opened
    /// again (after a failed fsync the kernel may have dropped the data, so only a fresh
    /// recovery scan knows what is on disk).
    #[error("the journal stopped after an earlier failure: {0}")]
    Stopped(String),
    /// The options cannot work.
    #[error("invalid journal options: {0}")]
    Options(String),
}

impl JournalError {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| JournalError::Io {
            what,
            path,
            source: Arc::new(source),
        }
    }
}
