//! AWS managed keys: `alias/aws/<service>`, the key a service encrypts with when its caller
//! names none (Parameter Store's SecureString, Secrets Manager's secrets). KMS makes one the
//! first time its service needs it, in the service's transaction, through the internal
//! operation `AwsManagedKey` that services call through the spine
//! (`rampart_service::ServiceCalls::call_write`); no client can call it.
//!
//! As AWS's: a symmetric key whose `KeyManager` is `AWS`, rotated every year, with AWS's
//! policy for such keys: any principal of the account may use it through the service
//! (`kms:ViaService`, `kms:CallerAccount`), and the account may only read its metadata, so
//! nobody can change, disable or delete it.

use rampart_service::{Env, Operation};
use rampart_store::{WriteTx, put_json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Duration;

use crate::error::KmsError;
use crate::keys::{CreateKeyInput, create_key, load_for_write};
use crate::records::{self, ALIASES, AliasRecord};
use crate::resolve::find_own_key;

/// AWS managed keys rotate every year.
const ROTATION_DAYS: i64 = 365;

/// The internal operation services call for their AWS managed key.
pub(crate) fn operations() -> Vec<Operation> {
    // Never evaluated: internal operations are not authorized (see `Service::internal_operation`).
    vec![Operation::write("AwsManagedKey", "kms:CreateKey", aws_managed_key).always_allowed()]
}

/// `AwsManagedKey`'s input: the service's endpoint prefix (`ssm`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AwsManagedKeyInput {
    service: String,
}

/// The key, as DescribeKey names it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AwsManagedKeyOutput {
    key_id: String,
    arn: String,
}

/// The description AWS gives the managed key of `service`.
fn description(service: &str) -> String {
    let what = match service {
        "ssm" => "SSM parameters",
        "secretsmanager" => "Secrets Manager data",
        "logs" => "CloudWatch Logs data",
        other => other,
    };
    format!("Default key that protects my {what} when no other key is defined")
}

/// AWS's policy for the managed key of `service` in the caller's account and region.
fn policy(env: &Env<'_>, service: &str) -> String {
    let account = &env.caller.account_id;
    json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{service}-1"),
        "Statement": [
            {
                "Sid": format!("Allow access through {service} for all principals in the account that are authorized to use {service}"),
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": account,
                    "kms:ViaService": format!("{service}.{}.amazonaws.com", env.region),
                }},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*",
            },
        ],
    })
    .to_string()
}

/// The AWS managed key of `service` in the caller's account and region, made if it is not
/// there yet.
fn aws_managed_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AwsManagedKeyInput,
) -> Result<AwsManagedKeyOutput, KmsError> {
    let service = input.service;
    if service.is_empty()
        || !service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(KmsError::Validation(format!(
            "{service} is not a service's endpoint prefix"
        )));
    }
    let alias = format!("alias/aws/{service}");
    match find_own_key(tx, env, &alias) {
        Ok(key) => {
            return Ok(AwsManagedKeyOutput {
                key_id: key.key_id,
                arn: key.arn,
            });
        }
        Err(KmsError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let created = create_key(
        env,
        tx,
        CreateKeyInput::symmetric(description(&service), policy(env, &service)),
    )?;
    let mut key = load_for_write(env, tx, created.key_id())?;
    key.aws_managed = true;
    key.rotation.enabled = true;
    key.rotation.period_days = Some(ROTATION_DAYS);
    key.rotation.next_rotation = Some(env.now + Duration::days(ROTATION_DAYS));
    records::save_key(tx, &key)?;
    let account = &env.caller.account_id;
    put_json(
        tx,
        ALIASES,
        &records::alias_doc(account, env.region, &alias),
        &AliasRecord {
            arn: records::alias_arn(env.region, account, &alias),
            name: alias,
            target_key_id: key.key_id.clone(),
            created: env.now,
            updated: env.now,
        },
    )?;
    Ok(AwsManagedKeyOutput {
        key_id: key.key_id,
        arn: key.arn,
    })
}
