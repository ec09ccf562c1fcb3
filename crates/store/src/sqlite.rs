//! The embedded default backend: one SQLite file in WAL mode with `synchronous=FULL`, so a
//! committed change survives a crash; one writer thread committing in groups; a small pool of
//! read connections working on WAL snapshots alongside it; a checkpoint thread copying
//! committed pages into the database file behind the writer (checkpointer.rs).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::journal_index;
use crate::log::{LogAppend, LogShared};
use crate::writer::{Job, Writer};
use crate::{
    Document, JournalAppend, JournalEntry, JournalHit, JournalQuery, JournalRecord, ReadTx, Store,
    StoreError, StoreHealth, WriteDone, WriteTx, WriteWork,
};

/// Schema versions, applied in order; `PRAGMA user_version` records the last one applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_documents_and_journal.sql"),
    include_str!("../migrations/0002_journal_lookup.sql"),
    include_str!("../migrations/0003_journal_lookup_lighter.sql"),
    include_str!("../migrations/0004_journal_index_off_commit.sql"),
    include_str!("../migrations/0005_journal_index_rebuild.sql"),
    include_str!("../migrations/0006_journal_log.sql"),
];

/// The files SQLite keeps beside the database (`<db>-wal`, `<db>-shm`).
const COMPANION_SUFFIXES: [&str; 2] = ["-wal", "-shm"];

/// Creates the database file owner-only (0600) before SQLite opens it, and narrows an
/// existing one, and existing companions, that others could read. SQLite creates the `-wal`
/// and `-shm` files with the database file's permissions, so they follow.
fn make_private(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let open_error = |e: std::io::Error| StoreError::Open(format!("{}: {e}", path.display()));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(open_error)?;
        let companions = COMPANION_SUFFIXES.iter().map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        });
        for file in std::iter::once(path.to_owned()).chain(companions) {
            let Ok(metadata) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %file.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "narrowing the store file's permissions to 0600"
                );
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(open_error)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Events per index transaction when catching the index up at open.
const CATCH_UP_BATCH: u64 = 50_000;

/// Read connections kept for reuse; more are opened under load and closed when returned.
const READ_POOL_SIZE: usize = 8;

/// Where the SQLite store keeps its journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    /// In the audit log beside the database (the default; log.rs).
    Log,
    /// In SQLite's `journal` table, one row per event committed with its change: the journal
    /// before issue 20, kept only to compare the two (`RAMPART_JOURNAL=table`). A data
    /// directory whose journal is in the log keeps it there whatever this says.
    Table,
}

/// How the SQLite store keeps its journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Where the journal goes.
    pub journal: JournalMode,
    /// Bytes per audit log segment, each preallocated (and two at a time: the one being
    /// filled and the next). Large for a server (few files, rare preallocations), small for
    /// tests' short-lived stores.
    pub segment_bytes: u64,
    /// Read the log only, as a process beside its appender does, even if none runs: nothing
    /// is recovered, repaired or appended (`rampart trail export`).
    pub journal_read_only: bool,
}

/// The variable that selects the journal's mode (`log`, the default, or `table`).
const MODE_VARIABLE: &str = "RAMPART_JOURNAL";
/// The variable that sets the log's segment size, in MiB.
pub const SEGMENT_MIB_VARIABLE: &str = "RAMPART_JOURNAL_SEGMENT_MIB";

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            journal: JournalMode::Log,
            segment_bytes: rampart_journal::Options::default().segment_bytes,
            journal_read_only: false,
        }
    }
}

impl SqliteOptions {
    /// The defaults, changed by `RAMPART_JOURNAL` (`log` or `table`) and
    /// `RAMPART_JOURNAL_SEGMENT_MIB`.
    pub fn from_env() -> Result<Self, StoreError> {
        let mut options = Self::default();
        match std::env::var(MODE_VARIABLE).as_deref() {
            Err(_) | Ok("" | "log") => {}
            Ok("table") => options.journal = JournalMode::Table,
            Ok(other) => {
                return Err(StoreError::Open(format!(
                    "{MODE_VARIABLE}={other}: expected `log` or `table`"
                )));
            }
        }
        if let Ok(mib) = std::env::var(SEGMENT_MIB_VARIABLE) {
            options.segment_bytes = mib
                .parse::<u64>()
                .ok()
                .filter(|mib| (1..=4096).contains(mib))
                .ok_or_else(|| {
                    StoreError::Open(format!(
                        "{SEGMENT_MIB_VARIABLE}={mib}: expected MiB from 1 to 4096"
                    ))
                })?
                << 20;
        }
        Ok(options)
    }

