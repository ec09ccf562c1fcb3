//! Policies: CreatePolicy, UpdatePolicy, DeletePolicy, DescribePolicy, ListPolicies, and
//! the two AWS managed policies (`FullAWSAccess`, `RCPFullAWSAccess`).

use rampart_policy::{Policy, PolicyKind};
use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::error::{Constraint, InvalidInput};
use crate::ids;
use crate::organization::Empty;
use crate::paging;
use crate::records::{self, OrganizationRecord, PolicyRecord, Tag, Target};
use crate::resource_policy::policy_managing_organization;
use crate::resources::{authorization_targets, policy_management_targets};
use crate::tags;

/// Service control policies.
pub(crate) const SCP: &str = "SERVICE_CONTROL_POLICY";
/// Resource control policies.
pub(crate) const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    let types = "only SERVICE_CONTROL_POLICY and RESOURCE_CONTROL_POLICY (other types answer NotImplemented)";
    vec![
        Operation::write("CreatePolicy", "organizations:CreatePolicy", create_policy)
            .condition_keys(crate::resources::policy_type_key)
            .resource_policy(crate::resource_policy::for_policy_management)
            .partial(types),
        Operation::write("UpdatePolicy", "organizations:UpdatePolicy", update_policy)
            .authorization_targets(policy_management_targets),
        Operation::write("DeletePolicy", "organizations:DeletePolicy", delete_policy)
            .authorization_targets(policy_management_targets),
        Operation::read(
            "DescribePolicy",
            "organizations:DescribePolicy",
            describe_policy,
        )
        .authorization_targets(authorization_targets),
        Operation::read("ListPolicies", "organizations:ListPolicies", list_policies)
            .condition_keys(crate::resources::policy_type_key),
    ]
}

/// The most characters a policy document may have, for both SCPs and RCPs.
const MAX_CONTENT_CHARS: usize = 5120;

/// The most policies of a type an organization may have.
fn max_policies(policy_type: &str) -> usize {
    if policy_type == SCP { 10_000 } else { 1_000 }
}

/// A policy AWS manages: the same in every organization, never changed or deleted.
#[derive(Debug)]
pub(crate) struct AwsManagedPolicy {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) policy_type: &'static str,
    pub(crate) description: &'static str,
    pub(crate) arn: &'static str,
    pub(crate) content: &'static str,
}

/// `FullAWSAccess`: attached to every root, OU and account when SCPs are enabled.
pub(crate) static FULL_AWS_ACCESS: AwsManagedPolicy = AwsManagedPolicy {
    id: "p-FullAWSAccess",
    name: "FullAWSAccess",
    policy_type: SCP,
    description: "Allows access to every operation",
    arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
    content: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
};

/// `RCPFullAWSAccess`: attached to every root, OU and account when RCPs are enabled, and
/// never detachable.
pub(crate) static RCP_FULL_AWS_ACCESS: AwsManagedPolicy = AwsManagedPolicy {
    id: "p-RCPFullAWSAccess",
    name: "RCPFullAWSAccess",
    policy_type: RCP,
    description: "Allows access to every operation",
    arn: "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
    content: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
};

static AWS_MANAGED: [&AwsManagedPolicy; 2] = [&FULL_AWS_ACCESS, &RCP_FULL_AWS_ACCESS];

/// The AWS managed policy `id`, if it is one.
pub(crate) fn aws_managed(id: &str) -> Option<&'static AwsManagedPolicy> {
    AWS_MANAGED.iter().copied().find(|p| p.id == id)
}

/// The AWS managed policy attached everywhere when `policy_type` is enabled.
pub(crate) fn default_policy(policy_type: &str) -> Option<&'static AwsManagedPolicy> {
    AWS_MANAGED
        .iter()
        .copied()
        .find(|p| p.policy_type == policy_type)
}

