//! Who makes a request, and how `Principal` / `NotPrincipal` elements match it.

use std::fmt;

use thiserror::Error;

use crate::arn::split_components;
use crate::model::PrincipalType;

/// The kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PrincipalKind {
    /// An unauthenticated caller.
    Anonymous,
    /// An account's root user.
    Root,
    /// An IAM user.
    User,
    /// An IAM role itself (as the IAM policy simulator evaluates a role).
    Role,
    /// An assumed-role session (`arn:aws:sts::…:assumed-role/Role/session`).
    AssumedRole,
    /// A federated user session from `GetFederationToken`.
    FederatedUser,
    /// An AWS service principal (`ec2.amazonaws.com`).
    Service,
    /// A web identity or SAML provider (trust policies of `AssumeRoleWith…`).
    WebIdentity,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    kind: PrincipalKind,
    /// The ARN (or service name / provider) that identifies the caller.
    id: Box<str>,
    account: Option<Box<str>>,
    /// For users: the user name; for sessions: the role name.
    name: Option<Box<str>>,
    /// For sessions: the role's ARN (with its path when known).
    role_arn: Option<Box<str>>,
    /// The unique ID of the IAM entity behind the caller, when known: the user's (`AIDA…`),
    /// or the role's (`AROA…`) for a role and its sessions. Resource policies bind the users
    /// and roles they name to these IDs.
    unique_id: Option<Box<str>>,
}

/// A principal string that names no caller Rampart knows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid principal `{0}`: expected an account id, a user, role, assumed-role or federated-user ARN, a service principal, a provider, or `anonymous`"
)]
pub struct PrincipalParseError(String);

/// Web identity providers that appear in `Federated` principals without an ARN.
const WEB_IDENTITY_PROVIDERS: [&str; 4] = [
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
];

