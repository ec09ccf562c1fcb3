//! Authorize: decide whether the caller may perform the operation's action on its resources,
//! with the policy engine, from the principal's compiled policies.
//!
//! Compiled policies are cached per principal, tagged with the write generation they were
//! read at; every committed write bumps the generation, so the very next request after any
//! change to a principal's policies, groups or boundary recompiles them. An account's
//! organization guardrails (its SCP levels, its RCPs, its place in the tree) are cached per
//! account likewise, under a generation only Organizations' writes (and resets) bump: the
//! very next request after a change to an SCP, an RCP or the tree sees it, and the writes of
//! other services leave them cached.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rampart_authorization_reference::{ActionKeys, action_keys, is_multivalued};
use rampart_iam::authorization::{NamedDocument, PrincipalPolicies};
use rampart_iam::records::Tag;
use rampart_organizations::guardrails::{self, GuardrailPolicy};
use rampart_policy::{
    Context, EvaluationInput, EvaluationMode, Policy, PolicySet, Principal, Request,
};
use rampart_service::{
    Authorization, Caller, Operation, PrincipalKind, Resource, ResourcePolicy, Value, aws_timestamp,
};
use rampart_store::Store;
use rampart_sts::Session;
use rampart_wire::AwsError;
use time::OffsetDateTime;

use crate::state::Generation;

/// Principals kept compiled; the cache is emptied when it grows past this.
const MAX_CACHED_PRINCIPALS: usize = 10_000;

/// Resource policies kept compiled; the cache is emptied when it grows past this.
const MAX_CACHED_RESOURCE_POLICIES: usize = 1_000;

/// A resource policy as compiled: its text, what denials call it, and the unique IDs its
/// users and roles were bound to. The key is the content itself, so an entry is never stale.
type ResourcePolicyKey = (String, &'static str, Vec<(String, String)>);

/// A principal's policies, compiled.
struct CompiledPrincipal {
    generation: u64,
    identity: PolicySet,
    boundary: Option<PolicySet>,
    tags: Vec<Tag>,
}

/// The root user's policies: allowed everything its guardrails leave it. Compiled once.
static ROOT: LazyLock<Arc<CompiledPrincipal>> = LazyLock::new(|| {
    Arc::new(CompiledPrincipal {
        generation: 0,
        identity: compile(&[named("root", ALLOW_ALL)]),
        boundary: None,
        tags: Vec::new(),
    })
});

impl CompiledPrincipal {
    /// A principal with no policies: denied everything by default.
    fn nobody(generation: u64) -> Self {
        Self {
            generation,
            identity: PolicySet::new(),
            boundary: None,
            tags: Vec::new(),
        }
    }
}

/// An account's organization guardrails, compiled.
struct CompiledMembership {
    generation: u64,
    /// `None`: the account is in no organization.
    organization: Option<OrganizationGuardrails>,
}

struct OrganizationGuardrails {
    organization_id: String,
    /// `o-…/r-…/ou-…/`, the path of the account's parent.
    path: String,
    management_account: bool,
    /// One set per level, root first; empty when no SCP applies.
    service_control_policies: Vec<PolicySet>,
    /// Every level's RCPs; `None` when none apply.
    resource_control_policies: Option<PolicySet>,
}

impl CompiledMembership {
    fn scp_levels(&self) -> Vec<&PolicySet> {
        self.organization
            .iter()
            .flat_map(|o| &o.service_control_policies)
            .collect()
    }

    fn management_account(&self) -> bool {
        self.organization
            .as_ref()
            .is_some_and(|o| o.management_account)
    }
}

/// The organization guardrails that bear on one request.
struct RequestGuardrails {
    /// The caller's account's.
    principal: Arc<CompiledMembership>,
    /// The resource's account's (the caller's own for most requests).
    resource: Arc<CompiledMembership>,
    /// Whether the action belongs to a service whose resources RCPs guard.
    rcp_service: bool,
}

impl RequestGuardrails {
    /// The SCP levels that bind the caller (all of them, root user included).
    fn scp_levels(&self) -> Vec<&PolicySet> {
        self.principal.scp_levels()
    }

    /// The RCPs that guard `resource`: none for a call that names no resource, and none
    /// for services RCPs do not cover.
    fn rcps(&self, resource: &str) -> Option<&PolicySet> {
        self.resource
            .organization
            .as_ref()
            .and_then(|o| o.resource_control_policies.as_ref())
            .filter(|_| self.rcp_service && resource != "*")
    }
}

/// The authorize step's state: the compiled-policy and guardrail caches, tagged with the
/// server's write generation.
pub(crate) struct Authorizer {
    generation: Arc<Generation>,
    /// Moves on only when guardrails may have changed (an Organizations write, a reset).
    guardrail_generation: Arc<Generation>,
    cache: Mutex<HashMap<String, Arc<CompiledPrincipal>>>,
    memberships: Mutex<HashMap<String, Arc<CompiledMembership>>>,
    /// Key policies, trust policies and other resource policies, compiled once: parsing a
    /// key policy on each KMS call was some 8 % of a GetSecretValue.
    resource_policies: Mutex<HashMap<ResourcePolicyKey, Arc<PolicySet>>>,
}

/// What the authorize step knows about one request.
pub(crate) struct AuthzRequest<'a> {
    pub(crate) caller: &'a Caller,
    /// The session, when the request was signed with temporary credentials.
    pub(crate) session: Option<&'a Session>,
    pub(crate) operation: &'a Operation,
    /// The action authorized: the operation's own, or another it also needs (ReEncrypt's
    /// `kms:ReEncryptTo`).
    pub(crate) action: &'a str,
    /// The resources, each with its tags and condition keys.
    pub(crate) resources: &'a [Resource],
    /// The resource policy the operation declared (trust policy, key policy), if any.
    pub(crate) resource_policy: Option<&'a ResourcePolicy>,
    /// The request's condition keys (the operation's, the target's, an identity provider's).
    pub(crate) condition_keys: &'a [(String, Vec<String>)],
    pub(crate) input: &'a Value,
    pub(crate) source_ip: &'a str,
    pub(crate) user_agent: &'a str,
    pub(crate) region: &'a str,
    pub(crate) now: OffsetDateTime,
    /// Whether resource control policies guard the resources of the call's service.
    pub(crate) guarded_by_rcps: bool,
}

fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "authorization could not read the principal's policies");
    AwsError::new(
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error.",
    )
}

/// Whose stored policies apply to a caller. Users and roles are named for the lookup and
/// identified by their unique ID (`AIDA…`, `AROA…`): a name can be deleted and taken again by
/// another entity, and a federated user's name is whatever its issuer chose, so neither
/// ever keys a cache nor decides whose policies a session carries.
enum PolicyHolder<'a> {
    /// The root user: identity policies are bypassed.
    Root,
    /// An IAM user (directly, in a session from GetSessionToken, or behind a federated user).
    User { name: &'a str, id: &'a str },
    /// A role, for its sessions.
    Role { name: &'a str, id: &'a str },
    /// Nobody: a principal with no policies is denied by default.
    Nobody,
}

fn holder<'a>(caller: &'a Caller, session: Option<&'a Session>) -> PolicyHolder<'a> {
    match (caller.kind, session) {
        (PrincipalKind::Root, _) => PolicyHolder::Root,
        (PrincipalKind::IamUser, _) => match &caller.user_name {
            Some(name) => PolicyHolder::User {
                name,
                id: &caller.principal_id,
            },
            None => PolicyHolder::Nobody,
        },
        // A role session's principal ID is `AROA…:<session name>`.
        (PrincipalKind::AssumedRole, Some(session)) => {
            match (&session.role_name, caller.principal_id.split_once(':')) {
                (Some(name), Some((id, _))) => PolicyHolder::Role { name, id },
                _ => PolicyHolder::Nobody,
            }
        }
        (PrincipalKind::FederatedUser, Some(session)) => {
            match (&session.user_name, &session.user_id) {
                (Some(name), Some(id)) => PolicyHolder::User { name, id },
                // A user's federated session from before sessions named their user's ID.
                (Some(_), None) => PolicyHolder::Nobody,
                // The root user's federated users: root's permissions, cut by the session
                // policy.
                (None, _) => PolicyHolder::Root,
            }
        }
        _ => PolicyHolder::Nobody,
    }
}

