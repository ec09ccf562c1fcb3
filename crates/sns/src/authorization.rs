//! What the authorize step needs for each operation, as AWS authorizes SNS: the topic's ARN
//! (`arn:aws:sns:<region>:<account>:<name>`) with its tags as `aws:ResourceTag/*`, the
//! request's tags as `aws:RequestTag/*` and `aws:TagKeys` where the reference lists them,
//! `sns:Protocol` and `sns:Endpoint` for Subscribe, and the topic's policy as its resource
//! policy.
//!
//! The topic policy is evaluated with the caller's IAM policies as AWS does: within the
//! topic's account either may allow; from another account both must. A topic of another
//! account that does not exist is still decided as that account's (an empty policy), so that
//! identity policies alone never reach across accounts.

use rampart_service::{AuthorizationTarget, AwsError, Env, Resource, ResourcePolicy, Value};
use rampart_store::ReadTx;

use crate::error::SnsError;
use crate::names::{self, TopicName};
use crate::records;

/// The policy a topic of another account that does not exist is decided by.
const EMPTY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn string<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

fn store(e: rampart_store::StoreError) -> AwsError {
    SnsError::Store(e).into()
}

/// The authorization of the operation's action on `topic`, with its policy.
pub(crate) fn topic_target(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    topic: &TopicName,
) -> Result<AuthorizationTarget, AwsError> {
    let found = records::topic(tx, topic).map_err(store)?;
    let mut resource = Resource::named(topic.arn());
    let policy = match &found {
        Some(record) => {
            resource =
                resource.with_tags(record.tags.iter().map(|t| (t.key.clone(), t.value.clone())));
            Some((record.policy.clone(), record.policy_principal_ids.clone()))
        }
        None if topic.account != env.caller.account_id => {
            Some((EMPTY_POLICY.to_owned(), Default::default()))
        }
        None => None,
    };
    Ok(AuthorizationTarget {
        action: None,
        resources: vec![resource],
        resource_policy: policy.map(|(document, principal_ids)| ResourcePolicy {
            document,
            account_id: topic.account.clone(),
            must_allow: false,
            description: "resource-based policy",
            principal_ids,
        }),
        condition_keys: Vec::new(),
        denial: None,
    })
}

/// The topic a member names: a topic ARN, or (for a value that is none) the caller's topic of
/// that text, so that the authorize step still decides on an ARN of the caller's; the handler
/// then refuses the value as AWS does.
fn named_topic(env: &Env<'_>, value: &str) -> TopicName {
    names::parse_topic_arn(value).unwrap_or_else(|| TopicName {
        region: env.region.to_owned(),
        account: env.caller.account_id.clone(),
        name: value.rsplit(':').next().unwrap_or_default().to_owned(),
    })
}

/// An operation on the topic in `TopicArn`.
pub(crate) fn on_topic(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let topic = named_topic(env, string(input, "TopicArn").unwrap_or_default());
    Ok(vec![topic_target(env, tx, &topic)?])
}

/// Publish: on the topic in `TopicArn`, or in `TargetArn`.
pub(crate) fn on_publish(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let given = string(input, "TopicArn")
        .or_else(|| string(input, "TargetArn"))
        .unwrap_or_default();
    Ok(vec![topic_target(env, tx, &named_topic(env, given))?])
}

/// A tagging operation on the topic in `ResourceArn`.
pub(crate) fn on_resource_arn(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let topic = named_topic(env, string(input, "ResourceArn").unwrap_or_default());
    Ok(vec![topic_target(env, tx, &topic)?])
}

/// CreateTopic: on the ARN the topic will have, in the caller's account.
pub(crate) fn create_topic(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let name = string(input, "Name").unwrap_or_default();
    Ok(vec![Resource::named(names::topic_arn(
        env.region,
        &env.caller.account_id,
        name,
    ))])
}

/// `aws:RequestTag/*` and `aws:TagKeys` from a `Tags` list.
pub(crate) fn request_tags(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    let mut names = Vec::new();
    for tag in input
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(key), value) = (string(tag, "Key"), string(tag, "Value")) else {
            continue;
        };
        keys.push((
            format!("aws:RequestTag/{key}"),
            vec![value.unwrap_or_default().to_owned()],
        ));
        names.push(key.to_owned());
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), names));
    }
    keys
}

/// UntagResource: `aws:TagKeys` from `TagKeys`.
pub(crate) fn untag_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = input
        .get("TagKeys")
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

/// Subscribe: `sns:Protocol` and `sns:Endpoint`.
pub(crate) fn subscribe_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    if let Some(protocol) = string(input, "Protocol") {
        keys.push(("sns:Protocol".to_owned(), vec![protocol.to_owned()]));
    }
    if let Some(endpoint) = string(input, "Endpoint") {
        keys.push(("sns:Endpoint".to_owned(), vec![endpoint.to_owned()]));
    }
    keys
}
