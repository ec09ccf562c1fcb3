//! Secrets Manager's handlers on a real store with a fixed clock. KMS runs for real (its own
//! handlers), and so do Secrets Manager's calls of its own operations, through a stand-in for
//! the spine that does not authorize but refuses the secrets a test names: the spine's
//! authorization of these calls is tested end to end, tests/python/test_secretsmanager*.py.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod batch;
mod labels;
mod lifecycle;
mod rotation;
mod versions;

use std::sync::{Arc, Mutex};

use rampart_crypto::RootKey;
use rampart_kms::testing::DirectKms;
use rampart_service::testing::TestEnv;
use rampart_service::{
    AwsError, CallPrincipal, Caller, Env, Handler, NoDirectory, OsEntropy, RateLimits, Service,
    ServiceCall, ServiceCalls, Value,
};
use rampart_store::{ReadTx, WriteTx};
use serde_json::json;
use time::OffsetDateTime;

use crate::SecretsManager;

/// The spine, as these tests need it: KMS's calls to [`DirectKms`]; Secrets Manager's calls
/// of its own operations to its handlers, as the root user, refusing the secrets in `refused`
/// as the spine refuses a caller its policies do not allow.
pub(crate) struct TestSpine {
    kms: Arc<DirectKms>,
    service: SecretsManager,
    root_key: Arc<RootKey>,
    now: OffsetDateTime,
    /// The secrets (as named in the call) the caller may not read.
    pub(crate) refused: Mutex<Vec<String>>,
    /// Each call of a Secrets Manager operation: its name, input and principal.
    pub(crate) own_calls: Mutex<Vec<(String, Value, CallPrincipal<'static>)>>,
}

impl TestSpine {
    fn own(&self, tx: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        let principal = match call.principal {
            CallPrincipal::CallerItself => CallPrincipal::CallerItself,
            _ => CallPrincipal::OnBehalfOfCaller,
        };
        self.own_calls.lock().unwrap().push((
            call.operation.to_owned(),
            call.input.clone(),
            principal,
        ));
        let id = call.input["SecretId"].as_str().unwrap_or_default();
        if self.refused.lock().unwrap().iter().any(|r| r == id) {
            return Err(AwsError::new(
                "AccessDeniedException",
                400,
                format!(
                    "User: root is not authorized to perform: secretsmanager:{}",
                    call.operation
                ),
            ));
        }
        let caller = Caller::root(rampart_service::testing::ACCOUNT, "AKIAROOT");
        let limits = RateLimits::new();
        let env = Env {
            caller: &caller,
            region: "us-east-1",
            request_id: "own-request",
            now: self.now,
            root_key: &self.root_key,
            entropy: &OsEntropy,
            inherited: None,
            federation: None,
            rate_limits: &limits,
            calls: self,
            directory: &NoDirectory,
        };
        match &self.service.operation(call.operation).unwrap().handler {
            Handler::Read(h) => h(&env, tx, call.input),
            Handler::Write(_) => panic!("{} writes", call.operation),
        }
    }
}

impl ServiceCalls for TestSpine {
    fn call(&self, tx: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        match call.service {
            "secretsmanager" => self.own(tx, call),
            _ => self.kms.call(tx, call),
        }
    }

    fn call_write(&self, tx: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        match call.service {
            "secretsmanager" => self.own(tx, call),
            _ => self.kms.call_write(tx, call),
        }
    }
}

/// A test store with Secrets Manager and KMS, called as the account's root user.
pub(crate) struct Harness {
    pub(crate) env: TestEnv,
    pub(crate) kms: Arc<DirectKms>,
    pub(crate) spine: Arc<TestSpine>,
    service: Arc<dyn Service>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let mut env = TestEnv::new();
        let kms = Arc::new(DirectKms::new(Arc::clone(&env.root_key), env.now));
        let spine = Arc::new(TestSpine {
            kms: Arc::clone(&kms),
            service: SecretsManager::new(),
            root_key: Arc::clone(&env.root_key),
            now: env.now,
            refused: Mutex::new(Vec::new()),
            own_calls: Mutex::new(Vec::new()),
        });
        env.calls = Arc::clone(&spine) as Arc<dyn ServiceCalls>;
        Self {
            env,
            kms,
            spine,
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