    /// Segments of 1 MiB, for tests' stores: every store preallocates two.
    pub fn small() -> Self {
        Self {
            segment_bytes: 1 << 20,
            ..Self::default()
        }
    }
}

/// The SQLite backend.
pub struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Ends when the writer does (it holds the writer's end of the channel).
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
    journal_seq: Arc<AtomicU64>,
    /// The audit log, when the journal is kept there rather than in the `journal` table
    /// (log.rs).
    log: Option<Arc<LogShared>>,
    /// The journal is in a log another process holds: appends are refused.
    journal_elsewhere: bool,
    /// This process holds the journal's lock (`rampart.journal.lock`): no other process
    /// (a serving rampart) has the database open for writing.
    exclusive: bool,
    /// Held while the journal is kept in the table (see `log::lock`).
    _table_lock: Option<std::fs::File>,
}

impl SqliteStore {
    /// Whether another process (a serving rampart) holds the database's journal lock, so
    /// that this one reads beside it rather than alone.
    pub fn held_by_another_process(&self) -> bool {
        !self.exclusive
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// The database file and its `-wal` and `-shm` companions are readable by their owner
    /// only (0600): they hold every account's state and audit trail.
    ///
    /// The journal is the audit log in the directory beside the database
    /// (`rampart.journal/`, log.rs); the first open of an old data directory moves the
    /// `journal` table's events there. Laid out as [`SqliteOptions::from_env`] says.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_options(path, &SqliteOptions::from_env()?)
    }

    /// [`open`](Self::open) with the journal kept and laid out as `options` say.
    pub fn open_with_options(path: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        let log = rampart_journal::Options {
            segment_bytes: options.segment_bytes,
            ..rampart_journal::Options::default()
        };
        Self::open_with(
            path,
            options.journal == JournalMode::Table,
            options.journal_read_only,
            &log,
        )
    }

