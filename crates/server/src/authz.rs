//! Authorize: decide whether the caller may perform the operation's action on its resources,
//! with the policy engine, from the principal's compiled policies.
//!
//! Compiled policies are cached per principal and tagged with the write generation they were
//! read at; every committed write bumps the generation, so the very next request after any
//! change to a principal's policies, groups or boundary recompiles them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rampart_iam::authorization::{NamedDocument, PrincipalPolicies};
use rampart_iam::records::Tag;
use rampart_policy::{Context, EvaluationInput, Policy, PolicySet, Principal, Request};
use rampart_service::{Authorization, Caller, Operation, PrincipalKind, Value, aws_timestamp};
use rampart_store::Store;
use rampart_wire::AwsError;
use time::OffsetDateTime;

use crate::state::Generation;

/// Principals kept compiled; the cache is emptied when it grows past this.
const MAX_CACHED_PRINCIPALS: usize = 10_000;

/// A principal's policies, compiled.
struct CompiledPrincipal {
    generation: u64,
    identity: PolicySet,
    boundary: Option<PolicySet>,
    tags: Vec<Tag>,
    user_id: String,
}

/// The authorize step's state: the compiled-policy cache, tagged with the server's write
/// generation.
pub(crate) struct Authorizer {
    generation: Arc<Generation>,
    cache: Mutex<HashMap<String, Arc<CompiledPrincipal>>>,
}

/// What the authorize step knows about one request.
pub(crate) struct AuthzRequest<'a> {
    pub(crate) caller: &'a Caller,
    pub(crate) operation: &'a Operation,
    pub(crate) resources: &'a [String],
    pub(crate) input: &'a Value,
    pub(crate) source_ip: &'a str,
    pub(crate) user_agent: &'a str,
    pub(crate) region: &'a str,
    pub(crate) now: OffsetDateTime,
}

fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "authorization could not read the principal's policies");
    AwsError::new(
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error.",
    )
}

