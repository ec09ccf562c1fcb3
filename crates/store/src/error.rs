/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database engine reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// A stored document could not be decoded or encoded.
    #[error("stored document `{ns}/{key}` is malformed: {reason}")]
    Malformed {
        /// Its namespace.
        ns: String,
        /// Its key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The store's files could not be opened or migrated.
    #[error("cannot open the store: {0}")]
    Open(String),
    /// Write work reported its own failure; its writes were undone.
    #[error("the write work failed and was rolled back")]
    WorkFailed,
    /// The audit log (`rampart-journal`) could not be written or read.
    #[error("audit log: {0}")]
    Journal(#[from] rampart_journal::JournalError),
    /// A broken invariant inside the store.
    #[error("store internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}
