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
    /// Someone an OpenID Connect provider vouches for, calling `AssumeRoleWithWebIdentity`.
    WebIdentityUser,
    /// Someone a SAML identity provider vouches for, calling `AssumeRoleWithSAML`.
    #[serde(rename = "SAMLUser")]
    SamlUser,
    /// An AWS service acting as its own principal (`cloudtrail.amazonaws.com`), in a call one
    /// service makes to another.
    #[serde(rename = "AWSService")]
    AwsService,
}

/// A caller that an identity provider vouches for (a web identity token or a SAML assertion
/// in the request), as the authenticate step established it for an operation declared
/// [`Authentication::Input`](crate::Authentication::Input).
#[derive(Debug, Clone, PartialEq)]
pub struct Federation {
    /// The caller: a [`PrincipalKind::WebIdentityUser`] or [`PrincipalKind::SamlUser`] whose
    /// `arn` is the IAM identity provider's ARN, the `Federated` principal trust policies
    /// name.
    pub caller: Caller,
    /// What CloudTrail's `userIdentity.identityProvider` says: the OIDC provider's ARN, or
    /// the SAML assertion's `saml:namequalifier`.
    pub identity_provider: String,
    /// The condition keys the verified token or assertion carries for the trust policy
    /// (`<provider>:sub`, `saml:aud`, …).
    pub condition_keys: Vec<(String, Vec<String>)>,
    /// What the provider vouched for, in the shape the operation's own crate gives it (its
    /// handler reads it back).
    pub claims: serde_json::Value,
}

/// What a session made with temporary credentials passes on to the role sessions it makes
/// (role chaining): its transitive session tags and its source identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inheritance {
    /// The calling session's tags whose keys it marked transitive.
    pub transitive_tags: Vec<(String, String)>,
    /// The calling session's source identity, which cannot change along the chain.
    pub source_identity: Option<String>,
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
    /// The access key that signed the request; empty for web identity and SAML users, who
    /// sign nothing.
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

    /// The service principal `principal` (`cloudtrail.amazonaws.com`), acting for a resource of
    /// `account_id` (where bare key IDs and names of its call resolve).
    pub fn service(principal: &str, account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            arn: principal.to_owned(),
            principal_id: principal.to_owned(),
            kind: PrincipalKind::AwsService,
            user_name: None,
            access_key_id: String::new(),
        }
    }

    /// Whether this caller is an AWS service's own principal.
    pub fn is_service(&self) -> bool {
        self.kind == PrincipalKind::AwsService
    }

    /// Whether this caller was authenticated by an identity provider's token or assertion
    /// rather than by a key of Rampart's.
    pub fn is_federated_by_provider(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::WebIdentityUser | PrincipalKind::SamlUser
        )
    }

    /// Whether this is an account's root user.
    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }
}
