//! The spine, step by step, for one AWS request.
//!
//! Authentication comes before decoding, as AWS does it: an unauthenticated caller learns
//! nothing about input validation, and a signature error wins over a validation error. The
//! exception is an operation authenticated by its input (a web identity token, a SAML
//! assertion): its input is decoded first, then authenticates the caller.

use std::net::SocketAddr;
use std::sync::Arc;

use http::request::Parts;
use rampart_service::{
    Access, AfterSuccess, Authentication, AuthorizationTarget, AwsError, Caller, CompletedCall,
    Env, Federation, Handler, Inheritance, NoServiceCalls, Operation, Service, Value,
};
use rampart_store::{Memoized, ReadTx, StoreError};
use rampart_sts::Session;
use rampart_wire::{OperationModel, Protocol, ServiceModel};
use time::OffsetDateTime;

use crate::audit::{AuditEvent, CallRecord, RecordedResource, ServiceFacts, SessionFacts};
use crate::authn;
use crate::authz::AuthzRequest;
use crate::calls::{Calling, CallsOf, Recorded};
use crate::route::{self, Route};
use crate::state::AppState;

/// An encoded answer, ready for HTTP.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) request_id: String,
    /// Headers the protocol adds (`smithy-protocol`, `x-amzn-query-error`).
    pub(crate) headers: Vec<(&'static str, String)>,
}

const XML_CONTENT_TYPE: &str = "text/xml";
const INTERNAL_MESSAGE: &str = "The request processing has failed because of an unknown error.";

fn internal_failure(context: &str, e: &StoreError) -> AwsError {
    tracing::error!(error = %e, "{context}");
    AwsError::new("InternalFailure", 500, INTERNAL_MESSAGE)
}

/// Runs one request through route, authenticate, decode, authorize, handle, audit and encode.
pub(crate) async fn handle(
    state: Arc<AppState>,
    parts: Parts,
    body: bytes::Bytes,
    peer: SocketAddr,
) -> Reply {
    let request_id = new_id();
    let signed = rampart_sigv4::parse(&parts);
    let signing_service = signed.as_ref().ok().map(|s| s.service());
    let protocol = route::protocol_of(&parts);
    // The signature covers `body` as sent; routing and decoding read it inflated.
    let payload =
        match crate::content_encoding::decoded(&parts, &body, route::max_body_bytes(protocol)) {
            Ok(payload) => payload,
            Err(e) => return encode_error(protocol, None, &e, request_id),
        };
    let route = match route::resolve(&parts, &payload, signing_service) {
        Ok(route) => route,
        Err(e) => return encode_error(protocol, None, &e, request_id),
    };
    let service = state.registry.get(route.model.endpoint_prefix());
    let mut record = CallRecord {
        request_id: request_id.clone(),
        event_id: new_id(),
        event_time: OffsetDateTime::now_utc(),
        event_source: service.map_or_else(
            || format!("{}.amazonaws.com", route.model.endpoint_prefix()),
            |s| s.event_source().to_owned(),
        ),
        event_name: route.operation.name().to_owned(),
        region: signed
            .as_ref()
            .map(|s| s.region().to_owned())
            .unwrap_or_else(|_| state.config.region.clone()),
        source_ip: peer.ip().to_string(),
        user_agent: header(&parts, http::header::USER_AGENT),
        access_key_id: signed.as_ref().ok().map(|s| s.access_key_id().to_owned()),
        caller: None,
        request_parameters: None,
        read_only: true,
        records_response: false,
        usage: None,
        session: None,
        resources: Vec::new(),
        event_resources: Vec::new(),
        facts: service
            .map(|s| ServiceFacts::of(s.as_ref()))
            .unwrap_or_default(),
        identity_provider: None,
        recipient_account: None,
        invoked_by: None,
    };
    let prepared = prepare(
        &state,
        &parts,
        (&body, &payload),
        signed,
        &route,
        &mut record,
    );
    let outcome = match prepared {
        Ok(call) => execute(&state, call, &route, record).await,
        Err(e) => match crate::failure_throttle::failure_event(&state, &record, &e) {
            None => Err(e),
            Some(event) => {
                match append_event(&state, event, record.usage, Recorded::default()).await {
                    Ok(()) => Err(e),
                    Err(audit_failure) => Err(audit_failure),
                }
            }
        },
    };
    match outcome {
        Ok(output) => encode_output(
            route.protocol,
            route.model,
            route.operation,
            &output,
            request_id,
        ),
        Err(e) => encode_error(route.protocol, Some(route.model), &e, request_id),
    }
}

