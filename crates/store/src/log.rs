//! The SQLite store's audit journal kept in the log of `rampart-journal` (issue 20, stage C),
//! by the protocol of docs/ARCHITECTURE.md ("The audit log and the protocol that keeps state
//! and its event atomic"): events first, one sequence, and each state transaction records in
//! `journal_applied` how far the log it depends on reaches.
//!
//! The default (`RAMPART_JOURNAL=table` keeps a new directory's journal in SQLite), and for good: a data
//! directory whose journal moved to the log keeps it there (the `journal_applied` row says so).
//! Opening migrates an old directory's `journal` rows into the log, numbers kept, then
//! recovers: a record after the last applied number that depends on its transaction belongs
//! to one that never committed, and its number goes into `journal_void`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use rampart_journal::{Appender, Journal, Options, Reader};
use rusqlite::{Connection, OptionalExtension};

use crate::journal_index::{ROW_COLUMNS, Row};
use crate::log_record::{self, LogEvent};
use crate::sqlite::run_cached;
use crate::{JournalAppend, JournalEntry, StoreError};

/// Bytes of migrated records pushed per sync.
const MIGRATION_GROUP_BYTES: usize = 4 << 20;

/// What every reader of the log shares: the log and the numbers to skip.
pub(crate) struct LogShared {
    pub(crate) reader: Reader,
    /// Numbers of records whose transaction never committed (a handful per crash).
    void: RwLock<BTreeSet<u64>>,
    /// Held while the store is open (see [`lock`]); `None` in a process reading beside the
    /// one that holds it.
    lock: Option<std::fs::File>,
    /// In a process reading beside the appender: the last applied number when it opened. A
    /// record after it that depends on its transaction may yet be voided; it is not read.
    uncommitted_after: Option<u64>,
    /// The newest event time of each whole segment retention has looked at, by its first
    /// number (a segment no longer changes once the next one starts).
    newest_times: Mutex<BTreeMap<u64, i64>>,
}

impl LogShared {
    fn is_void(&self, seq: u64) -> bool {
        self.void
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&seq)
    }

    fn add_void(&self, seqs: &[u64]) {
        self.void
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(seqs.iter().copied());
    }

    /// The readable events from `from` on, in order, with their numbers; void numbers and
    /// fillers skipped.
    pub(crate) fn events_from(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, LogEvent), StoreError>> + '_ {
        self.reader
            .read_from(from.max(self.reader.first_seq()))
            .filter_map(move |record| {
                let record = match record {
                    Ok(record) => record,
                    Err(e) => return Some(Err(e.into())),
                };
                if self.is_void(record.seq) {
                    return None;
                }
                match log_record::decode(&record.payload) {
                    Some(event) if event.filler => None,
                    Some(event)
                        if event.depends
                            && self.uncommitted_after.is_some_and(|w| record.seq > w) =>
                    {
                        None
                    }
                    Some(event) => Some(Ok((record.seq, event))),
                    None => Some(Err(StoreError::Internal(format!(
                        "audit log record {} is not an event",
                        record.seq
                    )))),
                }
            })
    }

    /// Up to `limit` events after `after`, in order.
    pub(crate) fn entries_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        self.events_from(after.saturating_add(1))
            .take(limit)
            .map(|item| {
                item.map(|(seq, event)| JournalEntry {
                    seq,
                    event: event.event,
                })
            })
            .collect()
    }

    /// Up to `limit` events after `after`, in order, with their lookup attributes.
    pub(crate) fn records_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::JournalRecord>, StoreError> {
        self.events_from(after.saturating_add(1))
            .take(limit)
            .map(|item| item.map(|(seq, event)| event.into_record(seq)))
            .collect()
    }

    /// The event numbered `seq`, if it is readable and not void.
    pub(crate) fn event(&self, seq: u64) -> Result<Option<LogEvent>, StoreError> {
        match self.events_from(seq).next().transpose()? {
            Some((found, event)) if found == seq => Ok(Some(event)),
            _ => Ok(None),
        }
    }

    /// The last readable number.
    pub(crate) fn last_seq(&self) -> u64 {
        self.reader.last_seq()
    }

    /// The lowest number still kept (retention removes the oldest segments).
    pub(crate) fn first_seq(&self) -> u64 {
        self.reader.first_seq()
    }

    /// Retention: removes the oldest segments whose events are all older than `before_time`
    /// and numbered at most `up_to` (what every reader that must see them has read), oldest
    /// first, never the one being filled. Returns the first number kept if any went. Only the
    /// process holding the log removes anything.
    pub(crate) fn remove_before(
        &self,
        before_time: i64,
        up_to: u64,
    ) -> Result<Option<u64>, StoreError> {
        if self.lock.is_none() {
            return Ok(None);
        }
        let segments = self.reader.segments();
        let mut keep_from = None;
        for pair in segments.windows(2) {
            let [first, next] = *pair else { break };
            if next.saturating_sub(1) > up_to.min(self.last_seq())
                || self.newest_time(first, next)? >= before_time
            {
                break;
            }
            keep_from = Some(next);
        }
        let Some(keep_from) = keep_from else {
            return Ok(None);
        };
        let removed = self.reader.remove_before(keep_from)?;
        self.newest_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|first, _| *first >= keep_from);
        tracing::info!(
            segments = removed,
            first_kept = keep_from,
            "audit log retention"
        );
        Ok(Some(keep_from))
    }

    /// The newest event time in the whole segment of numbers `[first, next)`.
    fn newest_time(&self, first: u64, next: u64) -> Result<i64, StoreError> {
        let known = self
            .newest_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&first)
            .copied();
        if let Some(time) = known {
            return Ok(time);
        }
        let mut newest = i64::MIN;
        for item in self.events_from(first) {
            let (seq, event) = item?;
            if seq >= next {
                break;
            }
            // An event of the oldest schema without a time counts as old.
            newest = newest.max(event.event_time.unwrap_or(i64::MIN));
        }
        self.newest_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(first, newest);
        Ok(newest)
    }
}

