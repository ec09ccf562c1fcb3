//! AWS's policy evaluation logic.
//!
//! Follows the IAM User Guide pages "Policy evaluation logic", "Policy
//! evaluation for requests within a single account" and "Cross-account policy
//! evaluation logic":
//!
//! 1. An explicit deny in any applicable policy decides (SCPs, RCPs, the
//!    resource policy, identity policies, the permissions boundary, session
//!    policies).
//! 2. SCPs: when the caller's account is a member of an organization (not its
//!    management account), every level from the root through each OU to the
//!    account must allow. They bind member accounts' root users too.
//! 3. RCPs are deny-only guardrails on the resource's account (the
//!    `RCPFullAWSAccess` policy AWS attaches everywhere allows the rest).
//! 4. Same account: a resource policy that names the user, the session or the
//!    federated user (or `*`) allows by itself; one that names the role ARN is
//!    still bounded by the boundary and session policies; one that names the
//!    account delegates to IAM policies. Otherwise identity policies must
//!    allow, within the boundary and the session policies.
//! 5. Cross account: the caller's side (identity, boundary, session) and the
//!    resource's side (resource policy) must both allow.
//! 6. Role trust policies and KMS key policies must allow
//!    ([`EvaluationMode::ResourcePolicyMustAllow`]); naming the account root
//!    there delegates to the account's IAM policies.
//! 7. A root user needs no identity policy in its own account; anonymous
//!    callers, services and web identities are judged by resource policies only.

use crate::compile::{PolicySet, ScanMode, ScanResult};
use crate::decision::{Decision, DecisionKind, MatchedStatement, PolicyType};
use crate::principal::{Grant, PrincipalKind};
use crate::request::Request;

/// Whether the resource's policy is the gatekeeper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EvaluationMode {
    /// Most services: identity or resource policy may allow.
    #[default]
    Normal,
    /// Role trust policies and KMS key policies: the resource policy must
    /// allow, directly or by naming the account (which delegates to IAM).
    ResourcePolicyMustAllow,
}

/// Every policy that bears on one request. Sets are compiled beforehand (see
/// [`PolicySet`]) and borrowed here.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationInput<'a> {
    /// The caller's identity policies (user and its groups, or the role).
    pub identity_policies: Option<&'a PolicySet>,
    /// The resource's policy (bucket policy, trust policy, key policy, …).
    pub resource_policy: Option<&'a PolicySet>,
    /// The caller's permissions boundary.
    pub permissions_boundary: Option<&'a PolicySet>,
    /// Session policies passed when the session was created.
    pub session_policies: Option<&'a PolicySet>,
    /// SCPs of the caller's account, one set per level from the organization
    /// root through each OU to the account. Empty: not in an organization.
    pub service_control_policies: &'a [&'a PolicySet],
    /// RCPs that apply to the resource's account (deny statements count).
    pub resource_control_policies: Option<&'a PolicySet>,
    /// The caller's account is the organization's management account (SCPs
    /// do not apply to it).
    pub principal_is_management_account: bool,
    /// The resource's account is the management account (RCPs do not apply).
    pub resource_is_management_account: bool,
    /// Whether the resource policy must allow.
    pub mode: EvaluationMode,
}

