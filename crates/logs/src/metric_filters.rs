//! Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and
//! TestMetricFilter. A filter's transformation is recorded as given; the datapoints it would
//! emit to CloudWatch metrics come when Rampart serves CloudWatch metrics.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::events;
use crate::names;
use crate::records::{self, METRIC_FILTERS, MetricFilterRecord, Transformation};

/// AWS's quota of metric filters per log group.
pub(crate) const MAX_PER_GROUP: usize = 100;
/// The most dimensions a transformation has.
const MAX_DIMENSIONS: usize = 3;
/// DescribeMetricFilters' page: 50 unless asked for fewer.
const PAGE: PageSize = PageSize::new(50, 50);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutMetricFilterInput {
    log_group_name: String,
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<Transformation>,
}

/// A metric value or dimension value: a number, or a field of the match (`$.a`, `$name`).
fn is_value(text: &str) -> bool {
    text.starts_with('$') && text.len() > 1 || text.parse::<f64>().is_ok_and(f64::is_finite)
}

fn check_transformation(t: &Transformation) -> Result<(), LogsError> {
    if !is_value(&t.metric_value) {
        return Err(LogsError::invalid(format!(
            "Invalid metric value: {}. The metric value must be a number or a field of the event ($.field or $name).",
            t.metric_value
        )));
    }
    if let Some(dimensions) = &t.dimensions {
        if dimensions.len() > MAX_DIMENSIONS {
            return Err(LogsError::invalid(format!(
                "A metric transformation has at most {MAX_DIMENSIONS} dimensions."
            )));
        }
        if !dimensions.is_empty() && t.default_value.is_some() {
            return Err(LogsError::invalid(
                "A metric transformation with dimensions cannot have a default value.",
            ));
        }
        if let Some((key, _)) = dimensions.iter().find(|(_, v)| !v.starts_with('$')) {
            return Err(LogsError::invalid(format!(
                "The value of dimension {key} must be a field of the event ($.field or $name)."
            )));
        }
    }
    Ok(())
}

pub(crate) fn put_metric_filter(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutMetricFilterInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let mut group = records::existing_group(env, tx, &input.log_group_name)?;
    events::pattern(&input.filter_pattern)?;
    input
        .metric_transformations
        .iter()
        .try_for_each(check_transformation)?;
    let key = format!(
        "{}{}",
        names::under_group(env, &input.log_group_name),
        input.filter_name
    );
    let existing: Option<MetricFilterRecord> = get_json(tx, METRIC_FILTERS, &key)?;
    if existing.is_none() {
        if group.metric_filters >= MAX_PER_GROUP {
            return Err(LogsError::LimitExceeded(
                "Resource limit exceeded.".to_owned(),
            ));
        }
        group.metric_filters += 1;
        records::put_group(env, tx, &group)?;
    }
    let record = MetricFilterRecord {
        created: existing.map_or_else(|| records::now_ms(env), |e| e.created),
        name: input.filter_name,
        group: input.log_group_name,
        pattern: input.filter_pattern,
        transformations: input.metric_transformations,
    };
    put_json(tx, METRIC_FILTERS, &key, &record)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteMetricFilterInput {
    log_group_name: String,
    filter_name: String,
}

pub(crate) fn delete_metric_filter(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteMetricFilterInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let mut group = records::existing_group(env, tx, &input.log_group_name)?;
    let key = format!(
        "{}{}",
        names::under_group(env, &input.log_group_name),
        input.filter_name
    );
    if !tx.delete(METRIC_FILTERS, &key)? {
        return Err(LogsError::ResourceNotFound(
            "The specified resource does not exist.".to_owned(),
        ));
    }
    group.metric_filters = group.metric_filters.saturating_sub(1);
    records::put_group(env, tx, &group)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeMetricFiltersInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricFilter {
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<Transformation>,
    creation_time: i64,
    log_group_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeMetricFiltersOutput {
    metric_filters: Vec<MetricFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn describe_metric_filters(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeMetricFiltersInput,
) -> Result<DescribeMetricFiltersOutput, LogsError> {
    if input.filter_name_prefix.is_some() && input.log_group_name.is_none() {
        return Err(LogsError::invalid(
            "If filterNamePrefix is specified, logGroupName must also be specified.",
        ));
    }
    if input.metric_name.is_some() != input.metric_namespace.is_some() {
        return Err(LogsError::invalid(
            "metricName and metricNamespace must be specified together.",
        ));
    }
    let prefix = match &input.log_group_name {
        Some(group) => {
            records::existing_group(env, tx, group)?;
            format!(
                "{}{}",
                names::under_group(env, group),
                input.filter_name_prefix.as_deref().unwrap_or_default()
            )
        }
        None => names::groups_prefix(env),
    };
    let metric = input.metric_name.zip(input.metric_namespace);
    let page = paging::scan_page(
        tx,
        METRIC_FILTERS,
        &prefix,
        input.next_token.as_deref(),
        PAGE.of(input.limit),
        |_, key, bytes| -> Result<Option<MetricFilter>, LogsError> {
            let record: MetricFilterRecord = records::decode(METRIC_FILTERS, key, bytes)?;
            if let Some((name, namespace)) = &metric
                && !record
                    .transformations
                    .iter()
                    .any(|t| &t.metric_name == name && &t.metric_namespace == namespace)
            {
                return Ok(None);
            }
            Ok(Some(MetricFilter {
                filter_name: record.name,
                filter_pattern: record.pattern,
                metric_transformations: record.transformations,
                creation_time: record.created,
                log_group_name: record.group,
            }))
        },
    )?;
    Ok(DescribeMetricFiltersOutput {
        metric_filters: page.items,
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestMetricFilterInput {
    filter_pattern: String,
    log_event_messages: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricFilterMatchRecord {
    event_number: usize,
    event_message: String,
    extracted_values: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TestMetricFilterOutput {
    matches: Vec<MetricFilterMatchRecord>,
}

pub(crate) fn test_metric_filter(
    _env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: TestMetricFilterInput,
) -> Result<TestMetricFilterOutput, LogsError> {
    let pattern = events::pattern(&input.filter_pattern)?;
    let matches = input
        .log_event_messages
        .into_iter()
        .enumerate()
        .filter_map(|(i, message)| {
            let found = pattern.matches(&message)?;
            Some(MetricFilterMatchRecord {
                event_number: i + 1,
                extracted_values: pattern.extracted(&found),
                event_message: message,
            })
        })
        .collect();
    Ok(TestMetricFilterOutput { matches })
}
