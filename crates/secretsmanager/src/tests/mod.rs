//! Secrets Manager's handlers on a real store with a fixed clock. KMS runs for real (its own
//! handlers, through a stand-in for the spine that does not authorize: the spine's
//! authorization of these calls is tested end to end, tests/python/test_secretsmanager*.py).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod labels;
mod lifecycle;
mod rotation;

use std::sync::Arc;

use rampart_kms::testing::DirectKms;
use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Service, ServiceCalls, Value};
use serde_json::json;

use crate::SecretsManager;

/// A test store with Secrets Manager and KMS, called as the account's root user.
pub(crate) struct Harness {
    pub(crate) env: TestEnv,
    pub(crate) kms: Arc<DirectKms>,
    service: Arc<dyn Service>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let mut env = TestEnv::new();
        let kms = Arc::new(DirectKms::new(Arc::clone(&env.root_key), env.now));
        env.calls = Arc::clone(&kms) as Arc<dyn ServiceCalls>;
        Self {
            env,
            kms,
            service: Arc::new(SecretsManager::new()),
        }
    }

    pub(crate) fn call(&self, operation: &str, input: Value) -> Result<Value, AwsError> {
        self.env.call(&self.service, operation, input)
    }

    pub(crate) fn ok(&self, operation: &str, input: Value) -> Value {
        self.call(operation, input)
            .unwrap_or_else(|e| panic!("{operation}: {} {}", e.code, e.message))
    }

    pub(crate) fn err(&self, operation: &str, input: Value) -> AwsError {
        match self.call(operation, input) {
            Ok(out) => panic!("{operation} succeeded: {out}"),
            Err(e) => e,
        }
    }

    /// Creates a secret holding `value`, with version ID `token`.
    pub(crate) fn create(&self, name: &str, value: &str, token: &str) -> Value {
        self.ok(
            "CreateSecret",
            json!({"Name": name, "SecretString": value, "ClientRequestToken": token}),
        )
    }

    /// The value of `name`'s version carrying `stage`.
    pub(crate) fn value(&self, name: &str, stage: &str) -> Value {
        self.ok(
            "GetSecretValue",
            json!({"SecretId": name, "VersionStage": stage}),
        )
    }

    /// Each labelled version's labels.
    pub(crate) fn stages(&self, name: &str) -> Value {
        self.ok("DescribeSecret", json!({"SecretId": name}))["VersionIdsToStages"].clone()
    }

    /// Every stored document, as text, for looking for plaintext at rest.
    pub(crate) fn everything_stored(&self) -> String {
        let mut all = String::new();
        self.env.read_infallible(|_, tx| {
            for ns in [
                crate::records::SECRETS,
                crate::records::VALUES,
                crate::scheduled::DELETIONS,
                "kms/keys",
            ] {
                for (key, value) in tx.scan(ns, "", None, 10_000).unwrap() {
                    all.push_str(&key);
                    all.push_str(&String::from_utf8_lossy(&value));
                }
            }
        });
        all
    }
}

/// A version ID (a ClientRequestToken), distinct per `n`.
pub(crate) fn token(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}