impl Authorizer {
    /// An empty cache whose entries are stale once `generation` moves on.
    pub(crate) fn new(generation: Arc<Generation>) -> Self {
        Self {
            generation,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Allows the call or refuses it with AWS's AccessDenied text.
    pub(crate) fn authorize(
        &self,
        store: &dyn Store,
        request: &AuthzRequest<'_>,
    ) -> Result<(), AwsError> {
        let caller = request.caller;
        if request.operation.authorization == Authorization::AlwaysAllowed {
            return Ok(());
        }
        // Root bypasses identity policies. It never bypasses SCPs, which arrive with
        // Organizations; until then no SCP can apply.
        if caller.is_root() {
            return Ok(());
        }
        let compiled = match (caller.kind, &caller.user_name) {
            (PrincipalKind::IamUser, Some(name)) => self.user(store, caller, name)?,
            // Other principals arrive with STS; until then they are denied by default.
            _ => Arc::new(CompiledPrincipal {
                generation: 0,
                identity: PolicySet::new(),
                boundary: None,
                tags: Vec::new(),
                user_id: caller.principal_id.clone(),
            }),
        };
        let principal = Principal::parse(&caller.arn).map_err(internal)?;
        let context = request_context(request, &compiled);
        let input = EvaluationInput {
            identity_policies: Some(&compiled.identity),
            permissions_boundary: compiled.boundary.as_ref(),
            ..EvaluationInput::default()
        };
        for resource in request.resources {
            let evaluation = Request::new(principal.clone(), request.operation.action, resource)
                .with_resource_account(&caller.account_id)
                .with_context(context.clone());
            let decision = rampart_policy::evaluate(&evaluation, &input);
            if !decision.is_allowed() {
                let message = rampart_policy::access_denied_message(&evaluation, &decision)
                    .unwrap_or_else(|| {
                        format!(
                            "User: {} is not authorized to perform: {} on resource: {resource}",
                            caller.arn, request.operation.action
                        )
                    });
                return Err(AwsError::new("AccessDenied", 403, message));
            }
        }
        Ok(())
    }

    fn user(
        &self,
        store: &dyn Store,
        caller: &Caller,
        name: &str,
    ) -> Result<Arc<CompiledPrincipal>, AwsError> {
        // Read the generation before the policies: a write landing in between leaves this
        // compilation marked stale rather than a stale compilation marked fresh.
        let generation = self.generation.current();
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&caller.arn).cloned())
            && hit.generation == generation
        {
            return Ok(hit);
        }
        let policies: PrincipalPolicies = store
            .read_with(|tx| rampart_iam::authorization::user_policies(tx, &caller.account_id, name))
            .map_err(internal)?;
        let compiled = Arc::new(CompiledPrincipal {
            generation,
            identity: compile(&policies.identity),
            boundary: policies
                .boundary
                .as_ref()
                .map(|b| compile(std::slice::from_ref(b))),
            tags: policies.tags,
            user_id: policies.unique_id,
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_PRINCIPALS {
                cache.clear();
            }
            cache.insert(caller.arn.clone(), Arc::clone(&compiled));
        }
        Ok(compiled)
    }
}

/// Compiles stored documents. They were validated when written; one that no longer parses
/// (a newer engine being stricter) is left out, which can only deny, never allow.
fn compile(documents: &[NamedDocument]) -> PolicySet {
    let mut set = PolicySet::new();
    for named in documents {
        match Policy::parse(&named.document) {
            Ok(policy) => set.add(&named.id, &policy),
            Err(e) => {
                tracing::warn!(policy = %named.id, error = %e, "stored policy no longer parses; ignored")
            }
        }
    }
    set
}

/// The global condition keys AWS puts in every request's context.
fn request_context(request: &AuthzRequest<'_>, principal: &CompiledPrincipal) -> Context {
    let caller = request.caller;
    let mut context = Context::new();
    context.insert("aws:PrincipalArn", caller.arn.as_str());
    context.insert("aws:PrincipalAccount", caller.account_id.as_str());
    let principal_type = match caller.kind {
        PrincipalKind::Root => "Account",
        PrincipalKind::IamUser => "User",
        PrincipalKind::AssumedRole => "AssumedRole",
        PrincipalKind::FederatedUser => "FederatedUser",
    };
    context.insert("aws:PrincipalType", principal_type);
    context.insert("aws:userid", principal.user_id.as_str());
    if let Some(name) = &caller.user_name {
        context.insert("aws:username", name.as_str());
    }
    for tag in &principal.tags {
        context.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.as_str());
    }
    context.insert("aws:SourceIp", request.source_ip);
    // Rampart serves plain HTTP on its endpoint.
    context.insert("aws:SecureTransport", "false");
    context.insert("aws:CurrentTime", aws_timestamp(request.now));
    context.insert("aws:EpochTime", request.now.unix_timestamp().to_string());
    context.insert("aws:RequestedRegion", request.region);
    context.insert("aws:UserAgent", request.user_agent);
    let tags = request_tags(request.input);
    if !tags.is_empty() {
        for (key, value) in &tags {
            context.insert(&format!("aws:RequestTag/{key}"), value.as_str());
        }
        context.insert_multi("aws:TagKeys", tags.iter().map(|(k, _)| k.as_str()));
    }
    context
}

/// The tags a request sets, in either spelling AWS's models use (`Key`/`Value` in IAM and
/// most services, `TagKey`/`TagValue` in KMS).
fn request_tags(input: &Value) -> Vec<(String, String)> {
    let Some(tags) = input.get("Tags").and_then(Value::as_array) else {
        return Vec::new();
    };
    tags.iter()
        .filter_map(|tag| {
            let key = tag.get("Key").or_else(|| tag.get("TagKey"))?.as_str()?;
            let value = tag.get("Value").or_else(|| tag.get("TagValue"))?.as_str()?;
            Some((key.to_owned(), value.to_owned()))
        })
        .collect()
}
