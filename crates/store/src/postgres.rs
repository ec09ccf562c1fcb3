//! The PostgreSQL backend, for deployments whose state lives in a database server (and, in
//! later stages, several Rampart nodes sharing it).
//!
//! Same contract as SQLite: one writer thread commits queued work in groups (one transaction
//! per group, a savepoint per work, every `done` told after `COMMIT`; postgres_writer.rs), and
//! reads run in `REPEATABLE READ READ ONLY` transactions on connections from a small pool.
//!
//! Threads: `Store::read` is synchronous and is called from async handlers on tokio's worker
//! threads. The sync `postgres` crate runs a tokio runtime of its own per call, which panics
//! inside another runtime; so this backend uses `tokio-postgres`, with every connection's I/O
//! task on one thread of its own (its own current-thread runtime), and awaits the client's
//! calls with `futures_executor::block_on`. The client's futures only exchange messages with
//! that task over channels, so awaiting them needs no runtime and works from any thread. A
//! read then blocks its worker thread for its round trips, as a SQLite read blocks it for its
//! page reads.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::postgres_writer::PgWriter;
use crate::writer::Job;
use crate::{
    Document, JournalAppend, JournalAttribute, JournalEntry, JournalHit, JournalQuery,
    JournalRecord, ReadTx, Store, StoreError, StoreHealth, WriteDone, WriteTx, WriteWork,
};

/// Schema versions, applied in order; the table `rampart_schema` records those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_documents_and_journal.sql"),
    include_str!("../migrations/postgres/0002_state_version.sql"),
];

/// The read pool's size when none is given.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// How long a read waits for a pooled connection before it fails.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Key of the advisory lock that serialises migrations between nodes starting together.
const MIGRATION_LOCK: i64 = 0x0072_616d_7061_7274; // "rampart" in ASCII

/// The first half of every lease's advisory lock key ("ramp" in ASCII); the second is the
/// lease name's hash ([`lease_key`]). Two-key advisory locks never collide with the one-key
/// migration lock.
const LEASE_CLASS: i32 = 0x7261_6d70;

/// The second half of the advisory lock key of the lease `name`: its 32-bit FNV-1a hash
/// (stable across builds and platforms, unlike std's hasher). Lease names are the
/// server's own constants, never a caller's.
fn lease_key(name: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(hash.to_ne_bytes())
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The error's own text is only "db error" for server errors: name the server's.
        match e.as_db_error() {
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Database(e.to_string()),
        }
    }
}

/// Awaits a client call on the calling thread (see the module's documentation).
pub(crate) fn wait<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// The thread that drives connections (see the module's documentation): its handle, what
/// stops it when sent or dropped, and the thread to join.
#[allow(clippy::type_complexity, reason = "three parts, once")]
pub(crate) fn start_io() -> Result<
    (
        tokio::runtime::Handle,
        tokio::sync::oneshot::Sender<()>,
        std::thread::JoinHandle<()>,
    ),
    StoreError,
> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Open(format!("cannot start the PostgreSQL I/O: {e}")))?;
    let io = runtime.handle().clone();
    let (stop_io, stopped) = tokio::sync::oneshot::channel::<()>();
    let io_thread = std::thread::Builder::new()
        .name("rampart-store-pg-io".into())
        .spawn(move || {
            let _ = runtime.block_on(stopped);
        })
        .map_err(|e| StoreError::Open(format!("cannot start the PostgreSQL I/O: {e}")))?;
    Ok((io, stop_io, io_thread))
}

/// Opens connections: the parsed URL and the I/O thread that drives them.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) io: tokio::runtime::Handle,
}

impl Connector {
    pub(crate) fn connect(&self) -> Result<PgConn, StoreError> {
        let (sender, receiver) = mpsc::channel();
        let config = self.config.clone();
        // Connecting needs tokio's reactor, so it runs on the I/O thread, which then keeps
        // driving the connection until the client is dropped.
        self.io.spawn(async move {
            match config.connect(NoTls).await {
                Ok((client, connection)) => {
                    let _ = sender.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "a PostgreSQL connection ended");
                    }
                }
                Err(e) => {
                    let _ = sender.send(Err(StoreError::from(e)));
                }
            }
        });
        let client = receiver
            .recv()
            .map_err(|_| StoreError::Internal("the PostgreSQL I/O thread stopped".into()))??;
        Ok(PgConn {
            client,
            statements: HashMap::new(),
            leases: HashSet::new(),
        })
    }
}

