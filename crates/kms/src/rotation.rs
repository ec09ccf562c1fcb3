//! Rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
//! ListKeyRotations.
//!
//! New material encrypts; every older material stays in the key's record and still
//! decrypts (the ciphertext blob names its material).
//!
//! Scheduled rotation happens by itself without a background task: a key with rotation
//! enabled carries a sealed seed, and the material of the rotation due at date `d` is
//! HMAC-SHA256(seed, "material:" ‖ d) with id HMAC-SHA256(seed, "id:" ‖ d). Any operation
//! — even a read-only Encrypt — can thus compute the material of rotations that came due
//! since the key was last written, and gets the same bytes as every other; the next write
//! on the key (any change, or RotateKeyOnDemand) records them in the key's record and moves
//! `next_rotation` on.

use aws_lc_rs::hmac;
use rampart_crypto::SecretBytes;
use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::KmsError;
use crate::keys::{Empty, KeyIdInput, load_for_write};
use crate::material;
use crate::pagination;
use crate::records::{self, KeyRecord, Material, Origin};
use crate::resolve::{self, find_own_key};
use crate::spec::KeySpec;

/// AWS's default rotation period.
const DEFAULT_PERIOD_DAYS: i64 = 365;
/// Rotations computed at most per call: a key left unwritten for longer than this many
/// periods gets its remaining rotations on its next write.
const MAX_PENDING: usize = 32;
/// AWS's quota of on-demand rotations per key.
const MAX_ON_DEMAND: usize = 25;

pub(crate) fn open_seed(env: &Env<'_>, key: &KeyRecord) -> Result<Option<SecretBytes>, KmsError> {
    let Some(sealed) = &key.rotation.seed else {
        return Ok(None);
    };
    let sealed = data_encoding::BASE64
        .decode(sealed.as_bytes())
        .map_err(|_| KmsError::Internal)?;
    env.root_key
        .open(&sealed, &records::seed_context(&key.arn))
        .map(Some)
        .map_err(|_| KmsError::Internal)
}

/// The dates of the scheduled rotations that are due but not yet in the record.
fn due_dates(key: &KeyRecord, now: OffsetDateTime) -> Vec<OffsetDateTime> {
    let mut dates = Vec::new();
    let (true, Some(mut next)) = (key.rotation.enabled, key.rotation.next_rotation) else {
        return dates;
    };
    let period = Duration::days(key.rotation.period_days.unwrap_or(DEFAULT_PERIOD_DAYS));
    while next <= now && dates.len() < MAX_PENDING {
        dates.push(next);
        next += period;
    }
    dates
}

fn derive(seed: &[u8], label: &str, date: OffsetDateTime) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, seed);
    hmac::sign(&key, format!("{label}:{}", aws_timestamp(date)).as_bytes())
        .as_ref()
        .to_vec()
}

/// The (id, material) of each due scheduled rotation not yet recorded, oldest first.
pub(crate) fn due_materials(
    env: &Env<'_>,
    key: &KeyRecord,
) -> Result<Vec<(String, SecretBytes)>, KmsError> {
    let dates = due_dates(key, env.now);
    if dates.is_empty() {
        return Ok(Vec::new());
    }
    let Some(seed) = open_seed(env, key)? else {
        return Ok(Vec::new());
    };
    Ok(dates
        .into_iter()
        .map(|d| {
            (
                data_encoding::HEXLOWER.encode(&derive(seed.expose(), "id", d)),
                SecretBytes::new(derive(seed.expose(), "material", d)),
            )
        })
        .collect())
}

/// The id of the material that encrypts now (symmetric keys).
pub(crate) fn current_material_id(env: &Env<'_>, key: &KeyRecord) -> Option<String> {
    match due_materials(env, key) {
        Ok(mut due) if !due.is_empty() => due.pop().map(|(id, _)| id),
        _ => key.materials.last().map(|m| m.id.clone()),
    }
}

