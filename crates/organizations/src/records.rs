//! What Organizations keeps, and the reads every family shares.
//!
//! Keys: an organization by its ID; an account by its account ID (an account belongs to at
//! most one organization, and authorization looks accounts up by ID on every request); OUs,
//! policies and create-account requests by `<organization>/<ID>`. The root lives inside its
//! organization's record (an organization has exactly one). Policy attachments live on their
//! targets, in attachment order, so gathering an account's SCPs reads only its own path.

use rampart_service::Env;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::ids::{self, IdKind};

/// Namespace of organizations, keyed by organization ID.
pub(crate) const ORGANIZATIONS: &str = "organizations.organization";
/// Namespace of member accounts (the management account included), keyed by account ID.
pub(crate) const ACCOUNTS: &str = "organizations.account";
/// Namespace of OUs, keyed by `<organization>/<ou>`.
pub(crate) const UNITS: &str = "organizations.unit";
/// Namespace of customer managed policies, keyed by `<organization>/<policy>`.
pub(crate) const POLICIES: &str = "organizations.policy";
/// Namespace of CreateAccount requests, keyed by `<organization>/<request>`.
pub(crate) const CREATE_ACCOUNT_STATUSES: &str = "organizations.create-account-status";

/// The deepest an OU may sit below the root, as AWS allows.
pub(crate) const MAX_UNIT_DEPTH: usize = 5;

/// A tag, as Organizations spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value (may be empty).
    pub value: String,
}

/// The organization's root.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RootRecord {
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) name: String,
    /// The policy types enabled in the root, in the order they were enabled.
    pub(crate) policy_types: Vec<String>,
    /// IDs of the policies attached to the root, in attachment order.
    pub(crate) attached: Vec<String>,
    pub(crate) tags: Vec<Tag>,
}

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrganizationRecord {
    pub(crate) id: String,
    pub(crate) arn: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub(crate) feature_set: String,
    pub(crate) management_account_id: String,
    pub(crate) management_account_email: String,
    pub(crate) root: RootRecord,
}

impl OrganizationRecord {
    /// Whether `policy_type` is enabled in the root.
    pub(crate) fn enabled(&self, policy_type: &str) -> bool {
        self.root.policy_types.iter().any(|t| t == policy_type)
    }
}

/// An account's state (AWS's `State`; its deprecated `Status` says the same for these).
pub(crate) const ACTIVE: &str = "ACTIVE";
/// A closed account, in its post-closure period.
pub(crate) const SUSPENDED: &str = "SUSPENDED";

/// An account of an organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountRecord {
    pub(crate) organization_id: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) email: String,
    pub(crate) name: String,
    /// [`ACTIVE`] or [`SUSPENDED`].
    pub(crate) state: String,
    /// `CREATED` or `INVITED` (the management account joins as `INVITED`, as at AWS).
    pub(crate) joined_method: String,
    pub(crate) joined_timestamp: String,
    /// The root or OU it sits in.
    pub(crate) parent_id: String,
    pub(crate) attached: Vec<String>,
    pub(crate) tags: Vec<Tag>,
    /// When it was closed, if it was.
    #[serde(default)]
    pub(crate) closed_timestamp: Option<String>,
}

/// An organizational unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnitRecord {
    pub(crate) organization_id: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) parent_id: String,
    pub(crate) attached: Vec<String>,
    pub(crate) tags: Vec<Tag>,
}

/// A customer managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PolicyRecord {
    pub(crate) organization_id: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) policy_type: String,
    pub(crate) content: String,
    pub(crate) tags: Vec<Tag>,
}

/// A CreateAccount request and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateAccountStatusRecord {
    pub(crate) organization_id: String,
    pub(crate) id: String,
    pub(crate) account_name: String,
    /// `SUCCEEDED` or `FAILED`: Rampart completes each request before answering it.
    pub(crate) state: String,
    pub(crate) requested_timestamp: String,
    pub(crate) completed_timestamp: String,
    pub(crate) account_id: Option<String>,
    pub(crate) failure_reason: Option<String>,
}

fn scoped(org: &str, id: &str) -> String {
    format!("{org}/{id}")
}

/// The organization `id`, if it exists.
pub(crate) fn organization(
    tx: &mut (impl ReadTx + ?Sized),
    id: &str,
) -> Result<Option<OrganizationRecord>, StoreError> {
    get_json(tx, ORGANIZATIONS, id)
}

/// Stores `org`.
pub(crate) fn put_organization(
    tx: &mut (impl WriteTx + ?Sized),
    org: &OrganizationRecord,
) -> Result<(), StoreError> {
    put_json(tx, ORGANIZATIONS, &org.id, org)
}