/// The writer thread's side: the appender, and what the group being built appended.
pub(crate) struct LogAppend {
    pub(crate) appender: Appender,
    /// Scratch space for one record's encoding.
    scratch: Vec<u8>,
    /// The numbers the group's *depends* records got (voided if its commit fails).
    pub(crate) flagged: Vec<u64>,
    /// Voided numbers not yet recorded in `journal_void` (a failed commit's).
    pub(crate) pending_void: Vec<u64>,
}

impl LogAppend {
    /// Pushes an event into the group; `depends` when a state transaction carries it.
    pub(crate) fn push(
        &mut self,
        entry: &JournalAppend<'_>,
        depends: bool,
    ) -> Result<u64, StoreError> {
        log_record::encode_append(&mut self.scratch, entry, depends);
        let seq = self.appender.push(&self.scratch)?;
        if depends {
            self.flagged.push(seq);
        }
        Ok(seq)
    }

    /// Where the group stands, to come back to (a savepoint's rollback).
    pub(crate) fn mark(&self) -> (rampart_journal::Mark, u64) {
        (self.appender.mark(), self.appender.next_seq())
    }

    /// Takes back what was pushed since `mark`; the numbers are given again.
    pub(crate) fn rollback_to(&mut self, (mark, next): (rampart_journal::Mark, u64)) {
        self.appender.rollback_to(mark);
        self.flagged.retain(|seq| *seq < next);
    }

    /// Voids the group's flagged records (its commit failed): at once for readers, and in
    /// `journal_void` with the next commit.
    pub(crate) fn void_group(&mut self, shared: &LogShared) {
        shared.add_void(&self.flagged);
        self.pending_void.append(&mut self.flagged);
    }

