//! `AssumeRole`: a role session for a caller the role's trust policy accepts.
//!
//! The spine authorizes the call: the caller's own policies must allow `sts:AssumeRole` on
//! the role, and the trust policy (declared here as the operation's resource policy, which
//! must allow) must accept the caller with this request's condition keys. The handler makes
//! the session.

use rampart_iam::records::{self, RoleLastUsed};
use rampart_service::{
    AuthorizationTarget, AwsError, Env, Inheritance, Operation, PrincipalKind, Resource,
    ResourcePolicy, Value, aws_timestamp,
};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::StsError;
use crate::credentials::{self, Credentials, PolicyArn};
use crate::session::Session;

/// Role chaining caps a session at one hour, whatever the role allows.
const CHAINED_MAX_SECONDS: i64 = 3600;
const DEFAULT_SECONDS: i64 = 3600;
/// AWS's cap on session tags.
const MAX_SESSION_TAGS: usize = 50;

pub(crate) fn operation() -> Operation {
    Operation::write("AssumeRole", "sts:AssumeRole", assume_role)
        .recorded_as(crate::events::ISSUES_SESSION)
        .resources(role_resource)
        .authorization_targets(|env, tx, input| {
            let tagged = ["Tags", "TransitiveTagKeys"].iter().any(|m| {
                input
                    .get(m)
                    .and_then(Value::as_array)
                    .is_some_and(|l| !l.is_empty())
            });
            let sourced = input.get("SourceIdentity").is_some()
                || env.inherited.is_some_and(|i| i.source_identity.is_some());
            role_targets(env, tx, input, tagged, sourced)
        })
        .condition_keys(condition_keys)
}

/// What an `AssumeRole*` request must be allowed, each by the role's trust policy: the
/// operation's own action on the role, `sts:TagSession` when it sets session tags, and
/// `sts:SetSourceIdentity` when the session gets a source identity (passed, or kept from the
/// calling session along a role chain), as AWS requires.
pub(crate) fn role_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
    tagged: bool,
    sourced: bool,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let trust = trust_policy(env, tx, input)?;
    let role = role_resource(env, tx, input)?;
    let target = |action| AuthorizationTarget {
        action,
        resources: role.clone(),
        resource_policy: trust.clone(),
        condition_keys: Vec::new(),
        denial: None,
    };
    let mut targets = vec![target(None)];
    if tagged {
        targets.push(target(Some("sts:TagSession")));
    }
    if sourced {
        targets.push(target(Some("sts:SetSourceIdentity")));
    }
    Ok(targets)
}

fn role_arn(input: &Value) -> &str {
    input
        .get("RoleArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The role a request names, with its tags: its only resource, for every `AssumeRole*`
/// operation.
pub(crate) fn role_resource(
    _: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![rampart_iam::role_by_arn(tx, role_arn(input))?])
}

/// What an identity provider vouched for that every request of the session it made carries:
/// the provider's keys (`<provider>:sub`, `:aud`, `:amr`; `saml:sub`, `saml:namequalifier`,
/// `saml:aud`, … and the assertion's attributes), so that a role's permission policy can name
/// `${saml:namequalifier}/${saml:sub}`, and, for an OIDC provider, `aws:FederatedProvider`.
/// The request's own keys (session tags, `sts:*`) describe the AssumeRole* call only.
fn identity_keys(federation: &rampart_service::Federation) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = federation
        .condition_keys
        .iter()
        .filter(|(key, _)| {
            let prefix = key.split_once(':').map_or("", |(p, _)| p);
            !prefix.eq_ignore_ascii_case("aws") && !prefix.eq_ignore_ascii_case("sts")
        })
        .cloned()
        .collect();
    if federation.caller.kind == PrincipalKind::WebIdentityUser {
        keys.push((
            "aws:FederatedProvider".to_owned(),
            vec![federation.caller.arn.clone()],
        ));
    }
    keys
}

/// The account and name of `arn:aws:iam::<account>:role<path><name>`.
pub(crate) fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty() && account.len() == 12).then_some((account, name))
}