    /// [`open`](Self::open), with the journal in the log laid out by `log`, or in the table if
    /// `table` and the journal has not moved to the log already; only read if `read_only`.
    pub(crate) fn open_with(
        path: &Path,
        table: bool,
        read_only: bool,
        log: &rampart_journal::Options,
    ) -> Result<Self, StoreError> {
        make_private(path)?;
        let mut conn = Connection::open(path).map_err(|e| StoreError::Open(e.to_string()))?;
        configure(&conn)?;
        // WAL is persistent in the file; FULL makes each commit fsync the WAL, which is what
        // makes an acknowledged change survive `kill -9` and power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        // Held by a store keeping its journal in the table (see `log::lock`).
        let mut table_lock = None;
        // Whether this process holds the journal's lock, so that no server runs on the file.
        let mut exclusive = false;
        let (log_append, log, journal_elsewhere) = match crate::log::chosen(&conn, table, log)? {
            Some(options) => match crate::log::open(&conn, path, &options, read_only)? {
                crate::log::Opened::Appending(append, shared) => {
                    exclusive = true;
                    (Some(*append), Some(Arc::new(shared)), false)
                }
                // Another process appends: this one reads what is there when it opens.
                crate::log::Opened::Reading(shared) => (None, Some(Arc::new(shared)), true),
                crate::log::Opened::Table => (None, None, false),
            },
            None if read_only => (None, None, false),
            None => {
                table_lock = crate::log::lock(path)?;
                exclusive = table_lock.is_some();
                (None, None, false)
            }
        };
        let seq: u64 = match &log {
            Some(log) => log.last_seq(),
            None => conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
                r.get::<_, i64>(0).map(|v| u64::try_from(v).unwrap_or(0))
            })?,
        };
        let indexer = Connection::open(path).map_err(|e| StoreError::Open(e.to_string()))?;
        configure(&indexer)?;
        // Index commits need no fsync: the index is derived from the journal, whose commits
        // do fsync (and sync everything written to the WAL before them).
        indexer.pragma_update(None, "synchronous", "NORMAL")?;
        // The writer's commits trigger SQLite's automatic checkpoint; this connection's
        // would run on the writer's thread too, and is not needed.
        indexer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // After a crash the index may lag the journal (by at most a few thousand events);
        // after the migration to it, by everything. Catch up before serving.
        let mut indexed = journal_index::indexed_seq(&indexer)?;
        // A process beside the log's appender leaves the index to it (two indexers would
        // race), and its writer then indexes nothing (see `journal_seq` below).
        while indexed < seq && !journal_elsewhere {
            let next = journal_index::index_pending(&indexer, log.as_deref(), CATCH_UP_BATCH)?;
            if next == indexed {
                break;
            }
            indexed = next;
        }
        let journal_seq = Arc::new(AtomicU64::new(if journal_elsewhere {
            indexed
        } else {
            seq
        }));
        let checkpoints = Connection::open(path).map_err(|e| StoreError::Open(e.to_string()))?;
        configure(&checkpoints)?;
        let (committed, commits) = mpsc::sync_channel(1);
        let checkpointer = std::thread::Builder::new()
            .name("rampart-store-checkpointer".into())
            .spawn(move || crate::checkpointer::run(&checkpoints, &commits))
            .map_err(|e| StoreError::Open(format!("cannot start the checkpoint thread: {e}")))?;
        let (sender, receiver) = mpsc::channel();
        let seq_for_writer = Arc::clone(&journal_seq);
        let writer = Writer {
            conn,
            indexer,
            indexed,
            committed,
            log: log_append.zip(log.clone()),
            journal_elsewhere,
        };
        let writer = std::thread::Builder::new()
            .name("rampart-store-writer".into())
            .spawn(move || writer.run(&receiver, &seq_for_writer))
            .map_err(|e| StoreError::Open(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(Some(checkpointer)),
            journal_seq,
            log,
            journal_elsewhere,
            exclusive,
            _table_lock: table_lock,
        })
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.readers.lock().ok().and_then(|mut pool| pool.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    fn queue(&self, job: Job) {
        match self.jobs.lock().ok().and_then(|jobs| jobs.clone()) {
            Some(sender) => {
                if let Err(mpsc::SendError(job)) = sender.send(job) {
                    (job.done)(Err(StoreError::Internal("the writer stopped".into())));
                }
            }
            None => (job.done)(Err(StoreError::Internal("the store is closed".into()))),
        }
    }

    fn return_reader(&self, conn: Connection) {
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < READ_POOL_SIZE
        {
            pool.push(conn);
        }
    }
}

impl Drop for SqliteStore {
    /// Stops the writer after it has committed everything already queued.
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
        if let Some(handle) = self.checkpointer.lock().ok().and_then(|mut c| c.take()) {
            let _ = handle.join();
        }
    }
}

/// Statements kept prepared per connection: the transaction statements, the document and
/// journal statements, and every shape of journal lookup. Parsing a statement costs more than
/// running most of them.
const STATEMENT_CACHE: usize = 64;

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Runs one statement without result rows (transaction control) from the connection's cache
/// of prepared statements; `execute_batch` would parse it again every time.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "the database has schema version {applied}, newer than this rampart knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn read(
        &self,
        work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut snapshot = LazyRead {
            store: self,
            conn: None,
        };
        let result = work(&mut snapshot);
        let end = match snapshot.conn.take() {
            Some(conn) => {
                let end = run_cached(&conn, "ROLLBACK");
                if end.is_ok() {
                    self.return_reader(conn);
                }
                end
            }
            None => Ok(()),
        };
        result.and(end)
    }

    fn submit(&self, work: WriteWork, done: WriteDone) {
        self.queue(Job {
            work,
            done,
            single_change: false,
        });
    }

    fn submit_single_change(&self, work: WriteWork, done: WriteDone) {
        self.queue(Job {
            work,
            done,
            single_change: true,
        });
    }

    fn health(&self) -> StoreHealth {
        let state = match self.check() {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        StoreHealth {
            backend: "sqlite",
            state,
            journal_seq: self.journal_seq.load(Ordering::Acquire),
        }
    }

    fn remove_journal_before(
        &self,
        before_time: i64,
        up_to: u64,
    ) -> Result<Option<u64>, StoreError> {
        let Some(log) = &self.log else {
            return Ok(None);
        };
        let Some(first_kept) = log.remove_before(before_time, up_to)? else {
            return Ok(None);
        };
        // Lookups skip entries below the first number kept, so a crash before this leaves
        // only dead rows, removed with the next segment. A posting list reaching past it
        // stays whole until then.
        let conn = Connection::open(&self.path).map_err(|e| StoreError::Open(e.to_string()))?;
        configure(&conn)?;
        conn.execute(
            "DELETE FROM journal_lookup WHERE last_seq < ?1",
            [i64::try_from(first_kept).unwrap_or(i64::MAX)],
        )?;
        Ok(Some(first_kept))
    }
}

