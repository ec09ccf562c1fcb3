//! Tags on topics: TagResource, UntagResource and ListTagsForResource, and the rules CreateTopic
//! applies to the tags it is given.

use rampart_service::Env;
use rampart_service::tagging::{
    self, DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules, TagTextError,
};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::SnsError;
use crate::names::{self, TopicName};
use crate::records::{self, TopicRecord, TopicTag};

/// SNS's tag rules: 50 tags a topic, keys compared exactly, `aws:` reserved.
const RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::ExactCase,
    duplicate_keys: DuplicateKeys::LastWins,
};

impl From<TagError> for SnsError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::TooMany { .. } => SnsError::TagLimitExceeded(
                "Could not complete request: tag quota of per resource exceeded".to_owned(),
            ),
            TagError::ReservedKey { .. } => SnsError::invalid(
                "Invalid parameter: Tags Reason: Tag keys must not start with 'aws:'",
            ),
            TagError::DuplicateKey { key } => SnsError::invalid(format!(
                "Invalid parameter: Tags Reason: Duplicate tag key {key}"
            )),
        }
    }
}

impl From<TagTextError> for SnsError {
    fn from(e: TagTextError) -> Self {
        match e {
            TagTextError::InvalidKey { .. } => {
                SnsError::invalid("Invalid parameter: Tags Reason: Invalid tag key")
            }
            TagTextError::InvalidValue { .. } => {
                SnsError::invalid("Invalid parameter: Tags Reason: Invalid tag value")
            }
        }
    }
}

fn check_texts(given: &[TopicTag]) -> Result<(), SnsError> {
    for tag in given {
        tagging::check_text(tag)?;
    }
    Ok(())
}

/// Refuses tags a new topic may not carry.
pub(crate) fn check_new(given: &[TopicTag]) -> Result<(), SnsError> {
    check_texts(given)?;
    RULES.check_new(given)?;
    Ok(())
}

/// Whether `a` and `b` are the same tags, in any order.
pub(crate) fn same(a: &[TopicTag], b: &[TopicTag]) -> bool {
    fn sorted(tags: &[TopicTag]) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = tags
            .iter()
            .map(|t| (t.key.as_str(), t.value.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup_by(|x, y| x.0 == y.0);
        pairs
    }
    sorted(a) == sorted(b)
}

/// The topic a tagging request's `ResourceArn` names.
fn tagged_topic(
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<(TopicName, TopicRecord), SnsError> {
    let topic = names::parse_topic_arn(arn)
        .ok_or_else(|| SnsError::invalid("Invalid parameter: ResourceArn"))?;
    let record = records::topic(tx, &topic)?
        .ok_or_else(|| SnsError::ResourceNotFound("Resource does not exist".to_owned()))?;
    Ok((topic, record))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    resource_arn: String,
    tags: Vec<TopicTag>,
}

pub(crate) fn tag_resource(
    _env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let (_, mut record) = tagged_topic(tx, &input.resource_arn)?;
    check_texts(&input.tags)?;
    RULES.merge(&mut record.tags, input.tags)?;
    records::put_topic(tx, &record)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(crate) fn untag_resource(
    _env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let (_, mut record) = tagged_topic(tx, &input.resource_arn)?;
    RULES.check_keys(&input.tag_keys)?;
    RULES.remove(&mut record.tags, &input.tag_keys);
    records::put_topic(tx, &record)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceInput {
    resource_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceOutput {
    tags: Vec<TopicTag>,
}

pub(crate) fn list_tags_for_resource(
    _env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, SnsError> {
    let (_, record) = tagged_topic(tx, &input.resource_arn)?;
    Ok(ListTagsForResourceOutput { tags: record.tags })
}