/// The account of the role a request names, or AWS's refusal of the ARN.
pub(crate) fn role_account(input: &Value) -> Result<&str, StsError> {
    let arn = role_arn(input);
    parse_role_arn(arn)
        .map(|(account, _)| account)
        .ok_or_else(|| StsError::Validation(format!("{arn} is not a valid role ARN")))
}

/// The account of the role a request names: where the event of a refused federation call
/// belongs.
pub(crate) fn addressee(input: &Value) -> Option<String> {
    role_account(input).ok().map(str::to_owned)
}

/// `aws:RequestTag/<key>`, `aws:TagKeys` and `sts:TransitiveTagKeys` for session tags an
/// identity provider passes (they are not in the request's `Tags`).
pub(crate) fn provider_tag_keys(
    tags: &[(String, String)],
    transitive_tag_keys: &[String],
) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()]))
        .collect();
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".into(),
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    if !transitive_tag_keys.is_empty() {
        keys.push(("sts:TransitiveTagKeys".into(), transitive_tag_keys.to_vec()));
    }
    keys
}

/// The role's trust policy. A role that does not exist gets a policy that allows nothing, so
/// the caller learns only that it may not assume it, as AWS answers.
fn trust_policy(
    _: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let arn = role_arn(input);
    let Some((account, name)) = parse_role_arn(arn) else {
        return Err(StsError::Validation(format!("{arn} is not a valid role ARN")).into());
    };
    let (document, principal_ids) = match records::role(tx, account, name) {
        Ok(role) if role.arn == arn => (role.assume_role_policy_document, role.trust_principal_ids),
        Ok(_) | Err(rampart_iam::IamError::NoSuchEntity(_)) => (
            r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
            rampart_service::PrincipalIds::default(),
        ),
        Err(e) => return Err(StsError::from(e).into()),
    };
    Ok(Some(ResourcePolicy {
        document,
        account_id: account.to_owned(),
        must_allow: true,
        description: "trust policy",
        principal_ids,
    }))
}

/// The keys a trust policy may test: `sts:ExternalId`, `sts:RoleSessionName`,
/// `sts:SourceIdentity` (passed, or inherited along a role chain), `sts:TransitiveTagKeys`,
/// and MFA presence when a code is given.
fn condition_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut keys = Vec::new();
    for (key, member) in [
        ("sts:ExternalId", "ExternalId"),
        ("sts:RoleSessionName", "RoleSessionName"),
    ] {
        if let Some(value) = text(member) {
            keys.push((key.to_owned(), vec![value]));
        }
    }
    let inherited = env.inherited.and_then(|i| i.source_identity.clone());
    if let Some(value) = text("SourceIdentity").or(inherited) {
        keys.push(("sts:SourceIdentity".to_owned(), vec![value]));
    }
    if let Some(list) = input.get("TransitiveTagKeys").and_then(Value::as_array) {
        let values = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        keys.push(("sts:TransitiveTagKeys".to_owned(), values));
    }
    if text("TokenCode").is_some() {
        // The code itself is verified by the handler; a wrong one fails the whole call.
        keys.push((
            "aws:MultiFactorAuthPresent".to_owned(),
            vec!["true".to_owned()],
        ));
    }
    keys
}

/// A session tag as a request passes it (`Tags.member.N`), for every operation that takes
/// session tags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub(crate) key: String,
    pub(crate) value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleInput {
    role_arn: String,
    role_session_name: String,
    #[serde(default)]
    policy_arns: Vec<PolicyArn>,
    policy: Option<String>,
    duration_seconds: Option<i64>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    transitive_tag_keys: Vec<String>,
    serial_number: Option<String>,
    token_code: Option<String>,
    source_identity: Option<String>,
}

/// The identifiers of a role session, as every `AssumeRole*` answer names them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    assumed_role_id: String,
    arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleOutput {
    credentials: Credentials,
    assumed_role_user: AssumedRoleUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<String>,
}

