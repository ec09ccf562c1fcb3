//! Audit: every call becomes a CloudTrail-format event, appended to the journal in the same
//! transaction as the call's changes (the full CloudTrail service builds on this journal).

use rampart_service::recorded::{EventShaper, EventStyle};
use rampart_service::{Caller, PrincipalKind, RecordedCall, aws_timestamp};
use rampart_store::JournalAppend;
use rampart_wire::{AwsError, Value};
use serde::Serialize;
use time::OffsetDateTime;

/// CloudTrail's record format version that these events follow.
const EVENT_VERSION: &str = "1.11";

/// CloudTrail keeps at most 1 KB of `userAgent` and of `errorMessage`, truncating the rest;
/// so does Rampart, which also bounds what one request can make its event weigh.
const MAX_RECORDED_TEXT_BYTES: usize = 1024;

/// The longest access key ID AWS's models allow (`accessKeyIdType`); a longer "key ID" in a
/// signature that failed is recorded by this prefix.
const MAX_ACCESS_KEY_ID_BYTES: usize = 128;

/// What a failed authentication's event says instead of a malformed-signature message: those
/// messages quote the request's `Authorization` header or query parameters, which are request
/// material, and only the access key ID of a failed authentication belongs in the trail.
const MALFORMED_SIGNATURE_RECORDED: &str = "The request's signature is incomplete or malformed (its Authorization header or query \
     parameters are not recorded).";

/// Where Rampart's own operations (not AWS's) are recorded, such as a reset of all state.
pub(crate) const RAMPART_EVENT_SOURCE: &str = "rampart.local";

/// What the audit step knows about a call, gathered along the spine.
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    pub(crate) request_id: String,
    pub(crate) event_id: String,
    pub(crate) event_time: OffsetDateTime,
    pub(crate) event_source: String,
    pub(crate) event_name: String,
    pub(crate) region: String,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
    /// The key that signed the request, even when authentication then failed.
    pub(crate) access_key_id: Option<String>,
    pub(crate) caller: Option<Caller>,
    /// The input with sensitive members hidden.
    pub(crate) request_parameters: Option<Value>,
    /// The event's `readOnly`.
    pub(crate) read_only: bool,
    /// Whether a successful call's response is recorded (`responseElements`), as AWS does
    /// for changes and for the reads that hand out credentials.
    pub(crate) records_response: bool,
    /// Usage to record with the event (key last used, service last accessed).
    pub(crate) usage: Option<crate::usage::Usage>,
    /// What the event says about the caller's temporary credentials, if any.
    pub(crate) session: Option<SessionFacts>,
    /// The resources (ARNs) the operation named for the authorize step.
    pub(crate) resources: Vec<String>,
    /// Those of them the event names, typed by the service whose ARNs they are.
    pub(crate) event_resources: Vec<RecordedResource>,
    /// What the call's service declares that the spine needs.
    pub(crate) facts: ServiceFacts,
    /// For web identity and SAML users: `userIdentity.identityProvider`.
    pub(crate) identity_provider: Option<String>,
    /// The account an unauthenticated call was addressed to (a refused web identity token's
    /// role account), where its event belongs.
    pub(crate) recipient_account: Option<String>,
    /// For a call an AWS service made itself (CloudTrail's data keys for its log files): the
    /// service, named as `userIdentity.invokedBy`.
    pub(crate) invoked_by: Option<String>,
}

/// What a service declares that the spine needs about its calls (see
/// [`rampart_service::Service`]); all `false` for a call no service serves.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServiceFacts {
    /// Its events are recorded in us-east-1 (a global service).
    pub(crate) global: bool,
    /// A call on another account's resource is recorded in that account too.
    pub(crate) shared_with_resource_owners: bool,
    /// Resource control policies guard its resources.
    pub(crate) guarded_by_rcps: bool,
    /// How its events name members and write response timestamps.
    pub(crate) style: EventStyle,
    /// What AWS records differently in its events, per operation.
    pub(crate) shaper: Option<EventShaper>,
    /// The code its denials answer, where not the protocol's usual one.
    pub(crate) denial_code: Option<&'static str>,
}

impl ServiceFacts {
    pub(crate) fn of(service: &dyn rampart_service::Service) -> Self {
        Self {
            global: service.global(),
            shared_with_resource_owners: service.records_in_resource_owner_accounts(),
            guarded_by_rcps: service.guarded_by_resource_control_policies(),
            style: service.event_style(),
            shaper: service.event_shaper(),
            denial_code: service.denial_code(),
        }
    }
}

/// A resource as the event names it: its ARN, CloudTrail type, the name LookupEvents finds it
/// by, and its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedResource {
    pub(crate) arn: String,
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) account: String,
}

impl RecordedResource {
    /// The resources of `arns` their services type, in order.
    pub(crate) fn of(arns: &[String], registry: &crate::Registry) -> Vec<Self> {
        arns.iter()
            .filter_map(|arn| {
                registry.event_resource(arn).map(|r| Self {
                    arn: arn.clone(),
                    kind: r.kind,
                    name: r.name.to_owned(),
                    account: r.account.to_owned(),
                })
            })
            .collect()
    }
}

/// The part of a session an event reports: never its secret or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionFacts {
    creation_date: String,
    mfa_authenticated: bool,
    issuer: Option<Issuer>,
    source_identity: Option<String>,
    /// For role sessions: the OIDC provider that vouched for the session's maker
    /// (`webIdFederationData.federatedProvider`), if any.
    federated_provider: Option<String>,
}