/// What AWS refuses the temporary credentials of GetFederationToken and GetSessionToken,
/// whatever their policies allow. GetFederationToken's "cannot call any IAM operations … any
/// AWS STS operations except GetCallerIdentity"; GetSessionToken's "cannot call any IAM API
/// operations unless MFA authentication information is included in the request … any AWS
/// STS API except AssumeRole or GetCallerIdentity" (GetCallerIdentity needs no permission and
/// never gets here). IAM answers such a token as it answers one it does not know.
fn session_limits(
    caller: &Caller,
    session: &Session,
    request: &AuthzRequest<'_>,
) -> Option<AwsError> {
    let action = request.operation.action;
    let service = action.split_once(':').map_or("", |(service, _)| service);
    let (federated, user_session) = match caller.kind {
        PrincipalKind::FederatedUser => (true, false),
        // GetSessionToken's sessions: not a role's, not AssumeRoot's (a task's root session).
        PrincipalKind::IamUser | PrincipalKind::Root => (
            false,
            session.role_arn.is_none() && session.root_task_policy.is_none(),
        ),
        _ => (false, false),
    };
    let iam_refused =
        service == "iam" && (federated || (user_session && !session.mfa_authenticated));
    if iam_refused {
        return Some(AwsError::new(
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid",
        ));
    }
    // GetSessionToken and GetFederationToken refuse every temporary credential themselves,
    // with AWS's "Cannot call … with session credentials".
    let minted_by_handler = matches!(action, "sts:GetSessionToken" | "sts:GetFederationToken");
    let sts_refused = service == "sts"
        && !minted_by_handler
        && (federated || (user_session && action != "sts:AssumeRole"));
    sts_refused.then(|| {
        let resource = request.resources.first().map_or("*", |r| r.arn.as_str());
        AwsError::new(
            "AccessDenied",
            403,
            format!(
                "User: {} is not authorized to perform: {action} on resource: {resource}",
                caller.arn
            ),
        )
    })
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

impl Authorizer {
    /// Empty caches: compiled policies are stale once `generation` moves on, guardrails
    /// once `guardrail_generation` does.
    pub(crate) fn new(generation: Arc<Generation>, guardrail_generation: Arc<Generation>) -> Self {
        Self {
            generation,
            guardrail_generation,
            cache: Mutex::new(HashMap::new()),
            memberships: Mutex::new(HashMap::new()),
            resource_policies: Mutex::new(HashMap::new()),
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
        if let Some(session) = request.session
            && let Some(refusal) = session_limits(caller, session, request)
        {
            return Err(refusal);
        }
        let holder = holder(caller, request.session);
        let resource_account = request
            .resource_policy
            .map_or(caller.account_id.as_str(), |p| p.account_id.as_str());
        let guardrails = self.guardrails(store, request, resource_account)?;
        let scp_levels = guardrails.scp_levels();
        // Root bypasses identity policies, never guardrails. With no resource policy and no
        // guardrail to consult, there is nothing left to decide.
        if matches!(holder, PolicyHolder::Root)
            && request.resource_policy.is_none()
            && scp_levels.is_empty()
            && request
                .resources
                .iter()
                .all(|r| guardrails.rcps(&r.arn).is_none())
        {
            // Root's federated users and AssumeRoot's root sessions are cut down by their
            // session's policies.
            let scoped = request.session.is_some_and(|s| {
                s.caller.kind == PrincipalKind::FederatedUser || s.root_task_policy.is_some()
            });
            if !scoped {
                return Ok(());
            }
        }
        let compiled = match holder {
            PolicyHolder::User { name, id } => self.compiled(store, id, |tx| {
                rampart_iam::authorization::user_policies(tx, &caller.account_id, name)
            })?,
            PolicyHolder::Role { name, id } => self.compiled(store, id, |tx| {
                rampart_iam::authorization::role_policies(tx, &caller.account_id, name)
            })?,
            PolicyHolder::Root => Arc::clone(&ROOT),
            PolicyHolder::Nobody => Arc::new(CompiledPrincipal::nobody(0)),
        };
        let principal = match request.session.and_then(|s| s.role_arn.as_deref()) {
            // A web identity or SAML user is its provider, as trust policies name it.
            _ if caller.is_federated_by_provider() => Ok(Principal::web_identity(&caller.arn)),
            // A service's own principal (`cloudtrail.amazonaws.com`) holds no identity
            // policies: only what a resource policy grants it.
            _ if caller.is_service() => Ok(Principal::service(&caller.arn)),
            Some(role_arn) => Principal::assumed_role(&caller.arn, role_arn),
            None => Principal::parse(&caller.arn),
        }
        .map_err(internal)?;
        // Resource policies bind the users and roles they name to unique IDs: the caller is
        // its user (AIDA…) or its role (AROA…, before a session's `:<name>`).
        let principal = match holder {
            PolicyHolder::User { id, .. } | PolicyHolder::Role { id, .. } => {
                principal.with_unique_id(id)
            }
            PolicyHolder::Root | PolicyHolder::Nobody => principal,
        };
        let session_policies = session_policies(request.session);
        let resource_policy = request.resource_policy.map(|p| self.resource_policy(p));
        let mode = match request.resource_policy {
            Some(p) if p.must_allow => EvaluationMode::ResourcePolicyMustAllow,
            _ => EvaluationMode::Normal,
        };
        let input = EvaluationInput {
            identity_policies: Some(&compiled.identity),
            permissions_boundary: compiled.boundary.as_ref(),
            session_policies: session_policies.as_ref(),
            resource_policy: resource_policy.as_deref(),
            service_control_policies: &scp_levels,
            principal_is_management_account: guardrails.principal.management_account(),
            resource_is_management_account: guardrails.resource.management_account(),
            mode,
            ..EvaluationInput::default()
        };
        let action_keys = action_keys(request.action);
        for resource in request.resources {
            let mut context = request_context(request, &compiled, resource, action_keys);
            organization_keys(
                &mut context,
                &guardrails.principal,
                &guardrails.resource,
                resource_account,
            );
            let resource = resource.arn.as_str();
            let evaluation = Request::new(principal.clone(), request.action, resource)
                .with_resource_account(resource_account)
                .with_context(context);
            let input = EvaluationInput {
                resource_control_policies: guardrails.rcps(resource),
                ..input
            };
            let decision = rampart_policy::evaluate(&evaluation, &input);
            if !decision.is_allowed() && caller.is_federated_by_provider() {
                // AWS tells an identity provider's user no more than this.
                return Err(AwsError::new(
                    "AccessDenied",
                    403,
                    format!("Not authorized to perform {}", request.action),
                ));
            }
            if !decision.is_allowed() {
                let message = rampart_policy::access_denied_message(&evaluation, &decision)
                    .unwrap_or_else(|| {
                        format!(
                            "User: {} is not authorized to perform: {} on resource: {resource}",
                            caller.arn, request.action
                        )
                    });
                return Err(AwsError::new("AccessDenied", 403, message));
            }
        }
        Ok(())
    }

    /// The guardrails that bear on `request`: the caller's account's SCPs and the
    /// resource's account's RCPs.
    fn guardrails(
        &self,
        store: &dyn Store,
        request: &AuthzRequest<'_>,
        resource_account: &str,
    ) -> Result<RequestGuardrails, AwsError> {
        let caller = request.caller;
        // An identity provider's user and a service's own principal are no principals of an
        // account: no SCP binds them and they have no organization keys, while the RCPs of
        // what they touch still apply.
        let account_principal = !caller.is_federated_by_provider() && !caller.is_service();
        let principal = if !account_principal {
            Arc::new(CompiledMembership {
                generation: 0,
                organization: None,
            })
        } else {
            self.membership(store, &caller.account_id)?
        };
        let resource = if resource_account == caller.account_id && account_principal {
            Arc::clone(&principal)
        } else {
            self.membership(store, resource_account)?
        };
        Ok(RequestGuardrails {
            principal,
            resource,
            rcp_service: request.guarded_by_rcps,
        })
    }

    /// A resource policy compiled, from the cache when it was seen before.
    fn resource_policy(&self, policy: &ResourcePolicy) -> Arc<PolicySet> {
        let key: ResourcePolicyKey = (
            policy.document.clone(),
            policy.description,
            policy.principal_ids.0.clone(),
        );
        if let Some(hit) = self
            .resource_policies
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return hit;
        }
        let compiled = Arc::new(match Policy::parse(&policy.document) {
            Ok(parsed) => {
                PolicySet::single_bound(policy.description, &parsed, &policy.principal_ids.0)
            }
            // A stored resource policy that no longer parses allows nothing.
            Err(_) => PolicySet::new(),
        });
        if let Ok(mut cache) = self.resource_policies.lock() {
            if cache.len() >= MAX_CACHED_RESOURCE_POLICIES {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&compiled));
        }
        compiled
    }

    /// The organization guardrails of `account_id`, from the cache when current.
    fn membership(
        &self,
        store: &dyn Store,
        account_id: &str,
    ) -> Result<Arc<CompiledMembership>, AwsError> {
        // Read the generation first, as `compiled` does.
        let generation = self.guardrail_generation.current();
        if let Some(hit) = self
            .memberships
            .lock()
            .ok()
            .and_then(|c| c.get(account_id).cloned())
            && hit.generation == generation
        {
            return Ok(hit);
        }
        let membership = store
            .read_with(|tx| guardrails::membership(tx, account_id))
            .map_err(internal)?;
        let compiled = Arc::new(CompiledMembership {
            generation,
            organization: membership.map(|m| OrganizationGuardrails {
                service_control_policies: m
                    .service_control_policies
                    .iter()
                    .map(|level| compile_guardrails(level, SCP_DENY_ALL))
                    .collect(),
                resource_control_policies: (!m.resource_control_policies.is_empty())
                    .then(|| compile_guardrails(&m.resource_control_policies, RCP_DENY_ALL)),
                organization_id: m.organization_id,
                path: m.path,
                management_account: m.management_account,
            }),
        });
        if let Ok(mut cache) = self.memberships.lock() {
            if cache.len() >= MAX_CACHED_PRINCIPALS {
                cache.clear();
            }
            cache.insert(account_id.to_owned(), Arc::clone(&compiled));
        }
        Ok(compiled)
    }

    /// The compiled policies of the user or role whose unique ID is `id`, which `gather` reads
    /// by name, from the cache when current. When the name now belongs to another entity
    /// (the one the caller's session was made for was deleted and the name taken again), or
    /// to none, the caller holds no policies at all.
    fn compiled(
        &self,
        store: &dyn Store,
        id: &str,
        gather: impl FnOnce(
            &mut dyn rampart_store::ReadTx,
        ) -> Result<PrincipalPolicies, rampart_iam::IamError>,
    ) -> Result<Arc<CompiledPrincipal>, AwsError> {
        // Read the generation before the policies: a write landing in between leaves this
        // compilation marked stale rather than a stale compilation marked fresh.
        let generation = self.generation.current();
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(id).cloned())
            && hit.generation == generation
        {
            return Ok(hit);
        }
        let policies = store
            .read_with(|tx| match gather(tx) {
                Ok(policies) => Ok(Some(policies)),
                Err(rampart_iam::IamError::NoSuchEntity(_)) => Ok(None),
                Err(e) => Err(e),
            })
            .map_err(internal)?;
        let compiled = Arc::new(match policies {
            Some(policies) if policies.unique_id == id => CompiledPrincipal {
                generation,
                identity: compile(&policies.identity),
                boundary: policies
                    .boundary
                    .as_ref()
                    .map(|b| compile(std::slice::from_ref(b))),
                tags: policies.tags,
            },
            _ => CompiledPrincipal::nobody(generation),
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_PRINCIPALS {
                cache.clear();
            }
            cache.insert(id.to_owned(), Arc::clone(&compiled));
        }
        Ok(compiled)
    }
}

