//! DescribeParameters: every parameter's metadata (never a value), in name order, at most 50 a
//! page, filtered by `ParameterFilters` or the older `Filters` (not both).

use rampart_service::paging::{PageSize, scan_page};
use rampart_service::{Env, aws_timestamp};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::filters::{self, ParameterStringFilter, ParametersFilter, Use};
use crate::records::{self, ParameterRecord, PolicyRecord};

/// DescribeParameters' page size: 10 unless asked for another, at most 50.
const PAGE: PageSize = PageSize::new(10, 50);

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeParametersInput {
    filters: Option<Vec<ParametersFilter>>,
    parameter_filters: Option<Vec<ParameterStringFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
    shared: Option<bool>,
}

/// A parameter policy as DescribeParameters and GetParameterHistory show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParameterInlinePolicy {
    policy_text: String,
    policy_type: String,
    policy_status: String,
}

/// How a parameter's policies are shown.
pub(crate) fn shown_policies(policies: &[PolicyRecord]) -> Vec<ParameterInlinePolicy> {
    policies
        .iter()
        .map(|p| ParameterInlinePolicy {
            policy_text: p.text.clone(),
            policy_type: p.policy_type.clone(),
            policy_status: p.status.clone(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParameterMetadata {
    name: String,
    #[serde(rename = "ARN")]
    arn: String,
    #[serde(rename = "Type")]
    parameter_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    last_modified_date: String,
    last_modified_user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    version: i64,
    tier: &'static str,
    policies: Vec<ParameterInlinePolicy>,
    data_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeParametersOutput {
    parameters: Vec<ParameterMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// DescribeParameters.
pub(crate) fn describe_parameters(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeParametersInput,
) -> Result<DescribeParametersOutput, SsmError> {
    if input.shared == Some(true) {
        return Err(SsmError::NotImplemented(
            "Rampart does not share parameters through AWS RAM: DescribeParameters with Shared \
             is not implemented (see docs/COVERAGE.md)"
                .to_owned(),
        ));
    }
    let filters = match (&input.filters, &input.parameter_filters) {
        (Some(legacy), Some(current)) if !legacy.is_empty() && !current.is_empty() => {
            return Err(SsmError::Validation(
                "You can use either Filters or ParameterFilters in a single request.".to_owned(),
            ));
        }
        (Some(legacy), _) if !legacy.is_empty() => filters::parse_legacy(legacy)?,
        (_, Some(current)) => filters::parse(current, Use::Describe)?,
        _ => Vec::new(),
    };
    let scope = records::scope_prefix(env);
    let page = scan_page(
        tx,
        records::PARAMETERS,
        &scope,
        input.next_token.as_deref(),
        PAGE.of(input.max_results),
        |_, doc_key: &str, bytes: &[u8]| -> Result<Option<ParameterMetadata>, SsmError> {
            let key = doc_key.get(scope.len()..).unwrap_or_default();
            let record: ParameterRecord = serde_json::from_slice(bytes).map_err(|e| {
                SsmError::Store(rampart_store::StoreError::Malformed {
                    ns: records::PARAMETERS.to_owned(),
                    key: doc_key.to_owned(),
                    reason: e.to_string(),
                })
            })?;
            if !filters.iter().all(|f| f.matches(key, &record)) {
                return Ok(None);
            }
            Ok(Some(metadata(doc_key, record)))
        },
    )?;
    Ok(DescribeParametersOutput {
        parameters: page.items,
        next_token: page.next,
    })
}

fn metadata(doc_key: &str, record: ParameterRecord) -> ParameterMetadata {
    let current = record.current;
    ParameterMetadata {
        name: record.name,
        arn: records::arn_of_doc(doc_key).unwrap_or_default(),
        parameter_type: current.parameter_type.as_str(),
        key_id: current.key_id,
        last_modified_date: aws_timestamp(current.last_modified),
        last_modified_user: current.last_modified_user,
        description: current.description,
        allowed_pattern: current.allowed_pattern,
        version: current.version,
        tier: current.tier.as_str(),
        policies: shown_policies(&current.policies),
        data_type: current.data_type,
    }
}