/// Who issued a session: the role assumed, or the user a federation token was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Issuer {
    kind: &'static str,
    principal_id: Option<String>,
    arn: String,
    account_id: String,
    user_name: String,
}

impl SessionFacts {
    /// The facts of `session`, the sealed session the request was signed with.
    pub(crate) fn of(session: &rampart_sts::Session) -> Self {
        let caller = &session.caller;
        let issuer = match (caller.kind, &session.role_arn, &session.role_name) {
            (PrincipalKind::AssumedRole, Some(arn), Some(name)) => Some(Issuer {
                kind: "Role",
                // A role session's principal ID is `<role id>:<session name>`.
                principal_id: caller
                    .principal_id
                    .split_once(':')
                    .map(|(role_id, _)| role_id.to_owned()),
                arn: arn.clone(),
                account_id: caller.account_id.clone(),
                user_name: name.clone(),
            }),
            (PrincipalKind::FederatedUser, _, _) => {
                let user = session.user_name.clone();
                Some(Issuer {
                    kind: if user.is_some() { "IAMUser" } else { "Root" },
                    principal_id: None,
                    arn: match &user {
                        Some(name) => format!("arn:aws:iam::{}:user/{name}", caller.account_id),
                        None => format!("arn:aws:iam::{}:root", caller.account_id),
                    },
                    account_id: caller.account_id.clone(),
                    user_name: user.unwrap_or_else(|| "root".to_owned()),
                })
            }
            _ => None,
        };
        let created = OffsetDateTime::from_unix_timestamp(session.issued_at)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self {
            creation_date: aws_timestamp(created),
            mfa_authenticated: session.mfa_authenticated,
            issuer,
            source_identity: session.source_identity.clone(),
            federated_provider: session.web_identity_provider.clone(),
        }
    }
}

/// An event ready for the journal: its JSON and the attributes lookups search by.
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent {
    event: Vec<u8>,
    event_time: i64,
    account: Option<String>,
    event_id: String,
    event_name: String,
    event_source: String,
    username: Option<String>,
    access_key_id: Option<String>,
    read_only: bool,
    resources: Vec<(String, String)>,
    /// The copies delivered to the other accounts that own the call's resources (a role
    /// assumed or a KMS key used across accounts), each with its own event ID.
    copies: Vec<AuditEvent>,
}

impl AuditEvent {
    /// Every journal entry of the call: the caller's event, then the resource owners' copies.
    pub(crate) fn entries(&self) -> impl Iterator<Item = JournalAppend<'_>> {
        std::iter::once(self.entry()).chain(self.copies.iter().map(AuditEvent::entry))
    }

    /// Whether the call makes one journal entry only.
    pub(crate) fn is_single(&self) -> bool {
        self.copies.is_empty()
    }

    /// What the store appends for this copy.
    pub(crate) fn entry(&self) -> JournalAppend<'_> {
        JournalAppend {
            event: &self.event,
            event_time: self.event_time,
            account: self.account.as_deref(),
            event_id: &self.event_id,
            event_name: &self.event_name,
            event_source: &self.event_source,
            username: self.username.as_deref(),
            access_key_id: self.access_key_id.as_deref(),
            read_only: self.read_only,
            resources: &self.resources,
        }
    }

    /// The event's JSON.
    #[cfg(test)]
    pub(crate) fn json(&self) -> &[u8] {
        &self.event
    }
}

/// Which copy of a call's event is being written: its ID, its recipient account, the ID the
/// copies share (when there are several), and whether it is a resource owner's copy.
struct EventCopy<'a> {
    event_id: &'a str,
    recipient: Option<&'a str>,
    shared_event_id: Option<&'a str>,
    for_owner: bool,
}

/// One CloudTrail event, serialized straight from borrowed fields (no intermediate JSON
/// maps). Fields are declared in sorted order, the order the event's former
/// `serde_json::Map` (a `BTreeMap`) wrote them in.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<&'a serde_json::Map<String, Value>>,
    aws_region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    event_category: &'static str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    event_name: &'a str,
    event_source: &'a str,
    event_time: String,
    event_type: &'static str,
    event_version: &'static str,
    management_event: bool,
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_account_id: Option<&'a str>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    /// `None` is written as `null`, as CloudTrail does.
    request_parameters: Option<&'a Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
    response_elements: Option<&'a Value>,
    #[serde(rename = "sharedEventID", skip_serializing_if = "Option::is_none")]
    shared_event_id: Option<&'a str>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    user_identity: UserIdentity<'a>,
}

/// The event's `userIdentity`, fields in sorted order like [`Event`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
}

/// `userIdentity.sessionContext`, for calls made with temporary credentials.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    attributes: SessionAttributes<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_issuer: Option<SessionIssuer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<&'a str>,
    /// Role sessions only: `{}`, or the OIDC provider behind a web identity session.
    #[serde(skip_serializing_if = "Option::is_none")]
    web_id_federation_data: Option<WebIdFederationData<'a>>,
}

/// `sessionContext.webIdFederationData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebIdFederationData<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<serde_json::Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    federated_provider: Option<&'a str>,
}