fn named(id: &str, document: &str) -> NamedDocument {
    NamedDocument {
        id: id.to_owned(),
        source: rampart_iam::authorization::PolicySource::AwsManaged,
        document: document.to_owned(),
    }
}

/// The session's policies, when they limit it: a role session's only when some were passed,
/// a federated user's always (with none, it can do nothing, as AWS documents), an AssumeRoot
/// session's task policy always.
fn session_policies(session: Option<&Session>) -> Option<PolicySet> {
    let session = session?;
    // A root-task policy only denies: the root session may do what root may, less that. A
    // task policy Rampart no longer knows allows nothing.
    if let Some(arn) = &session.root_task_policy {
        return Some(match rampart_iam::managed_policies::root_task_policy(arn) {
            Some(document) => compile(&[named(arn, document), named("root", ALLOW_ALL)]),
            None => PolicySet::new(),
        });
    }
    let federated = session.caller.kind == PrincipalKind::FederatedUser;
    if session.policies.is_empty() && !federated {
        return None;
    }
    let documents: Vec<NamedDocument> = session
        .policies
        .iter()
        .enumerate()
        .map(|(i, d)| named(&format!("session-policy-{}", i + 1), d))
        .collect();
    Some(compile(&documents))
}

/// Compiles SCPs or RCPs (`deny_all` is the document standing in for one that no longer
/// parses). They were validated when written; one that a newer, stricter engine refuses
/// denies everything rather than being dropped, since dropping a Deny would fail open.
fn compile_guardrails(policies: &[GuardrailPolicy], deny_all: &str) -> PolicySet {
    let mut set = PolicySet::new();
    for policy in policies {
        let parsed = Policy::parse(&policy.content).or_else(|e| {
            tracing::warn!(policy = %policy.id, error = %e, "stored organization policy no longer parses; it denies everything");
            Policy::parse(deny_all)
        });
        if let Ok(parsed) = parsed {
            set.add(&policy.id, &parsed);
        }
    }
    set
}

