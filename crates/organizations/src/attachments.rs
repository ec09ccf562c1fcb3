//! Policy types and attachments: EnablePolicyType, DisablePolicyType, AttachPolicy,
//! DetachPolicy, ListPoliciesForTarget, ListTargetsForPolicy.
//!
//! As at AWS: enabling a type attaches its AWS managed policy (`FullAWSAccess`,
//! `RCPFullAWSAccess`) to the root, every OU and every account, and to each OU and account
//! made later; disabling it detaches every policy of the type; every target keeps at least
//! one SCP while SCPs are enabled; `RCPFullAWSAccess` never leaves.

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::error::{Constraint, InvalidInput};
use crate::organization::{Empty, PolicyTypeSummary, policy_types};
use crate::paging;
use crate::policies::{self, AnyPolicy, PoliciesOutput, SCP};
use crate::records::{self, OrganizationRecord, Target, managed_organization};
use crate::resource_policy::policy_managing_organization;
use crate::resources::{authorization_targets, policy_management_targets};

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    let types = "only SERVICE_CONTROL_POLICY and RESOURCE_CONTROL_POLICY (other types answer NotImplemented)";
    vec![
        Operation::write(
            "EnablePolicyType",
            "organizations:EnablePolicyType",
            enable_policy_type,
        )
        .authorization_targets(authorization_targets)
        .partial(types),
        Operation::write(
            "DisablePolicyType",
            "organizations:DisablePolicyType",
            disable_policy_type,
        )
        .authorization_targets(authorization_targets),
        Operation::write("AttachPolicy", "organizations:AttachPolicy", attach_policy)
            .authorization_targets(policy_management_targets),
        Operation::write("DetachPolicy", "organizations:DetachPolicy", detach_policy)
            .authorization_targets(policy_management_targets),
        Operation::read(
            "ListPoliciesForTarget",
            "organizations:ListPoliciesForTarget",
            list_policies_for_target,
        )
        .authorization_targets(authorization_targets),
        Operation::read(
            "ListTargetsForPolicy",
            "organizations:ListTargetsForPolicy",
            list_targets_for_policy,
        )
        .authorization_targets(authorization_targets),
    ]
}

/// The most policies of one type a target may have attached.
const MAX_ATTACHED_PER_TYPE: usize = 5;

/// Attaches the AWS managed policy of every type enabled in `org` to a new OU's or
/// account's list of attachments.
pub(crate) fn default_attachments(org: &OrganizationRecord) -> Vec<String> {
    org.root
        .policy_types
        .iter()
        .filter_map(|t| policies::default_policy(t))
        .map(|p| p.id.to_owned())
        .collect()
}

/// The type of each attached policy ID (AWS's own by their IDs, the organization's from
/// the store), so limits can count by type.
fn attached_of_type(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    attached: &[String],
    policy_type: &str,
) -> Result<Vec<String>, OrganizationsError> {
    let mut of_type = Vec::new();
    for id in attached {
        if AnyPolicy::load(tx, org, id)?.is_some_and(|p| p.policy_type() == policy_type) {
            of_type.push(id.clone());
        }
    }
    Ok(of_type)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyTypeInput {
    root_id: String,
    policy_type: String,
}

/// `Root`, as AWS returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Root {
    id: String,
    arn: String,
    name: String,
    policy_types: Vec<PolicyTypeSummary>,
}

