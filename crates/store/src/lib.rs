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

mod error;
mod json;
mod sqlite;
mod writer;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use error::StoreError;
pub use json::{get_json, put_json, scan_json};
pub use sqlite::SqliteStore;

/// One entry of the audit journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position in the journal: strictly increasing, never reused.
    pub seq: u64,
    /// The event, as the audit step wrote it (a CloudTrail record in JSON).
    pub event: Vec<u8>,
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
}

/// Reads and writes inside one transaction.
pub trait WriteTx: ReadTx {
    /// Creates or replaces the document at (`ns`, `key`).
    fn put(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Removes the document at (`ns`, `key`); says whether it existed.
    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError>;

    /// Removes every document of every namespace (the journal stays: audit is append-only).
    fn clear_documents(&mut self) -> Result<(), StoreError>;

    /// Appends an event to the audit journal and returns its sequence number.
    fn append_journal(&mut self, event: &[u8]) -> Result<u64, StoreError>;

    /// Runs `work` so that its writes are undone if it reports failure, while writes made
    /// before and after it stand. Returns whether `work` succeeded.
    fn atomically(
        &mut self,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> bool,
    ) -> Result<bool, StoreError>;
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

    /// The store's state for the health endpoint.
    fn health(&self) -> StoreHealth;
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
        self.submit(
            work,
            Box::new(move |r| {
                let _ = done_tx.send(r);
            }),
        );
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
