//! Calls one service makes to another, as AWS's services call each other: on behalf of the
//! request's caller (Parameter Store encrypting a SecureString with the caller's KMS key, under
//! `kms:ViaService`), or as the calling service's own principal (CloudTrail asking KMS for the
//! data key of a log file). The spine runs them: it authorizes the call as AWS would (the
//! callee's resource policy, the caller's identity policies, guardrails), runs the callee's
//! handler on the calling request's transaction, and records the callee's event (with
//! `invokedBy`) beside the calling request's. A handler never evaluates another service's
//! policies itself.

use rampart_store::{ReadTx, WriteTx};
use rampart_wire::{AwsError, Value};
use serde::{Deserialize, Serialize};

use crate::{Caller, PrincipalKind, ServiceEvent};

/// One call of another service's operation.
#[derive(Debug, Clone)]
pub struct ServiceCall<'a> {
    /// The called service's endpoint prefix, e.g. `kms`.
    pub service: &'a str,
    /// The operation, e.g. `GenerateDataKey`.
    pub operation: &'a str,
    /// Its input, as the API model names the members.
    pub input: Value,
    /// Who makes it.
    pub principal: CallPrincipal<'a>,
}

/// Who a service's call to another service runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPrincipal<'a> {
    /// The calling request's caller, through the calling service: the callee sees the
    /// caller's identity and `kms:ViaService` = `<calling service>.<region>.amazonaws.com`;
    /// its event names the caller, invoked by the calling service.
    OnBehalfOfCaller,
    /// The calling request's caller itself, for one item of a batch that AWS authorizes and
    /// records as the caller's own call of another operation (BatchGetSecretValue's
    /// GetSecretValue on each secret): the caller's identity, session and guardrails, the
    /// request's source IP and user agent, no via-service keys; its event is the caller's,
    /// invoked by no service.
    CallerItself,
    /// A service's own principal (`cloudtrail.amazonaws.com`), acting for one of its
    /// resources: only a resource policy can allow it, with `aws:SourceArn` and
    /// `aws:SourceAccount` naming the resource; `via` names a service that makes the call on
    /// its behalf (`s3.us-east-1.amazonaws.com` writing CloudTrail's objects).
    Service {
        /// The service principal, e.g. `cloudtrail.amazonaws.com`.
        principal: &'a str,
        /// The resource the service acts for (`aws:SourceArn`).
        source_arn: &'a str,
        /// That resource's account (`aws:SourceAccount`).
        source_account: &'a str,
        /// The service that makes the call on the principal's behalf, as `kms:ViaService`
        /// names it.
        via: Option<&'a str>,
    },
    /// A principal of an account, with its permissions as they are when the call runs,
    /// through the calling service: what a Lambda function's calls are, made with its execution
    /// role. Work a principal set up that runs later (a secret's scheduled rotation by
    /// Rampart's built-in function) runs so: the callee sees that principal and
    /// `kms:ViaService`; its event names the principal, invoked by the calling service. A
    /// principal deleted since (or replaced by another of the same name) is refused.
    Principal {
        /// Who, by unique ID.
        principal: &'a RunAs,
        /// For a role: the name of the session it runs in (AWS names a Lambda function's
        /// sessions after the function).
        session_name: &'a str,
    },
}

/// A principal that later work runs as, named by its unique ID so that it never becomes
/// another principal that took the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAs {
    /// The principal's account.
    pub account: String,
    /// The account ID for the root user, `AIDA…` for an IAM user, `AROA…` for a role.
    pub unique_id: String,
}

impl RunAs {
    /// Who later work set up by `caller` runs as: the caller itself for root and IAM users,
    /// the role for a role session. `None` for principals that no later work can be (a
    /// federated user, whose permissions live only in its session, or a service).
    pub fn of(caller: &Caller) -> Option<Self> {
        let unique_id = match caller.kind {
            PrincipalKind::Root => caller.account_id.clone(),
            PrincipalKind::IamUser => caller.principal_id.clone(),
            PrincipalKind::AssumedRole => caller.principal_id.split_once(':')?.0.to_owned(),
            _ => return None,
        };
        Some(Self {
            account: caller.account_id.clone(),
            unique_id,
        })
    }

    /// Whether this is an account's root user.
    pub fn is_root(&self) -> bool {
        self.unique_id == self.account
    }
}

/// What runs a handler's calls to other services.
pub trait ServiceCalls: Send + Sync {
    /// Runs `call` on `tx`, the calling request's own snapshot or transaction, and returns
    /// the callee's output or its error (an AccessDenied included), as AWS would answer it.
    /// The callee must be an operation that only reads.
    fn call(&self, tx: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError>;

    /// [`ServiceCalls::call`] from a handler that writes: the callee may write too, in the
    /// calling request's transaction, so both changes commit or neither does. The callee may
    /// also be one of its service's internal operations ([`crate::Service::internal_operation`]).
    fn call_write(&self, tx: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError>;

    /// Records `event` of work the service did by itself ([`ServiceEvent`]), in the calling
    /// request's (or scheduled item's) transaction: it is written only if that work commits.
    /// Contexts that journal nothing (unit tests of a handler) drop it.
    fn record_event(&self, event: ServiceEvent) {
        let _ = event;
    }
}

/// For contexts with no spine to run calls (unit tests of a service that makes none): every
/// call is refused, naming it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoServiceCalls;

impl ServiceCalls for NoServiceCalls {
    fn call(&self, _: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        Err(no_spine(&call))
    }

    fn call_write(&self, _: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        Err(no_spine(&call))
    }
}

fn no_spine(call: &ServiceCall<'_>) -> AwsError {
    AwsError::new(
        "InternalFailure",
        500,
        format!(
            "{}:{} was called where no spine runs service calls",
            call.service, call.operation
        ),
    )
}
