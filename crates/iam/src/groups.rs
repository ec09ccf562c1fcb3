//! Groups and membership: `CreateGroup`, `GetGroup`, `ListGroups`, `UpdateGroup`, `DeleteGroup`, `AddUserToGroup`, `RemoveUserFromGroup`, `ListGroupsForUser`.

use rampart_service::Operation;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}
