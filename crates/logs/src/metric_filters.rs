//! Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and
//! TestMetricFilter, and the datapoints filters emit to CloudWatch metrics for the events
//! PutLogEvents stores ([`MetricEmission`]).
//!
//! As AWS's: every event stored in a group is matched against the group's filters as they are
//! when it is put (a new filter does not reach back to events already stored); a match emits
//! each transformation's value (a number, or a field of the match: `$.a.b` of a JSON
//! pattern, `$name` of a space-delimited one) with its dimensions (fields of the match) and
//! unit, at the event's timestamp; an event that does not match emits the transformation's
//! `defaultValue` when it has one. A value field that holds no number, or a dimension field
//! the event lacks, emits nothing for that event. The datapoints go to CloudWatch through
//! its internal operation `PutMetricDataInternal` in PutLogEvents' transaction: the events
//! and their datapoints commit together, with no CloudTrail event and no policy evaluated
//! for the put, as AWS publishes a filter's metrics.

use std::collections::BTreeMap;

use rampart_service::paging::{self, PageSize};
use rampart_service::{CallPrincipal, Env, ServiceCall};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::events;
use crate::names;
use crate::pattern::{FilterPattern, Matched};
use crate::records::{self, GroupRecord, METRIC_FILTERS, MetricFilterRecord, Transformation};

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

/// The principal CloudWatch Logs publishes its metric filters' datapoints as.
const LOGS_PRINCIPAL: &str = "logs.amazonaws.com";
/// CloudWatch's longest dimension value.
const MAX_DIMENSION_VALUE: usize = 1024;

/// A dimension of a datapoint, as CloudWatch names its members.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DatumDimension {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// What identifies the datapoints that aggregate together: equal ones (the same metric,
/// unit, second and value) travel as one with a count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DatumKey {
    pub(crate) namespace: String,
    pub(crate) metric_name: String,
    pub(crate) dimensions: Vec<DatumDimension>,
    pub(crate) unit: Option<String>,
    /// Epoch seconds.
    pub(crate) timestamp: i64,
    /// The value's bits (`f64` is not `Ord`).
    pub(crate) value_bits: u64,
}

/// The datapoint `transformation` emits for an event at `timestamp_ms` (epoch milliseconds):
/// its value when the event `matched`, its default value when it did not; `None` when it
/// emits nothing (no match and no default value, a value field that holds no number, a
/// dimension field the event lacks).
pub(crate) fn datum(
    transformation: &Transformation,
    matched: Option<&Matched>,
    timestamp_ms: i64,
) -> Option<DatumKey> {
    let dimensions_given = transformation.dimensions.as_ref();
    let (value, dimensions) = match matched {
        Some(found) => {
            let value = field_or_literal(found, &transformation.metric_value)?;
            let mut dimensions = Vec::new();
            for (name, reference) in dimensions_given.into_iter().flatten() {
                let value = found.value(reference)?;
                if value.is_empty() || value.chars().count() > MAX_DIMENSION_VALUE {
                    return None;
                }
                dimensions.push(DatumDimension {
                    name: name.clone(),
                    value,
                });
            }
            (value, dimensions)
        }
        // AWS refuses a default value beside dimensions: an unmatched event has no fields.
        None if dimensions_given.is_none_or(BTreeMap::is_empty) => {
            (transformation.default_value?, Vec::new())
        }
        None => return None,
    };
    Some(DatumKey {
        namespace: transformation.metric_namespace.clone(),
        metric_name: transformation.metric_name.clone(),
        dimensions,
        unit: transformation.unit.clone(),
        timestamp: timestamp_ms.div_euclid(1000),
        value_bits: value.to_bits(),
    })
}

/// The number `reference` names: a literal, or a field of the match that holds a number.
fn field_or_literal(matched: &Matched, reference: &str) -> Option<f64> {
    let text = if reference.starts_with('$') {
        matched.value(reference)?
    } else {
        reference.to_owned()
    };
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The metric filters of one group, applied to the events one PutLogEvents stores.
pub(crate) struct MetricEmission {
    /// The group's ARN, for the principal's `aws:SourceArn`.
    group_arn: String,
    filters: Vec<(FilterPattern, Vec<Transformation>)>,
    datums: BTreeMap<DatumKey, f64>,
}

impl MetricEmission {
    /// The filters of `group` as they are now.
    pub(crate) fn of_group(
        env: &Env<'_>,
        tx: &mut (impl ReadTx + ?Sized),
        group: &GroupRecord,
    ) -> Result<Self, LogsError> {
        let mut filters = Vec::new();
        // INVARIANT: `metric_filters` counts the group's filters (Put and Delete keep it), so
        // a group without filters costs no scan.
        if group.metric_filters > 0 {
            let prefix = names::under_group(env, &group.name);
            for (key, bytes) in records::scan_all(tx, METRIC_FILTERS, &prefix)? {
                let record: MetricFilterRecord = records::decode(METRIC_FILTERS, &key, &bytes)?;
                match FilterPattern::parse(&record.pattern) {
                    Ok(pattern) => filters.push((pattern, record.transformations)),
                    // Stored patterns were parsed when put; one that no longer parses (a
                    // grammar change) emits nothing rather than refusing the events.
                    Err(e) => {
                        tracing::warn!(filter = %key, error = %e, "metric filter pattern no longer parses")
                    }
                }
            }
        }
        Ok(Self {
            group_arn: names::group_arn(env.region, &env.caller.account_id, &group.name),
            filters,
            datums: BTreeMap::new(),
        })
    }

    /// Matches one stored event against every filter.
    pub(crate) fn observe(&mut self, timestamp_ms: i64, message: &str) {
        // One JSON parse per event, however many JSON filters read it.
        let parsed: Option<serde_json::Value> = self
            .filters
            .iter()
            .any(|(pattern, _)| pattern.is_json())
            .then(|| serde_json::from_str(message).ok())
            .flatten();
        for (pattern, transformations) in &self.filters {
            let matched = pattern.matches_parsed(message, parsed.as_ref());
            for transformation in transformations {
                if let Some(key) = datum(transformation, matched.as_ref(), timestamp_ms) {
                    *self.datums.entry(key).or_insert(0.0) += 1.0;
                }
            }
        }
    }

    /// Puts the datapoints observed into CloudWatch, in `tx`.
    pub(crate) fn emit(self, env: &Env<'_>, tx: &mut dyn WriteTx) -> Result<(), LogsError> {
        if self.datums.is_empty() {
            return Ok(());
        }
        let metric_data: Vec<serde_json::Value> = self
            .datums
            .into_iter()
            .map(|(key, count)| {
                let mut datum = serde_json::json!({
                    "Namespace": key.namespace,
                    "MetricName": key.metric_name,
                    "Dimensions": key.dimensions,
                    "Timestamp": key.timestamp,
                    "Value": f64::from_bits(key.value_bits),
                    "Count": count,
                });
                if let (Some(unit), Some(fields)) = (key.unit, datum.as_object_mut()) {
                    fields.insert("Unit".to_owned(), unit.into());
                }
                datum
            })
            .collect();
        let call = ServiceCall {
            service: "monitoring",
            operation: "PutMetricDataInternal",
            input: serde_json::json!({ "MetricData": metric_data }),
            principal: CallPrincipal::Service {
                principal: LOGS_PRINCIPAL,
                source_arn: &self.group_arn,
                source_account: &env.caller.account_id,
                via: None,
            },
        };
        env.calls
            .call_write(tx, call)
            .map(|_| ())
            .map_err(LogsError::MetricEmission)
    }
}
