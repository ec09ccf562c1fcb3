//! KMS for other services' unit tests: runs KMS's own handlers for the calls a service makes
//! through the spine, as the account's root user, without authorizing them (the spine's
//! authorization of those calls is tested end to end). Behind the `testing` feature, which only
//! dev-dependencies turn on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support"
)]

use std::sync::{Arc, Mutex};

use rampart_crypto::RootKey;
use rampart_service::testing::ACCOUNT;
use rampart_service::{
    AwsError, Caller, Env, Handler, NoDirectory, NoServiceCalls, OsEntropy, RateLimits, Service,
    ServiceCall, ServiceCalls, Value,
};
use rampart_store::{ReadTx, WriteTx};
use time::OffsetDateTime;

use crate::Kms;

/// Runs KMS's handlers for a service's calls; records which operations were called; refuses
/// them all (but the AWS managed key's making) when `deny`.
pub struct DirectKms {
    kms: Kms,
    root_key: Arc<RootKey>,
    now: OffsetDateTime,
    /// The operations called, in order.
    pub calls: Mutex<Vec<String>>,
    /// Whether KMS refuses the caller.
    pub deny: Mutex<bool>,
}

impl DirectKms {
    /// KMS over `root_key` at `now`.
    pub fn new(root_key: Arc<RootKey>, now: OffsetDateTime) -> Self {
        Self {
            kms: Kms::new(),
            root_key,
            now,
            calls: Mutex::new(Vec::new()),
            deny: Mutex::new(false),
        }
    }

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
