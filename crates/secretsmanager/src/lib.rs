//! AWS Secrets Manager: versioned secrets encrypted by KMS through the spine on the caller's
//! behalf, staging labels moved as AWS moves them, resource policies evaluated with IAM for
//! callers of the secret's account and of others, deletion with a recovery window that a
//! timer of the server's scheduler ends, rotation by the built-in `rampart-random-password`
//! function, now or on a schedule.
//!
//! Operations are declared in [`SecretsManager::new`]; each lives in the file of its family:
//! `secrets.rs` (CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret,
//! TagResource, UntagResource), `values.rs` (GetSecretValue, BatchGetSecretValue,
//! PutSecretValue, ListSecretVersionIds, UpdateSecretVersionStage), `listing.rs`
//! (ListSecrets), `policy.rs` (the resource-policy operations), `password.rs`
//! (GetRandomPassword), `rotation.rs` (RotateSecret, CancelRotateSecret, the rotation steps)
//! with `schedule.rs` (rotation schedules). `names.rs` holds names and ARNs, `records.rs` how
//! secrets are kept, `versions.rs` versions and labels, `accessed.rs` the day each version was
//! last read, `encryption.rs` the KMS calls, `scheduled.rs` the deletion and rotation timers,
//! `authorization.rs` what the authorize step needs.
//!
//! A value never reaches the store, a log or the trail in clear: it is kept sealed under a
//! KMS data key, and the model marks values sensitive, so the trail hides them.
#![deny(missing_docs)]

mod accessed;
mod authorization;
mod encryption;
mod error;
mod events;
mod handlers;
mod listing;
mod names;
mod password;
mod policy;
mod records;
mod rotation;
pub mod schedule;
mod scheduled;
mod secrets;
mod values;
mod versions;

#[cfg(test)]
mod tests;

pub use error::SecretsError;
pub use handlers::{RotationHandler, RotationHandlers};

use std::sync::Arc;

use rampart_service::{
    AfterSuccess, CompletedCall, EventResource, Operation, Operations, Service, Timers,
};

/// Secrets Manager, for the registry.
pub struct SecretsManager {
    operations: Operations,
    timers: scheduled::SecretTimers,
}

/// An operation on the secret in `SecretId`.
fn on_secret(op: Operation) -> Operation {
    op.authorization_targets(authorization::on_secret)
}

impl SecretsManager {
    /// Secrets Manager with every operation Rampart implements, and the built-in rotation
    /// function only.
    pub fn new() -> Self {
        Self::with_rotation_handlers(RotationHandlers::default())
    }

