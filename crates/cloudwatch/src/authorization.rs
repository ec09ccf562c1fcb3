//! What the authorize step needs, as AWS authorizes CloudWatch: the metric operations name
//! no resource (`*`), and PutMetricData supplies `cloudwatch:namespace`, the namespace the
//! request writes to; the alarm operations name the alarm's ARN
//! (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`) with its tags as
//! `aws:ResourceTag/*`, and PutMetricAlarm supplies `cloudwatch:AlarmActions` and the
//! request's tags.

use rampart_service::{AwsError, Env, Resource, Value};
use rampart_store::{ReadTx, StoreError};

use crate::alarms::{alarm_arn, caller_alarm};
use crate::error::CloudWatchError;

/// PutMetricData: `cloudwatch:namespace`.
pub(crate) fn namespace_key(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    input
        .get("Namespace")
        .and_then(Value::as_str)
        .map(|namespace| {
            vec![(
                "cloudwatch:namespace".to_owned(),
                vec![namespace.to_owned()],
            )]
        })
        .unwrap_or_default()
}

fn string<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

fn strings<'a>(input: &'a Value, member: &str) -> impl Iterator<Item = &'a str> {
    input
        .get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn store(e: StoreError) -> AwsError {
    AwsError::from(CloudWatchError::Store(e))
}

/// The caller's alarm `name` as a resource, with its tags when it exists.
fn alarm_resource(env: &Env<'_>, tx: &mut dyn ReadTx, name: &str) -> Result<Resource, AwsError> {
    let resource = Resource::named(alarm_arn(env.region, &env.caller.account_id, name));
    Ok(match caller_alarm(env, tx, name).map_err(store)? {
        Some(alarm) => resource.with_tags(alarm.tags.into_iter().map(|t| (t.key, t.value))),
        None => resource,
    })
}

/// Every alarm of the caller's in the region: `…:alarm:*`.
fn every_alarm(env: &Env<'_>) -> Resource {
    Resource::named(alarm_arn(env.region, &env.caller.account_id, "*"))
}

/// PutMetricAlarm, SetAlarmState, DescribeAlarmHistory: the alarm in `AlarmName` (every
/// alarm when none is named).
pub(crate) fn on_alarm(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    match string(input, "AlarmName") {
        Some(name) => Ok(vec![alarm_resource(env, tx, name)?]),
        None => Ok(vec![every_alarm(env)]),
    }
}

/// DescribeAlarms, DeleteAlarms, Enable/DisableAlarmActions: each alarm in `AlarmNames`
/// (every alarm when none is named).
pub(crate) fn on_alarms(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let mut out = Vec::new();
    for name in strings(input, "AlarmNames") {
        out.push(alarm_resource(env, tx, name)?);
    }
    if out.is_empty() {
        out.push(every_alarm(env));
    }
    Ok(out)
}

/// The tagging operations: the resource in `ResourceARN`, with its tags when it is one of the
/// caller's alarms; a value that is no CloudWatch ARN names no resource (`*`: the reference's
/// resource types are optional here), and the handler refuses it.
pub(crate) fn on_resource_arn(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let arn = string(input, "ResourceARN").unwrap_or_default();
    if !arn.starts_with("arn:aws:cloudwatch:") {
        return Ok(vec![Resource::any()]);
    }
    let own = alarm_arn(env.region, &env.caller.account_id, "");
    match arn.strip_prefix(own.as_str()) {
        Some(name) => Ok(vec![alarm_resource(env, tx, name)?]),
        None => Ok(vec![Resource::named(arn)]),
    }
}

/// `aws:RequestTag/*` and `aws:TagKeys` from a `Tags` list of `{Key, Value}`.
fn request_tags(input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    let mut names = Vec::new();
    for tag in input
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(key) = string(tag, "Key") else {
            continue;
        };
        keys.push((
            format!("aws:RequestTag/{key}"),
            vec![string(tag, "Value").unwrap_or_default().to_owned()],
        ));
        names.push(key.to_owned());
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), names));
    }
    keys
}

/// PutMetricAlarm: `cloudwatch:AlarmActions` (every action ARN of every state) and the
/// request's tags.
pub(crate) fn put_metric_alarm_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let actions: Vec<String> = ["AlarmActions", "OKActions", "InsufficientDataActions"]
        .iter()
        .flat_map(|member| strings(input, member))
        .map(str::to_owned)
        .collect();
    let mut keys = request_tags(input);
    if !actions.is_empty() {
        keys.push(("cloudwatch:AlarmActions".to_owned(), actions));
    }
    keys
}

/// TagResource: the request's tags.
pub(crate) fn tag_resource_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    request_tags(input)
}

/// UntagResource: the keys in `TagKeys`.
pub(crate) fn untag_resource_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = strings(input, "TagKeys").map(str::to_owned).collect();
    if names.is_empty() {
        return Vec::new();
    }
    vec![("aws:TagKeys".to_owned(), names)]
}