thread_local! {
    /// Each worker thread's generator of request and event IDs, seeded from the operating
    /// system once per thread.
    static IDS: std::cell::RefCell<Xoshiro256> = std::cell::RefCell::new(Xoshiro256::from_os());
}

/// A fresh random (version 4) UUID, lower-case and hyphenated, for a request or event ID.
/// IDs must be unique, not secret: a per-thread xoshiro256++ (2^256 - 1 period, 256 bits of
/// OS-random seed per thread) spares a `getrandom` system call per ID.
pub(crate) fn new_id() -> String {
    let bytes = IDS.with(|ids| ids.borrow_mut().next_u128()).to_le_bytes();
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut buf).to_owned()
}

/// xoshiro256++ (Blackman and Vigna): fast, statistically strong, not cryptographic.
struct Xoshiro256([u64; 4]);

impl Xoshiro256 {
    fn from_os() -> Self {
        let seed = |uuid: uuid::Uuid| uuid.as_u64_pair();
        let (a, b) = seed(uuid::Uuid::new_v4());
        let (c, d) = seed(uuid::Uuid::new_v4());
        // An all-zero state would stay zero; OS randomness makes that a 2^-244 event, and
        // one fixed bit rules it out.
        Self([a | 1, b, c, d])
    }

    fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.0;
        let result = s0.wrapping_add(*s3).rotate_left(23).wrapping_add(*s0);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }
}

/// A call that passed authentication and decoding, ready to be authorized and handled.
struct ReadyCall {
    party: Party,
    service: Arc<dyn Service>,
    /// The decoded input, moved into the handler once the call is authorized.
    input: Value,
}

/// Who makes a call, and what that brings to its authorization and its handler.
pub(crate) struct Party {
    pub(crate) caller: Caller,
    /// The session, when the call was signed with temporary credentials.
    pub(crate) session: Option<Arc<Session>>,
    /// What the calling session passes on to sessions the handler makes.
    pub(crate) inherited: Option<Inheritance>,
    /// What an identity provider vouched for, for calls authenticated by their input.
    pub(crate) federation: Option<Federation>,
    /// The request's own condition keys: the operation's, and an identity provider's.
    pub(crate) condition_keys: Vec<(String, Vec<String>)>,
}

