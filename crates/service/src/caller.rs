//! Who is calling: the principal that authentication established.

use serde::{Deserialize, Serialize};

/// The kind of principal, as CloudTrail's `userIdentity.type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// An account's root user.
    Root,
    /// An IAM user.
    #[serde(rename = "IAMUser")]
    IamUser,
    /// A role session made by `AssumeRole*`.
    AssumedRole,
    /// A federated user made by `GetFederationToken`.
    FederatedUser,
}

/// The authenticated principal of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The principal's account.
    pub account_id: String,
    /// The principal's ARN, e.g. `arn:aws:iam::123456789012:root`.
    pub arn: String,
    /// The unique ID AWS reports as `UserId`: the account ID for root, `AIDA…` for a user,
    /// `AROA…:session` for a role session.
    pub principal_id: String,
    /// What kind of principal this is.
    pub kind: PrincipalKind,
    /// The user's name, for IAM users.
    pub user_name: Option<String>,
    /// The access key that signed the request.
    pub access_key_id: String,
}

impl Caller {
    /// The root user of `account_id`, signing with `access_key_id`.
    pub fn root(account_id: &str, access_key_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            principal_id: account_id.to_owned(),
            kind: PrincipalKind::Root,
            user_name: None,
            access_key_id: access_key_id.to_owned(),
        }
    }

    /// Whether this is an account's root user.
    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }
}
