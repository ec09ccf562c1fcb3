//! GetParametersByPath: the parameters directly under a path (or at every level below it,
//! `Recursive`), in name order, at most 10 a page, filtered by `Type`, `KeyId` or `Label`.
//! A `Label` filter answers the version that carries the label.
//!
//! Authorized on the path alone (authorization.rs). SecureString values are decrypted, when
//! asked, for the page's parameters only, each by its own KMS `Decrypt`.

use rampart_service::Env;
use rampart_service::paging::{PageSize, scan_page};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::filters::{self, Filter, ParameterStringFilter, Use};
use crate::get::{Parameter, answer, selected};
use crate::names::{self, Selector};
use crate::records::{self, ParameterRecord};

/// GetParametersByPath's page size: 10 unless asked for fewer.
const PAGE: PageSize = PageSize::new(10, 10);

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersByPathInput {
    path: String,
    recursive: Option<bool>,
    parameter_filters: Option<Vec<ParameterStringFilter>>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersByPathOutput {
    parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// GetParametersByPath.
pub(crate) fn get_parameters_by_path(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetParametersByPathInput,
) -> Result<GetParametersByPathOutput, SsmError> {
    let path = names::path(&input.path)?;
    let recursive = input.recursive.unwrap_or(false);
    let filters = filters::parse(
        input.parameter_filters.as_deref().unwrap_or_default(),
        Use::ByPath,
    )?;
    let scope = records::scope_prefix(env);
    let prefix = format!("{scope}{}", names::scan_prefix(&path));
    let page = scan_page(
        tx,
        records::PARAMETERS,
        &prefix,
        input.next_token.as_deref(),
        PAGE.of(input.max_results),
        |_, doc_key: &str, bytes: &[u8]| -> Result<Option<(String, ParameterRecord)>, SsmError> {
            let key = doc_key.get(scope.len()..).unwrap_or_default();
            // One level: skip deeper keys before reading their documents.
            if !names::under(key, &path, recursive) {
                return Ok(None);
            }
            let record: ParameterRecord = serde_json::from_slice(bytes).map_err(|e| {
                SsmError::Store(rampart_store::StoreError::Malformed {
                    ns: records::PARAMETERS.to_owned(),
                    key: doc_key.to_owned(),
                    reason: e.to_string(),
                })
            })?;
            Ok(filters
                .iter()
                .all(|f| f.matches(key, &record))
                .then(|| (doc_key.to_owned(), record)))
        },
    )?;
    let decrypt = input.with_decryption.unwrap_or(false);
    let label = filters.iter().find_map(Filter::labels);
    let mut parameters = Vec::with_capacity(page.items.len());
    for (doc_key, record) in page.items {
        let arn = records::arn_of_doc(&doc_key).unwrap_or_default();
        let selector = label.and_then(|labels| {
            labels
                .iter()
                .find(|l| record.labels.contains_key(*l))
                .map(|l| Selector::Label(l.clone()))
        });
        let parameter = match &selector {
            None => answer(env, tx, &record, &record.current, arn, None, decrypt)?,
            Some(selector) => {
                let version = selected(tx, &doc_key, &record, Some(selector))?
                    .unwrap_or_else(|| record.current.clone());
                answer(env, tx, &record, &version, arn, Some(selector), decrypt)?
            }
        };
        parameters.push(parameter);
    }
    Ok(GetParametersByPathOutput {
        parameters,
        next_token: page.next,
    })
}
