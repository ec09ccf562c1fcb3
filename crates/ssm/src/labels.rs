//! LabelParameterVersion and UnlabelParameterVersion, as AWS documents labels ("Working with
//! parameter labels"): a label is on one version of a parameter at a time (labelling another
//! version moves it), a version carries at most ten, and a label that begins with a digit,
//! `aws` or `ssm` (in any case), or holds anything but letters, digits, `.`, `-` and `_`, is
//! not attached but answered as invalid. `name:label` selectors read them.

use rampart_service::Env;
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::names;
use crate::records::{self, ParameterRecord};

/// The most labels one version may carry.
const MAX_LABELS: usize = 10;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelParameterVersionInput {
    name: String,
    parameter_version: Option<i64>,
    labels: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelParameterVersionOutput {
    invalid_labels: Vec<String>,
    parameter_version: i64,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UnlabelParameterVersionInput {
    name: String,
    parameter_version: i64,
    labels: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UnlabelParameterVersionOutput {
    removed_labels: Vec<String>,
    invalid_labels: Vec<String>,
}

/// Whether `label` may be attached.
fn valid(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.chars().count() <= 100
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn parameter(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    given: &str,
) -> Result<(String, ParameterRecord), SsmError> {
    let (name, _) = names::lookup(env, given, false).ok_or(SsmError::ParameterNotFound)?;
    let record = records::load(tx, env, &name.key)?.ok_or(SsmError::ParameterNotFound)?;
    Ok((records::parameter_key(env, &name.key), record))
}

fn check_version(record: &ParameterRecord, version: i64) -> Result<(), SsmError> {
    if version < record.oldest_version || version > record.current.version {
        return Err(SsmError::ParameterVersionNotFound(format!(
            "Systems Manager could not find version {version} of {}. Verify the version and try again.",
            record.name
        )));
    }
    Ok(())
}

/// LabelParameterVersion: the latest version unless another is named.
pub(crate) fn label_parameter_version(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: LabelParameterVersionInput,
) -> Result<LabelParameterVersionOutput, SsmError> {
    let (doc_key, mut record) = parameter(env, tx, &input.name)?;
    let version = input.parameter_version.unwrap_or(record.current.version);
    check_version(&record, version)?;
    let (attach, invalid_labels): (Vec<String>, Vec<String>) =
        input.labels.into_iter().partition(|l| valid(l));
    let mut carried = record.labels_of(version);
    for label in &attach {
        if !carried.contains(label) {
            carried.push(label.clone());
        }
    }
    if carried.len() > MAX_LABELS {
        return Err(SsmError::ParameterVersionLabelLimitExceeded(
            "A parameter version can have maximum 10 labels.Move one or more labels to another \
             version and try again."
                .to_owned(),
        ));
    }
    for label in attach {
        record.labels.insert(label, version);
    }
    records::save(tx, &doc_key, &record)?;
    Ok(LabelParameterVersionOutput {
        invalid_labels,
        parameter_version: version,
    })
}

/// UnlabelParameterVersion: labels the version does not carry are answered as invalid.
pub(crate) fn unlabel_parameter_version(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UnlabelParameterVersionInput,
) -> Result<UnlabelParameterVersionOutput, SsmError> {
    let (doc_key, mut record) = parameter(env, tx, &input.name)?;
    let version = input.parameter_version;
    check_version(&record, version)?;
    let mut removed_labels = Vec::new();
    let mut invalid_labels = Vec::new();
    for label in input.labels {
        if record.labels.get(&label) == Some(&version) {
            record.labels.remove(&label);
            removed_labels.push(label);
        } else if !invalid_labels.contains(&label) && !removed_labels.contains(&label) {
            invalid_labels.push(label);
        }
    }
    records::save(tx, &doc_key, &record)?;
    Ok(UnlabelParameterVersionOutput {
        removed_labels,
        invalid_labels,
    })
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn labels_follow_awss_rules() {
        assert!(valid("prod"));
        assert!(valid("Release_1.2-rc"));
        assert!(!valid("1st"));
        assert!(!valid("awsProd"));
        assert!(!valid("SSM-x"));
        assert!(!valid("has space"));
        assert!(!valid("slash/y"));
        assert!(!valid(&"x".repeat(101)));
    }
}
