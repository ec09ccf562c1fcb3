//! Topics: CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes and SetTopicAttributes.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::SnsError;
use crate::names::{self, TopicName};
use crate::permissions;
use crate::records::{self, TOPICS, TopicRecord, TopicTag};
use crate::subscriptions;
use crate::tags;

/// ListTopics answers 100 topics a page, as AWS does (the caller cannot choose).
const PAGE: PageSize = PageSize::new(100, 100);

/// The most characters a display name has (AWS: "up to 100 characters").
const MAX_DISPLAY_NAME: usize = 100;

/// AWS's default delivery policy for HTTP/S endpoints, as GetTopicAttributes shows it in
/// `EffectiveDeliveryPolicy` for a topic that sets none.
pub(crate) const DEFAULT_EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

/// The topic attributes a caller may set, as AWS names them.
const SETTABLE: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
];

/// Attributes AWS knows that Rampart does not serve, each with the reason given.
const UNSERVED: &[(&str, &str)] = &[
    ("FifoTopic", "Rampart does not serve FIFO topics"),
    (
        "ContentBasedDeduplication",
        "Rampart does not serve FIFO topics",
    ),
    ("FifoThroughputScope", "Rampart does not serve FIFO topics"),
    (
        "ArchivePolicy",
        "Rampart does not serve FIFO topics (message archiving)",
    ),
    (
        "DataProtectionPolicy",
        "Rampart does not serve message data protection policies",
    ),
];

/// Refuses an attribute AWS would refuse, or one Rampart does not serve (by name, as an
/// InvalidParameter: AWS has no NotImplemented code for SNS clients to read).
fn check_attribute(name: &str, value: &str) -> Result<(), SnsError> {
    if let Some((_, why)) = UNSERVED.iter().find(|(n, _)| *n == name) {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: {name} Reason: {why}"
        )));
    }
    if !SETTABLE.contains(&name) {
        return Err(SnsError::invalid("Invalid parameter: AttributeName"));
    }
    match name {
        "DisplayName" if value.chars().count() > MAX_DISPLAY_NAME => Err(SnsError::invalid(
            "Invalid parameter: DisplayName Reason: DisplayName must be at most 100 characters",
        )),
        "SignatureVersion" if value != "1" && value != "2" => Err(SnsError::invalid(format!(
            "Invalid parameter: Attributes Reason: SignatureVersion: Invalid value [{value}]. Valid values: 1, 2"
        ))),
        "TracingConfig" if value != "PassThrough" && value != "Active" => {
            Err(SnsError::invalid(format!(
                "Invalid parameter: Attributes Reason: TracingConfig: Invalid value [{value}]. Valid values: PassThrough, Active"
            )))
        }
        "DeliveryPolicy" => crate::delivery_policy::check(value),
        "Policy" => permissions::check_policy(value),
        _ => Ok(()),
    }
}