impl Principal {
    /// Reads a principal as the request file and the IAM simulator name them:
    /// `anonymous`, a 12-digit account id (its root user), an ARN of a root
    /// user, user, role, assumed-role session or federated user, a SAML/OIDC
    /// provider ARN, a web identity provider, or a service principal.
    pub fn parse(text: &str) -> Result<Self, PrincipalParseError> {
        let invalid = || PrincipalParseError(text.to_owned());
        if text.eq_ignore_ascii_case("anonymous") {
            return Ok(Self::anonymous());
        }
        if is_account_id(text) {
            return Ok(Self::root(text));
        }
        if WEB_IDENTITY_PROVIDERS.contains(&text) {
            return Ok(Self::web_identity(text));
        }
        let Some([arn, partition, service, _region, account, resource]) =
            split_components(text, false)
        else {
            return if !text.contains(':') && !text.contains('/') && text.contains('.') {
                Ok(Self::service(text))
            } else {
                Err(invalid())
            };
        };
        if arn != "arn" || partition.is_empty() || !is_account_id(account) {
            return Err(invalid());
        }
        let (kind_part, rest) = resource.split_once('/').unwrap_or((resource, ""));
        let last = rest.rsplit('/').next().unwrap_or("");
        match (service, kind_part) {
            ("iam", "root") if rest.is_empty() => Ok(Self::root(account)),
            ("iam", "user") if !last.is_empty() => {
                Ok(Self::with(PrincipalKind::User, text, account, last, None))
            }
            ("iam", "role") if !last.is_empty() => {
                Ok(Self::with(PrincipalKind::Role, text, account, last, None))
            }
            ("iam", "saml-provider" | "oidc-provider") if !rest.is_empty() => {
                Ok(Self::web_identity(text))
            }
            ("sts", "assumed-role") => {
                let (role, session) = rest.split_once('/').ok_or_else(invalid)?;
                if role.is_empty() || session.is_empty() {
                    return Err(invalid());
                }
                let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
                Ok(Self::with(
                    PrincipalKind::AssumedRole,
                    text,
                    account,
                    role,
                    Some(role_arn),
                ))
            }
            ("sts", "federated-user") if !rest.is_empty() => Ok(Self::with(
                PrincipalKind::FederatedUser,
                text,
                account,
                rest,
                None,
            )),
            _ => Err(invalid()),
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Self {
        Self {
            kind: PrincipalKind::Anonymous,
            id: "anonymous".into(),
            account: None,
            name: None,
            role_arn: None,
            unique_id: None,
        }
    }

    /// The root user of `account`.
    pub fn root(account: &str) -> Self {
        Self {
            kind: PrincipalKind::Root,
            id: format!("arn:aws:iam::{account}:root").into(),
            account: Some(account.into()),
            name: None,
            role_arn: None,
            unique_id: None,
        }
    }

    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    pub fn service(name: &str) -> Self {
        Self {
            kind: PrincipalKind::Service,
            id: name.into(),
            account: None,
            name: None,
            role_arn: None,
            unique_id: None,
        }
    }

    /// A web identity or SAML provider (the `Federated` principal of a trust policy).
    pub fn web_identity(provider: &str) -> Self {
        Self {
            kind: PrincipalKind::WebIdentity,
            id: provider.into(),
            account: None,
            name: None,
            role_arn: None,
            unique_id: None,
        }
    }

    /// An assumed-role session whose role's full ARN (with path) is known, as
    /// the server knows it; `session_arn` is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub fn assumed_role(session_arn: &str, role_arn: &str) -> Result<Self, PrincipalParseError> {
        let mut principal = Self::parse(session_arn)?;
        if principal.kind != PrincipalKind::AssumedRole {
            return Err(PrincipalParseError(session_arn.to_owned()));
        }
        principal.role_arn = Some(role_arn.into());
        Ok(principal)
    }

    /// This principal, known to be the IAM entity with unique ID `id` (the user's `AIDA…`,
    /// or the role's `AROA…` for a role or one of its sessions).
    pub fn with_unique_id(mut self, id: &str) -> Self {
        self.unique_id = Some(id.into());
        self
    }

    fn with(
        kind: PrincipalKind,
        arn: &str,
        account: &str,
        name: &str,
        role_arn: Option<String>,
    ) -> Self {
        Self {
            kind,
            id: arn.into(),
            account: Some(account.into()),
            name: Some(name.into()),
            role_arn: role_arn.map(String::into_boxed_str),
            unique_id: None,
        }
    }

    /// The kind of caller.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The caller's ARN; the service name for services, the provider for web
    /// identities, `anonymous` for anonymous callers.
    pub fn arn(&self) -> &str {
        &self.id
    }

    /// The caller's account, if it has one.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// For sessions, the ARN of the role.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Values of global condition keys that follow from who the caller is
    /// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username`,
    /// `aws:PrincipalIsAWSService`, `aws:PrincipalServiceName`), for keys the
    /// request context does not set itself. `key` is lowercased.
    pub(crate) fn derived_value(&self, key: &str) -> Option<&str> {
        match key {
            // For role sessions AWS reports the role's ARN, not the session's.
            "aws:principalarn" => match self.kind {
                PrincipalKind::Anonymous | PrincipalKind::Service | PrincipalKind::WebIdentity => {
                    None
                }
                PrincipalKind::AssumedRole => self.role_arn.as_deref(),
                _ => Some(&self.id),
            },
            "aws:principalaccount" => self.account.as_deref(),
            "aws:username" => match self.kind {
                PrincipalKind::User => self.name.as_deref(),
                _ => None,
            },
            "aws:principalisawsservice" => match self.kind {
                PrincipalKind::Anonymous => None,
                PrincipalKind::Service => Some("true"),
                _ => Some("false"),
            },
            "aws:principalservicename" => {
                (self.kind == PrincipalKind::Service).then_some(&*self.id)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// How strongly a `Principal` element names the caller. The strength decides
/// whether a same-account resource-policy grant bypasses identity policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// Not named.
    None,
    /// Named through its account: the account delegates to its IAM policies.
    Account,
    /// A session named through its role's ARN: still bounded by the
    /// permissions boundary and session policies.
    Role,
    /// Named directly (user, session, federated user ARN, `*`, service, provider).
    Direct,
}

/// One compiled entry of a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalMatcher {
    Any,
    Account(Box<str>),
    Role {
        account: Box<str>,
        name: Box<str>,
    },
    Arn(Box<str>),
    /// A user or role named by ARN in a stored policy, bound when the policy was saved to
    /// the entity's unique ID: only that entity matches, whatever holds the name now (AWS's
    /// guard against deleting and re-creating a principal). An empty ID matches nothing.
    Bound {
        id: Box<str>,
        role: bool,
    },
    Service(Box<str>),
    Federated(Box<str>),
    /// Canonical user ids name S3 owners, which Rampart's callers never are.
    Never,
}

impl PrincipalMatcher {
    /// The matcher of `value`; `bound` is the unique ID a stored policy bound it to.
    pub(crate) fn new(principal_type: PrincipalType, value: &str, bound: Option<&str>) -> Self {
        match principal_type {
            PrincipalType::Aws => match (Self::aws(value), bound) {
                (Self::Role { .. }, Some(id)) => Self::Bound {
                    id: id.into(),
                    role: true,
                },
                (Self::Arn(_), Some(id)) => Self::Bound {
                    id: id.into(),
                    role: false,
                },
                (matcher, _) => matcher,
            },
            PrincipalType::Service => Self::Service(value.into()),
            PrincipalType::Federated => Self::Federated(value.into()),
            PrincipalType::CanonicalUser => Self::Never,
        }
    }

    fn aws(value: &str) -> Self {
        if value == "*" {
            return Self::Any;
        }
        if is_account_id(value) {
            return Self::Account(value.into());
        }
        if let Some([_, _, "iam", _, account, resource]) = split_components(value, false) {
            if resource == "root" {
                return Self::Account(account.into());
            }
            if let Some(path_and_name) = resource.strip_prefix("role/") {
                let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
                return Self::Role {
                    account: account.into(),
                    name: name.into(),
                };
            }
        }
        Self::Arn(value.into())
    }

    /// How this entry names `p`.
    pub(crate) fn grant(&self, p: &Principal) -> Grant {
        let named = match self {
            Self::Any => return Grant::Direct,
            Self::Account(account) => {
                return match (p.account.as_deref() == Some(&**account), p.kind) {
                    (true, PrincipalKind::Root) => Grant::Direct,
                    (true, _) => Grant::Account,
                    (false, _) => Grant::None,
                };
            }
            Self::Role { account, name } => {
                let same_role =
                    p.account.as_deref() == Some(&**account) && p.name.as_deref() == Some(&**name);
                return match p.kind {
                    PrincipalKind::AssumedRole if same_role => Grant::Role,
                    PrincipalKind::Role if same_role => Grant::Direct,
                    _ => Grant::None,
                };
            }
            Self::Bound { id, role } => {
                let same = !id.is_empty() && p.unique_id.as_deref() == Some(&**id);
                return match p.kind {
                    PrincipalKind::AssumedRole if same && *role => Grant::Role,
                    PrincipalKind::Role if same && *role => Grant::Direct,
                    PrincipalKind::User if same && !*role => Grant::Direct,
                    _ => Grant::None,
                };
            }
            Self::Arn(arn) => {
                matches!(
                    p.kind,
                    PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
                ) && **arn == *p.id
            }
            Self::Service(name) => {
                p.kind == PrincipalKind::Service && name.eq_ignore_ascii_case(&p.id)
            }
            Self::Federated(provider) => {
                p.kind == PrincipalKind::WebIdentity && **provider == *p.id
            }
            Self::Never => false,
        };
        if named { Grant::Direct } else { Grant::None }
    }
}

/// Whether a `NotPrincipal` list leaves `p` out. AWS checks each identity in
/// the caller's chain (account, then role, then session or user) against the
/// list, so a caller is excluded only when every link is listed; that is why
/// AWS tells authors to list the account ARN too.
pub(crate) fn not_principal_excludes(matchers: &[PrincipalMatcher], p: &Principal) -> bool {
    let listed = |check: &dyn Fn(&PrincipalMatcher) -> bool| {
        matchers
            .iter()
            .any(|m| *m == PrincipalMatcher::Any || check(m))
    };
    let account_listed = || {
        listed(&|m| matches!(m, PrincipalMatcher::Account(a) if p.account.as_deref() == Some(&**a)))
    };
    let self_listed = || listed(&|m| m.grant(p) == Grant::Direct);
    match p.kind {
        PrincipalKind::Anonymous => listed(&|_| false),
        PrincipalKind::Root => account_listed(),
        PrincipalKind::User | PrincipalKind::FederatedUser | PrincipalKind::Role => {
            account_listed() && self_listed()
        }
        PrincipalKind::AssumedRole => {
            account_listed() && listed(&|m| m.grant(p) == Grant::Role) && self_listed()
        }
        PrincipalKind::Service | PrincipalKind::WebIdentity => self_listed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Principal {
        Principal::parse(s).unwrap()
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!(p("anonymous").kind(), PrincipalKind::Anonymous);
        assert_eq!(p("123456789012").kind(), PrincipalKind::Root);
        assert_eq!(
            p("arn:aws:iam::123456789012:root").arn(),
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            p("arn:aws:iam::123456789012:user/dev/bob").kind(),
            PrincipalKind::User
        );
        let session = p("arn:aws:sts::123456789012:assumed-role/Admin/alice");
        assert_eq!(session.kind(), PrincipalKind::AssumedRole);
        assert_eq!(
            session.role_arn(),
            Some("arn:aws:iam::123456789012:role/Admin")
        );
        assert_eq!(
            p("arn:aws:sts::123456789012:federated-user/carol").kind(),
            PrincipalKind::FederatedUser
        );
        assert_eq!(p("ec2.amazonaws.com").kind(), PrincipalKind::Service);
        assert_eq!(p("accounts.google.com").kind(), PrincipalKind::WebIdentity);
        assert_eq!(
            p("arn:aws:iam::123456789012:saml-provider/Okta").kind(),
            PrincipalKind::WebIdentity
        );
        assert!(Principal::parse("bob").is_err());
        assert!(Principal::parse("arn:aws:iam::12345:user/bob").is_err());
        assert!(Principal::parse("arn:aws:sts::123456789012:assumed-role/Admin").is_err());
    }

    #[test]
    fn grants() {
        let session = p("arn:aws:sts::123456789012:assumed-role/Admin/alice");
        let role = PrincipalMatcher::new(
            PrincipalType::Aws,
            "arn:aws:iam::123456789012:role/ops/Admin",
            None,
        );
        assert_eq!(role.grant(&session), Grant::Role);
        let account = PrincipalMatcher::new(PrincipalType::Aws, "123456789012", None);
        assert_eq!(account.grant(&session), Grant::Account);
        assert_eq!(account.grant(&p("123456789012")), Grant::Direct);
        let exact = PrincipalMatcher::new(
            PrincipalType::Aws,
            "arn:aws:sts::123456789012:assumed-role/Admin/alice",
            None,
        );
        assert_eq!(exact.grant(&session), Grant::Direct);
        let other_account =
            PrincipalMatcher::new(PrincipalType::Aws, "arn:aws:iam::210987654321:root", None);
        assert_eq!(other_account.grant(&session), Grant::None);
        assert_eq!(
            PrincipalMatcher::Any.grant(&Principal::anonymous()),
            Grant::Direct
        );
    }

    #[test]
    fn a_bound_principal_matches_its_entity_only() {
        let role_arn = "arn:aws:iam::123456789012:role/Admin";
        let session = |id: &str| {
            Principal::assumed_role(
                "arn:aws:sts::123456789012:assumed-role/Admin/alice",
                role_arn,
            )
            .unwrap()
            .with_unique_id(id)
        };
        let bound = PrincipalMatcher::new(PrincipalType::Aws, role_arn, Some("AROAOLD"));
        assert_eq!(bound.grant(&session("AROAOLD")), Grant::Role);
        // The same name, re-created: a new ID, not trusted.
        assert_eq!(bound.grant(&session("AROANEW")), Grant::None);
        assert_eq!(
            bound.grant(&p("arn:aws:sts::123456789012:assumed-role/Admin/alice")),
            Grant::None
        );
        assert_eq!(
            bound.grant(&p(role_arn).with_unique_id("AROAOLD")),
            Grant::Direct
        );
        let user_arn = "arn:aws:iam::123456789012:user/bob";
        let user = PrincipalMatcher::new(PrincipalType::Aws, user_arn, Some("AIDAOLD"));
        assert_eq!(
            user.grant(&p(user_arn).with_unique_id("AIDAOLD")),
            Grant::Direct
        );
        assert_eq!(
            user.grant(&p(user_arn).with_unique_id("AIDANEW")),
            Grant::None
        );
        // A user's ID never stands for a role's session, nor the reverse.
        assert_eq!(user.grant(&session("AIDAOLD")), Grant::None);
        // A principal of an account Rampart does not serve is bound to nothing.
        let nobody = PrincipalMatcher::new(PrincipalType::Aws, user_arn, Some(""));
        assert_eq!(nobody.grant(&p(user_arn).with_unique_id("")), Grant::None);
        // NotPrincipal lists a bound entity only while it is that entity.
        let listed = [
            PrincipalMatcher::new(PrincipalType::Aws, user_arn, Some("AIDAOLD")),
            PrincipalMatcher::new(PrincipalType::Aws, "123456789012", None),
        ];
        assert!(not_principal_excludes(
            &listed,
            &p(user_arn).with_unique_id("AIDAOLD")
        ));
        assert!(!not_principal_excludes(
            &listed,
            &p(user_arn).with_unique_id("AIDANEW")
        ));
    }

    #[test]
    fn not_principal_needs_the_whole_chain() {
        let user = p("arn:aws:iam::123456789012:user/bob");
        let only_user = [PrincipalMatcher::new(
            PrincipalType::Aws,
            "arn:aws:iam::123456789012:user/bob",
            None,
        )];
        assert!(!not_principal_excludes(&only_user, &user));
        let user_and_account = [
            PrincipalMatcher::new(
                PrincipalType::Aws,
                "arn:aws:iam::123456789012:user/bob",
                None,
            ),
            PrincipalMatcher::new(PrincipalType::Aws, "123456789012", None),
        ];
        assert!(not_principal_excludes(&user_and_account, &user));
    }

    #[test]
    fn derived_keys() {
        let session = p("arn:aws:sts::123456789012:assumed-role/Admin/alice");
        assert_eq!(
            session.derived_value("aws:principalarn"),
            Some("arn:aws:iam::123456789012:role/Admin")
        );
        assert_eq!(session.derived_value("aws:username"), None);
        assert_eq!(
            p("arn:aws:iam::123456789012:user/bob").derived_value("aws:username"),
            Some("bob")
        );
    }

    #[test]
    fn federated_principals_name_oidc_and_saml_providers_only() {
        let other = "arn:aws:iam::123456789012:saml-provider/Other";
        for provider in [
            "arn:aws:iam::123456789012:saml-provider/Okta",
            "arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant",
            "accounts.google.com",
        ] {
            let caller = p(provider);
            assert_eq!(caller.kind(), PrincipalKind::WebIdentity);
            let named = PrincipalMatcher::new(PrincipalType::Federated, provider, None);
            assert_eq!(named.grant(&caller), Grant::Direct);
            let elsewhere = PrincipalMatcher::new(PrincipalType::Federated, other, None);
            assert_eq!(elsewhere.grant(&caller), Grant::None);
            // The provider's account does not stand for the people it vouches for.
            let account = PrincipalMatcher::new(PrincipalType::Aws, "123456789012", None);
            assert_eq!(account.grant(&caller), Grant::None);
            assert_eq!(caller.derived_value("aws:principalarn"), None);
        }
    }
}
