//! Managed policies: create, versions, attach and detach, and lookups by ARN that other
//! families (boundaries, authorization) share.

use rampart_service::Operation;
use rampart_store::ReadTx;

use crate::IamError;
use crate::managed_policies;
use crate::records;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}

/// The default document of the managed policy `arn` (customer managed in `account_id`, or AWS
/// managed), if it exists.
pub fn default_document(
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<Option<String>, IamError> {
    if let Some(aws) = managed_policies::get(arn) {
        return Ok(Some(aws.document.to_owned()));
    }
    let Some((account_id, name)) = parse_policy_arn(arn) else {
        return Ok(None);
    };
    Ok(records::policy_by_name(tx, account_id, name)?
        .filter(|p| p.arn == arn)
        .and_then(|p| p.default_document().map(str::to_owned)))
}

/// The account and name of `arn:aws:iam::<account>:policy<path><name>`.
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("policy/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty()).then_some((account, name))
}

/// Checks that `arn` names a managed policy usable as a permissions boundary.
pub fn require_boundary_policy(
    tx: &mut (impl ReadTx + ?Sized),
    _account_id: &str,
    arn: &str,
) -> Result<(), IamError> {
    match default_document(tx, arn)? {
        Some(_) => Ok(()),
        None => Err(IamError::NoSuchEntity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_split_into_account_and_name() {
        assert_eq!(
            parse_policy_arn("arn:aws:iam::123456789012:policy/team/a/ReadOnly"),
            Some(("123456789012", "ReadOnly"))
        );
        assert_eq!(
            parse_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess"),
            Some(("aws", "AdministratorAccess"))
        );
        assert_eq!(parse_policy_arn("arn:aws:iam::123456789012:user/bob"), None);
    }
}
