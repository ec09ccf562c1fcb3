//! What KMS keeps: keys (with their sealed material), aliases and grants, as JSON documents.
//!
//! Documents are keyed `<account>/<region>/…` because KMS keys, aliases and grants are
//! regional: the same alias name may exist in two regions of one account.

use rampart_store::{ReadTx, StoreError, WriteTx, get_json_memo, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Keys: `<account>/<region>/<key id>`.
pub(crate) const KEYS: &str = "kms-keys";
/// Aliases: `<account>/<region>/<alias name>`.
pub(crate) const ALIASES: &str = "kms-aliases";
/// Grants: `<account>/<region>/<key id>/<grant id>`.
pub(crate) const GRANTS: &str = "kms-grants";

/// A key's lifecycle state, as `KeyState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum KeyState {
    /// Usable.
    Enabled,
    /// Kept, but refuses cryptographic operations.
    Disabled,
    /// Scheduled for deletion; refuses cryptographic operations until cancelled or deleted.
    PendingDeletion,
    /// A multi-Region primary scheduled for deletion while replicas remain: its waiting
    /// period starts when the last of them is deleted.
    PendingReplicaDeletion,
    /// An `EXTERNAL` key without material: never imported, or its material was deleted or
    /// expired.
    PendingImport,
}

impl KeyState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::PendingDeletion => "PendingDeletion",
            Self::PendingReplicaDeletion => "PendingReplicaDeletion",
            Self::PendingImport => "PendingImport",
        }
    }
}

/// A tag, as KMS spells its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tag {
    #[serde(rename = "TagKey")]
    pub(crate) key: String,
    #[serde(rename = "TagValue")]
    pub(crate) value: String,
}

/// One version of a key's material. INVARIANT: `sealed` is only ever opened with the
/// context [`material_context`] of its key and id, so sealed material cannot be moved to
/// another key unnoticed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Material {
    /// 64 lowercase hex digits (AWS's `KeyMaterialId`).
    pub(crate) id: String,
    /// The secret (AES key, HMAC key, or PKCS#8 private key), sealed under the root key.
    pub(crate) sealed: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    /// `AUTOMATIC` or `ON_DEMAND` for rotated material; `None` for the original.
    pub(crate) rotation_type: Option<String>,
}

/// A key's automatic rotation settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Rotation {
    pub(crate) enabled: bool,
    pub(crate) period_days: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) next_rotation: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) on_demand_started: Option<OffsetDateTime>,
    /// Seed that scheduled rotations derive their material from (sealed), so that a read-only
    /// operation can use material a due rotation brings without writing it first.
    pub(crate) seed: Option<String>,
}

/// Where a key's material comes from, as `Origin` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Origin {
    /// Made by Rampart when the key was created.
    #[default]
    #[serde(rename = "AWS_KMS")]
    AwsKms,
    /// Imported by the key's owner (import.rs).
    #[serde(rename = "EXTERNAL")]
    External,
}

impl Origin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AwsKms => "AWS_KMS",
            Self::External => "EXTERNAL",
        }
    }
}

/// The terms of an `EXTERNAL` key's material. Kept when the material is deleted or expires,
/// so that only the same material can be imported again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Imported {
    /// The id of the material first imported (import.rs derives it from the key id and the
    /// material, so the same material always has the same id).
    pub(crate) material_id: String,
    /// When the material expires; `None` for `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) valid_to: Option<OffsetDateTime>,
}

/// The regions of a multi-Region key's set, kept alike in every member's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MultiRegion {
    pub(crate) primary_region: String,
    /// The replicas' regions, in the order they were made.
    pub(crate) replica_regions: Vec<String>,
}

/// A KMS key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) key_id: String,
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) arn: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    pub(crate) description: String,
    pub(crate) key_usage: String,
    pub(crate) key_spec: String,
    pub(crate) state: KeyState,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) deletion_date: Option<OffsetDateTime>,
    pub(crate) pending_window_days: Option<i64>,
    pub(crate) policy: String,
    /// The users and roles the key policy names, bound to their unique IDs when it was put.
    #[serde(
        default,
        skip_serializing_if = "rampart_service::PrincipalIds::is_empty"
    )]
    pub(crate) policy_principal_ids: rampart_service::PrincipalIds,
    pub(crate) tags: Vec<Tag>,
    /// Oldest first; the last is the current one (scheduled rotations not yet written
    /// excepted: see rotation.rs).
    pub(crate) materials: Vec<Material>,
    /// The public key (DER SubjectPublicKeyInfo, base64) of asymmetric keys.
    pub(crate) public_key: Option<String>,
    pub(crate) rotation: Rotation,
    #[serde(default)]
    pub(crate) origin: Origin,
    /// For `EXTERNAL` keys once material was imported.
    #[serde(default)]
    pub(crate) imported: Option<Imported>,
    /// For multi-Region keys (`mrk-…`): the set this key belongs to.
    #[serde(default)]
    pub(crate) multi_region: Option<MultiRegion>,
    /// An AWS managed key (`alias/aws/<service>`, made by KMS for a service: managed.rs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) aws_managed: bool,
}

