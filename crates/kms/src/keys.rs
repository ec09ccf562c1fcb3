//! Keys: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion.
//!
//! Deletion is lazy: a key whose deletion date has come behaves as gone (NotFoundException)
//! everywhere at once, because every lookup checks the date; its record, aliases and grants
//! are purged by the next CreateKey or ScheduleKeyDeletion of the account and region (a
//! failing request's writes are rolled back, so the purge rides on writes that succeed).

use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::error::KmsError;
use crate::pagination;
use crate::policy;
use crate::records::{self, KEYS, KeyRecord, KeyState, Origin, Rotation, Tag};
use crate::resolve::{self, find_key, find_own_key};
use crate::spec::KeySpec;
use crate::{material, rotation, tags};

/// `KeyMetadata`, as DescribeKey and CreateKey return it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    aws_account_id: String,
    key_id: String,
    arn: String,
    creation_date: String,
    enabled: bool,
    description: String,
    key_usage: String,
    key_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<String>,
    origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<&'static str>,
    key_manager: &'static str,
    customer_master_key_spec: String,
    key_spec: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    encryption_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signing_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    key_agreement_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mac_algorithms: Vec<&'static str>,
    multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_deletion_window_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_key_material_id: Option<String>,
}

/// `MultiRegionConfiguration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MultiRegionConfiguration {
    multi_region_key_type: &'static str,
    primary_key: MultiRegionKey,
    replica_keys: Vec<MultiRegionKey>,
}

/// `MultiRegionKey`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MultiRegionKey {
    arn: String,
    region: String,
}

/// The configuration of `key`'s multi-Region set, if it is in one.
fn multi_region_configuration(key: &KeyRecord) -> Option<MultiRegionConfiguration> {
    let set = key.multi_region.as_ref()?;
    let member = |region: &String| MultiRegionKey {
        arn: records::key_arn(region, &key.account_id, &key.key_id),
        region: region.clone(),
    };
    Some(MultiRegionConfiguration {
        multi_region_key_type: if key.is_replica() {
            "REPLICA"
        } else {
            "PRIMARY"
        },
        primary_key: member(&set.primary_region),
        replica_keys: set.replica_regions.iter().map(member).collect(),
    })
}

/// The metadata of `key` as the caller sees it now.
pub(crate) fn metadata(env: &Env<'_>, key: &KeyRecord) -> KeyMetadata {
    let spec = KeySpec::parse(&key.key_spec).unwrap_or(KeySpec::Symmetric);
    let current = rotation::current_material_id(env, key);
    KeyMetadata {
        aws_account_id: key.account_id.clone(),
        key_id: key.key_id.clone(),
        arn: key.arn.clone(),
        creation_date: aws_timestamp(key.created),
        enabled: key.state == KeyState::Enabled,
        description: key.description.clone(),
        key_usage: key.key_usage.clone(),
        key_state: key.state.as_str(),
        deletion_date: key.deletion_date.map(aws_timestamp),
        // Imported material's terms show while the key has it.
        valid_to: key
            .imported
            .as_ref()
            .filter(|_| !key.materials.is_empty())
            .and_then(|i| i.valid_to)
            .map(aws_timestamp),
        origin: key.origin.as_str(),
        expiration_model: key
            .imported
            .as_ref()
            .filter(|_| !key.materials.is_empty())
            .map(|i| crate::import::expiration_model(i.valid_to)),
        key_manager: if key.aws_managed { "AWS" } else { "CUSTOMER" },
        customer_master_key_spec: key.key_spec.clone(),
        key_spec: key.key_spec.clone(),
        encryption_algorithms: spec.encryption_algorithms(&key.key_usage),
        signing_algorithms: spec.signing_algorithms(&key.key_usage),
        key_agreement_algorithms: spec.key_agreement_algorithms(&key.key_usage),
        mac_algorithms: spec.mac_algorithms(),
        multi_region: key.multi_region.is_some(),
        multi_region_configuration: multi_region_configuration(key),
        pending_deletion_window_in_days: key.pending_window_days,
        // AWS reports the material id of symmetric encryption keys only.
        current_key_material_id: (spec == KeySpec::Symmetric).then_some(current).flatten(),
    }
}

