//! Inline policies of users, groups and roles: `Put*Policy`, `Get*Policy`, `Delete*Policy`, `List*Policies`.

use rampart_service::Operation;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}