impl SqliteStore {
    /// Whether a read snapshot can be opened.
    fn check(&self) -> Result<(), StoreError> {
        let conn = self.reader()?;
        run_cached(&conn, "BEGIN")?;
        run_cached(&conn, "ROLLBACK")?;
        self.return_reader(conn);
        Ok(())
    }
}

/// A read snapshot opened on first use, so that work which reads nothing (GetCallerIdentity's
/// handler) takes no connection from the pool and runs no `BEGIN`/`ROLLBACK`. SQLite's
/// deferred `BEGIN` only pins its WAL snapshot at the first read anyway, so opening it lazily
/// changes nothing of what the work sees.
struct LazyRead<'s> {
    store: &'s SqliteStore,
    conn: Option<Connection>,
}

impl LazyRead<'_> {
    fn tx(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        if self.conn.is_none() {
            let conn = self.store.reader()?;
            run_cached(&conn, "BEGIN")?;
            self.conn = Some(conn);
        }
        match &self.conn {
            Some(conn) => Ok(SqliteTx::reading(conn, self.store.log.as_deref())
                .journal_elsewhere(self.store.journal_elsewhere)),
            None => Err(StoreError::Internal("no read connection".into())),
        }
    }
}

impl ReadTx for LazyRead<'_> {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.tx()?.get(ns, key)
    }

    fn scan(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.tx()?.scan(ns, prefix, after, limit)
    }

    fn journal_after(&mut self, after: u64, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        // The log needs no snapshot: what is readable there is committed.
        match self.store.log.as_deref() {
            Some(log) => log.entries_after(after, limit),
            None => self.tx()?.journal_after(after, limit),
        }
    }

    fn journal_lookup(&mut self, query: &JournalQuery) -> Result<Vec<JournalHit>, StoreError> {
        self.tx()?.journal_lookup(query)
    }

    fn documents_after(
        &mut self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        self.tx()?.documents_after(after, limit)
    }

    fn journal_records_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        match self.store.log.as_deref() {
            Some(log) => log.records_after(after, limit),
            None => self.tx()?.journal_records_after(after, limit),
        }
    }
}

/// A transaction on one connection; the writer and the readers share this code, and the
/// readers' connections are `query_only`, so a write through them fails.
pub(crate) struct SqliteTx<'c> {
    conn: &'c Connection,
    pub(crate) last_seq: Option<u64>,
    /// The audit log, when the journal is kept there.
    log: Option<&'c LogShared>,
    /// The writer's appender into it, in a write transaction.
    append: Option<&'c mut LogAppend>,
    /// The journal is in a log another process holds: journal operations are refused.
    elsewhere: bool,
}

impl<'c> SqliteTx<'c> {
    /// A transaction whose journal is the `journal` table.
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Self::reading(conn, None)
    }

    /// A read transaction, reading the log when the journal is kept there.
    pub(crate) fn reading(conn: &'c Connection, log: Option<&'c LogShared>) -> Self {
        Self {
            conn,
            last_seq: None,
            log,
            append: None,
            elsewhere: false,
        }
    }

    /// Refuses journal operations if `elsewhere` (the log is another process's).
    pub(crate) fn journal_elsewhere(mut self, elsewhere: bool) -> Self {
        self.elsewhere = elsewhere;
        self
    }

    /// The writer's transaction with the journal in the log: each append is pushed into the
    /// log's group, flagged as depending on this transaction.
    pub(crate) fn writing_log(
        conn: &'c Connection,
        log: &'c LogShared,
        append: &'c mut LogAppend,
    ) -> Self {
        Self {
            conn,
            last_seq: None,
            log: Some(log),
            append: Some(append),
            elsewhere: false,
        }
    }
}

