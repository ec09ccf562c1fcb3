//! `AssumeRoleWithWebIdentity`: a role session for someone an OpenID Connect provider vouches
//! for.
//!
//! The call is unsigned, as in AWS: the authenticate step verifies the web identity token
//! ([`authenticate`], with [`verify_web_identity`]) and the caller becomes a
//! `WebIdentityUser`. The authorize step then evaluates the role's trust policy for the
//! principal `{"Federated": <provider ARN>}` with the token's keys (`<provider>:aud`, `:sub`,
//! `:amr`), and the handler makes the session from what the token vouched for.

use rampart_service::{AwsError, Caller, Env, Federation, Operation, PrincipalKind, Value};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use time::OffsetDateTime;

use crate::StsError;
use crate::assume_role::{self, AssumedRoleUser, RoleSessionRequest};
use crate::credentials::{self, Credentials, PolicyArn};
use crate::web_identity::{FileOrLoopbackJwks, JwksSource, WebIdentity, verify_web_identity};

/// The claim that carries session tags, as AWS documents it.
const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";
/// The claim that carries the source identity.
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";

pub(crate) fn operation() -> Operation {
    Operation::write(
        "AssumeRoleWithWebIdentity",
        "sts:AssumeRoleWithWebIdentity",
        assume_role_with_web_identity,
    )
    .authenticated_by_input(authenticate, assume_role::addressee)
    .resources(assume_role::role_resource)
    .authorization_targets(|env, tx, input| {
        let vouched = vouched_of(env)?;
        let tagged = !vouched.tags.is_empty() || !vouched.transitive_tag_keys.is_empty();
        let sourced = vouched.source_identity.is_some();
        assume_role::role_targets(env, tx, input, tagged, sourced)
    })
    .condition_keys(condition_keys)
}

/// What a verified token vouches for, as the handler reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Vouched {
    provider_arn: String,
    subject: String,
    audience: String,
    tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
    source_identity: Option<String>,
}

