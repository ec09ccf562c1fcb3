//! Tags on IAM entities, and the permissions-boundary view shared by users and roles.

use rampart_service::tagging::{DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules};
use serde::Serialize;

use crate::IamError;
use crate::records::Tag;

/// IAM's quota of tags per entity.
pub const MAX_TAGS: usize = 50;

/// A permissions boundary as IAM's API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundary {
    permissions_boundary_type: &'static str,
    permissions_boundary_arn: String,
}

impl PermissionsBoundary {
    /// A boundary set by a managed policy (the only kind IAM has).
    pub fn policy(arn: String) -> Self {
        Self {
            permissions_boundary_type: "PermissionsBoundaryPolicy",
            permissions_boundary_arn: arn,
        }
    }
}

/// IAM's tag rules: keys compare without regard to case, a key given twice is refused, at
/// most [`MAX_TAGS`] per entity.
const RULES: TagRules = TagRules {
    max_tags: MAX_TAGS,
    key_case: KeyCase::Insensitive,
    reserved_prefix: ReservedPrefix::Allowed,
    duplicate_keys: DuplicateKeys::Refused,
};

impl rampart_service::tagging::Tag for Tag {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&str> {
        Some(&self.value)
    }
}

impl From<TagError> for IamError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::DuplicateKey { .. } => IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ),
            TagError::TooMany { max, .. } => IamError::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {max}."
            )),
            // IAM's rules reserve no prefix; kept for completeness of the mapping.
            TagError::ReservedKey { key } => IamError::InvalidInput(format!(
                "The tag key {key} begins with aws:, which is reserved for AWS."
            )),
        }
    }
}

/// Checks tags given at creation: no key twice (keys compare without regard to case, as IAM
/// does), at most 50.
pub fn check_new(tags: &[Tag]) -> Result<(), IamError> {
    Ok(RULES.check_new(tags)?)
}

/// Adds `new` to `tags`, replacing the value of a key already there.
pub fn merge(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), IamError> {
    Ok(RULES.merge(tags, new)?)
}

/// Removes the tags whose keys are in `keys`.
pub fn remove(tags: &mut Vec<Tag>, keys: &[String]) {
    RULES.remove(tags, keys);
}

/// A page of tags (`List*Tags`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagPage {
    tags: Vec<Tag>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// Pages through `tags`; the marker is the index of the next tag.
pub fn page(
    tags: Vec<Tag>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<TagPage, IamError> {
    let page = crate::pagination::page_by_index(tags, marker, max_items)?;
    Ok(TagPage {
        is_truncated: page.is_truncated(),
        tags: page.items,
        marker: page.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn merge_replaces_keys_without_regard_to_case() {
        let mut tags = vec![tag("Team", "a")];
        merge(&mut tags, vec![tag("team", "b"), tag("Env", "prod")]).unwrap();
        assert_eq!(tags, vec![tag("team", "b"), tag("Env", "prod")]);
    }

    #[test]
    fn duplicates_and_too_many_tags_are_refused() {
        assert!(check_new(&[tag("a", ""), tag("A", "")]).is_err());
        let many: Vec<_> = (0..51).map(|i| tag(&i.to_string(), "")).collect();
        assert!(matches!(check_new(&many), Err(IamError::LimitExceeded(_))));
    }

    #[test]
    fn pages_of_tags_continue_where_they_stopped() {
        let tags: Vec<_> = (0..5).map(|i| tag(&i.to_string(), "")).collect();
        let first = page(tags.clone(), None, Some(2)).unwrap();
        assert!(first.is_truncated);
        let second = page(tags, first.marker.as_deref(), Some(10)).unwrap();
        assert_eq!(second.tags.len(), 3);
        assert!(!second.is_truncated);
    }
}