/// The body comes as sent (what the signature covers) and as the decoders read it.
fn prepare(
    state: &AppState,
    parts: &Parts,
    (body, payload): (&[u8], &[u8]),
    signed: Result<rampart_sigv4::SignedRequest, rampart_sigv4::SigV4Error>,
    route: &Route,
    record: &mut CallRecord,
) -> Result<ReadyCall, AwsError> {
    let model = route.model;
    let name = route.operation.name();
    let service = state.registry.get(model.endpoint_prefix()).cloned();
    let by_input = match service
        .as_ref()
        .and_then(|s| s.operation(name))
        .map(|op| op.authentication)
    {
        None if route.operation.is_unsigned() => return Err(not_implemented(model, name)),
        Some(Authentication::Input(authenticate, addressee)) => Some((authenticate, addressee)),
        _ => None,
    };
    // Another node's change committed before this request began is seen by it: caches of
    // stored state (credentials, policies, guardrails) are dropped when the shared store moved.
    state.catch_up_with_store();
    // Operations authenticated by their input need no signature; one that comes anyway must
    // verify, so a request never passes with a bad signature on it.
    let signer = match signed {
        Ok(signed) => Some(authn::authenticate(
            state,
            parts,
            body,
            &signed,
            model,
            route.protocol,
        )?),
        Err(rampart_sigv4::SigV4Error::MissingAuthenticationToken) if by_input.is_some() => None,
        Err(e) => return Err(authn::sigv4_error(&e, route.protocol)),
    };
    if let Some(signer) = &signer {
        note_caller(
            state,
            record,
            &signer.caller,
            signer.session.as_deref(),
            model,
        );
    }
    let Some(service) = service else {
        return Err(not_implemented(model, name));
    };
    let operation = service
        .operation(name)
        .ok_or_else(|| not_implemented_in(service.as_ref(), model, name))?;
    let recording = operation.recording();
    record.read_only = recording.read_only;
    record.records_response = recording.response;
    let input = match route.protocol {
        Protocol::Query => rampart_wire::decode_query(model, route.operation, &route.params),
        Protocol::Json(_) => rampart_wire::decode_json(model, route.operation, payload),
        Protocol::RpcV2Cbor => rampart_wire::decode_cbor(model, route.operation, payload),
    }?;
    record.request_parameters = Some(rampart_wire::record_input(
        route.operation,
        &input,
        record.facts.style,
    ));
    let (caller, session, federation) = match (by_input, signer) {
        (Some((authenticate, addressee)), _) => {
            let federation = authn::authenticate_input(state, authenticate, &input, record)
                .inspect_err(|_| record.recipient_account = addressee(&input))?;
            record.caller = Some(federation.caller.clone());
            record.session = None;
            record.identity_provider = Some(federation.identity_provider.clone());
            (federation.caller.clone(), None, Some(federation))
        }
        (None, Some(signer)) => (signer.caller, signer.session, None),
        // A signature is required above when the operation is not authenticated by input.
        (None, None) => {
            return Err(authn::sigv4_error(
                &rampart_sigv4::SigV4Error::MissingAuthenticationToken,
                route.protocol,
            ));
        }
    };
    let inherited = session.as_deref().map(inheritance);
    let mut env = env(
        state,
        &caller,
        &record.region,
        &record.request_id,
        record.event_time,
    );
    env.inherited = inherited.as_ref();
    env.federation = federation.as_ref();
    let mut condition_keys = operation
        .condition_keys
        .map(|keys| keys(&env, &input))
        .unwrap_or_default();
    if let Some(federation) = &federation {
        condition_keys.extend(federation.condition_keys.iter().cloned());
    }
    Ok(ReadyCall {
        party: Party {
            caller,
            session,
            inherited,
            federation,
            condition_keys,
        },
        service,
        input,
    })
}

impl Party {
    /// The handler's environment for this call.
    fn env<'a>(&'a self, state: &'a AppState, record: &'a CallRecord) -> Env<'a> {
        let mut env = env(
            state,
            &self.caller,
            &record.region,
            &record.request_id,
            record.event_time,
        );
        env.inherited = self.inherited.as_ref();
        env.federation = self.federation.as_ref();
        env
    }
}

/// What the request must be authorized for, read on `tx`: the targets the operation looks
/// up, or its own action on the resources it names, with their resource policy.
pub(crate) fn authorization_targets(
    operation: &Operation,
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    if let Some(lookup) = operation.authorization_targets {
        return lookup(env, tx, input);
    }
    let resource_policy = match operation.resource_policy {
        Some(lookup) => lookup(env, tx, input)?,
        None => None,
    };
    Ok(vec![AuthorizationTarget {
        action: None,
        resources: (operation.resources)(env, tx, input)?,
        resource_policy,
        condition_keys: Vec::new(),
        denial: None,
    }])
}

/// The ARNs an event names: each target's resources, once each (a role authorized for
/// sts:AssumeRole and sts:TagSession is one resource of the event).
pub(crate) fn event_resources(targets: &[AuthorizationTarget]) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    for resource in targets.iter().flat_map(|t| &t.resources) {
        if !arns.contains(&resource.arn) {
            arns.push(resource.arn.clone());
        }
    }
    arns
}

