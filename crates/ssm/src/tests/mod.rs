//! Parameter Store's handlers on a real store with a fixed clock. KMS runs for real (its own
//! handlers, through a stand-in for the spine that does not authorize: the spine's
//! authorization of these calls is tested end to end, tests/python/test_ssm*.py).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod listing;
mod parameters;
mod policies;
mod secure;

use std::sync::Arc;

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Service, ServiceCalls, Value};
use serde_json::json;

use crate::Ssm;

pub(crate) use rampart_kms::testing::DirectKms;

/// A test store with Parameter Store and KMS, called as the account's root user.
pub(crate) struct Harness {
    pub(crate) env: TestEnv,
    pub(crate) kms: Arc<DirectKms>,
    ssm: Arc<dyn Service>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let mut env = TestEnv::new();
        let kms = Arc::new(DirectKms::new(Arc::clone(&env.root_key), env.now));
        env.calls = Arc::clone(&kms) as Arc<dyn ServiceCalls>;
        Self {
            env,
            kms,
            ssm: Arc::new(Ssm::new()),
        }
    }

    /// Calls a Parameter Store operation; its changes are kept only when it succeeds.
    pub(crate) fn call(&self, operation: &str, input: Value) -> Result<Value, AwsError> {
        self.env.call(&self.ssm, operation, input)
    }

    /// Calls an operation that must succeed.
    pub(crate) fn ok(&self, operation: &str, input: Value) -> Value {
        self.call(operation, input)
            .unwrap_or_else(|e| panic!("{operation}: {} {}", e.code, e.message))
    }

    /// Calls an operation that must fail, and answers its error.
    pub(crate) fn err(&self, operation: &str, input: Value) -> AwsError {
        match self.call(operation, input) {
            Ok(out) => panic!("{operation} succeeded: {out}"),
            Err(e) => e,
        }
    }

    /// Puts a String parameter.
    pub(crate) fn put(&self, name: &str, value: &str) -> Value {
        self.ok(
            "PutParameter",
            json!({"Name": name, "Value": value, "Type": "String", "Overwrite": true}),
        )
    }

    /// Every stored document, as text, for looking for plaintext at rest.
    pub(crate) fn everything_stored(&self) -> String {
        let mut all = String::new();
        self.env.read_infallible(|_, tx| {
            for ns in [
                "ssm/parameters",
                "ssm/versions",
                "ssm/timers",
                "eventbridge/events",
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
