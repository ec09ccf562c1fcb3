//! Parameter Store's service settings: GetServiceSetting, UpdateServiceSetting,
//! ResetServiceSetting, for the two settings Parameter Store has:
//!
//! - `/ssm/parameter-store/default-parameter-tier`: the tier PutParameter uses when the request
//!   names none for a new parameter (`Standard`, `Advanced` or `Intelligent-Tiering`; default
//!   `Standard`);
//! - `/ssm/parameter-store/high-throughput-enabled`: the throughput quota (`true` or `false`;
//!   default `false`). Rampart does not throttle Parameter Store, so the setting is recorded and
//!   reported only.
//!
//! Other Systems Manager settings (Session Manager, OpsCenter, …) are not Rampart's.

use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::SsmError;

const SETTINGS: &str = "ssm/settings";
/// The default tier's setting.
pub(crate) const DEFAULT_TIER: &str = "/ssm/parameter-store/default-parameter-tier";
/// The throughput setting.
const HIGH_THROUGHPUT: &str = "/ssm/parameter-store/high-throughput-enabled";

/// A setting's ID as a request gives it (its path or its ARN), and its ARN.
pub(crate) fn setting_arn(env: &Env<'_>, given: &str) -> String {
    if given.starts_with("arn:") {
        return given.to_owned();
    }
    format!(
        "arn:aws:ssm:{}:{}:servicesetting{}",
        env.region, env.caller.account_id, given
    )
}

/// The setting's path, from its path or its ARN in the caller's account and region.
fn setting_id(env: &Env<'_>, given: &str) -> Result<&'static str, SsmError> {
    let own = format!(
        "arn:aws:ssm:{}:{}:servicesetting",
        env.region, env.caller.account_id
    );
    let path = given.strip_prefix(own.as_str()).unwrap_or(given);
    match path {
        DEFAULT_TIER => Ok(DEFAULT_TIER),
        HIGH_THROUGHPUT => Ok(HIGH_THROUGHPUT),
        _ => Err(SsmError::ServiceSettingNotFound(format!(
            "The specified service setting wasn't found. Either the service name or the setting \
             hasn't been provisioned by the AWS service team. Try again. (Rampart has Parameter \
             Store's settings {DEFAULT_TIER} and {HIGH_THROUGHPUT}; {path} is not one.)"
        ))),
    }
}

fn default_value(id: &str) -> &'static str {
    if id == DEFAULT_TIER {
        "Standard"
    } else {
        "false"
    }
}

fn allowed(id: &str) -> &'static [&'static str] {
    if id == DEFAULT_TIER {
        &["Standard", "Advanced", "Intelligent-Tiering"]
    } else {
        &["true", "false"]
    }
}

/// A setting once changed (or reset).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SettingRecord {
    value: String,
    /// Whether it holds a value of the account's (not the default, after a reset).
    customized: bool,
    #[serde(with = "time::serde::rfc3339")]
    modified: OffsetDateTime,
    user: String,
}

fn doc_key(env: &Env<'_>, id: &str) -> String {
    format!("{}:{}:{id}", env.caller.account_id, env.region)
}

/// The value of setting `id` in `env`'s account and region.
pub(crate) fn value(tx: &mut dyn ReadTx, env: &Env<'_>, id: &str) -> Result<String, SsmError> {
    let record: Option<SettingRecord> = get_json(tx, SETTINGS, &doc_key(env, id))?;
    Ok(record.map_or_else(|| default_value(id).to_owned(), |r| r.value))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetServiceSettingInput {
    setting_id: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateServiceSettingInput {
    setting_id: String,
    setting_value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceSetting {
    setting_id: String,
    setting_value: String,
    last_modified_date: String,
    last_modified_user: String,
    #[serde(rename = "ARN")]
    arn: String,
    status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceSettingOutput {
    service_setting: ServiceSetting,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

fn shown(
    tx: &mut dyn ReadTx,
    env: &Env<'_>,
    id: &'static str,
) -> Result<ServiceSettingOutput, SsmError> {
    let record: Option<SettingRecord> = get_json(tx, SETTINGS, &doc_key(env, id))?;
    let (value, modified, user, status) = match record {
        Some(r) => {
            let status = if r.customized {
                "Customized"
            } else {
                "Default"
            };
            (r.value, r.modified, r.user, status)
        }
        // Never changed: AWS names the account's root as having set the default.
        None => (
            default_value(id).to_owned(),
            OffsetDateTime::UNIX_EPOCH,
            format!("arn:aws:iam::{}:root", env.caller.account_id),
            "Default",
        ),
    };
    Ok(ServiceSettingOutput {
        service_setting: ServiceSetting {
            setting_id: id.to_owned(),
            setting_value: value,
            last_modified_date: aws_timestamp(modified),
            last_modified_user: user,
            arn: setting_arn(env, id),
            status,
        },
    })
}

/// GetServiceSetting.
pub(crate) fn get_service_setting(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetServiceSettingInput,
) -> Result<ServiceSettingOutput, SsmError> {
    let id = setting_id(env, &input.setting_id)?;
    shown(tx, env, id)
}

/// UpdateServiceSetting.
pub(crate) fn update_service_setting(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateServiceSettingInput,
) -> Result<Empty, SsmError> {
    let id = setting_id(env, &input.setting_id)?;
    if !allowed(id).contains(&input.setting_value.as_str()) {
        return Err(SsmError::Validation(format!(
            "The value {} is not valid for the setting {id}: it must be one of {}.",
            input.setting_value,
            allowed(id).join(", ")
        )));
    }
    put_json(
        tx,
        SETTINGS,
        &doc_key(env, id),
        &SettingRecord {
            value: input.setting_value,
            customized: true,
            modified: env.now,
            user: env.caller.arn.clone(),
        },
    )?;
    Ok(Empty {})
}

/// ResetServiceSetting: back to the default, which it answers.
pub(crate) fn reset_service_setting(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GetServiceSettingInput,
) -> Result<ServiceSettingOutput, SsmError> {
    let id = setting_id(env, &input.setting_id)?;
    put_json(
        tx,
        SETTINGS,
        &doc_key(env, id),
        &SettingRecord {
            value: default_value(id).to_owned(),
            customized: false,
            modified: env.now,
            user: env.caller.arn.clone(),
        },
    )?;
    shown(tx, env, id)
}
