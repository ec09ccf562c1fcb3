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
//! Alarms, dashboards, metric streams, anomaly detectors and insight rules are not served
//! yet: the spine answers their operations `NotImplemented` by name. An alarm evaluator will
//! read the same per-period aggregates GetMetricStatistics answers from.
#![deny(missing_docs)]

mod authorization;
mod error;
mod internal;
mod metrics;
mod records;
mod statistics;

#[cfg(test)]
mod tests;

pub use error::CloudWatchError;

use rampart_service::{Operation, Operations, Service};

/// CloudWatch, for the registry.
pub struct CloudWatch {
    operations: Operations,
    /// Work CloudWatch does for other services (metric filters' datapoints).
    internal: Operations,
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
            ]),
            internal: Operations::new(internal::operations()),
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
}
