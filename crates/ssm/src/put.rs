//! PutParameter: a new parameter, or a new version of one (`Overwrite`).
//!
//! As AWS: a type is needed to create and cannot change on overwrite; `KeyId` is for
//! SecureString only; tags are for creation only; `AllowedPattern` and the data type are
//! checked against the value; the tier is chosen (Intelligent-Tiering picks Standard unless
//! the value, the policies or the Standard quota need Advanced) and never goes back from
//! Advanced; 100 versions are kept, the oldest dropped unless a label holds it; quotas of
//! 10,000 Standard and 100,000 Advanced parameters per account and Region.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};

use crate::encryption;
use crate::error::SsmError;
use crate::names::{self, ParameterName};
use crate::pattern;
use crate::policies;
use crate::records::{
    self, Counts, MAX_VERSIONS, ParameterRecord, ParameterType, PolicyRecord, StoredValue, Tier,
    VersionRecord,
};
use crate::scheduled::{self, PENDING};
use crate::settings;
use crate::tags::{self, Tag};

/// The largest value of a Standard parameter, in bytes.
pub(crate) const STANDARD_MAX_VALUE: usize = 4096;
/// The largest value of an Advanced parameter, in bytes.
pub(crate) const ADVANCED_MAX_VALUE: usize = 8192;
/// Standard parameters per account and Region.
pub(crate) const STANDARD_QUOTA: u64 = 10_000;
/// Advanced parameters per account and Region.
pub(crate) const ADVANCED_QUOTA: u64 = 100_000;

/// PutParameter's input. (No `Debug`: it holds the value.)
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutParameterInput {
    name: String,
    description: Option<String>,
    value: String,
    #[serde(rename = "Type")]
    parameter_type: Option<String>,
    key_id: Option<String>,
    overwrite: Option<bool>,
    allowed_pattern: Option<String>,
    tags: Option<Vec<Tag>>,
    tier: Option<String>,
    policies: Option<String>,
    data_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutParameterOutput {
    version: i64,
    tier: &'static str,
}

fn parameter_type(given: &str) -> Result<ParameterType, SsmError> {
    match given {
        "String" => Ok(ParameterType::String),
        "StringList" => Ok(ParameterType::StringList),
        "SecureString" => Ok(ParameterType::SecureString),
        other => Err(SsmError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: \
             Member must satisfy enum value set: [SecureString, StringList, String]"
        ))),
    }
}

