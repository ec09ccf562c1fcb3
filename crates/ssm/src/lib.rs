//! AWS Systems Manager Parameter Store: versioned parameters, SecureString values encrypted by
//! KMS through the spine on the caller's behalf, labels and selectors, tiers and quotas,
//! parameter policies that really run.
//!
//! Operations are declared in [`Ssm::new`]; each lives in the file of its family: `put.rs`
//! (PutParameter), `get.rs` (GetParameter, GetParameters), `by_path.rs`, `describe.rs` (with
//! `filters.rs`), `delete.rs`, `history.rs`, `labels.rs`, `tags.rs`, `settings.rs` (service
//! settings). `names.rs` holds the naming rules, `records.rs` how parameters are kept,
//! `encryption.rs` the KMS calls, `policies.rs` and `scheduled.rs` parameter policies and the
//! timers the server's scheduler runs, `pattern.rs` `AllowedPattern`, `authorization.rs` what
//! the authorize step needs.
//!
//! A SecureString value never reaches the store, a log or the trail in clear: it is kept as
//! KMS ciphertext, the trail records `HIDDEN_DUE_TO_SECURITY_REASONS` for every value (the
//! model marks values sensitive), and read events carry no response.
#![deny(missing_docs)]

mod authorization;
mod by_path;
mod delete;
mod describe;
mod encryption;
mod error;
mod filters;
mod get;
mod history;
mod labels;
mod names;
pub mod pattern;
pub mod policies;
mod put;
mod records;
mod scheduled;
mod settings;
mod tags;

#[cfg(test)]
mod tests;

pub use error::SsmError;

use rampart_service::{EventResource, Operation, Operations, Service, Timers};

/// The Parameter Store operations of Systems Manager, for the registry.
pub struct Ssm {
    operations: Operations,
    timers: scheduled::PolicyTimers,
}

/// An operation on the parameter in `Name`.
fn on_parameter(op: Operation) -> Operation {
    op.resources(authorization::named_parameter)
}

impl Ssm {
    /// Parameter Store with every operation Rampart implements.
    pub fn new() -> Self {
        use Operation as Op;
        Self {
            operations: Operations::new(vec![
                on_parameter(Op::write("PutParameter", "ssm:PutParameter", put::put_parameter))
                    .condition_keys(authorization::put_parameter_keys)
                    .partial("no aws:ssm:integration data type; aws:ec2:image values are checked for form, not against EC2"),
                on_parameter(Op::read("GetParameter", "ssm:GetParameter", get::get_parameter))
                    .partial("no AWS public parameters (/aws/service/…) and no Secrets Manager references (/aws/reference/secretsmanager/…)"),
                Op::read("GetParameters", "ssm:GetParameters", get::get_parameters)
                    .resources(authorization::named_parameters)
                    .partial("no AWS public parameters (/aws/service/…) and no Secrets Manager references (/aws/reference/secretsmanager/…)"),
                Op::read(
                    "GetParametersByPath",
                    "ssm:GetParametersByPath",
                    by_path::get_parameters_by_path,
                )
                .resources(authorization::path)
                .condition_keys(authorization::by_path_keys)
                .partial("no AWS public parameters (/aws/service/…): Rampart holds none"),
                Op::read(
                    "DescribeParameters",
                    "ssm:DescribeParameters",
                    describe::describe_parameters,
                )
                .partial("no parameters shared through AWS RAM (Shared)"),
                on_parameter(Op::write(
                    "DeleteParameter",
                    "ssm:DeleteParameter",
                    delete::delete_parameter,
                )),
                Op::write(
                    "DeleteParameters",
                    "ssm:DeleteParameters",
                    delete::delete_parameters,
                )
                .resources(authorization::named_parameters),
                on_parameter(Op::read(
                    "GetParameterHistory",
                    "ssm:GetParameterHistory",
                    history::get_parameter_history,
                )),
                on_parameter(Op::write(
                    "LabelParameterVersion",
                    "ssm:LabelParameterVersion",
                    labels::label_parameter_version,
                )),
                on_parameter(Op::write(
                    "UnlabelParameterVersion",
                    "ssm:UnlabelParameterVersion",
                    labels::unlabel_parameter_version,
                )),
                Op::write(
                    "AddTagsToResource",
                    "ssm:AddTagsToResource",
                    tags::add_tags_to_resource,
                )
                .resources(authorization::tagged)
                .condition_keys(authorization::add_tags_keys)
                .partial("parameters only"),
                Op::write(
                    "RemoveTagsFromResource",
                    "ssm:RemoveTagsFromResource",
                    tags::remove_tags_from_resource,
                )
                .resources(authorization::tagged)
                .condition_keys(authorization::remove_tags_keys)
                .partial("parameters only"),
                Op::read(
                    "ListTagsForResource",
                    "ssm:ListTagsForResource",
                    tags::list_tags_for_resource,
                )
                .resources(authorization::tagged)
                .partial("parameters only"),
                Op::read(
                    "GetServiceSetting",
                    "ssm:GetServiceSetting",
                    settings::get_service_setting,
                )
                .resources(authorization::setting)
                .partial("Parameter Store's settings only"),
                Op::write(
                    "UpdateServiceSetting",
                    "ssm:UpdateServiceSetting",
                    settings::update_service_setting,
                )
                .resources(authorization::setting)
                .partial("Parameter Store's settings only; high throughput is recorded, Rampart does not throttle"),
                Op::write(
                    "ResetServiceSetting",
                    "ssm:ResetServiceSetting",
                    settings::reset_service_setting,
                )
                .resources(authorization::setting)
                .partial("Parameter Store's settings only"),
            ]),
            timers: scheduled::PolicyTimers,
        }
    }
}

impl Default for Ssm {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Ssm {
    fn name(&self) -> &'static str {
        "ssm"
    }

    fn event_source(&self) -> &'static str {
        "ssm.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let name = parts.resource.strip_prefix("parameter/")?;
        (!name.is_empty()).then_some(EventResource {
            kind: "AWS::SSM::Parameter",
            name: arn,
            account: parts.account,
        })
    }

    /// Parameter policies: expirations and notifications, run by the server's scheduler.
    fn timers(&self) -> Option<&dyn Timers> {
        Some(&self.timers)
    }
}
