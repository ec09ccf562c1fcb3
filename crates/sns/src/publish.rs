//! Publish and PublishBatch: a message checked as AWS checks it (256 KiB with its attributes,
//! a subject of at most 100 printable ASCII characters, `MessageStructure` `json` with its
//! `default` entry, message attributes by data type), then one signed delivery per confirmed
//! subscription whose filter policy it passes, committed with the call's event.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SnsSettings;
use crate::delivery::{self, DeliveryRecord};
use crate::error::SnsError;
use crate::filter_policy;
use crate::messages::{self, Attribute, Links, Published};
use crate::names::{self, TopicName};
use crate::records::{self, TopicRecord};
use crate::signing::{self, SigningKey};
use crate::subscriptions::{self, Status};

/// The largest message, attributes included: 256 KiB.
const MAX_MESSAGE_BYTES: usize = 262_144;
/// The most characters a subject has.
const MAX_SUBJECT: usize = 100;
/// The most entries a batch has.
const MAX_BATCH: usize = 10;
/// The most message attributes a message carries.
const MAX_ATTRIBUTES: usize = 10;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MessageAttributeValue {
    data_type: String,
    string_value: Option<String>,
    binary_value: Option<String>,
}

/// Checks message attributes and answers them as a Notification carries them.
fn attributes(
    given: Option<BTreeMap<String, MessageAttributeValue>>,
) -> Result<(BTreeMap<String, Attribute>, usize), SnsError> {
    let given = given.unwrap_or_default();
    let bad = |reason: String| SnsError::InvalidParameterValue(reason);
    if given.len() > MAX_ATTRIBUTES {
        return Err(bad(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            given.len()
        )));
    }
    let mut out = BTreeMap::new();
    let mut bytes = 0usize;
    for (name, value) in given {
        if name.is_empty()
            || name.len() > 256
            || name.starts_with("AWS.")
            || name.starts_with("Amazon.")
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(bad(format!(
                "The message attribute name '{name}' is invalid."
            )));
        }
        let kind = value.data_type.split('.').next().unwrap_or_default();
        let text = match (kind, &value.string_value, &value.binary_value) {
            ("Binary", _, Some(binary)) => binary.clone(),
            ("String" | "Number", Some(text), _) => text.clone(),
            _ => {
                return Err(bad(format!(
                    "The message attribute '{name}' with type '{}' must use field '{}'.",
                    value.data_type,
                    if kind == "Binary" { "Binary" } else { "String" }
                )));
            }
        };
        if kind == "Number" && text.trim().parse::<f64>().is_err() {
            return Err(bad(format!(
                "Could not cast message attribute '{name}' value to number."
            )));
        }
        if value.data_type == "String.Array"
            && !serde_json::from_str::<Value>(&text).is_ok_and(|v| v.is_array())
        {
            return Err(bad(format!(
                "The message attribute '{name}' with type 'String.Array' must be a JSON array."
            )));
        }
        bytes = bytes
            .saturating_add(name.len())
            .saturating_add(value.data_type.len())
            .saturating_add(text.len());
        out.insert(
            name,
            Attribute {
                data_type: value.data_type,
                value: text,
            },
        );
    }
    Ok((out, bytes))
}

/// A message as one Publish (or one batch entry) gives it.
struct Message {
    text: String,
    subject: Option<String>,
    /// Per protocol, for `MessageStructure` `json`.
    per_protocol: Option<BTreeMap<String, String>>,
    attributes: BTreeMap<String, Attribute>,
}

impl Message {
    fn for_protocol(&self, protocol: &str) -> &str {
        self.per_protocol
            .as_ref()
            .and_then(|m| m.get(protocol).or_else(|| m.get("default")))
            .map_or(self.text.as_str(), String::as_str)
    }
}

