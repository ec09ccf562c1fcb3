//! What the authorize step needs from KMS, for each request: the keys it is about (an alias
//! stands for its key, so the store is read), each key's policy with the caller's grants
//! folded in as statements (the policy that must allow), the keys' own condition keys
//! (`kms:KeySpec`, `kms:ResourceAliases`, …) and tags, and the request's condition keys.
//!
//! An operation on one key is authorized once, on that key. ReEncrypt is authorized twice:
//! `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the destination key, each
//! against its own key policy. Alias operations are authorized on the alias (identity policies
//! only: an alias has no policy) and on each key involved (its key policy), as AWS documents.

use rampart_service::{AuthorizationTarget, AwsError, Env, Resource, ResourcePolicy, Value};
use rampart_store::{ReadTx, get_json};
use serde_json::json;

use crate::error::KmsError;
use crate::grant_policy::{self, ChildGrant, GrantUse};
use crate::records::{self, ALIASES, AliasRecord, GRANTS, GrantRecord, KeyRecord};
use crate::resolve::{KeyRef, find_key};
use crate::{blob, grants};

/// The origin of every key Rampart makes (no imported material, no custom key stores).
const KEY_ORIGIN: &str = "AWS_KMS";

/// The algorithm of symmetric encryption, which requests that name none use.
const DEFAULT_ENCRYPTION_ALGORITHM: &str = "SYMMETRIC_DEFAULT";

/// Request parameters whose keys exist at their default value when the request leaves them
/// out: (member, key, AWS's default).
const REQUEST_DEFAULTS: &[(&str, &str, &str)] = &[
    (
        "EncryptionAlgorithm",
        "kms:EncryptionAlgorithm",
        DEFAULT_ENCRYPTION_ALGORITHM,
    ),
    ("MessageType", "kms:MessageType", "RAW"),
    (
        "PendingWindowInDays",
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        "30",
    ),
    ("RotationPeriodInDays", "kms:RotationPeriodInDays", "365"),
    (
        "BypassPolicyLockoutSafetyCheck",
        "kms:BypassPolicyLockoutSafetyCheck",
        "false",
    ),
];

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
    for name in ["KeyId", "TargetKeyId", "SourceKeyId"] {
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

/// The authorization of an operation on the one key its request names.
pub(crate) fn key_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let named = request_key_id(env, input);
    Ok(vec![key_target(
        env,
        tx,
        None,
        named.as_deref(),
        Vec::new(),
    )?])
}

/// CreateGrant: on its key, where a grant's CreateGrant permission counts only for a child
/// grant within that grant.
pub(crate) fn create_grant_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let child = ChildGrant::of_request(input);
    Ok(vec![key_target_for(
        env,
        tx,
        None,
        member(input, "KeyId"),
        Vec::new(),
        GrantUse::CreateGrant(&child),
    )?])
}

/// ReEncrypt: `kms:ReEncryptFrom` on the source key (named by `SourceKeyId` or by the
/// ciphertext), `kms:ReEncryptTo` on the destination key; each side sees its own encryption
/// context (`kms:EncryptionContext:*`) and algorithm (`kms:EncryptionAlgorithm`).
pub(crate) fn re_encrypt_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let source = member(input, "SourceKeyId")
        .map(str::to_owned)
        .or_else(|| blob_key(env, input));
    let destination = member(input, "DestinationKeyId");
    let side = |context: &str, algorithm: &str, key: Option<&str>| {
        let mut keys = context_keys(input.get(context));
        let algorithm = member(input, algorithm).unwrap_or(DEFAULT_ENCRYPTION_ALGORITHM);
        keys.push((
            "kms:EncryptionAlgorithm".to_owned(),
            vec![algorithm.to_owned()],
        ));
        keys.extend(request_alias(env, key));
        keys
    };
    let mut from = key_target(
        env,
        tx,
        None,
        source.as_deref(),
        side(
            "SourceEncryptionContext",
            "SourceEncryptionAlgorithm",
            member(input, "SourceKeyId"),
        ),
    )?;
    let mut to = key_target(
        env,
        tx,
        Some("kms:ReEncryptTo"),
        destination,
        side(
            "DestinationEncryptionContext",
            "DestinationEncryptionAlgorithm",
            destination,
        ),
    )?;
    let same = (from.resources == to.resources).to_string();
    for target in [&mut from, &mut to] {
        target
            .condition_keys
            .push(("kms:ReEncryptOnSameKey".to_owned(), vec![same.clone()]));
    }
    Ok(vec![from, to])
}