impl Root {
    pub(crate) fn of(org: &OrganizationRecord) -> Self {
        Self {
            id: org.root.id.clone(),
            arn: org.root.arn.clone(),
            name: org.root.name.clone(),
            policy_types: policy_types(&org.root),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RootOutput {
    root: Root,
}

fn require_root(org: &OrganizationRecord, root_id: &str) -> Result<(), OrganizationsError> {
    if org.root.id == root_id {
        Ok(())
    } else {
        Err(OrganizationsError::RootNotFound)
    }
}

pub(crate) fn enable_policy_type(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyTypeInput,
) -> Result<RootOutput, OrganizationsError> {
    let mut org = managed_organization(env, tx)?;
    require_root(&org, &input.root_id)?;
    policies::require_supported(&input.policy_type)?;
    if org.feature_set != "ALL" {
        return Err(OrganizationsError::PolicyTypeNotAvailableForOrganization);
    }
    if org.enabled(&input.policy_type) {
        return Err(OrganizationsError::PolicyTypeAlreadyEnabled);
    }
    org.root.policy_types.push(input.policy_type.clone());
    if let Some(default) = policies::default_policy(&input.policy_type) {
        for mut target in Target::all(tx, &org)? {
            let attached = target.attached_mut(&mut org);
            if !attached.iter().any(|id| id == default.id) {
                attached.push(default.id.to_owned());
            }
            // The root is saved with the organization, below.
            if !matches!(target, Target::Root) {
                target.save(tx, &org)?;
            }
        }
    }
    records::put_organization(tx, &org)?;
    Ok(RootOutput {
        root: Root::of(&org),
    })
}

pub(crate) fn disable_policy_type(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyTypeInput,
) -> Result<RootOutput, OrganizationsError> {
    let mut org = managed_organization(env, tx)?;
    require_root(&org, &input.root_id)?;
    if !org.enabled(&input.policy_type) {
        return Err(OrganizationsError::PolicyTypeNotEnabled);
    }
    org.root.policy_types.retain(|t| *t != input.policy_type);
    for mut target in Target::all(tx, &org)? {
        let of_type = attached_of_type(tx, &org, target.attached(&org), &input.policy_type)?;
        if of_type.is_empty() {
            continue;
        }
        target
            .attached_mut(&mut org)
            .retain(|id| !of_type.contains(id));
        if !matches!(target, Target::Root) {
            target.save(tx, &org)?;
        }
    }
    records::put_organization(tx, &org)?;
    Ok(RootOutput {
        root: Root::of(&org),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttachmentInput {
    policy_id: String,
    target_id: String,
}

pub(crate) fn attach_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AttachmentInput,
) -> Result<Empty, OrganizationsError> {
    let mut org = policy_managing_organization(env, tx)?;
    let policy = policies::require(tx, &org, &input.policy_id)?;
    let mut target =
        Target::load(tx, &org, &input.target_id)?.ok_or(OrganizationsError::TargetNotFound)?;
    if !org.enabled(policy.policy_type()) {
        return Err(OrganizationsError::PolicyTypeNotEnabled);
    }
    if target.attached(&org).iter().any(|id| id == policy.id()) {
        return Err(OrganizationsError::DuplicatePolicyAttachment);
    }
    let of_type = attached_of_type(tx, &org, target.attached(&org), policy.policy_type())?;
    if of_type.len() >= MAX_ATTACHED_PER_TYPE {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::MaxPolicyTypeAttachments,
        ));
    }
    target.attached_mut(&mut org).push(policy.id().to_owned());
    target.save(tx, &org)?;
    Ok(Empty {})
}

pub(crate) fn detach_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AttachmentInput,
) -> Result<Empty, OrganizationsError> {
    let mut org = policy_managing_organization(env, tx)?;
    let policy = policies::require(tx, &org, &input.policy_id)?;
    let mut target =
        Target::load(tx, &org, &input.target_id)?.ok_or(OrganizationsError::TargetNotFound)?;
    if !target.attached(&org).iter().any(|id| id == policy.id()) {
        return Err(OrganizationsError::PolicyNotAttached);
    }
    if policy.id() == policies::RCP_FULL_AWS_ACCESS.id {
        return Err(OrganizationsError::InvalidInput(
            InvalidInput::NonDetachablePolicy,
        ));
    }
    if policy.policy_type() == SCP {
        let scps = attached_of_type(tx, &org, target.attached(&org), SCP)?;
        if scps.len() <= 1 {
            return Err(OrganizationsError::ConstraintViolation(
                Constraint::MinPolicyTypeAttachments,
            ));
        }
    }
    target.attached_mut(&mut org).retain(|id| id != policy.id());
    target.save(tx, &org)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPoliciesForTargetInput {
    target_id: String,
    filter: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub(crate) fn list_policies_for_target(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPoliciesForTargetInput,
) -> Result<PoliciesOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let target =
        Target::load(tx, &org, &input.target_id)?.ok_or(OrganizationsError::TargetNotFound)?;
    let mut attached = Vec::new();
    for id in target.attached(&org) {
        if let Some(policy) = AnyPolicy::load(tx, &org, id)?
            && policy.policy_type() == input.filter
        {
            attached.push(policy);
        }
    }
    let page = paging::page(
        attached,
        |p| p.id().to_owned(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(PoliciesOutput {
        policies: page.items.iter().map(AnyPolicy::summary).collect(),
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTargetsForPolicyInput {
    policy_id: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// `PolicyTargetSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyTargetSummary {
    target_id: String,
    arn: String,
    name: String,
    #[serde(rename = "Type")]
    target_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTargetsForPolicyOutput {
    targets: Vec<PolicyTargetSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_targets_for_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTargetsForPolicyInput,
) -> Result<ListTargetsForPolicyOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let policy = policies::require(tx, &org, &input.policy_id)?;
    let targets: Vec<PolicyTargetSummary> = Target::all(tx, &org)?
        .iter()
        .filter(|t| t.attached(&org).iter().any(|id| id == policy.id()))
        .map(|t| PolicyTargetSummary {
            target_id: t.id(&org).to_owned(),
            arn: t.arn(&org).to_owned(),
            name: t.name(&org).to_owned(),
            target_type: t.target_type(),
        })
        .collect();
    let page = paging::page(
        targets,
        |t| t.target_id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListTargetsForPolicyOutput {
        targets: page.items,
        next_token: page.next,
    })
}
