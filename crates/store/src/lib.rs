//! Rampart's persistence.
//!
//! State is a set of namespaced documents (`ns`, `key`) → bytes, plus an append-only audit
//! journal. Services decide their own namespaces and keys; the backend knows nothing of IAM or
//! KMS, which keeps one small [`Store`] trait that SQLite (the embedded default) and PostgreSQL
//! can both implement without leaking one engine's assumptions into the services.
//!
//! Writes are durable when their future resolves: one writer commits queued work in groups,
//! so every request waiting at that moment shares one fsync (group commit). Reads run on a
//! consistent snapshot and never wait for the writer.
#![deny(missing_docs)]

mod checkpointer;
mod error;
mod journal_index;
mod json;
mod log;
mod log_record;
#[cfg(test)]
mod log_tests;
mod memo;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_import;
#[cfg(all(test, feature = "postgres"))]
mod postgres_import_tests;
#[cfg(feature = "postgres")]
mod postgres_writer;
mod sqlite;
mod writer;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(all(feature = "postgres", any(test, feature = "conformance")))]
pub mod test_database;

pub use error::StoreError;
pub use json::{get_json, put_json, scan_json};
pub use memo::{Memo, Memoized, get_json_memo};
#[cfg(feature = "postgres")]
pub use postgres::{DEFAULT_POOL_SIZE as POSTGRES_DEFAULT_POOL_SIZE, PostgresStore};
#[cfg(feature = "postgres")]
pub use postgres_import::{ImportError, PostgresImport};
pub use sqlite::{JournalMode, SEGMENT_MIB_VARIABLE, SqliteOptions, SqliteStore};

/// One entry of the audit journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position in the journal: strictly increasing, never reused.
    pub seq: u64,
    /// The event, as the audit step wrote it (a CloudTrail record in JSON).
    pub event: Vec<u8>,
}

/// An event to append, with the attributes a lookup searches by, copied out of the event by
/// the audit step so the backend never parses events.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalAppend<'a> {
    /// The event, as the audit step wrote it (a CloudTrail record in JSON).
    pub event: &'a [u8],
    /// `eventTime`, in seconds since the Unix epoch.
    pub event_time: i64,
    /// The account the event belongs to (`recipientAccountId`); `None` when the caller was
    /// never authenticated, and then no account can look the event up.
    pub account: Option<&'a str>,
    /// `eventID`.
    pub event_id: &'a str,
    /// `eventName`, e.g. `CreateUser`.
    pub event_name: &'a str,
    /// `eventSource`, e.g. `iam.amazonaws.com`.
    pub event_source: &'a str,
    /// The user name LookupEvents reports (`root`, the IAM user, the role session).
    pub username: Option<&'a str>,
    /// The access key that signed the call.
    pub access_key_id: Option<&'a str>,
    /// Whether the call only read.
    pub read_only: bool,
    /// The resources the event names, as (type, name) pairs, e.g. (`AWS::IAM::User`, `bob`).
    pub resources: &'a [(String, String)],
}

/// One document, with its place: what a whole-store copy reads ([`ReadTx::documents_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its namespace.
    pub ns: String,
    /// Its key within the namespace.
    pub key: String,
    /// Its bytes, as the service stored them (sealed secrets stay sealed).
    pub value: Vec<u8>,
}

/// One journal entry with the attributes lookups search by, as a whole-store copy reads it
/// ([`ReadTx::journal_records_after`]) and writes it back with its number unchanged.
///
/// Normalized as PostgreSQL keeps it, so that the same journal read from either backend
/// compares equal: no NUL in attributes (see [`JournalAppend`]), resources sorted without
/// duplicates and only on events of an account (no other event is ever looked up), an event
/// time of 0 and `read_only` false where a very old row had none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JournalRecord {
    /// Position in the journal.
    pub seq: u64,
    /// The event.
    pub event: Vec<u8>,
    /// `eventTime`, epoch seconds.
    pub event_time: i64,
    /// The account the event belongs to.
    pub account: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `eventName`.
    pub event_name: Option<String>,
    /// `eventSource`.
    pub event_source: Option<String>,
    /// The user name lookups match.
    pub username: Option<String>,
    /// The access key that signed the call.
    pub access_key_id: Option<String>,
    /// Whether the call only read.
    pub read_only: bool,
    /// (type, name) pairs.
    pub resources: Vec<(String, String)>,
}

