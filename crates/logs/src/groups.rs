//! Log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy and
//! DeleteRetentionPolicy.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::names;
use crate::records::{self, EVENTS, GROUPS, GroupRecord, METRIC_FILTERS, STREAMS};
use crate::tags;

/// The retention periods AWS accepts, in days.
pub(crate) const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// DescribeLogGroups' page: 50 unless asked for fewer.
const PAGE: PageSize = PageSize::new(50, 50);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogGroupInput {
    log_group_name: String,
    kms_key_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    log_group_class: Option<String>,
}

pub(crate) fn create_log_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateLogGroupInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    if input.kms_key_id.is_some() {
        return Err(LogsError::NotImplemented(
            "Rampart does not encrypt log groups with a KMS key yet: create the group without kmsKeyId".to_owned(),
        ));
    }
    if input
        .log_group_class
        .as_deref()
        .is_some_and(|class| class != "STANDARD")
    {
        return Err(LogsError::NotImplemented(
            "Rampart serves the STANDARD log class only".to_owned(),
        ));
    }
    let tags = input.tags.unwrap_or_default();
    tags::check(&tags)?;
    if records::group(env, tx, &input.log_group_name)?.is_some() {
        return Err(LogsError::ResourceAlreadyExists(
            "The specified log group already exists".to_owned(),
        ));
    }
    let record = GroupRecord {
        name: input.log_group_name,
        created: records::now_ms(env),
        retention_days: None,
        tags,
        metric_filters: 0,
        stored_bytes: 0,
        retention_sweep: None,
    };
    records::put_group(env, tx, &record)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupNameInput {
    pub(crate) log_group_name: String,
}

/// Removes the group and everything under it: streams, events, metric filters.
pub(crate) fn delete_log_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GroupNameInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let mut group = records::existing_group(env, tx, &input.log_group_name)?;
    crate::retention::cancel(tx, &mut group)?;
    let under = names::under_group(env, &input.log_group_name);
    for ns in [EVENTS, records::EVENTS_DESC, STREAMS, METRIC_FILTERS] {
        records::delete_all(tx, ns, &under)?;
    }
    tx.delete(GROUPS, &names::group_key(env, &input.log_group_name))?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroupsInput {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// A group as DescribeLogGroups shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogGroup {
    log_group_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<i32>,
    metric_filter_count: usize,
    /// The group's ARN as AWS writes it here: with a trailing `:*`.
    arn: String,
    log_group_arn: String,
    stored_bytes: u64,
    log_group_class: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroupsOutput {
    log_groups: Vec<LogGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn describe_log_groups(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeLogGroupsInput,
) -> Result<DescribeLogGroupsOutput, LogsError> {
    if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
        return Err(LogsError::invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let prefix = format!(
        "{}{}",
        names::groups_prefix(env),
        input.log_group_name_prefix.as_deref().unwrap_or_default()
    );
    // AWS's pattern is a case-insensitive substring of the name.
    let pattern = input.log_group_name_pattern.map(|p| p.to_lowercase());
    let page = paging::scan_page(
        tx,
        GROUPS,
        &prefix,
        input.next_token.as_deref(),
        PAGE.of(input.limit),
        |_, key, bytes| -> Result<Option<LogGroup>, LogsError> {
            let record: GroupRecord = records::decode(GROUPS, key, bytes)?;
            if let Some(pattern) = &pattern
                && !record.name.to_lowercase().contains(pattern.as_str())
            {
                return Ok(None);
            }
            Ok(Some(shown(env, record)))
        },
    )?;
    Ok(DescribeLogGroupsOutput {
        log_groups: page.items,
        next_token: page.next,
    })
}

fn shown(env: &Env<'_>, record: GroupRecord) -> LogGroup {
    let arn = names::group_arn(env.region, &env.caller.account_id, &record.name);
    LogGroup {
        creation_time: record.created,
        retention_in_days: record.retention_days,
        metric_filter_count: record.metric_filters,
        arn: format!("{arn}:*"),
        log_group_arn: arn,
        stored_bytes: record.stored_bytes,
        log_group_class: "STANDARD",
        log_group_name: record.name,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutRetentionPolicyInput {
    log_group_name: String,
    retention_in_days: i32,
}

pub(crate) fn put_retention_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutRetentionPolicyInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    if !RETENTION_DAYS.contains(&input.retention_in_days) {
        let allowed: Vec<String> = RETENTION_DAYS.iter().map(i32::to_string).collect();
        return Err(LogsError::invalid(format!(
            "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            input.retention_in_days,
            allowed.join(", ")
        )));
    }
    let mut record = records::existing_group(env, tx, &input.log_group_name)?;
    record.retention_days = Some(input.retention_in_days);
    // The first sweep runs at once: what is past the new retention goes now.
    crate::retention::schedule(env, tx, &mut record, env.now)?;
    records::put_group(env, tx, &record)?;
    Ok(serde_json::Map::new())
}

pub(crate) fn delete_retention_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GroupNameInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let mut record = records::existing_group(env, tx, &input.log_group_name)?;
    record.retention_days = None;
    crate::retention::cancel(tx, &mut record)?;
    records::put_group(env, tx, &record)?;
    Ok(serde_json::Map::new())
}
