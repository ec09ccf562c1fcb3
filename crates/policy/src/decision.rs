//! The outcome of an evaluation.
//!
//! CAUTION: the server renders these into AccessDenied messages and the audit
//! trail; renaming variants changes what clients and auditors see.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::model::Effect;

/// Allow, or which kind of deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DecisionKind {
    /// Some policy allows and nothing denies.
    Allow,
    /// A statement with `"Effect": "Deny"` applies.
    ExplicitDeny,
    /// Nothing denies, but what must allow does not.
    ImplicitDeny,
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::ExplicitDeny => "ExplicitDeny",
            Self::ImplicitDeny => "ImplicitDeny",
        })
    }
}

/// The kinds of policy AWS evaluates, as its AccessDenied messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PolicyType {
    /// Policies attached to the user, its groups, or the role.
    IdentityBased,
    /// The resource's policy (including trust and key policies).
    ResourceBased,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// Session policies passed when the session was created.
    SessionPolicy,
    /// AWS Organizations service control policies.
    ServiceControlPolicy,
    /// AWS Organizations resource control policies.
    ResourceControlPolicy,
}

impl PolicyType {
    /// The phrase AWS uses in AccessDenied messages ("identity-based policy").
    pub fn phrase(self) -> &'static str {
        match self {
            Self::IdentityBased => "identity-based policy",
            Self::ResourceBased => "resource-based policy",
            Self::PermissionsBoundary => "permissions boundary",
            Self::SessionPolicy => "session policy",
            Self::ServiceControlPolicy => "service control policy",
            Self::ResourceControlPolicy => "resource control policy",
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedStatement {
    /// The kind of policy it belongs to.
    pub policy_type: PolicyType,
    /// The id its policy was compiled under.
    pub policy_id: Arc<str>,
    /// Its position in the policy's `Statement` list.
    pub statement_index: usize,
    /// Its `Sid`, if any.
    pub sid: Option<Arc<str>>,
    /// Its effect.
    pub effect: Effect,
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allow, explicit deny, or implicit deny.
    pub kind: DecisionKind,
    /// The policy type that decided: for a deny, the one that denied or failed
    /// to allow; for an allow, the one that granted (`None` for a root user
    /// acting in its own account, which needs no grant).
    pub decided_by: Option<PolicyType>,
    /// Every statement that applied, deny and allow, in evaluation order.
    pub matched_statements: Vec<MatchedStatement>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.kind == DecisionKind::Allow
    }
}
