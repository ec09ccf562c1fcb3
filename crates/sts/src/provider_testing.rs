//! Test support for federation: a real SQLite store where identity providers are made with
//! IAM's own operations, as a client would make them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support")]

use std::sync::Arc;

use rampart_crypto::RootKey;
use rampart_iam::Iam;
use rampart_service::{Caller, Env, Handler, OsEntropy, Service};
use rampart_store::{ReadTx, SqliteStore, Store};
use serde_json::Value;
use time::OffsetDateTime;

use crate::StsError;

/// The account the tests act in.
pub const ACCOUNT: &str = "123456789012";

/// A store holding the providers a test made.
pub struct ProviderStore {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    runtime: tokio::runtime::Runtime,
}

impl ProviderStore {
    /// An empty store.
    pub fn new() -> Self {
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
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        }
    }

    /// Calls the IAM operation `name` as the root user of [`ACCOUNT`]; the result is the
    /// operation's output, or its error's code.
    pub fn iam(&self, name: &'static str, input: Value) -> Result<Value, String> {
        self.runtime
            .block_on(self.store.write_with(move |tx| {
                let iam = Iam::new();
                let op = iam.operation(name).expect("an IAM operation");
                let caller = Caller::root(ACCOUNT, "AKIAROOT");
                let root_key = RootKey::generate();
                let env = Env {
                    caller: &caller,
                    region: "us-east-1",
                    request_id: "test",
                    now: OffsetDateTime::now_utc(),
                    root_key: &root_key,
                    entropy: &OsEntropy,
                    inherited: None,
                    federation: None,
                    rate_limits: &rampart_service::RateLimits::new(),
                    calls: &rampart_service::NoServiceCalls,
                    directory: &rampart_service::NoDirectory,
                };
                let result = match &op.handler {
                    Handler::Write(f) => f(&env, tx, input),
                    Handler::Read(f) => f(&env, tx, input),
                };
                Ok::<_, StsError>(result.map_err(|e| format!("{}: {}", e.code, e.message)))
            }))
            .unwrap()
    }

    /// Runs `f` on a read snapshot.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn ReadTx) -> Result<T, StsError>,
    ) -> Result<T, StsError> {
        self.store.read_with(f)
    }
}