fn assume_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AssumeRoleInput,
) -> Result<AssumeRoleOutput, StsError> {
    if env.caller.kind == PrincipalKind::Root {
        return Err(StsError::AccessDenied(
            "Roles may not be assumed by root accounts.".into(),
        ));
    }
    let mfa_authenticated = crate::mfa::authenticate(
        env,
        tx,
        input.serial_number.as_deref(),
        input.token_code.as_deref(),
    )?;
    let made = make_role_session(
        env,
        tx,
        RoleSessionRequest {
            role_arn: &input.role_arn,
            session_name: &input.role_session_name,
            duration_seconds: input.duration_seconds,
            not_after: None,
            policy: input.policy,
            policy_arns: input.policy_arns,
            tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            transitive_tag_keys: input.transitive_tag_keys,
            source_identity: input.source_identity,
            mfa_authenticated,
            chained: env.caller.kind == PrincipalKind::AssumedRole,
            web_identity_provider: None,
        },
    )?;
    Ok(AssumeRoleOutput {
        credentials: credentials::credentials(env, &made.session),
        source_identity: made.session.source_identity.clone(),
        assumed_role_user: made.assumed_role_user,
        packed_policy_size: made.packed_policy_size,
    })
}

/// What a new role session is made of, whichever `AssumeRole*` operation asks for it.
pub(crate) struct RoleSessionRequest<'a> {
    pub(crate) role_arn: &'a str,
    pub(crate) session_name: &'a str,
    /// `DurationSeconds`, when given.
    pub(crate) duration_seconds: Option<i64>,
    /// When the session must end at the latest (Unix seconds), whatever its duration: a SAML
    /// assertion's `SessionNotOnOrAfter`.
    pub(crate) not_after: Option<i64>,
    pub(crate) policy: Option<String>,
    pub(crate) policy_arns: Vec<PolicyArn>,
    /// Session tags passed (by the caller, or by the identity provider).
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) transitive_tag_keys: Vec<String>,
    pub(crate) source_identity: Option<String>,
    pub(crate) mfa_authenticated: bool,
    /// Whether a role session asks (role chaining: at most an hour).
    pub(crate) chained: bool,
    pub(crate) web_identity_provider: Option<String>,
}

/// A new role session and how the answer names it.
pub(crate) struct RoleSession {
    pub(crate) session: Session,
    pub(crate) assumed_role_user: AssumedRoleUser,
    /// `PackedPolicySize`, when session policies or tags were passed.
    pub(crate) packed_policy_size: Option<i64>,
}

/// Makes a session of the role `request` names (which must exist), with the calling
/// session's transitive tags and source identity (`env.inherited`), and records the role's
/// last use.
pub(crate) fn make_role_session(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    request: RoleSessionRequest<'_>,
) -> Result<RoleSession, StsError> {
    let (account, name) = parse_role_arn(request.role_arn).ok_or_else(|| {
        StsError::Validation(format!("{} is not a valid role ARN", request.role_arn))
    })?;
    let mut role = records::role(tx, account, name)?;
    let (max, too_long) = if request.chained {
        (
            CHAINED_MAX_SECONDS,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        )
    } else {
        (
            role.max_session_duration,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
    };
    let seconds = credentials::duration(request.duration_seconds, DEFAULT_SECONDS, max, too_long)?;
    let (tags, transitive_tag_keys) =
        session_tags(env.inherited, request.tags, request.transitive_tag_keys)?;
    let source_identity = match (
        env.inherited.and_then(|i| i.source_identity.clone()),
        request.source_identity,
    ) {
        (Some(kept), Some(asked)) if kept != asked => {
            return Err(StsError::Validation(format!(
                "The source identity of this session is {kept} and cannot be changed."
            )));
        }
        (kept, asked) => kept.or(asked),
    };
    let policies = credentials::session_policies(tx, account, request.policy, request.policy_arns)?;
    let packed_policy_size = policies.packed_size(&tags);
    let (access_key_id, secret_access_key) = credentials::new_key(env, account);
    let session_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{}/{}",
        role.role_name, request.session_name
    );
    let assumed_role_id = format!("{}:{}", role.role_id, request.session_name);
    let issued_at = env.now.unix_timestamp();
    let caller = rampart_service::Caller {
        account_id: account.to_owned(),
        arn: session_arn.clone(),
        principal_id: assumed_role_id.clone(),
        kind: PrincipalKind::AssumedRole,
        user_name: None,
        access_key_id,
    };
    let expires_at = request
        .not_after
        .map_or(issued_at + seconds, |end| end.min(issued_at + seconds));
    let session = Session {
        mfa_authenticated: request.mfa_authenticated,
        role_name: Some(role.role_name.clone()),
        role_arn: Some(role.arn.clone()),
        policies: policies.documents,
        tags,
        transitive_tag_keys,
        source_identity,
        chained: request.chained,
        web_identity_provider: request.web_identity_provider,
        identity_keys: env.federation.map(identity_keys).unwrap_or_default(),
        ..Session::new(caller, secret_access_key, issued_at, expires_at)
    };
    role.role_last_used = Some(RoleLastUsed {
        last_used_date: aws_timestamp(env.now),
        region: env.region.to_owned(),
    });
    records::put_role(tx, &role)?;
    Ok(RoleSession {
        packed_policy_size,
        session,
        assumed_role_user: AssumedRoleUser {
            assumed_role_id,
            arn: session_arn,
        },
    })
}

