//! What the authorize step needs for each operation, as AWS authorizes CloudWatch Logs: the
//! log group's ARN (`arn:aws:logs:<region>:<account>:log-group:<name>`) or the stream's
//! (`…:log-group:<group>:log-stream:<stream>`), with the group's tags as `aws:ResourceTag/*`
//! (a stream is authorized with its group's tags: streams carry none of their own), and the
//! request's tags as `aws:RequestTag/*` and `aws:TagKeys` where the reference lists them.

use rampart_service::{AwsError, Env, Resource, Value};
use rampart_store::ReadTx;

use crate::error::LogsError;
use crate::names;
use crate::records;

fn string<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// The group a request names, as an ARN: `logGroupName`, or `logGroupIdentifier` (a name or
/// an ARN, taken as given so that another account's group is authorized as that account's).
fn group_arn_of(env: &Env<'_>, input: &Value) -> (String, Option<String>) {
    let own = |name: &str| names::group_arn(env.region, &env.caller.account_id, name);
    match (
        string(input, "logGroupName"),
        string(input, "logGroupIdentifier"),
    ) {
        (Some(name), _) => (own(name), Some(name.to_owned())),
        (None, Some(identifier)) if identifier.starts_with("arn:") => {
            let arn = identifier.strip_suffix(":*").unwrap_or(identifier);
            let name = names::group_named(env, None, Some(identifier)).ok();
            (arn.to_owned(), name)
        }
        (None, Some(name)) => (own(name), Some(name.to_owned())),
        (None, None) => (own(""), None),
    }
}

/// `resource` with the tags of the caller's group `name`, when it exists.
fn with_group_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    resource: Resource,
    name: Option<&str>,
) -> Result<Resource, AwsError> {
    let Some(name) = name else {
        return Ok(resource);
    };
    let group = records::group(env, tx, name).map_err(|e| AwsError::from(LogsError::Store(e)))?;
    Ok(match group {
        Some(group) => resource.with_tags(group.tags),
        None => resource,
    })
}

/// An operation on the log group the input names.
pub(crate) fn on_group(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let (arn, name) = group_arn_of(env, input);
    Ok(vec![with_group_tags(
        env,
        tx,
        Resource::named(arn),
        name.as_deref(),
    )?])
}

/// An operation on the log stream the input names.
pub(crate) fn on_stream(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let (arn, name) = group_arn_of(env, input);
    let stream = string(input, "logStreamName").unwrap_or_default();
    let resource = Resource::named(format!("{arn}:log-stream:{stream}"));
    Ok(vec![with_group_tags(env, tx, resource, name.as_deref())?])
}

/// An operation on the resource in `resourceArn` (only log groups are served). A value that is
/// no CloudWatch Logs ARN names no resource (`*`, which the reference allows here: the
/// resource types are optional); the handler refuses it as AWS does.
pub(crate) fn on_resource_arn(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let arn = string(input, "resourceArn").unwrap_or_default();
    if !arn.starts_with("arn:aws:logs:") {
        return Ok(vec![Resource::any()]);
    }
    let own = names::group_arn(env.region, &env.caller.account_id, "");
    let name = arn.strip_prefix(own.as_str()).filter(|n| !n.contains(':'));
    Ok(vec![with_group_tags(env, tx, Resource::named(arn), name)?])
}

/// DescribeMetricFilters: its group, or every group of the caller's when it names none.
pub(crate) fn describe_metric_filters(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    if string(input, "logGroupName").is_some() {
        return on_group(env, tx, input);
    }
    Ok(vec![Resource::named(names::group_arn(
        env.region,
        &env.caller.account_id,
        "*",
    ))])
}

/// `aws:RequestTag/*` and `aws:TagKeys` from a `tags` map.
pub(crate) fn request_tags(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    let mut names = Vec::new();
    for (key, value) in input
        .get("tags")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        keys.push((
            format!("aws:RequestTag/{key}"),
            vec![value.as_str().unwrap_or_default().to_owned()],
        ));
        names.push(key.clone());
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), names));
    }
    keys
}

fn tag_keys(input: &Value, member: &str) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = input
        .get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    vec![("aws:TagKeys".to_owned(), names)]
}

/// UntagResource: the keys in `tagKeys`.
pub(crate) fn untag_resource_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    tag_keys(input, "tagKeys")
}

/// UntagLogGroup: the keys in `tags`.
pub(crate) fn untag_log_group_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    tag_keys(input, "tags")
}