const SCP_DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
const RCP_DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// The organization keys of the request context: `aws:PrincipalOrgID` and
/// `aws:PrincipalOrgPaths` when the caller's account is in an organization,
/// `aws:ResourceOrgID` and `aws:ResourceOrgPaths` when the resource's is, and
/// `aws:ResourceAccount`.
fn organization_keys(
    context: &mut Context,
    principal: &CompiledMembership,
    resource: &CompiledMembership,
    resource_account: &str,
) {
    if let Some(org) = &principal.organization {
        context.insert("aws:PrincipalOrgID", org.organization_id.as_str());
        context.insert_multi("aws:PrincipalOrgPaths", [org.path.as_str()]);
    }
    if let Some(org) = &resource.organization {
        context.insert("aws:ResourceOrgID", org.organization_id.as_str());
        context.insert_multi("aws:ResourceOrgPaths", [org.path.as_str()]);
    }
    context.insert("aws:ResourceAccount", resource_account);
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

/// The request context for one resource: the global keys AWS puts in every request's
/// context, the request's tags, the resource's tags and keys, and the request's own keys.
/// A key of the action's service and a tag key are kept only where AWS lists them for the
/// action (`action_keys`), so a resource can describe itself fully without a key reaching an
/// action whose context AWS never gives it.
fn request_context(
    request: &AuthzRequest<'_>,
    principal: &CompiledPrincipal,
    resource: &Resource,
    action_keys: Option<&ActionKeys>,
) -> Context {
    let caller = request.caller;
    let mut context = Context::with_capacity(48);
    let session = request.session;
    // A role session's aws:PrincipalArn is its role's ARN, as AWS documents.
    let principal_arn = session
        .and_then(|s| s.role_arn.as_deref())
        .unwrap_or(caller.arn.as_str());
    let principal_type = match caller.kind {
        PrincipalKind::Root => Some("Account"),
        PrincipalKind::IamUser => Some("User"),
        PrincipalKind::AssumedRole => Some("AssumedRole"),
        PrincipalKind::FederatedUser => Some("FederatedUser"),
        // An identity provider's user is no principal of AWS's: the trust policy sees its
        // provider's keys instead. A service's own principal has its own keys
        // (aws:PrincipalServiceName), which the evaluation derives from the principal.
        PrincipalKind::WebIdentityUser | PrincipalKind::SamlUser | PrincipalKind::AwsService => {
            None
        }
    };
    if let Some(principal_type) = principal_type {
        context.insert("aws:PrincipalArn", principal_arn);
        context.insert("aws:PrincipalAccount", caller.account_id.as_str());
        context.insert("aws:PrincipalType", principal_type);
        // AIDA… for a user, AROA…:<session> for a role session, <account>:<name> for a
        // federated user, the account ID for root: the caller's principal ID, as AWS sets it.
        context.insert("aws:userid", caller.principal_id.as_str());
    }
    if principal_type.is_some()
        && let Some(name) = &caller.user_name
    {
        context.insert("aws:username", name.as_str());
    }
    for tag in &principal.tags {
        context.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.as_str());
    }
    if let Some(session) = session {
        session_keys(&mut context, session, request.now);
    }
    context.insert("aws:SourceIp", request.source_ip);
    // Rampart serves plain HTTP on its endpoint.
    context.insert("aws:SecureTransport", "false");
    context.insert("aws:CurrentTime", aws_timestamp(request.now));
    context.insert("aws:EpochTime", request.now.unix_timestamp().to_string());
    context.insert("aws:RequestedRegion", request.region);
    context.insert("aws:UserAgent", request.user_agent);
    let tags = request_tags(request.input);
    for (key, value) in &tags.tags {
        context.insert(&format!("aws:RequestTag/{key}"), value.as_str());
    }
    if !tags.keys.is_empty() {
        context.insert_multi("aws:TagKeys", tags.keys.iter().map(String::as_str));
    }
    for (key, value) in &resource.tags {
        context.insert(&format!("aws:ResourceTag/{key}"), value.as_str());
    }
    // Always present, as AWS has it: `true` only for a call a service makes on a principal's
    // behalf (a forward access session), which the spine sets with the call's keys below.
    // Without it, a Deny on `"Bool": {"aws:ViaAWSService": "false"}` would never apply.
    context.insert("aws:ViaAWSService", "false");
    // The request's keys come last: a key the request sets (CreateUser's
    // iam:PermissionsBoundary) wins over the resource's current one.
    for (key, values) in resource.condition_keys.iter().chain(request.condition_keys) {
        insert_key(&mut context, key, values);
    }
    // An action the reference does not list yet (newer than it) keeps what its operation
    // declares; the conformance test names each such action with its reason.
    if let Some(keys) = action_keys {
        context.retain(|key| keys.supplies(key));
    }
    context
}

