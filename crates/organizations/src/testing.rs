//! Running handlers in unit tests: a real SQLite store in a temporary directory, the root
//! caller of a fixed management account (changeable), a fixed clock.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support")]

use std::sync::Arc;

use rampart_crypto::RootKey;
use rampart_service::{Caller, Env, OsEntropy};
use rampart_store::{ReadTx, SqliteStore, Store, StoreError, WriteTx};
use time::OffsetDateTime;

/// The account that creates the tests' organization.
pub(crate) const MANAGEMENT: &str = "111122223333";

/// A store, a caller and a clock for calling handlers directly.
pub(crate) struct TestEnv {
    _dir: tempfile::TempDir,
    pub(crate) store: Arc<dyn Store>,
    root_key: Arc<RootKey>,
    pub(crate) caller: Caller,
    pub(crate) now: OffsetDateTime,
    runtime: tokio::runtime::Runtime,
}

impl TestEnv {
    /// A fresh store, called by the root user of [`MANAGEMENT`] at 2026-11-24T12:00:00Z.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        Self {
            _dir: dir,
            store,
            root_key: Arc::new(RootKey::generate()),
            caller: Caller::root(MANAGEMENT, "AKIAROOT"),
            now: time::macros::datetime!(2026-11-24 12:00:00 UTC),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        }
    }

    /// Acts as the root user of `account` from now on.
    pub(crate) fn act_as(&mut self, account: &str) {
        self.caller = Caller::root(account, "AKIAROOT");
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
        self.runtime.block_on(self.store.write_with(move |tx| {
            let env = Env {
                caller: &caller,
                region: "us-east-1",
                request_id: "test-request",
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
        let env = Env {
            caller: &self.caller,
            region: "us-east-1",
            request_id: "test-request",
            now: self.now,
            root_key: &self.root_key,
            entropy: &OsEntropy,
            inherited: None,
            federation: None,
        };
        f(&env)
    }

    /// Runs `f` on a read snapshot.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> T) -> T {
        self.store
            .read_with(|tx| Ok::<_, StoreError>(f(tx)))
            .unwrap()
    }
}