/// One connection, with the statements it has prepared (a prepared statement saves the
/// server parsing and planning it again, and the client a round trip).
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// The leases this connection's session holds (session advisory locks): they end with
    /// the session, so a lease is never thought held on a connection that lost it.
    leases: HashSet<String>,
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = wait(self.client.prepare(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(wait(self.client.query(&statement, params))?)
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(wait(self.client.execute(&statement, params))?)
    }

    /// Runs statements without parameters or results (transaction control, migrations).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(wait(self.client.batch_execute(sql))?)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// The read connections: at most `size` open, idle ones kept for reuse.
///
/// Hand-written rather than deadpool/r2d2: deadpool's connections are created on the caller's
/// tokio runtime (this backend drives them on its own I/O thread), and r2d2 pulls in a thread
/// pool of its own for what is a mutex, a condition variable and a counter here.
struct Pool {
    connector: Connector,
    size: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
}

impl Pool {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, PoolState>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Internal("the connection pool's lock is poisoned".into()))
    }

    fn take(&self) -> Result<PgConn, StoreError> {
        let mut state = self.lock()?;
        loop {
            if let Some(conn) = state.idle.pop() {
                if !conn.is_closed() {
                    return Ok(conn);
                }
                state.open = state.open.saturating_sub(1);
                continue;
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return self
                    .connector
                    .connect()
                    .inspect_err(|_| self.give_back(None));
            }
            let (next, timeout) = self.freed.wait_timeout(state, POOL_WAIT).map_err(|_| {
                StoreError::Internal("the connection pool's lock is poisoned".into())
            })?;
            if timeout.timed_out() && next.idle.is_empty() && next.open >= self.size {
                return Err(StoreError::Database(format!(
                    "no PostgreSQL read connection free within {}s",
                    POOL_WAIT.as_secs()
                )));
            }
            state = next;
        }
    }

    /// Returns a connection, or `None` for one that was closed because its state is unknown.
    fn give_back(&self, conn: Option<PgConn>) {
        if let Ok(mut state) = self.lock() {
            match conn {
                Some(conn) => state.idle.push(conn),
                None => state.open = state.open.saturating_sub(1),
            }
        }
        self.freed.notify_one();
    }
}

/// The PostgreSQL backend.
pub struct PostgresStore {
    pool: Pool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    journal_seq: Arc<AtomicU64>,
    /// Stops the I/O thread (its runtime, and so every connection) when sent or dropped.
    stop_io: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    io_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), applies pending
    /// migrations, and starts the writer; reads use at most `pool_size` connections.
    ///
    /// Connections are not encrypted (TLS is not supported yet): use a loopback or otherwise
    /// private network to the database.
    pub fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Open(format!("the URL: {e}")))?;
        let (io, stop_io, io_thread) = start_io()?;
        let connector = Connector { config, io };
        let opened = Self::start(connector, pool_size.max(1));
        match opened {
            Ok((pool, sender, writer, journal_seq)) => Ok(Self {
                pool,
                jobs: Mutex::new(Some(sender)),
                writer: Mutex::new(Some(writer)),
                journal_seq,
                stop_io: Mutex::new(Some(stop_io)),
                io_thread: Mutex::new(Some(io_thread)),
            }),
            Err(e) => {
                let _ = stop_io.send(());
                let _ = io_thread.join();
                Err(e)
            }
        }
    }

    #[allow(clippy::type_complexity, reason = "the parts of Self, once")]
    fn start(
        connector: Connector,
        pool_size: usize,
    ) -> Result<
        (
            Pool,
            mpsc::Sender<Job>,
            std::thread::JoinHandle<()>,
            Arc<AtomicU64>,
        ),
        StoreError,
    > {
        let open_error = |e: StoreError| StoreError::Open(e.to_string());
        let mut conn = connector.connect().map_err(open_error)?;
        migrate(&mut conn).map_err(open_error)?;
        let seq = head_seq(&mut conn).map_err(open_error)?;
        warn_if_not_durable(&mut conn).map_err(open_error)?;
        let journal_seq = Arc::new(AtomicU64::new(seq));
        let (sender, receiver) = mpsc::channel();
        let writer = PgWriter::new(connector.clone(), conn);
        let seq_for_writer = Arc::clone(&journal_seq);
        let writer = std::thread::Builder::new()
            .name("rampart-store-pg-writer".into())
            .spawn(move || writer.run(&receiver, &seq_for_writer))
            .map_err(|e| StoreError::Open(format!("cannot start the writer thread: {e}")))?;
        let pool = Pool {
            connector,
            size: pool_size,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        };
        Ok((pool, sender, writer, journal_seq))
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

    /// Whether a read transaction runs; the journal's last number, seen by the database.
    fn check(&self) -> Result<u64, StoreError> {
        let mut conn = self.pool.take()?;
        let seq = head_seq(&mut conn);
        self.pool.give_back(seq.is_ok().then_some(conn));
        seq
    }
}

