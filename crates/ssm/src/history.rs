//! GetParameterHistory: every kept version of a parameter, oldest first, at most 50 a page,
//! with the labels each carries; SecureString values decrypted when asked, each by its own
//! KMS `Decrypt`.

use rampart_service::{Env, aws_timestamp};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::describe::{ParameterInlinePolicy, shown_policies};
use crate::error::SsmError;
use crate::get::shown_value;
use crate::names;
use crate::records;

/// At most 50 versions a page, 50 unless asked for fewer.
const MAX_RESULTS: i64 = 50;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParameterHistoryInput {
    name: String,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParameterHistory {
    name: String,
    #[serde(rename = "Type")]
    parameter_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    last_modified_date: String,
    last_modified_user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    version: i64,
    labels: Vec<String>,
    tier: &'static str,
    policies: Vec<ParameterInlinePolicy>,
    data_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParameterHistoryOutput {
    parameters: Vec<ParameterHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn invalid_token() -> SsmError {
    SsmError::InvalidNextToken("The specified token isn't valid.".to_owned())
}

/// GetParameterHistory. The token is the last version returned.
pub(crate) fn get_parameter_history(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetParameterHistoryInput,
) -> Result<GetParameterHistoryOutput, SsmError> {
    let (name, _) = names::lookup(env, &input.name, false).ok_or(SsmError::ParameterNotFound)?;
    let doc_key = records::parameter_key(env, &name.key);
    let record = records::load(tx, env, &name.key)?.ok_or(SsmError::ParameterNotFound)?;
    let after = match input.next_token.as_deref() {
        None => None,
        Some(token) => Some(token.parse::<i64>().map_err(|_| invalid_token())?),
    };
    let size = input
        .max_results
        .unwrap_or(MAX_RESULTS)
        .clamp(1, MAX_RESULTS);
    let size = usize::try_from(size).unwrap_or(1);
    // One more than the page says whether another page follows.
    let mut versions = records::versions(tx, &doc_key, after, size.saturating_add(1))?;
    let next_token = (versions.len() > size).then(|| {
        versions.truncate(size);
        versions.last().map(|v| v.version.to_string())
    });
    let decrypt = input.with_decryption.unwrap_or(false);
    let arn = name.arn(env);
    let mut parameters = Vec::with_capacity(versions.len());
    for version in versions {
        let policies = if version.version == record.current.version {
            &record.current.policies
        } else {
            &version.policies
        };
        parameters.push(ParameterHistory {
            value: shown_value(env, tx, &arn, &version, decrypt)?,
            name: record.name.clone(),
            parameter_type: version.parameter_type.as_str(),
            labels: record.labels_of(version.version),
            tier: version.tier.as_str(),
            policies: shown_policies(policies),
            last_modified_date: aws_timestamp(version.last_modified),
            key_id: version.key_id,
            last_modified_user: version.last_modified_user,
            description: version.description,
            allowed_pattern: version.allowed_pattern,
            version: version.version,
            data_type: version.data_type,
        });
    }
    Ok(GetParameterHistoryOutput {
        parameters,
        next_token: next_token.flatten(),
    })
}