/// CreateKey's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKeyInput {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<String>,
    customer_master_key_spec: Option<String>,
    key_spec: Option<String>,
    origin: Option<String>,
    custom_key_store_id: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
}

impl CreateKeyInput {
    /// A symmetric encryption key with `description` and `policy`, as KMS makes its AWS
    /// managed keys.
    pub(crate) fn symmetric(description: String, policy: String) -> Self {
        Self {
            policy: Some(policy),
            description: Some(description),
            key_usage: None,
            customer_master_key_spec: None,
            key_spec: None,
            origin: None,
            custom_key_store_id: None,
            tags: Vec::new(),
            multi_region: None,
            xks_key_id: None,
        }
    }
}

/// DescribeKey's and CreateKey's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadataOutput {
    key_metadata: KeyMetadata,
}

impl KeyMetadataOutput {
    /// The key's ID.
    pub(crate) fn key_id(&self) -> &str {
        &self.key_metadata.key_id
    }
}

fn unsupported(what: &str) -> KmsError {
    KmsError::UnsupportedOperation(format!(
        "Rampart does not support {what} yet (see docs/COVERAGE.md)"
    ))
}

/// The id of the key a CreateKey request makes: a version 4 UUID, as AWS's key ids are (or
/// `mrk-…` for a multi-Region key),
/// derived from the request's id (itself random and never reused), so that the authorize step
/// can name the key before the handler makes it (the policy lockout safety check). Key ids
/// are public names, not secrets.
pub(crate) fn new_key_id(env: &Env<'_>, multi_region: bool) -> String {
    let seed = format!("rampart-kms-key-id:{}", env.request_id);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    // A multi-Region key's id is `mrk-` and 32 hex digits, as AWS's.
    if multi_region {
        let hex = data_encoding::HEXLOWER.encode(digest.as_ref());
        return format!("mrk-{}", hex.get(..32).unwrap_or_default());
    }
    let mut b = digest.as_ref().get(..16).unwrap_or_default().to_vec();
    if let (Some(six), Some(eight)) = (b.get(6).copied(), b.get(8).copied()) {
        if let Some(x) = b.get_mut(6) {
            *x = (six & 0x0f) | 0x40;
        }
        if let Some(x) = b.get_mut(8) {
            *x = (eight & 0x3f) | 0x80;
        }
    }
    let hex = data_encoding::HEXLOWER.encode(&b);
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// CreateKey.
pub(crate) fn create_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateKeyInput,
) -> Result<KeyMetadataOutput, KmsError> {
    let origin = match input.origin.as_deref() {
        None | Some("AWS_KMS") => Origin::AwsKms,
        Some("EXTERNAL") => Origin::External,
        Some(_) => return Err(unsupported("custom key stores")),
    };
    if input.custom_key_store_id.is_some() || input.xks_key_id.is_some() {
        return Err(unsupported("custom key stores"));
    }
    let multi_region = input.multi_region == Some(true);
    if multi_region && origin == Origin::External {
        return Err(unsupported("multi-Region keys with imported key material"));
    }
    if let (Some(a), Some(b)) = (&input.key_spec, &input.customer_master_key_spec)
        && a != b
    {
        return Err(KmsError::Validation(
            "You cannot specify both KeySpec and CustomerMasterKeySpec with different values."
                .to_owned(),
        ));
    }
    let spec_name = input
        .key_spec
        .or(input.customer_master_key_spec)
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_owned());
    let spec = KeySpec::parse(&spec_name)?;
    let usage = match (&input.key_usage, spec) {
        (Some(u), _) if spec.usages().contains(&u.as_str()) => u.clone(),
        (Some(u), _) => {
            return Err(KmsError::Validation(format!(
                "KeyUsage {u} is not compatible with KeySpec {spec_name}"
            )));
        }
        (None, KeySpec::Hmac(_)) => {
            return Err(KmsError::Validation(format!(
                "You must specify a KeyUsage value of GENERATE_VERIFY_MAC for a KMS key with a KeySpec of {spec_name}."
            )));
        }
        (None, KeySpec::Ecc(_)) => {
            return Err(KmsError::Validation(format!(
                "You must specify a KeyUsage value of SIGN_VERIFY for a KMS key with a KeySpec of {spec_name}."
            )));
        }
        (None, _) => crate::spec::ENCRYPT_DECRYPT.to_owned(),
    };
    let account = env.caller.account_id.clone();
    let key_id = new_key_id(env, multi_region);
    let arn = records::key_arn(env.region, &account, &key_id);
    let policy = input
        .policy
        .unwrap_or_else(|| policy::default_policy(&account));
    let policy_principal_ids = policy::checked(env, tx, &policy)?;
    let new_tags = tags::of_new_key(input.tags)?;
    resolve::purge_deleted(tx, env)?;
    // An EXTERNAL key starts without material: it waits for ImportKeyMaterial (import.rs).
    let generated = match origin {
        Origin::AwsKms => Some(material::generate(env, spec)?),
        Origin::External => None,
    };
    let first = generated.as_ref().map(|g| {
        material::seal(
            env,
            &arn,
            material::new_material_id(env),
            &g.secret,
            env.now,
            None,
        )
    });
    // Imported keys never rotate automatically, so they need no rotation seed.
    let seed = (spec == KeySpec::Symmetric && origin == Origin::AwsKms).then(|| {
        let seed = zeroize::Zeroizing::new(env.random(32));
        data_encoding::BASE64.encode(&env.root_key.seal(&seed, &records::seed_context(&arn)))
    });
    let key = KeyRecord {
        key_id,
        account_id: account,
        region: env.region.to_owned(),
        arn,
        created: env.now,
        description: input.description.unwrap_or_default(),
        key_usage: usage,
        key_spec: spec_name,
        state: match origin {
            Origin::AwsKms => KeyState::Enabled,
            Origin::External => KeyState::PendingImport,
        },
        deletion_date: None,
        pending_window_days: None,
        policy,
        policy_principal_ids,
        tags: new_tags,
        materials: first.into_iter().collect(),
        public_key: generated
            .and_then(|g| g.public_key)
            .map(|p| data_encoding::BASE64.encode(&p)),
        rotation: Rotation {
            seed,
            ..Rotation::default()
        },
        origin,
        imported: None,
        multi_region: multi_region.then(|| records::MultiRegion {
            primary_region: env.region.to_owned(),
            replica_regions: Vec::new(),
        }),
        aws_managed: false,
    };
    records::save_key(tx, &key)?;
    Ok(KeyMetadataOutput {
        key_metadata: metadata(env, &key),
    })
}

