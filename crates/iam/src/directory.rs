//! IAM's answers to the directory ([`rampart_service::Directory`]): which user or role a
//! principal ARN names now, and the current ARN of a unique ID. The server's directory asks
//! these; [`IamDirectory`] answers them alone (no organizations) for unit tests.

use rampart_service::{Directory, PrincipalLookup};
use rampart_store::{ReadTx, StoreError, scan_json};

use crate::IamError;
use crate::records::{self, RoleRecord, UserRecord};

/// The user or role `arn` names now. A role is found by its name, as role principals match
/// sessions by name; a user's ARN must be its exact ARN, path included.
pub fn principal(tx: &mut dyn ReadTx, arn: &str) -> Result<PrincipalLookup, StoreError> {
    let Some((account, resource)) = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
    else {
        return Ok(PrincipalLookup::NotFound);
    };
    if crate::account::get(tx, account)?.is_none() {
        return Ok(PrincipalLookup::AccountNotServed);
    }
    let name = resource.rsplit('/').next().unwrap_or_default();
    let found = if resource.starts_with("role/") {
        found(records::role(tx, account, name))?.map(|role| role.role_id)
    } else if resource.starts_with("user/") {
        found(records::user(tx, account, name))?
            .filter(|user| user.arn == arn)
            .map(|user| user.user_id)
    } else {
        None
    };
    Ok(found.map_or(PrincipalLookup::NotFound, PrincipalLookup::Found))
}

/// The current ARNs of `account`'s users and roles whose unique IDs are in `unique_ids`, as
/// (unique ID, ARN). Read by scanning the account's users and roles once each: only a policy
/// naming entities deleted, renamed or moved since it was saved asks.
pub fn principal_arns(
    tx: &mut dyn ReadTx,
    account: &str,
    unique_ids: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    let prefix = records::account_prefix(account);
    let mut found = Vec::new();
    if unique_ids.iter().any(|id| id.starts_with("AROA")) {
        let roles = scan_json::<RoleRecord>(tx, records::ROLES, &prefix, None, usize::MAX)?;
        found.extend(
            roles
                .into_iter()
                .filter(|(_, r)| unique_ids.contains(&r.role_id.as_str()))
                .map(|(_, r)| (r.role_id, r.arn)),
        );
    }
    if unique_ids.iter().any(|id| !id.starts_with("AROA")) {
        let users = scan_json::<UserRecord>(tx, records::USERS, &prefix, None, usize::MAX)?;
        found.extend(
            users
                .into_iter()
                .filter(|(_, u)| unique_ids.contains(&u.user_id.as_str()))
                .map(|(_, u)| (u.user_id, u.arn)),
        );
    }
    Ok(found)
}

fn found<T>(record: Result<T, IamError>) -> Result<Option<T>, StoreError> {
    match record {
        Ok(record) => Ok(Some(record)),
        Err(IamError::Store(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// IAM's principals, with no account in any organization: the directory of IAM's (and other
/// services') unit tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct IamDirectory;

impl Directory for IamDirectory {
    fn principal(&self, tx: &mut dyn ReadTx, arn: &str) -> Result<PrincipalLookup, StoreError> {
        principal(tx, arn)
    }

    fn principal_arns(
        &self,
        tx: &mut dyn ReadTx,
        account: &str,
        unique_ids: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        principal_arns(tx, account, unique_ids)
    }
}
