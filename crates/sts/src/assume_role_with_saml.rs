//! `AssumeRoleWithSAML`: a role session for someone a SAML identity provider vouches for.
//!
//! The call is unsigned, as in AWS: the authenticate step verifies the assertion
//! ([`authenticate`], with [`verify_saml`]) and the caller becomes a `SAMLUser`. The
//! authorize step evaluates the role's trust policy for the principal
//! `{"Federated": <SAML provider ARN>}` with the assertion's `saml:*` keys, and the handler
//! makes the session from the assertion's attributes (session name, duration, tags, source
//! identity).

use rampart_service::{AwsError, Caller, Env, Federation, Operation, PrincipalKind, Value};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StsError;
use crate::assume_role::{self, AssumedRoleUser, RoleSessionRequest};
use crate::credentials::{self, Credentials, PolicyArn};
use crate::saml::verify_saml;

pub(crate) fn operation() -> Operation {
    Operation::write(
        "AssumeRoleWithSAML",
        "sts:AssumeRoleWithSAML",
        assume_role_with_saml,
    )
    .authenticated_by_input(authenticate, assume_role::addressee)
    .resources(assume_role::role_resource)
    .authorization_targets(|env, tx, input| {
        let vouched = vouched_of(env)?;
        let tagged = !vouched.tags.is_empty() || !vouched.transitive_tag_keys.is_empty();
        let sourced = vouched.source_identity.is_some();
        assume_role::role_targets(env, tx, input, tagged, sourced)
    })
}

/// What a verified assertion vouches for, as the handler reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Vouched {
    subject: String,
    subject_type: String,
    issuer: String,
    audience: String,
    name_qualifier: String,
    role_session_name: String,
    /// Unix seconds: the session ends by then whatever its duration.
    session_not_on_or_after: Option<i64>,
    tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
    source_identity: Option<String>,
}

fn text<'a>(input: &'a Value, member: &str) -> &'a str {
    input
        .get(member)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn authenticate(
    now: OffsetDateTime,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Federation, AwsError> {
    authenticate_assertion(now, tx, input).map_err(Into::into)
}

fn authenticate_assertion(
    now: OffsetDateTime,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Federation, StsError> {
    let account = assume_role::role_account(input)?;
    let identity = verify_saml(
        tx,
        text(input, "RoleArn"),
        text(input, "PrincipalArn"),
        text(input, "SAMLAssertion"),
        now,
    )?;
    let mut condition_keys = identity.condition_keys();
    condition_keys.push((
        "sts:RoleSessionName".into(),
        vec![identity.role_session_name.clone()],
    ));
    condition_keys.extend(assume_role::provider_tag_keys(
        &identity.principal_tags,
        &identity.transitive_tag_keys,
    ));
    if let Some(source) = &identity.source_identity {
        condition_keys.push(("sts:SourceIdentity".into(), vec![source.clone()]));
    }
    let caller = Caller {
        account_id: account.to_owned(),
        arn: identity.provider_arn.clone(),
        // CloudTrail's `<saml:namequalifier>:<saml:sub>`.
        principal_id: format!("{}:{}", identity.name_qualifier, identity.subject),
        kind: PrincipalKind::SamlUser,
        user_name: Some(identity.subject.clone()),
        access_key_id: String::new(),
    };
    let vouched = Vouched {
        subject: identity.subject,
        subject_type: identity.subject_type,
        issuer: identity.issuer,
        audience: identity.recipient,
        name_qualifier: identity.name_qualifier.clone(),
        role_session_name: identity.role_session_name,
        session_not_on_or_after: identity
            .session_not_on_or_after
            .map(OffsetDateTime::unix_timestamp),
        tags: identity.principal_tags,
        transitive_tag_keys: identity.transitive_tag_keys,
        source_identity: identity.source_identity,
    };
    Ok(Federation {
        caller,
        identity_provider: identity.name_qualifier,
        condition_keys,
        claims: serde_json::to_value(&vouched).unwrap_or_default(),
    })
}

/// What authentication vouched for, read back from the call's federation.
fn vouched_of(env: &Env<'_>) -> Result<Vouched, StsError> {
    env.federation
        .and_then(|f| serde_json::from_value(f.claims.clone()).ok())
        .ok_or_else(|| {
            StsError::InvalidIdentityToken("The SAML assertion was not verified.".into())
        })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithSamlInput {
    role_arn: String,
    #[serde(default)]
    policy_arns: Vec<PolicyArn>,
    policy: Option<String>,
    duration_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithSamlOutput {
    credentials: Credentials,
    assumed_role_user: AssumedRoleUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<i64>,
    subject: String,
    subject_type: String,
    issuer: String,
    audience: String,
    name_qualifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<String>,
}

fn assume_role_with_saml(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AssumeRoleWithSamlInput,
) -> Result<AssumeRoleWithSamlOutput, StsError> {
    let vouched: Vouched = env
        .federation
        .and_then(|f| serde_json::from_value(f.claims.clone()).ok())
        .ok_or_else(|| {
            StsError::InvalidIdentityToken("The SAML assertion was not verified.".into())
        })?;
    let made = assume_role::make_role_session(
        env,
        tx,
        RoleSessionRequest {
            role_arn: &input.role_arn,
            session_name: &vouched.role_session_name,
            // The SessionDuration attribute bounds console sessions only, as in AWS.
            duration_seconds: input.duration_seconds,
            not_after: vouched.session_not_on_or_after,
            policy: input.policy,
            policy_arns: input.policy_arns,
            tags: vouched.tags,
            transitive_tag_keys: vouched.transitive_tag_keys,
            source_identity: vouched.source_identity,
            mfa_authenticated: false,
            chained: false,
            web_identity_provider: None,
        },
    )?;
    Ok(AssumeRoleWithSamlOutput {
        credentials: credentials::credentials(env, &made.session),
        source_identity: made.session.source_identity.clone(),
        assumed_role_user: made.assumed_role_user,
        packed_policy_size: made.packed_policy_size,
        subject: vouched.subject,
        subject_type: vouched.subject_type,
        issuer: vouched.issuer,
        audience: vouched.audience,
        name_qualifier: vouched.name_qualifier,
    })
}
