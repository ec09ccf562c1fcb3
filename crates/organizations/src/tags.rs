//! Tags on roots, OUs, accounts and policies: TagResource, UntagResource,
//! ListTagsForResource.

use rampart_service::paging::single_page;
use rampart_service::tagging::{DuplicateKeys, KeyCase, ReservedPrefix, TagError, TagRules};
use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::error::{Constraint, InvalidInput};
use crate::ids::{self, IdKind};
use crate::organization::Empty;
use crate::policies::{self, AnyPolicy};
use crate::records::{self, OrganizationRecord, Tag, Target, managed_organization};
use crate::resources::authorization_targets;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("TagResource", "organizations:TagResource", tag_resource)
            .authorization_targets(authorization_targets),
        Operation::write(
            "UntagResource",
            "organizations:UntagResource",
            untag_resource,
        )
        .authorization_targets(authorization_targets),
        Operation::read(
            "ListTagsForResource",
            "organizations:ListTagsForResource",
            list_tags_for_resource,
        )
        .authorization_targets(authorization_targets),
    ]
}

/// Organizations' tag rules: keys compare exactly, `aws:` in any case is AWS's, a key given
/// twice is refused, at most 50 tags per resource.
const RULES: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::AnyCase,
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

impl From<TagError> for OrganizationsError {
    fn from(e: TagError) -> Self {
        match e {
            TagError::ReservedKey { .. } => {
                OrganizationsError::InvalidInput(InvalidInput::SystemTag)
            }
            TagError::DuplicateKey { .. } => {
                OrganizationsError::InvalidInput(InvalidInput::DuplicateTagKey)
            }
            TagError::TooMany { .. } => {
                OrganizationsError::ConstraintViolation(Constraint::MaxTagLimit)
            }
        }
    }
}

/// Refuses tags AWS refuses when they are given: `aws:` keys, repeated keys, more than 50.
pub(crate) fn check_new(tags: &[Tag]) -> Result<(), OrganizationsError> {
    Ok(RULES.check_new(tags)?)
}

/// Something that carries tags.
enum Tagged {
    Target(Target),
    Policy(records::PolicyRecord),
}

impl Tagged {
    fn load(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
        id: &str,
    ) -> Result<Tagged, OrganizationsError> {
        if ids::kind_of(id) == Some(IdKind::Policy) {
            return match policies::require(tx, org, id)
                .map_err(|_| OrganizationsError::TargetNotFound)?
            {
                AnyPolicy::Customer(p) => Ok(Tagged::Policy(p)),
                AnyPolicy::Aws(_) => Err(OrganizationsError::InvalidInput(
                    InvalidInput::ImmutablePolicy,
                )),
            };
        }
        Target::load(tx, org, id)?
            .map(Tagged::Target)
            .ok_or(OrganizationsError::TargetNotFound)
    }

    fn tags<'a>(&'a self, org: &'a OrganizationRecord) -> &'a [Tag] {
        match self {
            Tagged::Target(Target::Root) => &org.root.tags,
            Tagged::Target(Target::Unit(u)) => &u.tags,
            Tagged::Target(Target::Account(a)) => &a.tags,
            Tagged::Policy(p) => &p.tags,
        }
    }

    fn tags_mut<'a>(&'a mut self, org: &'a mut OrganizationRecord) -> &'a mut Vec<Tag> {
        match self {
            Tagged::Target(Target::Root) => &mut org.root.tags,
            Tagged::Target(Target::Unit(u)) => &mut u.tags,
            Tagged::Target(Target::Account(a)) => &mut a.tags,
            Tagged::Policy(p) => &mut p.tags,
        }
    }

    fn save(
        &self,
        tx: &mut (impl WriteTx + ?Sized),
        org: &OrganizationRecord,
    ) -> Result<(), OrganizationsError> {
        match self {
            Tagged::Target(t) => t.save(tx, org)?,
            Tagged::Policy(p) => records::put_policy(tx, p)?,
        }
        Ok(())
    }
}

/// The tags of the root, OU, account or policy `id`, for the authorize step: none when it does
/// not exist (its request then fails in the handler).
pub(crate) fn current(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<Vec<(String, String)>, OrganizationsError> {
    match Tagged::load(tx, org, id) {
        Ok(tagged) => Ok(tagged
            .tags(org)
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect()),
        Err(OrganizationsError::Store(e)) => Err(OrganizationsError::Store(e)),
        Err(_) => Ok(Vec::new()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    resource_id: String,
    tags: Vec<Tag>,
}

pub(crate) fn tag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<Empty, OrganizationsError> {
    let mut org = managed_organization(env, tx)?;
    check_new(&input.tags)?;
    let mut tagged = Tagged::load(tx, &org, &input.resource_id)?;
    RULES.merge(tagged.tags_mut(&mut org), input.tags)?;
    tagged.save(tx, &org)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    resource_id: String,
    tag_keys: Vec<String>,
}

pub(crate) fn untag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<Empty, OrganizationsError> {
    let mut org = managed_organization(env, tx)?;
    RULES.check_keys(&input.tag_keys)?;
    let mut tagged = Tagged::load(tx, &org, &input.resource_id)?;
    RULES.remove(tagged.tags_mut(&mut org), &input.tag_keys);
    tagged.save(tx, &org)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceInput {
    resource_id: String,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceOutput {
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_tags_for_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let tagged = Tagged::load(tx, &org, &input.resource_id)?;
    // A resource holds at most 50 tags: one page, and no token is ever issued.
    single_page(input.next_token.as_deref())?;
    Ok(ListTagsForResourceOutput {
        tags: tagged.tags(&org).to_vec(),
        next_token: None,
    })
}
