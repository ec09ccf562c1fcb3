//! The organization's resource-based delegation policy: PutResourcePolicy,
//! DescribeResourcePolicy, DeleteResourcePolicy.
//!
//! The policy lets member accounts' principals call the read-only operations and manage
//! policies (CreatePolicy, UpdatePolicy, DeletePolicy, AttachPolicy, DetachPolicy). It is
//! enforced by the request spine, as a resource policy of the organization's management
//! account: a member's request to a delegable operation carries it (see [`for_reads`] and
//! [`for_policy_management`]), so it is allowed only when both the member's own policies
//! and the delegation policy allow it. The handlers then let a member through when the
//! organization has a delegation policy: the spine has already checked that it allows.

use rampart_service::{
    AwsError, Env, Operation, PrincipalIds, Resource, ResourcePolicy, Value, principal_ids,
};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::delegation::is_delegated_administrator;
use crate::ids;
use crate::organization::{Empty, NoInput};
use crate::records::{OrganizationRecord, Tag, caller_organization, managed_organization};
use crate::tags;

/// Namespace of delegation policies, keyed by organization ID.
const RESOURCE_POLICIES: &str = "organizations.resource-policy";

pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "PutResourcePolicy",
            "organizations:PutResourcePolicy",
            put_resource_policy,
        )
        .resources(policy_resource),
        Operation::read(
            "DescribeResourcePolicy",
            "organizations:DescribeResourcePolicy",
            describe_resource_policy,
        ),
        Operation::write(
            "DeleteResourcePolicy",
            "organizations:DeleteResourcePolicy",
            delete_resource_policy,
        ),
    ]
}

/// The organization's delegation policy, with its tags, when it has one (PutResourcePolicy's
/// resource; AWS lists none for DescribeResourcePolicy and DeleteResourcePolicy).
fn policy_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let Ok(org) = caller_organization(env, tx) else {
        return Ok(vec![Resource::any()]);
    };
    Ok(vec![match load(tx, &org)? {
        Some(policy) => {
            Resource::named(policy.arn).with_tags(policy.tags.into_iter().map(|t| (t.key, t.value)))
        }
        None => Resource::any(),
    }])
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourcePolicyRecord {
    id: String,
    arn: String,
    content: String,
    /// The users and roles the policy names, bound to their unique IDs when it was put.
    #[serde(default, skip_serializing_if = "PrincipalIds::is_empty")]
    principal_ids: PrincipalIds,
    tags: Vec<Tag>,
}

/// `ResourcePolicy`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResourcePolicyOutput {
    resource_policy: ResourcePolicyView,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourcePolicyView {
    resource_policy_summary: Summary,
    content: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    id: String,
    arn: String,
}

impl ResourcePolicyOutput {
    fn of(record: ResourcePolicyRecord) -> Self {
        Self {
            resource_policy: ResourcePolicyView {
                resource_policy_summary: Summary {
                    id: record.id,
                    arn: record.arn,
                },
                content: record.content,
            },
        }
    }
}

fn load(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
) -> Result<Option<ResourcePolicyRecord>, OrganizationsError> {
    Ok(get_json(tx, RESOURCE_POLICIES, &org.id)?)
}

/// Whether the organization has a delegation policy.
pub(crate) fn exists(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
) -> Result<bool, OrganizationsError> {
    Ok(load(tx, org)?.is_some())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutResourcePolicyInput {
    content: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

fn put_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutResourcePolicyInput,
) -> Result<ResourcePolicyOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    tags::check_new(&input.tags)?;
    rampart_policy::Policy::parse_as(&input.content, rampart_policy::PolicyKind::Resource)
        .map_err(|e| OrganizationsError::MalformedPolicyDocument(e.to_string()))?;
    let principal_ids =
        principal_ids::bind(env.directory, tx, &input.content).map_err(|e| match e {
            principal_ids::BindError::InvalidPrincipal(value) => {
                OrganizationsError::MalformedPolicyDocument(format!(
                    "Invalid principal in policy: \"AWS\":\"{value}\""
                ))
            }
            principal_ids::BindError::Store(e) => e.into(),
        })?;
    // The policy keeps its ID and ARN when its content is replaced.
    let record = match load(tx, &org)? {
        Some(existing) => ResourcePolicyRecord {
            content: input.content,
            principal_ids,
            tags: if input.tags.is_empty() {
                existing.tags
            } else {
                input.tags
            },
            ..existing
        },
        None => {
            let id = ids::resource_policy_id(env);
            ResourcePolicyRecord {
                arn: ids::resource_policy_arn(&org.management_account_id, &org.id, &id),
                id,
                content: input.content,
                principal_ids,
                tags: input.tags,
            }
        }
    };
    put_json(tx, RESOURCE_POLICIES, &org.id, &record)?;
    Ok(ResourcePolicyOutput::of(record))
}

/// The management account and the delegated administrators may read the policy.
fn describe_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: NoInput,
) -> Result<ResourcePolicyOutput, OrganizationsError> {
    let org = caller_organization(env, tx)?;
    if org.management_account_id != env.caller.account_id
        && !is_delegated_administrator(tx, &org.id, &env.caller.account_id)?
    {
        return Err(OrganizationsError::AccessDenied);
    }
    let mut policy = load(tx, &org)?.ok_or(OrganizationsError::ResourcePolicyNotFound)?;
    policy.content =
        principal_ids::shown(env.directory, tx, &policy.content, &policy.principal_ids)?
            .into_owned();
    Ok(ResourcePolicyOutput::of(policy))
}

fn delete_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: NoInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    if load(tx, &org)?.is_none() {
        return Err(OrganizationsError::ResourcePolicyNotFound);
    }
    tx.delete(RESOURCE_POLICIES, &org.id)?;
    Ok(Empty {})
}

/// The delegation policy a member's request must be allowed by, as a resource policy of the
/// management account. `None` for the management account, for accounts in no organization,
/// when the organization has none, and for the members `exempt` lets through on other grounds.
fn delegation(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    exempt: impl Fn(&mut dyn ReadTx, &OrganizationRecord) -> Result<bool, OrganizationsError>,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let org = match caller_organization(env, tx) {
        Ok(org) => org,
        Err(OrganizationsError::NotInUse) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if org.management_account_id == env.caller.account_id || exempt(tx, &org)? {
        return Ok(None);
    }
    Ok(load(tx, &org)?.map(|policy| ResourcePolicy {
        document: policy.content,
        account_id: org.management_account_id.clone(),
        must_allow: false,
        description: "resource-based delegation policy",
        principal_ids: policy.principal_ids,
    }))
}

/// For the read-only operations: delegated administrators read without the policy.
pub(crate) fn for_reads(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    delegation(env, tx, |tx, org| {
        is_delegated_administrator(tx, &org.id, &env.caller.account_id)
    })
}

/// For policy management: every member needs the policy.
pub(crate) fn for_policy_management(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    delegation(env, tx, |_, _| Ok(false))
}

/// The organization whose policies the caller may manage: its management account's, or a
/// member's when a delegation policy (which the spine has applied) exists.
pub(crate) fn policy_managing_organization(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = caller_organization(env, tx)?;
    if org.management_account_id == env.caller.account_id || exists(tx, &org)? {
        Ok(org)
    } else {
        Err(OrganizationsError::AccessDenied)
    }
}