/// AWS's policy lockout safety check, unless the request bypasses it: the key policy it sets
/// must let the caller make a later PutKeyPolicy call on `key_arn`. The authorize step decides
/// it like any call (the caller's identity policies count when the policy delegates to the
/// account); a policy that is not a valid key policy is left to the handler's own answer.
fn lockout_target(
    input: &Value,
    key: Resource,
    account: &str,
    condition_keys: Vec<(String, Vec<String>)>,
) -> Option<AuthorizationTarget> {
    if input
        .get("BypassPolicyLockoutSafetyCheck")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return None;
    }
    let document = member(input, "Policy")?;
    crate::policy::validate(document).ok()?;
    Some(AuthorizationTarget {
        action: Some("kms:PutKeyPolicy"),
        resources: vec![key],
        resource_policy: Some(ResourcePolicy {
            document: document.to_owned(),
            account_id: account.to_owned(),
            must_allow: true,
            description: "key policy",
            // Bound to the principals as they are now, which is what saving it will bind.
            principal_ids: rampart_service::PrincipalIds::default(),
        }),
        condition_keys,
        denial: Some(AwsError::new(
            "MalformedPolicyDocumentException",
            400,
            "The new key policy will not allow you to update the key policy in the future.",
        )),
    })
}

/// CreateKey: allowed by identity policies alone (there is no key yet), and, when it sets a
/// key policy, the lockout safety check on the key it is about to make.
pub(crate) fn create_key_targets(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let mut targets = vec![AuthorizationTarget::on(Resource::any())];
    let account = &env.caller.account_id;
    let multi_region = input.get("MultiRegion").and_then(Value::as_bool) == Some(true);
    let new_key = records::key_arn(
        env.region,
        account,
        &crate::keys::new_key_id(env, multi_region),
    );
    targets.extend(lockout_target(
        input,
        Resource::named(new_key),
        account,
        Vec::new(),
    ));
    Ok(targets)
}

/// PutKeyPolicy: the key, under its current policy, then the lockout safety check under the
/// new one.
pub(crate) fn put_key_policy_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let current = key_target(env, tx, None, member(input, "KeyId"), Vec::new())?;
    let mut targets = Vec::with_capacity(2);
    if let (Some(policy), Some(arn)) = (&current.resource_policy, current.resources.first()) {
        targets.extend(lockout_target(
            input,
            arn.clone(),
            &policy.account_id,
            current.condition_keys.clone(),
        ));
    }
    targets.insert(0, current);
    Ok(targets)
}

/// The alias a request names, as a target its caller's identity policies decide.
fn alias_target(env: &Env<'_>, name: &str) -> AuthorizationTarget {
    AuthorizationTarget::on(Resource::named(records::alias_arn(
        env.region,
        &env.caller.account_id,
        name,
    )))
}

/// The key an existing alias of the caller's points at, as a `KeyId`.
fn alias_key(env: &Env<'_>, tx: &mut dyn ReadTx, name: &str) -> Result<Option<String>, AwsError> {
    let doc = records::alias_doc(&env.caller.account_id, env.region, name);
    let alias: Option<AliasRecord> = get_json(tx, ALIASES, &doc).map_err(KmsError::from)?;
    Ok(alias.map(|a| records::key_arn(env.region, &env.caller.account_id, &a.target_key_id)))
}

/// CreateAlias: the alias, and the key it is to point at.
pub(crate) fn create_alias_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let alias = member(input, "AliasName").unwrap_or_default();
    let key = member(input, "TargetKeyId");
    Ok(vec![
        alias_target(env, alias),
        key_target(env, tx, None, key, Vec::new())?,
    ])
}

/// UpdateAlias: the alias, the key it points at now, and the key it is to point at.
pub(crate) fn update_alias_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let alias = member(input, "AliasName").unwrap_or_default();
    let mut targets = vec![alias_target(env, alias)];
    if let Some(current) = alias_key(env, tx, alias)? {
        targets.push(key_target(env, tx, None, Some(&current), Vec::new())?);
    }
    let new = member(input, "TargetKeyId");
    targets.push(key_target(env, tx, None, new, Vec::new())?);
    Ok(targets)
}

