//! Reading metrics back: GetMetricStatistics and GetMetricData, over the stored buckets
//! folded into the periods asked for.
//!
//! Periods are aligned as CloudWatch aligns them: on the start time rounded down to the
//! minute (to the second for a period under a minute), each period stamped with its start.
//! An alarm evaluator reads the same aggregates through [`period_aggregates`].

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::CloudWatchError;
use crate::records::{self, Aggregate, Dimension, MetricIdentity, Statistic};

/// GetMetricStatistics answers at most 1,440 datapoints.
const MAX_STATISTICS_DATAPOINTS: i64 = 1440;
/// GetMetricData's default and largest page, in datapoints.
const DEFAULT_MAX_DATAPOINTS: usize = 100_800;
/// GetMetricData takes at most 500 queries.
const MAX_QUERIES: usize = 500;
/// The periods under a minute a high-resolution metric can be read at.
const SHORT_PERIODS: &[i64] = &[1, 5, 10, 20, 30];

fn parse_time(value: &str, member: &str) -> Result<i64, CloudWatchError> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| CloudWatchError::invalid(format!("The parameter {member} is invalid.")))
}

fn check_period(period: i64, member: &str) -> Result<(), CloudWatchError> {
    if period >= 60 && period % 60 == 0 || SHORT_PERIODS.contains(&period) {
        return Ok(());
    }
    Err(CloudWatchError::invalid(format!(
        "The parameter {member} must be 1, 5, 10, 20, 30, or a multiple of 60."
    )))
}

