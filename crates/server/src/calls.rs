//! The calls services make to each other, run by the spine as AWS's services call each other
//! (see `rampart_service::ServiceCall`): authorized here, once, as any request is (the callee's
//! resource policy, the caller's identity policies, guardrails), handled on the calling
//! request's snapshot or transaction, and recorded beside the calling request's event, with
//! the calling service as `invokedBy`.

use std::sync::{Arc, Mutex};

use rampart_service::{
    AfterSuccess, AwsError, CallPrincipal, Caller, Directory, Env, Handler, PrincipalKind,
    PrincipalLookup, RunAs, ServiceCall, ServiceCalls, ServiceEvent, Value,
};
use rampart_store::{ReadTx, StoreError, WriteTx};
use rampart_sts::Session;
use rampart_wire::ServiceModel;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, CallRecord, RecordedResource, ServiceFacts};
use crate::pipeline::{self, Party};
use crate::state::AppState;

/// What a call leaves to record with its own event: the events of the calls it made to other
/// services, and the work their services (and its own) do after success.
#[derive(Default)]
pub(crate) struct Recorded {
    pub(crate) events: Vec<AuditEvent>,
    pub(crate) after: Vec<AfterSuccess>,
}

impl Recorded {
    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty() && self.after.is_empty()
    }

    /// Appends the events and runs the work in `tx`.
    pub(crate) fn write(self, tx: &mut dyn WriteTx) -> Result<(), StoreError> {
        for event in &self.events {
            for entry in event.entries() {
                tx.append_journal(&entry)?;
            }
        }
        for after in self.after {
            after(tx)?;
        }
        Ok(())
    }
}

/// The calling request, as the calls it makes see it.
pub(crate) struct Calling<'a> {
    /// Who makes the request; `None` for Rampart's own work (the trail deliverer).
    pub(crate) party: Option<&'a Party>,
    /// The calling service's endpoint prefix (`ssm`), for `invokedBy` and the callee's
    /// via-service keys.
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
    pub(crate) request_id: &'a str,
    pub(crate) now: OffsetDateTime,
    /// Where the calling request came from (empty for Rampart's own work), for calls made
    /// as its caller itself.
    pub(crate) source_ip: &'a str,
    pub(crate) user_agent: &'a str,
}

/// Runs one request's calls to other services and keeps what they leave to record.
pub(crate) struct CallsOf<'a> {
    state: &'a AppState,
    calling: Calling<'a>,
    recorded: Mutex<Recorded>,
    /// The service events of the work (`AwsServiceEvent`), kept apart: they are written only
    /// if the work commits.
    service_events: Mutex<Vec<AuditEvent>>,
}

impl<'a> CallsOf<'a> {
    pub(crate) fn new(state: &'a AppState, calling: Calling<'a>) -> Self {
        Self {
            state,
            calling,
            recorded: Mutex::new(Recorded::default()),
            service_events: Mutex::new(Vec::new()),
        }
    }

    /// What the calls left to record, with the calling request's own after-success work
    /// (`after`) last, and the service events of the work if it `succeeded` (its writes are
    /// undone otherwise, and so is what they describe).
    pub(crate) fn into_recorded(self, succeeded: bool, after: Option<AfterSuccess>) -> Recorded {
        let mut recorded = self.recorded.into_inner().unwrap_or_default();
        if succeeded {
            recorded
                .events
                .extend(self.service_events.into_inner().unwrap_or_default());
        }
        recorded.after.extend(after);
        recorded
    }

    fn keep(&self, event: AuditEvent, after: Option<AfterSuccess>) {
        if let Ok(mut recorded) = self.recorded.lock() {
            recorded.events.push(event);
            recorded.after.extend(after);
        }
    }
}

fn not_implemented(service: &str, operation: &str) -> AwsError {
    AwsError::new(
        "NotImplemented",
        501,
        format!("Rampart does not implement {service}:{operation} yet (see docs/COVERAGE.md)"),
    )
}

