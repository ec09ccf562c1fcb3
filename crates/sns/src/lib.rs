//! Amazon Simple Notification Service (query protocol, `2010-03-31`): topics with AWS's
//! attributes and default policy, topic policies evaluated by the engine as the topic's
//! resource policy, tags, and AddPermission/RemovePermission.
//!
//! Operations are declared in [`Sns::new`]; each lives in the file of its family:
//! `topics.rs` (CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes),
//! `permissions.rs` (AddPermission, RemovePermission, the default topic policy), `tags.rs`
//! (TagResource, UntagResource, ListTagsForResource). `delivery_policy.rs` reads delivery
//! policies, `records.rs` says how resources are kept, `names.rs` their ARNs and keys,
//! `authorization.rs` what the authorize step needs.
#![deny(missing_docs)]

mod authorization;
pub mod delivery_policy;
mod error;
mod names;
mod permissions;
mod records;
mod subscriptions;
mod tags;
mod topics;

#[cfg(test)]
mod tests;

pub use error::SnsError;

use rampart_service::{EventResource, Operation, Operations, Service};

/// SNS, for the registry.
pub struct Sns {
    operations: Operations,
}

impl Sns {
    /// SNS with every operation Rampart implements.
    pub fn new() -> Self {
        use Operation as Op;
        use authorization as authz;
        Self {
            operations: Operations::new(vec![
                Op::write("CreateTopic", "sns:CreateTopic", topics::create_topic)
                    .resources(authz::create_topic)
                    .condition_keys(authz::request_tags)
                    .partial("standard topics only: FIFO topics and data protection policies answer InvalidParameter naming them"),
                Op::write("DeleteTopic", "sns:DeleteTopic", topics::delete_topic)
                    .authorization_targets(authz::on_topic),
                Op::read("ListTopics", "sns:ListTopics", topics::list_topics),
                Op::read("GetTopicAttributes", "sns:GetTopicAttributes", topics::get_topic_attributes)
                    .authorization_targets(authz::on_topic),
                Op::write("SetTopicAttributes", "sns:SetTopicAttributes", topics::set_topic_attributes)
                    .authorization_targets(authz::on_topic)
                    .partial("KmsMasterKeyId is recorded, messages are not encrypted with it; no FIFO or archive attributes"),
                Op::write("AddPermission", "sns:AddPermission", permissions::add_permission)
                    .authorization_targets(authz::on_topic),
                Op::write("RemovePermission", "sns:RemovePermission", permissions::remove_permission)
                    .authorization_targets(authz::on_topic),
                Op::write("TagResource", "sns:TagResource", tags::tag_resource)
                    .authorization_targets(authz::on_resource_arn)
                    .condition_keys(authz::request_tags),
                Op::write("UntagResource", "sns:UntagResource", tags::untag_resource)
                    .authorization_targets(authz::on_resource_arn)
                    .condition_keys(authz::untag_keys),
                Op::read("ListTagsForResource", "sns:ListTagsForResource", tags::list_tags_for_resource)
                    .authorization_targets(authz::on_resource_arn),
            ]),
        }
    }
}

impl Default for Sns {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn event_source(&self) -> &'static str {
        "sns.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        (parts.service == "sns" && names::parse_topic_arn(arn).is_some()).then_some(EventResource {
            kind: "AWS::SNS::Topic",
            name: arn,
            account: parts.account,
        })
    }

    /// AWS names a denial `AuthorizationError` in SNS.
    fn denial_code(&self) -> Option<&'static str> {
        Some("AuthorizationError")
    }
}
