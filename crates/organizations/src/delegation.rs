//! Trusted access and delegated administrators: EnableAWSServiceAccess,
//! DisableAWSServiceAccess, ListAWSServiceAccessForOrganization, RegisterDelegatedAdministrator,
//! DeregisterDelegatedAdministrator, ListDelegatedAdministrators,
//! ListDelegatedServicesForAccount.
//!
//! A delegated administrator (a member account registered for a service) may also call the
//! organization's read-only operations, as at AWS ([`readable_organization`]).

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::accounts::require_account;
use crate::error::Constraint;
use crate::organization::Empty;
use crate::paging;
use crate::records::{self, OrganizationRecord, caller_organization};
use crate::resources::authorization_targets;

/// Namespace of the services with trusted access, keyed by `<organization>/<service>`.
pub(crate) const SERVICE_ACCESS: &str = "organizations.service-access";
/// Namespace of delegations, keyed by `<organization>/<account>/<service>`.
pub(crate) const DELEGATIONS: &str = "organizations.delegated-administrator";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "EnableAWSServiceAccess",
            "organizations:EnableAWSServiceAccess",
            enable_aws_service_access,
        ),
        Operation::write(
            "DisableAWSServiceAccess",
            "organizations:DisableAWSServiceAccess",
            disable_aws_service_access,
        ),
        Operation::read(
            "ListAWSServiceAccessForOrganization",
            "organizations:ListAWSServiceAccessForOrganization",
            list_aws_service_access_for_organization,
        ),
        Operation::write(
            "RegisterDelegatedAdministrator",
            "organizations:RegisterDelegatedAdministrator",
            register_delegated_administrator,
        )
        .authorization_targets(authorization_targets),
        Operation::write(
            "DeregisterDelegatedAdministrator",
            "organizations:DeregisterDelegatedAdministrator",
            deregister_delegated_administrator,
        )
        .authorization_targets(authorization_targets),
        Operation::read(
            "ListDelegatedAdministrators",
            "organizations:ListDelegatedAdministrators",
            list_delegated_administrators,
        ),
        Operation::read(
            "ListDelegatedServicesForAccount",
            "organizations:ListDelegatedServicesForAccount",
            list_delegated_services_for_account,
        )
        .authorization_targets(authorization_targets),
    ]
}

/// A service with trusted access to the organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAccessRecord {
    service_principal: String,
    date_enabled: String,
}

/// A member account registered as a service's delegated administrator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DelegationRecord {
    account_id: String,
    service_principal: String,
    delegation_enabled_date: String,
}

