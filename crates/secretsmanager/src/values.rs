//! Secret values: GetSecretValue, BatchGetSecretValue, PutSecretValue, and the versions'
//! listing and labels (ListSecretVersionIds, UpdateSecretVersionStage).
//!
//! Reading a value decrypts it through KMS on the caller's behalf (`kms:Decrypt` on the
//! secret's key, authorized by the spine with the key policy); the value is copied into the
//! answer only, never logged.

use data_encoding::BASE64;
use rampart_service::paging::{PageSize, page_by_index};
use rampart_service::{AwsError, CallPrincipal, Env, ServiceCall, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::encryption;
use crate::error::SecretsError;
use crate::listing::{self, Filter};
use crate::names;
use crate::records::{self, CURRENT, SecretRecord, VersionRecord};
use crate::versions::{self, GivenValue};

/// A version's value as GetSecretValue answers it. (No `Debug`: it holds the value.)
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SecretValue {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_binary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_string: Option<String>,
    version_stages: Vec<String>,
    created_date: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetSecretValueInput {
    secret_id: String,
    version_id: Option<String>,
    version_stage: Option<String>,
}

/// The version of `record` a request's `VersionId` and `VersionStage` pick (`AWSCURRENT` when
/// neither is given).
pub(crate) fn pick<'r>(
    record: &'r SecretRecord,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<&'r VersionRecord, SecretsError> {
    let stage_missing = |stage: &str| {
        SecretsError::ResourceNotFound(format!(
            "Secrets Manager can't find the specified secret value for staging label: {stage}"
        ))
    };
    match (version_id, stage) {
        (Some(id), stage) => {
            let version = record
                .version(id)
                .ok_or_else(|| versions::version_not_found(id))?;
            match stage {
                Some(stage) if !version.stages.iter().any(|s| s == stage) => {
                    Err(SecretsError::InvalidRequest(format!(
                        "You provided a VersionStage that is not associated to the provided \
                         VersionId: {stage}"
                    )))
                }
                _ => Ok(version),
            }
        }
        (None, stage) => {
            let stage = stage.unwrap_or(CURRENT);
            record.staged(stage).ok_or_else(|| stage_missing(stage))
        }
    }
}

/// `version` of `record`, decrypted.
fn read_value(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    record: &SecretRecord,
    version: &VersionRecord,
) -> Result<SecretValue, SecretsError> {
    let stored = records::load_value(tx, record, &version.id)?
        .ok_or_else(|| versions::version_not_found(&version.id))?;
    let plain = encryption::open(env, tx, record, &version.id, &stored)?;
    let (secret_string, secret_binary) = if stored.binary {
        (None, Some(BASE64.encode(&plain)))
    } else {
        let text = String::from_utf8(plain.to_vec()).map_err(|_| {
            SecretsError::DecryptionFailure("The stored secret value is not text.".to_owned())
        })?;
        (Some(text), None)
    };
    Ok(SecretValue {
        arn: record.arn.clone(),
        name: record.name.clone(),
        version_id: version.id.clone(),
        secret_binary,
        secret_string,
        version_stages: version.stages.clone(),
        created_date: aws_timestamp(version.created),
    })
}

/// GetSecretValue.
pub(crate) fn get_secret_value(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetSecretValueInput,
) -> Result<SecretValue, SecretsError> {
    let record = names::live(env, tx, &input.secret_id)?;
    let version = pick(
        &record,
        input.version_id.as_deref(),
        input.version_stage.as_deref(),
    )?
    .clone();
    read_value(env, tx, &record, &version)
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchGetSecretValueInput {
    secret_id_list: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ApiError {
    secret_id: String,
    error_code: String,
    message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchGetSecretValueOutput {
    secret_values: Vec<SecretValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    errors: Vec<ApiError>,
}

/// The secrets a BatchGetSecretValue request reads, as given or as its filters find them.
fn batch_ids(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    ids: Option<Vec<String>>,
    filters: Option<&[Filter]>,
) -> Result<Vec<String>, SecretsError> {
    match (ids, filters) {
        (Some(_), Some(_)) => Err(SecretsError::InvalidParameter(
            "Either 'SecretIdList' or 'Filters' must be provided, but not both.".to_owned(),
        )),
        (Some(ids), None) => Ok(ids),
        (None, Some(filters)) => Ok(listing::matching(env, tx, filters, false)?
            .into_iter()
            .map(|r| r.arn)
            .collect()),
        (None, None) => Err(SecretsError::InvalidParameter(
            "Either 'SecretIdList' or 'Filters' must be provided.".to_owned(),
        )),
    }
}

/// BatchGetSecretValue: each secret's current value, and an entry in `Errors` for each the
/// caller cannot read. Each secret is read by GetSecretValue, called through the spine as the
/// caller itself, as AWS does it: the spine authorizes `secretsmanager:GetSecretValue` on that
/// secret (identity and resource policies, SCPs, RCPs) and `kms:Decrypt` on its key, and
/// records a GetSecretValue event for it; a refusal or failure is that secret's alone.
pub(crate) fn batch_get_secret_value(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: BatchGetSecretValueInput,
) -> Result<BatchGetSecretValueOutput, SecretsError> {
    if input.secret_id_list.is_some() && input.max_results.is_some() {
        return Err(SecretsError::InvalidParameter(
            "MaxResults can be used only with Filters.".to_owned(),
        ));
    }
    let ids = batch_ids(env, tx, input.secret_id_list, input.filters.as_deref())?;
    let size = PageSize::new(20, 20).of(input.max_results);
    let page = page_by_index(ids, input.next_token.as_deref(), size)?;
    let mut secret_values = Vec::new();
    let mut errors = Vec::new();
    for id in page.items {
        let read = env.calls.call(
            tx,
            ServiceCall {
                service: "secretsmanager",
                operation: "GetSecretValue",
                input: json!({ "SecretId": id }),
                principal: CallPrincipal::CallerItself,
            },
        );
        match read {
            Ok(value) => secret_values.push(serde_json::from_value(value).map_err(|e| {
                tracing::error!(error = %e, "GetSecretValue answered what it does not answer");
                SecretsError::Call(AwsError::new(
                    "InternalServiceError",
                    500,
                    "An error occurred on the server side.",
                ))
            })?),
            // The service failing is the whole call's failure, not one secret's.
            Err(error) if error.status >= 500 => return Err(SecretsError::Call(error)),
            Err(error) => errors.push(ApiError {
                secret_id: id,
                error_code: error.code.to_string(),
                message: error.message.to_string(),
            }),
        }
    }
    Ok(BatchGetSecretValueOutput {
        secret_values,
        next_token: page.next,
        errors,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutSecretValueInput {
    secret_id: String,
    client_request_token: Option<String>,
    secret_binary: Option<String>,
    secret_string: Option<String>,
    version_stages: Option<Vec<String>>,
    rotation_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutSecretValueOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    version_id: String,
    version_stages: Vec<String>,
}

/// PutSecretValue.
pub(crate) fn put_secret_value(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutSecretValueInput,
) -> Result<PutSecretValueOutput, SecretsError> {
    // A rotation function passes the event's RotationToken on; AWS checks it for callers
    // with assumed-role credentials. Rampart accepts it without checking it.
    let _rotation_token = input.rotation_token;
    let mut record = names::live(env, tx, &input.secret_id)?;
    let value =
        GivenValue::from_request(input.secret_string, input.secret_binary)?.ok_or_else(|| {
            SecretsError::InvalidRequest(
                "You must provide either SecretString or SecretBinary.".to_owned(),
            )
        })?;
    if let Some(stages) = &input.version_stages
        && stages.is_empty()
    {
        return Err(SecretsError::InvalidParameter(
            "VersionStages must name at least one staging label.".to_owned(),
        ));
    }
    let made = versions::make(
        env,
        tx,
        &mut record,
        input.client_request_token,
        &value,
        input.version_stages,
        &CallPrincipal::OnBehalfOfCaller,
    )?;
    records::save(tx, &record)?;
    Ok(PutSecretValueOutput {
        arn: record.arn,
        name: record.name,
        version_id: made.id,
        version_stages: made.stages,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSecretVersionIdsInput {
    secret_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
    include_deprecated: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VersionEntry {
    version_id: String,
    version_stages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<String>,
    created_date: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kms_key_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSecretVersionIdsOutput {
    versions: Vec<VersionEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
}

/// ListSecretVersionIds: the labelled versions (every version with `IncludeDeprecated`),
/// newest first.
pub(crate) fn list_secret_version_ids(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSecretVersionIdsInput,
) -> Result<ListSecretVersionIdsOutput, SecretsError> {
    let record = names::existing(env, tx, &input.secret_id)?;
    let all = input.include_deprecated.unwrap_or(false);
    let entries: Vec<VersionEntry> = record
        .versions
        .iter()
        .rev()
        .filter(|v| all || !v.stages.is_empty())
        .map(|v| VersionEntry {
            version_id: v.id.clone(),
            version_stages: v.stages.clone(),
            last_accessed_date: v.last_accessed.map(aws_timestamp),
            created_date: aws_timestamp(v.created),
            kms_key_ids: vec![
                v.kms_key_id
                    .clone()
                    .unwrap_or_else(|| encryption::DEFAULT_KEY.to_owned()),
            ],
        })
        .collect();
    let size = PageSize::new(100, 100).of(input.max_results);
    let page = page_by_index(entries, input.next_token.as_deref(), size)?;
    Ok(ListSecretVersionIdsOutput {
        versions: page.items,
        next_token: page.next,
        arn: record.arn,
        name: record.name,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateSecretVersionStageInput {
    secret_id: String,
    version_stage: String,
    remove_from_version_id: Option<String>,
    move_to_version_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SecretNamed {
    #[serde(rename = "ARN")]
    pub(crate) arn: String,
    pub(crate) name: String,
}

/// UpdateSecretVersionStage: moves a label from one version to another (or onto a version, or
/// off one), as AWS does.
pub(crate) fn update_secret_version_stage(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateSecretVersionStageInput,
) -> Result<SecretNamed, SecretsError> {
    let mut record = names::live(env, tx, &input.secret_id)?;
    let stage = input.version_stage.as_str();
    let holder = record.staged(stage).map(|v| v.id.clone());
    for id in [&input.remove_from_version_id, &input.move_to_version_id]
        .into_iter()
        .flatten()
    {
        if record.version(id).is_none() {
            return Err(versions::version_not_found(id));
        }
    }
    match (&holder, &input.remove_from_version_id) {
        (Some(holder), Some(from)) if holder != from => {
            return Err(SecretsError::InvalidParameter(format!(
                "The staging label {stage} is currently attached to version {holder}, but you \
                 have requested its removal from version {from}."
            )));
        }
        (Some(holder), None) if input.move_to_version_id.as_ref() != Some(holder) => {
            return Err(SecretsError::InvalidParameter(format!(
                "The staging label {stage} is currently attached to version {holder}, so you \
                 must explicitly reference that version in RemoveFromVersionId."
            )));
        }
        (None, Some(from)) => {
            return Err(SecretsError::InvalidParameter(format!(
                "The staging label {stage} is not attached to version {from}."
            )));
        }
        _ => {}
    }
    match &input.move_to_version_id {
        Some(to) => versions::attach(&mut record, to, stage)?,
        None if stage == CURRENT => {
            return Err(SecretsError::InvalidParameter(
                "You can't remove the staging label AWSCURRENT from a version without moving it \
                 to another version."
                    .to_owned(),
            ));
        }
        None => versions::detach(&mut record, stage),
    }
    record.last_changed = env.now;
    records::save(tx, &record)?;
    Ok(SecretNamed {
        arn: record.arn,
        name: record.name,
    })
}