/// The journal table's rows after a number, in order. The limit is not bound into the SQL
/// (with `LIMIT ?` SQLite plans the statement again on every run): stepping stops at it.
const JOURNAL_AFTER: &str = "SELECT seq, event FROM journal WHERE seq > ?1 ORDER BY seq";

/// The first page of a prefix scan, and a page after a key.
const SCAN_FIRST: &str =
    "SELECT key, value FROM documents WHERE ns = ?1 AND key >= ?2 ORDER BY key";
const SCAN_AFTER: &str =
    "SELECT key, value FROM documents WHERE ns = ?1 AND key >= ?2 AND key > ?3 ORDER BY key";

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl ReadTx for SqliteTx<'_> {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM documents WHERE ns = ?1 AND key = ?2")?;
        Ok(stmt
            .query_row(params![ns, key], |row| row.get(0))
            .optional()?)
    }

    fn scan(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Keys sort bytewise, so every key with `prefix` follows `prefix` contiguously: read
        // from there in the primary key's order and stop at the first key without it, or at
        // `limit` rows. The limit is not bound into the SQL: with `LIMIT ?` SQLite plans the
        // statement again (sqlite3Reprepare) on every run, some 13 % of the server's CPU when
        // each KMS call scanned a key's grants and aliases; stepping stops the scan as well.
        let read =
            |row: &rusqlite::Row<'_>| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?));
        let mut out = Vec::new();
        let mut collect = |rows: rusqlite::MappedRows<'_, _>| -> Result<(), StoreError> {
            for row in rows.take(limit) {
                let (key, value): (String, Vec<u8>) = row?;
                if !key.starts_with(prefix) {
                    break;
                }
                out.push((key, value));
            }
            Ok(())
        };
        match after {
            None => collect(
                self.conn
                    .prepare_cached(SCAN_FIRST)?
                    .query_map(params![ns, prefix], read)?,
            )?,
            Some(after) => collect(
                self.conn
                    .prepare_cached(SCAN_AFTER)?
                    .query_map(params![ns, prefix, after], read)?,
            )?,
        }
        Ok(out)
    }

    fn journal_after(&mut self, after: u64, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        if let Some(log) = self.log {
            return log.entries_after(after, limit);
        }
        if self.elsewhere {
            return Err(crate::log::held_elsewhere());
        }
        let mut stmt = self.conn.prepare_cached(JOURNAL_AFTER)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = stmt.query_map([after], |row| {
            Ok(JournalEntry {
                seq: to_u64(row.get(0)?),
                event: row.get(1)?,
            })
        })?;
        Ok(rows.take(limit).collect::<Result<_, _>>()?)
    }

    fn journal_lookup(&mut self, query: &JournalQuery) -> Result<Vec<JournalHit>, StoreError> {
        if self.elsewhere && self.log.is_none() {
            return Err(crate::log::held_elsewhere());
        }
        journal_index::lookup(self.conn, self.log, query)
    }

    fn documents_after(
        &mut self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let read = |row: &rusqlite::Row<'_>| {
            Ok(Document {
                ns: row.get(0)?,
                key: row.get(1)?,
                value: row.get(2)?,
            })
        };
        let out = match after {
            None => self
                .conn
                .prepare_cached(DOCUMENTS_FIRST)?
                .query_map([], read)?
                .take(limit)
                .collect::<Result<_, _>>()?,
            Some((ns, key)) => self
                .conn
                .prepare_cached(DOCUMENTS_AFTER)?
                .query_map([ns, key], read)?
                .take(limit)
                .collect::<Result<_, _>>()?,
        };
        Ok(out)
    }

    fn journal_records_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        if let Some(log) = self.log {
            return log.records_after(after, limit);
        }
        if self.elsewhere {
            return Err(crate::log::held_elsewhere());
        }
        let sql = format!(
            "SELECT {}, account, event FROM journal WHERE seq > ?1 ORDER BY seq",
            journal_index::ROW_COLUMNS
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = stmt.query_map([after], |row| {
            let seq = to_u64(row.get(0)?);
            let columns = journal_index::Row::read(row)?;
            Ok(columns
                .into_log_event(row.get(9)?, row.get(10)?)
                .into_record(seq))
        })?;
        Ok(rows.take(limit).collect::<Result<_, _>>()?)
    }
}