/// Decides every target of a call `party` makes with `input`, each of which must allow.
pub(crate) fn authorize(
    state: &AppState,
    party: &Party,
    input: &Value,
    operation: &Operation,
    targets: &[AuthorizationTarget],
    record: &CallRecord,
    protocol: Protocol,
) -> Result<(), AwsError> {
    for target in targets {
        let keys = if target.condition_keys.is_empty() {
            std::borrow::Cow::Borrowed(party.condition_keys.as_slice())
        } else {
            // A target's own keys win over the request's (ReEncrypt's source and destination
            // sides each have their kms:EncryptionAlgorithm).
            std::borrow::Cow::Owned(
                [party.condition_keys.as_slice(), &target.condition_keys].concat(),
            )
        };
        state
            .authorizer
            .authorize(
                state.store.as_ref(),
                &AuthzRequest {
                    caller: &party.caller,
                    session: party.session.as_deref(),
                    operation,
                    action: target.action.unwrap_or(operation.action),
                    resources: &target.resources,
                    resource_policy: target.resource_policy.as_ref(),
                    condition_keys: &keys,
                    input,
                    source_ip: &record.source_ip,
                    user_agent: &record.user_agent,
                    region: &record.region,
                    now: record.event_time,
                    guarded_by_rcps: record.facts.guarded_by_rcps,
                },
            )
            .map_err(|e| match &target.denial {
                Some(denial) => denial.clone(),
                None => denial_for(protocol, record.facts.denial_code, e),
            })?;
    }
    Ok(())
}

/// Notes who signed the call, for its event and its usage.
fn note_caller(
    state: &AppState,
    record: &mut CallRecord,
    caller: &Caller,
    session: Option<&Session>,
    model: &ServiceModel,
) {
    record.usage = state.usage.due(
        caller,
        model.endpoint_prefix(),
        &record.region,
        record.event_time,
    );
    record.caller = Some(caller.clone());
    record.session = session.map(SessionFacts::of);
}

/// What a session passes on to the role sessions it makes.
fn inheritance(session: &Session) -> Inheritance {
    Inheritance {
        transitive_tags: session
            .tags
            .iter()
            .filter(|(key, _)| {
                session
                    .transitive_tag_keys
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(key))
            })
            .cloned()
            .collect(),
        source_identity: session.source_identity.clone(),
    }
}

/// AWS's JSON services name a denial `AccessDeniedException` and answer 400; its Query
/// services say `AccessDenied` with 403, unless the service names it otherwise (SNS's
/// `AuthorizationError`).
fn denial_for(protocol: Protocol, code: Option<&'static str>, error: AwsError) -> AwsError {
    if let Some(code) = code
        && error.code == "AccessDenied"
    {
        return AwsError::new(code, error.status, error.message);
    }
    match protocol {
        Protocol::Json(_) | Protocol::RpcV2Cbor if error.code == "AccessDenied" => {
            AwsError::new("AccessDeniedException", 400, error.message)
        }
        _ => error,
    }
}

fn not_implemented(model: &ServiceModel, operation: &str) -> AwsError {
    not_implemented_as(model.signing_name(), operation)
}

/// An operation a served service lacks, named by the service's IAM prefix, which its served
/// operations' actions show (CloudWatch signs as `monitoring`, authorizes as `cloudwatch`).
fn not_implemented_in(service: &dyn Service, model: &ServiceModel, operation: &str) -> AwsError {
    let prefix = service
        .operation_names()
        .first()
        .and_then(|name| service.operation(name))
        .and_then(|op| op.action.split_once(':'))
        .map_or(model.signing_name(), |(prefix, _)| prefix);
    not_implemented_as(prefix, operation)
}

fn not_implemented_as(prefix: &str, operation: &str) -> AwsError {
    AwsError::new(
        "NotImplemented",
        501,
        format!("Rampart does not implement {prefix}:{operation} yet (see docs/COVERAGE.md)"),
    )
}

