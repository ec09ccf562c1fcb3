//! What the authorize step needs for each operation, as AWS authorizes Secrets Manager: the
//! secret's ARN (with its suffix; a secret not found by the name or ARN given, as given), its
//! tags (`aws:ResourceTag/*` and `secretsmanager:ResourceTag/*`), `secretsmanager:SecretId`
//! and `secretsmanager:SecretPrimaryRegion`, the keys the Service Authorization Reference lists
//! for each action, and the secret's resource policy.
//!
//! The resource policy is evaluated with the caller's IAM policies as AWS does: within the
//! secret's account either may allow; from another account both must. A secret of another
//! account with no policy is still decided as that account's (an empty policy), so that
//! identity policies alone never reach across accounts. Decrypting the value is KMS's own
//! `kms:Decrypt`, authorized by the spine with the key policy when the handler calls KMS.

use rampart_service::{AuthorizationTarget, AwsError, Env, Resource, ResourcePolicy, Value};
use rampart_store::ReadTx;

use crate::error::SecretsError;
use crate::names;

/// The policy a secret of another account with no policy of its own is decided by.
const EMPTY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn string<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

fn strings(input: &Value, member: &str) -> Vec<String> {
    input
        .get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn store(e: rampart_store::StoreError) -> AwsError {
    SecretsError::Store(e).into()
}

/// The authorization of `action` (the operation's own when `None`) on the secret `given`
/// names.
fn secret_target(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    given: &str,
    action: Option<&'static str>,
) -> Result<AuthorizationTarget, AwsError> {
    let found = names::find(env, tx, given).map_err(store)?;
    let (arn, owner) = match &found {
        Some(record) => (record.arn.clone(), record.account.clone()),
        None => {
            let owner = names::candidates(env, given)
                .first()
                .map_or_else(|| env.caller.account_id.clone(), |c| c.account.clone());
            (names::named_arn(env, given), owner)
        }
    };
    let mut resource = Resource::named(arn.clone());
    let mut keys = vec![("secretsmanager:SecretId".to_owned(), vec![arn])];
    if let Some(record) = &found {
        resource = resource.with_tags(record.tags.iter().cloned());
        for (key, value) in &record.tags {
            resource = resource.with_key(
                format!("secretsmanager:ResourceTag/{key}"),
                vec![value.clone()],
            );
        }
        keys.push((
            "secretsmanager:SecretPrimaryRegion".to_owned(),
            vec![record.region.clone()],
        ));
        if let Some(rotation) = &record.rotation {
            resource = resource.with_key(
                "secretsmanager:resource/AllowRotationLambdaArn",
                vec![rotation.lambda_arn.clone()],
            );
        }
    }
    let policy = match found.as_ref().and_then(|r| r.policy.as_ref()) {
        Some(document) => Some((
            document.clone(),
            found.as_ref().map(|r| r.policy_principal_ids.clone()),
        )),
        None if owner != env.caller.account_id => Some((EMPTY_POLICY.to_owned(), None)),
        None => None,
    };
    Ok(AuthorizationTarget {
        action,
        resources: vec![resource],
        resource_policy: policy.map(|(document, ids)| ResourcePolicy {
            document,
            account_id: owner,
            must_allow: false,
            description: "resource-based policy",
            principal_ids: ids.unwrap_or_default(),
        }),
        condition_keys: keys,
        denial: None,
    })
}

/// An operation on the secret in `SecretId`.
pub(crate) fn on_secret(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let given = string(input, "SecretId").unwrap_or_default();
    Ok(vec![secret_target(env, tx, given, None)?])
}

/// CreateSecret: on the ARN the new secret will have (its suffix is derived from the request).
pub(crate) fn create_secret(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let name = string(input, "Name").unwrap_or_default();
    let arn = names::secret_arn(
        env.region,
        &env.caller.account_id,
        name,
        &names::new_suffix(env, name),
    );
    Ok(vec![AuthorizationTarget::on(Resource::named(arn))])
}

/// ValidateResourcePolicy: on the secret when it names one.
pub(crate) fn validate_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    match string(input, "SecretId") {
        Some(given) => Ok(vec![secret_target(env, tx, given, None)?]),
        None => Ok(vec![AuthorizationTarget::on(Resource::any())]),
    }
}

/// BatchGetSecretValue: the action itself (no resource), and `secretsmanager:ListSecrets` when
/// its filters choose the secrets, as AWS requires. `secretsmanager:GetSecretValue` on each
/// secret is the handler's call of GetSecretValue through the spine, so that a secret the
/// caller may not read is an entry of `Errors`, not a refusal of the whole call.
pub(crate) fn batch_get_secret_value(
    _env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let mut targets = vec![AuthorizationTarget::on(Resource::any())];
    if input.get("Filters").is_some() {
        targets.push(AuthorizationTarget {
            action: Some("secretsmanager:ListSecrets"),
            ..AuthorizationTarget::on(Resource::any())
        });
    }
    Ok(targets)
}

fn request_tags(input: &Value, keys: &mut Vec<(String, Vec<String>)>) {
    let tags = input.get("Tags").and_then(Value::as_array);
    let mut names = Vec::new();
    for tag in tags.into_iter().flatten() {
        let key = string(tag, "Key").unwrap_or_default();
        let value = string(tag, "Value").unwrap_or_default();
        keys.push((format!("aws:RequestTag/{key}"), vec![value.to_owned()]));
        names.push(key.to_owned());
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), names));
    }
}