/// Refuses the policy types Rampart does not implement, saying so by name.
pub(crate) fn require_supported(policy_type: &str) -> Result<(), OrganizationsError> {
    if policy_type == SCP || policy_type == RCP {
        Ok(())
    } else {
        Err(OrganizationsError::NotImplemented(format!(
            "Rampart does not implement organizations policy type {policy_type} yet (see docs/COVERAGE.md)"
        )))
    }
}

/// A policy, AWS's or the organization's.
#[derive(Debug, Clone)]
pub(crate) enum AnyPolicy {
    Aws(&'static AwsManagedPolicy),
    Customer(PolicyRecord),
}

impl AnyPolicy {
    /// The policy `id` as `org` sees it, if it exists.
    pub(crate) fn load(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
        id: &str,
    ) -> Result<Option<AnyPolicy>, OrganizationsError> {
        if let Some(aws) = aws_managed(id) {
            return Ok(Some(AnyPolicy::Aws(aws)));
        }
        Ok(records::policy(tx, &org.id, id)?.map(AnyPolicy::Customer))
    }

    pub(crate) fn id(&self) -> &str {
        match self {
            AnyPolicy::Aws(p) => p.id,
            AnyPolicy::Customer(p) => &p.id,
        }
    }

    pub(crate) fn policy_type(&self) -> &str {
        match self {
            AnyPolicy::Aws(p) => p.policy_type,
            AnyPolicy::Customer(p) => &p.policy_type,
        }
    }

    pub(crate) fn arn(&self) -> &str {
        match self {
            AnyPolicy::Aws(p) => p.arn,
            AnyPolicy::Customer(p) => &p.arn,
        }
    }

    pub(crate) fn content(&self) -> &str {
        match self {
            AnyPolicy::Aws(p) => p.content,
            AnyPolicy::Customer(p) => &p.content,
        }
    }

    /// AWS's `PolicySummary`.
    pub(crate) fn summary(&self) -> PolicySummary {
        match self {
            AnyPolicy::Aws(p) => PolicySummary {
                id: p.id.to_owned(),
                arn: p.arn.to_owned(),
                name: p.name.to_owned(),
                description: p.description.to_owned(),
                policy_type: p.policy_type.to_owned(),
                aws_managed: true,
            },
            AnyPolicy::Customer(p) => PolicySummary {
                id: p.id.clone(),
                arn: p.arn.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                policy_type: p.policy_type.clone(),
                aws_managed: false,
            },
        }
    }

    fn described(&self) -> PolicyOutput {
        PolicyOutput {
            policy: PolicyDetail {
                policy_summary: self.summary(),
                content: self.content().to_owned(),
            },
        }
    }
}

/// The policy `id` of `org`, or PolicyNotFoundException.
pub(crate) fn require(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<AnyPolicy, OrganizationsError> {
    AnyPolicy::load(tx, org, id)?.ok_or(OrganizationsError::PolicyNotFound)
}

/// The customer managed policy `id` of `org`: AWS's own may not change.
fn require_customer(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<PolicyRecord, OrganizationsError> {
    match require(tx, org, id)? {
        AnyPolicy::Customer(p) => Ok(p),
        AnyPolicy::Aws(_) => Err(OrganizationsError::InvalidInput(
            InvalidInput::ImmutablePolicy,
        )),
    }
}

/// Checks a document against its type's size limit and grammar.
fn check_content(policy_type: &str, content: &str) -> Result<(), OrganizationsError> {
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::PolicyContentLimit,
        ));
    }
    let kind = if policy_type == SCP {
        PolicyKind::Scp
    } else {
        PolicyKind::Rcp
    };
    Policy::parse_as(content, kind)
        .map(|_| ())
        .map_err(|e| OrganizationsError::MalformedPolicyDocument(e.to_string()))
}

