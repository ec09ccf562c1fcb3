//! `PutMetricDataInternal`: the datapoints CloudWatch Logs' metric filters emit, put by
//! CloudWatch Logs through the spine (`rampart_service::ServiceCalls::call_write`) in the
//! transaction that stores the log events, so both commit or neither does.
//!
//! As AWS's metric filters: no CloudTrail event records the put and no policy is evaluated
//! for it (the caller was authorized for `logs:PutLogEvents`; see
//! `rampart_service::Service::internal_operation`). No client can call it: it is in no API
//! model. The data lands exactly where PutMetricData puts it ([`crate::metrics::store`]).
//!
//! A datum CloudWatch would refuse (a value beyond its range, a timestamp outside the two
//! weeks before and two hours after now) is dropped, never the log events: AWS drops a
//! metric filter's datapoint it cannot publish and keeps ingesting.

use rampart_service::{Env, Operation};
use rampart_store::WriteTx;
use serde::Deserialize;

use crate::error::CloudWatchError;
use crate::metrics::{self, Addition, Checked};
use crate::records::{Dimension, MetricIdentity};

/// Metric filters' metrics are standard resolution: one bucket a minute.
const RESOLUTION_SECONDS: i64 = 60;
/// The timestamps CloudWatch accepts, as PutMetricData checks them.
const MAX_AGE_SECONDS: i64 = 14 * 24 * 3600;
const MAX_AHEAD_SECONDS: i64 = 2 * 3600;

/// The operations other services call inside CloudWatch.
pub(crate) fn operations() -> Vec<Operation> {
    // Never evaluated: internal operations are not authorized (see `Service::internal_operation`).
    vec![
        Operation::write(
            "PutMetricDataInternal",
            "cloudwatch:PutMetricData",
            put_metric_data_internal,
        )
        .always_allowed(),
    ]
}

/// One datapoint (or `Count` equal ones) of a metric filter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InternalDatum {
    namespace: String,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    /// Epoch seconds.
    timestamp: i64,
    value: f64,
    /// How many events emitted this same value in this same second.
    #[serde(default = "one")]
    count: f64,
    unit: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// `PutMetricDataInternal`'s input: datums of any namespaces, in the caller's account and
/// region (CloudWatch Logs calls as its service principal in the log group's account).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutMetricDataInternalInput {
    metric_data: Vec<InternalDatum>,
}

pub(crate) fn put_metric_data_internal(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutMetricDataInternalInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    let now = env.now.unix_timestamp();
    let checked: Vec<Checked> = input
        .metric_data
        .into_iter()
        .filter_map(|datum| accepted(datum, now))
        .collect();
    metrics::store(env, tx, checked)?;
    Ok(serde_json::Map::new())
}

/// The datum as PutMetricData would store it, or `None` when CloudWatch would refuse it.
fn accepted(datum: InternalDatum, now: i64) -> Option<Checked> {
    let in_range = metrics::finite_value("", "Value", datum.value).is_ok()
        && datum.count.is_finite()
        && datum.count > 0.0
        && datum.timestamp >= now - MAX_AGE_SECONDS
        && datum.timestamp <= now + MAX_AHEAD_SECONDS;
    if !in_range {
        tracing::debug!(
            namespace = %datum.namespace,
            metric = %datum.metric_name,
            "a metric filter's datapoint CloudWatch cannot accept was dropped"
        );
        return None;
    }
    Some(Checked {
        metric: MetricIdentity::new(&datum.namespace, &datum.metric_name, datum.dimensions),
        second: datum.timestamp - datum.timestamp.rem_euclid(RESOLUTION_SECONDS),
        unit: datum.unit.unwrap_or_else(|| "None".to_owned()),
        add: Addition::Values(vec![(datum.value, datum.count)]),
    })
}
