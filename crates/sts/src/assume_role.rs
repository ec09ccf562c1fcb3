//! `AssumeRole`: a role session for a caller the role's trust policy accepts.
//!
//! The spine authorizes the call: the caller's own policies must allow `sts:AssumeRole` on
//! the role, and the trust policy (declared here as the operation's resource policy, which
//! must allow) must accept the caller with this request's condition keys. The handler makes
//! the session.

use rampart_iam::records::{self, RoleLastUsed};
use rampart_service::{
    AwsError, Env, Operation, PrincipalKind, ResourcePolicy, Value, aws_timestamp,
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
        .resources(role_resource)
        .resource_policy(trust_policy)
        .condition_keys(condition_keys)
}

fn role_arn(input: &Value) -> &str {
    input
        .get("RoleArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn role_resource(_: &Env<'_>, input: &Value) -> Vec<String> {
    vec![role_arn(input).to_owned()]
}

/// The account and name of `arn:aws:iam::<account>:role<path><name>`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty() && account.len() == 12).then_some((account, name))
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
    let document = match records::role(tx, account, name) {
        Ok(role) if role.arn == arn => role.assume_role_policy_document,
        Ok(_) | Err(rampart_iam::IamError::NoSuchEntity(_)) => {
            r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned()
        }
        Err(e) => return Err(StsError::from(e).into()),
    };
    Ok(Some(ResourcePolicy {
        document,
        account_id: account.to_owned(),
        must_allow: true,
        description: "trust policy",
    }))
}

/// The keys a trust policy may test: `sts:ExternalId`, `sts:RoleSessionName`,
/// `sts:SourceIdentity`, `sts:TransitiveTagKeys`, and MFA presence when a code is given.
fn condition_keys(_: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut keys = Vec::new();
    for (key, member) in [
        ("sts:ExternalId", "ExternalId"),
        ("sts:RoleSessionName", "RoleSessionName"),
        ("sts:SourceIdentity", "SourceIdentity"),
    ] {
        if let Some(value) = text(member) {
            keys.push((key.to_owned(), vec![value]));
        }
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: String,
    value: String,
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
    packed_policy_size: i64,
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
    let (account, name) = parse_role_arn(&input.role_arn).ok_or_else(|| {
        StsError::Validation(format!("{} is not a valid role ARN", input.role_arn))
    })?;
    let mut role = records::role(tx, account, name)?;
    let chained = env.caller.kind == PrincipalKind::AssumedRole;
    let (max, too_long) = if chained {
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
    let seconds = credentials::duration(input.duration_seconds, DEFAULT_SECONDS, max, too_long)?;
    let mfa_authenticated = match (&input.serial_number, &input.token_code) {
        (Some(serial), Some(code)) => {
            let valid = rampart_iam::mfa::verify_code(
                tx,
                env.root_key,
                &env.caller.account_id,
                serial,
                code,
                env.now,
            )?;
            if !valid {
                return Err(StsError::AccessDenied(
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ".into(),
                ));
            }
            true
        }
        (None, None) => false,
        _ => {
            return Err(StsError::Validation(
                "SerialNumber and TokenCode must be given together.".into(),
            ));
        }
    };
    if input.tags.len() > MAX_SESSION_TAGS {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
        )));
    }
    let policies = credentials::session_policies(tx, input.policy, input.policy_arns)?;
    let (access_key_id, secret_access_key) = credentials::new_key(env, account);
    let session_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{}/{}",
        role.role_name, input.role_session_name
    );
    let assumed_role_id = format!("{}:{}", role.role_id, input.role_session_name);
    let issued_at = env.now.unix_timestamp();
    let session = Session {
        caller: rampart_service::Caller {
            account_id: account.to_owned(),
            arn: session_arn.clone(),
            principal_id: assumed_role_id.clone(),
            kind: PrincipalKind::AssumedRole,
            user_name: None,
            access_key_id: access_key_id.clone(),
        },
        access_key_id,
        secret_access_key,
        issued_at,
        expires_at: issued_at + seconds,
        mfa_authenticated,
        role_name: Some(role.role_name.clone()),
        role_arn: Some(role.arn.clone()),
        user_name: None,
        policies,
        tags: input.tags.into_iter().map(|t| (t.key, t.value)).collect(),
        transitive_tag_keys: input.transitive_tag_keys,
        source_identity: input.source_identity.clone(),
        chained,
    };
    role.role_last_used = Some(RoleLastUsed {
        last_used_date: aws_timestamp(env.now),
        region: env.region.to_owned(),
    });
    records::put_role(tx, &role)?;
    Ok(AssumeRoleOutput {
        credentials: credentials::credentials(env, &session),
        assumed_role_user: AssumedRoleUser {
            assumed_role_id,
            arn: session_arn,
        },
        packed_policy_size: 0,
        source_identity: input.source_identity,
    })
}