/// Parses a `MessageStructure` `json` body: an object of strings with a `default` entry.
pub fn parse_structure(text: &str) -> Result<BTreeMap<String, String>, SnsError> {
    let failed = || {
        SnsError::invalid(
            "Invalid parameter: Message Structure - JSON message body failed to parse",
        )
    };
    let value: Value = serde_json::from_str(text).map_err(|_| failed())?;
    let object = value.as_object().ok_or_else(failed)?;
    let mut out = BTreeMap::new();
    for (protocol, message) in object {
        let message = message.as_str().ok_or_else(failed)?;
        out.insert(protocol.clone(), message.to_owned());
    }
    if !out.contains_key("default") {
        return Err(SnsError::invalid(
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        ));
    }
    Ok(out)
}

fn check_message(
    text: String,
    subject: Option<String>,
    structure: Option<String>,
    given_attributes: Option<BTreeMap<String, MessageAttributeValue>>,
) -> Result<Message, SnsError> {
    if text.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    if let Some(subject) = &subject {
        let printable = subject
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control());
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT || !printable {
            return Err(SnsError::invalid("Invalid parameter: Subject"));
        }
    }
    let (attributes, attribute_bytes) = attributes(given_attributes)?;
    if text.len().saturating_add(attribute_bytes) > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    let per_protocol = match structure.as_deref() {
        None => None,
        Some("json") => Some(parse_structure(&text)?),
        Some(_) => {
            return Err(SnsError::invalid(
                "Invalid parameter: MessageStructure Reason: must be json",
            ));
        }
    };
    Ok(Message {
        text,
        subject,
        per_protocol,
        attributes,
    })
}

/// Queues `message` for every confirmed subscription of `topic` it passes the filter of, and
/// answers its message ID.
fn fan_out(
    settings: &SnsSettings,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    topic: &TopicRecord,
    key: &SigningKey,
    message: &Message,
) -> Result<String, SnsError> {
    let message_id = crate::subscriptions::new_id(env);
    let topic_arn = topic.arn();
    let links = Links {
        base_url: &settings.public_url,
        key,
        signature_version: topic.signature_version.as_deref().unwrap_or("1"),
    };
    for subscription in subscriptions::of_topic(tx, &topic.topic())? {
        if subscription.status != Status::Confirmed {
            continue;
        }
        if let Some(policy) = &subscription.filter_policy
            && !filter_policy::parse(policy)?.matches(&message.attributes)
        {
            continue;
        }
        let text = message.for_protocol(&subscription.protocol);
        let published = Published {
            message_id: &message_id,
            topic_arn: &topic_arn,
            subject: message.subject.as_deref(),
            message: text,
            at: env.now,
            attributes: &message.attributes,
        };
        let subscription_arn = subscription.arn();
        let raw = subscription.raw_message_delivery && subscription.protocol != "email";
        let body = match subscription.protocol.as_str() {
            // Email carries the text alone, as AWS's email messages do.
            "email" => text.to_owned(),
            _ if raw => text.to_owned(),
            _ => serde_json::to_string_pretty(&messages::notification(
                &links,
                &published,
                &subscription_arn,
            )?)
            .unwrap_or_default(),
        };
        let delivery = DeliveryRecord {
            id: format!("{message_id}-{}", subscription.id),
            protocol: subscription.protocol.clone(),
            endpoint: subscription.endpoint.clone(),
            headers: messages::headers(
                "Notification",
                &message_id,
                &topic_arn,
                Some(&subscription_arn),
                raw,
            ),
            body,
            subject: message.subject.clone(),
            attempts: 0,
            retry: subscriptions::retry_policy(topic, &subscription),
        };
        delivery::enqueue(env, tx, &topic.account, &topic.region, &delivery)?;
    }
    Ok(message_id)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublishInput {
    topic_arn: Option<String>,
    target_arn: Option<String>,
    phone_number: Option<String>,
    message: String,
    subject: Option<String>,
    message_structure: Option<String>,
    message_attributes: Option<BTreeMap<String, MessageAttributeValue>>,
    message_deduplication_id: Option<String>,
    message_group_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublishOutput {
    message_id: String,
}

/// The topic a Publish addresses (`TopicArn`, or `TargetArn` naming a topic).
fn target(input: &PublishInput) -> Result<TopicName, SnsError> {
    if input.phone_number.is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: PhoneNumber Reason: Rampart does not deliver SMS",
        ));
    }
    match (&input.topic_arn, &input.target_arn) {
        (Some(arn), None) | (None, Some(arn)) => names::topic_of(arn),
        (Some(_), Some(_)) => Err(SnsError::invalid(
            "Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn and TargetArn may be given",
        )),
        (None, None) => Err(SnsError::invalid(
            "Invalid parameter: TopicArn or TargetArn Reason: Neither TopicArn nor TargetArn were given",
        )),
    }
}

