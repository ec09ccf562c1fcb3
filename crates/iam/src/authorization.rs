//! What the authorize step needs from IAM: a principal's identity policies, permissions
//! boundary and tags. The spine compiles and evaluates them; IAM only gathers them.

use rampart_store::ReadTx;

use crate::records::{self, Tag};
use crate::{IamError, policies};

/// A policy document and the name the decision reports it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDocument {
    /// The policy's ARN (managed) or `<entity ARN>/<policy name>` (inline).
    pub id: String,
    /// The JSON text.
    pub document: String,
}

/// Everything IAM holds about an IAM user that authorization evaluates.
#[derive(Debug, Clone, Default)]
pub struct UserPolicies {
    /// The user's own policies and those of its groups: inline and attached managed.
    pub identity: Vec<NamedDocument>,
    /// The permissions boundary, if one is set.
    pub boundary: Option<NamedDocument>,
    /// The user's tags (the `aws:PrincipalTag/*` keys).
    pub tags: Vec<Tag>,
    /// The user's unique ID (`aws:userid`).
    pub user_id: String,
}

/// Gathers the policies that apply to the IAM user `user_name` of `account_id`. A managed
/// policy that has disappeared contributes nothing (deny by default).
pub fn user_policies(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<UserPolicies, IamError> {
    let user = records::user(tx, account_id, user_name)?;
    let mut identity = Vec::new();
    for (name, document) in &user.inline_policies {
        identity.push(NamedDocument {
            id: format!("{}/{name}", user.arn),
            document: document.clone(),
        });
    }
    attached(tx, &user.attached_policies, &mut identity)?;
    for group_name in &user.groups {
        let group = records::group(tx, account_id, group_name)?;
        for (name, document) in &group.inline_policies {
            identity.push(NamedDocument {
                id: format!("{}/{name}", group.arn),
                document: document.clone(),
            });
        }
        attached(tx, &group.attached_policies, &mut identity)?;
    }
    let boundary = match &user.permissions_boundary {
        Some(arn) => policies::default_document(tx, arn)?.map(|document| NamedDocument {
            id: arn.clone(),
            document,
        }),
        None => None,
    };
    Ok(UserPolicies {
        identity,
        // A boundary that no longer resolves still bounds: an empty document allows nothing.
        boundary: boundary.or_else(|| {
            user.permissions_boundary.as_ref().map(|arn| NamedDocument {
                id: arn.clone(),
                document: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
            })
        }),
        tags: user.tags,
        user_id: user.user_id,
    })
}

fn attached(
    tx: &mut (impl ReadTx + ?Sized),
    arns: &[String],
    out: &mut Vec<NamedDocument>,
) -> Result<(), IamError> {
    for arn in arns {
        if let Some(document) = policies::default_document(tx, arn)? {
            out.push(NamedDocument {
                id: arn.clone(),
                document,
            });
        }
    }
    Ok(())
}