impl JournalRecord {
    /// `self` in the normal form described on the type.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        fn clean(text: &mut Option<String>) {
            if let Some(t) = text.as_mut().filter(|t| t.contains('\0')) {
                *t = t.replace('\0', "\u{fffd}");
            }
        }
        for text in [
            &mut self.account,
            &mut self.event_id,
            &mut self.event_name,
            &mut self.event_source,
            &mut self.username,
            &mut self.access_key_id,
        ] {
            clean(text);
        }
        if self.account.is_none() {
            self.resources.clear();
        }
        for (kind, name) in &mut self.resources {
            *kind = kind.replace('\0', "\u{fffd}");
            *name = name.replace('\0', "\u{fffd}");
        }
        self.resources.sort();
        self.resources.dedup();
        self
    }
}

/// The one attribute a journal lookup may narrow by (CloudTrail allows one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalAttribute {
    /// `eventID`.
    EventId(String),
    /// `eventName`.
    EventName(String),
    /// Whether the call only read.
    ReadOnly(bool),
    /// The user name (see [`JournalAppend::username`]).
    Username(String),
    /// A resource type the event names.
    ResourceType(String),
    /// A resource name the event names.
    ResourceName(String),
    /// `eventSource`.
    EventSource(String),
    /// The access key that signed the call.
    AccessKeyId(String),
}

/// A search of one account's journal, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalQuery {
    /// The account whose events are searched.
    pub account: String,
    /// At most one attribute the events must have.
    pub attribute: Option<JournalAttribute>,
    /// Events at or after this time (epoch seconds).
    pub start_time: i64,
    /// Events at or before this time (epoch seconds).
    pub end_time: i64,
    /// Continue after this (event time, seq) position, from a previous page.
    pub before: Option<(i64, u64)>,
    /// Page size.
    pub limit: usize,
}

/// One event a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalHit {
    /// The entry.
    pub entry: JournalEntry,
    /// Its event time (epoch seconds), the first half of the pagination position.
    pub event_time: i64,
}