/// CloudTrail writes both attributes as strings (`"false"`, an ISO 8601 time).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes<'a> {
    creation_date: &'a str,
    mfa_authenticated: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    account_id: &'a str,
    arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    user_name: &'a str,
}

/// One entry of the event's `resources`.
#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "ARN")]
    arn: &'a str,
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The region CloudTrail records: a global service's events (IAM's, Organizations') are
/// recorded in us-east-1, whatever region the client signed for.
fn recorded_region(global: bool, signed: &str) -> &str {
    if global { "us-east-1" } else { signed }
}

impl CallRecord {
    /// The event for this call, given its outcome (the output with sensitive members
    /// hidden, or the error), with the attributes lookups search by.
    pub(crate) fn event(&self, outcome: Result<Option<&Value>, &AwsError>) -> AuditEvent {
        self.event_noting(outcome, 0)
    }

    /// As [`Self::event`], for a failed unauthenticated call that follows `unrecorded` others
    /// from its source that were counted but not recorded.
    pub(crate) fn event_noting(
        &self,
        outcome: Result<Option<&Value>, &AwsError>,
        unrecorded: u64,
    ) -> AuditEvent {
        let mut recorded = self.recorded(outcome);
        if unrecorded > 0 {
            // A failed unauthenticated call's event: how many more such calls from the same
            // source were counted but not recorded before it.
            recorded.additional_event_data.insert(
                "unrecordedAuthenticationFailures".to_owned(),
                Value::from(unrecorded),
            );
        }
        let error = outcome.err();
        let resources: Vec<_> = self
            .event_resources
            .iter()
            .map(|r| (&r.arn, r.kind, r.name.as_str(), r.account.as_str()))
            .collect();
        let lookup_resources: Vec<(String, String)> = resources
            .iter()
            .map(|(_, kind, name, _)| ((*kind).to_owned(), (*name).to_owned()))
            .collect();
        let owners = self.other_owners(&resources);
        let shared_event_id = (!owners.is_empty()).then(crate::pipeline::new_id);
        let copies = owners
            .iter()
            .map(|owner| {
                let event_id = crate::pipeline::new_id();
                let copy = EventCopy {
                    event_id: &event_id,
                    recipient: Some(owner),
                    shared_event_id: shared_event_id.as_deref(),
                    for_owner: true,
                };
                AuditEvent {
                    event: self.event_json(&recorded, error, &resources, &copy),
                    event_time: self.event_time.unix_timestamp(),
                    account: Some((*owner).to_owned()),
                    event_id: event_id.clone(),
                    event_name: self.event_name.clone(),
                    event_source: self.event_source.clone(),
                    username: None,
                    access_key_id: None,
                    read_only: self.read_only,
                    resources: lookup_resources.clone(),
                    copies: Vec::new(),
                }
            })
            .collect();
        let own = EventCopy {
            event_id: &self.event_id,
            recipient: self.recipient_account(),
            shared_event_id: shared_event_id.as_deref(),
            for_owner: false,
        };
        AuditEvent {
            event: self.event_json(&recorded, error, &resources, &own),
            event_time: self.event_time.unix_timestamp(),
            account: self.recipient_account().map(str::to_owned),
            event_id: self.event_id.clone(),
            event_name: self.event_name.clone(),
            event_source: self.event_source.clone(),
            username: self.caller.as_ref().map(lookup_username),
            access_key_id: self
                .caller
                .as_ref()
                .map(|c| c.access_key_id.clone())
                .filter(|key| !key.is_empty())
                .or_else(|| self.claimed_access_key_id().map(str::to_owned)),
            read_only: self.read_only,
            resources: lookup_resources,
            copies,
        }
    }

