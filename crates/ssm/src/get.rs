//! GetParameter and GetParameters: a parameter's latest version, or the version a
//! `name:version` or `name:label` selector picks; SecureString values decrypted by KMS on the
//! caller's behalf when `WithDecryption` asks (`kms:Decrypt` on the key, authorized by the
//! spine), otherwise answered as their ciphertext.
//!
//! GetParameter for a String parameter reads one document and copies its value once.

use rampart_service::{Env, aws_timestamp};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::encryption;
use crate::error::SsmError;
use crate::names::{self, Selector};
use crate::records::{self, ParameterRecord, ParameterType, StoredValue, VersionRecord};

/// A parameter as GetParameter answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Parameter {
    pub(crate) name: String,
    #[serde(rename = "Type")]
    pub(crate) parameter_type: &'static str,
    pub(crate) value: String,
    pub(crate) version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) selector: Option<String>,
    pub(crate) last_modified_date: String,
    #[serde(rename = "ARN")]
    pub(crate) arn: String,
    pub(crate) data_type: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParameterInput {
    name: String,
    with_decryption: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParameterOutput {
    parameter: Parameter,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersInput {
    names: Vec<String>,
    with_decryption: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersOutput {
    parameters: Vec<Parameter>,
    invalid_parameters: Vec<String>,
}

/// The value a version is answered with: decrypted when asked, else as kept.
pub(crate) fn shown_value(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    arn: &str,
    version: &VersionRecord,
    decrypt: bool,
) -> Result<String, SsmError> {
    match (&version.value, version.parameter_type) {
        (StoredValue::Plain { value }, _) => Ok(value.clone()),
        (stored, ParameterType::SecureString) if decrypt => encryption::open(env, tx, arn, stored),
        (stored, _) => Ok(encryption::shown_encrypted(stored)),
    }
}

/// `version` of `record` as GetParameter answers it.
pub(crate) fn answer(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    record: &ParameterRecord,
    version: &VersionRecord,
    arn: String,
    selector: Option<&Selector>,
    decrypt: bool,
) -> Result<Parameter, SsmError> {
    Ok(Parameter {
        value: shown_value(env, tx, &arn, version, decrypt)?,
        name: record.name.clone(),
        parameter_type: version.parameter_type.as_str(),
        version: version.version,
        selector: selector.map(Selector::shown),
        last_modified_date: aws_timestamp(version.last_modified),
        arn,
        data_type: version.data_type.clone(),
    })
}

/// The version of `record` (kept under `doc_key`) that `selector` picks.
pub(crate) fn selected(
    tx: &mut dyn ReadTx,
    doc_key: &str,
    record: &ParameterRecord,
    selector: Option<&Selector>,
) -> Result<Option<VersionRecord>, SsmError> {
    let version = match selector {
        None => return Ok(Some(record.current.clone())),
        Some(Selector::Version(v)) => *v,
        Some(Selector::Label(label)) => match record.labels.get(label) {
            Some(v) => *v,
            None => return Ok(None),
        },
    };
    if version == record.current.version {
        return Ok(Some(record.current.clone()));
    }
    if version < record.oldest_version || version > record.current.version {
        return Err(SsmError::ParameterVersionNotFound(format!(
            "Systems Manager could not find version {version} of {}. Verify the version and try again.",
            record.name
        )));
    }
    Ok(records::load_version(tx, doc_key, version)?)
}

/// One name of a GetParameter(s) request, answered.
fn get_one(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    given: &str,
    decrypt: bool,
) -> Result<Parameter, SsmError> {
    let (name, selector) = names::lookup(env, given, true).ok_or(SsmError::ParameterNotFound)?;
    let doc_key = records::parameter_key(env, &name.key);
    let record: ParameterRecord = rampart_store::get_json(tx, records::PARAMETERS, &doc_key)?
        .ok_or(SsmError::ParameterNotFound)?;
    let arn = name.arn(env);
    match selector {
        // The common case, without copying the version.
        None => answer(env, tx, &record, &record.current, arn, None, decrypt),
        Some(selector) => {
            let version = selected(tx, &doc_key, &record, Some(&selector))?
                .ok_or(SsmError::ParameterNotFound)?;
            answer(env, tx, &record, &version, arn, Some(&selector), decrypt)
        }
    }
}

/// GetParameter.
pub(crate) fn get_parameter(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetParameterInput,
) -> Result<GetParameterOutput, SsmError> {
    let decrypt = input.with_decryption.unwrap_or(false);
    Ok(GetParameterOutput {
        parameter: get_one(env, tx, &input.name, decrypt)?,
    })
}

/// GetParameters: the names found, and the others as invalid (a version that is not there
/// included); a name given twice is answered once.
pub(crate) fn get_parameters(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetParametersInput,
) -> Result<GetParametersOutput, SsmError> {
    let decrypt = input.with_decryption.unwrap_or(false);
    let mut parameters = Vec::new();
    let mut invalid_parameters = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for given in &input.names {
        if seen.contains(&given.as_str()) {
            continue;
        }
        seen.push(given);
        match get_one(env, tx, given, decrypt) {
            Ok(parameter) => parameters.push(parameter),
            Err(SsmError::ParameterNotFound | SsmError::ParameterVersionNotFound(_)) => {
                invalid_parameters.push(given.clone());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(GetParametersOutput {
        parameters,
        invalid_parameters,
    })
}