pub(crate) fn publish(
    settings: &SnsSettings,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PublishInput,
) -> Result<PublishOutput, SnsError> {
    let topic = target(&input)?;
    if input.message_group_id.is_some() || input.message_deduplication_id.is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
        ));
    }
    let message = check_message(
        input.message,
        input.subject,
        input.message_structure,
        input.message_attributes,
    )?;
    let record = records::existing_topic(tx, &topic)?;
    let key = signing::signing_key(env, tx)?;
    let message_id = fan_out(settings, env, tx, &record, &key, &message)?;
    Ok(PublishOutput { message_id })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublishBatchEntry {
    id: String,
    message: String,
    subject: Option<String>,
    message_structure: Option<String>,
    message_attributes: Option<BTreeMap<String, MessageAttributeValue>>,
    message_deduplication_id: Option<String>,
    message_group_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublishBatchInput {
    topic_arn: String,
    publish_batch_request_entries: Vec<PublishBatchEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchSuccess {
    id: String,
    message_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchFailure {
    id: String,
    code: String,
    message: String,
    sender_fault: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublishBatchOutput {
    successful: Vec<BatchSuccess>,
    failed: Vec<BatchFailure>,
}

pub(crate) fn publish_batch(
    settings: &SnsSettings,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PublishBatchInput,
) -> Result<PublishBatchOutput, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    let entries = input.publish_batch_request_entries;
    if entries.is_empty() {
        return Err(SnsError::Batch(
            "EmptyBatchRequest",
            "The batch request doesn't contain any entries.".to_owned(),
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(SnsError::Batch(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible.".to_owned(),
        ));
    }
    for (i, entry) in entries.iter().enumerate() {
        let valid = !entry.id.is_empty()
            && entry.id.len() <= 80
            && entry
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SnsError::Batch(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.".to_owned(),
            ));
        }
        if entries.iter().skip(i + 1).any(|other| other.id == entry.id) {
            return Err(SnsError::Batch(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.".to_owned(),
            ));
        }
    }
    let total: usize = entries.iter().map(|e| e.message.len()).sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(SnsError::Batch(
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit.".to_owned(),
        ));
    }
    let record = records::existing_topic(tx, &topic)?;
    let key = signing::signing_key(env, tx)?;
    let mut output = PublishBatchOutput {
        successful: Vec::new(),
        failed: Vec::new(),
    };
    for entry in entries {
        let checked = if entry.message_group_id.is_some()
            || entry.message_deduplication_id.is_some()
        {
            Err(SnsError::invalid(
                "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
            ))
        } else {
            check_message(
                entry.message,
                entry.subject,
                entry.message_structure,
                entry.message_attributes,
            )
        };
        match checked.and_then(|message| fan_out(settings, env, tx, &record, &key, &message)) {
            Ok(message_id) => output.successful.push(BatchSuccess {
                id: entry.id,
                message_id,
            }),
            Err(SnsError::Store(e)) => return Err(SnsError::Store(e)),
            Err(e) => {
                let error = rampart_service::AwsError::from(e);
                output.failed.push(BatchFailure {
                    id: entry.id,
                    code: error.code.to_string(),
                    message: error.message.to_string(),
                    sender_fault: true,
                });
            }
        }
    }
    Ok(output)
}

/// Parses an untrusted `MessageStructure` `json` body, for the fuzz target: never panics.
pub fn fuzz_message_structure(text: &str) {
    let _ = parse_structure(text);
}