/// The calling request's snapshot or transaction, as a call runs on it.
enum CallTx<'t> {
    Read(&'t mut dyn ReadTx),
    Write(&'t mut dyn WriteTx),
}

impl CallTx<'_> {
    fn read(&mut self) -> &mut dyn ReadTx {
        match self {
            Self::Read(tx) => &mut **tx,
            Self::Write(tx) => &mut **tx,
        }
    }

    /// Runs `handler` on this snapshot or transaction; a handler that writes needs the
    /// calling request's transaction.
    fn run(&mut self, handler: &Handler, env: &Env<'_>, input: Value) -> Result<Value, AwsError> {
        match (handler, self) {
            (Handler::Read(handler), tx) => handler(env, tx.read(), input),
            (Handler::Write(handler), Self::Write(tx)) => handler(env, &mut **tx, input),
            (Handler::Write(_), Self::Read(_)) => Err(AwsError::new(
                "InternalFailure",
                500,
                "an operation that changes state was called from one that only reads",
            )),
        }
    }
}

impl ServiceCalls for CallsOf<'_> {
    fn call(&self, tx: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        self.run(CallTx::Read(tx), call)
    }

    fn call_write(&self, tx: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        self.run(CallTx::Write(tx), call)
    }

    fn record_event(&self, event: ServiceEvent) {
        let Some(service) = self.state.registry.get(event.service) else {
            tracing::error!(
                service = event.service,
                event = event.name,
                "a service event names a service that is not registered; dropped"
            );
            return;
        };
        let resources = RecordedResource::of(&event.resources, &self.state.registry);
        let audit = crate::audit::service_event(
            &event,
            service.event_source(),
            &resources,
            self.calling.now,
        );
        if let Ok(mut events) = self.service_events.lock() {
            events.push(audit);
        }
    }
}

