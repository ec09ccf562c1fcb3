//! Amazon Simple Notification Service (query protocol, `2010-03-31`): topics with AWS's
//! attributes and default policy, topic policies evaluated by the engine as the topic's
//! resource policy, tags, permissions, subscriptions with AWS's confirmation flow, and
//! Publish with signed messages delivered off the request path.
//!
//! Operations are declared in [`Sns::with_settings`]; each lives in the file of its family:
//! `topics.rs` (CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes),
//! `permissions.rs` (AddPermission, RemovePermission, the default topic policy), `tags.rs`
//! (TagResource, UntagResource, ListTagsForResource), `subscriptions.rs` (Subscribe,
//! ConfirmSubscription, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
//! Get/SetSubscriptionAttributes), `publish.rs` (Publish, PublishBatch). `messages.rs` builds
//! and signs what is delivered, `signing.rs` keeps the signing key and certificate,
//! `delivery.rs` delivers (the scheduler's timers), `filter_policy.rs` and
//! `delivery_policy.rs` read those policies, `records.rs` says how resources are kept,
//! `names.rs` their ARNs and keys, `authorization.rs` what the authorize step needs.
#![deny(missing_docs)]

mod authorization;
mod delivery;
pub mod delivery_policy;
mod error;
pub mod filter_policy;
mod messages;
mod names;
mod permissions;
pub mod publish;
mod records;
pub mod signing;
mod subscriptions;
mod tags;
mod topics;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::SnsError;

use rampart_service::{EventResource, Operation, Operations, RecordedCall, Service, Timers};
use rampart_store::ReadTx;

/// Which HTTP endpoints Subscribe accepts: Rampart POSTs only to loopback unless the operator
/// allows any host (a guard against using the server to reach other machines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointScope {
    /// `127.0.0.0/8`, `::1` and `localhost` only (the default).
    Loopback,
    /// Any host (`--sns-endpoints any`).
    Any,
}

impl std::str::FromStr for EndpointScope {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "loopback" => Ok(Self::Loopback),
            "any" => Ok(Self::Any),
            other => Err(format!("`{other}` is not loopback or any")),
        }
    }
}

/// The server's settings SNS needs.
#[derive(Debug, Clone)]
pub struct SnsSettings {
    /// Which HTTP endpoints Subscribe accepts.
    pub endpoints: EndpointScope,
    /// Where email and email-json messages are written, one file each
    /// (`<data-dir>/outbox/sns`); none: they are not delivered.
    pub outbox: Option<PathBuf>,
    /// Rampart's endpoint as subscribers reach it, for the SubscribeURL, UnsubscribeURL and
    /// SigningCertURL of messages.
    pub public_url: String,
}

impl Default for SnsSettings {
    fn default() -> Self {
        Self {
            endpoints: EndpointScope::Loopback,
            outbox: None,
            public_url: "http://127.0.0.1:4599".to_owned(),
        }
    }
}

/// SNS, for the registry.
pub struct Sns {
    operations: Operations,
    deliveries: delivery::Deliveries,
}

/// AWS records no confirmation token: it is the secret that confirms.
fn shape_event(call: &mut RecordedCall) {
    if call.operation == "ConfirmSubscription" {
        call.hide_request_member(&["token"]);
    }
}

impl Sns {
    /// SNS with the default settings (loopback endpoints, no outbox).
    pub fn new() -> Self {
        Self::with_settings(SnsSettings::default())
    }

    /// SNS with every operation Rampart implements, under `settings`.
    pub fn with_settings(settings: SnsSettings) -> Self {
        use Operation as Op;
        use authorization as authz;
        let settings = Arc::new(settings);
        let (s1, s2, s3, s4) = (
            Arc::clone(&settings),
            Arc::clone(&settings),
            Arc::clone(&settings),
            Arc::clone(&settings),
        );
        Self {
            deliveries: delivery::Deliveries::new(Arc::clone(&settings)),
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
                Op::write("Subscribe", "sns:Subscribe", move |env, tx, input| {
                    subscriptions::subscribe(&s1, env, tx, input)
                })
                .authorization_targets(authz::on_topic)
                .condition_keys(authz::subscribe_keys)
                .partial("delivers to http endpoints (loopback unless --sns-endpoints any) and to email/email-json as outbox files; https, sqs, lambda, sms, application and firehose answer InvalidParameter naming them"),
                // The SubscribeURL a subscriber visits confirms unsigned, by its token, as AWS
                // serves it.
                Op::write("ConfirmSubscription", "sns:ConfirmSubscription", subscriptions::confirm_subscription)
                    .authenticated_by_input(subscriptions::authenticate_confirmation, subscriptions::confirmation_addressee)
                    .always_allowed()
                    .partial("authorized by its token alone, signed or not; Rampart records the call (AWS records unsigned confirmations nowhere)"),
                Op::write("Unsubscribe", "sns:Unsubscribe", move |env, tx, input| {
                    subscriptions::unsubscribe(&s4, env, tx, input)
                })
                    .partial("signed calls only: the UnsubscribeURL in messages needs a signature here"),
                Op::read("ListSubscriptions", "sns:ListSubscriptions", subscriptions::list_subscriptions)
                    .partial("the subscriptions of the caller's own topics"),
                Op::read("ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic", subscriptions::list_subscriptions_by_topic)
                    .authorization_targets(authz::on_topic),
                Op::read("GetSubscriptionAttributes", "sns:GetSubscriptionAttributes", subscriptions::get_subscription_attributes),
                Op::write("SetSubscriptionAttributes", "sns:SetSubscriptionAttributes", subscriptions::set_subscription_attributes)
                    .partial("FilterPolicyScope MessageAttributes only; no RedrivePolicy, SubscriptionRoleArn or ReplayPolicy"),
                Op::write("Publish", "sns:Publish", move |env, tx, input| {
                    publish::publish(&s2, env, tx, input)
                })
                .authorization_targets(authz::on_publish)
                .partial("topics only (no SMS or platform endpoints); recorded as a management event (AWS logs Publish as a data event)"),
                Op::write("PublishBatch", "sns:Publish", move |env, tx, input| {
                    publish::publish_batch(&s3, env, tx, input)
                })
                .authorization_targets(authz::on_topic)
                .partial("standard topics only; recorded as a management event (AWS logs PublishBatch as a data event)"),
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

    fn event_shaper(&self) -> Option<rampart_service::EventShaper> {
        Some(shape_event)
    }

    /// AWS names a denial `AuthorizationError` in SNS.
    fn denial_code(&self) -> Option<&'static str> {
        Some("AuthorizationError")
    }

    fn timers(&self) -> Option<&dyn Timers> {
        Some(&self.deliveries)
    }

    /// The signing certificate, at the `SigningCertURL` of every message.
    fn public_document(&self, tx: &mut dyn ReadTx, name: &str) -> Option<(&'static str, Vec<u8>)> {
        signing::certificate(tx, name).map(|pem| ("application/x-x509-ca-cert", pem.into_bytes()))
    }
}