    /// The accounts other than the caller's that own a resource of the call, for the services
    /// whose cross-account calls AWS logs in both accounts (a role assumed, a key used from
    /// another account).
    fn other_owners<'r>(
        &self,
        resources: &[(&String, &'static str, &str, &'r str)],
    ) -> Vec<&'r str> {
        let Some(caller) = &self.caller else {
            return Vec::new();
        };
        if caller.is_federated_by_provider() || !self.facts.shared_with_resource_owners {
            return Vec::new();
        }
        let mut owners: Vec<&str> = Vec::new();
        for (_, _, _, account) in resources {
            let is_account_id = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            if is_account_id && *account != caller.account_id && !owners.contains(account) {
                owners.push(account);
            }
        }
        owners
    }

    /// What the event records of the call's input and output, as AWS records them for its
    /// service: the service's adjustments applied, and no session token left in it.
    fn recorded(&self, outcome: Result<Option<&Value>, &AwsError>) -> RecordedCall {
        let mut call = RecordedCall {
            operation: self.event_name.clone(),
            succeeded: outcome.is_ok(),
            request_parameters: self.request_parameters.clone(),
            response_elements: outcome.ok().flatten().cloned(),
            additional_event_data: serde_json::Map::new(),
        };
        if let Some(shape) = self.facts.shaper {
            shape(&mut call);
        }
        // Session tokens are bearer credentials the API model does not mark sensitive (AWS
        // records them): hide them here, so no event (and no trail file) ever carries one.
        if let Some(response) = &mut call.response_elements {
            hide_session_tokens(response);
        }
        call
    }

    fn event_json(
        &self,
        recorded: &RecordedCall,
        error: Option<&AwsError>,
        resources: &[(&String, &'static str, &str, &str)],
        copy: &EventCopy<'_>,
    ) -> Vec<u8> {
        // Most reads' responses are not recorded: AWS writes `null` for them.
        let response_elements = match error {
            None if self.records_response => non_empty(recorded.response_elements.as_ref()),
            _ => None,
        };
        let additional = &recorded.additional_event_data;
        let event = Event {
            additional_event_data: (!additional.is_empty()).then_some(additional),
            aws_region: recorded_region(self.facts.global, &self.region),
            // CloudTrail records every denial as `AccessDenied`, also for the JSON services
            // whose callers get `AccessDeniedException`.
            error_code: error.map(|e| match e.code.as_ref() {
                "AccessDeniedException" => "AccessDenied",
                code => code,
            }),
            error_message: error.map(|e| self.recorded_error_message(e)),
            event_category: "Management",
            event_id: copy.event_id,
            event_name: &self.event_name,
            event_source: &self.event_source,
            event_time: aws_timestamp(self.event_time),
            event_type: "AwsApiCall",
            event_version: EVENT_VERSION,
            management_event: true,
            read_only: self.read_only,
            recipient_account_id: copy.recipient,
            request_id: &self.request_id,
            request_parameters: non_empty(recorded.request_parameters.as_ref()),
            resources: resources
                .iter()
                .map(|(arn, kind, _, account)| Resource {
                    arn,
                    account_id: account,
                    kind,
                })
                .collect(),
            response_elements,
            shared_event_id: copy.shared_event_id,
            source_ip_address: &self.source_ip,
            user_agent: prefix(&self.user_agent, MAX_RECORDED_TEXT_BYTES),
            user_identity: if copy.for_owner {
                self.other_account_identity()
            } else {
                self.user_identity()
            },
        };
        serde_json::to_vec(&event).unwrap_or_default()
    }

    /// The error message as the event records it: at most 1 KB, and for a call that failed
    /// authentication, never the request material a malformed-signature message quotes.
    fn recorded_error_message<'e>(&self, error: &'e AwsError) -> &'e str {
        let malformed_signature = matches!(
            error.code.as_ref(),
            "IncompleteSignature" | "IncompleteSignatureException"
        );
        if self.caller.is_none() && malformed_signature {
            return MALFORMED_SIGNATURE_RECORDED;
        }
        prefix(&error.message, MAX_RECORDED_TEXT_BYTES)
    }

    /// The access key ID a failed signature claimed, bounded by the longest one AWS allows.
    fn claimed_access_key_id(&self) -> Option<&str> {
        self.access_key_id
            .as_deref()
            .map(|key| prefix(key, MAX_ACCESS_KEY_ID_BYTES))
    }

    /// The caller's account, or the one an unauthenticated call was addressed to.
    fn recipient_account(&self) -> Option<&str> {
        self.caller
            .as_ref()
            .map(|c| c.account_id.as_str())
            .or(self.recipient_account.as_deref())
    }

    /// The caller as the owner of a resource it used from another account sees it: by its
    /// account and principal ID only (`"type": "AWSAccount"`).
    fn other_account_identity(&self) -> UserIdentity<'_> {
        UserIdentity {
            access_key_id: None,
            account_id: self.caller.as_ref().map(|c| c.account_id.as_str()),
            arn: None,
            identity_provider: None,
            invoked_by: None,
            principal_id: self.caller.as_ref().map(|c| c.principal_id.as_str()),
            session_context: None,
            kind: "AWSAccount",
            user_name: None,
        }
    }

    fn user_identity(&self) -> UserIdentity<'_> {
        let caller = self.caller.as_ref().filter(|c| !c.is_service());
        let Some(caller) = caller else {
            if let Some(service) = self.invoked_by.as_deref() {
                return UserIdentity {
                    access_key_id: None,
                    account_id: None,
                    arn: None,
                    identity_provider: None,
                    invoked_by: Some(service),
                    principal_id: None,
                    session_context: None,
                    kind: "AWSService",
                    user_name: None,
                };
            }
            // Authentication failed: only the claimed key is known.
            return UserIdentity {
                access_key_id: self.claimed_access_key_id(),
                account_id: None,
                arn: None,
                identity_provider: None,
                invoked_by: None,
                principal_id: None,
                session_context: None,
                kind: "Unknown",
                user_name: None,
            };
        };
        let kind = match caller.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::IamUser => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::WebIdentityUser => "WebIdentityUser",
            PrincipalKind::SamlUser => "SAMLUser",
            PrincipalKind::AwsService => "AWSService",
        };
        if caller.is_federated_by_provider() {
            // AWS names these callers by their provider and subject only: they have no ARN,
            // account or key of AWS's.
            return UserIdentity {
                access_key_id: None,
                account_id: None,
                arn: None,
                identity_provider: self.identity_provider.as_deref(),
                invoked_by: None,
                principal_id: Some(&caller.principal_id),
                session_context: None,
                kind,
                user_name: caller.user_name.as_deref(),
            };
        }
        let role_session = caller.kind == PrincipalKind::AssumedRole;
        UserIdentity {
            access_key_id: Some(&caller.access_key_id),
            account_id: Some(&caller.account_id),
            arn: Some(&caller.arn),
            identity_provider: None,
            // A service calling on the caller's behalf (Parameter Store encrypting with KMS).
            invoked_by: self.invoked_by.as_deref(),
            principal_id: Some(&caller.principal_id),
            session_context: self.session.as_ref().map(|s| SessionContext {
                attributes: SessionAttributes {
                    creation_date: &s.creation_date,
                    mfa_authenticated: if s.mfa_authenticated { "true" } else { "false" },
                },
                session_issuer: s.issuer.as_ref().map(|i| SessionIssuer {
                    account_id: &i.account_id,
                    arn: &i.arn,
                    principal_id: i.principal_id.as_deref(),
                    kind: i.kind,
                    user_name: &i.user_name,
                }),
                source_identity: s.source_identity.as_deref(),
                web_id_federation_data: role_session.then(|| WebIdFederationData {
                    attributes: s
                        .federated_provider
                        .as_ref()
                        .map(|_| serde_json::Map::new()),
                    federated_provider: s.federated_provider.as_deref(),
                }),
            }),
            kind,
            user_name: caller.user_name.as_deref(),
        }
    }
}