fn check_range(start: i64, end: i64) -> Result<(), CloudWatchError> {
    if start >= end {
        return Err(CloudWatchError::invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok(())
}

/// The aggregates of `metric` per period of `period` seconds in `[start, end)`, each unit
/// apart (or only `unit` when given), keyed by the period's start.
pub(crate) fn period_aggregates(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    metric: &MetricIdentity,
    start: i64,
    end: i64,
    period: i64,
    unit: Option<&str>,
) -> Result<BTreeMap<(i64, String), Aggregate>, CloudWatchError> {
    let granularity = if period % 60 == 0 { 60 } else { 1 };
    let aligned = start - start.rem_euclid(granularity);
    let mut out: BTreeMap<(i64, String), Aggregate> = BTreeMap::new();
    for (second, bucket) in records::buckets_between(env, tx, &metric.id(), aligned, end)? {
        let period_start = aligned + (second - aligned).div_euclid(period) * period;
        for (bucket_unit, aggregate) in bucket.units {
            if unit.is_some_and(|u| u != bucket_unit) {
                continue;
            }
            match out.entry((period_start, bucket_unit)) {
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    o.get_mut().merge(&aggregate)
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(aggregate);
                }
            }
        }
    }
    Ok(out)
}

fn timestamp(second: i64) -> String {
    OffsetDateTime::from_unix_timestamp(second)
        .map(rampart_service::aws_timestamp)
        .unwrap_or_default()
}

/// `1440` → `1,440`, as AWS writes counts in its messages.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetMetricStatisticsInput {
    namespace: String,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    start_time: String,
    end_time: String,
    period: i64,
    statistics: Option<Vec<String>>,
    extended_statistics: Option<Vec<String>>,
    unit: Option<String>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Datapoint {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum: Option<f64>,
    unit: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extended_statistics: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetMetricStatisticsOutput {
    label: String,
    datapoints: Vec<Datapoint>,
}

pub(crate) fn get_metric_statistics(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetMetricStatisticsInput,
) -> Result<GetMetricStatisticsOutput, CloudWatchError> {
    let statistics = input.statistics.unwrap_or_default();
    let extended = input.extended_statistics.unwrap_or_default();
    if statistics.is_empty() && extended.is_empty() {
        return Err(CloudWatchError::MissingParameter(
            "Must specify either Statistics or ExtendedStatistics.".to_owned(),
        ));
    }
    let mut plain = Vec::new();
    for (i, name) in statistics.iter().enumerate() {
        let stat = Statistic::plain(name).ok_or_else(|| {
            CloudWatchError::invalid(format!(
                "The value {name} for parameter Statistics.member.{} is invalid.",
                i + 1
            ))
        })?;
        plain.push(stat);
    }
    let mut percentiles = Vec::new();
    for (i, name) in extended.iter().enumerate() {
        let stat = Statistic::percentile(name).ok_or_else(|| {
            CloudWatchError::invalid(format!(
                "The value {name} for parameter ExtendedStatistics.member.{} is invalid. Rampart computes percentiles (p0 to p100, up to two decimals).",
                i + 1
            ))
        })?;
        percentiles.push((name.clone(), stat));
    }
    check_period(input.period, "Period")?;
    let start = parse_time(&input.start_time, "StartTime")?;
    let end = parse_time(&input.end_time, "EndTime")?;
    check_range(start, end)?;
    let requested = (end - start + input.period - 1) / input.period;
    if requested > MAX_STATISTICS_DATAPOINTS {
        return Err(CloudWatchError::combination(format!(
            "You have requested up to {} datapoints, which exceeds the limit of {}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
            grouped(requested),
            grouped(MAX_STATISTICS_DATAPOINTS)
        )));
    }
    let metric = MetricIdentity::new(&input.namespace, &input.metric_name, input.dimensions);
    let aggregates = period_aggregates(
        env,
        tx,
        &metric,
        start,
        end,
        input.period,
        input.unit.as_deref(),
    )?;
    let datapoints = aggregates
        .into_iter()
        .map(|((second, unit), aggregate)| {
            let value = |stat: Statistic| {
                plain
                    .contains(&stat)
                    .then(|| aggregate.statistic(&stat))
                    .flatten()
            };
            Datapoint {
                timestamp: timestamp(second),
                sample_count: value(Statistic::SampleCount),
                average: value(Statistic::Average),
                sum: value(Statistic::Sum),
                minimum: value(Statistic::Minimum),
                maximum: value(Statistic::Maximum),
                unit,
                extended_statistics: percentiles
                    .iter()
                    .filter_map(|(name, stat)| aggregate.statistic(stat).map(|v| (name.clone(), v)))
                    .collect(),
            }
        })
        .collect();
    Ok(GetMetricStatisticsOutput {
        label: metric.name,
        datapoints,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricStat {
    metric: MetricInput,
    period: i64,
    stat: String,
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricDataQuery {
    id: String,
    metric_stat: Option<MetricStat>,
    expression: Option<String>,
    label: Option<String>,
    return_data: Option<bool>,
    account_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetMetricDataInput {
    metric_data_queries: Vec<MetricDataQuery>,
    start_time: String,
    end_time: String,
    next_token: Option<String>,
    scan_by: Option<String>,
    max_datapoints: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricDataResult {
    id: String,
    label: String,
    timestamps: Vec<String>,
    values: Vec<f64>,
    status_code: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetMetricDataOutput {
    metric_data_results: Vec<MetricDataResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    messages: Vec<serde_json::Value>,
}

/// One query's answer before paging: its datapoints (second, value) in scan order.
struct Series {
    id: String,
    label: String,
    points: Vec<(i64, f64)>,
}

/// `^[a-z][a-zA-Z0-9_]*$`, the pattern AWS holds query ids to.
fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn get_metric_data(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetMetricDataInput,
) -> Result<GetMetricDataOutput, CloudWatchError> {
    let queries = input.metric_data_queries;
    if queries.is_empty() || queries.len() > MAX_QUERIES {
        return Err(CloudWatchError::invalid(format!(
            "The collection MetricDataQueries must have between 1 and {MAX_QUERIES} members."
        )));
    }
    let start = parse_time(&input.start_time, "StartTime")?;
    let end = parse_time(&input.end_time, "EndTime")?;
    check_range(start, end)?;
    let ascending = input.scan_by.as_deref() == Some("TimestampAscending");
    let max_points = input
        .max_datapoints
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_DATAPOINTS);
    let offset = match input.next_token.as_deref() {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| {
            CloudWatchError::InvalidNextToken(
                "The service couldn't process the NextToken.".to_owned(),
            )
        })?,
    };
    let mut seen_ids: Vec<&str> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let path = format!("MetricDataQueries.member.{}", i + 1);
        if !valid_id(&query.id) {
            return Err(CloudWatchError::Validation(format!(
                "The value {} for parameter {path}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.",
                query.id
            )));
        }
        if seen_ids.contains(&query.id.as_str()) {
            return Err(CloudWatchError::Validation(format!(
                "The value {} for parameter {path}.Id is not unique.",
                query.id
            )));
        }
        seen_ids.push(&query.id);
        if query
            .account_id
            .as_ref()
            .is_some_and(|a| *a != env.caller.account_id)
        {
            return Err(CloudWatchError::NotImplemented(format!(
                "Rampart serves no cross-account observability: {path}.AccountId must be the caller's account"
            )));
        }
        let stat = match (&query.metric_stat, &query.expression) {
            (Some(stat), None) => stat,
            (None, Some(_)) => {
                return Err(CloudWatchError::NotImplemented(format!(
                    "Rampart does not evaluate metric math or Metrics Insights queries yet: {path}.Expression is not supported (use MetricStat)"
                )));
            }
            (Some(_), Some(_)) => {
                return Err(CloudWatchError::Validation(format!(
                    "The parameters {path}.MetricStat and {path}.Expression are mutually exclusive and you have specified both."
                )));
            }
            (None, None) => {
                return Err(CloudWatchError::Validation(format!(
                    "The parameter {path} must specify either MetricStat or Expression."
                )));
            }
        };
        check_period(stat.period, &format!("{path}.MetricStat.Period"))?;
        let statistic = Statistic::plain(&stat.stat)
            .or_else(|| Statistic::percentile(&stat.stat))
            .ok_or_else(|| {
                CloudWatchError::NotImplemented(format!(
                    "Rampart computes SampleCount, Average, Sum, Minimum, Maximum and percentiles (pNN) only: {path}.MetricStat.Stat `{}` is not supported yet",
                    stat.stat
                ))
            })?;
        let (Some(namespace), Some(name)) = (&stat.metric.namespace, &stat.metric.metric_name)
        else {
            return Err(CloudWatchError::MissingParameter(format!(
                "The parameters {path}.MetricStat.Metric.Namespace and {path}.MetricStat.Metric.MetricName are required."
            )));
        };
        let metric = MetricIdentity::new(namespace, name, stat.metric.dimensions.clone());
        let aggregates = period_aggregates(
            env,
            tx,
            &metric,
            start,
            end,
            stat.period,
            stat.unit.as_deref(),
        )?;
        // Without a unit, every unit's data counts together.
        let mut per_period: BTreeMap<i64, Aggregate> = BTreeMap::new();
        for ((second, _), aggregate) in aggregates {
            match per_period.entry(second) {
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    o.get_mut().merge(&aggregate)
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(aggregate);
                }
            }
        }
        let mut points: Vec<(i64, f64)> = per_period
            .into_iter()
            .filter_map(|(second, aggregate)| aggregate.statistic(&statistic).map(|v| (second, v)))
            .collect();
        if !ascending {
            points.reverse();
        }
        if query.return_data != Some(false) {
            series.push(Series {
                id: query.id.clone(),
                label: query.label.clone().unwrap_or_else(|| name.clone()),
                points,
            });
        }
    }
    // One page is `max_points` datapoints of the queries' results laid end to end; the token
    // is where the next page starts.
    let total: usize = series.iter().map(|s| s.points.len()).sum();
    if offset > total {
        return Err(CloudWatchError::InvalidNextToken(
            "The service couldn't process the NextToken.".to_owned(),
        ));
    }
    let page_end = offset.saturating_add(max_points).min(total);
    let mut position = 0;
    let mut results = Vec::with_capacity(series.len());
    for Series { id, label, points } in series {
        let from = offset.clamp(position, position + points.len()) - position;
        let to = page_end.clamp(position, position + points.len()) - position;
        let complete = to == points.len();
        position += points.len();
        let page = points.get(from..to).unwrap_or_default();
        results.push(MetricDataResult {
            id,
            label,
            timestamps: page.iter().map(|(s, _)| timestamp(*s)).collect(),
            values: page.iter().map(|(_, v)| *v).collect(),
            status_code: if complete { "Complete" } else { "PartialData" },
        });
    }
    Ok(GetMetricDataOutput {
        metric_data_results: results,
        next_token: (page_end < total).then(|| page_end.to_string()),
        messages: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_as_aws_writes_them() {
        assert_eq!(grouped(1440), "1,440");
        assert_eq!(grouped(2881), "2,881");
        assert_eq!(grouped(100), "100");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }

    #[test]
    fn query_ids_follow_aws_pattern() {
        assert!(valid_id("m1"));
        assert!(valid_id("a_B9"));
        assert!(!valid_id("5xx"));
        assert!(!valid_id("M1"));
        assert!(!valid_id(""));
        assert!(!valid_id("a-b"));
    }
}
