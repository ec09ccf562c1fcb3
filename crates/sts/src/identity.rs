//! Who am I: `GetCallerIdentity` and `GetAccessKeyInfo`.

use rampart_service::{AwsError, Env};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

/// `GetCallerIdentity` takes no parameters.
#[derive(Debug, Deserialize)]
pub struct GetCallerIdentityInput {}

/// `GetCallerIdentity`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCallerIdentityOutput {
    user_id: String,
    account: String,
    arn: String,
}

pub fn get_caller_identity(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    _input: GetCallerIdentityInput,
) -> Result<GetCallerIdentityOutput, AwsError> {
    Ok(GetCallerIdentityOutput {
        user_id: env.caller.principal_id.clone(),
        account: env.caller.account_id.clone(),
        arn: env.caller.arn.clone(),
    })
}

/// `GetAccessKeyInfo`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAccessKeyInfoInput {
    access_key_id: String,
}

/// `GetAccessKeyInfo`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAccessKeyInfoOutput {
    account: String,
}

/// Answers from the key ID alone, as AWS does: the account is encoded in the ID, so even a
/// key that does not exist (or belongs to nobody here) gets its encoded account.
pub fn get_access_key_info(
    _env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: GetAccessKeyInfoInput,
) -> Result<GetAccessKeyInfoOutput, AwsError> {
    let account = rampart_iam::ids::account_of_access_key_id(&input.access_key_id)
        .filter(|_| input.access_key_id.len() >= 16)
        .ok_or_else(|| {
            AwsError::new(
                "InvalidParameterValue",
                400,
                format!(
                    "The access key ID '{}' is not in a valid format.",
                    input.access_key_id
                ),
            )
        })?;
    Ok(GetAccessKeyInfoOutput {
        account: format!("{account:012}"),
    })
}