/// Input naming one key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyIdInput {
    pub(crate) key_id: String,
}

/// DescribeKey (cross-account use allowed, by key ARN or alias ARN).
pub(crate) fn describe_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: KeyIdInput,
) -> Result<KeyMetadataOutput, KmsError> {
    let key = find_key(tx, env, &input.key_id)?;
    Ok(KeyMetadataOutput {
        key_metadata: metadata(env, &key),
    })
}

/// ListKeys' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeysInput {
    limit: Option<i64>,
    marker: Option<String>,
}

/// One `KeyListEntry`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyListEntry {
    key_id: String,
    key_arn: String,
}

/// ListKeys' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeysOutput {
    keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// ListKeys: the caller's keys in the request's region.
pub(crate) fn list_keys(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListKeysInput,
) -> Result<ListKeysOutput, KmsError> {
    let prefix = format!("{}/{}/", env.caller.account_id, env.region);
    let page = pagination::page(
        tx,
        KEYS,
        &prefix,
        input.marker.as_deref(),
        input.limit,
        // AWS's default when `Limit` is not given.
        100,
        |_, key: KeyRecord| {
            if key.is_deleted(env.now) {
                return Ok(None);
            }
            Ok(Some(KeyListEntry {
                key_id: key.key_id,
                key_arn: key.arn,
            }))
        },
    )?;
    Ok(ListKeysOutput {
        truncated: page.is_truncated(),
        keys: page.items,
        next_marker: page.next,
    })
}