impl CallsOf<'_> {
    fn run(&self, mut tx: CallTx<'_>, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        let state = self.state;
        let calling = &self.calling;
        let Some(service) = state.registry.get(call.service) else {
            return Err(not_implemented(call.service, call.operation));
        };
        let calling_principal = format!("{}.amazonaws.com", calling.service);
        let via = |via: &str| service.via_service_keys(via);
        let no_request = || {
            AwsError::new(
                "InternalFailure",
                500,
                "a call as or on behalf of a caller needs a calling request",
            )
        };
        let (caller, session, invoked_by, mut keys) = match &call.principal {
            CallPrincipal::CallerItself => {
                let party = calling.party.ok_or_else(no_request)?;
                (
                    party.caller.clone(),
                    party.session.clone(),
                    None,
                    Vec::new(),
                )
            }
            CallPrincipal::OnBehalfOfCaller => {
                let party = calling.party.ok_or_else(no_request)?;
                (
                    party.caller.clone(),
                    party.session.clone(),
                    Some(calling_principal.clone()),
                    forwarded(via(&format!(
                        "{}.{}.amazonaws.com",
                        calling.service, calling.region
                    ))),
                )
            }
            CallPrincipal::Service {
                principal,
                source_arn,
                source_account,
                via: through,
            } => {
                let mut keys = vec![
                    ("aws:SourceArn".to_owned(), vec![(*source_arn).to_owned()]),
                    (
                        "aws:SourceAccount".to_owned(),
                        vec![(*source_account).to_owned()],
                    ),
                ];
                // The older key SNS's default topic policy conditions on: AWS sets it to the
                // source resource's account for a service publishing to a topic. Only there:
                // a key present where AWS leaves it absent can turn a Deny off.
                if call.service == "sns" {
                    keys.push((
                        "aws:SourceOwner".to_owned(),
                        vec![(*source_account).to_owned()],
                    ));
                }
                keys.extend(through.map(via).unwrap_or_default());
                (
                    Caller::service(principal, source_account),
                    None,
                    Some((*principal).to_owned()),
                    keys,
                )
            }
            CallPrincipal::Principal {
                principal,
                session_name,
            } => {
                let (caller, session) =
                    principal_now(tx.read(), principal, session_name, calling.now)?;
                (
                    caller,
                    session,
                    Some(calling_principal.clone()),
                    forwarded(via(&format!(
                        "{}.{}.amazonaws.com",
                        calling.service, calling.region
                    ))),
                )
            }
        };
        let mut env = pipeline::env(
            state,
            &caller,
            calling.region,
            calling.request_id,
            calling.now,
        );
        env.calls = self;
        // Work a service does inside AWS for another: no client calls it, AWS records no
        // event of it and evaluates no policy for it.
        if let Some(internal) = service.internal_operation(call.operation) {
            return tx.run(&internal.handler, &env, call.input);
        }
        let (Some(model), Some(operation)) = (
            ServiceModel::by_endpoint_prefix(call.service),
            service.operation(call.operation),
        ) else {
            return Err(not_implemented(call.service, call.operation));
        };
        let Some(op_model) = model.operation(call.operation) else {
            return Err(not_implemented(call.service, call.operation));
        };
        let mut record = CallRecord {
            request_id: calling.request_id.to_owned(),
            event_id: pipeline::new_id(),
            event_time: calling.now,
            event_source: service.event_source().to_owned(),
            event_name: call.operation.to_owned(),
            region: calling.region.to_owned(),
            // AWS names the calling service as the source of calls it makes; a call as the
            // caller itself comes from where the calling request came from.
            source_ip: invoked_by
                .clone()
                .unwrap_or_else(|| calling.source_ip.to_owned()),
            user_agent: invoked_by
                .clone()
                .unwrap_or_else(|| calling.user_agent.to_owned()),
            access_key_id: None,
            caller: (!caller.is_service()).then(|| caller.clone()),
            request_parameters: Some(rampart_wire::record_input(
                op_model,
                &call.input,
                service.event_style(),
            )),
            read_only: operation.recording().read_only,
            records_response: operation.recording().response,
            usage: None,
            session: session.as_deref().map(crate::audit::SessionFacts::of),
            resources: Vec::new(),
            event_resources: Vec::new(),
            facts: ServiceFacts::of(service.as_ref()),
            identity_provider: None,
            recipient_account: None,
            invoked_by,
        };
        if let Some(keys_of) = operation.condition_keys {
            keys.extend(keys_of(&env, &call.input));
        }
        let party = Party {
            caller: caller.clone(),
            session,
            inherited: None,
            federation: None,
            condition_keys: keys,
        };
        let protocol = model.protocol();
        let outcome = pipeline::authorization_targets(operation, &env, tx.read(), &call.input)
            .and_then(|targets| {
                record.resources = pipeline::event_resources(&targets);
                record.event_resources = RecordedResource::of(&record.resources, &state.registry);
                // A service principal's call belongs to the account of what it touches.
                record.recipient_account = record
                    .event_resources
                    .first()
                    .map(|r| r.account.clone())
                    .or_else(|| Some(caller.account_id.clone()));
                pipeline::authorize(
                    state,
                    &party,
                    &call.input,
                    operation,
                    &targets,
                    &record,
                    protocol,
                )?;
                tx.run(&operation.handler, &env, call.input.clone())
            });
        let event = record.event(outcome.as_ref().map(|_| None));
        let after = outcome
            .as_ref()
            .ok()
            .and_then(|output| pipeline::after_success(service.as_ref(), &record, &event, output));
        self.keep(event, after);
        outcome
    }
}

/// The keys of a call a service makes on a principal's behalf (a forward access session):
/// the callee's via-service keys, and `aws:ViaAWSService`.
/// The keys AWS adds to a call that one service makes with a principal's credentials.
/// `aws:CalledVia` (and `CalledViaFirst`/`CalledViaLast`) are not among them: AWS sets those only
/// when the calling service is one of the few that support them (Athena, CloudFormation, DynamoDB,
/// KMS, per the IAM global condition keys page), and no service Rampart serves makes calls as
/// one of those. Setting them for Parameter Store or Secrets Manager would deny what AWS allows.
fn forwarded(mut keys: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    keys.push(("aws:ViaAWSService".to_owned(), vec!["true".to_owned()]));
    keys
}

