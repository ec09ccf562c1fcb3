//! Key policies (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies) and what the authorize step
//! needs from KMS: the resources a request names, the key policy that must allow it — with
//! the caller's grants folded in as statements — and KMS's condition keys.

use rampart_policy::{Policy, PolicyKind};
use rampart_service::{AwsError, Env, ResourcePolicy, Value};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::KmsError;
use crate::keys::{Empty, load_for_write};
use crate::records::{self, GRANTS, GrantRecord, KeyRecord};
use crate::resolve::{KeyRef, find_key, find_own_key};
use crate::{blob, grants};

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

/// Checks a key policy document with the policy engine's key-policy rules.
pub(crate) fn validate(document: &str) -> Result<(), KmsError> {
    Policy::parse_as(document, PolicyKind::KeyPolicy)
        .map(|_| ())
        .map_err(|e| KmsError::MalformedPolicyDocument(e.aws_message().to_owned()))
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
    Ok(GetKeyPolicyOutput {
        policy: key.policy,
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

/// PutKeyPolicy. The policy lockout safety check is not made (see docs/COVERAGE.md).
pub(crate) fn put_key_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutKeyPolicyInput,
) -> Result<Empty, KmsError> {
    check_policy_name(input.policy_name.as_deref())?;
    validate(&input.policy)?;
    let mut key = load_for_write(env, tx, &input.key_id)?;
    key.policy = input.policy;
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

fn member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// The key a ciphertext blob names, as a `KeyId` (its ARN).
fn blob_key(env: &Env<'_>, input: &Value) -> Option<String> {
    let bytes = data_encoding::BASE64
        .decode(member(input, "CiphertextBlob")?.as_bytes())
        .ok()?;
    let header = blob::parse_header(&bytes).ok()?;
    Some(records::key_arn(
        env.region,
        &header.account_id,
        &header.key_id,
    ))
}

/// The `KeyId` a request is about, whichever member names it.
fn request_key_id(env: &Env<'_>, input: &Value) -> Option<String> {
    for name in ["KeyId", "TargetKeyId", "SourceKeyId", "AliasName"] {
        if let Some(k) = member(input, name) {
            return Some(k.to_owned());
        }
    }
    if let Some(token) = member(input, "GrantToken")
        && let Some(t) = grants::parse_token(env, token)
    {
        return Some(records::key_arn(env.region, &t.account_id, &t.key_id));
    }
    blob_key(env, input)
}

/// Resources of an operation on one key: the key's ARN, or the alias's ARN when the request
/// names an alias (the resources function cannot read the store to resolve it).
pub(crate) fn key_resource(env: &Env<'_>, input: &Value) -> Vec<String> {
    match request_key_id(env, input) {
        Some(k) => vec![KeyRef::parse(env, &k).arn()],
        None => vec!["*".to_owned()],
    }
}

/// CreateAlias and UpdateAlias touch the alias and the key it points at.
pub(crate) fn alias_resources(env: &Env<'_>, input: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(name) = member(input, "AliasName") {
        out.push(records::alias_arn(env.region, &env.caller.account_id, name));
    }
    if let Some(k) = member(input, "TargetKeyId") {
        out.push(KeyRef::parse(env, k).arn());
    }
    out
}

/// ReEncrypt's destination key (the `kms:ReEncryptTo` side), for callers that need it.
pub(crate) fn destination_resource(env: &Env<'_>, input: &Value) -> Option<String> {
    member(input, "DestinationKeyId").map(|k| KeyRef::parse(env, k).arn())
}

/// Whether a grant's principal names the caller: the same ARN, or the role whose session
/// the caller is.
pub(crate) fn principal_matches(principal: &str, caller_arn: &str) -> bool {
    if principal == caller_arn {
        return true;
    }
    // arn:aws:sts::<account>:assumed-role/<role>/<session> acts for
    // arn:aws:iam::<account>:role/<path/><role>.
    let Some((caller_account, rest)) = caller_arn
        .strip_prefix("arn:aws:sts::")
        .and_then(|r| r.split_once(":assumed-role/"))
    else {
        return false;
    };
    let Some((role, _session)) = rest.split_once('/') else {
        return false;
    };
    principal
        .strip_prefix(&format!("arn:aws:iam::{caller_account}:role/"))
        .is_some_and(|path_and_name| path_and_name.rsplit('/').next() == Some(role))
}

/// The statement a grant adds to its key's policy for its grantee: the grant's operations,
/// under its encryption-context constraints.
fn grant_statement(
    grant: &GrantRecord,
    caller_arn: &str,
    actions: Vec<String>,
) -> serde_json::Value {
    let mut equals = serde_json::Map::new();
    let mut condition = serde_json::Map::new();
    if let Some(c) = &grant.constraints {
        let pairs = c.equals.as_ref().or(c.subset.as_ref());
        for (k, v) in pairs.into_iter().flatten() {
            equals.insert(format!("kms:EncryptionContext:{k}"), json!(v));
        }
        if let Some(exact) = &c.equals {
            // Equals: no pair beyond the constraint's.
            condition.insert(
                "ForAllValues:StringEquals".to_owned(),
                json!({"kms:EncryptionContextKeys": exact.keys().collect::<Vec<_>>()}),
            );
        }
    }
    if !equals.is_empty() {
        condition.insert("StringEquals".to_owned(), serde_json::Value::Object(equals));
    }
    let mut statement = json!({
        "Sid": format!("Grant{}", grant.grant_id),
        "Effect": "Allow",
        "Principal": {"AWS": caller_arn},
        "Action": actions,
        "Resource": "*",
    });
    if !condition.is_empty()
        && let Some(obj) = statement.as_object_mut()
    {
        obj.insert("Condition".to_owned(), serde_json::Value::Object(condition));
    }
    statement
}

/// The key policy governing a request, with a statement per grant that applies to the
/// caller (as grantee, or as retiring principal for RetireGrant), so the authorize step
/// needs no notion of grants. `None` when the request names no existing key: the handler
/// then answers NotFoundException.
pub(crate) fn key_policy_lookup(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let Some(key_id) = request_key_id(env, input) else {
        return Ok(None);
    };
    let key = match find_key(tx, env, &key_id) {
        Ok(key) => key,
        Err(KmsError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let document = policy_with_grants(tx, &key, &env.caller.arn).map_err(AwsError::from)?;
    Ok(Some(ResourcePolicy {
        document,
        account_id: key.account_id,
        must_allow: true,
        description: "key policy",
    }))
}

/// `key`'s policy document with the statements of the grants that apply to `caller_arn`.
pub(crate) fn policy_with_grants(
    tx: &mut dyn ReadTx,
    key: &KeyRecord,
    caller_arn: &str,
) -> Result<String, KmsError> {
    let prefix = records::grants_prefix(&key.account_id, &key.region, &key.key_id);
    let grants: Vec<(String, GrantRecord)> =
        rampart_store::scan_json(tx, GRANTS, &prefix, None, usize::MAX)?;
    let mut statements = Vec::new();
    for (_, grant) in &grants {
        let mut actions: Vec<String> = Vec::new();
        if principal_matches(&grant.grantee_principal, caller_arn) {
            actions.extend(grant.operations.iter().map(|op| format!("kms:{op}")));
        }
        if grant
            .retiring_principal
            .as_deref()
            .is_some_and(|p| principal_matches(p, caller_arn))
            && !actions.iter().any(|a| a == "kms:RetireGrant")
        {
            actions.push("kms:RetireGrant".to_owned());
        }
        if !actions.is_empty() {
            statements.push(grant_statement(grant, caller_arn, actions));
        }
    }
    if statements.is_empty() {
        return Ok(key.policy.clone());
    }
    // The stored policy was validated when put; if it cannot be read as JSON now, keep it
    // as it is (the engine then refuses it, which denies) rather than drop it.
    let Ok(mut document) = serde_json::from_str::<serde_json::Value>(&key.policy) else {
        return Ok(key.policy.clone());
    };
    if let Some(obj) = document.as_object_mut() {
        let existing = match obj.remove("Statement") {
            Some(serde_json::Value::Array(list)) => list,
            Some(single) => vec![single],
            None => Vec::new(),
        };
        let mut all = existing;
        all.extend(statements);
        obj.insert("Statement".to_owned(), serde_json::Value::Array(all));
    }
    Ok(document.to_string())
}

/// KMS's condition keys a request carries, from its input and the caller. Key-derived keys
/// (`kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin` on existing keys) and `aws:ResourceTag`
/// need the key record, which this function cannot read: they are only set on CreateKey,
/// whose input states them.
pub(crate) fn condition_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = vec![(
        "kms:CallerAccount".to_owned(),
        vec![env.caller.account_id.clone()],
    )];
    let context = input
        .get("EncryptionContext")
        .or_else(|| input.get("SourceEncryptionContext"))
        .and_then(Value::as_object);
    if let Some(context) = context {
        let mut names = Vec::new();
        for (k, v) in context {
            if let Some(v) = v.as_str() {
                keys.push((format!("kms:EncryptionContext:{k}"), vec![v.to_owned()]));
                names.push(k.clone());
            }
        }
        keys.push(("kms:EncryptionContextKeys".to_owned(), names));
    }
    for (member_name, key) in [
        ("EncryptionAlgorithm", "kms:EncryptionAlgorithm"),
        ("SigningAlgorithm", "kms:SigningAlgorithm"),
        ("MacAlgorithm", "kms:MacAlgorithm"),
        ("MessageType", "kms:MessageType"),
        ("KeyPairSpec", "kms:DataKeyPairSpec"),
        ("Origin", "kms:KeyOrigin"),
        ("RetiringPrincipal", "kms:RetiringPrincipal"),
        ("GranteePrincipal", "kms:GranteePrincipal"),
    ] {
        if let Some(v) = member(input, member_name) {
            keys.push((key.to_owned(), vec![v.to_owned()]));
        }
    }
    if input.get("Operations").is_some() {
        let ops: Vec<String> = input
            .get("Operations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        keys.push(("kms:GrantOperations".to_owned(), ops));
        // Rampart has no AWS services that create grants on a caller's behalf.
        keys.push((
            "kms:GrantIsForAWSResource".to_owned(),
            vec!["false".to_owned()],
        ));
        if let Some(c) = input.get("Constraints").and_then(Value::as_object) {
            let types: Vec<String> = c.keys().cloned().collect();
            keys.push(("kms:GrantConstraintType".to_owned(), types));
        }
    }
    if let Some(k) = member(input, "KeyId")
        && let KeyRef::Alias { name, .. } = KeyRef::parse(env, k)
    {
        keys.push(("kms:RequestAlias".to_owned(), vec![name]));
    }
    if let (Some(source), Some(dest)) = (blob_key(env, input), destination_resource(env, input)) {
        keys.push((
            "kms:ReEncryptOnSameKey".to_owned(),
            vec![(source == dest).to_string()],
        ));
    }
    keys
}

/// CreateKey's condition keys: the general ones, and the new key's spec and usage (with
/// AWS's defaults when the request leaves them out).
pub(crate) fn create_key_condition_keys(
    env: &Env<'_>,
    input: &Value,
) -> Vec<(String, Vec<String>)> {
    let mut keys = condition_keys(env, input);
    let spec = member(input, "KeySpec")
        .or_else(|| member(input, "CustomerMasterKeySpec"))
        .unwrap_or("SYMMETRIC_DEFAULT");
    keys.push(("kms:KeySpec".to_owned(), vec![spec.to_owned()]));
    let usage = member(input, "KeyUsage").unwrap_or(crate::spec::ENCRYPT_DECRYPT);
    keys.push(("kms:KeyUsage".to_owned(), vec![usage.to_owned()]));
    keys.push((
        "kms:MultiRegion".to_owned(),
        vec![
            input
                .get("MultiRegion")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                .to_string(),
        ],
    ));
    keys
}
