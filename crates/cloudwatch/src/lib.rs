//! Amazon CloudWatch metrics (`monitoring`; IAM prefix `cloudwatch`), served over the three
//! protocols its model lists: Smithy RPC v2 CBOR, awsJson1.0 and Query (`awsQueryCompatible`).
//!
//! Operations are declared in [`CloudWatch::new`]; each lives in the file of its family:
//! `metrics.rs` (PutMetricData, ListMetrics), `statistics.rs` (GetMetricStatistics,
//! GetMetricData), `internal.rs` (PutMetricDataInternal, which CloudWatch Logs' metric filters
//! call through the spine; no client can). `records.rs` is how datapoints are kept (aggregated
//! per metric per minute, or per second for high resolution), `authorization.rs` what the
//! authorize step needs.
//!
//! Metric alarms live in `alarms.rs` (their operations and tags), `evaluator.rs` (the timer
//! that evaluates each alarm on time, moves its state and runs its actions) and `history.rs`
//! (DescribeAlarmHistory); the evaluator reads the same per-period aggregates
//! GetMetricStatistics answers from.
//!
//! Composite alarms, anomaly detection, metric math alarms, dashboards, metric streams and
//! insight rules are not served yet: the spine answers their operations `NotImplemented` by
//! name.
#![deny(missing_docs)]

mod alarms;
mod authorization;
mod error;
mod evaluator;
mod history;
mod internal;
mod metrics;
mod records;
mod statistics;

#[cfg(test)]
mod tests;

pub use error::CloudWatchError;

use rampart_service::{EventResource, Operation, Operations, Service};

/// CloudWatch, for the registry.
pub struct CloudWatch {
    operations: Operations,
    /// Work CloudWatch does for other services (metric filters' datapoints).
    internal: Operations,
    timers: evaluator::AlarmTimers,
}

impl CloudWatch {
    /// CloudWatch with every operation Rampart implements.
    pub fn new() -> Self {
        use Operation as Op;
        Self {
            operations: Operations::new(vec![
                Op::write("PutMetricData", "cloudwatch:PutMetricData", metrics::put_metric_data)
                    .condition_keys(authorization::namespace_key)
                    .partial("EntityMetricData's entities are not kept (their datums are); StrictEntityValidation is ignored; no retention or roll-up of old datapoints yet"),
                Op::read("ListMetrics", "cloudwatch:ListMetrics", metrics::list_metrics)
                    .partial("the caller's account only (no IncludeLinkedAccounts or OwningAccount)"),
                Op::read("GetMetricStatistics", "cloudwatch:GetMetricStatistics", statistics::get_metric_statistics)
                    .partial("percentiles are exact nearest-rank over the kept samples; none for data put as statistic sets"),
                Op::read("GetMetricData", "cloudwatch:GetMetricData", statistics::get_metric_data)
                    .partial("MetricStat queries only: Expression (metric math, Metrics Insights) answers NotImplemented; no LabelOptions; statistics SampleCount, Average, Sum, Minimum, Maximum and pNN"),
                Op::write("PutMetricAlarm", "cloudwatch:PutMetricAlarm", alarms::put_metric_alarm)
                    .resources(authorization::on_alarm)
                    .condition_keys(authorization::put_metric_alarm_keys)
                    .partial("alarms on one metric only: Metrics (metric math), anomaly detection (ThresholdMetricId) and PromQL alarms answer NotImplemented; only SNS actions run, other action kinds are recorded as not executed; the evaluator reads the last EvaluationPeriods periods only (not AWS's wider evaluation range when some datapoints are missing), and EvaluateLowSampleCountPercentile=ignore keeps the state while any percentile rests on too few samples"),
                Op::read("DescribeAlarms", "cloudwatch:DescribeAlarms", alarms::describe_alarms)
                    .resources(authorization::on_alarms)
                    .partial("metric alarms only: no composite alarms (ChildrenOfAlarmName, ParentsOfAlarmName answer NotImplemented)"),
                Op::read("DescribeAlarmsForMetric", "cloudwatch:DescribeAlarmsForMetric", alarms::describe_alarms_for_metric),
                Op::read("DescribeAlarmHistory", "cloudwatch:DescribeAlarmHistory", history::describe_alarm_history)
                    .resources(authorization::on_alarm)
                    .partial("no alarm contributors (AlarmContributorId answers NotImplemented); history is kept without AWS's 30-day expiry"),
                Op::write("SetAlarmState", "cloudwatch:SetAlarmState", alarms::set_alarm_state)
                    .resources(authorization::on_alarm),
                Op::write("EnableAlarmActions", "cloudwatch:EnableAlarmActions", alarms::enable_alarm_actions)
                    .resources(authorization::on_alarms),
                Op::write("DisableAlarmActions", "cloudwatch:DisableAlarmActions", alarms::disable_alarm_actions)
                    .resources(authorization::on_alarms),
                Op::write("DeleteAlarms", "cloudwatch:DeleteAlarms", alarms::delete_alarms)
                    .resources(authorization::on_alarms),
                Op::write("TagResource", "cloudwatch:TagResource", alarms::tag_resource)
                    .resources(authorization::on_resource_arn)
                    .condition_keys(authorization::tag_resource_keys)
                    .partial("alarms only (no insight rules, metric streams or SLOs)"),
                Op::write("UntagResource", "cloudwatch:UntagResource", alarms::untag_resource)
                    .resources(authorization::on_resource_arn)
                    .condition_keys(authorization::untag_resource_keys)
                    .partial("alarms only (no insight rules, metric streams or SLOs)"),
                Op::read("ListTagsForResource", "cloudwatch:ListTagsForResource", alarms::list_tags_for_resource)
                    .resources(authorization::on_resource_arn)
                    .partial("alarms only (no insight rules, metric streams or SLOs)"),
            ]),
            internal: Operations::new(internal::operations()),
            timers: evaluator::AlarmTimers,
        }
    }
}

impl Default for CloudWatch {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for CloudWatch {
    fn name(&self) -> &'static str {
        "monitoring"
    }

    fn event_source(&self) -> &'static str {
        "monitoring.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn internal_operation(&self, name: &str) -> Option<&Operation> {
        self.internal.get(name)
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let name = parts.resource.strip_prefix("alarm:")?;
        (parts.service == "cloudwatch" && !name.is_empty()).then_some(EventResource {
            kind: "AWS::CloudWatch::Alarm",
            name: arn,
            account: parts.account,
        })
    }

    fn timers(&self) -> Option<&dyn rampart_service::Timers> {
        Some(&self.timers)
    }
}
