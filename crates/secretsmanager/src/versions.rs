//! Versions and their staging labels, moved exactly as AWS moves them:
//!
//! - a label is on at most one version; attaching it to a version takes it off the other;
//! - `AWSCURRENT` moved to another version leaves `AWSPREVIOUS` on the version that had it
//!   (taking `AWSPREVIOUS` off whichever version carried it);
//! - the first version of a secret always gets `AWSCURRENT`;
//! - a version may carry at most 20 labels;
//! - 100 versions are kept: unlabelled versions beyond that are removed, oldest first, once
//!   they are 24 hours old; a version that would make 101 with none to remove is refused
//!   (LimitExceededException).
//!
//! A new version is made from a request's value under its `ClientRequestToken` (its version
//! ID), which makes the request idempotent as AWS defines it: the same token with the same
//! value is a no-op, with another value a ResourceExistsException.

use data_encoding::BASE64;
use rampart_service::{CallPrincipal, Env};
use rampart_store::WriteTx;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::encryption;
use crate::error::SecretsError;
use crate::records::{self, CURRENT, MAX_VERSIONS, PREVIOUS, SecretRecord, VersionRecord};

/// The most labels one version may carry.
const MAX_STAGES_PER_VERSION: usize = 20;

/// A value a request gives: `SecretString` or `SecretBinary` (base64 on the wire). No `Debug`.
pub(crate) enum GivenValue {
    Text(Zeroizing<String>),
    Binary(Zeroizing<Vec<u8>>),
}

