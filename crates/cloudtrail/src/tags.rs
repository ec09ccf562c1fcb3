//! Trail tags: AddTags, RemoveTags, ListTags (and the checks CreateTrail's `TagsList` shares).
//! Tags are kept on the trail's record, in AWS's `{"Key", "Value"}` shape.

use rampart_service::paging::{PageError, single_page};
use rampart_service::tagging::{
    DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules, TagTextError, check_text,
};
use rampart_service::{AwsError, Env, Resource, Value};
use rampart_store::{ReadTx, WriteTx, put_json};
use serde::{Deserialize, Serialize};

use crate::error::CloudTrailError;
use crate::trails::{Empty, TRAILS_NS, TrailRecord, invalid_arn, load};

/// CloudTrail's tag rules: keys compare exactly, `aws:` in any case is AWS's, a later tag of a
/// request replaces an earlier one with its key, at most 50 tags per trail.
const RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::AnyCase,
    duplicate_keys: DuplicateKeys::LastWins,
};
/// ListTags names at most this many resources per call.
const MAX_RESOURCES_PER_LIST: usize = 20;

/// One tag as the API carries it: a key, and a value that may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

/// A trail's tags, as stored (entries that are not tags, which no version wrote, are skipped).
fn tags_of(trail: &TrailRecord) -> Vec<Tag> {
    trail
        .tags
        .iter()
        .filter_map(|tag| serde_json::from_value(tag.clone()).ok())
        .collect()
}

pub(crate) fn store_tags(trail: &mut TrailRecord, tags: &[Tag]) {
    trail.tags = tags
        .iter()
        .filter_map(|tag| serde_json::to_value(tag).ok())
        .collect();
}

impl rampart_service::tagging::Tag for Tag {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl From<TagTextError> for CloudTrailError {
    fn from(e: TagTextError) -> Self {
        CloudTrailError::InvalidTagParameter(match e {
            TagTextError::InvalidKey { key } => format!(
                "Tag key {key:?} is not valid: 1 to 128 letters, digits, spaces and _ . : / = + - @."
            ),
            TagTextError::InvalidValue { key, value } => format!(
                "Tag value {value:?} of key {key:?} is not valid: up to 256 letters, digits, \
                 spaces and _ . : / = + - @."
            ),
        })
    }
}

impl From<TagError> for CloudTrailError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::ReservedKey { key } => CloudTrailError::InvalidTagParameter(format!(
                "Tag key {key:?} is not valid: the aws: prefix is reserved for AWS."
            )),
            TagError::TooMany { count, max } => CloudTrailError::TagsLimitExceeded(format!(
                "The number of tags per trail would be {count}; the limit is {max}."
            )),
            // CloudTrail lets the last of a repeated key win; kept for completeness.
            TagError::DuplicateKey { key } => CloudTrailError::InvalidTagParameter(format!(
                "Tag key {key:?} is given more than once."
            )),
        }
    }
}

/// `tags` with `added` set on them (a key given again takes the new value), checked against
/// the tag rules (keys of 1 to 128 characters and values of up to 256, of letters, digits,
/// spaces and `_ . : / = + - @`; the `aws:` prefix is AWS's own) and the per-trail quota.
pub(crate) fn with_tags(tags: &[Tag], added: &[Tag]) -> Result<Vec<Tag>, CloudTrailError> {
    for tag in added {
        check_text(tag)?;
        RULES.check(std::slice::from_ref(tag))?;
    }
    let mut merged = tags.to_vec();
    RULES.merge(&mut merged, added.to_vec())?;
    Ok(merged)
}

/// A trail named by the ARN a tagging call gives (tags are addressed by ARN only).
fn tagged_trail(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    resource_id: &str,
) -> Result<TrailRecord, CloudTrailError> {
    if !resource_id.starts_with("arn:") {
        return Err(invalid_arn(resource_id));
    }
    load(env, tx, resource_id).map_err(|e| match e {
        CloudTrailError::TrailNotFound(_) => {
            CloudTrailError::ResourceNotFound(format!("Resource not found: {resource_id}"))
        }
        other => other,
    })
}

/// AddTags' and RemoveTags' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagsInput {
    resource_id: String,
    tags_list: Vec<Tag>,
}

/// AddTags.
pub(crate) fn add_tags(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagsInput,
) -> Result<Empty, CloudTrailError> {
    let mut trail = tagged_trail(env, tx, &input.resource_id)?;
    let tags = with_tags(&tags_of(&trail), &input.tags_list)?;
    store_tags(&mut trail, &tags);
    put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    Ok(Empty {})
}

/// RemoveTags: the keys listed go, whatever their values; keys the trail lacks are ignored.
pub(crate) fn remove_tags(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagsInput,
) -> Result<Empty, CloudTrailError> {
    let mut trail = tagged_trail(env, tx, &input.resource_id)?;
    let mut tags = tags_of(&trail);
    let gone: Vec<&str> = input.tags_list.iter().map(|tag| tag.key.as_str()).collect();
    RULES.remove(&mut tags, &gone);
    store_tags(&mut trail, &tags);
    put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    Ok(Empty {})
}