pub(crate) fn env<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    region: &'a str,
    request_id: &'a str,
    now: OffsetDateTime,
) -> Env<'a> {
    Env {
        caller,
        region,
        request_id,
        now,
        root_key: &state.root_key,
        entropy: state.entropy.as_ref(),
        inherited: None,
        federation: None,
        rate_limits: &state.rate_limits,
        calls: &NoServiceCalls,
        directory: &crate::directory::ServedAccounts,
    }
}

/// Decides and runs the call, and makes its event durable. What is decided is what the
/// handler uses: a read is looked up, authorized and handled on one snapshot; a write is
/// decided on a snapshot, then looked up again inside its transaction and decided again
/// there if what it touches changed meanwhile (a key disabled, a policy replaced).
async fn execute(
    state: &Arc<AppState>,
    call: ReadyCall,
    route: &Route,
    mut record: CallRecord,
) -> Result<Value, AwsError> {
    let op_model = route.operation;
    let protocol = route.protocol;
    let access = call
        .service
        .operation(op_model.name())
        .map(Operation::access);
    if access == Some(Access::Write) {
        return execute_write(state, call, route, record).await;
    }
    let ReadyCall {
        party,
        service,
        input,
    } = call;
    let Some(operation) = service.operation(op_model.name()) else {
        return Err(not_implemented(route.model, op_model.name()));
    };
    let Handler::Read(handler) = &operation.handler else {
        return Err(AwsError::new("InternalFailure", 500, INTERNAL_MESSAGE));
    };
    let mut resources = Vec::new();
    let calls = CallsOf::new(
        state,
        Calling {
            party: Some(&party),
            service: service.name(),
            region: &record.region,
            request_id: &record.request_id,
            now: record.event_time,
            source_ip: &record.source_ip,
            user_agent: &record.user_agent,
        },
    );
    let outcome = {
        let mut env = party.env(state, &record);
        env.calls = &calls;
        state
            .store
            .read_with(|snapshot| {
                // The authorization step and the handler resolve the same records: decode once.
                let tx = &mut Memoized::new(snapshot);
                Ok::<_, StoreError>(authorization_targets(operation, &env, tx, &input).and_then(
                    |targets| {
                        resources = event_resources(&targets);
                        authorize(
                            state, &party, &input, operation, &targets, &record, protocol,
                        )?;
                        handler(&env, tx, input)
                    },
                ))
            })
            .map_err(|e| internal_failure("read transaction failed", &e))
            .and_then(|r| r)
    };
    record.event_resources = RecordedResource::of(&resources, &state.registry);
    record.resources = resources;
    // A read's response is recorded only where AWS records it (GetFederationToken's).
    let redacted = match &outcome {
        Ok(output) if record.records_response => Some(rampart_wire::record_output(
            op_model,
            output,
            record.facts.style,
        )),
        _ => None,
    };
    let event = record.event(outcome.as_ref().map(|_| redacted.as_ref()));
    let recorded = calls.into_recorded(
        outcome.is_ok(),
        outcome
            .as_ref()
            .ok()
            .and_then(|output| after_success(service.as_ref(), &record, &event, output)),
    );
    append_event(state, event, record.usage, recorded).await?;
    outcome
}

/// What the service does after its call succeeded, in the transaction of the call's event.
pub(crate) fn after_success(
    service: &dyn Service,
    record: &CallRecord,
    event: &AuditEvent,
    output: &Value,
) -> Option<AfterSuccess> {
    let event_id_in = |account: &str| {
        event
            .entries()
            .find(|e| e.account == Some(account))
            .map_or_else(|| record.event_id.clone(), |e| e.event_id.to_owned())
    };
    service.after_success(&CompletedCall {
        operation: &record.event_name,
        resources: &record.resources,
        time: record.event_time,
        request_id: &record.request_id,
        event_id_in: &event_id_in,
        output,
    })
}