impl GivenValue {
    /// The value of a request's `SecretString` and `SecretBinary`, when it gives one.
    pub(crate) fn from_request(
        text: Option<String>,
        binary: Option<String>,
    ) -> Result<Option<Self>, SecretsError> {
        match (text, binary) {
            (Some(_), Some(_)) => Err(SecretsError::InvalidParameter(
                "You can't specify both a binary secret value and a string secret value in the \
                 same secret."
                    .to_owned(),
            )),
            (Some(text), None) => Ok(Some(Self::Text(Zeroizing::new(text)))),
            (None, Some(encoded)) => {
                let encoded = Zeroizing::new(encoded);
                let bytes = BASE64.decode(encoded.as_bytes()).map_err(|_| {
                    SecretsError::InvalidParameter(
                        "SecretBinary must be base64-encoded binary data.".to_owned(),
                    )
                })?;
                Ok(Some(Self::Binary(Zeroizing::new(bytes))))
            }
            (None, None) => Ok(None),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }
}

/// A fresh version ID for a request that gave no token (a random UUID, as AWS's SDKs make).
pub(crate) fn new_version_id(env: &Env<'_>) -> String {
    let mut bytes = [0u8; 16];
    env.entropy.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// What making a version did.
pub(crate) struct MadeVersion {
    pub(crate) id: String,
    pub(crate) stages: Vec<String>,
}

/// Makes version `token` of `record` holding `value`, labelled `stages` (`AWSCURRENT` when the
/// request names none), under the secret's KMS key, called as `principal`; `record` is saved
/// by the caller.
pub(crate) fn make(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &mut SecretRecord,
    token: Option<String>,
    value: &GivenValue,
    stages: Option<Vec<String>>,
    principal: &CallPrincipal<'_>,
) -> Result<MadeVersion, SecretsError> {
    let id = token.unwrap_or_else(|| new_version_id(env));
    if let Some(existing) = record.version(&id).cloned() {
        return same_value_again(env, tx, record, existing, value);
    }
    let mut stages = stages.unwrap_or_else(|| vec![CURRENT.to_owned()]);
    stages.dedup();
    if record.versions.is_empty() && !stages.iter().any(|s| s == CURRENT) {
        stages.push(CURRENT.to_owned());
    }
    check_stage_count(stages.len())?;
    let key = record.kms_key_id.clone();
    // The labels moved and the quota decided before KMS is asked: a version the quota
    // refuses makes no data key.
    let mut after = record.clone();
    after.versions.push(VersionRecord {
        id: id.clone(),
        created: env.now,
        stages: Vec::new(),
        kms_key_id: key.clone(),
        last_accessed: None,
    });
    for stage in &stages {
        attach(&mut after, &id, stage)?;
    }
    let removed = prune(&mut after, env.now)?;
    let sealed = encryption::seal(
        env,
        tx,
        record,
        &id,
        value.bytes(),
        value.is_binary(),
        principal,
    )?;
    records::save_value(tx, &after, &id, &sealed)?;
    for version in &removed {
        records::delete_value(tx, &after, &version.id)?;
    }
    *record = after;
    record.last_changed = env.now;
    let stages = record
        .version(&id)
        .map(|v| v.stages.clone())
        .unwrap_or_default();
    Ok(MadeVersion { id, stages })
}

/// The same token again: a no-op when the value is the same, else AWS's refusal.
fn same_value_again(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    existing: VersionRecord,
    value: &GivenValue,
) -> Result<MadeVersion, SecretsError> {
    let refused = || {
        SecretsError::ResourceExists(
            "You can't modify an existing version, you can only create a new version.".to_owned(),
        )
    };
    let stored = records::load_value(tx, record, &existing.id)?.ok_or_else(refused)?;
    if stored.binary != value.is_binary() {
        return Err(refused());
    }
    let kept = encryption::open(env, tx, record, &existing.id, &stored)?;
    if !rampart_crypto::constant_time_eq(&kept, value.bytes()) {
        return Err(refused());
    }
    Ok(MadeVersion {
        id: existing.id,
        stages: existing.stages,
    })
}

fn check_stage_count(count: usize) -> Result<(), SecretsError> {
    if count > MAX_STAGES_PER_VERSION {
        return Err(SecretsError::LimitExceeded(format!(
            "A version can have at most {MAX_STAGES_PER_VERSION} staging labels."
        )));
    }
    Ok(())
}

/// Attaches `stage` to version `id`, taking it off any other version; `AWSCURRENT` leaves
/// `AWSPREVIOUS` on the version that had it.
pub(crate) fn attach(record: &mut SecretRecord, id: &str, stage: &str) -> Result<(), SecretsError> {
    let holder = record.staged(stage).map(|v| v.id.clone());
    if holder.as_deref() == Some(id) {
        return Ok(());
    }
    detach(record, stage);
    if stage == CURRENT
        && let Some(previous) = holder
    {
        detach(record, PREVIOUS);
        if let Some(v) = record.versions.iter_mut().find(|v| v.id == previous) {
            v.stages.push(PREVIOUS.to_owned());
        }
    }
    let version = record
        .versions
        .iter_mut()
        .find(|v| v.id == id)
        .ok_or_else(|| version_not_found(id))?;
    version.stages.push(stage.to_owned());
    check_stage_count(version.stages.len())
}

/// Takes `stage` off whichever version carries it.
pub(crate) fn detach(record: &mut SecretRecord, stage: &str) {
    for version in &mut record.versions {
        version.stages.retain(|s| s != stage);
    }
}

/// AWS's answer for a version the secret does not have.
pub(crate) fn version_not_found(id: &str) -> SecretsError {
    SecretsError::ResourceNotFound(format!(
        "Secrets Manager can't find the specified secret value for VersionId: {id}"
    ))
}

/// How old an unlabelled version must be before AWS removes it.
const REMOVABLE_AFTER: Duration = Duration::hours(24);

/// Takes off `record` the oldest unlabelled versions beyond the 100 AWS keeps, as AWS removes
/// them: never a labelled version, never one made less than 24 hours before `now`. When that
/// leaves more than 100, the new version is over the quota: AWS's LimitExceededException.
fn prune(
    record: &mut SecretRecord,
    now: OffsetDateTime,
) -> Result<Vec<VersionRecord>, SecretsError> {
    let mut removed = Vec::new();
    while record.versions.len() > MAX_VERSIONS {
        // Versions are kept oldest first.
        let Some(at) = record
            .versions
            .iter()
            .position(|v| v.stages.is_empty() && v.created + REMOVABLE_AFTER <= now)
        else {
            return Err(SecretsError::LimitExceeded(format!(
                "The secret {} has reached the quota of {MAX_VERSIONS} versions. Secrets \
                 Manager removes versions without staging labels once they are 24 hours old.",
                record.name
            )));
        };
        removed.push(record.versions.remove(at));
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn record(versions: &[(&str, &[&str])]) -> SecretRecord {
        let now = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        SecretRecord {
            name: "s".into(),
            arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-abcdef".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            description: None,
            kms_key_id: None,
            created: now,
            last_changed: now,
            deleted: None,
            deletion_due: None,
            versions: versions
                .iter()
                .map(|(id, stages)| VersionRecord {
                    id: (*id).into(),
                    created: now,
                    stages: stages.iter().map(|s| (*s).to_owned()).collect(),
                    kms_key_id: None,
                    last_accessed: None,
                })
                .collect(),
            tags: Vec::new(),
            policy: None,
            policy_principal_ids: Default::default(),
            replicas: Vec::new(),
            rotation: None,
        }
    }

    fn stages(record: &SecretRecord, id: &str) -> Vec<String> {
        record.version(id).unwrap().stages.clone()
    }

    #[test]
    fn current_moving_leaves_previous_behind() {
        let mut r = record(&[
            ("v1", &["AWSPREVIOUS"]),
            ("v2", &["AWSCURRENT", "blue"]),
            ("v3", &[]),
        ]);
        attach(&mut r, "v3", CURRENT).unwrap();
        assert_eq!(stages(&r, "v1"), Vec::<String>::new());
        assert_eq!(stages(&r, "v2"), vec!["blue", "AWSPREVIOUS"]);
        assert_eq!(stages(&r, "v3"), vec!["AWSCURRENT"]);
        // A custom label moves alone.
        attach(&mut r, "v3", "blue").unwrap();
        assert_eq!(stages(&r, "v2"), vec!["AWSPREVIOUS"]);
        // Attaching a label a version has already changes nothing.
        attach(&mut r, "v3", CURRENT).unwrap();
        assert_eq!(stages(&r, "v2"), vec!["AWSPREVIOUS"]);
        assert!(attach(&mut r, "nope", "x").is_err());
    }

    #[test]
    fn no_version_carries_more_than_twenty_labels() {
        let mut r = record(&[("v1", &[])]);
        for i in 0..20 {
            attach(&mut r, "v1", &format!("l{i}")).unwrap();
        }
        assert!(matches!(
            attach(&mut r, "v1", "one-more"),
            Err(SecretsError::LimitExceeded(_))
        ));
    }
}
