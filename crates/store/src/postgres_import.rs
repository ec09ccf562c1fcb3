//! Copying a whole deployment into an empty PostgreSQL database (`rampart admin migrate`,
//! issue 21): documents as bytes and journal events with their numbers and lookup
//! attributes, in pages, inside one transaction, so a copy that fails leaves the database as
//! empty as it found it and can simply be run again.

use crate::postgres::{Connector, PgConn, migrate, start_io, to_i64};
use crate::{Document, JournalRecord, StoreError};

/// Why an import could not start.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The database already holds state or events: importing would mix two deployments.
    #[error(
        "the database is not empty ({documents} documents, {events} journal events): \
         migrate only into an empty database"
    )]
    NotEmpty {
        /// Documents found.
        documents: i64,
        /// Journal events found (or numbers already used).
        events: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An import in progress: one open transaction on one connection holding the store's tables
/// (`EXCLUSIVE` locks: readers may read, no one else writes). Dropped without
/// [`commit`](Self::commit), the connection closes and PostgreSQL rolls everything back.
pub struct PostgresImport {
    conn: Option<PgConn>,
    stop_io: Option<tokio::sync::oneshot::Sender<()>>,
    io_thread: Option<std::thread::JoinHandle<()>>,
}

const LOCK_TABLES: &str = "LOCK TABLE documents, journal, journal_head, journal_resources, \
                           state_version IN EXCLUSIVE MODE";

const COUNT: &str = "SELECT (SELECT count(*) FROM documents), \
                     GREATEST((SELECT count(*) FROM journal), (SELECT seq FROM journal_head))";

const INSERT_DOCUMENTS: &str = "INSERT INTO documents (ns, key, value) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])";

const INSERT_EVENTS: &str = "INSERT INTO journal (seq, event, event_time, account, event_id, \
       event_name, event_source, username, access_key_id, read_only) \
     SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[], $4::text[], $5::text[], \
       $6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[])";

const INSERT_RESOURCES: &str = "INSERT INTO journal_resources (seq, account, event_time, type, \
       name) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[])";

impl PostgresImport {
    /// Connects to `url`, applies the schema, and begins the import's transaction; refuses a
    /// database that holds any document or journal event.
    pub fn begin(url: &str) -> Result<Self, ImportError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Open(format!("the URL: {e}")))?;
        let (io, stop_io, io_thread) = start_io()?;
        let mut import = Self {
            conn: None,
            stop_io: Some(stop_io),
            io_thread: Some(io_thread),
        };
        let mut conn = Connector { config, io }.connect()?;
        migrate(&mut conn)?;
        conn.batch("BEGIN")?;
        // A server started on this database during the copy would bootstrap a deployment into
        // it: the locks make its writes wait until the copy has committed (or rolled back).
        conn.batch(LOCK_TABLES)?;
        let rows = conn.query(COUNT, &[])?;
        let (documents, events): (i64, i64) = match rows.first() {
            Some(row) => (
                row.try_get(0).map_err(StoreError::from)?,
                row.try_get(1).map_err(StoreError::from)?,
            ),
            None => return Err(StoreError::Internal("the count returned no row".into()).into()),
        };
        if documents > 0 || events > 0 {
            return Err(ImportError::NotEmpty { documents, events });
        }
        import.conn = Some(conn);
        Ok(import)
    }

    fn conn(&mut self) -> Result<&mut PgConn, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Internal("the import has ended".into()))
    }

    /// Inserts a page of documents, bytes unchanged.
    pub fn documents(&mut self, page: &[Document]) -> Result<(), StoreError> {
        let ns: Vec<&str> = page.iter().map(|d| d.ns.as_str()).collect();
        let keys: Vec<&str> = page.iter().map(|d| d.key.as_str()).collect();
        let values: Vec<&[u8]> = page.iter().map(|d| d.value.as_slice()).collect();
        self.conn()?
            .execute(INSERT_DOCUMENTS, &[&ns, &keys, &values])?;
        Ok(())
    }

    /// Inserts a page of journal events, each under its own number, with the resources of
    /// those that belong to an account (the only ones a lookup reads). The records are
    /// [normalized](JournalRecord::normalized), as [`crate::ReadTx::journal_records_after`]
    /// returns them.
    pub fn journal(&mut self, page: &[JournalRecord]) -> Result<(), StoreError> {
        let seqs: Vec<i64> = page.iter().map(|r| to_i64(r.seq)).collect();
        let events: Vec<&[u8]> = page.iter().map(|r| r.event.as_slice()).collect();
        let times: Vec<i64> = page.iter().map(|r| r.event_time).collect();
        let text = |f: fn(&JournalRecord) -> &Option<String>| -> Vec<Option<&str>> {
            page.iter().map(|r| f(r).as_deref()).collect()
        };
        let accounts = text(|r| &r.account);
        let ids = text(|r| &r.event_id);
        let names = text(|r| &r.event_name);
        let sources = text(|r| &r.event_source);
        let users = text(|r| &r.username);
        let keys = text(|r| &r.access_key_id);
        let read_only: Vec<bool> = page.iter().map(|r| r.read_only).collect();
        let conn = self.conn()?;
        conn.execute(
            INSERT_EVENTS,
            &[
                &seqs, &events, &times, &accounts, &ids, &names, &sources, &users, &keys,
                &read_only,
            ],
        )?;
        let mut r_seqs = Vec::new();
        let mut r_accounts = Vec::new();
        let mut r_times = Vec::new();
        let mut r_types = Vec::new();
        let mut r_names = Vec::new();
        for record in page {
            let Some(account) = record.account.as_deref() else {
                continue;
            };
            for (kind, name) in &record.resources {
                r_seqs.push(to_i64(record.seq));
                r_accounts.push(account);
                r_times.push(record.event_time);
                r_types.push(kind.as_str());
                r_names.push(name.as_str());
            }
        }
        if !r_seqs.is_empty() {
            conn.execute(
                INSERT_RESOURCES,
                &[&r_seqs, &r_accounts, &r_times, &r_types, &r_names],
            )?;
        }
        Ok(())
    }

    /// Sets the journal's head to `head` (the source's last number: numbers it used and
    /// voided are not given out again) or the highest number imported if higher, marks
    /// every node's caches stale, and commits.
    pub fn commit(mut self, head: u64) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE journal_head SET seq = GREATEST($1, (SELECT COALESCE(MAX(seq), 0) FROM journal))",
            &[&to_i64(head)],
        )?;
        conn.batch("UPDATE state_version SET version = version + 1")?;
        conn.batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for PostgresImport {
    fn drop(&mut self) {
        // Closing the connection rolls back what was not committed.
        drop(self.conn.take());
        if let Some(stop) = self.stop_io.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.io_thread.take() {
            let _ = thread.join();
        }
    }
}