impl Drop for PostgresStore {
    /// Stops the writer after it has committed everything already queued, then the I/O.
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
        if let Ok(mut state) = self.pool.state.lock() {
            state.idle.clear();
        }
        if let Some(stop) = self.stop_io.lock().ok().and_then(|mut s| s.take()) {
            let _ = stop.send(());
        }
        if let Some(handle) = self.io_thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

/// An acknowledged write survives a crash only if the server syncs its WAL at commit; say so
/// loudly when it is configured not to (it is the operator's choice, so not refused).
fn warn_if_not_durable(conn: &mut PgConn) -> Result<(), StoreError> {
    let rows = conn.query(
        "SELECT current_setting('synchronous_commit'), current_setting('fsync')",
        &[],
    )?;
    if let Some(row) = rows.first() {
        let (synchronous_commit, fsync): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        if synchronous_commit == "off" || fsync == "off" {
            tracing::warn!(
                %synchronous_commit,
                %fsync,
                "PostgreSQL does not sync commits: acknowledged writes and events can be lost \
                 in a crash"
            );
        }
    }
    Ok(())
}

fn head_seq(conn: &mut PgConn) -> Result<u64, StoreError> {
    let rows = conn.query("SELECT seq FROM journal_head", &[])?;
    let seq: i64 = rows.first().map_or(Ok(0), |row| row.try_get(0))?;
    Ok(to_u64(seq))
}

/// Applies pending migrations in one transaction, under an advisory lock so that nodes
/// starting together apply each once.
pub(crate) fn migrate(conn: &mut PgConn) -> Result<(), StoreError> {
    conn.batch("BEGIN")?;
    let migrated = apply_migrations(conn);
    match migrated {
        Ok(()) => conn.batch("COMMIT"),
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

fn apply_migrations(conn: &mut PgConn) -> Result<(), StoreError> {
    conn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    conn.batch("CREATE TABLE IF NOT EXISTS rampart_schema (version INTEGER PRIMARY KEY)")?;
    let rows = conn.query("SELECT COALESCE(MAX(version), 0) FROM rampart_schema", &[])?;
    let applied: i32 = rows.first().map_or(Ok(0), |row| row.try_get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "the database has schema version {applied}, newer than this rampart knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        conn.batch(sql)?;
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        conn.execute(
            "INSERT INTO rampart_schema (version) VALUES ($1)",
            &[&version],
        )?;
    }
    Ok(())
}

impl Store for PostgresStore {
    fn read(
        &self,
        work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut snapshot = LazyRead {
            pool: &self.pool,
            conn: None,
        };
        let result = work(&mut snapshot);
        let end = match snapshot.conn.take() {
            Some(conn) => {
                let end = conn.batch("ROLLBACK");
                // A connection whose transaction did not end cleanly is not reused.
                self.pool.give_back(end.is_ok().then_some(conn));
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

    /// Rows are removed one by one here (PostgreSQL has no segments): every event numbered
    /// below the first one not older than `before_time`, and at most `up_to`, so what is kept
    /// stays one unbroken run of numbers, as in the audit log.
    fn remove_journal_before(
        &self,
        before_time: i64,
        up_to: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut conn = self.pool.take()?;
        let removed = remove_journal_rows(&mut conn, before_time, up_to);
        let clean = match &removed {
            Ok(_) => Ok(()),
            Err(_) => conn.batch("ROLLBACK"),
        };
        self.pool.give_back(clean.is_ok().then_some(conn));
        removed
    }

    /// One statement outside any transaction on a pooled connection (a round trip, no
    /// transaction of its own).
    fn state_version(&self) -> Result<Option<u64>, StoreError> {
        let mut conn = self.pool.take()?;
        let rows = conn.query("SELECT version FROM state_version", &[]);
        self.pool.give_back(rows.is_ok().then_some(conn));
        let version: i64 = rows?.first().map_or(Ok(0), |row| row.try_get(0))?;
        Ok(Some(to_u64(version)))
    }

    /// Run by the writer, whose connection holds the leases: the work a lease guards commits
    /// on that same connection, so it commits only while the session (and the lease) lives.
    fn take_lease(&self, name: &str) -> Result<bool, StoreError> {
        let (sender, receiver) = mpsc::channel();
        let held = Arc::new(Mutex::new(false));
        let answer = Arc::clone(&held);
        let name = name.to_owned();
        self.queue(Job {
            work: Box::new(move |tx| {
                let holds = tx.hold_lease(&name)?;
                if let Ok(mut answer) = answer.lock() {
                    *answer = holds;
                }
                Ok(())
            }),
            done: Box::new(move |outcome| {
                let _ = sender.send(outcome);
            }),
            single_change: false,
        });
        receiver
            .recv()
            .map_err(|_| StoreError::Internal("the writer stopped".into()))??;
        let holds = held
            .lock()
            .map(|held| *held)
            .map_err(|_| StoreError::Internal("a lease's answer was poisoned".into()))?;
        Ok(holds)
    }

    fn health(&self) -> StoreHealth {
        let (state, journal_seq) = match self.check() {
            Ok(seq) => ("ok".to_owned(), seq),
            Err(e) => (e.to_string(), self.journal_seq.load(Ordering::Acquire)),
        };
        StoreHealth {
            backend: "postgres",
            state,
            journal_seq,
        }
    }
}

/// Retention's deletion, in one transaction of its own (beside the writer's: the rows it
/// removes are never written again). Returns the lowest number kept when anything went.
fn remove_journal_rows(
    conn: &mut PgConn,
    before_time: i64,
    up_to: u64,
) -> Result<Option<u64>, StoreError> {
    conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
    // The first event young enough to keep, by number; past the head when there is none.
    let first_young = conn.query(
        "SELECT COALESCE((SELECT seq FROM journal WHERE event_time >= $1 ORDER BY seq LIMIT 1), \
         (SELECT seq + 1 FROM journal_head))",
        &[&before_time],
    )?;
    let first_young: i64 = first_young
        .first()
        .map(|row| row.try_get(0))
        .transpose()?
        .unwrap_or(0);
    let last_gone = (first_young - 1).min(to_i64(up_to));
    conn.execute(
        "DELETE FROM journal_resources WHERE seq <= $1",
        &[&last_gone],
    )?;
    let removed = conn.execute("DELETE FROM journal WHERE seq <= $1", &[&last_gone])?;
    conn.batch("COMMIT")?;
    Ok((removed > 0).then(|| to_u64(last_gone) + 1))
}

/// A read transaction begun on first use, so work that reads nothing takes no connection.
struct LazyRead<'p> {
    pool: &'p Pool,
    conn: Option<PgConn>,
}

impl LazyRead<'_> {
    fn tx(&mut self) -> Result<PgTx<'_>, StoreError> {
        if self.conn.is_none() {
            let conn = self.pool.take()?;
            if let Err(e) = conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                self.pool.give_back(None);
                return Err(e);
            }
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(conn) => Ok(PgTx::new(conn)),
            None => Err(StoreError::Internal("no read connection".into())),
        }
    }
}

impl Drop for LazyRead<'_> {
    /// A connection still held here was not ended by `read` (its work panicked): its
    /// transaction's state is unknown, so it is closed, and its place in the pool freed.
    fn drop(&mut self) {
        if self.conn.take().is_some() {
            self.pool.give_back(None);
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
        self.tx()?.journal_after(after, limit)
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
        self.tx()?.journal_records_after(after, limit)
    }
}

/// A transaction on one connection; the writer and the readers share this code (a reader's
/// transaction is `READ ONLY`, so a write through it fails).
pub(crate) struct PgTx<'c> {
    conn: &'c mut PgConn,
    /// The sequence number of the last event appended and not rolled back.
    pub(crate) last_seq: Option<u64>,
    /// A statement failed and no savepoint has undone it yet: PostgreSQL refuses every
    /// statement of the transaction until then, and would turn its `COMMIT` into a rollback.
    failed: bool,
    /// Transaction control itself failed: the group cannot commit.
    pub(crate) broken: bool,
    /// A document was put or deleted (perhaps undone since): the group adds one to
    /// `state_version` before its `COMMIT`, so other nodes drop their caches.
    pub(crate) wrote_documents: bool,
    /// This transaction holds `journal_head`'s row, locked at its first append (see the
    /// migration) and written once, at the end (`record_head`): numbering in memory rather
    /// than updating the row per event, which made each update of a group scan every
    /// version the group had left of that row.
    head_locked: bool,
}

impl<'c> PgTx<'c> {
    pub(crate) fn new(conn: &'c mut PgConn) -> Self {
        Self {
            conn,
            last_seq: None,
            failed: false,
            broken: false,
            wrote_documents: false,
            head_locked: false,
        }
    }

