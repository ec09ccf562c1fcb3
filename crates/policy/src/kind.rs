//! Which elements each kind of policy requires or forbids.
//!
//! The grammar is shared, but IAM rejects a `Principal` in an identity policy
//! and requires one in a trust policy; S3 requires one in a bucket policy.

use crate::error::PolicyError;
use crate::json_path::JsonPath;
use crate::model::Policy;

/// Where a policy is used. Decides which elements it must or must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PolicyKind {
    /// Attached to a user, group or role.
    Identity,
    /// Attached to a resource (bucket policy, secret policy, …).
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
    /// An AWS Organizations service control policy.
    Scp,
    /// An AWS Organizations resource control policy.
    Rcp,
    /// A session policy passed to `AssumeRole` / `GetFederationToken`.
    Session,
    /// A KMS key policy.
    KeyPolicy,
    /// A permissions boundary.
    Boundary,
}

impl PolicyKind {
    /// Whether statements must name a principal.
    pub fn requires_principal(self) -> bool {
        matches!(
            self,
            Self::Resource | Self::Trust | Self::KeyPolicy | Self::Rcp
        )
    }

    /// Whether statements may not name a principal.
    pub fn forbids_principal(self) -> bool {
        matches!(
            self,
            Self::Identity | Self::Scp | Self::Session | Self::Boundary
        )
    }

    /// Whether statements must name resources.
    pub fn requires_resource(self) -> bool {
        !matches!(self, Self::Trust)
    }

    /// Whether statements may not name resources (trust policies: the role
    /// itself is the resource).
    pub fn forbids_resource(self) -> bool {
        matches!(self, Self::Trust)
    }

    /// Whether `NotPrincipal` is accepted (IAM rejects it in identity and trust
    /// policies, and SCPs and RCPs do not support it).
    pub fn allows_not_principal(self) -> bool {
        matches!(self, Self::Resource | Self::KeyPolicy)
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Resource => "resource",
            Self::Trust => "trust",
            Self::Scp => "scp",
            Self::Rcp => "rcp",
            Self::Session => "session",
            Self::KeyPolicy => "key",
            Self::Boundary => "boundary",
        }
    }

    /// Every kind.
    pub const ALL: [PolicyKind; 8] = [
        Self::Identity,
        Self::Resource,
        Self::Trust,
        Self::Scp,
        Self::Rcp,
        Self::Session,
        Self::KeyPolicy,
        Self::Boundary,
    ];
}

/// Checks `policy` against the rules of `kind`, in IAM's words.
pub(crate) fn check(policy: &Policy, kind: PolicyKind, text: &str) -> Result<(), PolicyError> {
    for (i, statement) in policy.statements.iter().enumerate() {
        let path = JsonPath::default().key("Statement");
        let path = if policy.statement_was_array {
            path.index(i)
        } else {
            path
        };
        let error = |at: JsonPath, message: &str| PolicyError::malformed(message, at.locate(text));
        match &statement.principal {
            Some((negated, _)) if kind.forbids_principal() => {
                let field = if *negated {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                let message = if kind == PolicyKind::Identity {
                    "Policy document should not specify a principal.".to_owned()
                } else {
                    format!("Has prohibited field {field}")
                };
                return Err(error(path.key(field), &message));
            }
            Some((true, _)) if !kind.allows_not_principal() => {
                return Err(error(
                    path.key("NotPrincipal"),
                    "Has prohibited field NotPrincipal",
                ));
            }
            None if kind.requires_principal() => {
                return Err(error(path, "Missing required field Principal"));
            }
            _ => {}
        }
        match &statement.resource {
            Some((negated, _)) if kind.forbids_resource() => {
                let field = if *negated { "NotResource" } else { "Resource" };
                return Err(error(
                    path.key(field),
                    &format!("Has prohibited field {field}"),
                ));
            }
            None if kind.requires_resource() => {
                return Err(error(path, "Policy statement must contain resources."));
            }
            _ => {}
        }
    }
    Ok(())
}
