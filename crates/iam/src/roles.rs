//! Roles: `CreateRole`, `GetRole`, `ListRoles`, `UpdateRole`, `UpdateRoleDescription`, `UpdateAssumeRolePolicy`, `DeleteRole`, and their tags.

use rampart_service::Operation;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}