/// The organization account `id`, if the account is in an organization.
pub(crate) fn account(
    tx: &mut (impl ReadTx + ?Sized),
    id: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    get_json(tx, ACCOUNTS, id)
}

/// Stores `account`.
pub(crate) fn put_account(
    tx: &mut (impl WriteTx + ?Sized),
    account: &AccountRecord,
) -> Result<(), StoreError> {
    put_json(tx, ACCOUNTS, &account.id, account)
}

/// Every account of the organization `org`, in ID order.
pub(crate) fn accounts(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
) -> Result<Vec<AccountRecord>, StoreError> {
    Ok(
        scan_json::<AccountRecord>(tx, ACCOUNTS, "", None, usize::MAX)?
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| a.organization_id == org)
            .collect(),
    )
}

/// The OU `id` of `org`, if it exists.
pub(crate) fn unit(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    id: &str,
) -> Result<Option<UnitRecord>, StoreError> {
    get_json(tx, UNITS, &scoped(org, id))
}

/// Stores `unit`.
pub(crate) fn put_unit(
    tx: &mut (impl WriteTx + ?Sized),
    unit: &UnitRecord,
) -> Result<(), StoreError> {
    put_json(tx, UNITS, &scoped(&unit.organization_id, &unit.id), unit)
}

/// Removes the OU `id` of `org`.
pub(crate) fn delete_unit(
    tx: &mut (impl WriteTx + ?Sized),
    org: &str,
    id: &str,
) -> Result<(), StoreError> {
    tx.delete(UNITS, &scoped(org, id)).map(|_| ())
}

/// Every OU of `org`, in ID order.
pub(crate) fn units(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
) -> Result<Vec<UnitRecord>, StoreError> {
    Ok(scan_json(tx, UNITS, &format!("{org}/"), None, usize::MAX)?
        .into_iter()
        .map(|(_, u)| u)
        .collect())
}

/// The customer managed policy `id` of `org`, if it exists.
pub(crate) fn policy(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    id: &str,
) -> Result<Option<PolicyRecord>, StoreError> {
    get_json(tx, POLICIES, &scoped(org, id))
}

/// Stores `policy`.
pub(crate) fn put_policy(
    tx: &mut (impl WriteTx + ?Sized),
    policy: &PolicyRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        POLICIES,
        &scoped(&policy.organization_id, &policy.id),
        policy,
    )
}

/// Every customer managed policy of `org`, in ID order.
pub(crate) fn policies(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
) -> Result<Vec<PolicyRecord>, StoreError> {
    Ok(
        scan_json(tx, POLICIES, &format!("{org}/"), None, usize::MAX)?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
    )
}

/// The CreateAccount request `id` of `org`, if it exists.
pub(crate) fn create_account_status(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
    id: &str,
) -> Result<Option<CreateAccountStatusRecord>, StoreError> {
    get_json(tx, CREATE_ACCOUNT_STATUSES, &scoped(org, id))
}

/// Stores `status`.
pub(crate) fn put_create_account_status(
    tx: &mut (impl WriteTx + ?Sized),
    status: &CreateAccountStatusRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        CREATE_ACCOUNT_STATUSES,
        &scoped(&status.organization_id, &status.id),
        status,
    )
}

/// Every CreateAccount request of `org`, in ID order.
pub(crate) fn create_account_statuses(
    tx: &mut (impl ReadTx + ?Sized),
    org: &str,
) -> Result<Vec<CreateAccountStatusRecord>, StoreError> {
    Ok(scan_json(
        tx,
        CREATE_ACCOUNT_STATUSES,
        &format!("{org}/"),
        None,
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, s)| s)
    .collect())
}

/// Removes every document of `ns` under `org`'s prefix.
pub(crate) fn delete_scoped(
    tx: &mut (impl WriteTx + ?Sized),
    ns: &str,
    org: &str,
) -> Result<(), StoreError> {
    let keys: Vec<String> = tx
        .scan(ns, &format!("{org}/"), None, usize::MAX)?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    for key in keys {
        tx.delete(ns, &key)?;
    }
    Ok(())
}

/// The organization the caller's account belongs to, for the few operations any member may
/// call (DescribeOrganization).
pub(crate) fn caller_organization(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
) -> Result<OrganizationRecord, OrganizationsError> {
    let account = account(tx, &env.caller.account_id)?.ok_or(OrganizationsError::NotInUse)?;
    organization(tx, &account.organization_id)?.ok_or(OrganizationsError::NotInUse)
}

/// The organization the caller's account manages: members may not manage it (AWS answers
/// them AccessDeniedException), and accounts in no organization have none.
pub(crate) fn managed_organization(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = caller_organization(env, tx)?;
    if org.management_account_id != env.caller.account_id {
        return Err(OrganizationsError::AccessDenied);
    }
    Ok(org)
}

