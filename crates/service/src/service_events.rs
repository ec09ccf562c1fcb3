//! Events a service records of what it does by itself, not in answer to an API call: CloudTrail
//! writes them with `eventType` `AwsServiceEvent` (a KMS key rotated on schedule, a secret's
//! rotation succeeding, a secret's recovery window ending). See CloudTrail's "AWS service
//! events" page. A handler or a timer describes one ([`ServiceEvent`]) and hands it to
//! [`crate::ServiceCalls::record_event`]; the spine writes it in the transaction of the work it
//! describes, and only if that work commits.

use rampart_wire::Value;

/// Who `userIdentity.invokedBy` (and the event's source address and user agent) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceEventSource {
    /// `AWS Internal`, as KMS writes its RotateKey and DeleteKey events.
    AwsInternal,
    /// The recording service's own principal (`secretsmanager.amazonaws.com`), as Secrets
    /// Manager writes its rotation and deletion events.
    Service,
}

/// One service event, as the service describes it; the spine adds the event's ID, time,
/// source and the envelope every CloudTrail event has.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    /// The recording service's endpoint prefix (`kms`): the spine names its `eventSource`.
    pub service: &'static str,
    /// `eventName`, e.g. `RotationSucceeded`.
    pub name: &'static str,
    /// The account the event is recorded in (`userIdentity.accountId`, `recipientAccountId`).
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// Who the event says did it.
    pub source: ServiceEventSource,
    /// The ARNs of the resources the event lists in `resources` (none for Secrets Manager's,
    /// which name the secret in `additionalEventData`).
    pub resources: Vec<String>,
    /// `requestID`, where the service writes one (Secrets Manager's rotations).
    pub request_id: Option<String>,
    /// `serviceEventDetails`.
    pub details: Option<Value>,
    /// `additionalEventData`.
    pub additional: Option<Value>,
    /// `responseElements` (`null` when `None`).
    pub response: Option<Value>,
    /// `errorMessage`, for events of work that failed.
    pub error_message: Option<String>,
}

impl ServiceEvent {
    /// `service`'s event named `name` in `account` and `region`, with nothing else set.
    pub fn new(
        service: &'static str,
        name: &'static str,
        account: impl Into<String>,
        region: impl Into<String>,
        source: ServiceEventSource,
    ) -> Self {
        Self {
            service,
            name,
            account: account.into(),
            region: region.into(),
            source,
            resources: Vec::new(),
            request_id: None,
            details: None,
            additional: None,
            response: None,
            error_message: None,
        }
    }
}