/// UpdateKeyDescription's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateKeyDescriptionInput {
    key_id: String,
    description: String,
}

/// An operation's empty output.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// Loads one of the caller's keys for a change, bringing due scheduled rotations into its
/// record first.
pub(crate) fn load_for_write(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    key_id: &str,
) -> Result<KeyRecord, KmsError> {
    let mut key = find_own_key(tx, env, key_id)?;
    rotation::materialize(env, &mut key)?;
    Ok(key)
}

/// UpdateKeyDescription.
pub(crate) fn update_key_description(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateKeyDescriptionInput,
) -> Result<Empty, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    key.description = input.description;
    records::save_key(tx, &key)?;
    Ok(Empty {})
}

/// EnableKey.
pub(crate) fn enable_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: KeyIdInput,
) -> Result<Empty, KmsError> {
    set_enabled(env, tx, &input.key_id, KeyState::Enabled)
}

/// DisableKey.
pub(crate) fn disable_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: KeyIdInput,
) -> Result<Empty, KmsError> {
    set_enabled(env, tx, &input.key_id, KeyState::Disabled)
}

fn set_enabled(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    key_id: &str,
    state: KeyState,
) -> Result<Empty, KmsError> {
    let mut key = load_for_write(env, tx, key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    if key.state == KeyState::PendingImport {
        return Err(resolve::pending_import(&key));
    }
    key.state = state;
    records::save_key(tx, &key)?;
    Ok(Empty {})
}

/// ScheduleKeyDeletion's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleKeyDeletionInput {
    key_id: String,
    pending_window_in_days: Option<i64>,
}

/// ScheduleKeyDeletion's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleKeyDeletionOutput {
    key_id: String,
    /// Unknown for a multi-Region primary until its last replica is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<String>,
    key_state: &'static str,
    pending_window_in_days: i64,
}

/// ScheduleKeyDeletion: 7–30 days (30 by default), then the key is gone.
pub(crate) fn schedule_key_deletion(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ScheduleKeyDeletionInput,
) -> Result<ScheduleKeyDeletionOutput, KmsError> {
    let days = input.pending_window_in_days.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30 and greater than or equal to 7"
        )));
    }
    let mut key = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    // A multi-Region primary with replicas waits for them: its own window starts when the
    // last one is deleted (multi_region::settle).
    let has_replicas = !key.is_replica()
        && key
            .multi_region
            .as_ref()
            .is_some_and(|m| !m.replica_regions.is_empty());
    let deletion_date = (!has_replicas).then(|| env.now + Duration::days(days));
    key.state = if has_replicas {
        KeyState::PendingReplicaDeletion
    } else {
        KeyState::PendingDeletion
    };
    key.deletion_date = deletion_date;
    key.pending_window_days = Some(days);
    records::save_key(tx, &key)?;
    resolve::purge_deleted(tx, env)?;
    Ok(ScheduleKeyDeletionOutput {
        key_id: key.arn,
        deletion_date: deletion_date.map(aws_timestamp),
        key_state: key.state.as_str(),
        pending_window_in_days: days,
    })
}

/// CancelKeyDeletion's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CancelKeyDeletionOutput {
    key_id: String,
}

/// CancelKeyDeletion: the key comes back disabled, as AWS does (an imported key whose
/// material is gone, pending import).
pub(crate) fn cancel_key_deletion(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: KeyIdInput,
) -> Result<CancelKeyDeletionOutput, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    if !matches!(
        key.state,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
    ) {
        return Err(KmsError::InvalidState(format!(
            "{} is not pending deletion.",
            key.arn
        )));
    }
    key.state = if key.materials.is_empty() {
        KeyState::PendingImport
    } else {
        KeyState::Disabled
    };
    key.deletion_date = None;
    key.pending_window_days = None;
    records::save_key(tx, &key)?;
    Ok(CancelKeyDeletionOutput { key_id: key.arn })
}