/// `principal` as it is now: the root user of a served account, an IAM user, or a session
/// named `session_name` of a role (made here, as Lambda makes its execution role's session for
/// each invocation; no credentials exist for it). Refused when the account is not served or
/// the user or role no longer exists: a principal that took the name since is another one.
fn principal_now(
    tx: &mut dyn ReadTx,
    principal: &RunAs,
    session_name: &str,
    now: OffsetDateTime,
) -> Result<(Caller, Option<Arc<Session>>), AwsError> {
    let directory = crate::directory::ServedAccounts;
    let gone = || {
        AwsError::new(
            "AccessDeniedException",
            400,
            format!(
                "the principal {} of account {} that this work runs as no longer exists",
                principal.unique_id, principal.account
            ),
        )
    };
    let failed = |e: StoreError| {
        tracing::error!(error = %e, "a principal could not be looked up");
        AwsError::new(
            "InternalFailure",
            500,
            "the principal could not be looked up",
        )
    };
    let account = principal.account.as_str();
    if principal.is_root() {
        let root = format!("arn:aws:iam::{account}:root");
        return match directory.principal(tx, &root).map_err(failed)? {
            PrincipalLookup::AccountNotServed => Err(gone()),
            _ => Ok((Caller::root(account, ""), None)),
        };
    }
    let id = principal.unique_id.as_str();
    let arn = directory
        .principal_arns(tx, account, &[id])
        .map_err(failed)?
        .into_iter()
        .find(|(found, _)| found == id)
        .map(|(_, arn)| arn)
        .ok_or_else(gone)?;
    let name = arn.rsplit('/').next().unwrap_or_default().to_owned();
    if id.starts_with("AROA") {
        let caller = Caller {
            account_id: account.to_owned(),
            arn: format!("arn:aws:sts::{account}:assumed-role/{name}/{session_name}"),
            principal_id: format!("{id}:{session_name}"),
            kind: PrincipalKind::AssumedRole,
            user_name: None,
            access_key_id: String::new(),
        };
        let mut session = Session::new(
            caller.clone(),
            String::new(),
            now.unix_timestamp(),
            now.unix_timestamp() + 3600,
        );
        session.role_name = Some(name);
        session.role_arn = Some(arn);
        return Ok((caller, Some(Arc::new(session))));
    }
    let caller = Caller {
        account_id: account.to_owned(),
        arn,
        principal_id: id.to_owned(),
        kind: PrincipalKind::IamUser,
        user_name: Some(name),
        access_key_id: String::new(),
    };
    Ok((caller, None))
}

