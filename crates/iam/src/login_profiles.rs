//! Console passwords: `CreateLoginProfile`, `GetLoginProfile`, `UpdateLoginProfile`,
//! `DeleteLoginProfile`, `ChangePassword`.

use rampart_service::Operation;
use rampart_store::ReadTx;

use crate::IamError;
use crate::records;

/// Namespace of login profiles, keyed like the user.
pub const NAMESPACE: &str = "iam.login-profile";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}

/// Whether the user has a console password.
pub fn exists(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<bool, IamError> {
    Ok(tx
        .get(NAMESPACE, &records::key(account_id, user_name))?
        .is_some())
}
