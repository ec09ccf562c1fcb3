//! ListSecrets: the account's secrets in the request's Region, filtered as AWS filters them
//! (`name`, `tag-key`, `tag-value`, `primary-region`, `owning-service`: prefix, case-sensitive;
//! `description`: prefix, not case-sensitive; `all`: words of any of these, not
//! case-sensitive; a value beginning with `!` negates), sorted, in pages.

use rampart_service::paging::{PageSize, page_by_index};
use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, get_json};
use serde::{Deserialize, Serialize};

use crate::error::SecretsError;
use crate::records::{SECRETS, SecretRecord};
use crate::secrets::{self, TagEntry};

/// A filter as the API carries it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Filter {
    key: Option<String>,
    values: Option<Vec<String>>,
}

/// Documents read per store scan.
const SCAN_BATCH: usize = 500;

/// Every secret of the caller's account in the request's Region, oldest key first.
fn all_secrets(env: &Env<'_>, tx: &mut dyn ReadTx) -> Result<Vec<SecretRecord>, SecretsError> {
    let prefix = format!("{}:{}:", env.caller.account_id, env.region);
    let mut after: Option<String> = None;
    let mut found = Vec::new();
    loop {
        let batch = tx.scan(SECRETS, &prefix, after.as_deref(), SCAN_BATCH)?;
        let done = batch.len() < SCAN_BATCH;
        for (key, _) in &batch {
            if let Some(record) = get_json::<SecretRecord>(tx, SECRETS, key)? {
                found.push(record);
            }
        }
        after = batch.last().map(|(key, _)| key.clone());
        if done || after.is_none() {
            return Ok(found);
        }
    }
}

/// Whether `text` starts with `prefix`, in case or not.
fn starts(text: &str, prefix: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        text.starts_with(prefix)
    } else {
        text.to_lowercase().starts_with(&prefix.to_lowercase())
    }
}

/// The words of `text` as AWS's free search splits them: runs of letters or digits, cut where
/// lower case turns to upper case and where letters and digits meet.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut last: Option<char> = None;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            last = None;
            continue;
        }
        if let Some(prev) = last {
            let case_turn = prev.is_lowercase() && c.is_uppercase();
            let kind_turn = prev.is_numeric() != c.is_numeric();
            if (case_turn || kind_turn) && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
        last = Some(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether one filter value (negation stripped) matches `record`.
fn matches_value(key: &str, value: &str, record: &SecretRecord) -> Result<bool, SecretsError> {
    Ok(match key {
        "name" => starts(&record.name, value, true),
        "description" => record
            .description
            .as_deref()
            .is_some_and(|d| starts(d, value, false)),
        "tag-key" => record.tags.iter().any(|(k, _)| starts(k, value, true)),
        "tag-value" => record.tags.iter().any(|(_, v)| starts(v, value, true)),
        "primary-region" => starts(&record.region, value, true),
        // Rampart's secrets are owned by no other service.
        "owning-service" => false,
        "all" => {
            let mut haystack = words(&record.name);
            if let Some(d) = &record.description {
                haystack.extend(words(d));
            }
            for (k, v) in &record.tags {
                haystack.extend(words(k));
                haystack.extend(words(v));
            }
            let wanted = words(value);
            !wanted.is_empty()
                && wanted
                    .iter()
                    .all(|w| haystack.iter().any(|h| h.starts_with(w.as_str())))
        }
        other => {
            return Err(SecretsError::InvalidParameter(format!(
                "Invalid filter key: {other}. Valid keys are description, name, tag-key, \
                 tag-value, primary-region, owning-service and all."
            )));
        }
    })
}

/// Whether `record` passes every filter: within one filter, any value (negated values all
/// hold).
fn passes(filters: &[Filter], record: &SecretRecord) -> Result<bool, SecretsError> {
    for filter in filters {
        let key = filter.key.as_deref().unwrap_or("all");
        let values = filter.values.as_deref().unwrap_or_default();
        let (negated, plain): (Vec<&String>, Vec<&String>) =
            values.iter().partition(|v| v.starts_with('!'));
        for value in negated {
            if matches_value(key, value.trim_start_matches('!'), record)? {
                return Ok(false);
            }
        }
        let mut any = plain.is_empty();
        for value in plain {
            any |= matches_value(key, value, record)?;
        }
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The caller's secrets that pass `filters`, with those scheduled for deletion when asked.
pub(crate) fn matching(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    filters: &[Filter],
    include_planned_deletion: bool,
) -> Result<Vec<SecretRecord>, SecretsError> {
    let mut kept = Vec::new();
    for record in all_secrets(env, tx)? {
        if record.deleted.is_some() && !include_planned_deletion {
            continue;
        }
        if passes(filters, &record)? {
            kept.push(record);
        }
    }
    Ok(kept)
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSecretsInput {
    include_planned_deletion: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
    filters: Option<Vec<Filter>>,
    sort_order: Option<String>,
    sort_by: Option<String>,
}

/// A secret as ListSecrets answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SecretListEntry {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    last_changed_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagEntry>,
    secret_versions_to_stages: std::collections::BTreeMap<String, Vec<String>>,
    created_date: String,
    primary_region: String,
    #[serde(flatten)]
    rotation: crate::rotation::RotationShown,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSecretsOutput {
    secret_list: Vec<SecretListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListSecrets.
pub(crate) fn list_secrets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSecretsInput,
) -> Result<ListSecretsOutput, SecretsError> {
    let filters = input.filters.unwrap_or_default();
    let mut found = matching(
        env,
        tx,
        &filters,
        input.include_planned_deletion.unwrap_or(false),
    )?;
    match input.sort_by.as_deref() {
        Some("name") => found.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("last-changed-date") => found.sort_by_key(|r| r.last_changed),
        Some("last-accessed-date") => found.sort_by_key(secrets::last_accessed),
        _ => found.sort_by_key(|r| (r.created, r.name.clone())),
    }
    if input.sort_order.as_deref() == Some("desc") {
        found.reverse();
    }
    let entries = found
        .into_iter()
        .map(|r| SecretListEntry {
            rotation: crate::rotation::shown(&r),
            tags: secrets::tag_entries(&r),
            secret_versions_to_stages: secrets::versions_to_stages(&r),
            last_accessed_date: secrets::last_accessed(&r).map(aws_timestamp),
            arn: r.arn,
            name: r.name,
            description: r.description,
            kms_key_id: r.kms_key_id,
            last_changed_date: aws_timestamp(r.last_changed),
            deleted_date: r.deleted.map(aws_timestamp),
            created_date: aws_timestamp(r.created),
            primary_region: r.region,
        })
        .collect();
    let size = PageSize::new(100, 100).of(input.max_results);
    let page = page_by_index(entries, input.next_token.as_deref(), size)?;
    Ok(ListSecretsOutput {
        secret_list: page.items,
        next_token: page.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_search_splits_words_as_aws_does() {
        assert_eq!(words("credsDatabase#892"), vec!["creds", "database", "892"]);
        assert_eq!(words("My_Secret"), vec!["my", "secret"]);
        assert!(words("--").is_empty());
    }
}
