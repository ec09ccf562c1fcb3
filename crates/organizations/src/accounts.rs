//! Accounts: CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus,
//! DescribeAccount, ListAccounts, ListAccountsForParent, MoveAccount,
//! RemoveAccountFromOrganization, LeaveOrganization, CloseAccount.
//!
//! CreateAccount makes a real Rampart account, as AWS does: its own root user (without
//! access keys) and the role `OrganizationAccountAccessRole` (or the name given) trusting
//! the management account, with AdministratorAccess. AWS creates accounts asynchronously;
//! Rampart finishes before answering, so the status CreateAccount returns is final and
//! DescribeCreateAccountStatus reports the same.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::OrganizationsError;
use crate::attachments::default_attachments;
use crate::error::Constraint;
use crate::ids;
use crate::organization::{Empty, NoInput};
use crate::paging;
use crate::records::{
    self, ACTIVE, AccountRecord, CreateAccountStatusRecord, OrganizationRecord, SUSPENDED, Tag,
    managed_organization,
};
use crate::resources::authorization_targets;
use crate::tags;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("CreateAccount", "organizations:CreateAccount", create_account)
            .partial("IamUserAccessToBilling is accepted and has no effect (Rampart has no billing console)"),
        Operation::read(
            "DescribeCreateAccountStatus",
            "organizations:DescribeCreateAccountStatus",
            describe_create_account_status,
        ),
        Operation::read(
            "ListCreateAccountStatus",
            "organizations:ListCreateAccountStatus",
            list_create_account_status,
        ),
        Operation::read(
            "DescribeAccount",
            "organizations:DescribeAccount",
            describe_account,
        )
        .authorization_targets(authorization_targets),
        Operation::read("ListAccounts", "organizations:ListAccounts", list_accounts),
        Operation::read(
            "ListAccountsForParent",
            "organizations:ListAccountsForParent",
            list_accounts_for_parent,
        )
        .authorization_targets(authorization_targets),
        Operation::write("MoveAccount", "organizations:MoveAccount", move_account)
            .authorization_targets(authorization_targets),
        Operation::write(
            "RemoveAccountFromOrganization",
            "organizations:RemoveAccountFromOrganization",
            remove_account_from_organization,
        )
        .authorization_targets(authorization_targets)
        .partial("a created account may leave at once: Rampart asks for no standalone sign-up details and no 7-day wait"),
        Operation::write(
            "LeaveOrganization",
            "organizations:LeaveOrganization",
            leave_organization,
        )
        .partial("a created account may leave at once: Rampart asks for no standalone sign-up details and no 7-day wait"),
        Operation::write("CloseAccount", "organizations:CloseAccount", close_account)
            .authorization_targets(authorization_targets)
            .partial("the closed account is SUSPENDED at once and stays in the organization; its principals are not locked out"),
    ]
}

/// The most accounts an organization holds by default (AWS's quota; closed accounts count
/// until they are gone).
pub(crate) const MAX_ACCOUNTS: usize = 10;

/// The role CreateAccount makes when the request names none.
const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// `CreateAccountStatus`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateAccountStatus {
    id: String,
    account_name: String,
    state: String,
    requested_timestamp: String,
    completed_timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
}

