//! Amazon CloudWatch Logs (awsJson1.1, `Logs_20140328`): log groups with retention and tags,
//! log streams, events under AWS's batch rules, and metric filters with AWS's filter-pattern
//! language.
//!
//! Operations are declared in [`Logs::new`]; each lives in the file of its family:
//! `groups.rs` (CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
//! DeleteRetentionPolicy), `tags.rs` (TagResource, UntagResource, ListTagsForResource and the
//! older TagLogGroup, UntagLogGroup, ListTagsLogGroup), `streams.rs` (CreateLogStream,
//! DeleteLogStream, DescribeLogStreams), `events.rs` (PutLogEvents, GetLogEvents,
//! FilterLogEvents), `metric_filters.rs` (PutMetricFilter, DescribeMetricFilters,
//! DeleteMetricFilter, TestMetricFilter). `pattern/` is the filter-pattern language,
//! `records.rs` how resources are kept, `retention.rs` the retention sweeps, `names.rs` their ARNs and keys, `authorization.rs`
//! what the authorize step needs.
#![deny(missing_docs)]

mod authorization;
mod error;
mod events;
mod groups;
mod metric_filters;
mod names;
pub mod pattern;
mod records;
mod retention;
mod streams;
mod tags;

#[cfg(test)]
mod tests;

pub use error::LogsError;

/// Whether a GetLogEvents or FilterLogEvents `nextToken` from a caller is either refused or
/// reads back the same once written again: for the fuzz target, not for use.
#[doc(hidden)]
pub fn pagination_token_round_trips(token: &str) -> bool {
    events::token_round_trips(token)
}

use rampart_service::{EventResource, Operation, Operations, Service};

/// CloudWatch Logs, for the registry.
pub struct Logs {
    operations: Operations,
    sweeps: retention::RetentionSweeps,
}

impl Logs {
    /// CloudWatch Logs with every operation Rampart implements.
    pub fn new() -> Self {
        use Operation as Op;
        use authorization as authz;
        Self {
            operations: Operations::new(vec![
                Op::write("CreateLogGroup", "logs:CreateLogGroup", groups::create_log_group)
                    .resources(authz::on_group)
                    .condition_keys(authz::request_tags)
                    .partial("no KMS encryption (kmsKeyId answers NotImplemented), STANDARD class only, no data protection"),
                Op::write("DeleteLogGroup", "logs:DeleteLogGroup", groups::delete_log_group)
                    .resources(authz::on_group),
                Op::read("DescribeLogGroups", "logs:DescribeLogGroups", groups::describe_log_groups)
                    .partial("the caller's account only (no linked accounts of cross-account observability)"),
                Op::write("PutRetentionPolicy", "logs:PutRetentionPolicy", groups::put_retention_policy)
                    .resources(authz::on_group),
                Op::write("DeleteRetentionPolicy", "logs:DeleteRetentionPolicy", groups::delete_retention_policy)
                    .resources(authz::on_group),
                Op::write("TagResource", "logs:TagResource", tags::tag_resource)
                    .resources(authz::on_resource_arn)
                    .condition_keys(authz::request_tags)
                    .partial("log groups only: Rampart serves no other taggable Logs resource"),
                Op::write("UntagResource", "logs:UntagResource", tags::untag_resource)
                    .resources(authz::on_resource_arn)
                    .condition_keys(authz::untag_resource_keys)
                    .partial("log groups only: Rampart serves no other taggable Logs resource"),
                Op::read("ListTagsForResource", "logs:ListTagsForResource", tags::list_tags_for_resource)
                    .resources(authz::on_resource_arn)
                    .partial("log groups only: Rampart serves no other taggable Logs resource"),
                Op::write("TagLogGroup", "logs:TagLogGroup", tags::tag_log_group)
                    .resources(authz::on_group)
                    .condition_keys(authz::request_tags),
                Op::write("UntagLogGroup", "logs:UntagLogGroup", tags::untag_log_group)
                    .resources(authz::on_group)
                    .condition_keys(authz::untag_log_group_keys),
                Op::read("ListTagsLogGroup", "logs:ListTagsLogGroup", tags::list_tags_log_group)
                    .resources(authz::on_group),
                Op::write("CreateLogStream", "logs:CreateLogStream", streams::create_log_stream)
                    .resources(authz::on_stream),
                Op::write("DeleteLogStream", "logs:DeleteLogStream", streams::delete_log_stream)
                    .resources(authz::on_stream),
                Op::read("DescribeLogStreams", "logs:DescribeLogStreams", streams::describe_log_streams)
                    .resources(authz::on_group),
                Op::write("PutLogEvents", "logs:PutLogEvents", events::put_log_events)
                    .resources(authz::on_stream)
                    .partial("no entity, no subscription filters"),
                Op::read("GetLogEvents", "logs:GetLogEvents", events::get_log_events)
                    .resources(authz::on_stream)
                    .partial("no unmask"),
                Op::read("FilterLogEvents", "logs:FilterLogEvents", events::filter_log_events)
                    .resources(authz::on_group)
                    .partial("no %regex% terms; no unmask"),
                Op::write("PutMetricFilter", "logs:PutMetricFilter", metric_filters::put_metric_filter)
                    .resources(authz::on_group)
                    .partial("datapoints are emitted for events put after it (no back-fill); no applyOnTransformedLogs, fieldSelectionCriteria, emitSystemFieldDimensions"),
                Op::read("DescribeMetricFilters", "logs:DescribeMetricFilters", metric_filters::describe_metric_filters)
                    .resources(authz::describe_metric_filters),
                Op::write("DeleteMetricFilter", "logs:DeleteMetricFilter", metric_filters::delete_metric_filter)
                    .resources(authz::on_group),
                Op::read("TestMetricFilter", "logs:TestMetricFilter", metric_filters::test_metric_filter),
            ]),
            sweeps: retention::RetentionSweeps,
        }
    }
}

impl Default for Logs {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Logs {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn event_source(&self) -> &'static str {
        "logs.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    /// Retention sweeps (retention.rs).
    fn timers(&self) -> Option<&dyn rampart_service::Timers> {
        Some(&self.sweeps)
    }

    /// Events stored by session 9's Rampart, in put order, move to the time-ordered keys.
    fn upgrade_stored(
        &self,
        tx: &mut dyn rampart_store::WriteTx,
    ) -> Result<(), rampart_store::StoreError> {
        let moved = records::upgrade_event_keys(tx)?;
        if moved > 0 {
            tracing::info!(moved, "log events moved to time-ordered keys");
        }
        Ok(())
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let rest = parts.resource.strip_prefix("log-group:")?;
        let kind = if rest.contains(":log-stream:") {
            "AWS::Logs::LogStream"
        } else {
            "AWS::Logs::LogGroup"
        };
        (!rest.is_empty()).then_some(EventResource {
            kind,
            name: arn,
            account: parts.account,
        })
    }
}
