//! Multi-Region keys: ReplicateKey and UpdatePrimaryRegion.
//!
//! A multi-Region key (`mrk-…`, made by CreateKey with `MultiRegion`) is a set of keys of
//! one account with the same key ID in several regions: one primary, replicas made from it.
//! They share their key material, so a ciphertext of one decrypts with any other (Rampart's
//! blob names the key by account and key ID, not by region). Each member has its own record,
//! with its own policy, description, tags, aliases, grants, state and deletion; the material
//! and the rotation settings are the primary's, copied into every replica (sealed under that
//! replica's ARN) whenever they change, so a replica never rotates by itself.

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::KmsError;
use crate::keys::{KeyMetadata, load_for_write, metadata};
use crate::records::{self, KeyRecord, KeyState, MultiRegion, Tag, seed_context};
use crate::{material, policy, resolve, rotation, tags};

fn not_multi_region(key: &KeyRecord) -> KmsError {
    KmsError::UnsupportedOperation(format!("{} is not a multi-Region key.", key.arn))
}

/// The set `key` belongs to, when `key` is its primary.
fn primary_set(key: &KeyRecord) -> Result<MultiRegion, KmsError> {
    let set = key
        .multi_region
        .clone()
        .ok_or_else(|| not_multi_region(key))?;
    if key.is_replica() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is a multi-Region replica key; call this on its primary key in {}.",
            key.arn, set.primary_region
        )));
    }
    Ok(set)
}

/// The other members of `key`'s set, as stored (a purged one is skipped).
fn others(tx: &mut dyn ReadTx, key: &KeyRecord) -> Result<Vec<KeyRecord>, KmsError> {
    let Some(set) = &key.multi_region else {
        return Ok(Vec::new());
    };
    let mut members = Vec::new();
    for region in std::iter::once(&set.primary_region).chain(&set.replica_regions) {
        if *region == key.region {
            continue;
        }
        if let Some(member) = records::load_key(tx, &key.account_id, region, &key.key_id)? {
            members.push(member);
        }
    }
    Ok(members)
}

/// Gives `key` the primary's material and rotation settings, sealed under its own ARN.
fn copy_material(env: &Env<'_>, primary: &KeyRecord, key: &mut KeyRecord) -> Result<(), KmsError> {
    key.materials = primary
        .materials
        .iter()
        .map(|m| {
            let secret = material::open(env, primary, m)?;
            Ok(material::seal(
                env,
                &key.arn,
                m.id.clone(),
                secret.expose(),
                m.created,
                m.rotation_type.as_deref(),
            ))
        })
        .collect::<Result<_, KmsError>>()?;
    let seed = rotation::open_seed(env, primary)?;
    key.rotation = primary.rotation.clone();
    key.rotation.seed = seed.map(|seed| {
        data_encoding::BASE64.encode(&env.root_key.seal(seed.expose(), &seed_context(&key.arn)))
    });
    key.public_key.clone_from(&primary.public_key);
    Ok(())
}

/// After a change to the primary's material or rotation settings: every replica gets them.
pub(crate) fn sync_replicas(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    primary: &KeyRecord,
) -> Result<(), KmsError> {
    if primary.multi_region.is_none() {
        return Ok(());
    }
    for mut replica in others(tx, primary)? {
        copy_material(env, primary, &mut replica)?;
        records::save_key(tx, &replica)?;
    }
    Ok(())
}

/// A member whose deletion came: the others forget its region.
pub(crate) fn forget(tx: &mut dyn WriteTx, gone: &KeyRecord) -> Result<(), KmsError> {
    for mut member in others(tx, gone)? {
        if let Some(set) = &mut member.multi_region {
            set.replica_regions.retain(|r| *r != gone.region);
        }
        records::save_key(tx, &member)?;
    }
    Ok(())
}

/// Stores `set` in every member of it.
fn save_set(
    tx: &mut dyn WriteTx,
    members: Vec<KeyRecord>,
    set: &MultiRegion,
) -> Result<(), KmsError> {
    for mut member in members {
        member.multi_region = Some(set.clone());
        records::save_key(tx, &member)?;
    }
    Ok(())
}

/// ReplicateKey's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicateKeyInput {
    key_id: String,
    replica_region: String,
    policy: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// ReplicateKey's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicateKeyOutput {
    replica_key_metadata: KeyMetadata,
    replica_policy: String,
    replica_tags: Vec<Tag>,
}

/// ReplicateKey: a replica of the primary `KeyId` in `ReplicaRegion`, usable at once (AWS
/// reports it `Creating` for a while first).
pub(crate) fn replicate_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ReplicateKeyInput,
) -> Result<ReplicateKeyOutput, KmsError> {
    let mut primary = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&primary)?;
    let mut set = primary_set(&primary)?;
    let region = input.replica_region;
    if set.primary_region == region || set.replica_regions.contains(&region) {
        return Err(KmsError::AlreadyExists(format!(
            "{} already has a member of its multi-Region key set in {region}.",
            primary.arn
        )));
    }
    let policy = match input.policy {
        Some(p) => {
            policy::validate(&p)?;
            p
        }
        None => policy::default_policy(&primary.account_id),
    };
    tags::validate(&input.tags)?;
    let mut replica = KeyRecord {
        region: region.clone(),
        arn: records::key_arn(&region, &primary.account_id, &primary.key_id),
        created: env.now,
        description: input.description.unwrap_or_default(),
        state: KeyState::Enabled,
        deletion_date: None,
        pending_window_days: None,
        policy,
        tags: tags::merged(Vec::new(), input.tags),
        ..primary.clone()
    };
    copy_material(env, &primary, &mut replica)?;
    set.replica_regions.push(region);
    replica.multi_region = Some(set.clone());
    records::save_key(tx, &replica)?;
    let replicas = others(tx, &primary)?;
    save_set(tx, replicas, &set)?;
    primary.multi_region = Some(set);
    records::save_key(tx, &primary)?;
    Ok(ReplicateKeyOutput {
        replica_key_metadata: metadata(env, &replica),
        replica_policy: replica.policy.clone(),
        replica_tags: replica.tags.clone(),
    })
}

/// UpdatePrimaryRegion's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdatePrimaryRegionInput {
    key_id: String,
    primary_region: String,
}

/// UpdatePrimaryRegion: the replica in `PrimaryRegion` becomes the primary, the primary a
/// replica.
pub(crate) fn update_primary_region(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdatePrimaryRegionInput,
) -> Result<crate::keys::Empty, KmsError> {
    let key = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    let set = primary_set(&key)?;
    let target = input.primary_region;
    if !set.replica_regions.contains(&target) {
        return Err(KmsError::NotFound(format!(
            "{} has no replica key in {target}.",
            key.arn
        )));
    }
    let mut replica_regions: Vec<String> = set
        .replica_regions
        .iter()
        .filter(|r| **r != target)
        .cloned()
        .collect();
    replica_regions.insert(0, set.primary_region.clone());
    let new_set = MultiRegion {
        primary_region: target,
        replica_regions,
    };
    let mut members = others(tx, &key)?;
    members.push(key);
    save_set(tx, members, &new_set)?;
    Ok(crate::keys::Empty {})
}