/// Decides one request.
pub fn evaluate(request: &Request, input: &EvaluationInput<'_>) -> Decision {
    let principal = &request.principal;
    let kind = principal.kind();
    let iam_principal = !matches!(
        kind,
        PrincipalKind::Anonymous | PrincipalKind::Service | PrincipalKind::WebIdentity
    );
    // Root users carry no identity policies or boundaries; a root session (STS AssumeRoot)
    // carries a session policy, its task policy.
    let has_identity_side = iam_principal && kind != PrincipalKind::Root;
    let resource_mode = ScanMode::NamesPrincipals {
        caller_has_boundary: has_identity_side && input.permissions_boundary.is_some(),
    };
    let mut matched: Vec<MatchedStatement> = Vec::with_capacity(8);
    let mut denied_by: Option<PolicyType> = None;
    let mut note = |result: ScanResult, policy_type: PolicyType| {
        if result.denied && denied_by.is_none() {
            denied_by = Some(policy_type);
        }
        result
    };

    let scps_apply = iam_principal
        && !input.principal_is_management_account
        && !input.service_control_policies.is_empty();
    let mut scps_allow = true;
    if scps_apply {
        for level in input.service_control_policies {
            let result = level.scan(
                request,
                ScanMode::AttachedToCaller,
                PolicyType::ServiceControlPolicy,
                &mut matched,
            );
            scps_allow &= note(result, PolicyType::ServiceControlPolicy).allowed != Grant::None;
        }
    }
    if let Some(rcps) = input
        .resource_control_policies
        .filter(|_| !input.resource_is_management_account)
    {
        note(
            rcps.scan(
                request,
                resource_mode,
                PolicyType::ResourceControlPolicy,
                &mut matched,
            ),
            PolicyType::ResourceControlPolicy,
        );
    }
    let resource = input.resource_policy.map(|set| {
        note(
            set.scan(
                request,
                resource_mode,
                PolicyType::ResourceBased,
                &mut matched,
            ),
            PolicyType::ResourceBased,
        )
    });
    let mut identity_side = |set: Option<&PolicySet>, policy_type| {
        set.filter(|_| has_identity_side).map(|set| {
            note(
                set.scan(
                    request,
                    ScanMode::AttachedToCaller,
                    policy_type,
                    &mut matched,
                ),
                policy_type,
            )
        })
    };
    let identity = identity_side(input.identity_policies, PolicyType::IdentityBased);
    let boundary = identity_side(input.permissions_boundary, PolicyType::PermissionsBoundary);
    let session = input.session_policies.filter(|_| iam_principal).map(|set| {
        note(
            set.scan(
                request,
                ScanMode::AttachedToCaller,
                PolicyType::SessionPolicy,
                &mut matched,
            ),
            PolicyType::SessionPolicy,
        )
    });

    let decide = |kind: DecisionKind, decided_by: Option<PolicyType>| Decision {
        kind,
        decided_by,
        matched_statements: Vec::new(),
    };
    let mut decision = if let Some(policy_type) = denied_by {
        decide(DecisionKind::ExplicitDeny, Some(policy_type))
    } else if !scps_allow {
        decide(
            DecisionKind::ImplicitDeny,
            Some(PolicyType::ServiceControlPolicy),
        )
    } else {
        let grant = resource.map_or(Grant::None, |r| r.allowed);
        let allows = |r: Option<ScanResult>| r.is_some_and(|r| r.allowed != Grant::None);
        // An absent boundary or session policy does not limit.
        let bounded = |r: Option<ScanResult>| r.is_none_or(|r| r.allowed != Grant::None);
        // Why the caller's own side fails, if it does.
        let caller_side_gap = if !allows(identity) {
            Some(PolicyType::IdentityBased)
        } else if !bounded(boundary) {
            Some(PolicyType::PermissionsBoundary)
        } else if !bounded(session) {
            Some(PolicyType::SessionPolicy)
        } else {
            None
        };
        let limits_gap = if !bounded(boundary) {
            Some(PolicyType::PermissionsBoundary)
        } else if !bounded(session) {
            Some(PolicyType::SessionPolicy)
        } else {
            None
        };
        let same_account = principal.account().is_some()
            && request.effective_resource_account() == principal.account();
        let must_allow = input.mode == EvaluationMode::ResourcePolicyMustAllow;
        let allow = |by| decide(DecisionKind::Allow, Some(by));
        let deny = |by| decide(DecisionKind::ImplicitDeny, Some(by));

        match kind {
            PrincipalKind::Anonymous | PrincipalKind::Service | PrincipalKind::WebIdentity => {
                if grant == Grant::Direct {
                    allow(PolicyType::ResourceBased)
                } else {
                    deny(PolicyType::ResourceBased)
                }
            }
            PrincipalKind::Root => {
                if !bounded(session) {
                    deny(PolicyType::SessionPolicy)
                } else if same_account && !must_allow {
                    decide(DecisionKind::Allow, None)
                } else if grant != Grant::None {
                    allow(PolicyType::ResourceBased)
                } else {
                    deny(PolicyType::ResourceBased)
                }
            }
            _ if same_account => match grant {
                Grant::Direct => allow(PolicyType::ResourceBased),
                Grant::Role => match limits_gap {
                    None => allow(PolicyType::ResourceBased),
                    Some(gap) => deny(gap),
                },
                Grant::None if must_allow => deny(PolicyType::ResourceBased),
                Grant::Account | Grant::None => match caller_side_gap {
                    None => allow(PolicyType::IdentityBased),
                    Some(gap) => deny(gap),
                },
            },
            _ => match (caller_side_gap, grant) {
                (Some(gap), _) => deny(gap),
                (None, Grant::None) => deny(PolicyType::ResourceBased),
                (None, _) => allow(PolicyType::ResourceBased),
            },
        }
    };
    decision.matched_statements = matched;
    decision
}
