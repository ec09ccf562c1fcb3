//! Topic policies: the default policy AWS writes, checking and binding a policy a caller
//! sets, and AddPermission and RemovePermission, which edit the policy by statement label.

use rampart_policy::{Policy, PolicyKind};
use rampart_service::{Env, PrincipalIds, principal_ids};
use rampart_store::{ReadTx, WriteTx};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::SnsError;
use crate::names::{self, TopicName};
use crate::records;

/// The actions AWS's default topic policy grants the owner account's principals.
const DEFAULT_ACTIONS: &[&str] = &[
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
];

/// The actions AddPermission may grant: SNS's topic actions.
const GRANTABLE: &[&str] = &[
    "AddPermission",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetTopicAttributes",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "Publish",
    "PutDataProtectionPolicy",
    "Receive",
    "RemovePermission",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "UntagResource",
];

/// The policy AWS writes on a new topic: any principal, as long as the call's
/// `AWS:SourceOwner` is the topic's account.
pub(crate) fn default_policy(topic: &TopicName) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": DEFAULT_ACTIONS,
            "Resource": topic.arn(),
            "Condition": {"StringEquals": {"AWS:SourceOwner": topic.account}},
        }],
    })
    .to_string()
}

/// Refuses a topic policy that is no valid resource policy.
pub(crate) fn check_policy(document: &str) -> Result<(), SnsError> {
    Policy::parse_as(document, PolicyKind::Resource)
        .map(|_| ())
        .map_err(|e| {
            SnsError::invalid(format!(
                "Invalid parameter: Policy Error: {}",
                e.aws_message()
            ))
        })
}

/// Binds the users and roles `document` names to their unique IDs, as AWS does when it saves
/// a resource policy.
pub(crate) fn bind(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    document: &str,
) -> Result<PrincipalIds, SnsError> {
    principal_ids::bind(env.directory, tx, document).map_err(|e| match e {
        principal_ids::BindError::InvalidPrincipal(p) => SnsError::invalid(format!(
            "Invalid parameter: Policy Error: PrincipalNotFound: {p}"
        )),
        principal_ids::BindError::Store(e) => e.into(),
    })
}

fn statements(policy: &mut Value) -> Result<&mut Vec<Value>, SnsError> {
    let object = policy
        .as_object_mut()
        .ok_or_else(|| SnsError::invalid("Invalid parameter: Policy Error: not an object"))?;
    let statement = object.entry("Statement").or_insert_with(|| json!([]));
    if !statement.is_array() {
        *statement = json!([statement.take()]);
    }
    statement
        .as_array_mut()
        .ok_or_else(|| SnsError::invalid("Invalid parameter: Policy Error: Statement"))
}

/// `[x]` as `x`, as AWS writes a one-element principal or action list.
fn one_or_many(values: Vec<String>) -> Value {
    match values.as_slice() {
        [one] => json!(one),
        _ => json!(values),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddPermissionInput {
    topic_arn: String,
    label: String,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: Vec<String>,
    action_name: Vec<String>,
}

pub(crate) fn add_permission(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AddPermissionInput,
) -> Result<serde_json::Map<String, Value>, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    if input.label.is_empty()
        || input.label.len() > 100
        || !input
            .label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(SnsError::invalid("Invalid parameter: Label"));
    }
    if input.aws_account_id.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: AWSAccountId"));
    }
    if input.action_name.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: ActionName"));
    }
    let mut principals = Vec::new();
    for account in &input.aws_account_id {
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            principals.push(format!("arn:aws:iam::{account}:root"));
        } else if account.starts_with("arn:aws:iam::") {
            principals.push(account.clone());
        } else {
            return Err(SnsError::invalid("Invalid parameter: AWSAccountId"));
        }
    }
    let mut actions = Vec::new();
    for action in &input.action_name {
        if !GRANTABLE.contains(&action.as_str()) {
            return Err(SnsError::invalid(
                "Invalid parameter: Policy statement action out of service scope!",
            ));
        }
        actions.push(format!("SNS:{action}"));
    }
    let mut record = records::existing_topic(tx, &topic)?;
    let mut policy: Value = serde_json::from_str(&record.policy)
        .map_err(|_| SnsError::invalid("Invalid parameter: Policy Error: not JSON"))?;
    let list = statements(&mut policy)?;
    if list
        .iter()
        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(input.label.as_str()))
    {
        return Err(SnsError::invalid(
            "Invalid parameter: Statement already exists",
        ));
    }
    list.push(json!({
        "Sid": input.label,
        "Effect": "Allow",
        "Principal": {"AWS": one_or_many(principals)},
        "Action": one_or_many(actions),
        "Resource": record.arn(),
    }));
    let document = policy.to_string();
    check_policy(&document)?;
    record.policy_principal_ids = bind(env, tx, &document)?;
    record.policy = document;
    records::put_topic(tx, &record)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RemovePermissionInput {
    topic_arn: String,
    label: String,
}

/// Removes the statement labelled `Label`; a label the policy lacks changes nothing.
pub(crate) fn remove_permission(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RemovePermissionInput,
) -> Result<serde_json::Map<String, Value>, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    let mut record = records::existing_topic(tx, &topic)?;
    let mut policy: Value = serde_json::from_str(&record.policy)
        .map_err(|_| SnsError::invalid("Invalid parameter: Policy Error: not JSON"))?;
    let list = statements(&mut policy)?;
    let before = list.len();
    list.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(input.label.as_str()));
    if list.len() != before {
        let document = policy.to_string();
        record.policy_principal_ids = bind(env, tx, &document)?;
        record.policy = document;
        records::put_topic(tx, &record)?;
    }
    Ok(serde_json::Map::new())
}