    /// Adds one to `state_version` when the transaction changed documents, just before
    /// `COMMIT` (after every other lock it takes, so it adds no lock-order cycle).
    pub(crate) fn record_state_version(&mut self) -> Result<(), StoreError> {
        if self.wrote_documents {
            let done = self
                .conn
                .execute("UPDATE state_version SET version = version + 1", &[]);
            self.noted(done)?;
        }
        Ok(())
    }

    /// Writes the journal's last number back to `journal_head`, before `COMMIT`.
    pub(crate) fn record_head(&mut self) -> Result<(), StoreError> {
        if let (true, Some(seq)) = (self.head_locked, self.last_seq) {
            let done = self
                .conn
                .execute("UPDATE journal_head SET seq = $1", &[&to_i64(seq)]);
            self.noted(done)?;
        }
        Ok(())
    }

    /// Notes a failed statement (see `failed`).
    fn noted<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn control(&mut self, sql: &str) -> Result<(), StoreError> {
        let result = self.conn.batch(sql);
        if result.is_err() {
            self.broken = true;
        }
        result
    }
}

/// A lookup attribute as PostgreSQL's `text` can hold it: NUL replaced (U+FFFD), alike when
/// stored and when searched for. Attributes can be the caller's (an access key ID or action
/// name in a request that is then denied), and a NUL would otherwise fail the append of its
/// event; the event itself is stored as bytes, untouched.
fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The first page of a prefix scan, and a page after a key. Keys sort bytewise
/// (`COLLATE "C"`), so every key with the prefix follows it contiguously; rows past the
/// prefix's end are dropped by the caller.
const SCAN_FIRST: &str =
    "SELECT key, value FROM documents WHERE ns = $1 AND key >= $2 ORDER BY key LIMIT $3";
const SCAN_AFTER: &str = "SELECT key, value FROM documents WHERE ns = $1 AND key >= $2 \
                          AND key > $3 ORDER BY key LIMIT $4";

/// Appends one event, numbered `$12`, and the resources it names, in one statement (atomic
/// by itself).
const APPEND: &str = "WITH ev AS (INSERT INTO journal (seq, event, event_time, account, \
       event_id, event_name, event_source, username, access_key_id, read_only) \
       VALUES ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq), \
     res AS (INSERT INTO journal_resources (seq, account, event_time, type, name) \
       SELECT DISTINCT ev.seq, $3::text, $2::bigint, r.type, r.name \
       FROM ev, unnest($10::text[], $11::text[]) AS r (type, name) WHERE $3::text IS NOT NULL) \
     SELECT seq FROM ev";

/// The lookup statement for one attribute (the column is chosen here, never by the caller;
/// the value is bound as `$7`). Parameters: account, start and end time, the cursor's time
/// and seq, the page size.
fn lookup_sql(attribute: Option<&JournalAttribute>) -> String {
    const RANGE: &str = "account = $1 AND event_time >= $2 AND event_time <= $3 \
                         AND (event_time, seq) < ($4, $5)";
    const NEWEST_FIRST: &str = "ORDER BY event_time DESC, seq DESC LIMIT $6";
    let column = match attribute {
        None => None,
        Some(JournalAttribute::EventId(_)) => Some("event_id"),
        Some(JournalAttribute::EventName(_)) => Some("event_name"),
        Some(JournalAttribute::EventSource(_)) => Some("event_source"),
        Some(JournalAttribute::Username(_)) => Some("username"),
        Some(JournalAttribute::AccessKeyId(_)) => Some("access_key_id"),
        Some(JournalAttribute::ReadOnly(_)) => Some("read_only"),
        Some(JournalAttribute::ResourceType(_)) => {
            return format!(
                "SELECT j.seq, j.event_time, j.event FROM (SELECT DISTINCT event_time, seq \
                 FROM journal_resources WHERE {RANGE} AND type = $7 {NEWEST_FIRST}) r \
                 JOIN journal j ON j.seq = r.seq ORDER BY j.event_time DESC, j.seq DESC"
            );
        }
        Some(JournalAttribute::ResourceName(_)) => {
            return format!(
                "SELECT j.seq, j.event_time, j.event FROM (SELECT DISTINCT event_time, seq \
                 FROM journal_resources WHERE {RANGE} AND name = $7 {NEWEST_FIRST}) r \
                 JOIN journal j ON j.seq = r.seq ORDER BY j.event_time DESC, j.seq DESC"
            );
        }
    };
    let filter = column.map_or_else(String::new, |c| format!(" AND {c} = $7"));
    format!("SELECT seq, event_time, event FROM journal WHERE {RANGE}{filter} {NEWEST_FIRST}")
}

impl ReadTx for PgTx<'_> {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.conn.query(
            "SELECT value FROM documents WHERE ns = $1 AND key = $2",
            &[&ns, &key],
        );
        let rows = self.noted(rows)?;
        match rows.first() {
            Some(row) => Ok(Some(row.try_get(0)?)),
            None => Ok(None),
        }
    }

    fn scan(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = match after {
            None => self
                .conn
                .query(SCAN_FIRST, &[&ns, &prefix, &limit_of(limit)]),
            Some(after) => self
                .conn
                .query(SCAN_AFTER, &[&ns, &prefix, &after, &limit_of(limit)]),
        };
        let rows = self.noted(rows)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get(0)?;
            if !key.starts_with(prefix) {
                break;
            }
            out.push((key, row.try_get(1)?));
        }
        Ok(out)
    }

    fn journal_after(&mut self, after: u64, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        let rows = self.conn.query(
            "SELECT seq, event FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&to_i64(after), &limit_of(limit)],
        );
        let rows = self.noted(rows)?;
        rows.iter()
            .map(|row| {
                Ok(JournalEntry {
                    seq: to_u64(row.try_get(0)?),
                    event: row.try_get(1)?,
                })
            })
            .collect()
    }

    fn documents_after(
        &mut self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let rows = match after {
            None => self.conn.query(DOCUMENTS_FIRST, &[&limit_of(limit)]),
            Some((ns, key)) => self
                .conn
                .query(DOCUMENTS_AFTER, &[&ns, &key, &limit_of(limit)]),
        };
        let rows = self.noted(rows)?;
        rows.iter()
            .map(|row| {
                Ok(Document {
                    ns: row.try_get(0)?,
                    key: row.try_get(1)?,
                    value: row.try_get(2)?,
                })
            })
            .collect()
    }

    fn journal_records_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        let rows = self
            .conn
            .query(RECORDS_AFTER, &[&to_i64(after), &limit_of(limit)]);
        let rows = self.noted(rows)?;
        rows.iter()
            .map(|row| {
                // Both arrays are in (type, name) order, so they pair up.
                let types: Vec<String> = row.try_get(10)?;
                let names: Vec<String> = row.try_get(11)?;
                Ok(JournalRecord {
                    seq: to_u64(row.try_get(0)?),
                    event: row.try_get(1)?,
                    event_time: row.try_get(2)?,
                    account: row.try_get(3)?,
                    event_id: row.try_get(4)?,
                    event_name: row.try_get(5)?,
                    event_source: row.try_get(6)?,
                    username: row.try_get(7)?,
                    access_key_id: row.try_get(8)?,
                    read_only: row.try_get(9)?,
                    resources: types.into_iter().zip(names).collect(),
                }
                .normalized())
            })
            .collect()
    }

    fn journal_lookup(&mut self, query: &JournalQuery) -> Result<Vec<JournalHit>, StoreError> {
        // No cursor is a cursor after every position.
        let (before_time, before_seq) = query
            .before
            .map_or((i64::MAX, i64::MAX), |(time, seq)| (time, to_i64(seq)));
        let limit = limit_of(query.limit);
        let sql = lookup_sql(query.attribute.as_ref());
        let range: [&(dyn ToSql + Sync); 6] = [
            &query.account,
            &query.start_time,
            &query.end_time,
            &before_time,
            &before_seq,
            &limit,
        ];
        let rows = match &query.attribute {
            None => self.conn.query(&sql, &range),
            Some(JournalAttribute::ReadOnly(value)) => self
                .conn
                .query(&sql, &[range.as_slice(), &[value]].concat()),
            Some(
                JournalAttribute::EventId(value)
                | JournalAttribute::EventName(value)
                | JournalAttribute::EventSource(value)
                | JournalAttribute::Username(value)
                | JournalAttribute::AccessKeyId(value)
                | JournalAttribute::ResourceType(value)
                | JournalAttribute::ResourceName(value),
            ) => {
                let value = storable(value);
                self.conn
                    .query(&sql, &[range.as_slice(), &[&value]].concat())
            }
        };
        let rows = self.noted(rows)?;
        rows.iter()
            .map(|row| {
                Ok(JournalHit {
                    entry: JournalEntry {
                        seq: to_u64(row.try_get(0)?),
                        event: row.try_get(2)?,
                    },
                    event_time: row.try_get(1)?,
                })
            })
            .collect()
    }
}