fn flag(input: &Value, member: &str, keys: &mut Vec<(String, Vec<String>)>, key: &str) {
    if let Some(on) = input.get(member).and_then(Value::as_bool) {
        keys.push((key.to_owned(), vec![on.to_string()]));
    }
}

fn text(input: &Value, member: &str, keys: &mut Vec<(String, Vec<String>)>, key: &str) {
    if let Some(value) = string(input, member) {
        keys.push((key.to_owned(), vec![value.to_owned()]));
    }
}

/// The ARN of the KMS key a request names (a key ID or alias name made an ARN of the caller's
/// account and Region).
fn key_arn(env: &Env<'_>, key: &str) -> String {
    if key.starts_with("arn:") {
        return key.to_owned();
    }
    let kind = if key.starts_with("alias/") {
        ""
    } else {
        "key/"
    };
    format!(
        "arn:aws:kms:{}:{}:{kind}{key}",
        env.region, env.caller.account_id
    )
}

fn kms_keys(env: &Env<'_>, input: &Value, keys: &mut Vec<(String, Vec<String>)>) {
    if let Some(key) = string(input, "KmsKeyId") {
        keys.push(("secretsmanager:KmsKeyId".to_owned(), vec![key.to_owned()]));
        keys.push((
            "secretsmanager:KmsKeyArn".to_owned(),
            vec![key_arn(env, key)],
        ));
    }
}

/// CreateSecret's keys.
pub(crate) fn create_secret_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    text(input, "Name", &mut keys, "secretsmanager:Name");
    text(
        input,
        "Description",
        &mut keys,
        "secretsmanager:Description",
    );
    text(input, "Type", &mut keys, "secretsmanager:Type");
    kms_keys(env, input, &mut keys);
    request_tags(input, &mut keys);
    let regions: Vec<String> = input
        .get("AddReplicaRegions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| string(r, "Region"))
        .map(str::to_owned)
        .collect();
    if !regions.is_empty() {
        keys.push(("secretsmanager:AddReplicaRegions".to_owned(), regions));
    }
    flag(
        input,
        "ForceOverwriteReplicaSecret",
        &mut keys,
        "secretsmanager:ForceOverwriteReplicaSecret",
    );
    keys
}

/// UpdateSecret's keys.
pub(crate) fn update_secret_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    text(
        input,
        "Description",
        &mut keys,
        "secretsmanager:Description",
    );
    text(input, "Type", &mut keys, "secretsmanager:Type");
    kms_keys(env, input, &mut keys);
    keys
}

/// GetSecretValue's keys: the version it asks for.
pub(crate) fn get_secret_value_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    text(input, "VersionId", &mut keys, "secretsmanager:VersionId");
    text(
        input,
        "VersionStage",
        &mut keys,
        "secretsmanager:VersionStage",
    );
    keys
}

/// UpdateSecretVersionStage's key: the label it moves.
pub(crate) fn version_stage_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    text(
        input,
        "VersionStage",
        &mut keys,
        "secretsmanager:VersionStage",
    );
    keys
}

/// DeleteSecret's keys: its recovery window, or that it has none.
pub(crate) fn delete_secret_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    if let Some(days) = input.get("RecoveryWindowInDays").and_then(Value::as_i64) {
        keys.push((
            "secretsmanager:RecoveryWindowInDays".to_owned(),
            vec![days.to_string()],
        ));
    }
    flag(
        input,
        "ForceDeleteWithoutRecovery",
        &mut keys,
        "secretsmanager:ForceDeleteWithoutRecovery",
    );
    keys
}

/// RotateSecret's keys: the function, whether it rotates now, whether it changes the rules.
pub(crate) fn rotate_secret_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    text(
        input,
        "RotationLambdaARN",
        &mut keys,
        "secretsmanager:RotationLambdaARN",
    );
    text(
        input,
        "ExternalSecretRotationRoleArn",
        &mut keys,
        "secretsmanager:ExternalSecretRotationRoleArn",
    );
    let now = input
        .get("RotateImmediately")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    keys.push((
        "secretsmanager:RotateImmediately".to_owned(),
        vec![now.to_string()],
    ));
    let modifies = input.get("RotationRules").is_some();
    keys.push((
        "secretsmanager:ModifyRotationRules".to_owned(),
        vec![modifies.to_string()],
    ));
    keys
}

/// PutResourcePolicy's key: whether it blocks public policies.
pub(crate) fn put_resource_policy_keys(
    _env: &Env<'_>,
    input: &Value,
) -> Vec<(String, Vec<String>)> {
    let on = input
        .get("BlockPublicPolicy")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    vec![(
        "secretsmanager:BlockPublicPolicy".to_owned(),
        vec![on.to_string()],
    )]
}

/// TagResource's keys: the tags it adds.
pub(crate) fn tag_resource_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    request_tags(input, &mut keys);
    keys
}

/// UntagResource's key: the tag keys it removes.
pub(crate) fn untag_resource_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let names = strings(input, "TagKeys");
    if names.is_empty() {
        return Vec::new();
    }
    vec![("aws:TagKeys".to_owned(), names)]
}
