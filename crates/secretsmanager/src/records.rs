//! How secrets are kept.
//!
//! - `secretsmanager/secrets`, `<account>:<region>:<name>` → a [`SecretRecord`]: what
//!   DescribeSecret answers, with every version's metadata and labels (never a value);
//! - `secretsmanager/values`, `<account>:<region>:<name>#<version id>` → a [`SealedValue`]:
//!   the version's value, sealed under a data key that only KMS can decrypt;
//! - `secretsmanager/deletions`: the timers of secrets scheduled for deletion (scheduled.rs).
//!
//! A value never reaches the store in clear.

use rampart_service::{PrincipalIds, RunAs};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, get_json_memo, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Secrets, by account, region and name.
pub(crate) const SECRETS: &str = "secretsmanager/secrets";
/// Every kept version's sealed value.
pub(crate) const VALUES: &str = "secretsmanager/values";

/// AWS keeps about this many versions of a secret; unlabelled versions beyond are removed.
pub(crate) const MAX_VERSIONS: usize = 100;

/// The label of the current version.
pub(crate) const CURRENT: &str = "AWSCURRENT";
/// The label of the version current before it.
pub(crate) const PREVIOUS: &str = "AWSPREVIOUS";

/// One version of a secret, without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VersionRecord {
    pub(crate) id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    /// Its staging labels.
    pub(crate) stages: Vec<String>,
    /// The KMS key its value is encrypted under (as the secret named it then).
    pub(crate) kms_key_id: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) last_accessed: Option<OffsetDateTime>,
}

/// A replica Region, as CreateSecret's `AddReplicaRegions` asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReplicaRecord {
    pub(crate) region: String,
    pub(crate) kms_key_id: Option<String>,
}

/// A secret: what DescribeSecret answers, and its versions' metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SecretRecord {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) description: Option<String>,
    /// The KMS key as the request named it; `None` for the AWS managed key.
    pub(crate) kms_key_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) last_changed: OffsetDateTime,
    /// When DeleteSecret scheduled it for deletion, and when the deletion falls due.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) deleted: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) deletion_due: Option<OffsetDateTime>,
    /// Versions, oldest first.
    pub(crate) versions: Vec<VersionRecord>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) policy: Option<String>,
    #[serde(default, skip_serializing_if = "PrincipalIds::is_empty")]
    pub(crate) policy_principal_ids: PrincipalIds,
    pub(crate) replicas: Vec<ReplicaRecord>,
    /// Rotation, once RotateSecret has configured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rotation: Option<RotationRecord>,
}

/// A secret's rotation configuration and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RotationRecord {
    /// Whether scheduled rotations run (CancelRotateSecret turns them off).
    pub(crate) enabled: bool,
    pub(crate) lambda_arn: String,
    pub(crate) after_days: Option<i64>,
    pub(crate) expression: Option<String>,
    pub(crate) duration: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) last_rotated: Option<OffsetDateTime>,
    /// When the next scheduled rotation falls due (its timer's time).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) next_rotation: Option<OffsetDateTime>,
    /// Who the built-in function's scheduled rotations call KMS as: the principal that last
    /// configured rotation (a Lambda function's execution role, in AWS's terms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) runs_as: Option<RunAs>,
}

impl SecretRecord {
    /// The version `id`.
    pub(crate) fn version(&self, id: &str) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The version carrying `stage`.
    pub(crate) fn staged(&self, stage: &str) -> Option<&VersionRecord> {
        self.versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage))
    }

    /// The document key of the secret.
    pub(crate) fn doc_key(&self) -> String {
        doc_key(&self.account, &self.region, &self.name)
    }
}

/// A version's value as kept: a data key from KMS `GenerateDataKey` (its ciphertext blob,
/// base64), and the value sealed under it with AES-256-GCM (base64 of nonce, ciphertext, tag).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SealedValue {
    pub(crate) data_key: String,
    pub(crate) sealed: String,
    /// Whether the value is `SecretBinary` rather than `SecretString`.
    pub(crate) binary: bool,
}

/// The document key of the secret `name` in `account` and `region`.
pub(crate) fn doc_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}:{region}:{name}")
}

fn value_key(doc_key: &str, version: &str) -> String {
    format!("{doc_key}#{version}")
}

/// The secret `name` of `account` in `region`.
pub(crate) fn load(
    tx: &mut dyn ReadTx,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<SecretRecord>, StoreError> {
    get_json_memo(tx, SECRETS, &doc_key(account, region, name))
}

/// Saves a secret (not its values).
pub(crate) fn save(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    put_json(tx, SECRETS, &record.doc_key(), record)
}

/// The sealed value of `version` of `record`.
pub(crate) fn load_value(
    tx: &mut dyn ReadTx,
    record: &SecretRecord,
    version: &str,
) -> Result<Option<SealedValue>, StoreError> {
    get_json(tx, VALUES, &value_key(&record.doc_key(), version))
}

/// Keeps the sealed value of `version` of `record`.
pub(crate) fn save_value(
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    version: &str,
    value: &SealedValue,
) -> Result<(), StoreError> {
    put_json(tx, VALUES, &value_key(&record.doc_key(), version), value)
}

/// Drops the sealed value of `version` of `record`.
pub(crate) fn delete_value(
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    version: &str,
) -> Result<(), StoreError> {
    tx.delete(VALUES, &value_key(&record.doc_key(), version))
        .map(|_| ())
}

/// Removes a secret and every version's value.
pub(crate) fn remove(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    for version in &record.versions {
        delete_value(tx, record, &version.id)?;
    }
    tx.delete(SECRETS, &record.doc_key()).map(|_| ())
}
