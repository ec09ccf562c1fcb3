//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, the default key policy, and
//! their validation. What the authorize step makes of them is in authorization.rs.

use rampart_policy::{Policy, PolicyKind};
use rampart_service::{Env, PrincipalIds, principal_ids};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::KmsError;
use crate::keys::{Empty, load_for_write};
use crate::records;
use crate::resolve::find_own_key;

/// The only policy name a key has.
const DEFAULT_POLICY_NAME: &str = "default";

/// AWS's default key policy: the account (root) may do everything, which delegates the
/// key's access control to the account's IAM policies.
pub(crate) fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// KMS's text for a principal it cannot use: malformed, a bare unique ID, or no such entity.
const INVALID_PRINCIPALS: &str = "Policy contains a statement with one or more invalid principals.";

/// Checks a key policy document with the policy engine's key-policy rules.
pub(crate) fn validate(document: &str) -> Result<(), KmsError> {
    Policy::parse_as(document, PolicyKind::KeyPolicy)
        .map(|_| ())
        .map_err(|e| {
            let message = e.aws_message();
            KmsError::MalformedPolicyDocument(if message.starts_with("Invalid principal") {
                INVALID_PRINCIPALS.to_owned()
            } else {
                message.to_owned()
            })
        })
}

/// Checks a key policy about to be saved and binds the users and roles it names to their
/// unique IDs, as AWS does: one that names no existing user or role is refused.
pub(crate) fn checked(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    document: &str,
) -> Result<PrincipalIds, KmsError> {
    validate(document)?;
    principal_ids::bind(env.directory, tx, document).map_err(|e| match e {
        principal_ids::BindError::InvalidPrincipal(_) => {
            KmsError::MalformedPolicyDocument(INVALID_PRINCIPALS.to_owned())
        }
        principal_ids::BindError::Store(e) => e.into(),
    })
}

fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!(
            "No such policy exists: {other}. The only valid value is default."
        ))),
    }
}

/// GetKeyPolicy's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyPolicyInput {
    key_id: String,
    policy_name: Option<String>,
}

/// GetKeyPolicy's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyPolicyOutput {
    policy: String,
    policy_name: &'static str,
}

/// GetKeyPolicy.
pub(crate) fn get_key_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetKeyPolicyInput,
) -> Result<GetKeyPolicyOutput, KmsError> {
    check_policy_name(input.policy_name.as_deref())?;
    let key = find_own_key(tx, env, &input.key_id)?;
    let policy = principal_ids::shown(env.directory, tx, &key.policy, &key.policy_principal_ids)?
        .into_owned();
    Ok(GetKeyPolicyOutput {
        policy,
        policy_name: DEFAULT_POLICY_NAME,
    })
}

/// PutKeyPolicy's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutKeyPolicyInput {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
}

/// PutKeyPolicy. The policy lockout safety check is the authorize step's (authorization.rs).
pub(crate) fn put_key_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutKeyPolicyInput,
) -> Result<Empty, KmsError> {
    check_policy_name(input.policy_name.as_deref())?;
    let principal_ids = checked(env, tx, &input.policy)?;
    let mut key = load_for_write(env, tx, &input.key_id)?;
    key.policy = input.policy;
    key.policy_principal_ids = principal_ids;
    records::save_key(tx, &key)?;
    Ok(Empty {})
}

/// ListKeyPolicies' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyPoliciesInput {
    key_id: String,
}

/// ListKeyPolicies' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyPoliciesOutput {
    policy_names: Vec<&'static str>,
    truncated: bool,
}

/// ListKeyPolicies: always `default`.
pub(crate) fn list_key_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListKeyPoliciesInput,
) -> Result<ListKeyPoliciesOutput, KmsError> {
    find_own_key(tx, env, &input.key_id)?;
    Ok(ListKeyPoliciesOutput {
        policy_names: vec![DEFAULT_POLICY_NAME],
        truncated: false,
    })
}
