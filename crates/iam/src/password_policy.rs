//! The account password policy: `GetAccountPasswordPolicy`, `UpdateAccountPasswordPolicy`, `DeleteAccountPasswordPolicy`, and the checks `ChangePassword` and login profiles apply.

use rampart_service::Operation;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}