/// PutParameter.
pub(crate) fn put_parameter(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutParameterInput,
) -> Result<PutParameterOutput, SsmError> {
    let name = names::for_put(env, &input.name)?;
    if input.value.is_empty() {
        return Err(SsmError::Validation(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: \
             Member must have length greater than or equal to 1."
                .to_owned(),
        ));
    }
    let overwrite = input.overwrite.unwrap_or(false);
    let tags = input.tags.clone().unwrap_or_default();
    if overwrite && !tags.is_empty() {
        return Err(SsmError::Validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter \
             with tags, please remove overwrite flag. To update tags for an existing parameter, \
             please use AddTagsToResource or RemoveTagsFromResource."
                .to_owned(),
        ));
    }
    let doc_key = records::parameter_key(env, &name.key);
    let existing = records::load(tx, env, &name.key)?;
    if existing.is_some() && !overwrite {
        return Err(SsmError::ParameterAlreadyExists);
    }
    let kept = existing.as_ref().map(|r| r.current.clone());
    let previous = kept.as_ref();
    let kind = match (&input.parameter_type, previous) {
        (Some(given), _) => parameter_type(given)?,
        (None, Some(previous)) => previous.parameter_type,
        (None, None) => {
            return Err(SsmError::Validation(
                "A parameter type is required when you create a parameter.".to_owned(),
            ));
        }
    };
    if let Some(previous) = previous
        && previous.parameter_type != kind
    {
        return Err(SsmError::HierarchyTypeMismatch(
            "Parameter Store doesn't support changing a parameter type in a hierarchy. For \
             example, you can't change a parameter from a String type to a SecureString type. You \
             must create a new, unique parameter."
                .to_owned(),
        ));
    }
    if input.key_id.is_some() && kind != ParameterType::SecureString {
        return Err(SsmError::Validation(
            "KeyId is required for SecureString type parameter only.".to_owned(),
        ));
    }
    let data_type = input
        .data_type
        .clone()
        .or_else(|| previous.map(|p| p.data_type.clone()))
        .unwrap_or_else(|| "text".to_owned());
    check_data_type(&data_type, kind, &input.value)?;
    let allowed_pattern = match &input.allowed_pattern {
        Some(given) => Some(given.clone()),
        None => previous.and_then(|p| p.allowed_pattern.clone()),
    };
    if let Some(text) = allowed_pattern.as_deref().filter(|p| !p.is_empty()) {
        let compiled =
            pattern::compile(text).map_err(|e| SsmError::InvalidAllowedPattern(e.to_string()))?;
        if !compiled.matches(&input.value) {
            return Err(SsmError::ParameterPatternMismatch(format!(
                "Parameter value, cannot be validated against allowedPattern: {text}"
            )));
        }
    }
    let policies: Vec<PolicyRecord> = match &input.policies {
        Some(text) => policies::parse(text, env.now)
            .map_err(policy_error)?
            .into_iter()
            .map(|p| PolicyRecord {
                policy_type: p.kind.name().to_owned(),
                text: p.text,
                status: PENDING.to_owned(),
            })
            .collect(),
        // Kept; a change restarts NoChangeNotification's clock.
        None => previous
            .map(|p| p.policies.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|mut p| {
                if p.policy_type == "NoChangeNotification" {
                    p.status = PENDING.to_owned();
                }
                p
            })
            .collect(),
    };
    let counts = records::counts(tx, env)?;
    let default_tier = settings::value(tx, env, settings::DEFAULT_TIER)?;
    let tier = choose_tier(
        input.tier.as_deref(),
        previous.map(|p| p.tier),
        &default_tier,
        input.value.len(),
        !policies.is_empty(),
        counts,
    )?;
    check_quota(previous.map(|p| p.tier), tier, counts)?;
    let arn = name.arn(env);
    let mut record = existing.unwrap_or_else(|| new_record(&name));
    let version = if previous.is_some() {
        make_room(tx, &doc_key, &mut record)?;
        record.current.version.saturating_add(1)
    } else {
        1
    };
    if previous.is_none() && !tags.is_empty() {
        tags::RULES.check_new(&tags)?;
        record.tags = tags.into_iter().map(|t| (t.key, t.value)).collect();
    }
    let (value, key_id) = match kind {
        ParameterType::SecureString => {
            let key = input
                .key_id
                .as_deref()
                .or_else(|| previous.and_then(|p| p.key_id.as_deref()));
            let (sealed, key) = encryption::seal(env, tx, key, &arn, tier, &input.value)?;
            (sealed, Some(key))
        }
        _ => (
            StoredValue::Plain {
                value: input.value.clone(),
            },
            None,
        ),
    };
    let from_tier = previous.map(|p| p.tier);
    record.current = VersionRecord {
        version,
        parameter_type: kind,
        value,
        key_id,
        description: input
            .description
            .clone()
            .or_else(|| previous.and_then(|p| p.description.clone())),
        allowed_pattern,
        data_type,
        tier,
        policies,
        last_modified: env.now,
        last_modified_user: env.caller.arn.clone(),
    };
    records::save_version(tx, &doc_key, &record.current)?;
    records::count_move(tx, env, from_tier, Some(tier))?;
    scheduled::reschedule(tx, env, &name.key, &mut record)?;
    records::save(tx, &doc_key, &record)?;
    Ok(PutParameterOutput {
        version,
        tier: tier.as_str(),
    })
}

fn new_record(name: &ParameterName) -> ParameterRecord {
    ParameterRecord {
        name: name.name.clone(),
        current: VersionRecord {
            version: 0,
            parameter_type: ParameterType::String,
            value: StoredValue::Plain {
                value: String::new(),
            },
            key_id: None,
            description: None,
            allowed_pattern: None,
            data_type: "text".to_owned(),
            tier: Tier::Standard,
            policies: Vec::new(),
            last_modified: time::OffsetDateTime::UNIX_EPOCH,
            last_modified_user: String::new(),
        },
        oldest_version: 1,
        labels: BTreeMap::new(),
        tags: Vec::new(),
        timers: Vec::new(),
    }
}

/// With 100 versions kept, drops the oldest for the new one, unless a label holds it.
fn make_room(
    tx: &mut dyn WriteTx,
    doc_key: &str,
    record: &mut ParameterRecord,
) -> Result<(), SsmError> {
    let kept = record.current.version - record.oldest_version + 1;
    if kept < MAX_VERSIONS {
        return Ok(());
    }
    let oldest = record.oldest_version;
    if record.labels.values().any(|v| *v == oldest) {
        return Err(SsmError::ParameterMaxVersionLimitExceeded(format!(
            "You attempted to create a new version of {} by calling the PutParameter API with \
             the overwrite flag. Version {oldest}, the oldest version, can't be deleted because it \
             has a label associated with it. Move the label to another version of the parameter, \
             and try again.",
            record.name
        )));
    }
    records::delete_version(tx, doc_key, oldest)?;
    record.oldest_version = oldest + 1;
    Ok(())
}

