//! Secrets themselves: CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret (with a
//! recovery window that a timer ends) and RestoreSecret, TagResource and UntagResource.

use std::collections::BTreeMap;

use rampart_service::tagging::{self, DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules};
use rampart_service::{CallPrincipal, Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::encryption;
use crate::error::SecretsError;
use crate::events;
use crate::names;
use crate::records::{self, CURRENT, PREVIOUS, ReplicaRecord, SecretRecord};
use crate::scheduled;
use crate::values::SecretNamed;
use crate::versions::{self, GivenValue};

/// Secrets Manager's tag rules: keys compare exactly, `aws:` is AWS's, at most 50 tags.
pub(crate) const TAG_RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::ExactCase,
    duplicate_keys: DuplicateKeys::LastWins,
};

/// The label a rotation's new version carries until it is finished.
const PENDING: &str = "AWSPENDING";

/// A tag as the API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagEntry {
    key: String,
    value: String,
}

impl tagging::Tag for TagEntry {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&str> {
        Some(&self.value)
    }
}

impl From<TagError> for SecretsError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::TooMany { .. } => SecretsError::InvalidParameter(
                "Number of tags exceeds the limit of 50 tags per secret.".to_owned(),
            ),
            TagError::ReservedKey { .. } => SecretsError::InvalidParameter(
                "Invalid tag key: tag keys beginning with aws: are reserved for AWS.".to_owned(),
            ),
            TagError::DuplicateKey { key } => {
                SecretsError::InvalidParameter(format!("Tag key {key} is given more than once."))
            }
        }
    }
}

