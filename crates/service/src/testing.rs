//! Calling handlers in service crates' unit tests: a real SQLite store in a temporary
//! directory, the root caller of a fixed account (changeable), a clock the test moves.
//! Behind the `testing` feature, which only dev-dependencies turn on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support"
)]

use std::sync::Arc;

use rampart_crypto::RootKey;
use rampart_store::{ReadTx, SqliteStore, Store, StoreError, WriteTx};
use time::OffsetDateTime;

use crate::{
    AwsError, Caller, Directory, Env, Handler, NoDirectory, NoServiceCalls, OsEntropy, RateLimits,
    Service, ServiceCalls,
};

/// The account the tests act in unless they choose another.
pub const ACCOUNT: &str = "123456789012";

/// A store, a caller and a clock for calling handlers directly.
pub struct TestEnv {
    _dir: tempfile::TempDir,
    /// The store the handlers run on.
    pub store: Arc<dyn Store>,
    /// The key secrets at rest are encrypted under.
    pub root_key: Arc<RootKey>,
    /// Who calls: the root user of [`ACCOUNT`] unless changed.
    pub caller: Caller,
    /// The handlers' clock: 2026-11-24T12:00:00Z unless moved.
    pub now: OffsetDateTime,
    /// The request-rate quotas the handlers count against.
    pub rate_limits: Arc<RateLimits>,
    /// What runs the handlers' calls to other services: none unless a test gives one.
    pub calls: Arc<dyn ServiceCalls>,
    /// The accounts the handlers see: none served unless a test gives a directory.
    pub directory: Arc<dyn Directory>,
    runtime: tokio::runtime::Runtime,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh store, called by the root user of [`ACCOUNT`] at 2026-11-24T12:00:00Z.
    pub fn new() -> Self {
        Self::in_account(ACCOUNT)
    }

    /// A fresh store, called by the root user of `account`.
    pub fn in_account(account: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with_options(
                &dir.path().join("t.db"),
                &rampart_store::SqliteOptions::small(),
            )
            .unwrap(),
        );
        Self {
            _dir: dir,
            store,
            root_key: Arc::new(RootKey::generate()),
            caller: Caller::root(account, "AKIAROOT"),
            now: time::macros::datetime!(2026-11-24 12:00:00 UTC),
            rate_limits: Arc::new(RateLimits::new()),
            calls: Arc::new(NoServiceCalls),
            directory: Arc::new(NoDirectory),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        }
    }

    /// Acts as the root user of `account` from now on.
    pub fn act_as(&mut self, account: &str) {
        self.caller = Caller::root(account, "AKIAROOT");
    }

    /// Runs `f` (typically a handler) in a write transaction, committed if it succeeds.
    pub fn write<T: Send + 'static, E: Send + 'static + From<StoreError>>(
        &self,
        f: impl FnOnce(&Env<'_>, &mut dyn WriteTx) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let caller = self.caller.clone();
        let now = self.now;
        let key = Arc::clone(&self.root_key);
        let limits = Arc::clone(&self.rate_limits);
        let calls = Arc::clone(&self.calls);
        let directory = Arc::clone(&self.directory);
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
                rate_limits: &limits,
                calls: calls.as_ref(),
                directory: directory.as_ref(),
            };
            f(&env, tx)
        }))
    }

    /// Runs `f` (typically a handler) on a read snapshot.
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Env<'_>, &mut dyn ReadTx) -> Result<T, E>,
    ) -> Result<T, E> {
        self.with_env(|env| self.store.read_with(|tx| f(env, tx)))
    }

    /// Runs `f` on a read snapshot, for work that cannot fail.
    pub fn read_infallible<T>(&self, f: impl FnOnce(&Env<'_>, &mut dyn ReadTx) -> T) -> T {
        self.read(|env, tx| Ok::<_, StoreError>(f(env, tx)))
            .unwrap()
    }

    /// Calls `service`'s `operation` with `input`: a write in a transaction committed only
    /// when the handler succeeds, a read on a snapshot.
    pub fn call(
        &self,
        service: &Arc<dyn Service>,
        operation: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, AwsError> {
        let found = service
            .operation(operation)
            .unwrap_or_else(|| panic!("{operation} is not implemented"));
        match &found.handler {
            Handler::Write(_) => {
                let service = Arc::clone(service);
                let name = operation.to_owned();
                self.write(move |env, tx| {
                    let Some(Handler::Write(h)) = service.operation(&name).map(|o| &o.handler)
                    else {
                        unreachable!("{name} writes")
                    };
                    Ok::<_, StoreError>(h(env, tx, input))
                })
                .unwrap()
            }
            Handler::Read(h) => self
                .read(|env, tx| Ok::<_, StoreError>(h(env, tx, input)))
                .unwrap(),
        }
    }

    /// Runs `f` with this test's `Env`.
    pub fn with_env<T>(&self, f: impl FnOnce(&Env<'_>) -> T) -> T {
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
            rate_limits: &self.rate_limits,
            calls: self.calls.as_ref(),
            directory: self.directory.as_ref(),
        };
        f(&env)
    }
}

/// A fresh request id per call, as the server makes one per request (KMS's CreateKey derives
/// key ids from it).
fn request_id() -> String {
    rampart_crypto::random_bytes(16)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