/// `PolicySummary`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicySummary {
    id: String,
    arn: String,
    name: String,
    description: String,
    #[serde(rename = "Type")]
    policy_type: String,
    aws_managed: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyDetail {
    policy_summary: PolicySummary,
    content: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyOutput {
    policy: PolicyDetail,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatePolicyInput {
    content: String,
    description: String,
    name: String,
    #[serde(rename = "Type")]
    policy_type: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub(crate) fn create_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreatePolicyInput,
) -> Result<PolicyOutput, OrganizationsError> {
    let org = policy_managing_organization(env, tx)?;
    require_supported(&input.policy_type)?;
    check_content(&input.policy_type, &input.content)?;
    tags::check_new(&input.tags)?;
    let existing = records::policies(tx, &org.id)?;
    let same_type = existing
        .iter()
        .filter(|p| p.policy_type == input.policy_type);
    if same_type.clone().any(|p| p.name == input.name)
        || default_policy(&input.policy_type).is_some_and(|p| p.name == input.name)
    {
        return Err(OrganizationsError::DuplicatePolicy);
    }
    if same_type.count() >= max_policies(&input.policy_type) {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::PolicyNumberLimit,
        ));
    }
    let id = loop {
        let candidate = ids::policy_id(env);
        if records::policy(tx, &org.id, &candidate)?.is_none() {
            break candidate;
        }
    };
    let record = PolicyRecord {
        organization_id: org.id.clone(),
        arn: ids::policy_arn(&org.management_account_id, &org.id, &input.policy_type, &id),
        id,
        name: input.name,
        description: input.description,
        policy_type: input.policy_type,
        content: input.content,
        tags: input.tags,
    };
    records::put_policy(tx, &record)?;
    Ok(AnyPolicy::Customer(record).described())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdatePolicyInput {
    policy_id: String,
    name: Option<String>,
    description: Option<String>,
    content: Option<String>,
}

pub(crate) fn update_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdatePolicyInput,
) -> Result<PolicyOutput, OrganizationsError> {
    let org = policy_managing_organization(env, tx)?;
    let mut policy = require_customer(tx, &org, &input.policy_id)?;
    if let Some(name) = input.name
        && name != policy.name
    {
        let taken = records::policies(tx, &org.id)?
            .iter()
            .any(|p| p.policy_type == policy.policy_type && p.name == name);
        if taken {
            return Err(OrganizationsError::DuplicatePolicy);
        }
        policy.name = name;
    }
    if let Some(description) = input.description {
        policy.description = description;
    }
    if let Some(content) = input.content {
        check_content(&policy.policy_type, &content)?;
        policy.content = content;
    }
    records::put_policy(tx, &policy)?;
    Ok(AnyPolicy::Customer(policy).described())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyIdInput {
    policy_id: String,
}

pub(crate) fn delete_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyIdInput,
) -> Result<Empty, OrganizationsError> {
    let org = policy_managing_organization(env, tx)?;
    let policy = require_customer(tx, &org, &input.policy_id)?;
    let in_use = Target::all(tx, &org)?
        .iter()
        .any(|t| t.attached(&org).contains(&policy.id));
    if in_use {
        return Err(OrganizationsError::PolicyInUse);
    }
    tx.delete(records::POLICIES, &format!("{}/{}", org.id, policy.id))?;
    Ok(Empty {})
}

pub(crate) fn describe_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: PolicyIdInput,
) -> Result<PolicyOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    Ok(require(tx, &org, &input.policy_id)?.described())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPoliciesInput {
    filter: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PoliciesOutput {
    pub(crate) policies: Vec<PolicySummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

pub(crate) fn list_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPoliciesInput,
) -> Result<PoliciesOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let mut all: Vec<AnyPolicy> = AWS_MANAGED
        .iter()
        .copied()
        .filter(|p| p.policy_type == input.filter)
        .map(AnyPolicy::Aws)
        .collect();
    all.extend(
        records::policies(tx, &org.id)?
            .into_iter()
            .filter(|p| p.policy_type == input.filter)
            .map(AnyPolicy::Customer),
    );
    let page = paging::page(
        all,
        |p| p.id().to_owned(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(PoliciesOutput {
        policies: page.items.iter().map(AnyPolicy::summary).collect(),
        next_token: page.next,
    })
}