/// DeleteAlias: the alias, and the key it points at.
pub(crate) fn delete_alias_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let alias = member(input, "AliasName").unwrap_or_default();
    let mut targets = vec![alias_target(env, alias)];
    if let Some(current) = alias_key(env, tx, alias)? {
        targets.push(key_target(env, tx, None, Some(&current), Vec::new())?);
    }
    Ok(targets)
}

/// The authorization of `action` on the key `named` names. An existing key is authorized
/// under its ARN (an alias resolved), its key policy with the caller's grants, its tags and
/// its condition keys. A name that finds no key is authorized as named, with no key policy:
/// the handler then answers NotFoundException.
fn key_target(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    action: Option<&'static str>,
    named: Option<&str>,
    condition_keys: Vec<(String, Vec<String>)>,
) -> Result<AuthorizationTarget, AwsError> {
    key_target_for(env, tx, action, named, condition_keys, GrantUse::Operation)
}

/// [`key_target`], with the caller's grants counted as `grants` says (CreateGrant and
/// RetireGrant: see [`GrantUse`]).
fn key_target_for(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    action: Option<&'static str>,
    named: Option<&str>,
    condition_keys: Vec<(String, Vec<String>)>,
    grants: GrantUse<'_>,
) -> Result<AuthorizationTarget, AwsError> {
    let Some(named) = named else {
        return Ok(AuthorizationTarget {
            action,
            resources: vec![Resource::any()],
            resource_policy: None,
            condition_keys,
            denial: None,
        });
    };
    let key = match find_key(tx, env, named) {
        Ok(key) => key,
        Err(not_found @ KmsError::NotFound(_)) => {
            return Ok(AuthorizationTarget {
                action,
                resources: vec![Resource::named(KeyRef::parse(env, named).arn())],
                resource_policy: None,
                condition_keys,
                // A service's own principal holds no identity policy, so it is always denied
                // here; KMS tells it the key is not there (CloudTrail then answers
                // KmsKeyNotFoundException, as AWS documents).
                denial: env.caller.is_service().then(|| not_found.into()),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let document = policy_with_grants(tx, &key, &env.caller.arn, grants)?;
    let mut resource = Resource::named(key.arn.clone())
        .with_tags(key.tags.iter().map(|t| (t.key.clone(), t.value.clone())));
    resource.condition_keys = key_condition_keys(tx, &key)?;
    Ok(AuthorizationTarget {
        action,
        resources: vec![resource],
        resource_policy: Some(ResourcePolicy {
            document,
            account_id: key.account_id,
            must_allow: true,
            description: "key policy",
            principal_ids: key.policy_principal_ids,
        }),
        condition_keys,
        denial: None,
    })
}

/// The condition keys that describe a key: its spec, usage and origin (also under their
/// deprecated `CustomerMasterKey*` names, which AWS still evaluates), whether it is
/// multi-Region, and the aliases that point at it.
pub(crate) fn key_condition_keys(
    tx: &mut dyn ReadTx,
    key: &KeyRecord,
) -> Result<Vec<(String, Vec<String>)>, KmsError> {
    let one = |name: &str, value: &str| (name.to_owned(), vec![value.to_owned()]);
    let mut keys = vec![
        one("kms:KeySpec", &key.key_spec),
        one("kms:CustomerMasterKeySpec", &key.key_spec),
        one("kms:KeyUsage", &key.key_usage),
        one("kms:CustomerMasterKeyUsage", &key.key_usage),
        one("kms:KeyOrigin", key.origin.as_str()),
        one("kms:MultiRegion", &key.multi_region.is_some().to_string()),
    ];
    if key.multi_region.is_some() {
        let kind = if key.is_replica() {
            "REPLICA"
        } else {
            "PRIMARY"
        };
        keys.push(one("kms:MultiRegionKeyType", kind));
    }
    let prefix = format!("{}/{}/", key.account_id, key.region);
    let aliases: Vec<(String, AliasRecord)> =
        rampart_store::scan_json(tx, ALIASES, &prefix, None, usize::MAX)?;
    let names: Vec<String> = aliases
        .into_iter()
        .filter(|(_, a)| a.target_key_id == key.key_id)
        .map(|(_, a)| a.name)
        .collect();
    if !names.is_empty() {
        keys.push(("kms:ResourceAliases".to_owned(), names));
    }
    Ok(keys)
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

/// `key`'s policy document with the statements the grants that name `caller_arn` (as
/// grantee or retiring principal) add for a request that makes `use_` of them (see
/// [`grant_policy::grant_statements`]), so the authorize step needs no notion of grants. For
/// RetireGrant, the key policy's own Allow statements do not count (AWS: "The
/// kms:RetireGrant permission is not effective in a key policy"); its Deny statements do,
/// and the accounts that issued the grant and own the key may delegate it to their IAM
/// principals.
pub(crate) fn policy_with_grants(
    tx: &mut dyn ReadTx,
    key: &KeyRecord,
    caller_arn: &str,
    use_: GrantUse<'_>,
) -> Result<String, KmsError> {
    let prefix = records::grants_prefix(&key.account_id, &key.region, &key.key_id);
    let grants: Vec<(String, GrantRecord)> =
        rampart_store::scan_json(tx, GRANTS, &prefix, None, usize::MAX)?;
    let mut statements: Vec<serde_json::Value> = grants
        .iter()
        .flat_map(|(_, grant)| grant_policy::grant_statements(grant, caller_arn, use_))
        .collect();
    let retiring = match use_ {
        GrantUse::RetireGrant(id) => Some(grants.iter().map(|(_, g)| g).find(|g| g.grant_id == id)),
        _ => None,
    };
    if let Some(grant) = retiring {
        statements.extend(grant_policy::retiring_accounts(&key.account_id, grant));
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
        let mut all = match obj.remove("Statement") {
            Some(serde_json::Value::Array(list)) => list,
            Some(single) => vec![single],
            None => Vec::new(),
        };
        if retiring.is_some() {
            all.retain(|s| s.get("Effect").and_then(serde_json::Value::as_str) == Some("Deny"));
        }
        all.extend(statements);
        obj.insert("Statement".to_owned(), serde_json::Value::Array(all));
    }
    Ok(document.to_string())
}

/// `kms:EncryptionContext:<key>` per pair of an encryption context, and
/// `kms:EncryptionContextKeys`.
fn context_keys(context: Option<&Value>) -> Vec<(String, Vec<String>)> {
    let Some(context) = context.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut keys = Vec::with_capacity(context.len() + 1);
    let mut names = Vec::with_capacity(context.len());
    for (k, v) in context {
        if let Some(v) = v.as_str() {
            keys.push((format!("kms:EncryptionContext:{k}"), vec![v.to_owned()]));
            names.push(k.clone());
        }
    }
    keys.push(("kms:EncryptionContextKeys".to_owned(), names));
    keys
}

/// KMS's condition keys a request carries, from its input and the caller. Those that
/// describe a key come with the key's authorization target (see [`key_targets`]).
/// `kms:ViaService` comes from the spine, for calls another service makes through it (see
/// [`crate::Kms`]'s `via_service_keys`); a request that reaches the API is a direct call.
pub(crate) fn condition_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = vec![(
        "kms:CallerAccount".to_owned(),
        vec![env.caller.account_id.clone()],
    )];
    keys.extend(context_keys(input.get("EncryptionContext")));
    // A parameter left out is evaluated at its default, as AWS documents ("this type of
    // condition works even when the parameter doesn't appear in the request"). The spine keeps
    // each key only for the actions AWS lists it for, so a default never reaches another.
    for (member_name, key, default) in REQUEST_DEFAULTS {
        let value = match input.get(*member_name) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => (*default).to_owned(),
        };
        keys.push(((*key).to_owned(), vec![value]));
    }
    if let Some(valid_to) = member(input, "ValidTo") {
        keys.push(("kms:ValidTo".to_owned(), vec![valid_to.to_owned()]));
    }
    for (member_name, key) in [
        ("SigningAlgorithm", "kms:SigningAlgorithm"),
        ("MacAlgorithm", "kms:MacAlgorithm"),
        ("KeyAgreementAlgorithm", "kms:KeyAgreementAlgorithm"),
        ("ReplicaRegion", "kms:ReplicaRegion"),
        ("PrimaryRegion", "kms:PrimaryRegion"),
        ("KeyPairSpec", "kms:DataKeyPairSpec"),
        ("Origin", "kms:KeyOrigin"),
        ("WrappingAlgorithm", "kms:WrappingAlgorithm"),
        ("WrappingKeySpec", "kms:WrappingKeySpec"),
        ("ExpirationModel", "kms:ExpirationModel"),
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
        // A grant made through the API is never one an AWS service made for its resource.
        keys.push((
            "kms:GrantIsForAWSResource".to_owned(),
            vec!["false".to_owned()],
        ));
        if let Some(c) = input.get("Constraints").and_then(Value::as_object) {
            let types: Vec<String> = c.keys().cloned().collect();
            keys.push(("kms:GrantConstraintType".to_owned(), types));
            // The encryption context the grant's constraint names.
            let pairs = c
                .get("EncryptionContextEquals")
                .or_else(|| c.get("EncryptionContextSubset"));
            keys.extend(context_keys(pairs));
        }
    }
    keys.extend(request_alias(env, member(input, "KeyId")));
    keys
}

/// `kms:RequestAlias`, when a request names its key by an alias.
fn request_alias(env: &Env<'_>, key: Option<&str>) -> Option<(String, Vec<String>)> {
    match KeyRef::parse(env, key?) {
        KeyRef::Alias { name, .. } => Some(("kms:RequestAlias".to_owned(), vec![name])),
        _ => None,
    }
}

/// CreateKey's condition keys: the general ones, and the new key's spec, usage, origin and
/// multi-Region flag (with AWS's defaults when the request leaves them out).
pub(crate) fn create_key_condition_keys(
    env: &Env<'_>,
    input: &Value,
) -> Vec<(String, Vec<String>)> {
    let mut keys = condition_keys(env, input);
    let spec = member(input, "KeySpec")
        .or_else(|| member(input, "CustomerMasterKeySpec"))
        .unwrap_or("SYMMETRIC_DEFAULT");
    let usage = member(input, "KeyUsage").unwrap_or(crate::spec::ENCRYPT_DECRYPT);
    let multi_region = input
        .get("MultiRegion")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string();
    for (name, value) in [
        ("kms:KeySpec", spec),
        ("kms:CustomerMasterKeySpec", spec),
        ("kms:KeyUsage", usage),
        ("kms:CustomerMasterKeyUsage", usage),
        ("kms:MultiRegion", &multi_region),
    ] {
        keys.push((name.to_owned(), vec![value.to_owned()]));
    }
    if member(input, "Origin").is_none() {
        keys.push(("kms:KeyOrigin".to_owned(), vec![KEY_ORIGIN.to_owned()]));
    }
    // The key a multi-Region CreateKey makes is its set's primary.
    if input.get("MultiRegion").and_then(Value::as_bool) == Some(true) {
        keys.push((
            "kms:MultiRegionKeyType".to_owned(),
            vec!["PRIMARY".to_owned()],
        ));
    }
    keys
}

/// RetireGrant: on the key of the grant it names (by grant token, else by `KeyId` and
/// `GrantId`, as the handler reads them), where only that grant's retiring principal, its
/// grantee when it allows RetireGrant, and the accounts that issued it and own the key may
/// retire it; described by that grant (its constraint types and the encryption context its
/// constraint names).
pub(crate) fn retire_grant_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let (key, grant_id) = match member(input, "GrantToken") {
        Some(token) => match grants::parse_token(env, token) {
            Some(t) => (
                Some(records::key_arn(&t.region, &t.account_id, &t.key_id)),
                t.grant_id,
            ),
            // The handler refuses a token Rampart did not issue.
            None => (None, String::new()),
        },
        None => (
            member(input, "KeyId").map(str::to_owned),
            member(input, "GrantId").unwrap_or_default().to_owned(),
        ),
    };
    let mut target = key_target_for(
        env,
        tx,
        None,
        key.as_deref(),
        Vec::new(),
        GrantUse::RetireGrant(&grant_id),
    )?;
    let grant: Option<GrantRecord> = match key.as_deref().map(|k| find_key(tx, env, k)) {
        Some(Ok(key)) => {
            let doc = format!(
                "{}{grant_id}",
                records::grants_prefix(&key.account_id, &key.region, &key.key_id)
            );
            get_json(tx, GRANTS, &doc).map_err(KmsError::from)?
        }
        _ => None,
    };
    if let Some(c) = grant.and_then(|g| g.constraints) {
        let mut types = Vec::new();
        if c.subset.is_some() {
            types.push("EncryptionContextSubset".to_owned());
        }
        if c.equals.is_some() {
            types.push("EncryptionContextEquals".to_owned());
        }
        target
            .condition_keys
            .push(("kms:GrantConstraintType".to_owned(), types));
        let pairs = c
            .equals
            .as_ref()
            .or(c.subset.as_ref())
            .map(|pairs| json!(pairs));
        target.condition_keys.extend(context_keys(pairs.as_ref()));
    }
    Ok(vec![target])
}