    /// In the group's transaction, before its commit: the numbers voided since the last
    /// commit, and how far the log reaches (every record below is durable).
    pub(crate) fn record_applied(&self, conn: &Connection) -> Result<(), StoreError> {
        let mut insert =
            conn.prepare_cached("INSERT OR IGNORE INTO journal_void (seq) VALUES (?1)")?;
        for seq in &self.pending_void {
            insert.execute([to_i64(*seq)])?;
        }
        conn.prepare_cached("UPDATE journal_applied SET seq = ?1 WHERE id = 1")?
            .execute([to_i64(self.appender.durable_end().saturating_sub(1))])?;
        Ok(())
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The error of an append in a store whose log another process holds.
pub(crate) fn held_elsewhere() -> StoreError {
    StoreError::Internal(
        "the audit log is held by another process (the serving rampart); this one changes \
         state and reads the journal only"
            .into(),
    )
}

/// How the log is laid out if the store keeps its journal there: always unless `table`, and
/// even then if it moved there already (for good: going back would lose every event in it).
pub(crate) fn chosen(
    conn: &Connection,
    table: bool,
    options: &Options,
) -> Result<Option<Options>, StoreError> {
    Ok((!table || applied_seq(conn)?.is_some()).then(|| options.clone()))
}

/// The log's directory beside the database file (`rampart.db` → `rampart.journal/`).
pub(crate) fn dir_for(db: &Path) -> PathBuf {
    db.with_extension("journal")
}

/// Takes the log for this process: one appender only, or two would write over each other
/// and one's recovery would void the other's records in flight. `None` when another process
/// holds it: SQLite lets a second process (`rampart admin`) change state beside a serving
/// one, and it then reads the log without appending (see [`open`]). A store keeping its
/// journal in the table holds it too, so that no other process moves the table from under it.
pub(crate) fn lock(db: &Path) -> Result<Option<std::fs::File>, StoreError> {
    let path = db.with_extension("journal.lock");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .map_err(|e| StoreError::Open(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::Open(format!("{}: {e}", path.display())))
        }
    }
}

fn applied_seq(conn: &Connection) -> Result<Option<u64>, StoreError> {
    Ok(conn
        .query_row("SELECT seq FROM journal_applied WHERE id = 1", [], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
        .map(to_u64))
}

/// The log as this process opened it.
pub(crate) enum Opened {
    /// This process holds the log: it appends, and reads what it published.
    Appending(Box<LogAppend>, LogShared),
    /// Another process holds it (a serving rampart): this one reads what was whole in it when
    /// it opened, appends nothing, and repairs nothing.
    Reading(LogShared),
    /// Another process holds it and keeps its journal in the table (`RAMPART_JOURNAL=table`):
    /// this one uses the table too, never moving it from under the holder.
    Table,
}

/// Opens the log beside `db`: migrates the table journal into it, then recovers (see the
/// module's documentation). When another process holds the log, or `read_only`, opens it
/// read-only instead:
/// this store then changes state and reads the journal, and refuses every append (`rampart
/// admin create-account` and `rampart trail export` beside a serving rampart need no more).
pub(crate) fn open(
    conn: &Connection,
    db: &Path,
    options: &Options,
    read_only: bool,
) -> Result<Opened, StoreError> {
    let dir = dir_for(db);
    let held = if read_only { None } else { lock(db)? };
    let Some(lock) = held else {
        tracing::info!("the audit log is held by another process: this one reads it only");
        return Ok(match applied_seq(conn)? {
            Some(applied) => Opened::Reading(open_reading(conn, &dir, options, applied)?),
            None => Opened::Table,
        });
    };
    let applied = applied_seq(conn)?;
    let (first_row, next_row): (Option<i64>, i64) = conn.query_row(
        "SELECT MIN(seq), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'journal'), 0) + 1 \
         FROM journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if applied.is_some() && !has_segments(&dir)? {
        return Err(StoreError::Open(format!(
            "the audit log `{}` is missing, yet the database says its journal is there",
            dir.display()
        )));
    }
    let options = Options {
        // A new log continues the table's numbering: from its first row if it has rows (they
        // are copied with their numbers), else after the last number it ever gave.
        first_seq: to_u64(first_row.unwrap_or(next_row)).max(1),
        ..options.clone()
    };
    let (appender, reader) = Journal::open_appender(&dir, &options)?;
    let mut log = LogAppend {
        appender,
        scratch: Vec::new(),
        flagged: Vec::new(),
        pending_void: Vec::new(),
    };
    if applied.is_none() {
        migrate(conn, &mut log)?;
    }
    let shared = LogShared {
        reader,
        void: RwLock::new(BTreeSet::new()),
        lock: Some(lock),
        uncommitted_after: None,
        newest_times: Mutex::default(),
    };
    recover(conn, &mut log, &shared)?;
    Ok(Opened::Appending(Box::new(log), shared))
}

/// The read-only side of [`open`]. The last applied number is read before the log is
/// scanned, so every depending record at or below it belongs to a committed transaction.
fn open_reading(
    conn: &Connection,
    dir: &Path,
    options: &Options,
    applied: u64,
) -> Result<LogShared, StoreError> {
    let shared = LogShared {
        reader: Reader::open_read_only(dir, options)?,
        void: RwLock::new(BTreeSet::new()),
        lock: None,
        uncommitted_after: Some(applied),
        newest_times: Mutex::default(),
    };
    shared.add_void(&void_numbers(conn)?);
    Ok(shared)
}

fn void_numbers(conn: &Connection) -> Result<Vec<u64>, StoreError> {
    let mut all = conn.prepare("SELECT seq FROM journal_void")?;
    let seqs = all
        .query_map([], |r| r.get::<_, i64>(0))?
        .map(|seq| seq.map(to_u64))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(seqs)
}

fn has_segments(dir: &Path) -> Result<bool, StoreError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.any(|e| e.is_ok())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::Open(format!("{}: {e}", dir.display()))),
    }
}