fn delegations(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    account: Option<&str>,
) -> Result<Vec<DelegationRecord>, OrganizationsError> {
    let prefix = match account {
        Some(account) => format!("{org}/{account}/"),
        None => format!("{org}/"),
    };
    Ok(scan_json(tx, DELEGATIONS, &prefix, None, usize::MAX)?
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}

/// What `service_principal` (`iam.amazonaws.com`) needs to know of `account`'s organization,
/// for the directory (`rampart_service::Directory::organization`).
pub fn organization_facts(
    tx: &mut dyn ReadTx,
    account: &str,
    service_principal: &str,
) -> Result<Option<rampart_service::OrganizationFacts>, StoreError> {
    let Some(member) = records::account(tx, account)? else {
        return Ok(None);
    };
    let Some(org) = records::organization(tx, &member.organization_id)? else {
        return Ok(None);
    };
    let trusted_access = get_json::<ServiceAccessRecord>(
        tx,
        SERVICE_ACCESS,
        &format!("{}/{service_principal}", org.id),
    )?
    .is_some();
    let delegated_administrators =
        scan_json::<DelegationRecord>(tx, DELEGATIONS, &format!("{}/", org.id), None, usize::MAX)?
            .into_iter()
            .filter(|(_, d)| d.service_principal == service_principal)
            .map(|(_, d)| d.account_id)
            .collect();
    Ok(Some(rampart_service::OrganizationFacts {
        all_features: org.feature_set == "ALL",
        organization_id: org.id,
        management_account: org.management_account_id,
        trusted_access,
        delegated_administrators,
    }))
}

/// The organization the caller may read: its management account's, or one the caller is a
/// delegated administrator of (AWS lets those call the read-only operations).
pub(crate) fn readable_organization(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = caller_organization(env, tx)?;
    // A member allowed by the delegation policy got here because the spine applied it.
    if org.management_account_id == env.caller.account_id
        || is_delegated_administrator(tx, &org.id, &env.caller.account_id)?
        || crate::resource_policy::exists(tx, &org)?
    {
        Ok(org)
    } else {
        Err(OrganizationsError::AccessDenied)
    }
}

/// Whether `account` is a delegated administrator (for any service) of `org`.
pub(crate) fn is_delegated_administrator(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    account: &str,
) -> Result<bool, OrganizationsError> {
    Ok(!delegations(tx, org, Some(account))?.is_empty())
}

/// Refuses to let `account` leave while it is a delegated administrator, as AWS does.
pub(crate) fn check_leaving(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    account: &str,
) -> Result<(), OrganizationsError> {
    if delegations(tx, org, Some(account))?.is_empty() {
        Ok(())
    } else {
        Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRemoveDelegatedAdministrator,
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServicePrincipalInput {
    service_principal: String,
}

pub(crate) fn enable_aws_service_access(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ServicePrincipalInput,
) -> Result<Empty, OrganizationsError> {
    let org = records::managed_organization(env, tx)?;
    if org.feature_set != "ALL" {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::AllFeaturesRequired,
        ));
    }
    let key = format!("{}/{}", org.id, input.service_principal);
    // Enabling an enabled service changes nothing, as at AWS.
    if get_json::<ServiceAccessRecord>(tx, SERVICE_ACCESS, &key)?.is_none() {
        put_json(
            tx,
            SERVICE_ACCESS,
            &key,
            &ServiceAccessRecord {
                service_principal: input.service_principal,
                date_enabled: aws_timestamp(env.now),
            },
        )?;
    }
    Ok(Empty {})
}

pub(crate) fn disable_aws_service_access(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ServicePrincipalInput,
) -> Result<Empty, OrganizationsError> {
    let org = records::managed_organization(env, tx)?;
    tx.delete(
        SERVICE_ACCESS,
        &format!("{}/{}", org.id, input.service_principal),
    )?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PageInput {
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnabledServicePrincipal {
    service_principal: String,
    date_enabled: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceAccessOutput {
    enabled_service_principals: Vec<EnabledServicePrincipal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_aws_service_access_for_organization(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: PageInput,
) -> Result<ServiceAccessOutput, OrganizationsError> {
    let org = readable_organization(env, tx)?;
    let enabled: Vec<ServiceAccessRecord> = scan_json(
        tx,
        SERVICE_ACCESS,
        &format!("{}/", org.id),
        None,
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, s)| s)
    .collect();
    let page = paging::page(
        enabled,
        |s| s.service_principal.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ServiceAccessOutput {
        enabled_service_principals: page
            .items
            .into_iter()
            .map(|s| EnabledServicePrincipal {
                service_principal: s.service_principal,
                date_enabled: s.date_enabled,
            })
            .collect(),
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DelegationInput {
    account_id: String,
    service_principal: String,
}

pub(crate) fn register_delegated_administrator(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DelegationInput,
) -> Result<Empty, OrganizationsError> {
    let org = records::managed_organization(env, tx)?;
    let account = require_account(tx, &org, &input.account_id)?;
    if account.id == org.management_account_id {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRegisterManagementAsDelegatedAdministrator,
        ));
    }
    if account.state == records::SUSPENDED {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRegisterSuspendedAsDelegatedAdministrator,
        ));
    }
    let access = format!("{}/{}", org.id, input.service_principal);
    if get_json::<ServiceAccessRecord>(tx, SERVICE_ACCESS, &access)?.is_none() {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::ServiceAccessNotEnabled,
        ));
    }
    let key = format!("{}/{}/{}", org.id, account.id, input.service_principal);
    if get_json::<DelegationRecord>(tx, DELEGATIONS, &key)?.is_some() {
        return Err(OrganizationsError::AccountAlreadyRegistered);
    }
    put_json(
        tx,
        DELEGATIONS,
        &key,
        &DelegationRecord {
            account_id: account.id,
            service_principal: input.service_principal,
            delegation_enabled_date: aws_timestamp(env.now),
        },
    )?;
    Ok(Empty {})
}

pub(crate) fn deregister_delegated_administrator(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DelegationInput,
) -> Result<Empty, OrganizationsError> {
    let org = records::managed_organization(env, tx)?;
    let account = require_account(tx, &org, &input.account_id)?;
    let key = format!("{}/{}/{}", org.id, account.id, input.service_principal);
    if get_json::<DelegationRecord>(tx, DELEGATIONS, &key)?.is_none() {
        return Err(OrganizationsError::AccountNotRegistered);
    }
    tx.delete(DELEGATIONS, &key)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDelegatedAdministratorsInput {
    service_principal: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// `DelegatedAdministrator`: the account, and when it was first made one (for the service
/// asked about, when the request names one).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DelegatedAdministrator {
    id: String,
    arn: String,
    email: String,
    name: String,
    status: String,
    state: String,
    joined_method: String,
    joined_timestamp: String,
    delegation_enabled_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DelegatedAdministratorsOutput {
    delegated_administrators: Vec<DelegatedAdministrator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_delegated_administrators(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListDelegatedAdministratorsInput,
) -> Result<DelegatedAdministratorsOutput, OrganizationsError> {
    let org = readable_organization(env, tx)?;
    let mut earliest: Vec<(String, String)> = Vec::new();
    for delegation in delegations(tx, &org.id, None)? {
        if input
            .service_principal
            .as_ref()
            .is_some_and(|s| *s != delegation.service_principal)
        {
            continue;
        }
        match earliest
            .iter_mut()
            .find(|(id, _)| *id == delegation.account_id)
        {
            // AWS timestamps sort as text.
            Some((_, date)) if delegation.delegation_enabled_date < *date => {
                *date = delegation.delegation_enabled_date;
            }
            Some(_) => {}
            None => earliest.push((delegation.account_id, delegation.delegation_enabled_date)),
        }
    }
    let page = paging::page(
        earliest,
        |(id, _)| id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    let mut out = Vec::with_capacity(page.items.len());
    for (id, date) in page.items {
        // A delegation outlives no account: leaving the organization ends it.
        let Some(account) = records::account(tx, &id)? else {
            continue;
        };
        out.push(DelegatedAdministrator {
            id: account.id,
            arn: account.arn,
            email: account.email,
            name: account.name,
            status: account.state.clone(),
            state: account.state,
            joined_method: account.joined_method,
            joined_timestamp: account.joined_timestamp,
            delegation_enabled_date: date,
        });
    }
    Ok(DelegatedAdministratorsOutput {
        delegated_administrators: out,
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDelegatedServicesInput {
    account_id: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DelegatedService {
    service_principal: String,
    delegation_enabled_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DelegatedServicesOutput {
    delegated_services: Vec<DelegatedService>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_delegated_services_for_account(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListDelegatedServicesInput,
) -> Result<DelegatedServicesOutput, OrganizationsError> {
    let org = readable_organization(env, tx)?;
    let account = require_account(tx, &org, &input.account_id)?;
    let services = delegations(tx, &org.id, Some(&account.id))?;
    if services.is_empty() {
        return Err(OrganizationsError::AccountNotRegistered);
    }
    let page = paging::page(
        services,
        |d| d.service_principal.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(DelegatedServicesOutput {
        delegated_services: page
            .items
            .into_iter()
            .map(|d| DelegatedService {
                service_principal: d.service_principal,
                delegation_enabled_date: d.delegation_enabled_date,
            })
            .collect(),
        next_token: page.next,
    })
}