impl KeyRecord {
    /// The document key of this record.
    pub(crate) fn store_key(&self) -> String {
        key_doc(&self.account_id, &self.region, &self.key_id)
    }

    /// The key as it stands at `now`: imported material whose `ValidTo` has passed is gone
    /// (KMS deletes it then), and a key that had it waits for an import again.
    pub(crate) fn at(mut self, now: OffsetDateTime) -> Self {
        let expired = self
            .imported
            .as_ref()
            .and_then(|i| i.valid_to)
            .is_some_and(|valid_to| valid_to <= now);
        if expired && !self.materials.is_empty() {
            self.materials.clear();
            if !matches!(
                self.state,
                KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
            ) {
                self.state = KeyState::PendingImport;
            }
        }
        self
    }

    /// Whether this is a multi-Region replica key.
    pub(crate) fn is_replica(&self) -> bool {
        self.multi_region
            .as_ref()
            .is_some_and(|m| m.primary_region != self.region)
    }

    /// Whether the key's deletion date has come: it then behaves as if gone.
    pub(crate) fn is_deleted(&self, now: OffsetDateTime) -> bool {
        self.state == KeyState::PendingDeletion && self.deletion_date.is_some_and(|d| d <= now)
    }
}

/// An alias.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AliasRecord {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) target_key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated: OffsetDateTime,
}

/// A grant's encryption-context constraints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GrantConstraints {
    #[serde(
        rename = "EncryptionContextSubset",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) subset: Option<std::collections::BTreeMap<String, String>>,
    #[serde(
        rename = "EncryptionContextEquals",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) equals: Option<std::collections::BTreeMap<String, String>>,
}

/// A grant on a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GrantRecord {
    pub(crate) grant_id: String,
    pub(crate) key_id: String,
    pub(crate) key_arn: String,
    pub(crate) name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    pub(crate) grantee_principal: String,
    pub(crate) retiring_principal: Option<String>,
    pub(crate) issuing_account: String,
    pub(crate) operations: Vec<String>,
    pub(crate) constraints: Option<GrantConstraints>,
}

/// The document key of a key.
pub(crate) fn key_doc(account: &str, region: &str, key_id: &str) -> String {
    format!("{account}/{region}/{key_id}")
}

/// The document key of an alias.
pub(crate) fn alias_doc(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

/// The document key prefix of a key's grants.
pub(crate) fn grants_prefix(account: &str, region: &str, key_id: &str) -> String {
    format!("{account}/{region}/{key_id}/")
}

/// The sealing context of a key's material: binds it to the key and the material id.
pub(crate) fn material_context(key_arn: &str, material_id: &str) -> Vec<u8> {
    format!("rampart-kms-material:{key_arn}:{material_id}").into_bytes()
}

/// The sealing context of a key's rotation seed.
pub(crate) fn seed_context(key_arn: &str) -> Vec<u8> {
    format!("rampart-kms-rotation-seed:{key_arn}").into_bytes()
}

/// The key stored at (`account`, `region`, `key_id`), deleted or not.
pub(crate) fn load_key(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    region: &str,
    key_id: &str,
) -> Result<Option<KeyRecord>, StoreError> {
    get_json_memo(tx, KEYS, &key_doc(account, region, key_id))
}

/// Stores `key`.
pub(crate) fn save_key(
    tx: &mut (impl WriteTx + ?Sized),
    key: &KeyRecord,
) -> Result<(), StoreError> {
    put_json(tx, KEYS, &key.store_key(), key)?;
    crate::scheduled::schedule(tx, key)
}

/// A key's ARN.
pub(crate) fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{key_id}")
}

/// An alias's ARN (`name` includes `alias/`).
pub(crate) fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}
