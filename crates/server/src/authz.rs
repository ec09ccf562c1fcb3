//! Authorize: decide whether the caller may perform the operation's action on its resources.

use rampart_service::{Authorization, Caller, Operation};
use rampart_wire::AwsError;

/// Allows or refuses the call, with AWS's AccessDenied text when refused.
pub(crate) fn authorize(
    caller: &Caller,
    operation: &Operation,
    resources: &[String],
) -> Result<(), AwsError> {
    if operation.authorization == Authorization::AlwaysAllowed {
        return Ok(());
    }
    // Root bypasses identity policies. It never bypasses SCPs, which arrive with
    // Organizations; until then no SCP can apply.
    if caller.is_root() {
        return Ok(());
    }
    // Deny by default: no other principal has policies until IAM's policies are evaluated here.
    let resource = resources.first().map(String::as_str).unwrap_or("*");
    let on_resource = if resource == "*" {
        String::new()
    } else {
        format!(" on resource: {resource}")
    };
    Err(AwsError::new(
        "AccessDenied",
        403,
        format!(
            "User: {} is not authorized to perform: {}{on_resource} because no identity-based policy allows the {} action",
            caller.arn, operation.action, operation.action
        ),
    ))
}