/// The user name LookupEvents reports and searches by: `root`, the IAM user's name, the role
/// session's name, the federated user's name.
fn lookup_username(caller: &Caller) -> String {
    match caller.kind {
        PrincipalKind::Root => "root".to_owned(),
        PrincipalKind::IamUser | PrincipalKind::WebIdentityUser | PrincipalKind::SamlUser => {
            caller.user_name.clone().unwrap_or_default()
        }
        PrincipalKind::AssumedRole | PrincipalKind::FederatedUser => {
            caller.arn.rsplit('/').next().unwrap_or_default().to_owned()
        }
        PrincipalKind::AwsService => caller.arn.clone(),
    }
}

/// Members that hold session tokens, whatever the service's casing.
const SESSION_TOKEN_MEMBERS: [&str; 2] = ["SessionToken", "sessionToken"];

/// Replaces every session token in `value`.
fn hide_session_tokens(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SESSION_TOKEN_MEMBERS.contains(&k.as_str()) {
                    *v = Value::String(rampart_wire::REDACTED.to_owned());
                } else {
                    hide_session_tokens(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_session_tokens),
        _ => {}
    }
}

/// `text`, or its longest prefix of at most `max` bytes that ends at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The event of `POST /_rampart/reset`: Rampart's own API call, recorded as CloudTrail records
/// an API call, in the management account (the reset returns every account to the
/// bootstrap). `eventSource` is `rampart.local`, `eventName` `Reset`; no authenticated
/// principal made it (`userIdentity.type` `Unknown`): the loopback peer is its
/// `sourceIPAddress`.
pub(crate) fn reset_event(
    source_ip: String,
    user_agent: String,
    account: Option<String>,
    region: String,
) -> AuditEvent {
    let request_id = crate::pipeline::new_id();
    CallRecord {
        request_id,
        event_id: crate::pipeline::new_id(),
        event_time: OffsetDateTime::now_utc(),
        event_source: RAMPART_EVENT_SOURCE.to_owned(),
        event_name: "Reset".to_owned(),
        region,
        source_ip,
        user_agent,
        access_key_id: None,
        caller: None,
        request_parameters: None,
        read_only: false,
        records_response: true,
        usage: None,
        session: None,
        resources: Vec::new(),
        event_resources: Vec::new(),
        facts: ServiceFacts::default(),
        identity_provider: None,
        recipient_account: account,
        invoked_by: None,
    }
    .event(Ok(None))
}

/// A service event (`eventType` `AwsServiceEvent`), fields in sorted order like [`Event`]'s.
/// It has no caller: `userIdentity` names the account and what invoked the work, and
/// `requestParameters` is `null` (CloudTrail's "AWS service events" page).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceEventJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<&'a Value>,
    aws_region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    event_category: &'static str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    event_name: &'a str,
    event_source: &'a str,
    event_time: String,
    event_type: &'static str,
    event_version: &'static str,
    management_event: bool,
    read_only: bool,
    recipient_account_id: &'a str,
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    request_parameters: Option<&'a Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
    response_elements: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_event_details: Option<&'a Value>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    user_identity: ServiceEventIdentity<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceEventIdentity<'a> {
    account_id: &'a str,
    invoked_by: &'a str,
}

/// The journal entry of `event`, a service's own work, recorded at `now` by the service whose
/// `eventSource` is `event_source`; `resources` are its resources as the registry types them.
pub(crate) fn service_event(
    event: &rampart_service::ServiceEvent,
    event_source: &str,
    resources: &[RecordedResource],
    now: OffsetDateTime,
) -> AuditEvent {
    let event_id = crate::pipeline::new_id();
    let invoked_by = match event.source {
        rampart_service::ServiceEventSource::AwsInternal => "AWS Internal",
        rampart_service::ServiceEventSource::Service => event_source,
    };
    let json = ServiceEventJson {
        additional_event_data: event.additional.as_ref(),
        aws_region: &event.region,
        error_message: event
            .error_message
            .as_deref()
            .map(|m| prefix(m, MAX_RECORDED_TEXT_BYTES)),
        event_category: "Management",
        event_id: &event_id,
        event_name: event.name,
        event_source,
        event_time: aws_timestamp(now),
        event_type: "AwsServiceEvent",
        event_version: EVENT_VERSION,
        management_event: true,
        read_only: false,
        recipient_account_id: &event.account,
        request_id: event.request_id.as_deref(),
        request_parameters: None,
        resources: resources
            .iter()
            .map(|r| Resource {
                arn: &r.arn,
                account_id: &r.account,
                kind: r.kind,
            })
            .collect(),
        response_elements: event.response.as_ref(),
        service_event_details: event.details.as_ref(),
        source_ip_address: invoked_by,
        user_agent: invoked_by,
        user_identity: ServiceEventIdentity {
            account_id: &event.account,
            invoked_by,
        },
    };
    AuditEvent {
        event: serde_json::to_vec(&json).unwrap_or_default(),
        event_time: now.unix_timestamp(),
        account: Some(event.account.clone()),
        event_id,
        event_name: event.name.to_owned(),
        event_source: event_source.to_owned(),
        username: None,
        access_key_id: None,
        read_only: false,
        resources: resources
            .iter()
            .map(|r| (r.kind.to_owned(), r.name.clone()))
            .collect(),
        copies: Vec::new(),
    }
}

