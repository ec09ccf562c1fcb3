//! What a service declares to the spine besides its operations: the facts the spine needs
//! about its events, its authorization and the work it does after a call. The spine names no
//! service; it asks each of these.

use std::collections::HashMap;

use rampart_store::{StoreError, WriteTx};
use time::OffsetDateTime;

use crate::{EventShaper, EventStyle, Operation, Timers, Value};

/// An AWS service as the registry sees it.
pub trait Service: Send + Sync {
    /// The endpoint prefix / API model name, e.g. `sts`; also the service part of its ARNs.
    fn name(&self) -> &'static str;
    /// CloudTrail's `eventSource`, e.g. `sts.amazonaws.com`.
    fn event_source(&self) -> &'static str;
    /// The operation called `name`, if this service implements it.
    fn operation(&self, name: &str) -> Option<&Operation>;
    /// The names of the operations this service implements.
    fn operation_names(&self) -> Vec<&'static str>;

    /// An operation other services may call through the spine but no client can (it is in
    /// no API model): work AWS does inside a service on another's behalf, such as KMS making
    /// the AWS managed key `alias/aws/ssm` when Parameter Store first needs it. Unaudited, as
    /// AWS records no event for it; its action is never evaluated.
    fn internal_operation(&self, name: &str) -> Option<&Operation> {
        let _ = name;
        None
    }

    /// Whether this service's writes change the organization guardrails authorization
    /// caches per account (SCPs, RCPs, an account's place in its organization). Only AWS
    /// Organizations' do.
    fn changes_guardrails(&self) -> bool {
        false
    }

    /// Whether the service is global: CloudTrail records its events in us-east-1 whatever
    /// region the client signed for (IAM, Organizations).
    fn global(&self) -> bool {
        false
    }

    /// Whether resource control policies guard the service's resources (AWS's list of
    /// RCP-supported services).
    fn guarded_by_resource_control_policies(&self) -> bool {
        false
    }

    /// The CloudTrail resource an ARN of this service names (its `resources` entry and what
    /// LookupEvents finds it by), or `None` for an ARN CloudTrail records no type for.
    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let _ = arn;
        None
    }

    /// How CloudTrail names the members of this service's events and writes the timestamps
    /// of its responses (see [`EventStyle`]).
    fn event_style(&self) -> EventStyle {
        EventStyle::default()
    }

    /// What AWS records differently in this service's events, per operation, from what the
    /// model alone gives (see [`crate::recorded`]); `None` when nothing differs.
    fn event_shaper(&self) -> Option<EventShaper> {
        None
    }

    /// Whether a call on a resource of another account is recorded in that account too, as
    /// AWS delivers cross-account STS and KMS events to both accounts.
    fn records_in_resource_owner_accounts(&self) -> bool {
        false
    }

    /// The condition keys a call this service receives through another service carries, as
    /// the service names them (`kms:ViaService` = `ssm.us-east-1.amazonaws.com`).
    fn via_service_keys(&self, via: &str) -> Vec<(String, Vec<String>)> {
        let _ = via;
        Vec::new()
    }

    /// The error code the service answers a denial with, where it is not the protocol's
    /// usual one (SNS names it `AuthorizationError`); `None` for the usual one.
    fn denial_code(&self) -> Option<&'static str> {
        None
    }

    /// A document the service serves unsigned on Rampart's endpoint at
    /// `/_rampart/<service>/<name>` (SNS's signing certificate), with its content type.
    fn public_document(
        &self,
        tx: &mut dyn rampart_store::ReadTx,
        name: &str,
    ) -> Option<(&'static str, Vec<u8>)> {
        let _ = (tx, name);
        None
    }

    /// Work to do after a successful call, in the transaction that records its event (KMS's
    /// key last-use).
    fn after_success(&self, call: &CompletedCall<'_>) -> Option<AfterSuccess> {
        let _ = call;
        None
    }

    /// Work the service does by itself when it falls due (Parameter Store's parameter
    /// policies, Secrets Manager's scheduled rotations), which the server's scheduler runs as
    /// the service's own principal; `None` for a service that has none.
    fn timers(&self) -> Option<&dyn Timers> {
        None
    }

    /// Rewrites what an earlier Rampart stored in a form this one no longer reads. The server
    /// runs it once at each start, in a transaction of its own, before serving: it must find
    /// quickly that there is nothing left to do, and be safe to run again.
    fn upgrade_stored(&self, tx: &mut dyn WriteTx) -> Result<(), StoreError> {
        let _ = tx;
        Ok(())
    }
}

/// A resource as a CloudTrail event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventResource<'a> {
    /// The CloudTrail resource type, e.g. `AWS::IAM::Role`.
    pub kind: &'static str,
    /// What LookupEvents finds it by (IAM entities by name, the rest by ARN).
    pub name: &'a str,
    /// The account that owns it.
    pub account: &'a str,
}

impl<'a> EventResource<'a> {
    /// An ARN's parts, `arn:partition:service:region:account:resource`, when it is one.
    pub fn parts(arn: &'a str) -> Option<ArnParts<'a>> {
        let mut parts = arn.splitn(6, ':');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("arn"), Some(_), Some(service), Some(region), Some(account), Some(resource)) => {
                Some(ArnParts {
                    service,
                    region,
                    account,
                    resource,
                })
            }
            _ => None,
        }
    }
}

/// The parts of an ARN a service reads to type it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// The service namespace, e.g. `iam`.
    pub service: &'a str,
    /// The region (empty for global services).
    pub region: &'a str,
    /// The owning account (or `aws`).
    pub account: &'a str,
    /// Everything after the account, e.g. `role/admin/Protected`.
    pub resource: &'a str,
}

/// A call that succeeded, as a service's [`Service::after_success`] sees it.
pub struct CompletedCall<'a> {
    /// The operation's name, e.g. `Encrypt`.
    pub operation: &'a str,
    /// The resources the call was authorized on (ARNs).
    pub resources: &'a [String],
    /// When it was made.
    pub time: OffsetDateTime,
    /// Its request ID.
    pub request_id: &'a str,
    /// The ID of the event recording it in `account`'s trail (a cross-account call has one
    /// event per account).
    pub event_id_in: &'a dyn Fn(&str) -> String,
    /// What the handler answered (Secrets Manager notes the version a read returned).
    pub output: &'a Value,
}

/// Work a service does in the transaction that records a successful call's event.
pub type AfterSuccess = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), StoreError> + Send>;

/// A service's operations, found by name in constant time.
pub struct Operations {
    list: Vec<Operation>,
    by_name: HashMap<&'static str, usize>,
}

impl Operations {
    /// The operations `list`; a name given twice keeps its first operation.
    pub fn new(list: Vec<Operation>) -> Self {
        let mut by_name = HashMap::with_capacity(list.len());
        for (index, operation) in list.iter().enumerate() {
            by_name.entry(operation.name).or_insert(index);
        }
        Self { list, by_name }
    }

    /// The operation called `name`.
    pub fn get(&self, name: &str) -> Option<&Operation> {
        self.by_name.get(name).and_then(|&i| self.list.get(i))
    }

    /// Every operation's name.
    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|op| op.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_their_parts() {
        let parts = EventResource::parts("arn:aws:iam::123456789012:role/admin/Protected").unwrap();
        assert_eq!(
            (parts.service, parts.region, parts.account, parts.resource),
            ("iam", "", "123456789012", "role/admin/Protected")
        );
        assert_eq!(EventResource::parts("*"), None);
    }
}
