//! `GetSessionToken` and `GetFederationToken`: sessions of an IAM user (or the root user)
//! itself, with MFA, or as a federated user limited by session policies and carrying session
//! tags.

use rampart_service::{
    AuthorizationTarget, AwsError, Caller, Env, Operation, PrincipalKind, Resource, Value,
};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::StsError;
use crate::assume_role::{Tag, session_tags};
use crate::credentials::{self, Credentials, PolicyArn};
use crate::session::Session;

/// AWS's defaults and limits for these sessions: 12 hours by default, at most 36 hours for
/// IAM users and 1 hour for the root user.
const DEFAULT_SECONDS: i64 = 43_200;
const USER_MAX_SECONDS: i64 = 129_600;
const ROOT_MAX_SECONDS: i64 = 3_600;

pub(crate) fn operations() -> Vec<Operation> {
    vec![
        // AWS: "No permissions are required for users to perform this operation ... You
        // cannot use policies to control authentication operations."
        Operation::write("GetSessionToken", "sts:GetSessionToken", get_session_token)
            .always_allowed(),
        Operation::read(
            "GetFederationToken",
            "sts:GetFederationToken",
            get_federation_token,
        )
        .recorded_as(crate::events::ISSUES_FEDERATION_TOKEN)
        .authorization_targets(federation_targets),
    ]
}

/// What a GetFederationToken request must be allowed: `sts:GetFederationToken` on the
/// federated user it names and, when it passes session tags, `sts:TagSession` too ("in
/// addition to the action that matches the API operation", AWS's session tags guide) on the
/// calling user, the resource type the Service Authorization Reference lists for TagSession
/// besides roles. Both see the tags as `aws:RequestTag/*` and `aws:TagKeys`.
pub(crate) fn federation_targets(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let name = input
        .get("Name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let target = |action, arn| AuthorizationTarget {
        action,
        resources: vec![Resource::named(arn)],
        resource_policy: None,
        condition_keys: Vec::new(),
        denial: None,
    };
    let mut targets = vec![target(
        None,
        format!(
            "arn:aws:sts::{}:federated-user/{name}",
            env.caller.account_id
        ),
    )];
    let tagged = input
        .get("Tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| !tags.is_empty());
    if tagged {
        targets.push(target(Some("sts:TagSession"), env.caller.arn.clone()));
    }
    Ok(targets)
}

fn long_term_only(env: &Env<'_>, operation: &str) -> Result<(), StsError> {
    match env.caller.kind {
        PrincipalKind::Root | PrincipalKind::IamUser
            if env.caller.access_key_id.starts_with("AKIA") =>
        {
            Ok(())
        }
        _ => Err(StsError::AccessDenied(format!(
            "Cannot call {operation} with session credentials"
        ))),
    }
}

fn max_seconds(env: &Env<'_>) -> i64 {
    if env.caller.is_root() {
        ROOT_MAX_SECONDS
    } else {
        USER_MAX_SECONDS
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenInput {
    duration_seconds: Option<i64>,
    serial_number: Option<String>,
    token_code: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenOutput {
    credentials: Credentials,
}

/// A write: an MFA code, once used, cannot be used again.
fn get_session_token(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GetSessionTokenInput,
) -> Result<GetSessionTokenOutput, StsError> {
    long_term_only(env, "GetSessionToken")?;
    let seconds = credentials::duration(
        input.duration_seconds,
        DEFAULT_SECONDS.min(max_seconds(env)),
        max_seconds(env),
        "The requested DurationSeconds exceeds the allowed maximum for this caller.",
    )?;
    let mfa_authenticated = crate::mfa::authenticate(
        env,
        tx,
        input.serial_number.as_deref(),
        input.token_code.as_deref(),
    )?;
    let (access_key_id, secret_access_key) = credentials::new_key(env, &env.caller.account_id);
    let issued_at = env.now.unix_timestamp();
    let caller = Caller {
        access_key_id,
        ..env.caller.clone()
    };
    let session = Session {
        mfa_authenticated,
        user_name: env.caller.user_name.clone(),
        ..Session::new(caller, secret_access_key, issued_at, issued_at + seconds)
    };
    Ok(GetSessionTokenOutput {
        credentials: credentials::credentials(env, &session),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFederationTokenInput {
    name: String,
    policy: Option<String>,
    #[serde(default)]
    policy_arns: Vec<PolicyArn>,
    duration_seconds: Option<i64>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FederatedUser {
    federated_user_id: String,
    arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFederationTokenOutput {
    credentials: Credentials,
    federated_user: FederatedUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<i64>,
}

/// The federated user can do what both the calling user's policies and the session policies
/// allow; with no session policy it can do nothing, as AWS documents. Its session tags are
/// checked as AssumeRole's are (none can be transitive: a federated user cannot assume a
/// role) and become its `aws:PrincipalTag/*`, over the calling user's tags of the same key.
pub(crate) fn get_federation_token(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetFederationTokenInput,
) -> Result<GetFederationTokenOutput, StsError> {
    long_term_only(env, "GetFederationToken")?;
    let seconds = credentials::duration(
        input.duration_seconds,
        DEFAULT_SECONDS.min(max_seconds(env)),
        max_seconds(env),
        "The requested DurationSeconds exceeds the allowed maximum for this caller.",
    )?;
    let tags = input.tags.into_iter().map(|t| (t.key, t.value)).collect();
    let (tags, _) = session_tags(None, tags, Vec::new())?;
    let policies =
        credentials::session_policies(tx, &env.caller.account_id, input.policy, input.policy_arns)?;
    let packed_policy_size = policies.packed_size(&tags);
    let account = env.caller.account_id.clone();
    let (access_key_id, secret_access_key) = credentials::new_key(env, &account);
    let arn = format!("arn:aws:sts::{account}:federated-user/{}", input.name);
    let federated_user_id = format!("{account}:{}", input.name);
    let issued_at = env.now.unix_timestamp();
    let caller = Caller {
        account_id: account,
        arn: arn.clone(),
        principal_id: federated_user_id.clone(),
        kind: PrincipalKind::FederatedUser,
        user_name: None,
        access_key_id,
    };
    // A user's federated users carry that user's permissions, identified by its unique ID.
    let user_id =
        (env.caller.kind == PrincipalKind::IamUser).then(|| env.caller.principal_id.clone());
    let session = Session {
        user_name: env.caller.user_name.clone(),
        user_id,
        policies: policies.documents,
        tags,
        ..Session::new(caller, secret_access_key, issued_at, issued_at + seconds)
    };
    Ok(GetFederationTokenOutput {
        credentials: credentials::credentials(env, &session),
        federated_user: FederatedUser {
            federated_user_id,
            arn,
        },
        packed_policy_size,
    })
}
