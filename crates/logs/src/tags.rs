//! Tags on log groups: TagResource, UntagResource, ListTagsForResource (by ARN), and the
//! older TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name), which AWS still serves.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::names;
use crate::records::{self, GroupRecord};

/// The most tags a log group carries.
const MAX_TAGS: usize = 50;

/// Refuses tags AWS refuses: more than 50, or keys under the reserved `aws:` prefix.
pub(crate) fn check(tags: &BTreeMap<String, String>) -> Result<(), LogsError> {
    if tags.len() > MAX_TAGS {
        return Err(LogsError::invalid(format!(
            "A resource can have at most {MAX_TAGS} tags."
        )));
    }
    if tags.keys().any(|k| k.to_lowercase().starts_with("aws:")) {
        return Err(LogsError::invalid(
            "Tag keys starting with 'aws:' are reserved for AWS use.",
        ));
    }
    Ok(())
}

/// The group a tagging ARN names: only log groups of the caller's account and region carry
/// tags here (AWS's other taggable Logs resources are not served).
fn group_of_arn(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<GroupRecord, LogsError> {
    let own = names::group_arn(env.region, &env.caller.account_id, "");
    let name = arn
        .strip_prefix(own.as_str())
        .filter(|n| !n.is_empty() && !n.contains(':'))
        .ok_or_else(|| {
            if arn.starts_with("arn:aws:logs:") {
                LogsError::no_group()
            } else {
                LogsError::invalid(format!("Invalid resourceArn: {arn}"))
            }
        })?;
    records::existing_group(env, tx, name)
}

fn add(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    mut record: GroupRecord,
    tags: BTreeMap<String, String>,
) -> Result<(), LogsError> {
    record.tags.extend(tags);
    check(&record.tags)?;
    records::put_group(env, tx, &record)?;
    Ok(())
}

fn remove(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    mut record: GroupRecord,
    keys: &[String],
) -> Result<(), LogsError> {
    for key in keys {
        record.tags.remove(key);
    }
    records::put_group(env, tx, &record)?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagResourceInput {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

pub(crate) fn tag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let record = group_of_arn(env, tx, &input.resource_arn)?;
    add(env, tx, record, input.tags)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(crate) fn untag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let record = group_of_arn(env, tx, &input.resource_arn)?;
    remove(env, tx, record, &input.tag_keys)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceArnInput {
    resource_arn: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TagsOutput {
    tags: BTreeMap<String, String>,
}

pub(crate) fn list_tags_for_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ResourceArnInput,
) -> Result<TagsOutput, LogsError> {
    let record = group_of_arn(env, tx, &input.resource_arn)?;
    Ok(TagsOutput { tags: record.tags })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagLogGroupInput {
    log_group_name: String,
    tags: BTreeMap<String, String>,
}

pub(crate) fn tag_log_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagLogGroupInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let record = records::existing_group(env, tx, &input.log_group_name)?;
    add(env, tx, record, input.tags)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagLogGroupInput {
    log_group_name: String,
    tags: Vec<String>,
}

pub(crate) fn untag_log_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagLogGroupInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let record = records::existing_group(env, tx, &input.log_group_name)?;
    remove(env, tx, record, &input.tags)?;
    Ok(serde_json::Map::new())
}

pub(crate) fn list_tags_log_group(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: crate::groups::GroupNameInput,
) -> Result<TagsOutput, LogsError> {
    let record = records::existing_group(env, tx, &input.log_group_name)?;
    Ok(TagsOutput { tags: record.tags })
}