/// Reads inside one consistent snapshot.
pub trait ReadTx {
    /// The document at (`ns`, `key`), if any.
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` documents of `ns` whose keys start with `prefix` and sort after `after`
    /// (exclusive), in key order (bytewise).
    fn scan(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Up to `limit` journal entries with `seq` greater than `after`, in order.
    fn journal_after(&mut self, after: u64, limit: usize) -> Result<Vec<JournalEntry>, StoreError>;

    /// Up to `query.limit` events of one account matching `query`, newest first (by event
    /// time, then sequence). Backends answer from indexes, so a lookup stays fast over millions
    /// of events, and find every event whose append is committed, whether or not their index
    /// covers it yet (a backend may index after the commit, off the append's path).
    ///
    /// The default refuses, so a read-only stand-in (in tests) need not implement it.
    fn journal_lookup(&mut self, query: &JournalQuery) -> Result<Vec<JournalHit>, StoreError> {
        let _ = query;
        Err(StoreError::Internal(
            "this store cannot look up journal events".into(),
        ))
    }

    /// Up to `limit` documents of every namespace after the place `after` (exclusive), in
    /// (namespace, key) order (bytewise): for copying or comparing a whole store, in pages.
    ///
    /// The default refuses, so a read-only stand-in (in tests) need not implement it.
    fn documents_after(
        &mut self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::Internal(
            "this store cannot list its documents".into(),
        ))
    }

    /// Up to `limit` journal entries numbered after `after`, in order, with their lookup
    /// attributes, normalized ([`JournalRecord::normalized`]): for copying or comparing a
    /// whole journal, in pages.
    ///
    /// The default refuses, so a read-only stand-in (in tests) need not implement it.
    fn journal_records_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::Internal(
            "this store cannot copy its journal".into(),
        ))
    }

    /// The memo of decoded documents, on a snapshot wrapped in [`Memoized`]; `None` elsewhere
    /// (a write transaction's documents change under it).
    fn memo(&mut self) -> Option<&mut Memo> {
        None
    }
}

/// Reads and writes inside one transaction.
pub trait WriteTx: ReadTx {
    /// Creates or replaces the document at (`ns`, `key`).
    fn put(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Removes the document at (`ns`, `key`); says whether it existed.
    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError>;

    /// Removes every document of every namespace (the journal stays: audit is append-only).
    fn clear_documents(&mut self) -> Result<(), StoreError>;

    /// Appends an event (with its searchable attributes) to the audit journal and returns its
    /// sequence number.
    fn append_journal(&mut self, entry: &JournalAppend<'_>) -> Result<u64, StoreError>;

    /// Runs `work` so that its writes are undone if it reports failure, while writes made
    /// before and after it stand. Returns whether `work` succeeded.
    fn atomically(
        &mut self,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> bool,
    ) -> Result<bool, StoreError>;

    /// Whether this process holds the lease `name` (scheduled work that must run on one node
    /// at a time), taking it when it is free. Checked inside the transaction that applies the
    /// work, so that work whose node lost the lease is never committed. A store one process
    /// owns (SQLite) always holds every lease.
    fn hold_lease(&mut self, name: &str) -> Result<bool, StoreError> {
        let _ = name;
        Ok(true)
    }
}

/// A unit of work for the writer, run inside the next group commit.
pub type WriteWork = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), StoreError> + Send>;

/// Told the outcome once the group holding the work is durable (or failed).
pub type WriteDone = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// What the health endpoint reports about the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreHealth {
    /// The backend's name, e.g. `sqlite`.
    pub backend: &'static str,
    /// `ok`, or what is wrong.
    pub state: String,
    /// The journal's last sequence number.
    pub journal_seq: u64,
}

/// Rampart's persistence, as the request spine and the services see it.
pub trait Store: Send + Sync {
    /// Runs `work` on a consistent read-only snapshot.
    fn read(
        &self,
        work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Queues `work` for the next group commit. `work` runs inside a savepoint: if it returns
    /// an error its writes are undone and `done` receives that error; otherwise `done`
    /// receives `Ok` once the whole group is durable.
    fn submit(&self, work: WriteWork, done: WriteDone);

    /// Like [`Store::submit`], for work that makes at most one change with one statement
    /// (an audit event's append): a statement is atomic by itself, so the work needs no
    /// savepoint of its own.
    fn submit_single_change(&self, work: WriteWork, done: WriteDone) {
        self.submit(work, done);
    }

    /// The store's state for the health endpoint.
    fn health(&self) -> StoreHealth;

    /// A counter that moves whenever any process commits a change to documents, for stores
    /// that several processes share (PostgreSQL): a node compares it with the last it saw to
    /// know its caches of stored state are stale. `None` for a store only this process
    /// writes (its own writes already mark its caches stale).
    fn state_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// [`WriteTx::hold_lease`] in a transaction of its own: whether this process holds (or
    /// has just taken) the lease `name`. Always `true` for a store one process owns.
    fn take_lease(&self, name: &str) -> Result<bool, StoreError> {
        let _ = name;
        Ok(true)
    }

    /// Retention: removes the journal's events older than `before_time` (seconds since the
    /// epoch) and numbered at most `up_to` (what every trail has delivered), in the backend's
    /// grain (the audit log: whole segments, never the one being filled), with their entries
    /// in the lookup index. Returns the lowest number still kept if anything went. The table
    /// journal (`RAMPART_JOURNAL=table`, kept only to compare) keeps everything.
    fn remove_journal_before(
        &self,
        before_time: i64,
        up_to: u64,
    ) -> Result<Option<u64>, StoreError> {
        let _ = (before_time, up_to);
        Ok(None)
    }
}

impl dyn Store + '_ {
    /// Runs `work` on a read snapshot and returns its result.
    pub fn read_with<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn ReadTx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut work = Some(work);
        let mut result = None;
        self.read(&mut |tx| {
            if let Some(work) = work.take() {
                result = Some(work(tx));
            }
            Ok(())
        })?;
        result.unwrap_or_else(|| Err(StoreError::Internal("read work did not run".into()).into()))
    }

    /// Runs `work` in the next group commit and resolves once it is durable. If `work` returns
    /// an error, its writes are undone and the error is returned.
    pub async fn write_with<T, E>(
        &self,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.write_and_wait(work, false).await
    }

    /// [`write_with`](Self::write_with) for work that makes at most one change with one
    /// statement, such as appending an audit event (see [`Store::submit_single_change`]).
    pub async fn write_single_change_with<T, E>(
        &self,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.write_and_wait(work, true).await
    }

    async fn write_and_wait<T, E>(
        &self,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<T, E> + Send + 'static,
        single_change: bool,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (result_tx, result_rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<(), StoreError>>();
        let work: WriteWork = Box::new(move |tx| {
            let outcome = work(tx);
            let failed = outcome.is_err();
            let _ = result_tx.send(outcome);
            if failed {
                // Roll back this work's savepoint; the real error travels in `outcome`.
                Err(StoreError::WorkFailed)
            } else {
                Ok(())
            }
        });
        let done: WriteDone = Box::new(move |r| {
            let _ = done_tx.send(r);
        });
        if single_change {
            self.submit_single_change(work, done);
        } else {
            self.submit(work, done);
        }
        let durable = done_rx
            .await
            .unwrap_or_else(|_| Err(StoreError::Internal("the writer stopped".into())));
        match (durable, result_rx.await) {
            (_, Ok(Err(e))) => Err(e),
            (Ok(()), Ok(Ok(value))) => Ok(value),
            (Err(e), _) => Err(e.into()),
            (Ok(()), Err(_)) => Err(StoreError::Internal("write work did not run".into()).into()),
        }
    }
}
