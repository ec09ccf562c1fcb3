//! Parameter tags: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource (resource
//! type `Parameter`), and the checks PutParameter's `Tags` share. Tags are kept on the
//! parameter's record; the authorize step reads them as `aws:ResourceTag/*` and
//! `ssm:resourceTag/*`.

use rampart_service::tagging::{DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules};
use rampart_service::{Env, tagging};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::names;
use crate::records::{self, ParameterRecord};

/// Systems Manager's tag rules: keys compare exactly, `aws:` is AWS's, a later tag of a
/// request replaces an earlier one, at most 50 tags per resource.
pub(crate) const RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::AnyCase,
    duplicate_keys: DuplicateKeys::LastWins,
};

/// A tag as the API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub(crate) key: String,
    pub(crate) value: String,
}

impl tagging::Tag for Tag {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&str> {
        Some(&self.value)
    }
}

impl From<TagError> for SsmError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::TooMany { .. } => SsmError::TooManyTags,
            TagError::ReservedKey { key } => SsmError::Validation(format!(
                "Tag key `{key}` is not valid: keys beginning with aws: are reserved for AWS."
            )),
            TagError::DuplicateKey { key } => {
                SsmError::Validation(format!("Tag key `{key}` is given more than once."))
            }
        }
    }
}

/// `record`'s tags merged with `given`, under the rules.
pub(crate) fn merged(
    record: &ParameterRecord,
    given: Vec<Tag>,
) -> Result<Vec<(String, String)>, SsmError> {
    let mut tags: Vec<Tag> = record
        .tags
        .iter()
        .map(|(key, value)| Tag {
            key: key.clone(),
            value: value.clone(),
        })
        .collect();
    RULES.merge(&mut tags, given)?;
    Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddTagsToResourceInput {
    resource_type: String,
    resource_id: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RemoveTagsFromResourceInput {
    resource_type: String,
    resource_id: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceInput {
    resource_type: String,
    resource_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceOutput {
    tag_list: Vec<Tag>,
}

/// The parameter a tagging call names, and its document key.
fn parameter(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    kind: &str,
    id: &str,
) -> Result<(String, ParameterRecord), SsmError> {
    if kind != "Parameter" {
        return Err(SsmError::InvalidResourceType);
    }
    let (name, _) = names::lookup(env, id, false).ok_or(SsmError::InvalidResourceId)?;
    let doc_key = records::parameter_key(env, &name.key);
    let record = records::load(tx, env, &name.key)?.ok_or(SsmError::InvalidResourceId)?;
    Ok((doc_key, record))
}

/// AddTagsToResource.
pub(crate) fn add_tags_to_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AddTagsToResourceInput,
) -> Result<Empty, SsmError> {
    let (doc_key, mut record) = parameter(env, tx, &input.resource_type, &input.resource_id)?;
    record.tags = merged(&record, input.tags)?;
    records::save(tx, &doc_key, &record)?;
    Ok(Empty {})
}

/// RemoveTagsFromResource.
pub(crate) fn remove_tags_from_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RemoveTagsFromResourceInput,
) -> Result<Empty, SsmError> {
    let (doc_key, mut record) = parameter(env, tx, &input.resource_type, &input.resource_id)?;
    RULES.check_keys(&input.tag_keys)?;
    record.tags.retain(|(key, _)| !input.tag_keys.contains(key));
    records::save(tx, &doc_key, &record)?;
    Ok(Empty {})
}

/// ListTagsForResource.
pub(crate) fn list_tags_for_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, SsmError> {
    let (_, record) = parameter(env, tx, &input.resource_type, &input.resource_id)?;
    Ok(ListTagsForResourceOutput {
        tag_list: record
            .tags
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect(),
    })
}
