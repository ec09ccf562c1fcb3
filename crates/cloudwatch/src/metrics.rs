//! Metrics: PutMetricData and ListMetrics.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::CloudWatchError;
use crate::records::{self, Bucket, Dimension, METRICS, MetricIdentity, MetricRecord};

/// PutMetricData's documented quotas.
const MAX_METRIC_DATA: usize = 1000;
const MAX_VALUES: usize = 150;
/// Timestamps AWS accepts: up to two weeks old, up to two hours ahead.
const MAX_AGE_SECONDS: i64 = 14 * 24 * 3600;
const MAX_AHEAD_SECONDS: i64 = 2 * 3600;
/// CloudWatch rejects values beyond 2^360 in magnitude, and non-zero ones below 2^-260.
const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833e108;
const MIN_MAGNITUDE: f64 = 5.397_605_346_934_028e-79;
/// ListMetrics answers 500 metrics a page.
const LIST_PAGE: PageSize = PageSize::new(500, 500);
/// `RecentlyActive: PT3H`.
const RECENT_SECONDS: i64 = 3 * 3600;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatisticSet {
    sample_count: f64,
    sum: f64,
    minimum: f64,
    maximum: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricDatum {
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    timestamp: Option<String>,
    value: Option<f64>,
    statistic_values: Option<StatisticSet>,
    values: Option<Vec<f64>>,
    counts: Option<Vec<f64>>,
    unit: Option<String>,
    storage_resolution: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EntityMetricData {
    #[serde(default)]
    metric_data: Vec<MetricDatum>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutMetricDataInput {
    namespace: String,
    metric_data: Option<Vec<MetricDatum>>,
    entity_metric_data: Option<Vec<EntityMetricData>>,
}

/// What one datum adds, checked.
pub(crate) struct Checked {
    pub(crate) metric: MetricIdentity,
    /// The start of its bucket (epoch seconds).
    pub(crate) second: i64,
    pub(crate) unit: String,
    pub(crate) add: Addition,
}

pub(crate) enum Addition {
    Values(Vec<(f64, f64)>),
    Set(f64, f64, f64, f64),
}

pub(crate) fn put_metric_data(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutMetricDataInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    if input.namespace.starts_with("AWS/") {
        return Err(CloudWatchError::invalid(format!(
            "The value {} for parameter Namespace is invalid.",
            input.namespace
        )));
    }
    // Entities (EntityMetricData's `Entity`) only link metrics to resources in AWS's
    // explorer views: their datums are kept as plain metric data.
    let mut datums: Vec<(String, MetricDatum)> = Vec::new();
    for (i, datum) in input.metric_data.into_iter().flatten().enumerate() {
        datums.push((format!("MetricData.member.{}", i + 1), datum));
    }
    for (e, entity) in input.entity_metric_data.into_iter().flatten().enumerate() {
        for (i, datum) in entity.metric_data.into_iter().enumerate() {
            datums.push((
                format!(
                    "EntityMetricData.member.{}.MetricData.member.{}",
                    e + 1,
                    i + 1
                ),
                datum,
            ));
        }
    }
    if datums.is_empty() {
        return Err(CloudWatchError::MissingParameter(
            "The parameter MetricData is required.".to_owned(),
        ));
    }
    if datums.len() > MAX_METRIC_DATA {
        return Err(CloudWatchError::invalid(format!(
            "The collection MetricData must not have a size greater than {MAX_METRIC_DATA}."
        )));
    }
    let now = env.now.unix_timestamp();
    let mut checked = Vec::with_capacity(datums.len());
    let mut problems = Vec::new();
    for (path, datum) in datums {
        match check(&input.namespace, &path, datum, now) {
            Ok(c) => checked.push(c),
            Err(e) => problems.push(e),
        }
    }
    // AWS reports every datum's problem at once, one per line, under the first one's code.
    if let Some(first) = problems.first() {
        let message = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        return Err(match first {
            CloudWatchError::InvalidParameterCombination(_) => {
                CloudWatchError::combination(message)
            }
            _ => CloudWatchError::invalid(message),
        });
    }
    store(env, tx, checked)?;
    Ok(serde_json::Map::new())
}

/// Adds checked datums to their buckets and notes their metrics as put now: what
/// PutMetricData stores, and what CloudWatch Logs' metric filters store through
/// `PutMetricDataInternal`.
pub(crate) fn store(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    checked: Vec<Checked>,
) -> Result<(), CloudWatchError> {
    let now = env.now.unix_timestamp();
    // One write per bucket touched, however many datums fall in it.
    let mut buckets: BTreeMap<(String, i64), Bucket> = BTreeMap::new();
    let mut metrics: BTreeMap<String, MetricIdentity> = BTreeMap::new();
    for c in checked {
        let id = c.metric.id();
        let bucket = match buckets.entry((id.clone(), c.second)) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let stored = records::bucket(env, tx, &id, c.second)?.unwrap_or_default();
                v.insert(stored)
            }
        };
        let aggregate = bucket.unit(&c.unit);
        match c.add {
            Addition::Values(values) => {
                for (value, count) in values {
                    aggregate.add_value(value, count);
                }
            }
            Addition::Set(count, sum, minimum, maximum) => {
                aggregate.add_set(count, sum, minimum, maximum);
            }
        }
        metrics.entry(id).or_insert(c.metric);
    }
    for ((id, second), bucket) in &buckets {
        records::put_bucket(env, tx, id, *second, bucket)?;
    }
    for (id, metric) in &metrics {
        records::touch_metric(env, tx, metric, id, now)?;
    }
    Ok(())
}

pub(crate) fn finite_value(path: &str, member: &str, value: f64) -> Result<f64, CloudWatchError> {
    let magnitude = value.abs();
    if !value.is_finite()
        || magnitude > MAX_MAGNITUDE
        || (value != 0.0 && magnitude < MIN_MAGNITUDE)
    {
        return Err(CloudWatchError::invalid(format!(
            "The value {value} for parameter {path}.{member} is invalid."
        )));
    }
    Ok(value)
}

fn check(
    namespace: &str,
    path: &str,
    datum: MetricDatum,
    now: i64,
) -> Result<Checked, CloudWatchError> {
    let resolution = match datum.storage_resolution {
        None | Some(60) => 60,
        Some(1) => 1,
        Some(other) => {
            return Err(CloudWatchError::invalid(format!(
                "The value {other} for parameter {path}.StorageResolution is invalid. Valid values are 1 and 60."
            )));
        }
    };
    let mut names: Vec<&str> = datum.dimensions.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w.first() == w.last()) {
        return Err(CloudWatchError::invalid(
            "No metric may specify the same dimension name twice.",
        ));
    }
    let timestamp = match &datum.timestamp {
        Some(t) => OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                CloudWatchError::invalid(format!("The parameter {path}.Timestamp is invalid."))
            })?
            .unix_timestamp(),
        None => now,
    };
    if timestamp < now - MAX_AGE_SECONDS {
        return Err(CloudWatchError::invalid(format!(
            "The parameter {path}.Timestamp must specify a time within the past two weeks."
        )));
    }
    if timestamp > now + MAX_AHEAD_SECONDS {
        return Err(CloudWatchError::invalid(format!(
            "The parameter {path}.Timestamp must specify a time no more than two hours in the future."
        )));
    }
    let given = [
        datum.value.is_some(),
        datum.statistic_values.is_some(),
        datum.values.is_some(),
    ];
    let add = match (datum.value, datum.statistic_values, datum.values) {
        (Some(value), None, None) => {
            if datum.counts.is_some() {
                return Err(CloudWatchError::combination(format!(
                    "The parameters {path}.Value and {path}.Counts are mutually exclusive and you have specified both."
                )));
            }
            Addition::Values(vec![(finite_value(path, "Value", value)?, 1.0)])
        }
        (None, Some(set), None) => {
            if datum.counts.is_some() {
                return Err(CloudWatchError::combination(format!(
                    "The parameters {path}.StatisticValues and {path}.Counts are mutually exclusive and you have specified both."
                )));
            }
            let sv = format!("{path}.StatisticValues");
            let count = finite_value(&sv, "SampleCount", set.sample_count)?;
            let sum = finite_value(&sv, "Sum", set.sum)?;
            let minimum = finite_value(&sv, "Minimum", set.minimum)?;
            let maximum = finite_value(&sv, "Maximum", set.maximum)?;
            if count <= 0.0 {
                return Err(CloudWatchError::invalid(format!(
                    "The value {count} for parameter {sv}.SampleCount is invalid."
                )));
            }
            if minimum > maximum {
                return Err(CloudWatchError::invalid(format!(
                    "The parameter {sv}.Minimum must be less than or equal to {sv}.Maximum."
                )));
            }
            Addition::Set(count, sum, minimum, maximum)
        }
        (None, None, Some(values)) => {
            if values.len() > MAX_VALUES {
                return Err(CloudWatchError::invalid(format!(
                    "The collection {path}.Values must not have a size greater than {MAX_VALUES}."
                )));
            }
            let counts = match datum.counts {
                Some(counts) if counts.len() != values.len() => {
                    return Err(CloudWatchError::combination(format!(
                        "The parameters {path}.Values and {path}.Counts must be of the same size."
                    )));
                }
                Some(counts) => counts,
                None => vec![1.0; values.len()],
            };
            let mut pairs = Vec::with_capacity(values.len());
            for (value, count) in values.into_iter().zip(counts) {
                let value = finite_value(path, "Values", value)?;
                let count = finite_value(path, "Counts", count)?;
                if count < 0.0 {
                    return Err(CloudWatchError::invalid(format!(
                        "The value {count} for parameter {path}.Counts is invalid."
                    )));
                }
                if count > 0.0 {
                    pairs.push((value, count));
                }
            }
            Addition::Values(pairs)
        }
        (None, None, None) => {
            return Err(CloudWatchError::combination(format!(
                "At least one of the parameters {path}.Value and {path}.StatisticValues must be specified."
            )));
        }
        _ => {
            let names = ["Value", "StatisticValues", "Values"];
            let both: Vec<String> = names
                .iter()
                .zip(given)
                .filter(|(_, g)| *g)
                .map(|(n, _)| format!("{path}.{n}"))
                .collect();
            return Err(CloudWatchError::combination(format!(
                "The parameters {} are mutually exclusive and you have specified both.",
                both.join(" and ")
            )));
        }
    };
    Ok(Checked {
        metric: MetricIdentity::new(namespace, &datum.metric_name, datum.dimensions),
        second: timestamp - timestamp.rem_euclid(resolution),
        unit: datum.unit.unwrap_or_else(|| "None".to_owned()),
        add,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DimensionFilter {
    name: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListMetricsInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    #[serde(default)]
    dimensions: Vec<DimensionFilter>,
    next_token: Option<String>,
    recently_active: Option<String>,
    #[serde(default)]
    include_linked_accounts: bool,
    owning_account: Option<String>,
}

/// A metric as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Metric {
    namespace: String,
    metric_name: String,
    dimensions: Vec<Dimension>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListMetricsOutput {
    metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_metrics(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListMetricsInput,
) -> Result<ListMetricsOutput, CloudWatchError> {
    if input.include_linked_accounts || input.owning_account.is_some() {
        return Err(CloudWatchError::NotImplemented(
            "Rampart serves no cross-account observability: ListMetrics answers the caller's own account only (omit IncludeLinkedAccounts and OwningAccount)".to_owned(),
        ));
    }
    let recent_since = input
        .recently_active
        .is_some()
        .then(|| env.now.unix_timestamp() - RECENT_SECONDS);
    let prefix = records::metrics_prefix(env, input.namespace.as_deref());
    let page = paging::scan_page(
        tx,
        METRICS,
        &prefix,
        input.next_token.as_deref(),
        LIST_PAGE.of(None),
        |_, key, bytes| -> Result<Option<Metric>, CloudWatchError> {
            let record: MetricRecord = records::decode(METRICS, key, bytes)?;
            let keep = input
                .metric_name
                .as_ref()
                .is_none_or(|name| *name == record.metric.name)
                && recent_since.is_none_or(|since| record.last_put >= since)
                && input.dimensions.iter().all(|filter| {
                    record.metric.dimensions.iter().any(|d| {
                        d.name == filter.name && filter.value.as_ref().is_none_or(|v| *v == d.value)
                    })
                });
            Ok(keep.then_some(Metric {
                namespace: record.metric.namespace,
                metric_name: record.metric.name,
                dimensions: record.metric.dimensions,
            }))
        },
    )?;
    Ok(ListMetricsOutput {
        metrics: page.items,
        next_token: page.next,
    })
}