    /// Secrets Manager whose rotation functions are `handlers` besides the built-in one.
    pub fn with_rotation_handlers(handlers: RotationHandlers) -> Self {
        use Operation as Op;
        let handlers = Arc::new(handlers);
        let for_rotate = Arc::clone(&handlers);
        Self {
            operations: Operations::new(vec![
                Op::write("CreateSecret", "secretsmanager:CreateSecret", secrets::create_secret)
                    .authorization_targets(authorization::create_secret)
                    .condition_keys(authorization::create_secret_keys)
                    .partial("replica Regions are recorded, not replicated; no managed external secrets (Type) or cross-account replicas"),
                on_secret(Op::read(
                    "GetSecretValue",
                    "secretsmanager:GetSecretValue",
                    values::get_secret_value,
                ))
                .condition_keys(authorization::get_secret_value_keys),
                Op::read(
                    "BatchGetSecretValue",
                    "secretsmanager:BatchGetSecretValue",
                    values::batch_get_secret_value,
                )
                .authorization_targets(authorization::batch_get_secret_value),
                on_secret(Op::read(
                    "DescribeSecret",
                    "secretsmanager:DescribeSecret",
                    secrets::describe_secret,
                )),
                Op::read("ListSecrets", "secretsmanager:ListSecrets", listing::list_secrets),
                on_secret(Op::write(
                    "PutSecretValue",
                    "secretsmanager:PutSecretValue",
                    values::put_secret_value,
                ))
                .partial("RotationToken is accepted and not checked: AWS validates with it a rotation function that calls through an assumed role or from another account, and documents neither the check nor the error it answers"),
                on_secret(Op::write(
                    "UpdateSecret",
                    "secretsmanager:UpdateSecret",
                    secrets::update_secret,
                ))
                .condition_keys(authorization::update_secret_keys),
                on_secret(Op::read(
                    "ListSecretVersionIds",
                    "secretsmanager:ListSecretVersionIds",
                    values::list_secret_version_ids,
                )),
                on_secret(Op::write(
                    "UpdateSecretVersionStage",
                    "secretsmanager:UpdateSecretVersionStage",
                    values::update_secret_version_stage,
                ))
                .condition_keys(authorization::version_stage_keys),
                on_secret(Op::write(
                    "DeleteSecret",
                    "secretsmanager:DeleteSecret",
                    secrets::delete_secret,
                ))
                .condition_keys(authorization::delete_secret_keys),
                on_secret(Op::write(
                    "RestoreSecret",
                    "secretsmanager:RestoreSecret",
                    secrets::restore_secret,
                )),
                on_secret(Op::write(
                    "TagResource",
                    "secretsmanager:TagResource",
                    secrets::tag_resource,
                ))
                .condition_keys(authorization::tag_resource_keys),
                on_secret(Op::write(
                    "UntagResource",
                    "secretsmanager:UntagResource",
                    secrets::untag_resource,
                ))
                .condition_keys(authorization::untag_resource_keys),
                on_secret(Op::write(
                    "RotateSecret",
                    "secretsmanager:RotateSecret",
                    move |env: &rampart_service::Env<'_>, tx: &mut dyn rampart_store::WriteTx, input| {
                        rotation::rotate_secret(&for_rotate, env, tx, input)
                    },
                ))
                .condition_keys(authorization::rotate_secret_keys)
                .partial("no managed external secrets; no TestRotation or RotationAbandoned service events; the built-in function rampart-random-password runs as the principal that configured rotation (it has no Lambda execution role)"),
                on_secret(Op::write(
                    "CancelRotateSecret",
                    "secretsmanager:CancelRotateSecret",
                    rotation::cancel_rotate_secret,
                )),
                Op::read(
                    "GetRandomPassword",
                    "secretsmanager:GetRandomPassword",
                    password::get_random_password,
                ),
                on_secret(Op::write(
                    "PutResourcePolicy",
                    "secretsmanager:PutResourcePolicy",
                    policy::put_resource_policy,
                ))
                .condition_keys(authorization::put_resource_policy_keys)
                .partial("one policy per secret: no PolicyName"),
                on_secret(Op::read(
                    "GetResourcePolicy",
                    "secretsmanager:GetResourcePolicy",
                    policy::get_resource_policy,
                )),
                on_secret(Op::write(
                    "DeleteResourcePolicy",
                    "secretsmanager:DeleteResourcePolicy",
                    policy::delete_resource_policy,
                )),
                Op::read(
                    "ValidateResourcePolicy",
                    "secretsmanager:ValidateResourcePolicy",
                    policy::validate_resource_policy,
                )
                .authorization_targets(authorization::validate_resource_policy)
                .partial("broad access is decided by documented shapes (wildcard principals not narrowed by a fixed account, organization or source), not by AWS's automated reasoner"),
            ]),
            timers: scheduled::SecretTimers::new(handlers),
        }
    }
}

impl Default for SecretsManager {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for SecretsManager {
    fn name(&self) -> &'static str {
        "secretsmanager"
    }

    fn event_source(&self) -> &'static str {
        "secretsmanager.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn guarded_by_resource_control_policies(&self) -> bool {
        // Secrets Manager is among the services resource control policies apply to.
        true
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let name = parts.resource.strip_prefix("secret:")?;
        (!name.is_empty()).then_some(EventResource {
            kind: "AWS::SecretsManager::Secret",
            name: arn,
            account: parts.account,
        })
    }

    /// The day each version was last read (LastAccessedDate), noted with the read's event.
    fn after_success(&self, call: &CompletedCall<'_>) -> Option<AfterSuccess> {
        accessed::after_read(call)
    }

    /// Deletions at the end of their recovery window and scheduled rotations, run by the
    /// server's scheduler.
    fn timers(&self) -> Option<&dyn Timers> {
        Some(&self.timers)
    }
}
