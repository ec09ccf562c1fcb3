//! What the authorize step and the policy simulator need from IAM: a principal's identity
//! policies, permissions boundary and tags. The spine compiles and evaluates them; IAM only
//! gathers them.

use std::collections::BTreeMap;

use rampart_store::ReadTx;

use crate::records::{self, Tag};
use crate::{IamError, managed_policies, policies};

/// Where a policy comes from, as the simulator's `SourcePolicyType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySource {
    /// Inline in a user.
    User,
    /// Inline in a group.
    Group,
    /// Inline in a role.
    Role,
    /// An AWS managed policy.
    AwsManaged,
    /// A customer managed policy.
    UserManaged,
}

impl PolicySource {
    /// The simulator's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySource::User => "user",
            PolicySource::Group => "group",
            PolicySource::Role => "role",
            PolicySource::AwsManaged => "aws-managed",
            PolicySource::UserManaged => "user-managed",
        }
    }
}

/// A policy document and the name a decision reports it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDocument {
    /// The policy's ARN (managed) or its name (inline).
    pub id: String,
    /// Where it comes from.
    pub source: PolicySource,
    /// The JSON text.
    pub document: String,
}

/// Everything IAM holds about a principal that authorization evaluates.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    /// Its own policies and, for a user, its groups': inline and attached managed.
    pub identity: Vec<NamedDocument>,
    /// The permissions boundary, if one is set. A boundary whose policy has disappeared
    /// still bounds, with an empty document that allows nothing.
    pub boundary: Option<NamedDocument>,
    /// The principal's tags (the `aws:PrincipalTag/*` keys).
    pub tags: Vec<Tag>,
    /// The principal's unique ID (`aws:userid` for users).
    pub unique_id: String,
}

const EMPTY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

/// The policies that apply to the IAM user `user_name` of `account_id`.
pub fn user_policies(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<PrincipalPolicies, IamError> {
    let user = records::user(tx, account_id, user_name)?;
    let mut identity = inline(&user.inline_policies, PolicySource::User);
    if crate::login_profiles::users_may_change_own_password(tx, account_id)? {
        identity.push(change_own_password(&user.arn));
    }
    attached(tx, &user.attached_policies, &mut identity)?;
    for group_name in &user.groups {
        let group = records::group(tx, account_id, group_name)?;
        identity.extend(inline(&group.inline_policies, PolicySource::Group));
        attached(tx, &group.attached_policies, &mut identity)?;
    }
    Ok(PrincipalPolicies {
        identity,
        boundary: boundary(tx, user.permissions_boundary.as_deref())?,
        tags: user.tags,
        unique_id: user.user_id,
    })
}

/// The policies of the role `role_name` of `account_id`.
pub fn role_policies(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    role_name: &str,
) -> Result<PrincipalPolicies, IamError> {
    let role = records::role(tx, account_id, role_name)?;
    let mut identity = inline(&role.inline_policies, PolicySource::Role);
    attached(tx, &role.attached_policies, &mut identity)?;
    Ok(PrincipalPolicies {
        identity,
        boundary: boundary(tx, role.permissions_boundary.as_deref())?,
        tags: role.tags,
        unique_id: role.role_id,
    })
}

/// The policies of the group `group_name` of `account_id` (groups are simulated, never
/// principals themselves).
pub fn group_policies(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    group_name: &str,
) -> Result<PrincipalPolicies, IamError> {
    let group = records::group(tx, account_id, group_name)?;
    let mut identity = inline(&group.inline_policies, PolicySource::Group);
    attached(tx, &group.attached_policies, &mut identity)?;
    Ok(PrincipalPolicies {
        identity,
        boundary: None,
        tags: Vec::new(),
        unique_id: group.group_id,
    })
}

/// The account password policy's "allow users to change their own password" works as an
/// implicit policy: each user may change its own password and read the policy it must meet.
/// An explicit deny still wins.
fn change_own_password(user_arn: &str) -> NamedDocument {
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": user_arn},
            {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"}
        ]
    });
    NamedDocument {
        id: "AccountPasswordPolicy".to_owned(),
        source: PolicySource::AwsManaged,
        document: document.to_string(),
    }
}

fn inline(policies: &BTreeMap<String, String>, source: PolicySource) -> Vec<NamedDocument> {
    policies
        .iter()
        .map(|(name, document)| NamedDocument {
            id: name.clone(),
            source,
            document: document.clone(),
        })
        .collect()
}

fn boundary(
    tx: &mut (impl ReadTx + ?Sized),
    arn: Option<&str>,
) -> Result<Option<NamedDocument>, IamError> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    let document = policies::default_document(tx, arn)?.unwrap_or_else(|| EMPTY_POLICY.to_owned());
    Ok(Some(NamedDocument {
        id: arn.to_owned(),
        source: managed_source(arn),
        document,
    }))
}

fn managed_source(arn: &str) -> PolicySource {
    if managed_policies::get(arn).is_some() {
        PolicySource::AwsManaged
    } else {
        PolicySource::UserManaged
    }
}

/// A managed policy that has disappeared contributes nothing (deny by default).
fn attached(
    tx: &mut (impl ReadTx + ?Sized),
    arns: &[String],
    out: &mut Vec<NamedDocument>,
) -> Result<(), IamError> {
    for arn in arns {
        if let Some(document) = policies::default_document(tx, arn)? {
            out.push(NamedDocument {
                id: arn.clone(),
                source: managed_source(arn),
                document,
            });
        }
    }
    Ok(())
}
