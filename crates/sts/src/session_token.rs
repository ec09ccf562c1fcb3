//! `GetSessionToken` and `GetFederationToken`: sessions of an IAM user (or the root user)
//! itself, with MFA, or as a federated user limited by session policies.

use rampart_service::{Caller, Env, Operation, PrincipalKind, Resource};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::StsError;
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
        .resources(|env, _, input| {
            let name = input
                .get("Name")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            Ok(vec![Resource::named(format!(
                "arn:aws:sts::{}:federated-user/{name}",
                env.caller.account_id
            ))])
        }),
    ]
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
/// allow; with no session policy it can do nothing, as AWS documents.
fn get_federation_token(
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
    let policies =
        credentials::session_policies(tx, &env.caller.account_id, input.policy, input.policy_arns)?;
    let packed_policy_size = policies.packed_size(&[]);
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