/// Records due scheduled rotations in `key` (the caller saves it).
pub(crate) fn materialize(env: &Env<'_>, key: &mut KeyRecord) -> Result<(), KmsError> {
    let dates = due_dates(key, env.now);
    let due = due_materials(env, key)?;
    if due.is_empty() {
        return Ok(());
    }
    let period = Duration::days(key.rotation.period_days.unwrap_or(DEFAULT_PERIOD_DAYS));
    for ((id, secret), date) in due.into_iter().zip(dates.iter()) {
        let previous = key.materials.last().map(|m| m.id.clone());
        crate::events::rotated(env, key, "AUTOMATIC", previous.as_deref(), &id);
        let m = material::seal(env, &key.arn, id, secret.expose(), *date, Some("AUTOMATIC"));
        key.materials.push(m);
    }
    if let Some(last) = dates.last() {
        key.rotation.next_rotation = Some(*last + period);
    }
    Ok(())
}

fn require_rotatable(key: &KeyRecord) -> Result<(), KmsError> {
    if KeySpec::parse(&key.key_spec).ok() != Some(KeySpec::Symmetric) {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} key spec {} does not support key rotation",
            key.arn, key.key_spec
        )));
    }
    // Imported material rotates only by importing new material (ImportType
    // NEW_KEY_MATERIAL), which Rampart does not serve yet.
    if key.origin != Origin::AwsKms {
        return Err(crate::import::origin_not_valid(key));
    }
    if key.is_replica() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is a multi-Region replica key: its rotation follows its primary key.",
            key.arn
        )));
    }
    resolve::require_enabled(key)
}

/// EnableKeyRotation's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnableKeyRotationInput {
    key_id: String,
    rotation_period_in_days: Option<i64>,
}

/// EnableKeyRotation: the first rotation is one period from now.
pub(crate) fn enable_key_rotation(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: EnableKeyRotationInput,
) -> Result<Empty, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    require_rotatable(&key)?;
    let days = input.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
    if !(90..=2560).contains(&days) {
        return Err(KmsError::Validation(format!(
            "RotationPeriodInDays {days} must be between 90 and 2560"
        )));
    }
    key.rotation.enabled = true;
    key.rotation.period_days = Some(days);
    key.rotation.next_rotation = Some(env.now + Duration::days(days));
    records::save_key(tx, &key)?;
    crate::multi_region::sync_replicas(env, tx, &key)?;
    Ok(Empty {})
}

/// DisableKeyRotation.
pub(crate) fn disable_key_rotation(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: KeyIdInput,
) -> Result<Empty, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    require_rotatable(&key)?;
    key.rotation.enabled = false;
    key.rotation.next_rotation = None;
    records::save_key(tx, &key)?;
    crate::multi_region::sync_replicas(env, tx, &key)?;
    Ok(Empty {})
}

/// GetKeyRotationStatus' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyRotationStatusOutput {
    key_rotation_enabled: bool,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_period_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_demand_rotation_start_date: Option<String>,
}

/// GetKeyRotationStatus.
pub(crate) fn get_key_rotation_status(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: KeyIdInput,
) -> Result<GetKeyRotationStatusOutput, KmsError> {
    let key = crate::resolve::find_key(tx, env, &input.key_id)?;
    let next = match (due_dates(&key, env.now).last(), key.rotation.next_rotation) {
        (Some(last), _) => {
            Some(*last + Duration::days(key.rotation.period_days.unwrap_or(DEFAULT_PERIOD_DAYS)))
        }
        (None, next) => next,
    };
    Ok(GetKeyRotationStatusOutput {
        key_rotation_enabled: key.rotation.enabled,
        key_id: key.arn,
        rotation_period_in_days: key
            .rotation
            .enabled
            .then_some(key.rotation.period_days)
            .flatten(),
        next_rotation_date: next.filter(|_| key.rotation.enabled).map(aws_timestamp),
        on_demand_rotation_start_date: key.rotation.on_demand_started.map(aws_timestamp),
    })
}

/// RotateKeyOnDemand's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotateKeyOnDemandOutput {
    key_id: String,
}

