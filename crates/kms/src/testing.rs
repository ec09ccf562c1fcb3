//! Running handlers in unit tests: a real SQLite store in a temporary directory, the root
//! caller of a fixed account, a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support")]

use std::sync::Arc;

use rampart_crypto::RootKey;
use rampart_service::{Caller, Env, OsEntropy};
use rampart_store::{ReadTx, SqliteStore, Store, StoreError, WriteTx};
use time::OffsetDateTime;

/// The account the tests act in.
pub(crate) const ACCOUNT: &str = "123456789012";

/// A fresh request id, as the server makes one per request (CreateKey derives key ids from it).
fn request_id() -> String {
    data_encoding::HEXLOWER.encode(&rampart_crypto::random_bytes(16))
}

/// A store, a caller and a clock for calling handlers directly.
pub(crate) struct TestEnv {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    root_key: Arc<RootKey>,
    pub(crate) caller: Caller,
    pub(crate) now: OffsetDateTime,
    runtime: tokio::runtime::Runtime,
}

impl TestEnv {
    /// A fresh store, called by the root user of [`ACCOUNT`] at 2026-11-24T12:00:00Z.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        Self {
            _dir: dir,
            store,
            root_key: Arc::new(RootKey::generate()),
            caller: Caller::root(ACCOUNT, "AKIAROOT"),
            now: time::macros::datetime!(2026-11-24 12:00:00 UTC),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        }
    }

    /// Runs a write handler in a transaction, committed if it succeeds.
    pub(crate) fn write<
        I: Send + 'static,
        T: Send + 'static,
        E: Send + 'static + From<StoreError>,
    >(
        &self,
        handler: fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<T, E>,
        input: I,
    ) -> Result<T, E> {
        let caller = self.caller.clone();
        let now = self.now;
        let key = Arc::clone(&self.root_key);
        let request_id = request_id();
        self.runtime.block_on(self.store.write_with(move |tx| {
            let env = Env {
                caller: &caller,
                region: "us-east-1",
                request_id: &request_id,
                now,
                root_key: &key,
                entropy: &OsEntropy,
                inherited: None,
                federation: None,
            };
            handler(&env, tx, input)
        }))
    }

    /// Runs a read handler on a snapshot.
    pub(crate) fn read<I, T, E: From<StoreError>>(
        &self,
        handler: fn(&Env<'_>, &mut dyn ReadTx, I) -> Result<T, E>,
        input: I,
    ) -> Result<T, E> {
        self.with_env(|env| self.store.read_with(|tx| handler(env, tx, input)))
    }

    /// Runs `f` with this test's `Env`.
    pub(crate) fn with_env<T>(&self, f: impl FnOnce(&Env<'_>) -> T) -> T {
        let request_id = request_id();
        let env = Env {
            caller: &self.caller,
            region: "us-east-1",
            request_id: &request_id,
            now: self.now,
            root_key: &self.root_key,
            entropy: &OsEntropy,
            inherited: None,
            federation: None,
        };
        f(&env)
    }

    /// Runs `f` on a read snapshot with this test's `Env`.
    pub(crate) fn read_with<T>(&self, f: impl FnOnce(&Env<'_>, &mut dyn ReadTx) -> T) -> T {
        self.with_env(|env| {
            self.store
                .read_with(|tx| Ok::<_, StoreError>(f(env, tx)))
                .unwrap()
        })
    }
}