async fn execute_write(
    state: &Arc<AppState>,
    call: ReadyCall,
    route: &Route,
    mut record: CallRecord,
) -> Result<Value, AwsError> {
    let op_model = route.operation;
    let protocol = route.protocol;
    let ReadyCall {
        party,
        service,
        input,
    } = call;
    let Some(operation) = service.operation(op_model.name()) else {
        return Err(not_implemented(route.model, op_model.name()));
    };
    // Decided on a snapshot, off the writer: most writes find the same targets in their
    // transaction and need no second decision there.
    let decided = {
        let env = party.env(state, &record);
        state
            .store
            .read_with(|tx| Ok::<_, StoreError>(authorization_targets(operation, &env, tx, &input)))
            .map_err(|e| internal_failure("authorization lookup failed", &e))
            .and_then(|r| r)
            .and_then(|targets| {
                authorize(
                    state, &party, &input, operation, &targets, &record, protocol,
                )
                .map(|()| targets)
            })
    };
    let decided = match decided {
        Ok(targets) => targets,
        Err(e) => {
            append_event(
                state,
                record.event(Err(&e)),
                record.usage,
                Recorded::default(),
            )
            .await?;
            return Err(e);
        }
    };
    record.resources = event_resources(&decided);
    record.event_resources = RecordedResource::of(&record.resources, &state.registry);
    let shared = Arc::clone(state);
    let changes_guardrails = service.changes_guardrails();
    let work = move |tx: &mut dyn rampart_store::WriteTx| {
        let mut outcome = None;
        let mut resources = None;
        let mut input = Some(input);
        let (region, request_id) = (record.region.clone(), record.request_id.clone());
        let (source_ip, user_agent) = (record.source_ip.clone(), record.user_agent.clone());
        let calls = CallsOf::new(
            &shared,
            Calling {
                party: Some(&party),
                service: service.name(),
                region: &region,
                request_id: &request_id,
                now: record.event_time,
                source_ip: &source_ip,
                user_agent: &user_agent,
            },
        );
        {
            let mut env = party.env(&shared, &record);
            env.calls = &calls;
            let operation = service.operation(op_model.name());
            tx.atomically(&mut |tx| {
                let result = match (operation, input.take()) {
                    (
                        Some(
                            operation @ Operation {
                                handler: Handler::Write(handler),
                                ..
                            },
                        ),
                        Some(input),
                    ) => authorization_targets(operation, &env, tx, &input).and_then(|targets| {
                        if targets != decided {
                            authorize(
                                &shared, &party, &input, operation, &targets, &record, protocol,
                            )?;
                            resources = Some(event_resources(&targets));
                        }
                        handler(&env, tx, input)
                    }),
                    _ => Err(AwsError::new("InternalFailure", 500, INTERNAL_MESSAGE)),
                };
                let ok = result.is_ok();
                outcome = Some(result);
                ok
            })?;
        }
        if let Some(resources) = resources {
            record.event_resources = RecordedResource::of(&resources, &shared.registry);
            record.resources = resources;
        }
        let outcome =
            outcome.unwrap_or_else(|| Err(AwsError::new("InternalFailure", 500, INTERNAL_MESSAGE)));
        let redacted = outcome
            .as_ref()
            .ok()
            .map(|output| rampart_wire::record_output(op_model, output, record.facts.style));
        let event = record.event(match &outcome {
            Ok(_) => Ok(redacted.as_ref()),
            Err(e) => Err(e),
        });
        for entry in event.entries() {
            tx.append_journal(&entry)?;
        }
        if let Some(usage) = &record.usage {
            usage.record(tx)?;
        }
        let recorded = calls.into_recorded(
            outcome.is_ok(),
            outcome
                .as_ref()
                .ok()
                .and_then(|output| after_success(service.as_ref(), &record, &event, output)),
        );
        recorded.write(tx)?;
        Ok::<_, StoreError>(outcome)
    };
    let outcome = state
        .store
        .write_with(work)
        .await
        .map_err(|e| internal_failure("write transaction failed", &e))?;
    if outcome.is_ok() {
        // Before the answer leaves: the caller's next request must see the change.
        state.service_state_changed(changes_guardrails);
    }
    outcome
}