/// Every document in (namespace, key) order, a page from the first and a page after a place.
const DOCUMENTS_FIRST: &str = "SELECT ns, key, value FROM documents ORDER BY ns, key LIMIT $1";
const DOCUMENTS_AFTER: &str = "SELECT ns, key, value FROM documents WHERE (ns, key) > ($1, $2) \
                               ORDER BY ns, key LIMIT $3";

/// Journal rows after a number with their attributes and resources (`journal_resources`
/// keeps no order: [`JournalRecord::normalized`] sorts them).
const RECORDS_AFTER: &str = "SELECT j.seq, j.event, j.event_time, j.account, j.event_id, \
       j.event_name, j.event_source, j.username, j.access_key_id, j.read_only, \
       COALESCE((SELECT array_agg(r.type ORDER BY r.type, r.name) FROM journal_resources r WHERE r.seq = j.seq), '{}'), \
       COALESCE((SELECT array_agg(r.name ORDER BY r.type, r.name) FROM journal_resources r WHERE r.seq = j.seq), '{}') \
     FROM journal j WHERE j.seq > $1 ORDER BY j.seq LIMIT $2";

impl WriteTx for PgTx<'_> {
    fn put(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.wrote_documents = true;
        let done = self.conn.execute(
            "INSERT INTO documents (ns, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
            &[&ns, &key, &value],
        );
        self.noted(done).map(|_| ())
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError> {
        self.wrote_documents = true;
        let done = self.conn.execute(
            "DELETE FROM documents WHERE ns = $1 AND key = $2",
            &[&ns, &key],
        );
        Ok(self.noted(done)? > 0)
    }

    fn clear_documents(&mut self) -> Result<(), StoreError> {
        // DELETE rather than TRUNCATE: TRUNCATE is not MVCC-safe (an open snapshot would see
        // the table empty) and locks out every reader until the commit.
        self.wrote_documents = true;
        let done = self.conn.execute("DELETE FROM documents", &[]);
        self.noted(done).map(|_| ())
    }

    fn append_journal(&mut self, entry: &JournalAppend<'_>) -> Result<u64, StoreError> {
        let (types, names): (Vec<Cow<'_, str>>, Vec<Cow<'_, str>>) = entry
            .resources
            .iter()
            .map(|(kind, name)| (storable(kind), storable(name)))
            .unzip();
        let account = entry.account.map(storable);
        let username = entry.username.map(storable);
        let access_key_id = entry.access_key_id.map(storable);
        if !self.head_locked {
            let rows = self
                .conn
                .query("SELECT seq FROM journal_head FOR UPDATE", &[]);
            let rows = self.noted(rows)?;
            let Some(row) = rows.first() else {
                return Err(StoreError::Internal("journal_head has no row".into()));
            };
            self.last_seq = Some(to_u64(row.try_get(0)?));
            self.head_locked = true;
        }
        let seq = self.last_seq.unwrap_or(0).saturating_add(1);
        let rows = self.conn.query(
            APPEND,
            &[
                &entry.event,
                &entry.event_time,
                &account,
                &storable(entry.event_id),
                &storable(entry.event_name),
                &storable(entry.event_source),
                &username,
                &access_key_id,
                &entry.read_only,
                &types,
                &names,
                &to_i64(seq),
            ],
        );
        let rows = self.noted(rows)?;
        let seq: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => return Err(StoreError::Internal("the append returned no number".into())),
        };
        let seq = to_u64(seq);
        self.last_seq = Some(seq);
        Ok(seq)
    }

    /// A session advisory lock on this connection (the writer's): held until the session
    /// ends, so it outlives the transaction (even one rolled back) and is given up by a node
    /// that dies, when PostgreSQL sees its connection close. Work committed through this
    /// connection under the lease cannot commit after the lease went to another node: that
    /// needs this session gone first.
    fn hold_lease(&mut self, name: &str) -> Result<bool, StoreError> {
        if self.conn.leases.contains(name) {
            return Ok(true);
        }
        let rows = self.conn.query(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&LEASE_CLASS, &lease_key(name)],
        );
        let rows = self.noted(rows)?;
        let taken: bool = rows.first().map_or(Ok(false), |row| row.try_get(0))?;
        if taken {
            tracing::info!(lease = name, "this node took the lease");
            self.conn.leases.insert(name.to_owned());
        }
        Ok(taken)
    }

    fn atomically(
        &mut self,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> bool,
    ) -> Result<bool, StoreError> {
        // Every level uses the same name: RELEASE and ROLLBACK TO act on the most recent
        // savepoint of that name, and these nest strictly.
        self.control("SAVEPOINT atomically")?;
        let failed_before = std::mem::replace(&mut self.failed, false);
        let (seq_before, head_locked_before) = (self.last_seq, self.head_locked);
        // Work that swallowed a failed statement's error is undone too: PostgreSQL would
        // refuse everything after it.
        let ok = work(self) && !self.failed;
        if !ok {
            self.control("ROLLBACK TO SAVEPOINT atomically")?;
            // The numbers of the events undone are given back, and a head row locked inside
            // the savepoint is unlocked by its rollback.
            self.last_seq = seq_before;
            self.head_locked = head_locked_before;
        }
        self.failed = failed_before;
        self.control("RELEASE SAVEPOINT atomically")?;
        Ok(ok)
    }
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
mod tests;
