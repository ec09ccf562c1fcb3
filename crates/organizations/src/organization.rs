//! The organization itself: CreateOrganization, DescribeOrganization, DeleteOrganization.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::ids;
use crate::records::{
    self, ACTIVE, AccountRecord, OrganizationRecord, RootRecord, caller_organization,
    managed_organization,
};
use crate::resources::authorization_targets;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateOrganization",
            "organizations:CreateOrganization",
            create_organization,
        )
        .partial("the management account's email and name are placeholders (Rampart keeps no account contact details)"),
        Operation::read(
            "DescribeOrganization",
            "organizations:DescribeOrganization",
            describe_organization,
        ),
        Operation::write(
            "DeleteOrganization",
            "organizations:DeleteOrganization",
            delete_organization,
        )
        .authorization_targets(authorization_targets),
    ]
}

/// The email Rampart reports for a management account: Rampart keeps no contact details,
/// and AWS's output needs one.
fn placeholder_email(account_id: &str) -> String {
    format!("management-account@{account_id}.rampart.invalid")
}

/// The name Rampart gives a management account in its organization.
pub(crate) const MANAGEMENT_ACCOUNT_NAME: &str = "Management account";

/// An empty answer.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// A policy type's state in a root (`PolicyTypeSummary`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyTypeSummary {
    #[serde(rename = "Type")]
    policy_type: String,
    status: &'static str,
}

/// The root's enabled policy types, as AWS lists them.
pub(crate) fn policy_types(root: &RootRecord) -> Vec<PolicyTypeSummary> {
    root.policy_types
        .iter()
        .map(|t| PolicyTypeSummary {
            policy_type: t.clone(),
            status: "ENABLED",
        })
        .collect()
}

/// `Organization`, as AWS describes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Organization {
    id: String,
    arn: String,
    feature_set: String,
    master_account_arn: String,
    master_account_id: String,
    master_account_email: String,
    available_policy_types: Vec<PolicyTypeSummary>,
}

impl Organization {
    fn of(org: &OrganizationRecord) -> Self {
        Self {
            id: org.id.clone(),
            arn: org.arn.clone(),
            feature_set: org.feature_set.clone(),
            master_account_arn: ids::account_arn(
                &org.management_account_id,
                &org.id,
                &org.management_account_id,
            ),
            master_account_id: org.management_account_id.clone(),
            master_account_email: org.management_account_email.clone(),
            available_policy_types: policy_types(&org.root),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrganizationOutput {
    organization: Organization,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateOrganizationInput {
    feature_set: Option<String>,
}

pub(crate) fn create_organization(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateOrganizationInput,
) -> Result<OrganizationOutput, OrganizationsError> {
    let management = env.caller.account_id.clone();
    if records::account(tx, &management)?.is_some() {
        return Err(OrganizationsError::AlreadyInOrganization);
    }
    let id = loop {
        let candidate = ids::organization_id(env);
        if records::organization(tx, &candidate)?.is_none() {
            break candidate;
        }
    };
    let root_id = ids::root_id(env);
    let org = OrganizationRecord {
        arn: ids::organization_arn(&management, &id),
        feature_set: input.feature_set.unwrap_or_else(|| "ALL".to_owned()),
        management_account_id: management.clone(),
        management_account_email: placeholder_email(&management),
        root: RootRecord {
            arn: ids::root_arn(&management, &id, &root_id),
            id: root_id.clone(),
            name: "Root".to_owned(),
            policy_types: Vec::new(),
            attached: Vec::new(),
            tags: Vec::new(),
        },
        id,
    };
    records::put_organization(tx, &org)?;
    records::put_account(
        tx,
        &AccountRecord {
            organization_id: org.id.clone(),
            arn: ids::account_arn(&management, &org.id, &management),
            id: management.clone(),
            email: org.management_account_email.clone(),
            name: MANAGEMENT_ACCOUNT_NAME.to_owned(),
            state: ACTIVE.to_owned(),
            joined_method: "INVITED".to_owned(),
            joined_timestamp: aws_timestamp(env.now),
            parent_id: root_id,
            attached: Vec::new(),
            tags: Vec::new(),
            closed_timestamp: None,
        },
    )?;
    Ok(OrganizationOutput {
        organization: Organization::of(&org),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct NoInput {}

pub(crate) fn describe_organization(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: NoInput,
) -> Result<OrganizationOutput, OrganizationsError> {
    let org = caller_organization(env, tx)?;
    Ok(OrganizationOutput {
        organization: Organization::of(&org),
    })
}

pub(crate) fn delete_organization(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: NoInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let accounts = records::accounts(tx, &org.id)?;
    if accounts.iter().any(|a| a.id != org.management_account_id) {
        return Err(OrganizationsError::OrganizationNotEmpty);
    }
    for ns in [
        records::UNITS,
        records::POLICIES,
        records::CREATE_ACCOUNT_STATUSES,
        crate::delegation::SERVICE_ACCESS,
        crate::delegation::DELEGATIONS,
    ] {
        records::delete_scoped(tx, ns, &org.id)?;
    }
    tx.delete(records::ACCOUNTS, &org.management_account_id)?;
    tx.delete(records::ORGANIZATIONS, &org.id)?;
    Ok(Empty {})
}