fn policy_error(e: policies::PolicyError) -> SsmError {
    let message = e.to_string();
    match e {
        policies::PolicyError::TooMany => SsmError::PoliciesLimitExceeded(message),
        policies::PolicyError::Type(_) => SsmError::InvalidPolicyType(message),
        policies::PolicyError::Attribute(_) => SsmError::InvalidPolicyAttribute(message),
        policies::PolicyError::Incompatible(_) => SsmError::IncompatiblePolicy(message),
    }
}

fn check_data_type(data_type: &str, kind: ParameterType, value: &str) -> Result<(), SsmError> {
    match data_type {
        "text" => Ok(()),
        "aws:ec2:image" => {
            if kind != ParameterType::String {
                return Err(SsmError::UnsupportedParameterType(format!(
                    "The aws:ec2:image data type is supported for String parameters only, not {}.",
                    kind.as_str()
                )));
            }
            let hex = value.strip_prefix("ami-").unwrap_or_default();
            if !matches!(hex.len(), 8 | 17) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SsmError::Validation(format!(
                    "Parameter value {value} is not a valid AMI ID: the aws:ec2:image data type \
                     needs ami- followed by 8 or 17 hexadecimal characters."
                )));
            }
            Ok(())
        }
        "aws:ssm:integration" => Err(SsmError::NotImplemented(
            "Rampart does not implement the aws:ssm:integration data type (see docs/COVERAGE.md)"
                .to_owned(),
        )),
        other => Err(SsmError::Validation(format!(
            "The following data type is not supported: {other} (Data type names are all lowercase.)"
        ))),
    }
}

fn too_large(max: usize, tier: &str) -> SsmError {
    SsmError::Validation(format!(
        "{tier} tier parameters support a maximum parameter value of {max} characters. To create \
         a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For \
         more information, see \
         https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
    ))
}

/// The tier a new version gets.
fn choose_tier(
    requested: Option<&str>,
    existing: Option<Tier>,
    default_tier: &str,
    value_len: usize,
    has_policies: bool,
    counts: Counts,
) -> Result<Tier, SsmError> {
    let wanted = match (requested, existing) {
        (Some(given), _) => given,
        (None, Some(Tier::Advanced)) => "Advanced",
        (None, Some(Tier::Standard)) if default_tier == "Intelligent-Tiering" => default_tier,
        (None, Some(Tier::Standard)) => "Standard",
        (None, None) => default_tier,
    };
    let advanced = || {
        if value_len > ADVANCED_MAX_VALUE {
            Err(SsmError::Validation(format!(
                "Advanced tier parameters support a maximum parameter value of \
                 {ADVANCED_MAX_VALUE} characters."
            )))
        } else {
            Ok(Tier::Advanced)
        }
    };
    match wanted {
        "Advanced" => advanced(),
        "Intelligent-Tiering" => {
            let standard_full = existing.is_none() && counts.standard >= STANDARD_QUOTA;
            if existing == Some(Tier::Advanced)
                || value_len > STANDARD_MAX_VALUE
                || has_policies
                || standard_full
            {
                advanced()
            } else {
                Ok(Tier::Standard)
            }
        }
        _ => {
            if existing == Some(Tier::Advanced) {
                return Err(SsmError::Validation(
                    "This parameter uses the advanced-parameter tier. You can't downgrade a \
                     parameter from the advanced-parameter tier to the standard-parameter tier. \
                     If necessary, you can delete the advanced parameter and recreate it as a \
                     standard parameter."
                        .to_owned(),
                ));
            }
            if value_len > STANDARD_MAX_VALUE {
                return Err(too_large(STANDARD_MAX_VALUE, "Standard"));
            }
            if has_policies {
                return Err(SsmError::Validation(
                    "Parameter policies are supported for advanced-tier parameters only. Use the \
                     Advanced or Intelligent-Tiering tier to assign policies."
                        .to_owned(),
                ));
            }
            Ok(Tier::Standard)
        }
    }
}

/// Refuses a parameter that would pass its tier's quota.
fn check_quota(from: Option<Tier>, to: Tier, counts: Counts) -> Result<(), SsmError> {
    if from == Some(to) {
        return Ok(());
    }
    match to {
        Tier::Standard if counts.standard >= STANDARD_QUOTA => {
            Err(SsmError::ParameterLimitExceeded(format!(
                "You have reached the maximum number of standard parameters for this AWS account \
                 and Region ({STANDARD_QUOTA}). To add more parameters, either delete existing \
                 parameters or upgrade to the advanced-parameter tier (charges apply)."
            )))
        }
        Tier::Advanced if counts.advanced >= ADVANCED_QUOTA => {
            Err(SsmError::ParameterLimitExceeded(format!(
                "You have reached the maximum number of advanced parameters for this AWS account \
                 and Region ({ADVANCED_QUOTA}). To add more parameters, delete existing \
                 parameters."
            )))
        }
        _ => Ok(()),
    }
}