/// Sets one checked attribute on `record` (an empty value unsets the optional ones).
fn apply(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    record: &mut TopicRecord,
    name: &str,
    value: String,
) -> Result<(), SnsError> {
    let optional = (!value.is_empty()).then_some(value.clone());
    match name {
        "DisplayName" => record.display_name = value,
        "Policy" => {
            record.policy_principal_ids = permissions::bind(env, tx, &value)?;
            record.policy = value;
        }
        "DeliveryPolicy" => record.delivery_policy = optional,
        "KmsMasterKeyId" => record.kms_master_key_id = optional,
        "SignatureVersion" => record.signature_version = optional,
        "TracingConfig" => record.tracing_config = optional,
        _ => return Err(SnsError::invalid("Invalid parameter: AttributeName")),
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateTopicInput {
    name: String,
    attributes: Option<BTreeMap<String, String>>,
    tags: Option<Vec<TopicTag>>,
    data_protection_policy: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TopicArnOutput {
    topic_arn: String,
}

/// Whether `record` already has every attribute `given` sets (the idempotence AWS applies).
fn same_attributes(record: &TopicRecord, given: &BTreeMap<String, String>) -> bool {
    given.iter().all(|(name, value)| {
        let current = match name.as_str() {
            "DisplayName" => Some(record.display_name.clone()),
            "Policy" => Some(record.policy.clone()),
            "DeliveryPolicy" => record.delivery_policy.clone(),
            "KmsMasterKeyId" => record.kms_master_key_id.clone(),
            "SignatureVersion" => record.signature_version.clone(),
            "TracingConfig" => record.tracing_config.clone(),
            _ => None,
        };
        current.as_deref().unwrap_or_default() == value.as_str()
    })
}

pub(crate) fn create_topic(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateTopicInput,
) -> Result<TopicArnOutput, SnsError> {
    let attributes = input.attributes.unwrap_or_default();
    let fifo_asked = attributes
        .get("FifoTopic")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if fifo_asked || names::fifo_name(&input.name) {
        return Err(SnsError::invalid(
            "Invalid parameter: FifoTopic Reason: Rampart does not serve FIFO topics",
        ));
    }
    if !names::valid_name(&input.name) {
        return Err(SnsError::invalid("Invalid parameter: Topic Name"));
    }
    if input.data_protection_policy.is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: DataProtectionPolicy Reason: Rampart does not serve message data protection policies",
        ));
    }
    for (name, value) in &attributes {
        // "false" is what AWS's standard topics have: accepted, nothing to keep.
        if name == "FifoTopic" && value.eq_ignore_ascii_case("false") {
            continue;
        }
        check_attribute(name, value)?;
    }
    let given_tags = input.tags.unwrap_or_default();
    tags::check_new(&given_tags)?;
    let topic = TopicName {
        region: env.region.to_owned(),
        account: env.caller.account_id.clone(),
        name: input.name,
    };
    let mut settable = attributes;
    settable.remove("FifoTopic");
    if let Some(existing) = records::topic(tx, &topic)? {
        if !same_attributes(&existing, &settable) {
            return Err(SnsError::invalid(
                "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
            ));
        }
        if !given_tags.is_empty() && !tags::same(&existing.tags, &given_tags) {
            return Err(SnsError::invalid(
                "Invalid parameter: Tags Reason: Topic already exists with different tags",
            ));
        }
        return Ok(TopicArnOutput {
            topic_arn: existing.arn(),
        });
    }
    let mut record = TopicRecord {
        policy: permissions::default_policy(&topic),
        name: topic.name.clone(),
        account: topic.account.clone(),
        region: topic.region.clone(),
        display_name: String::new(),
        policy_principal_ids: Default::default(),
        delivery_policy: None,
        kms_master_key_id: None,
        signature_version: None,
        tracing_config: None,
        tags: given_tags,
        created: env.now.unix_timestamp(),
    };
    for (name, value) in settable {
        apply(env, tx, &mut record, &name, value)?;
    }
    records::put_topic(tx, &record)?;
    Ok(TopicArnOutput {
        topic_arn: record.arn(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TopicArnInput {
    pub(crate) topic_arn: String,
}

/// Removes the topic and its subscriptions. AWS answers success for a topic that does not
/// exist ("Deleting a topic that doesn't exist does not result in an error").
pub(crate) fn delete_topic(
    _env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TopicArnInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    if records::topic(tx, &topic)?.is_some() {
        subscriptions::delete_all_of(tx, &topic)?;
        tx.delete(TOPICS, &topic.key())?;
    }
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTopicsInput {
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Topic {
    topic_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTopicsOutput {
    topics: Vec<Topic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The caller's topics in the request's region, 100 a page.
pub(crate) fn list_topics(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTopicsInput,
) -> Result<ListTopicsOutput, SnsError> {
    let prefix = names::topics_prefix(&env.caller.account_id, env.region);
    let page = paging::scan_page(
        tx,
        TOPICS,
        &prefix,
        input.next_token.as_deref(),
        PAGE.of(None),
        |_, key, bytes| -> Result<Option<Topic>, SnsError> {
            let record: TopicRecord = records::decode(TOPICS, key, bytes)?;
            Ok(Some(Topic {
                topic_arn: record.arn(),
            }))
        },
    )?;
    Ok(ListTopicsOutput {
        topics: page.items,
        next_token: page.next,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributesOutput {
    attributes: BTreeMap<String, String>,
}

/// The topic's attributes, with the ones AWS computes: its owner, its subscriptions by state,
/// the delivery policy in effect.
pub(crate) fn get_topic_attributes(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: TopicArnInput,
) -> Result<AttributesOutput, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    let record = records::existing_topic(tx, &topic)?;
    let counts = subscriptions::counts(tx, &topic, env.now)?;
    let mut attributes = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        attributes.insert(name.to_owned(), value);
    };
    set("TopicArn", record.arn());
    set("Owner", record.account.clone());
    set("Policy", record.policy.clone());
    set("DisplayName", record.display_name.clone());
    set("SubscriptionsConfirmed", counts.confirmed.to_string());
    set("SubscriptionsPending", counts.pending.to_string());
    set("SubscriptionsDeleted", counts.deleted.to_string());
    set(
        "EffectiveDeliveryPolicy",
        crate::delivery_policy::effective(record.delivery_policy.as_deref()),
    );
    for (name, value) in [
        ("DeliveryPolicy", &record.delivery_policy),
        ("KmsMasterKeyId", &record.kms_master_key_id),
        ("SignatureVersion", &record.signature_version),
        ("TracingConfig", &record.tracing_config),
    ] {
        if let Some(value) = value {
            set(name, value.clone());
        }
    }
    Ok(AttributesOutput { attributes })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetTopicAttributesInput {
    topic_arn: String,
    attribute_name: String,
    attribute_value: Option<String>,
}

pub(crate) fn set_topic_attributes(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SetTopicAttributesInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    let value = input.attribute_value.unwrap_or_default();
    check_attribute(&input.attribute_name, &value)?;
    let mut record = records::existing_topic(tx, &topic)?;
    apply(env, tx, &mut record, &input.attribute_name, value)?;
    records::put_topic(tx, &record)?;
    Ok(serde_json::Map::new())
}