/// What a session adds to every request it signs: its tags, MFA, its age, its source identity.
fn session_keys(context: &mut Context, session: &Session, now: OffsetDateTime) {
    // Session tags override the role's tags of the same key.
    for (key, value) in &session.tags {
        context.insert(&format!("aws:PrincipalTag/{key}"), value.as_str());
    }
    context.insert(
        "aws:MultiFactorAuthPresent",
        if session.mfa_authenticated {
            "true"
        } else {
            "false"
        },
    );
    if session.mfa_authenticated {
        let age = now.unix_timestamp() - session.issued_at;
        context.insert("aws:MultiFactorAuthAge", age.to_string());
    }
    if let Ok(issued) = OffsetDateTime::from_unix_timestamp(session.issued_at) {
        context.insert("aws:TokenIssueTime", aws_timestamp(issued));
    }
    if let Some(identity) = &session.source_identity {
        context.insert("aws:SourceIdentity", identity.as_str());
    }
    for (key, values) in &session.identity_keys {
        insert_key(context, key, values);
    }
}

/// Sets `key`: single-valued when AWS defines it so and it has one value, so that a policy
/// variable can be substituted from it; multivalued otherwise.
fn insert_key(context: &mut Context, key: &str, values: &[String]) {
    match values {
        [value] if !is_multivalued(key) => context.insert(key, value.as_str()),
        _ => context.insert_multi(key, values.iter().map(String::as_str)),
    }
}