/// Appends `event` (and the call's usage) and waits until it is durable: no answer leaves
/// before its event is kept.
async fn append_event(
    state: &AppState,
    event: AuditEvent,
    usage: Option<crate::usage::Usage>,
    recorded: Recorded,
) -> Result<(), AwsError> {
    let outcome = match usage {
        // The append alone is one statement: it needs no savepoint of its own.
        None if event.is_single() && recorded.is_empty() => {
            state
                .store
                .write_single_change_with(move |tx| tx.append_journal(&event.entry()).map(|_| ()))
                .await
        }
        usage => {
            state
                .store
                .write_with(move |tx| {
                    for entry in event.entries() {
                        tx.append_journal(&entry)?;
                    }
                    recorded.write(tx)?;
                    usage.map_or(Ok(()), |usage| usage.record(tx))
                })
                .await
        }
    };
    outcome.map_err(|e: StoreError| internal_failure("the audit event could not be written", &e))
}

fn header(parts: &Parts, name: http::header::HeaderName) -> String {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn encode_output(
    protocol: Protocol,
    model: &ServiceModel,
    operation: &OperationModel,
    output: &Value,
    request_id: String,
) -> Reply {
    match protocol {
        Protocol::Query => Reply {
            status: 200,
            content_type: XML_CONTENT_TYPE,
            body: rampart_wire::encode_query_response(model, operation, output, &request_id)
                .into_bytes(),
            request_id,
            headers: Vec::new(),
        },
        Protocol::Json(_) => Reply {
            status: 200,
            content_type: protocol.content_type(),
            body: rampart_wire::encode_json_response(model, operation, output),
            request_id,
            headers: Vec::new(),
        },
        Protocol::RpcV2Cbor => Reply {
            status: 200,
            content_type: rampart_wire::CBOR_CONTENT_TYPE,
            body: rampart_wire::encode_cbor_response(model, operation, output),
            request_id,
            headers: vec![cbor_marker()],
        },
    }
}

/// The header every RPC v2 CBOR response carries.
fn cbor_marker() -> (&'static str, String) {
    (
        rampart_wire::SMITHY_PROTOCOL_HEADER,
        rampart_wire::RPC_V2_CBOR.to_owned(),
    )
}

pub(crate) fn encode_error(
    protocol: Protocol,
    model: Option<&ServiceModel>,
    error: &AwsError,
    request_id: String,
) -> Reply {
    // An `awsQueryCompatible` service tells JSON and CBOR clients the Query code too.
    let query_error = model
        .and_then(|m| m.query_error_header(error))
        .map(|h| ("x-amzn-query-error", h));
    let error_type = model.map_or_else(|| error.code.to_string(), |m| m.error_type(error));
    match protocol {
        Protocol::Query => Reply {
            status: error.status,
            content_type: XML_CONTENT_TYPE,
            body: rampart_wire::encode_query_error(model, error, &request_id).into_bytes(),
            request_id,
            headers: Vec::new(),
        },
        Protocol::Json(_) => Reply {
            status: error.status,
            content_type: protocol.content_type(),
            body: rampart_wire::encode_json_error_as(&error_type, error),
            request_id,
            headers: query_error.into_iter().collect(),
        },
        Protocol::RpcV2Cbor => Reply {
            status: error.status,
            content_type: rampart_wire::CBOR_CONTENT_TYPE,
            body: rampart_wire::encode_cbor_error(&error_type, error),
            request_id,
            headers: std::iter::once(cbor_marker()).chain(query_error).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_uuids_and_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = new_id();
            let parsed = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(id, parsed.hyphenated().to_string());
            assert!(seen.insert(id));
        }
        // Another thread draws from its own, differently seeded generator.
        let other = std::thread::spawn(|| (0..1000).map(|_| new_id()).collect::<Vec<_>>())
            .join()
            .unwrap();
        assert!(other.into_iter().all(|id| seen.insert(id)));
    }
}