/// ListTags' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsInput {
    resource_id_list: Vec<String>,
    next_token: Option<String>,
}

/// ListTags' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsOutput {
    resource_tag_list: Vec<ResourceTag>,
}

/// One trail's tags in ListTags' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResourceTag {
    resource_id: String,
    tags_list: Vec<Tag>,
}

/// ListTags: every trail named answers in one page, in the order given.
pub(crate) fn list_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsInput,
) -> Result<ListTagsOutput, CloudTrailError> {
    // One page holds every answer, so Rampart never hands out a token.
    if let Err(e) = single_page(input.next_token.as_deref()) {
        return Err(match e {
            PageError::InvalidToken => CloudTrailError::InvalidToken(
                "The NextToken is not valid: ListTags answered every resource in one page."
                    .to_owned(),
            ),
            PageError::Store(e) => CloudTrailError::Store(e),
        });
    }
    if input.resource_id_list.len() > MAX_RESOURCES_PER_LIST {
        return Err(CloudTrailError::InvalidParameter(format!(
            "ResourceIdList names {} resources; at most {MAX_RESOURCES_PER_LIST} are allowed.",
            input.resource_id_list.len()
        )));
    }
    let mut resource_tag_list = Vec::with_capacity(input.resource_id_list.len());
    for resource_id in input.resource_id_list {
        let trail = tagged_trail(env, tx, &resource_id)?;
        resource_tag_list.push(ResourceTag {
            resource_id: trail.arn(),
            tags_list: tags_of(&trail),
        });
    }
    Ok(ListTagsOutput { resource_tag_list })
}

/// The trails a tagging call names, for the authorize step.
pub(crate) fn tagged_resources(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let one = input.get("ResourceId").and_then(Value::as_str);
    let many = input
        .get("ResourceIdList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    one.into_iter()
        .chain(many)
        .map(|arn| crate::trails::trail_named(env, tx, arn))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: Option<&str>) -> Tag {
        Tag {
            key: key.to_owned(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn keys_are_replaced_checked_and_counted() {
        let merged = with_tags(
            &[tag("team", Some("a"))],
            &[tag("team", Some("b")), tag("cost center", None)],
        )
        .unwrap();
        assert_eq!(merged, [tag("team", Some("b")), tag("cost center", None)]);
        for bad in [
            tag("", None),
            tag("aws:owner", None),
            tag("a#b", None),
            tag(&"k".repeat(129), None),
        ] {
            assert!(matches!(
                with_tags(&[], &[bad]),
                Err(CloudTrailError::InvalidTagParameter(_))
            ));
        }
        assert!(matches!(
            with_tags(&[], &[tag("k", Some(&"v".repeat(257)))]),
            Err(CloudTrailError::InvalidTagParameter(_))
        ));
        let fifty: Vec<Tag> = (0..50).map(|n| tag(&format!("k{n}"), None)).collect();
        assert_eq!(
            with_tags(&fifty, &[tag("k0", Some("again"))])
                .unwrap()
                .len(),
            50
        );
        assert!(matches!(
            with_tags(&fifty, &[tag("one-more", None)]),
            Err(CloudTrailError::TagsLimitExceeded(_))
        ));
    }

    #[test]
    fn the_reserved_prefix_is_refused_in_any_case_with_its_own_message() {
        for key in ["aws:owner", "AWS:owner", "Aws:x"] {
            let e = with_tags(&[], &[tag(key, Some("v"))]).unwrap_err();
            assert!(
                matches!(&e, CloudTrailError::InvalidTagParameter(m)
                    if *m == format!("Tag key {key:?} is not valid: the aws: prefix is reserved for AWS.")),
                "{e:?}"
            );
        }
        // A key that only contains the word is an ordinary key.
        assert!(with_tags(&[], &[tag("my-aws:key", None)]).is_ok());
        // Characters outside letters, digits, spaces and `_ . : / = + - @` (a tab is not a
        // space separator) are refused, with the key named.
        let e = with_tags(&[], &[tag("a\tb", None)]).unwrap_err();
        assert!(
            matches!(&e, CloudTrailError::InvalidTagParameter(m) if m.starts_with("Tag key \"a\\tb\" is not valid")),
            "{e:?}"
        );
    }

    #[test]
    fn list_tags_takes_no_token() {
        let t = rampart_service::testing::TestEnv::new();
        let input = |v| serde_json::from_value::<ListTagsInput>(v).unwrap();
        let given = input(serde_json::json!({"ResourceIdList": [], "NextToken": "x"}));
        let e = t.read(|env, tx| list_tags(env, tx, given)).unwrap_err();
        assert!(
            matches!(&e, CloudTrailError::InvalidToken(m)
                if m == "The NextToken is not valid: ListTags answered every resource in one page."),
            "{e:?}"
        );
        let none = input(serde_json::json!({"ResourceIdList": []}));
        let listed = t.read(|env, tx| list_tags(env, tx, none)).unwrap();
        assert!(listed.resource_tag_list.is_empty());
    }
}
