//! AWS CloudTrail: trails and their event selectors, and LookupEvents over the audit journal
//! that the server's audit step appends to (one event per call, in the call's transaction).
//!
//! Operations are declared in [`CloudTrail::new`]: `trails.rs` holds the trail family,
//! `tags.rs` their tags, `insights.rs` their Insights selectors, `lookup.rs` LookupEvents, `public_keys.rs` ListPublicKeys (the digest signing keys of
//! `signing_keys.rs`). The server's deliverer reads [`TrailRecord`]s and keeps a
//! [`DeliveryState`] per trail.
#![deny(missing_docs)]

pub mod cloudwatch_logs;
pub mod encryption;
mod error;
pub mod files;
mod insights;
mod lookup;
mod public_keys;
pub mod signing_keys;
pub mod sse_kms;
mod tags;
mod trails;

#[cfg(test)]
mod tests;

pub use error::CloudTrailError;
pub use trails::{
    DELIVERY_NS, DeliveryState, DigestLink, TRAILS_NS, TrailRecord, all_trails, delivery_state,
    save_delivery_state, trail_arn,
};

use rampart_service::{EventResource, Operation, Operations, Service};

/// The CloudTrail service: its operations, for the registry.
pub struct CloudTrail {
    operations: Operations,
}

impl CloudTrail {
    /// CloudTrail with every operation Rampart implements.
    pub fn new() -> Self {
        let trail = trails::trail_resource;
        Self {
            operations: Operations::new(vec![
                Operation::write(
                    "CreateTrail",
                    "cloudtrail:CreateTrail",
                    trails::create_trail,
                )
                .resources(trail)
                .partial("SNS settings are recorded, never used"),
                Operation::write(
                    "UpdateTrail",
                    "cloudtrail:UpdateTrail",
                    trails::update_trail,
                )
                .resources(trail)
                .partial("SNS settings are recorded, never used"),
                Operation::write(
                    "DeleteTrail",
                    "cloudtrail:DeleteTrail",
                    trails::delete_trail,
                )
                .resources(trail),
                Operation::read("GetTrail", "cloudtrail:GetTrail", trails::get_trail)
                    .resources(trail),
                Operation::read(
                    "DescribeTrails",
                    "cloudtrail:DescribeTrails",
                    trails::describe_trails,
                ),
                Operation::read("ListTrails", "cloudtrail:ListTrails", trails::list_trails),
                Operation::read(
                    "GetTrailStatus",
                    "cloudtrail:GetTrailStatus",
                    trails::get_trail_status,
                )
                .resources(trail),
                Operation::write(
                    "StartLogging",
                    "cloudtrail:StartLogging",
                    trails::start_logging,
                )
                .resources(trail),
                Operation::write(
                    "StopLogging",
                    "cloudtrail:StopLogging",
                    trails::stop_logging,
                )
                .resources(trail),
                Operation::write(
                    "PutEventSelectors",
                    "cloudtrail:PutEventSelectors",
                    trails::put_event_selectors,
                )
                .resources(trail),
                Operation::read(
                    "GetEventSelectors",
                    "cloudtrail:GetEventSelectors",
                    trails::get_event_selectors,
                )
                .resources(trail),
                Operation::write(
                    "PutInsightSelectors",
                    "cloudtrail:PutInsightSelectors",
                    insights::put_insight_selectors,
                )
                .resources(trail)
                .partial("selectors are recorded and reported; no Insights events are generated"),
                Operation::read(
                    "GetInsightSelectors",
                    "cloudtrail:GetInsightSelectors",
                    insights::get_insight_selectors,
                )
                .resources(trail),
                Operation::write("AddTags", "cloudtrail:AddTags", tags::add_tags)
                    .resources(tags::tagged_resources),
                Operation::write("RemoveTags", "cloudtrail:RemoveTags", tags::remove_tags)
                    .resources(tags::tagged_resources),
                Operation::read("ListTags", "cloudtrail:ListTags", tags::list_tags)
                    .resources(tags::tagged_resources),
                Operation::read(
                    "ListPublicKeys",
                    "cloudtrail:ListPublicKeys",
                    public_keys::list_public_keys,
                ),
                Operation::read(
                    "LookupEvents",
                    "cloudtrail:LookupEvents",
                    lookup::lookup_events,
                ),
            ]),
        }
    }
}

impl Default for CloudTrail {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for CloudTrail {
    fn name(&self) -> &'static str {
        "cloudtrail"
    }

    fn event_source(&self) -> &'static str {
        "cloudtrail.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let name = parts.resource.strip_prefix("trail/")?;
        (!name.is_empty()).then_some(EventResource {
            kind: "AWS::CloudTrail::Trail",
            name: arn,
            account: parts.account,
        })
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }
}