/// Copies the `journal` table's rows into the log in order, numbers kept (a gap in the
/// table's numbering becomes a filler), then deletes them and records the move in one
/// transaction. A crash before that transaction finds the log holding a prefix of the rows
/// and copies only the rest.
fn migrate(conn: &Connection, log: &mut LogAppend) -> Result<(), StoreError> {
    let mut select = conn.prepare(&format!(
        "SELECT {ROW_COLUMNS}, account, event FROM journal WHERE seq >= ?1 ORDER BY seq"
    ))?;
    let mut rows = select.query([to_i64(log.appender.next_seq())])?;
    let mut copied = 0u64;
    let mut pending = 0usize;
    while let Some(row) = rows.next()? {
        let seq = to_u64(row.get(0)?);
        let event = Row::read(row)?.into_log_event(row.get(9)?, row.get(10)?);
        while log.appender.next_seq() < seq {
            log_record::encode_filler(&mut log.scratch);
            log.appender.push(&log.scratch)?;
        }
        log_record::encode_migrated(&mut log.scratch, &event);
        pending += log.scratch.len();
        log.appender.push(&log.scratch)?;
        copied += 1;
        if pending >= MIGRATION_GROUP_BYTES {
            log.appender.sync()?;
            pending = 0;
        }
    }
    log.appender.sync()?;
    drop(rows);
    run_cached(conn, "BEGIN IMMEDIATE")?;
    let moved = (|| -> Result<(), StoreError> {
        conn.execute("DELETE FROM journal", [])?;
        conn.execute(
            "INSERT INTO journal_applied (id, seq) VALUES (1, ?1)",
            [to_i64(log.appender.durable_end().saturating_sub(1))],
        )?;
        Ok(())
    })();
    match moved {
        Ok(()) => run_cached(conn, "COMMIT")?,
        Err(e) => {
            let _ = run_cached(conn, "ROLLBACK");
            return Err(e);
        }
    }
    log.appender.publish(log.appender.durable_end());
    if copied > 0 {
        tracing::info!(events = copied, "moved the audit journal into the log");
    }
    Ok(())
}

/// Voids every record after the last applied number that depends on its transaction (it
/// never committed), records that and the log's end in one transaction, and loads every
/// void number for the readers.
fn recover(conn: &Connection, log: &mut LogAppend, shared: &LogShared) -> Result<(), StoreError> {
    let applied = applied_seq(conn)?.unwrap_or(0);
    let mut void = Vec::new();
    for record in shared
        .reader
        .read_from(applied.saturating_add(1).max(shared.reader.first_seq()))
    {
        let record = record?;
        if log_record::depends(&record.payload) {
            void.push(record.seq);
        }
    }
    if !void.is_empty() {
        tracing::warn!(
            count = void.len(),
            "audit log records of transactions that never committed are void"
        );
    }
    log.pending_void = void;
    run_cached(conn, "BEGIN IMMEDIATE")?;
    match log.record_applied(conn) {
        Ok(()) => run_cached(conn, "COMMIT")?,
        Err(e) => {
            let _ = run_cached(conn, "ROLLBACK");
            return Err(e);
        }
    }
    log.pending_void.clear();
    shared.add_void(&void_numbers(conn)?);
    Ok(())
}