/// Session tags (key, value) and the keys of those that are transitive.
type SessionTags = (Vec<(String, String)>, Vec<String>);

/// The new session's tags and transitive keys: the calling session's transitive tags first
/// (which a request may not set again), then the request's own. GetFederationToken's tags are
/// checked here too, with nothing inherited.
pub(crate) fn session_tags(
    inherited: Option<&Inheritance>,
    tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
) -> Result<SessionTags, StsError> {
    if tags.len() > MAX_SESSION_TAGS {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
        )));
    }
    // Tag keys are case-insensitive: `Project` and `project` are one key.
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    for (i, (key, _)) in tags.iter().enumerate() {
        if tags.iter().skip(i + 1).any(|(other, _)| same(key, other)) {
            return Err(StsError::Validation(format!(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive. ({key})"
            )));
        }
    }
    let inherited_tags = inherited.map_or(&[][..], |i| i.transitive_tags.as_slice());
    if let Some((key, _)) = tags
        .iter()
        .find(|(key, _)| inherited_tags.iter().any(|(k, _)| same(k, key)))
    {
        return Err(StsError::Validation(format!(
            "The session tag {key} is a transitive tag of the calling session and cannot be set again."
        )));
    }
    let mut keys: Vec<String> = inherited_tags.iter().map(|(k, _)| k.clone()).collect();
    keys.extend(transitive_tag_keys);
    let mut all = inherited_tags.to_vec();
    all.extend(tags);
    Ok((all, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn transitive_tags_pass_on_and_cannot_be_set_again() {
        let inherited = Inheritance {
            transitive_tags: tags(&[("Project", "apollo")]),
            source_identity: None,
        };
        let (all, keys) = session_tags(
            Some(&inherited),
            tags(&[("Team", "red")]),
            vec!["Team".into()],
        )
        .unwrap();
        assert_eq!(all, tags(&[("Project", "apollo"), ("Team", "red")]));
        assert_eq!(keys, ["Project", "Team"]);
        // Case does not make another key.
        let refused = session_tags(Some(&inherited), tags(&[("project", "x")]), Vec::new());
        assert!(matches!(refused, Err(StsError::Validation(m)) if m.contains("project")));
        // Without a calling session, nothing is inherited.
        let (all, keys) = session_tags(None, tags(&[("Team", "red")]), Vec::new()).unwrap();
        assert_eq!(all, tags(&[("Team", "red")]));
        assert!(keys.is_empty());
    }

    #[test]
    fn tag_keys_must_differ_and_be_few() {
        assert!(session_tags(None, tags(&[("a", "1"), ("A", "2")]), Vec::new()).is_err());
        let many: Vec<_> = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(session_tags(None, many, Vec::new()).is_err());
    }
}