impl CreateAccountStatus {
    fn of(record: &CreateAccountStatusRecord) -> Self {
        Self {
            id: record.id.clone(),
            account_name: record.account_name.clone(),
            state: record.state.clone(),
            requested_timestamp: record.requested_timestamp.clone(),
            completed_timestamp: record.completed_timestamp.clone(),
            account_id: record.account_id.clone(),
            failure_reason: record.failure_reason.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateAccountStatusOutput {
    create_account_status: CreateAccountStatus,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateAccountInput {
    email: String,
    account_name: String,
    role_name: Option<String>,
    iam_user_access_to_billing: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub(crate) fn create_account(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateAccountInput,
) -> Result<CreateAccountStatusOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    // Rampart has no billing console to open or close to IAM users.
    let _ = input.iam_user_access_to_billing;
    tags::check_new(&input.tags)?;
    if records::accounts(tx, &org.id)?.len() >= MAX_ACCOUNTS {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::AccountNumberLimit,
        ));
    }
    let now = aws_timestamp(env.now);
    let mut status = CreateAccountStatusRecord {
        organization_id: org.id.clone(),
        id: ids::create_account_request_id(env),
        account_name: input.account_name.clone(),
        state: "SUCCEEDED".to_owned(),
        requested_timestamp: now.clone(),
        completed_timestamp: now.clone(),
        account_id: None,
        failure_reason: None,
    };
    // An email address names one AWS account; AWS reports a taken one as the request's
    // failure, not the call's.
    let email_taken =
        rampart_store::scan_json::<AccountRecord>(tx, records::ACCOUNTS, "", None, usize::MAX)?
            .iter()
            .any(|(_, a)| a.email.eq_ignore_ascii_case(&input.email));
    if email_taken {
        status.state = "FAILED".to_owned();
        status.failure_reason = Some("EMAIL_ALREADY_EXISTS".to_owned());
    } else {
        let role_name = input.role_name.as_deref().unwrap_or(DEFAULT_ROLE_NAME);
        let account_id = rampart_iam::account::create_member_account(
            tx,
            &org.management_account_id,
            role_name,
            env.entropy,
            &now,
        )?;
        records::put_account(
            tx,
            &AccountRecord {
                organization_id: org.id.clone(),
                arn: ids::account_arn(&org.management_account_id, &org.id, &account_id),
                id: account_id.clone(),
                email: input.email,
                name: input.account_name,
                state: ACTIVE.to_owned(),
                joined_method: "CREATED".to_owned(),
                joined_timestamp: now,
                parent_id: org.root.id.clone(),
                attached: default_attachments(&org),
                tags: input.tags,
                closed_timestamp: None,
            },
        )?;
        status.account_id = Some(account_id);
    }
    records::put_create_account_status(tx, &status)?;
    Ok(CreateAccountStatusOutput {
        create_account_status: CreateAccountStatus::of(&status),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeCreateAccountStatusInput {
    create_account_request_id: String,
}

pub(crate) fn describe_create_account_status(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeCreateAccountStatusInput,
) -> Result<CreateAccountStatusOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let status = records::create_account_status(tx, &org.id, &input.create_account_request_id)?
        .ok_or(OrganizationsError::CreateAccountStatusNotFound)?;
    Ok(CreateAccountStatusOutput {
        create_account_status: CreateAccountStatus::of(&status),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListCreateAccountStatusInput {
    #[serde(default)]
    states: Vec<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListCreateAccountStatusOutput {
    create_account_statuses: Vec<CreateAccountStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_create_account_status(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListCreateAccountStatusInput,
) -> Result<ListCreateAccountStatusOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let statuses: Vec<CreateAccountStatusRecord> = records::create_account_statuses(tx, &org.id)?
        .into_iter()
        .filter(|s| input.states.is_empty() || input.states.contains(&s.state))
        .collect();
    let page = paging::page(
        statuses,
        |s| s.id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListCreateAccountStatusOutput {
        create_account_statuses: page.items.iter().map(CreateAccountStatus::of).collect(),
        next_token: page.next,
    })
}

/// `Account`, as AWS describes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Account {
    id: String,
    arn: String,
    email: String,
    name: String,
    status: String,
    state: String,
    paths: Vec<String>,
    joined_method: String,
    joined_timestamp: String,
}

impl Account {
    fn of(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
        account: &AccountRecord,
    ) -> Result<Self, OrganizationsError> {
        let path = format!(
            "{}{}/",
            records::path_below(tx, org, &account.parent_id)?,
            account.id
        );
        Ok(Self {
            id: account.id.clone(),
            arn: account.arn.clone(),
            email: account.email.clone(),
            name: account.name.clone(),
            status: account.state.clone(),
            state: account.state.clone(),
            paths: vec![path],
            joined_method: account.joined_method.clone(),
            joined_timestamp: account.joined_timestamp.clone(),
        })
    }
}

/// The account `id` of `org`, or AccountNotFoundException.
pub(crate) fn require_account(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<AccountRecord, OrganizationsError> {
    records::account(tx, id)?
        .filter(|a| a.organization_id == org.id)
        .ok_or(OrganizationsError::AccountNotFound)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountIdInput {
    account_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountOutput {
    account: Account,
}

pub(crate) fn describe_account(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: AccountIdInput,
) -> Result<AccountOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let account = require_account(tx, &org, &input.account_id)?;
    Ok(AccountOutput {
        account: Account::of(tx, &org, &account)?,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountsOutput {
    accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn accounts_page(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    accounts: Vec<AccountRecord>,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<AccountsOutput, OrganizationsError> {
    let page = paging::page(accounts, |a| a.id.clone(), next_token, max_results)?;
    let mut out = Vec::with_capacity(page.items.len());
    for account in &page.items {
        out.push(Account::of(tx, org, account)?);
    }
    Ok(AccountsOutput {
        accounts: out,
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAccountsInput {
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub(crate) fn list_accounts(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAccountsInput,
) -> Result<AccountsOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let accounts = records::accounts(tx, &org.id)?;
    accounts_page(
        tx,
        &org,
        accounts,
        input.next_token.as_deref(),
        input.max_results,
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAccountsForParentInput {
    parent_id: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub(crate) fn list_accounts_for_parent(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAccountsForParentInput,
) -> Result<AccountsOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    if !records::is_parent(tx, &org, &input.parent_id)? {
        return Err(OrganizationsError::ParentNotFound);
    }
    let accounts: Vec<AccountRecord> = records::accounts(tx, &org.id)?
        .into_iter()
        .filter(|a| a.parent_id == input.parent_id)
        .collect();
    accounts_page(
        tx,
        &org,
        accounts,
        input.next_token.as_deref(),
        input.max_results,
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MoveAccountInput {
    account_id: String,
    source_parent_id: String,
    destination_parent_id: String,
}

pub(crate) fn move_account(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: MoveAccountInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let mut account = require_account(tx, &org, &input.account_id)?;
    if !records::is_parent(tx, &org, &input.source_parent_id)? {
        return Err(OrganizationsError::SourceParentNotFound);
    }
    if !records::is_parent(tx, &org, &input.destination_parent_id)? {
        return Err(OrganizationsError::DestinationParentNotFound);
    }
    if account.parent_id == input.destination_parent_id {
        return Err(OrganizationsError::DuplicateAccount);
    }
    if account.parent_id != input.source_parent_id {
        return Err(OrganizationsError::AccountNotFound);
    }
    account.parent_id = input.destination_parent_id;
    records::put_account(tx, &account)?;
    Ok(Empty {})
}

pub(crate) fn remove_account_from_organization(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AccountIdInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let account = require_account(tx, &org, &input.account_id)?;
    leave(tx, &org, &account)
}

/// LeaveOrganization: the calling member account removes itself, on the same terms as
/// RemoveAccountFromOrganization.
pub(crate) fn leave_organization(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: NoInput,
) -> Result<Empty, OrganizationsError> {
    let org = records::caller_organization(env, tx)?;
    let account = require_account(tx, &org, &env.caller.account_id)?;
    leave(tx, &org, &account)
}

/// Takes `account` out of `org`: never the management account, nor a delegated administrator.
fn leave(
    tx: &mut dyn WriteTx,
    org: &OrganizationRecord,
    account: &AccountRecord,
) -> Result<Empty, OrganizationsError> {
    if account.id == org.management_account_id {
        return Err(OrganizationsError::MasterCannotLeaveOrganization);
    }
    crate::delegation::check_leaving(tx, &org.id, &account.id)?;
    tx.delete(records::ACCOUNTS, &account.id)?;
    Ok(Empty {})
}

/// Whether `timestamp` (AWS format) is within the 30 days before `now`.
fn within_30_days(timestamp: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(timestamp, &Rfc3339).is_ok_and(|t| now - t < time::Duration::days(30))
}

pub(crate) fn close_account(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AccountIdInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let mut account = require_account(tx, &org, &input.account_id)?;
    if account.id == org.management_account_id {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotCloseManagementAccount,
        ));
    }
    if account.state == SUSPENDED {
        return Err(OrganizationsError::AccountAlreadyClosed);
    }
    // AWS lets an organization close 10 % of its member accounts in 30 days, at least 10
    // and at most 1,000.
    let accounts = records::accounts(tx, &org.id)?;
    let members = accounts.len().saturating_sub(1);
    let recently_closed = accounts
        .iter()
        .filter_map(|a| a.closed_timestamp.as_deref())
        .filter(|t| within_30_days(t, env.now))
        .count();
    if recently_closed >= (members / 10).clamp(10, 1000) {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::CloseAccountQuota,
        ));
    }
    account.state = SUSPENDED.to_owned();
    account.closed_timestamp = Some(aws_timestamp(env.now));
    records::put_account(tx, &account)?;
    Ok(Empty {})
}
