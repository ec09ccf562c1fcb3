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

use std::sync::{Arc, Mutex};

use rampart_crypto::RootKey;
use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{
    AwsError, Caller, Env, Handler, NoDirectory, NoServiceCalls, OsEntropy, RateLimits, Service,
    ServiceCall, ServiceCalls, Value,
};
use rampart_store::{ReadTx, StoreError, WriteTx};
use serde_json::json;
use time::OffsetDateTime;

use crate::Ssm;

/// Runs KMS's handlers for Parameter Store's calls, as the account's root user, without
/// authorizing them; records which operations were called; refuses them all when `deny`.
pub(crate) struct DirectKms {
    kms: rampart_kms::Kms,
    root_key: Arc<RootKey>,
    now: OffsetDateTime,
    pub(crate) calls: Mutex<Vec<String>>,
    pub(crate) deny: Mutex<bool>,
}

impl DirectKms {
    fn env<'a>(&'a self, caller: &'a Caller, limits: &'a RateLimits) -> Env<'a> {
        Env {
            caller,
            region: "us-east-1",
            request_id: "kms-request",
            now: self.now,
            root_key: &self.root_key,
            entropy: &OsEntropy,
            inherited: None,
            federation: None,
            rate_limits: limits,
            calls: &NoServiceCalls,
            directory: &NoDirectory,
        }
    }

    fn refused(&self, call: &ServiceCall<'_>) -> Option<AwsError> {
        self.calls.lock().unwrap().push(call.operation.to_owned());
        (*self.deny.lock().unwrap() && call.operation != "AwsManagedKey").then(|| {
            AwsError::new(
                "AccessDeniedException",
                400,
                format!(
                    "User: alice is not authorized to perform: kms:{}",
                    call.operation
                ),
            )
        })
    }
}

impl ServiceCalls for DirectKms {
    fn call(&self, tx: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        if let Some(e) = self.refused(&call) {
            return Err(e);
        }
        let caller = Caller::root(ACCOUNT, "AKIAROOT");
        let limits = RateLimits::new();
        let env = self.env(&caller, &limits);
        match &self.kms.operation(call.operation).unwrap().handler {
            Handler::Read(h) => h(&env, tx, call.input),
            Handler::Write(_) => panic!("{} writes", call.operation),
        }
    }

    fn call_write(&self, tx: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        if let Some(e) = self.refused(&call) {
            return Err(e);
        }
        let caller = Caller::root(ACCOUNT, "AKIAROOT");
        let limits = RateLimits::new();
        let env = self.env(&caller, &limits);
        let operation = self
            .kms
            .operation(call.operation)
            .or_else(|| self.kms.internal_operation(call.operation))
            .unwrap();
        match &operation.handler {
            Handler::Read(h) => h(&env, tx, call.input),
            Handler::Write(h) => h(&env, tx, call.input),
        }
    }
}

/// A test store with Parameter Store and KMS, called as the account's root user.
pub(crate) struct Harness {
    pub(crate) env: TestEnv,
    pub(crate) kms: Arc<DirectKms>,
    ssm: Arc<Ssm>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let mut env = TestEnv::new();
        let kms = Arc::new(DirectKms {
            kms: rampart_kms::Kms::new(),
            root_key: Arc::clone(&env.root_key),
            now: env.now,
            calls: Mutex::new(Vec::new()),
            deny: Mutex::new(false),
        });
        env.calls = Arc::clone(&kms) as Arc<dyn ServiceCalls>;
        Self {
            env,
            kms,
            ssm: Arc::new(Ssm::new()),
        }
    }

    /// Calls a Parameter Store operation; its changes are kept only when it succeeds.
    pub(crate) fn call(&self, operation: &str, input: Value) -> Result<Value, AwsError> {
        let ssm = Arc::clone(&self.ssm);
        let name = operation.to_owned();
        match &self.ssm.operation(operation).unwrap().handler {
            Handler::Write(_) => self
                .env
                .write(move |env, tx| {
                    let Handler::Write(h) = &ssm.operation(&name).unwrap().handler else {
                        unreachable!()
                    };
                    Ok::<_, StoreError>(h(env, tx, input))
                })
                .unwrap(),
            Handler::Read(h) => self
                .env
                .read(|env, tx| Ok::<_, StoreError>(h(env, tx, input)))
                .unwrap(),
        }
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
