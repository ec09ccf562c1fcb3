//! Tags: TagResource, UntagResource, ListResourceTags.

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::KmsError;
use crate::keys::{Empty, load_for_write};
use crate::records::{self, Tag};
use crate::resolve::{self, find_own_key};

/// AWS's quota of tags per key.
const MAX_TAGS: usize = 50;

/// Refuses tags AWS refuses: keys beginning with `aws:` are AWS's own.
pub(crate) fn validate(tags: &[Tag]) -> Result<(), KmsError> {
    if tags.iter().any(|t| t.key.starts_with("aws:")) {
        return Err(KmsError::Tag(
            "Tags beginning with aws: are reserved".to_owned(),
        ));
    }
    Ok(())
}

/// `existing` with `new` added; a new tag replaces one with the same key.
pub(crate) fn merged(mut existing: Vec<Tag>, new: Vec<Tag>) -> Vec<Tag> {
    for tag in new {
        match existing.iter_mut().find(|t| t.key == tag.key) {
            Some(t) => t.value = tag.value,
            None => existing.push(tag),
        }
    }
    existing
}

/// TagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    key_id: String,
    tags: Vec<Tag>,
}

/// TagResource.
pub(crate) fn tag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<Empty, KmsError> {
    validate(&input.tags)?;
    let mut key = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    let tags = merged(key.tags.clone(), input.tags);
    if tags.len() > MAX_TAGS {
        return Err(KmsError::LimitExceeded(format!(
            "The request would exceed the quota of {MAX_TAGS} tags per KMS key."
        )));
    }
    key.tags = tags;
    records::save_key(tx, &key)?;
    Ok(Empty {})
}

/// UntagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    key_id: String,
    tag_keys: Vec<String>,
}

/// UntagResource.
pub(crate) fn untag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<Empty, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    key.tags.retain(|t| !input.tag_keys.contains(&t.key));
    records::save_key(tx, &key)?;
    Ok(Empty {})
}

/// ListResourceTags' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListResourceTagsInput {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

/// ListResourceTags' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListResourceTagsOutput {
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// ListResourceTags (the marker is the index of the next tag).
pub(crate) fn list_resource_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListResourceTagsInput,
) -> Result<ListResourceTagsOutput, KmsError> {
    let key = find_own_key(tx, env, &input.key_id)?;
    let start = match input.marker.as_deref() {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| KmsError::InvalidMarker("Invalid marker".to_owned()))?,
        None => 0,
    };
    let limit = input
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(50);
    let tags: Vec<Tag> = key.tags.iter().skip(start).take(limit).cloned().collect();
    let next = start + tags.len();
    let truncated = next < key.tags.len();
    Ok(ListResourceTagsOutput {
        tags,
        next_marker: truncated.then(|| next.to_string()),
        truncated,
    })
}