/// RotateKeyOnDemand: new random material, now (AWS completes it asynchronously; Rampart
/// at once).
pub(crate) fn rotate_key_on_demand(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: KeyIdInput,
) -> Result<RotateKeyOnDemandOutput, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    require_rotatable(&key)?;
    let on_demand = key
        .materials
        .iter()
        .filter(|m| m.rotation_type.as_deref() == Some("ON_DEMAND"))
        .count();
    if on_demand >= MAX_ON_DEMAND {
        return Err(KmsError::LimitExceeded(format!(
            "{} has reached the maximum number of on-demand rotations ({MAX_ON_DEMAND}).",
            key.arn
        )));
    }
    let previous = key.materials.last().map(|m| m.id.clone());
    let secret = zeroize::Zeroizing::new(env.random(32));
    let m = material::seal(
        env,
        &key.arn,
        material::new_material_id(env),
        &secret,
        env.now,
        Some("ON_DEMAND"),
    );
    crate::events::rotated(env, &key, "ON_DEMAND", previous.as_deref(), &m.id);
    key.materials.push(m);
    key.rotation.on_demand_started = Some(env.now);
    records::save_key(tx, &key)?;
    crate::multi_region::sync_replicas(env, tx, &key)?;
    Ok(RotateKeyOnDemandOutput { key_id: key.arn })
}

/// ListKeyRotations' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyRotationsInput {
    key_id: String,
    include_key_material: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

/// One `RotationsListEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotationsListEntry {
    key_id: String,
    key_material_id: String,
    key_material_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_type: Option<String>,
}

/// ListKeyRotations' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyRotationsOutput {
    rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// One material of a key, for the listing: its id, when it came, how (`None` for the
/// original), and whether it is there (imported material may be deleted or expired).
struct Listed {
    id: String,
    date: OffsetDateTime,
    rotation_type: Option<String>,
    present: bool,
}

/// ListKeyRotations: completed rotations, oldest first, and with `ALL_KEY_MATERIAL` the
/// original material too (the marker is an index).
pub(crate) fn list_key_rotations(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListKeyRotationsInput,
) -> Result<ListKeyRotationsOutput, KmsError> {
    let key = find_own_key(tx, env, &input.key_id)?;
    if KeySpec::parse(&key.key_spec).ok() != Some(KeySpec::Symmetric) {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} key spec {} does not support key rotation",
            key.arn, key.key_spec
        )));
    }
    let all_material = match input.include_key_material.as_deref() {
        None | Some("ROTATIONS_ONLY") => false,
        Some("ALL_KEY_MATERIAL") => true,
        Some(other) => {
            return Err(KmsError::Validation(format!(
                "IncludeKeyMaterial {other} is not ALL_KEY_MATERIAL or ROTATIONS_ONLY"
            )));
        }
    };
    let current = current_material_id(env, &key);
    let mut all: Vec<Listed> = key
        .materials
        .iter()
        .filter(|m: &&Material| all_material || m.rotation_type.is_some())
        .map(|m| Listed {
            id: m.id.clone(),
            date: m.created,
            rotation_type: m.rotation_type.clone(),
            present: true,
        })
        .collect();
    let dates = due_dates(&key, env.now);
    for ((id, _), date) in due_materials(env, &key)?.into_iter().zip(dates) {
        all.push(Listed {
            id,
            date,
            rotation_type: Some("AUTOMATIC".to_owned()),
            present: true,
        });
    }
    // Imported material that was deleted or expired is still the key's, pending import.
    let imported = key.imported.as_ref();
    if all_material
        && let Some(imported) = imported
        && key.materials.is_empty()
    {
        all.push(Listed {
            id: imported.material_id.clone(),
            date: key.created,
            rotation_type: None,
            present: false,
        });
    }
    all.sort_by_key(|m| m.date);
    let page = pagination::page_by_index(all, input.marker.as_deref(), input.limit, 100)?;
    let external = key.origin == Origin::External;
    let rotations: Vec<RotationsListEntry> = page
        .items
        .into_iter()
        .map(|m| RotationsListEntry {
            key_id: key.key_id.clone(),
            key_material_state: if Some(&m.id) == current.as_ref() || (external && !m.present) {
                "CURRENT"
            } else {
                "NON_CURRENT"
            },
            import_state: external.then_some(if m.present {
                "IMPORTED"
            } else {
                "PENDING_IMPORT"
            }),
            expiration_model: imported
                .filter(|_| external && m.present)
                .map(|i| crate::import::expiration_model(i.valid_to)),
            valid_to: imported
                .filter(|_| external && m.present)
                .and_then(|i| i.valid_to)
                .map(aws_timestamp),
            key_material_id: m.id,
            rotation_date: m.rotation_type.is_some().then(|| aws_timestamp(m.date)),
            rotation_type: m.rotation_type,
        })
        .collect();
    Ok(ListKeyRotationsOutput {
        rotations,
        truncated: page.next.is_some(),
        next_marker: page.next,
    })
}
