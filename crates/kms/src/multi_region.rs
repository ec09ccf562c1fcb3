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
use time::{Duration, OffsetDateTime};

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

/// A member whose deletion came: the others forget its region, and a primary that waited
/// for its last replica starts its own waiting period from that replica's deletion.
pub(crate) fn forget(tx: &mut dyn WriteTx, gone: &KeyRecord) -> Result<(), KmsError> {
    for mut member in others(tx, gone)? {
        if let Some(set) = &mut member.multi_region {
            set.replica_regions.retain(|r| *r != gone.region);
            if set.replica_regions.is_empty() && member.state == KeyState::PendingReplicaDeletion {
                let from = gone.deletion_date.unwrap_or(gone.created);
                member.state = KeyState::PendingDeletion;
                member.deletion_date =
                    Some(from + Duration::days(member.pending_window_days.unwrap_or(30)));
            }
        }
        records::save_key(tx, &member)?;
    }
    Ok(())
}

/// `key` as it stands at `now`: a primary pending replica deletion whose replicas are all
/// deleted is pending deletion, its window counted from the last replica's deletion (the
/// replicas may not be purged yet, so this is read off their records).
pub(crate) fn settle(
    tx: &mut (impl ReadTx + ?Sized),
    mut key: KeyRecord,
    now: OffsetDateTime,
) -> Result<KeyRecord, KmsError> {
    if key.state != KeyState::PendingReplicaDeletion {
        return Ok(key);
    }
    let Some(set) = key.multi_region.clone() else {
        return Ok(key);
    };
    let mut last_gone: Option<OffsetDateTime> = None;
    for region in &set.replica_regions {
        if let Some(replica) = records::load_key(tx, &key.account_id, region, &key.key_id)? {
            if !replica.is_deleted(now) {
                return Ok(key);
            }
            last_gone = last_gone.max(replica.deletion_date);
        }
    }
    let from = last_gone.unwrap_or(now);
    key.state = KeyState::PendingDeletion;
    key.deletion_date = Some(from + Duration::days(key.pending_window_days.unwrap_or(30)));
    Ok(key)
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
    let policy = input
        .policy
        .unwrap_or_else(|| policy::default_policy(&primary.account_id));
    let policy_principal_ids = policy::checked(env, tx, &policy)?;
    let new_tags = tags::of_new_key(input.tags)?;
    let mut replica = KeyRecord {
        region: region.clone(),
        arn: records::key_arn(&region, &primary.account_id, &primary.key_id),
        created: env.now,
        description: input.description.unwrap_or_default(),
        state: KeyState::Enabled,
        deletion_date: None,
        pending_window_days: None,
        policy,
        policy_principal_ids,
        tags: new_tags,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use rampart_service::testing::{ACCOUNT, TestEnv};
    use serde_json::json;

    use super::*;
    use crate::keys;
    use crate::tests::{create, r, w};

    #[test]
    fn a_primary_waits_for_its_replicas_then_for_its_own_window() {
        let mut t = TestEnv::new();
        let key_id = create(&t, json!({"MultiRegion": true}));
        w(
            &t,
            replicate_key,
            json!({"KeyId": key_id, "ReplicaRegion": "eu-west-1"}),
        )
        .unwrap();
        let scheduled = w(
            &t,
            keys::schedule_key_deletion,
            json!({"KeyId": key_id, "PendingWindowInDays": 7}),
        )
        .unwrap();
        assert_eq!(scheduled["KeyState"], "PendingReplicaDeletion");
        assert!(scheduled.get("DeletionDate").is_none());
        let state = |t: &TestEnv| {
            r(t, keys::describe_key, json!({"KeyId": key_id}))
                .map(|m| m["KeyMetadata"]["KeyState"].as_str().unwrap().to_owned())
        };
        assert_eq!(state(&t).unwrap(), "PendingReplicaDeletion");

        // The replica is scheduled for deletion in its own region, 7 days out.
        let replica_deleted_at = t.now + Duration::days(7);
        let id = key_id.clone();
        t.write(move |_, tx| {
            let mut replica = records::load_key(tx, ACCOUNT, "eu-west-1", &id)?.unwrap();
            replica.state = KeyState::PendingDeletion;
            replica.deletion_date = Some(replica_deleted_at);
            records::save_key(tx, &replica).map_err(KmsError::from)
        })
        .unwrap();
        t.now += Duration::days(6);
        assert_eq!(state(&t).unwrap(), "PendingReplicaDeletion");
        // Once the replica is gone, the primary's 7 days start from its deletion.
        t.now += Duration::days(2);
        assert_eq!(state(&t).unwrap(), "PendingDeletion");
        t.now = replica_deleted_at + Duration::days(7);
        assert!(matches!(state(&t).unwrap_err(), KmsError::NotFound(_)));
    }

    #[test]
    fn cancelling_a_pending_replica_deletion_disables_the_primary() {
        let t = TestEnv::new();
        let key_id = create(&t, json!({"MultiRegion": true}));
        w(
            &t,
            replicate_key,
            json!({"KeyId": key_id, "ReplicaRegion": "eu-west-1"}),
        )
        .unwrap();
        w(&t, keys::schedule_key_deletion, json!({"KeyId": key_id})).unwrap();
        w(&t, keys::cancel_key_deletion, json!({"KeyId": key_id})).unwrap();
        let meta = r(&t, keys::describe_key, json!({"KeyId": key_id})).unwrap();
        assert_eq!(meta["KeyMetadata"]["KeyState"], "Disabled");
    }
}