/// Rampart's own work calling a service as a service principal, outside any request (the trail
/// deliverer asking KMS for a log file's data key): run on a snapshot, its event and
/// after-success work recorded at once.
pub async fn call_as_service(
    state: &Arc<AppState>,
    calling_service: &str,
    region: &str,
    call: ServiceCall<'_>,
) -> Result<Value, AwsError> {
    let request_id = pipeline::new_id();
    let calls = CallsOf::new(
        state,
        Calling {
            party: None,
            service: calling_service,
            region,
            request_id: &request_id,
            now: OffsetDateTime::now_utc(),
            source_ip: "",
            user_agent: "",
        },
    );
    let outcome = state
        .store
        .read_with(|tx| Ok::<_, StoreError>(calls.call(tx, call)))
        .map_err(|e| {
            tracing::error!(error = %e, "a service call's snapshot failed");
            AwsError::new("InternalFailure", 500, "the service call failed")
        })?;
    let recorded = calls.into_recorded(outcome.is_ok(), None);
    state
        .store
        .write_with(move |tx| recorded.write(tx))
        .await
        .map_err(|e: StoreError| {
            tracing::error!(error = %e, "a service call's event could not be written");
            AwsError::new(
                "InternalFailure",
                500,
                "the service call's event could not be written",
            )
        })?;
    outcome
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use std::collections::BTreeMap;

    use rampart_cloudtrail::encryption::data_key_call;
    use serde_json::json;

    use super::*;

    const ACCOUNT: &str = "123456789012";
    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/enc";

    /// Runs a KMS operation's handler as the account's root user (set-up, not under test).
    async fn kms(state: &Arc<AppState>, operation: &'static str, input: Value) -> Value {
        as_root(state, "kms", operation, input).await
    }

    /// Runs a service's handler as the account's root user (set-up, not under test).
    async fn as_root(
        state: &Arc<AppState>,
        service: &'static str,
        operation: &'static str,
        input: Value,
    ) -> Value {
        let at = ("us-east-1", OffsetDateTime::now_utc());
        crate::test_support::as_root(state, ACCOUNT, at, (service, operation), input).await
    }

    /// A key policy: the account administers the key; CloudTrail may make data keys for the
    /// trail `enc` under `condition`.
    fn policy(condition: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": condition},
        ]})
        .to_string()
    }

    async fn data_key(
        state: &Arc<AppState>,
        key: &str,
        trail: &str,
        via: Option<&str>,
    ) -> Result<Value, AwsError> {
        let context = BTreeMap::from([("aws:cloudtrail:arn".to_owned(), trail.to_owned())]);
        let call = data_key_call(key, &context, trail, ACCOUNT, via);
        call_as_service(state, "cloudtrail", "us-east-1", call).await
    }

    fn journal(state: &AppState) -> Vec<Value> {
        state
            .store
            .read_with(|tx| tx.journal_after(0, 1000))
            .unwrap()
            .iter()
            .map(|e| serde_json::from_slice(&e.event).unwrap())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_service_principal_gets_only_what_the_key_policy_grants_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let key = kms(&state, "CreateKey", json!({})).await["KeyMetadata"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned();
        // The default key policy names the account, not CloudTrail: denied by default, as
        // no identity policy can speak for a service principal.
        let refused = data_key(&state, &key, TRAIL, None).await.unwrap_err();
        assert_eq!(refused.code, "AccessDeniedException");
        // AWS's documented statement, bound to the trail by aws:SourceArn.
        let bound = json!({"StringEquals": {"aws:SourceArn": TRAIL, "aws:SourceAccount": ACCOUNT}});
        kms(
            &state,
            "PutKeyPolicy",
            json!({"KeyId": key, "Policy": policy(bound)}),
        )
        .await;
        let generated = data_key(&state, &key, TRAIL, None).await.unwrap();
        assert_eq!(generated["KeyId"], key.as_str());
        let other = TRAIL.replace("trail/enc", "trail/other");
        let refused = data_key(&state, &key, &other, None).await.unwrap_err();
        assert_eq!(refused.code, "AccessDeniedException");
        // kms:ViaService names the service making the call on CloudTrail's behalf.
        let via_s3 = json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}});
        kms(
            &state,
            "PutKeyPolicy",
            json!({"KeyId": key, "Policy": policy(via_s3)}),
        )
        .await;
        let direct = data_key(&state, &key, TRAIL, None).await.unwrap_err();
        assert_eq!(direct.code, "AccessDeniedException");
        data_key(&state, &key, TRAIL, Some("s3.us-east-1.amazonaws.com"))
            .await
            .unwrap();
        // A Deny on the service principal wins over the Allow.
        let deny = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey",
             "Resource": "*", "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}},
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
        ]});
        kms(
            &state,
            "PutKeyPolicy",
            json!({"KeyId": key, "Policy": deny.to_string()}),
        )
        .await;
        let denied = data_key(&state, &key, TRAIL, None).await.unwrap_err();
        assert_eq!(denied.code, "AccessDeniedException");
    }

    /// CloudWatch publishing an alarm's notification, as its service principal, for the alarm
    /// of `source_account`, in one write transaction with its event.
    async fn publish_as_cloudwatch(
        state: &Arc<AppState>,
        topic: String,
        source_account: &'static str,
    ) -> Result<Value, AwsError> {
        let state = Arc::clone(state);
        state
            .store
            .clone()
            .write_with(move |tx| {
                let request_id = pipeline::new_id();
                let alarm =
                    format!("arn:aws:cloudwatch:us-east-1:{source_account}:alarm:root-usage");
                let spine = CallsOf::new(
                    &state,
                    Calling {
                        party: None,
                        service: "cloudwatch",
                        region: "us-east-1",
                        request_id: &request_id,
                        now: OffsetDateTime::now_utc(),
                        source_ip: "",
                        user_agent: "",
                    },
                );
                let outcome = spine.call_write(
                    tx,
                    ServiceCall {
                        service: "sns",
                        operation: "Publish",
                        input: json!({"TopicArn": topic, "Message": "ALARM"}),
                        principal: CallPrincipal::Service {
                            principal: "cloudwatch.amazonaws.com",
                            source_arn: &alarm,
                            source_account,
                            via: None,
                        },
                    },
                );
                spine.into_recorded(outcome.is_ok(), None).write(tx)?;
                Ok::<_, StoreError>(outcome)
            })
            .await
            .unwrap()
    }

    /// The default topic policy allows any principal whose call's `AWS:SourceOwner` is the
    /// topic's account: CloudWatch publishing for an alarm of that account is allowed, for an
    /// alarm of another account refused, as in AWS.
    #[tokio::test(flavor = "multi_thread")]
    async fn cloudwatch_publishes_to_its_alarms_account_by_the_default_topic_policy() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let topic =
            as_root(&state, "sns", "CreateTopic", json!({"Name": "alarms"})).await["TopicArn"]
                .as_str()
                .unwrap()
                .to_owned();
        let published = publish_as_cloudwatch(&state, topic.clone(), ACCOUNT)
            .await
            .unwrap();
        assert!(published["MessageId"].as_str().is_some());
        let refused = publish_as_cloudwatch(&state, topic.clone(), "111122223333")
            .await
            .unwrap_err();
        assert_eq!(refused.code, "AuthorizationError");
        // A topic policy without the default statement refuses the service too.
        let owner_only = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "sns:*", "Resource": topic}]});
        as_root(
            &state,
            "sns",
            "SetTopicAttributes",
            json!({"TopicArn": topic, "AttributeName": "Policy",
                   "AttributeValue": owner_only.to_string()}),
        )
        .await;
        let refused = publish_as_cloudwatch(&state, topic, ACCOUNT)
            .await
            .unwrap_err();
        assert_eq!(refused.code, "AuthorizationError");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_service_call_is_journaled_as_the_service_in_the_keys_account() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let bound = json!({"StringEquals": {"aws:SourceArn": TRAIL}});
        let key =
            kms(&state, "CreateKey", json!({"Policy": policy(bound)})).await["KeyMetadata"]["Arn"]
                .as_str()
                .unwrap()
                .to_owned();
        data_key(&state, &key, TRAIL, None).await.unwrap();
        let other = TRAIL.replace("trail/enc", "trail/other");
        data_key(&state, &key, &other, None).await.unwrap_err();
        let events = journal(&state);
        let [allowed, refused] = events.as_slice() else {
            panic!("two events: {events:?}")
        };
        for event in [allowed, refused] {
            assert_eq!(
                event["userIdentity"],
                json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"})
            );
            assert_eq!(event["eventSource"], "kms.amazonaws.com");
            assert_eq!(event["eventName"], "GenerateDataKey");
            assert_eq!(event["sourceIPAddress"], "cloudtrail.amazonaws.com");
            assert_eq!(event["recipientAccountId"], ACCOUNT);
            assert_eq!(event["resources"][0]["ARN"], key.as_str());
            assert_eq!(event["resources"][0]["type"], "AWS::KMS::Key");
            // The data key never reaches the trail.
            assert!(event["responseElements"].is_null(), "{event}");
        }
        assert!(allowed.get("errorCode").is_none(), "{allowed}");
        assert_eq!(refused["errorCode"], "AccessDenied");
        // The key's last use is the allowed call's.
        let key_id = key.rsplit('/').next().unwrap();
        let last = kms(&state, "GetKeyLastUsage", json!({"KeyId": key_id})).await;
        assert_eq!(last["KeyLastUsage"]["Operation"], "GenerateDataKey");
        assert_eq!(
            last["KeyLastUsage"]["CloudTrailEventId"],
            allowed["eventID"]
        );
    }

    use rampart_service::CallPrincipal::OnBehalfOfCaller;

    /// Where the calling requests of [`through`] come from.
    const SOURCE_IP: &str = "192.0.2.7";
    const USER_AGENT: &str = "test-client";

    /// Runs `calls` of KMS as `calling_service` would for `caller`, as `principal`, in one
    /// write transaction, and keeps what they record.
    async fn through(
        state: &Arc<AppState>,
        calling_service: &'static str,
        caller: Caller,
        principal: CallPrincipal<'static>,
        calls: Vec<(&'static str, Value)>,
    ) -> Vec<Result<Value, AwsError>> {
        let state = Arc::clone(state);
        state
            .store
            .clone()
            .write_with(move |tx| {
                let party = Party {
                    caller,
                    session: None,
                    inherited: None,
                    federation: None,
                    condition_keys: Vec::new(),
                };
                let request_id = pipeline::new_id();
                let spine = CallsOf::new(
                    &state,
                    Calling {
                        party: Some(&party),
                        service: calling_service,
                        region: "us-east-1",
                        request_id: &request_id,
                        now: OffsetDateTime::now_utc(),
                        source_ip: SOURCE_IP,
                        user_agent: USER_AGENT,
                    },
                );
                let outcomes: Vec<_> = calls
                    .into_iter()
                    .map(|(operation, input)| {
                        spine.call_write(
                            tx,
                            ServiceCall {
                                service: "kms",
                                operation,
                                input,
                                principal: principal.clone(),
                            },
                        )
                    })
                    .collect();
                spine.into_recorded(true, None).write(tx)?;
                Ok::<_, StoreError>(outcomes)
            })
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_call_as_the_caller_itself_is_decided_and_recorded_as_its_own() {
        let (_dir, state, alice) = with_alice().await;
        let key = kms(&state, "CreateKey", json!({})).await["KeyMetadata"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned();
        let describe = |caller: Caller| {
            let input = json!({"KeyId": key});
            let state = Arc::clone(&state);
            async move {
                let principal = CallPrincipal::CallerItself;
                let mut outcomes = through(
                    &state,
                    "secretsmanager",
                    caller,
                    principal,
                    vec![("DescribeKey", input)],
                )
                .await;
                outcomes.remove(0)
            }
        };
        // Alice's own policies decide: none allows, so she is refused; the account's root
        // user is allowed by the key policy.
        let refused = describe(alice.clone()).await.unwrap_err();
        assert_eq!(refused.code, "AccessDeniedException");
        assert!(
            refused.message.contains("user/alice"),
            "{}",
            refused.message
        );
        describe(Caller::root(ACCOUNT, "AKIAROOT")).await.unwrap();
        // Recorded as the caller's own call, from where the calling request came: no service
        // invoked it, and no kms:ViaService made it a call through one.
        let events = journal(&state);
        let [refused, allowed] = events.as_slice() else {
            panic!("two events: {events:?}")
        };
        assert_eq!(refused["userIdentity"]["userName"], "alice");
        assert_eq!(refused["errorCode"], "AccessDenied");
        for event in [refused, allowed] {
            assert_eq!(event["eventName"], "DescribeKey");
            assert!(event["userIdentity"].get("invokedBy").is_none(), "{event}");
            assert_eq!(event["sourceIPAddress"], SOURCE_IP);
            assert_eq!(event["userAgent"], USER_AGENT);
        }
    }

    /// A test server whose account has the user alice, and alice as its caller.
    async fn with_alice() -> (tempfile::TempDir, Arc<AppState>, Caller) {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let user = as_root(&state, "iam", "CreateUser", json!({"UserName": "alice"})).await;
        let alice = Caller {
            principal_id: user["User"]["UserId"].as_str().unwrap().to_owned(),
            ..alice()
        };
        (dir, state, alice)
    }

    fn alice() -> Caller {
        Caller {
            account_id: ACCOUNT.to_owned(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            principal_id: "AIDAALICE".to_owned(),
            kind: rampart_service::PrincipalKind::IamUser,
            user_name: Some("alice".to_owned()),
            access_key_id: "AKIAALICE".to_owned(),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_service_uses_its_aws_managed_key_on_its_callers_behalf() {
        let (_dir, state, alice) = with_alice().await;
        let managed = json!({"Service": "ssm"});
        let encrypt = json!({"KeyId": "alias/aws/ssm", "Plaintext": "eA=="});
        // Parameter Store's first SecureString: KMS makes alias/aws/ssm, then encrypts with it
        // for alice, who holds no KMS permission: the key's policy lets the account's
        // principals use it through Parameter Store.
        let outcomes = through(
            &state,
            "ssm",
            alice.clone(),
            OnBehalfOfCaller,
            vec![
                ("AwsManagedKey", managed.clone()),
                ("Encrypt", encrypt.clone()),
            ],
        )
        .await;
        let key = outcomes[0].as_ref().unwrap()["Arn"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(outcomes[1].as_ref().unwrap()["KeyId"], key.as_str());
        // Asked again, KMS answers the same key.
        let again = through(
            &state,
            "ssm",
            alice.clone(),
            OnBehalfOfCaller,
            vec![("AwsManagedKey", managed)],
        )
        .await;
        assert_eq!(again[0].as_ref().unwrap()["Arn"], key.as_str());
        let described = kms(&state, "DescribeKey", json!({"KeyId": "alias/aws/ssm"})).await;
        assert_eq!(described["KeyMetadata"]["KeyManager"], "AWS");
        let rotation = kms(&state, "GetKeyRotationStatus", json!({"KeyId": key})).await;
        assert_eq!(rotation["KeyRotationEnabled"], true);
        // Through another service, the key is not Parameter Store's to use.
        let elsewhere = through(
            &state,
            "logs",
            alice.clone(),
            OnBehalfOfCaller,
            vec![("Encrypt", encrypt.clone())],
        )
        .await;
        assert_eq!(
            elsewhere[0].as_ref().unwrap_err().code,
            "AccessDeniedException"
        );
        // An explicit Deny in alice's own policies still stops her, through the service too.
        let deny = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}]});
        as_root(
            &state,
            "iam",
            "PutUserPolicy",
            json!({"UserName": "alice", "PolicyName": "no-kms", "PolicyDocument": deny.to_string()}),
        )
        .await;
        state.state_changed();
        let denied = through(
            &state,
            "ssm",
            alice.clone(),
            OnBehalfOfCaller,
            vec![("Encrypt", encrypt)],
        )
        .await;
        assert_eq!(
            denied[0].as_ref().unwrap_err().code,
            "AccessDeniedException"
        );
        // Nobody changes an AWS managed key, the account's root user included.
        let root = Caller::root(ACCOUNT, "AKIAROOT");
        let disabled = through(
            &state,
            "ssm",
            root,
            OnBehalfOfCaller,
            vec![("DisableKey", json!({"KeyId": key}))],
        )
        .await;
        assert_eq!(
            disabled[0].as_ref().unwrap_err().code,
            "AccessDeniedException"
        );
        // The encryption is journaled as alice's, invoked by Parameter Store; the key's
        // making is not an API call and is not journaled.
        let events = journal(&state);
        let first = &events[0];
        assert_eq!(first["eventName"], "Encrypt");
        assert_eq!(first["userIdentity"]["type"], "IAMUser");
        assert_eq!(first["userIdentity"]["userName"], "alice");
        assert_eq!(first["userIdentity"]["invokedBy"], "ssm.amazonaws.com");
        assert_eq!(first["sourceIPAddress"], "ssm.amazonaws.com");
        assert!(events.iter().all(|e| e["eventName"] != "AwsManagedKey"));
        assert!(events.iter().all(|e| e["eventName"] != "CreateKey"));
    }
}