fn authenticate(
    now: OffsetDateTime,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Federation, AwsError> {
    authenticate_with(now, tx, input, &FileOrLoopbackJwks::from_env()).map_err(Into::into)
}

/// [`authenticate`] with the keys from `jwks`.
fn authenticate_with(
    now: OffsetDateTime,
    tx: &mut dyn ReadTx,
    input: &Value,
    jwks: &dyn JwksSource,
) -> Result<Federation, StsError> {
    let account = assume_role::role_account(input)?;
    let token = input
        .get("WebIdentityToken")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let identity = verify_web_identity(tx, account, token, now, jwks)?;
    let vouched = vouched(&identity)?;
    let mut condition_keys = identity.condition_keys();
    condition_keys.extend(assume_role::provider_tag_keys(
        &vouched.tags,
        &vouched.transitive_tag_keys,
    ));
    if let Some(source) = &vouched.source_identity {
        condition_keys.push(("sts:SourceIdentity".into(), vec![source.clone()]));
    }
    let caller = Caller {
        account_id: account.to_owned(),
        arn: identity.provider_arn.clone(),
        // CloudTrail's `<provider>:<audience>:<subject>`.
        principal_id: format!(
            "{}:{}:{}",
            identity.provider_arn, identity.audience, identity.subject
        ),
        kind: PrincipalKind::WebIdentityUser,
        user_name: Some(identity.subject.clone()),
        access_key_id: String::new(),
    };
    Ok(Federation {
        caller,
        identity_provider: identity.provider_arn.clone(),
        condition_keys,
        claims: serde_json::to_value(&vouched).unwrap_or_default(),
    })
}

/// The session tags, transitive keys and source identity a token carries in AWS's claims:
/// `"https://aws.amazon.com/tags": {"principal_tags": {"k": ["v"]}, "transitive_tag_keys":
/// ["k"]}` and `"https://aws.amazon.com/source_identity": "…"`.
fn vouched(identity: &WebIdentity) -> Result<Vouched, StsError> {
    let bad_tags = || {
        StsError::InvalidIdentityToken(format!(
            "The {TAGS_CLAIM} claim must be an object with principal_tags (a map of tag keys to \
             lists of one value) and transitive_tag_keys (a list of keys)."
        ))
    };
    let mut tags = Vec::new();
    let mut transitive_tag_keys = Vec::new();
    if let Some(claim) = identity.claims.get(TAGS_CLAIM) {
        let claim = claim.as_object().ok_or_else(bad_tags)?;
        let empty = Map::new();
        let principal_tags = match claim.get("principal_tags") {
            None => &empty,
            Some(tags) => tags.as_object().ok_or_else(bad_tags)?,
        };
        for (key, values) in principal_tags {
            let value = match values {
                Value::Array(values) => values.first().and_then(Value::as_str),
                Value::String(value) => Some(value.as_str()),
                _ => None,
            }
            .ok_or_else(bad_tags)?;
            tags.push((key.clone(), value.to_owned()));
        }
        if let Some(keys) = claim.get("transitive_tag_keys") {
            let keys = keys.as_array().ok_or_else(bad_tags)?;
            for key in keys {
                transitive_tag_keys.push(key.as_str().ok_or_else(bad_tags)?.to_owned());
            }
        }
    }
    let source_identity = match identity.claims.get(SOURCE_IDENTITY_CLAIM) {
        None => None,
        Some(Value::String(source)) => Some(source.clone()),
        Some(_) => {
            return Err(StsError::InvalidIdentityToken(format!(
                "The {SOURCE_IDENTITY_CLAIM} claim must be a string."
            )));
        }
    };
    Ok(Vouched {
        provider_arn: identity.provider_arn.clone(),
        subject: identity.subject.clone(),
        audience: identity.audience.clone(),
        tags,
        transitive_tag_keys,
        source_identity,
    })
}

/// `sts:RoleSessionName` (the token's keys come with the federation).
fn condition_keys(_: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    input
        .get("RoleSessionName")
        .and_then(Value::as_str)
        .map(|name| vec![("sts:RoleSessionName".to_owned(), vec![name.to_owned()])])
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityInput {
    role_arn: String,
    role_session_name: String,
    #[serde(default)]
    policy_arns: Vec<PolicyArn>,
    policy: Option<String>,
    duration_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityOutput {
    credentials: Credentials,
    subject_from_web_identity_token: String,
    assumed_role_user: AssumedRoleUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<i64>,
    provider: String,
    audience: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<String>,
}

/// What authentication vouched for, read back from the call's federation.
fn vouched_of(env: &Env<'_>) -> Result<Vouched, StsError> {
    env.federation
        .and_then(|f| serde_json::from_value(f.claims.clone()).ok())
        .ok_or_else(|| {
            StsError::InvalidIdentityToken("The web identity token was not verified.".into())
        })
}

fn assume_role_with_web_identity(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AssumeRoleWithWebIdentityInput,
) -> Result<AssumeRoleWithWebIdentityOutput, StsError> {
    let vouched = vouched_of(env)?;
    let made = assume_role::make_role_session(
        env,
        tx,
        RoleSessionRequest {
            role_arn: &input.role_arn,
            session_name: &input.role_session_name,
            duration_seconds: input.duration_seconds,
            not_after: None,
            policy: input.policy,
            policy_arns: input.policy_arns,
            tags: vouched.tags,
            transitive_tag_keys: vouched.transitive_tag_keys,
            source_identity: vouched.source_identity,
            mfa_authenticated: false,
            chained: false,
            web_identity_provider: Some(vouched.provider_arn.clone()),
        },
    )?;
    Ok(AssumeRoleWithWebIdentityOutput {
        credentials: credentials::credentials(env, &made.session),
        subject_from_web_identity_token: vouched.subject,
        source_identity: made.session.source_identity.clone(),
        assumed_role_user: made.assumed_role_user,
        packed_policy_size: made.packed_policy_size,
        provider: vouched.provider_arn,
        audience: vouched.audience,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use serde_json::json;

    use super::*;

    fn identity(claims: Value) -> WebIdentity {
        WebIdentity {
            provider_arn: "arn:aws:iam::123456789012:oidc-provider/idp.example.com".into(),
            provider_url: "idp.example.com".into(),
            issuer: "https://idp.example.com".into(),
            subject: "user-1".into(),
            audience: "sts.amazonaws.com".into(),
            amr: Vec::new(),
            claims: claims.as_object().cloned().unwrap(),
            expires_at: time::macros::datetime!(2026-11-24 12:00:00 UTC),
        }
    }

    #[test]
    fn tags_and_source_identity_come_from_awss_claims() {
        let got = vouched(&identity(json!({
            TAGS_CLAIM: {"principal_tags": {"team": ["blue"], "env": "prod"},
                         "transitive_tag_keys": ["team"]},
            SOURCE_IDENTITY_CLAIM: "alice",
        })))
        .unwrap();
        assert_eq!(
            got.tags,
            [
                ("env".into(), "prod".into()),
                ("team".into(), "blue".into())
            ]
        );
        assert_eq!(got.transitive_tag_keys, ["team"]);
        assert_eq!(got.source_identity.as_deref(), Some("alice"));
        let keys = assume_role::provider_tag_keys(&got.tags, &got.transitive_tag_keys);
        assert!(keys.contains(&("aws:RequestTag/team".into(), vec!["blue".into()])));
        assert!(keys.contains(&("sts:TransitiveTagKeys".into(), vec!["team".into()])));
        let none = vouched(&identity(json!({}))).unwrap();
        assert!(none.tags.is_empty() && none.source_identity.is_none());
    }

    #[test]
    fn malformed_tag_claims_are_invalid_tokens() {
        for claims in [
            json!({TAGS_CLAIM: "team=blue"}),
            json!({TAGS_CLAIM: {"principal_tags": {"team": [1]}}}),
            json!({TAGS_CLAIM: {"transitive_tag_keys": "team"}}),
            json!({SOURCE_IDENTITY_CLAIM: 7}),
        ] {
            assert!(matches!(
                vouched(&identity(claims)),
                Err(StsError::InvalidIdentityToken(_))
            ));
        }
    }
}