/// The tags a request sets (`aws:RequestTag/*`) and the tag keys it names (`aws:TagKeys`).
#[derive(Debug, Default, PartialEq)]
struct RequestTags {
    tags: Vec<(String, String)>,
    keys: Vec<String>,
}

/// Reads the tags of a request in every spelling AWS's models use: `Tags` of `Key`/`Value`
/// (IAM, STS, Organizations) or `TagKey`/`TagValue` (KMS), CloudTrail's `TagsList`, and the
/// `TagKeys` an untagging request names.
fn request_tags(input: &Value) -> RequestTags {
    let mut found = RequestTags::default();
    for member in ["Tags", "TagsList"] {
        let Some(tags) = input.get(member).and_then(Value::as_array) else {
            continue;
        };
        for tag in tags {
            let Some(key) = tag
                .get("Key")
                .or_else(|| tag.get("TagKey"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            found.keys.push(key.to_owned());
            if let Some(value) = tag
                .get("Value")
                .or_else(|| tag.get("TagValue"))
                .and_then(Value::as_str)
            {
                found.tags.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    if let Some(keys) = input.get("TagKeys").and_then(Value::as_array) {
        found
            .keys
            .extend(keys.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    found
}

/// The contexts `request` is evaluated with, one per resource, without deciding: the
/// conformance test reads what every operation supplies.
#[cfg(test)]
pub(crate) fn contexts(request: &AuthzRequest<'_>) -> Vec<(String, Context)> {
    let principal = CompiledPrincipal::nobody(0);
    let keys = action_keys(request.action);
    request
        .resources
        .iter()
        .map(|r| (r.arn.clone(), request_context(request, &principal, r, keys)))
        .collect()
}
