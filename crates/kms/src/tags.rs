//! Tags: TagResource, UntagResource, ListResourceTags.

use rampart_service::Env;
use rampart_service::tagging::{DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::KmsError;
use crate::keys::{Empty, load_for_write};
use crate::pagination;
use crate::records::{self, Tag};
use crate::resolve::{self, find_own_key};

/// KMS's tag rules: keys compare exactly, a later tag of a request replaces an earlier one
/// with its key, `aws:` (as written) is AWS's, at most 50 tags per key.
const RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::ExactCase,
    duplicate_keys: DuplicateKeys::LastWins,
};

impl rampart_service::tagging::Tag for Tag {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&str> {
        Some(&self.value)
    }
}

impl From<TagError> for KmsError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::ReservedKey { .. } => {
                KmsError::Tag("Tags beginning with aws: are reserved".to_owned())
            }
            TagError::TooMany { max, .. } => KmsError::LimitExceeded(format!(
                "The request would exceed the quota of {max} tags per KMS key."
            )),
            // KMS lets the last of a repeated key win; kept for completeness of the mapping.
            TagError::DuplicateKey { key } => {
                KmsError::Tag(format!("The tag key {key} is given more than once"))
            }
        }
    }
}

/// Refuses tags AWS refuses: keys beginning with `aws:` are AWS's own.
pub(crate) fn validate(tags: &[Tag]) -> Result<(), KmsError> {
    Ok(RULES.check(tags)?)
}

/// The tags of a key being created (CreateKey, ReplicateKey): a later tag replaces an earlier
/// one with its key, within the quota of tags per key.
pub(crate) fn of_new_key(given: Vec<Tag>) -> Result<Vec<Tag>, KmsError> {
    let mut tags = Vec::new();
    RULES.merge(&mut tags, given)?;
    Ok(tags)
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
    RULES.merge(&mut key.tags, input.tags)?;
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
    RULES.remove(&mut key.tags, &input.tag_keys);
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
    let page = pagination::page_by_index(key.tags, input.marker.as_deref(), input.limit, 50)?;
    Ok(ListResourceTagsOutput {
        truncated: page.is_truncated(),
        tags: page.items,
        next_marker: page.next,
    })
}

#[cfg(test)]
mod tests {
    use rampart_service::Value;
    use rampart_service::testing::TestEnv;
    use serde_json::json;

    use super::*;
    use crate::keys;
    use crate::tests::{create, r, w};

    fn numbered(n: usize) -> Value {
        (0..n)
            .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v"}))
            .collect()
    }

    /// CreateKey used to take any number of tags: a key now carries at most 50 however they
    /// come, as TagResource has always kept it.
    #[test]
    fn a_new_key_keeps_the_quota_of_tags() {
        let t = TestEnv::new();
        let e = w(&t, keys::create_key, json!({"Tags": numbered(51)})).unwrap_err();
        assert!(
            matches!(&e, KmsError::LimitExceeded(m)
                if m == "The request would exceed the quota of 50 tags per KMS key."),
            "{e:?}"
        );
        let id = create(&t, json!({"Tags": numbered(50)}));
        let listed = r(&t, list_resource_tags, json!({"KeyId": id})).unwrap();
        assert_eq!(listed["Tags"].as_array().unwrap().len(), 50);
        // A repeated key counts once: the later value wins, as TagResource does it.
        let mut repeated = numbered(50);
        if let Value::Array(tags) = &mut repeated {
            tags.push(json!({"TagKey": "k0", "TagValue": "again"}));
        }
        let id = create(&t, json!({"Tags": repeated}));
        let listed = r(&t, list_resource_tags, json!({"KeyId": id, "Limit": 1})).unwrap();
        assert_eq!(
            listed["Tags"],
            json!([{"TagKey": "k0", "TagValue": "again"}])
        );
    }

    #[test]
    fn resource_tags_page_by_index() {
        let t = TestEnv::new();
        let id = create(&t, json!({"Tags": numbered(5)}));
        let first = r(&t, list_resource_tags, json!({"KeyId": id, "Limit": 2})).unwrap();
        assert_eq!(first["Truncated"], true);
        assert_eq!(first["NextMarker"], "2");
        let rest = r(
            &t,
            list_resource_tags,
            json!({"KeyId": id, "Limit": 10, "Marker": "2"}),
        )
        .unwrap();
        assert_eq!(rest["Tags"].as_array().unwrap().len(), 3);
        assert_eq!(rest["Truncated"], false);
        assert!(rest.get("NextMarker").is_none());
        let e = r(
            &t,
            list_resource_tags,
            json!({"KeyId": id, "Marker": "not-an-index"}),
        )
        .unwrap_err();
        assert!(
            matches!(&e, KmsError::InvalidMarker(m) if m == "Invalid marker"),
            "{e:?}"
        );
    }
}