/// CloudTrail writes `null` rather than an empty object.
fn non_empty(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !matches!(v, Value::Object(map) if map.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> CallRecord {
        CallRecord {
            request_id: "r".into(),
            event_id: "e".into(),
            event_time: time::macros::datetime!(2026-11-24 12:00:00 UTC),
            event_source: "iam.amazonaws.com".into(),
            event_name: "CreateAccessKey".into(),
            region: "us-east-1".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            access_key_id: Some("AKIAX".into()),
            caller: Some(Caller::root("123456789012", "AKIAX")),
            request_parameters: Some(json!({})),
            read_only: false,
            records_response: true,
            usage: None,
            session: None,
            resources: Vec::new(),
            event_resources: Vec::new(),
            facts: ServiceFacts {
                global: true,
                ..ServiceFacts::default()
            },
            identity_provider: None,
            recipient_account: None,
            invoked_by: None,
        }
    }

    /// Makes `record` a call of the registered service `name`, with its facts.
    fn of_service(record: &mut CallRecord, name: &str) {
        let registry = crate::Registry::with_all_services();
        let service = registry.get(name).unwrap();
        record.event_source = service.event_source().to_owned();
        record.facts = ServiceFacts::of(service.as_ref());
    }

    /// Names `arns` as the call's resources, typed by their services.
    fn with_resources(record: &mut CallRecord, arns: &[&str]) {
        record.resources = arns.iter().map(|a| (*a).to_owned()).collect();
        record.event_resources =
            RecordedResource::of(&record.resources, &crate::Registry::with_all_services());
    }

    fn json(event: &AuditEvent) -> Value {
        serde_json::from_slice(event.json()).unwrap()
    }

    #[test]
    fn a_successful_write_records_its_response_and_identity() {
        let output = json!({"AccessKey": {"AccessKeyId": "AKIAY"}});
        let event = json(&record().event(Ok(Some(&output))));
        assert_eq!(event["userIdentity"]["type"], "Root");
        assert_eq!(
            event["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(event["eventTime"], "2026-11-24T12:00:00Z");
        assert_eq!(event["requestParameters"], Value::Null);
        assert_eq!(event["responseElements"], output);
        assert_eq!(event["recipientAccountId"], "123456789012");
        assert!(event.get("errorCode").is_none());
    }

    #[test]
    fn a_failed_call_records_its_error_and_no_response() {
        let mut record = record();
        record.caller = None;
        let error = AwsError::new("SignatureDoesNotMatch", 403, "nope");
        let event = json(&record.event(Err(&error)));
        assert_eq!(event["errorCode"], "SignatureDoesNotMatch");
        assert_eq!(event["errorMessage"], "nope");
        assert_eq!(event["responseElements"], Value::Null);
        assert_eq!(event["userIdentity"]["accessKeyId"], "AKIAX");
    }

    /// Finding 8: a failed authentication's event carried the Authorization header twice
    /// (quoted in the error message) and an unbounded user agent and key ID.
    #[test]
    fn a_failed_authentication_records_no_request_material_and_bounded_fields() {
        let mut record = record();
        record.caller = None;
        let header = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAX/, Signature={}",
            "f".repeat(64)
        );
        record.user_agent = "u".repeat(100_000);
        record.access_key_id = Some("K".repeat(100_000));
        let error = AwsError::new(
            "IncompleteSignature",
            400,
            format!("'x' not a valid key=value pair in Authorization header: '{header}'."),
        );
        let audit = record.event(Err(&error));
        let text = String::from_utf8(audit.json().to_vec()).unwrap();
        assert!(!text.contains("Signature="), "{text}");
        assert!(text.len() < 3_000, "{} bytes", text.len());
        let event = json(&audit);
        assert_eq!(event["errorCode"], "IncompleteSignature");
        assert_eq!(event["errorMessage"], MALFORMED_SIGNATURE_RECORDED);
        assert_eq!(event["userAgent"].as_str().unwrap().len(), 1024);
        assert_eq!(event["userIdentity"]["accessKeyId"], "K".repeat(128));
        assert_eq!(audit.entry().access_key_id, Some("K".repeat(128).as_str()));
        assert!(event.get("additionalEventData").is_none());

        // Other failures keep their message, cut at 1 KB.
        let long = AwsError::new("InvalidClientTokenId", 403, "é".repeat(1_000));
        let event = json(&record.event(Err(&long)));
        let message = event["errorMessage"].as_str().unwrap();
        assert_eq!(message, "é".repeat(512));

        // The count of calls left unrecorded before this one rides along.
        let event = json(&record.event_noting(Err(&long), 41));
        assert_eq!(
            event["additionalEventData"],
            json!({"unrecordedAuthenticationFailures": 41})
        );
    }

    /// An authenticated caller's malformed-signature failure cannot happen (the signature
    /// verified); its other failures are recorded with their message, as AWS records them.
    #[test]
    fn an_authenticated_callers_failure_keeps_its_message() {
        let error = AwsError::new("ValidationError", 400, "1 validation error detected: x");
        let event = json(&record().event(Err(&error)));
        assert_eq!(event["errorMessage"], "1 validation error detected: x");
        assert_eq!(event["userIdentity"]["type"], "Root");
        assert_eq!(event["userAgent"], "test");
    }

    /// Finding 11: a reset is journaled, in the management account, by its loopback peer.
    #[test]
    fn a_reset_is_recorded_as_rampart_s_own_call() {
        let audit = reset_event(
            "127.0.0.1".into(),
            "curl/8".into(),
            Some("123456789012".into()),
            "us-east-1".into(),
        );
        let event = json(&audit);
        assert_eq!(event["eventSource"], "rampart.local");
        assert_eq!(event["eventName"], "Reset");
        assert_eq!(event["eventType"], "AwsApiCall");
        assert_eq!(event["readOnly"], false);
        assert_eq!(event["sourceIPAddress"], "127.0.0.1");
        assert_eq!(event["userAgent"], "curl/8");
        assert_eq!(event["recipientAccountId"], "123456789012");
        assert_eq!(event["userIdentity"], json!({"type": "Unknown"}));
        assert!(event.get("errorCode").is_none());
        let entry = audit.entry();
        assert_eq!(entry.account, Some("123456789012"));
        assert_eq!(entry.event_source, "rampart.local");
        assert_eq!(entry.event_name, "Reset");
        assert!(!entry.read_only);
    }

    #[test]
    fn a_role_assumed_from_another_account_is_logged_in_both_accounts() {
        let mut record = record();
        of_service(&mut record, "sts");
        record.event_name = "AssumeRole".into();
        record.caller = Some(Caller::root("123456789012", "AKIAX"));
        with_resources(&mut record, &["arn:aws:iam::210987654321:role/Admin"]);
        let audit = record.event(Ok(Some(&json!({"Credentials": {"SessionToken": "t"}}))));
        let entries: Vec<_> = audit.entries().collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].account, Some("123456789012"));
        assert_eq!(entries[1].account, Some("210987654321"));
        // The owner's copy does not name the caller's key or user to the other account.
        assert_eq!(entries[1].access_key_id, None);
        assert_eq!(entries[1].username, None);

        let mine = json(&audit);
        let theirs: Value = serde_json::from_slice(entries[1].event).unwrap();
        assert_eq!(mine["userIdentity"]["type"], "Root");
        assert_eq!(mine["recipientAccountId"], "123456789012");
        assert_eq!(
            theirs["userIdentity"],
            json!({"type": "AWSAccount", "principalId": "123456789012",
                   "accountId": "123456789012"})
        );
        assert_eq!(theirs["recipientAccountId"], "210987654321");
        assert_eq!(theirs["eventID"], entries[1].event_id);
        assert_ne!(theirs["eventID"], mine["eventID"]);
        assert_eq!(mine["eventID"], "e");
        let shared = mine["sharedEventID"].as_str().unwrap();
        assert_eq!(shared.len(), 36);
        assert_eq!(theirs["sharedEventID"], shared);
        for event in [&mine, &theirs] {
            assert_eq!(event["requestID"], "r");
            assert_eq!(event["resources"][0]["accountId"], "210987654321");
            assert_eq!(
                event["responseElements"]["Credentials"]["SessionToken"],
                rampart_wire::REDACTED
            );
        }
    }

    #[test]
    fn only_cross_account_sts_and_kms_calls_are_shared() {
        let mut record = record();
        of_service(&mut record, "kms");
        // The caller's own key, an AWS managed policy and a key elsewhere, named twice.
        with_resources(
            &mut record,
            &[
                "arn:aws:kms:us-east-1:123456789012:key/1",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws:kms:us-east-1:210987654321:key/2",
                "arn:aws:kms:us-east-1:210987654321:key/3",
            ],
        );
        let accounts = |record: &CallRecord| -> Vec<Option<String>> {
            let audit = record.event(Ok(None));
            audit
                .entries()
                .map(|e| e.account.map(str::to_owned))
                .collect()
        };
        assert_eq!(
            accounts(&record),
            [Some("123456789012".into()), Some("210987654321".into())]
        );
        let kept: Vec<String> = record.resources[..2].to_vec();
        with_resources(
            &mut record,
            &kept.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(accounts(&record), [Some("123456789012".into())]);
        assert!(json(&record.event(Ok(None))).get("sharedEventID").is_none());
        // IAM keeps its events in the caller's account, whatever the ARNs name.
        of_service(&mut record, "iam");
        with_resources(&mut record, &["arn:aws:iam::210987654321:role/Admin"]);
        assert_eq!(accounts(&record), [Some("123456789012".into())]);
        // A call that failed authentication has no caller to name.
        of_service(&mut record, "sts");
        record.caller = None;
        assert!(record.event(Ok(None)).is_single());
    }

    #[test]
    fn iam_events_are_recorded_in_us_east_1_and_name_their_resources() {
        let mut record = record();
        record.region = "eu-west-1".into();
        with_resources(
            &mut record,
            &["arn:aws:iam::123456789012:user/division/bob", "*"],
        );
        let audit = record.event(Ok(None));
        let event = json(&audit);
        assert_eq!(event["awsRegion"], "us-east-1");
        assert_eq!(
            event["resources"],
            json!([{"ARN": "arn:aws:iam::123456789012:user/division/bob",
                    "accountId": "123456789012", "type": "AWS::IAM::User"}])
        );
        let entry = audit.entry();
        assert_eq!(
            entry.resources,
            [("AWS::IAM::User".to_owned(), "bob".to_owned())]
        );
        assert_eq!(entry.username, Some("root"));
        assert_eq!(entry.account, Some("123456789012"));
        assert_eq!(entry.event_time, 1_795_521_600);
        of_service(&mut record, "kms");
        assert_eq!(json(&record.event(Ok(None)))["awsRegion"], "eu-west-1");
    }

    #[test]
    fn role_sessions_report_their_issuer_and_attributes_but_no_secret() {
        let caller = Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/admin/alice-session".into(),
            principal_id: "AROAEXAMPLE:alice-session".into(),
            kind: PrincipalKind::AssumedRole,
            user_name: None,
            access_key_id: "ASIAEXAMPLE".into(),
        };
        let session = rampart_sts::Session {
            mfa_authenticated: true,
            role_name: Some("admin".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/admin".into()),
            ..rampart_sts::Session::new(
                caller.clone(),
                "very-secret-value".into(),
                1_795_521_000,
                1_795_524_600,
            )
        };
        let mut record = record();
        record.caller = Some(caller);
        record.session = Some(SessionFacts::of(&session));
        let audit = record.event(Ok(None));
        let text = String::from_utf8(audit.json().to_vec()).unwrap();
        assert!(!text.contains("very-secret-value"));
        let identity = &json(&audit)["userIdentity"];
        assert_eq!(identity["type"], "AssumedRole");
        assert_eq!(
            identity["sessionContext"]["attributes"],
            json!({"creationDate": "2026-11-24T11:50:00Z", "mfaAuthenticated": "true"})
        );
        assert_eq!(
            identity["sessionContext"]["sessionIssuer"],
            json!({"type": "Role", "principalId": "AROAEXAMPLE",
                   "arn": "arn:aws:iam::123456789012:role/admin",
                   "accountId": "123456789012", "userName": "admin"})
        );
        assert_eq!(audit.entry().username, Some("alice-session"));
    }

    #[test]
    fn session_tokens_never_reach_an_event() {
        let output = json!({"Credentials": {"AccessKeyId": "ASIAX", "SessionToken": "bearer-token",
                            "SecretAccessKey": "HIDDEN_DUE_TO_SECURITY_REASONS"}});
        let text = String::from_utf8(record().event(Ok(Some(&output))).json().to_vec()).unwrap();
        assert!(!text.contains("bearer-token"));
        assert!(text.contains("ASIAX"));
    }

    #[test]
    fn identity_providers_users_are_named_by_provider_and_subject() {
        let provider = "arn:aws:iam::123456789012:oidc-provider/idp.example.com";
        let mut record = record();
        of_service(&mut record, "sts");
        record.caller = Some(Caller {
            account_id: "123456789012".into(),
            arn: provider.into(),
            principal_id: format!("{provider}:sts.amazonaws.com:user-1"),
            kind: PrincipalKind::WebIdentityUser,
            user_name: Some("user-1".into()),
            access_key_id: String::new(),
        });
        record.access_key_id = None;
        record.identity_provider = Some(provider.into());
        let audit = record.event(Ok(None));
        assert_eq!(
            json(&audit)["userIdentity"],
            json!({"type": "WebIdentityUser", "userName": "user-1",
                   "principalId": format!("{provider}:sts.amazonaws.com:user-1"),
                   "identityProvider": provider})
        );
        assert_eq!(audit.entry().username, Some("user-1"));
        assert_eq!(audit.entry().access_key_id, None);
    }

    #[test]
    fn role_sessions_name_the_provider_that_vouched_for_their_maker() {
        let provider = "arn:aws:iam::123456789012:oidc-provider/idp.example.com";
        let caller = Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/ci/run".into(),
            principal_id: "AROAEXAMPLE:run".into(),
            kind: PrincipalKind::AssumedRole,
            user_name: None,
            access_key_id: "ASIAEXAMPLE".into(),
        };
        let mut session = rampart_sts::Session {
            role_name: Some("ci".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/ci".into()),
            web_identity_provider: Some(provider.into()),
            ..rampart_sts::Session::new(caller.clone(), "s".into(), 1_795_521_000, 1_795_524_600)
        };
        let mut record = record();
        record.caller = Some(caller);
        record.session = Some(SessionFacts::of(&session));
        let context = &json(&record.event(Ok(None)))["userIdentity"]["sessionContext"];
        assert_eq!(
            context["webIdFederationData"],
            json!({"federatedProvider": provider, "attributes": {}})
        );
        session.web_identity_provider = None;
        record.session = Some(SessionFacts::of(&session));
        let context = &json(&record.event(Ok(None)))["userIdentity"]["sessionContext"];
        assert_eq!(context["webIdFederationData"], json!({}));
    }
}