/// Every document in (namespace, key) order, from the first, and after a place. Stepping
/// stops at the page's size (see [`JOURNAL_AFTER`]).
const DOCUMENTS_FIRST: &str = "SELECT ns, key, value FROM documents ORDER BY ns, key";
const DOCUMENTS_AFTER: &str =
    "SELECT ns, key, value FROM documents WHERE (ns, key) > (?1, ?2) ORDER BY ns, key";

impl WriteTx for SqliteTx<'_> {
    fn put(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO documents (ns, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute(params![ns, key, value])?;
        Ok(())
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM documents WHERE ns = ?1 AND key = ?2")?;
        Ok(stmt.execute(params![ns, key])? > 0)
    }

    fn clear_documents(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM documents", [])?;
        Ok(())
    }

    fn append_journal(&mut self, entry: &JournalAppend<'_>) -> Result<u64, StoreError> {
        if let Some(append) = self.append.as_deref_mut() {
            let seq = append.push(entry, true)?;
            self.last_seq = Some(seq);
            return Ok(seq);
        }
        if self.elsewhere {
            return Err(crate::log::held_elsewhere());
        }
        if self.log.is_some() {
            return Err(StoreError::Internal(
                "an append outside the writer's transaction".into(),
            ));
        }
        // One row, no secondary index: the lookup index is filled after the commit
        // (journal_index.rs).
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO journal (event, event_time, account, event_id, event_name, \
             event_source, username, access_key_id, read_only, resources) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        stmt.execute(params![
            entry.event,
            entry.event_time,
            entry.account,
            entry.event_id,
            entry.event_name,
            entry.event_source,
            entry.username,
            entry.access_key_id,
            entry.read_only,
            journal_index::encode_resources(entry.resources),
        ])?;
        let seq = to_u64(self.conn.last_insert_rowid());
        self.last_seq = Some(seq);
        Ok(seq)
    }

    fn atomically(
        &mut self,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> bool,
    ) -> Result<bool, StoreError> {
        // Every level uses the same name: SQLite's RELEASE and ROLLBACK TO act on the most
        // recent savepoint of that name, and these nest strictly, so one fixed text per
        // statement stays prepared in the cache.
        run_cached(self.conn, "SAVEPOINT atomically")?;
        let mark = self.append.as_deref().map(LogAppend::mark);
        let ok = work(self);
        if !ok {
            run_cached(self.conn, "ROLLBACK TO atomically")?;
            // The work's events go with its writes; nothing of the group is written yet.
            if let (Some(append), Some(mark)) = (self.append.as_deref_mut(), mark) {
                append.rollback_to(mark);
            }
        }
        run_cached(self.conn, "RELEASE atomically")?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    fn open() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with_options(
            &dir.path().join("rampart.db"),
            &crate::SqliteOptions::small(),
        )
        .unwrap();
        (dir, Arc::new(store))
    }

    /// Finding 12: the database and its WAL files were created 0644.
    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread")]
    async fn the_database_and_its_companions_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        {
            let store: Arc<dyn Store> = Arc::new(
                SqliteStore::open_with_options(&path, &crate::SqliteOptions::small()).unwrap(),
            );
            store
                .write_with(|tx| tx.put("ns", "k", b"v"))
                .await
                .unwrap();
            assert_eq!(mode(&path), 0o600);
            for suffix in COMPANION_SUFFIXES {
                let companion = dir.path().join(format!("rampart.db{suffix}"));
                assert_eq!(mode(&companion), 0o600, "{suffix}");
            }
        }
        // A database someone left readable to all is narrowed when opened again.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with_options(&path, &crate::SqliteOptions::small()).unwrap(),
        );
        assert_eq!(mode(&path), 0o600);
        let value = store.read_with(|tx| tx.get("ns", "k")).unwrap();
        assert_eq!(value.as_deref(), Some(&b"v"[..]), "the data is intact");
    }

    /// Scans alternate between first pages and later ones on one connection without SQLite
    /// planning their statements again (a reprepare costs more than the scan).
    #[test]
    fn scans_are_never_prepared_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("rampart.db")).unwrap();
        configure(&conn).unwrap();
        migrate(&mut conn).unwrap();
        let mut tx = SqliteTx::new(&conn);
        for key in ["a/1", "a/2", "a/3", "b/1"] {
            tx.put("ns", key, b"v").unwrap();
        }
        for _ in 0..5 {
            let first = tx.scan("ns", "a/", None, 2).unwrap();
            let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["a/1", "a/2"]);
            let rest = tx.scan("ns", "a/", Some("a/2"), 10).unwrap();
            let keys: Vec<&str> = rest.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["a/3"], "the scan stops at the prefix's end");
        }
        for sql in [SCAN_FIRST, SCAN_AFTER] {
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
            // Rows come in the primary key's order, so stopping early reads no further.
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let mut rows = explain.raw_query();
            let mut plan = Vec::new();
            while let Some(row) = rows.next().unwrap() {
                plan.push(row.get::<_, String>(3).unwrap());
            }
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{sql}: {plan:?}"
            );
        }
    }

    /// The table journal's reads with different limits keep one prepared statement each
    /// (a bound `LIMIT ?` made SQLite plan them again on every run).
    #[test]
    fn journal_reads_are_never_prepared_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let mut conn = Connection::open(&path).unwrap();
        configure(&conn).unwrap();
        migrate(&mut conn).unwrap();
        let mut tx = SqliteTx::new(&conn);
        for n in 0..5u8 {
            tx.append_journal(&JournalAppend {
                event: &[n],
                account: Some("A"),
                ..JournalAppend::default()
            })
            .unwrap();
        }
        for (after, limit) in [(0, 2), (2, 10), (0, 1), (4, 3)] {
            let seqs: Vec<u64> = tx
                .journal_after(after, limit)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
            let expected: Vec<u64> = (after + 1..=5).take(limit).collect();
            assert_eq!(seqs, expected, "after {after}, at most {limit}");
        }
        for limit in [2, 1, 5] {
            journal_index::index_pending(&conn, None, limit).unwrap();
        }
        assert_eq!(journal_index::indexed_seq(&conn).unwrap(), 5);
        for sql in [JOURNAL_AFTER, journal_index::ROWS_AFTER] {
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_passes_the_conformance_suite() {
        let (_dir, store) = open();
        conformance::run(store).await;
    }

    /// Checkpoints run beside the writer; the WAL must still restart from its beginning
    /// rather than grow with every event ever appended.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_wal_stays_bounded_under_sustained_appends() {
        let (dir, store) = open();
        let event = vec![b'e'; 1024];
        // 40,000 events of 1 KiB: about 40 MiB of WAL frames if it never restarted.
        for _ in 0..200 {
            let appends: Vec<_> = (0..200)
                .map(|_| {
                    let (store, event) = (Arc::clone(&store), event.clone());
                    tokio::spawn(async move {
                        store
                            .write_single_change_with(move |tx| {
                                tx.append_journal(&JournalAppend {
                                    event: &event,
                                    ..JournalAppend::default()
                                })
                            })
                            .await
                            .map_err(|e: StoreError| e)
                    })
                })
                .collect();
            for appended in appends {
                appended.await.unwrap().unwrap();
            }
        }
        let wal = std::fs::metadata(dir.path().join("rampart.db-wal"))
            .unwrap()
            .len();
        assert!(wal < 16 << 20, "the WAL grew to {wal} bytes");
        assert_eq!(store.health().journal_seq, 40_000);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn committed_writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let store: Arc<dyn Store> = Arc::new(
                SqliteStore::open_with_options(&path, &crate::SqliteOptions::small()).unwrap(),
            );
            store
                .write_with(|tx| {
                    tx.put("t", "k", b"v")?;
                    tx.append_journal(&JournalAppend {
                        event: b"{}",
                        ..JournalAppend::default()
                    })
                    .map(|_| ())
                })
                .await
                .map_err(|e: StoreError| e)
                .unwrap();
        }
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with_options(&path, &crate::SqliteOptions::small()).unwrap(),
        );
        let got = store
            .read_with(|tx| tx.get("t", "k"))
            .map_err(|e: StoreError| e)
            .unwrap();
        assert_eq!(got.as_deref(), Some(&b"v"[..]));
        assert_eq!(store.health().journal_seq, 1);
    }
}