/// The tags of `record`, as the API carries them.
pub(crate) fn tag_entries(record: &SecretRecord) -> Vec<TagEntry> {
    record
        .tags
        .iter()
        .map(|(key, value)| TagEntry {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

/// The day the secret was last read (its most recently read version's), if ever.
pub(crate) fn last_accessed(record: &SecretRecord) -> Option<time::OffsetDateTime> {
    record.versions.iter().filter_map(|v| v.last_accessed).max()
}

/// Each labelled version's labels.
pub(crate) fn versions_to_stages(record: &SecretRecord) -> BTreeMap<String, Vec<String>> {
    record
        .versions
        .iter()
        .filter(|v| !v.stages.is_empty())
        .map(|v| (v.id.clone(), v.stages.clone()))
        .collect()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicaRegion {
    region: Option<String>,
    kms_key_id: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateSecretInput {
    name: String,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<String>,
    secret_string: Option<String>,
    tags: Option<Vec<TagEntry>>,
    add_replica_regions: Option<Vec<ReplicaRegion>>,
    force_overwrite_replica_secret: Option<bool>,
    #[serde(rename = "Type")]
    secret_type: Option<String>,
    #[serde(rename = "CrossAccountPrimaryARN")]
    cross_account_primary_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicationStatus {
    region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    status: &'static str,
    status_message: &'static str,
}

fn replication_status(record: &SecretRecord) -> Vec<ReplicationStatus> {
    record
        .replicas
        .iter()
        .map(|r| ReplicationStatus {
            region: r.region.clone(),
            kms_key_id: Some(
                r.kms_key_id
                    .clone()
                    .unwrap_or_else(|| encryption::DEFAULT_KEY.to_owned()),
            ),
            status: "InSync",
            status_message: "Replication succeeded",
        })
        .collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replication_status: Vec<ReplicationStatus>,
}

fn not_implemented(what: &str) -> SecretsError {
    SecretsError::NotImplemented(format!(
        "Rampart does not implement {what} (see docs/COVERAGE.md)"
    ))
}

/// CreateSecret.
pub(crate) fn create_secret(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateSecretInput,
) -> Result<CreateSecretOutput, SecretsError> {
    if input.secret_type.is_some() {
        return Err(not_implemented("managed external secrets (Type)"));
    }
    if input.cross_account_primary_arn.is_some() {
        return Err(not_implemented(
            "cross-account replicas (CrossAccountPrimaryARN)",
        ));
    }
    names::check_name(&input.name)?;
    let value = GivenValue::from_request(input.secret_string, input.secret_binary)?;
    let account = env.caller.account_id.clone();
    if let Some(existing) = records::load(tx, &account, env.region, &input.name)? {
        return Err(if existing.deleted.is_some() {
            SecretsError::InvalidRequest(
                "You can't create this secret because a secret with this name is already \
                 scheduled for deletion."
                    .to_owned(),
            )
        } else {
            SecretsError::ResourceExists(format!(
                "The operation failed because the secret {} already exists.",
                input.name
            ))
        });
    }
    let tags = input.tags.unwrap_or_default();
    TAG_RULES.check_new(&tags)?;
    // Replicas are recorded, never written to another Region: nothing there to overwrite.
    let _overwrite = input.force_overwrite_replica_secret;
    let mut replicas: Vec<ReplicaRecord> = Vec::new();
    for replica in input.add_replica_regions.unwrap_or_default() {
        let region = replica.region.unwrap_or_default();
        if region.is_empty() || region == env.region || replicas.iter().any(|r| r.region == region)
        {
            return Err(SecretsError::InvalidParameter(format!(
                "Invalid replica Region: {region}. A replica Region must be another Region than \
                 the secret's, named once."
            )));
        }
        replicas.push(ReplicaRecord {
            region,
            kms_key_id: replica.kms_key_id,
        });
    }
    let suffix = names::new_suffix(env, &input.name);
    let mut record = SecretRecord {
        arn: names::secret_arn(env.region, &account, &input.name, &suffix),
        name: input.name,
        account,
        region: env.region.to_owned(),
        description: input.description,
        kms_key_id: input.kms_key_id,
        created: env.now,
        last_changed: env.now,
        deleted: None,
        deletion_due: None,
        versions: Vec::new(),
        tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
        policy: None,
        policy_principal_ids: Default::default(),
        replicas,
        rotation: None,
    };
    let version_id = match &value {
        Some(value) => Some(
            versions::make(
                env,
                tx,
                &mut record,
                input.client_request_token,
                value,
                None,
                &CallPrincipal::OnBehalfOfCaller,
            )?
            .id,
        ),
        None => None,
    };
    records::save(tx, &record)?;
    Ok(CreateSecretOutput {
        replication_status: replication_status(&record),
        arn: record.arn,
        name: record.name,
        version_id,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateSecretInput {
    secret_id: String,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<String>,
    secret_string: Option<String>,
    #[serde(rename = "Type")]
    secret_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
}

/// UpdateSecret: its description, its KMS key (re-encrypting the labelled versions when no
/// new value comes with it, as AWS does) and a new current value.
pub(crate) fn update_secret(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateSecretInput,
) -> Result<UpdateSecretOutput, SecretsError> {
    if input.secret_type.is_some() {
        return Err(not_implemented("managed external secrets (Type)"));
    }
    let mut record = names::live(env, tx, &input.secret_id)?;
    let value = GivenValue::from_request(input.secret_string, input.secret_binary)?;
    if let Some(description) = input.description {
        record.description = Some(description);
    }
    let key_changed = input
        .kms_key_id
        .as_ref()
        .is_some_and(|k| record.kms_key_id.as_ref() != Some(k));
    if let Some(key) = input.kms_key_id {
        record.kms_key_id = Some(key);
    }
    let version_id = match &value {
        Some(value) => Some(
            versions::make(
                env,
                tx,
                &mut record,
                input.client_request_token,
                value,
                None,
                &CallPrincipal::OnBehalfOfCaller,
            )?
            .id,
        ),
        None => {
            if key_changed {
                reencrypt_labelled(env, tx, &mut record)?;
            }
            None
        }
    };
    record.last_changed = env.now;
    records::save(tx, &record)?;
    Ok(UpdateSecretOutput {
        arn: record.arn,
        name: record.name,
        version_id,
    })
}

/// Re-encrypts the versions labelled AWSCURRENT, AWSPREVIOUS and AWSPENDING under the
/// secret's (new) key.
fn reencrypt_labelled(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &mut SecretRecord,
) -> Result<(), SecretsError> {
    let key = record.kms_key_id.clone();
    let labelled: Vec<String> = record
        .versions
        .iter()
        .filter(|v| {
            v.stages
                .iter()
                .any(|s| [CURRENT, PREVIOUS, PENDING].contains(&s.as_str()))
        })
        .map(|v| v.id.clone())
        .collect();
    for id in labelled {
        let Some(stored) = records::load_value(tx, record, &id)? else {
            continue;
        };
        let plain = encryption::open(env, tx, record, &id, &stored)?;
        let sealed = encryption::seal(
            env,
            tx,
            record,
            &id,
            &plain,
            stored.binary,
            &CallPrincipal::OnBehalfOfCaller,
        )?;
        records::save_value(tx, record, &id, &sealed)?;
        if let Some(v) = record.versions.iter_mut().find(|v| v.id == id) {
            v.kms_key_id.clone_from(&key);
        }
    }
    Ok(())
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeSecretInput {
    secret_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    last_changed_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagEntry>,
    version_ids_to_stages: BTreeMap<String, Vec<String>>,
    created_date: String,
    primary_region: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replication_status: Vec<ReplicationStatus>,
    #[serde(flatten)]
    rotation: crate::rotation::RotationShown,
}

/// DescribeSecret.
pub(crate) fn describe_secret(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeSecretInput,
) -> Result<DescribeSecretOutput, SecretsError> {
    let record = names::existing(env, tx, &input.secret_id)?;
    Ok(DescribeSecretOutput {
        rotation: crate::rotation::shown(&record),
        tags: tag_entries(&record),
        version_ids_to_stages: versions_to_stages(&record),
        replication_status: replication_status(&record),
        last_accessed_date: last_accessed(&record).map(aws_timestamp),
        arn: record.arn,
        name: record.name,
        description: record.description,
        kms_key_id: record.kms_key_id,
        last_changed_date: aws_timestamp(record.last_changed),
        deleted_date: record.deleted.map(aws_timestamp),
        created_date: aws_timestamp(record.created),
        primary_region: record.region,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteSecretInput {
    secret_id: String,
    recovery_window_in_days: Option<i64>,
    force_delete_without_recovery: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    deletion_date: String,
}

/// The recovery window when DeleteSecret names none.
const DEFAULT_RECOVERY_DAYS: i64 = 30;

/// DeleteSecret: scheduled for deletion at the end of its recovery window (7 to 30 days,
/// 30 by default), or deleted at once with `ForceDeleteWithoutRecovery`.
pub(crate) fn delete_secret(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteSecretInput,
) -> Result<DeleteSecretOutput, SecretsError> {
    let force = input.force_delete_without_recovery.unwrap_or(false);
    if force && input.recovery_window_in_days.is_some() {
        return Err(SecretsError::InvalidParameter(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
                .to_owned(),
        ));
    }
    let days = input
        .recovery_window_in_days
        .unwrap_or(DEFAULT_RECOVERY_DAYS);
    if !(7..=30).contains(&days) {
        return Err(SecretsError::InvalidParameter(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".to_owned(),
        ));
    }
    let mut record = names::existing(env, tx, &input.secret_id)?;
    if record.deleted.is_some() && !force {
        return Err(SecretsError::marked_for_deletion());
    }
    events::deletion(env, "StartSecretVersionDelete", &record);
    if force {
        scheduled::unschedule(tx, &record)?;
        records::remove(tx, &record)?;
        events::deletion(env, "EndSecretVersionDelete", &record);
        return Ok(DeleteSecretOutput {
            arn: record.arn,
            name: record.name,
            deletion_date: aws_timestamp(env.now),
        });
    }
    let due = env.now + Duration::days(days);
    record.deleted = Some(env.now);
    record.deletion_due = Some(due);
    scheduled::schedule(tx, &record)?;
    records::save(tx, &record)?;
    Ok(DeleteSecretOutput {
        arn: record.arn,
        name: record.name,
        deletion_date: aws_timestamp(due),
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RestoreSecretInput {
    secret_id: String,
}

/// RestoreSecret: cancels a scheduled deletion.
pub(crate) fn restore_secret(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RestoreSecretInput,
) -> Result<SecretNamed, SecretsError> {
    let mut record = names::existing(env, tx, &input.secret_id)?;
    if record.deleted.is_some() {
        scheduled::unschedule(tx, &record)?;
        record.deleted = None;
        record.deletion_due = None;
        record.last_changed = env.now;
        records::save(tx, &record)?;
        events::deletion(env, "CancelSecretVersionDelete", &record);
    }
    Ok(SecretNamed {
        arn: record.arn,
        name: record.name,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    secret_id: String,
    tags: Vec<TagEntry>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// TagResource.
pub(crate) fn tag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<Empty, SecretsError> {
    let mut record = names::live(env, tx, &input.secret_id)?;
    let mut tags = tag_entries(&record);
    TAG_RULES.merge(&mut tags, input.tags)?;
    record.tags = tags.into_iter().map(|t| (t.key, t.value)).collect();
    records::save(tx, &record)?;
    Ok(Empty {})
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    secret_id: String,
    tag_keys: Vec<String>,
}

/// UntagResource.
pub(crate) fn untag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<Empty, SecretsError> {
    let mut record = names::live(env, tx, &input.secret_id)?;
    TAG_RULES.check_keys(&input.tag_keys)?;
    let mut tags = tag_entries(&record);
    TAG_RULES.remove(&mut tags, &input.tag_keys);
    record.tags = tags.into_iter().map(|t| (t.key, t.value)).collect();
    records::save(tx, &record)?;
    Ok(Empty {})
}