/// Whether `id` names the root or an OU of `org` (the containers of accounts and OUs).
pub(crate) fn is_parent(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<bool, StoreError> {
    match ids::kind_of(id) {
        Some(IdKind::Root) => Ok(id == org.root.id),
        Some(IdKind::Unit) => Ok(unit(tx, &org.id, id)?.is_some()),
        _ => Ok(false),
    }
}

/// The IDs from the root down to `parent_id` (the root first), read up the tree.
pub(crate) fn lineage(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    parent_id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut ids = vec![parent_id.to_owned()];
    let mut current = parent_id.to_owned();
    // INVARIANT: OUs nest at most MAX_UNIT_DEPTH deep; the bound only guards against a
    // damaged store looping forever.
    for _ in 0..=MAX_UNIT_DEPTH {
        if current == org.root.id {
            break;
        }
        match unit(tx, &org.id, &current)? {
            Some(unit) => {
                current.clone_from(&unit.parent_id);
                ids.push(unit.parent_id);
            }
            None => break,
        }
    }
    ids.reverse();
    Ok(ids)
}

/// The path AWS gives an entity below `parent_id`: `o-…/r-…/ou-…/` (IDs joined by `/`,
/// ending in `/`).
pub(crate) fn path_below(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    parent_id: &str,
) -> Result<String, StoreError> {
    let mut path = format!("{}/", org.id);
    for id in lineage(tx, org, parent_id)? {
        path.push_str(&id);
        path.push('/');
    }
    Ok(path)
}

/// A root, OU or account that policies attach to.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Root,
    Unit(UnitRecord),
    Account(AccountRecord),
}

impl Target {
    /// The target `id` of `org`, if it exists.
    pub(crate) fn load(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
        id: &str,
    ) -> Result<Option<Target>, StoreError> {
        Ok(match ids::kind_of(id) {
            Some(IdKind::Root) if id == org.root.id => Some(Target::Root),
            Some(IdKind::Unit) => unit(tx, &org.id, id)?.map(Target::Unit),
            Some(IdKind::Account) => account(tx, id)?
                .filter(|a| a.organization_id == org.id)
                .map(Target::Account),
            _ => None,
        })
    }

    /// Every target of `org`: the root, its OUs, its accounts.
    pub(crate) fn all(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
    ) -> Result<Vec<Target>, StoreError> {
        let mut all = vec![Target::Root];
        all.extend(units(tx, &org.id)?.into_iter().map(Target::Unit));
        all.extend(accounts(tx, &org.id)?.into_iter().map(Target::Account));
        Ok(all)
    }

    /// The IDs of the policies attached to it.
    pub(crate) fn attached<'a>(&'a self, org: &'a OrganizationRecord) -> &'a [String] {
        match self {
            Target::Root => &org.root.attached,
            Target::Unit(u) => &u.attached,
            Target::Account(a) => &a.attached,
        }
    }

    /// The IDs of the policies attached to it, to change; [`Target::save`] keeps them.
    pub(crate) fn attached_mut<'a>(
        &'a mut self,
        org: &'a mut OrganizationRecord,
    ) -> &'a mut Vec<String> {
        match self {
            Target::Root => &mut org.root.attached,
            Target::Unit(u) => &mut u.attached,
            Target::Account(a) => &mut a.attached,
        }
    }

    /// Stores it (the root with its organization).
    pub(crate) fn save(
        &self,
        tx: &mut (impl WriteTx + ?Sized),
        org: &OrganizationRecord,
    ) -> Result<(), StoreError> {
        match self {
            Target::Root => put_organization(tx, org),
            Target::Unit(u) => put_unit(tx, u),
            Target::Account(a) => put_account(tx, a),
        }
    }

    /// Its ID.
    pub(crate) fn id<'a>(&'a self, org: &'a OrganizationRecord) -> &'a str {
        match self {
            Target::Root => &org.root.id,
            Target::Unit(u) => &u.id,
            Target::Account(a) => &a.id,
        }
    }

    /// Its ARN.
    pub(crate) fn arn<'a>(&'a self, org: &'a OrganizationRecord) -> &'a str {
        match self {
            Target::Root => &org.root.arn,
            Target::Unit(u) => &u.arn,
            Target::Account(a) => &a.arn,
        }
    }

    /// Its name.
    pub(crate) fn name<'a>(&'a self, org: &'a OrganizationRecord) -> &'a str {
        match self {
            Target::Root => &org.root.name,
            Target::Unit(u) => &u.name,
            Target::Account(a) => &a.name,
        }
    }

    /// AWS's `TargetType`.
    pub(crate) fn target_type(&self) -> &'static str {
        match self {
            Target::Root => "ROOT",
            Target::Unit(_) => "ORGANIZATIONAL_UNIT",
            Target::Account(_) => "ACCOUNT",
        }
    }
}
