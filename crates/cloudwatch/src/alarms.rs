//! Metric alarms: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms,
//! SetAlarmState, Enable/DisableAlarmActions, and the alarm tags (TagResource, UntagResource,
//! ListTagsForResource).
//!
//! An alarm is kept in `cloudwatch/alarms` under `<account>:<region>:<name>` ([`AlarmRecord`]);
//! its next evaluation is a timer (evaluator.rs), its history is in history.rs.

use rampart_service::paging::{self, PageSize};
use rampart_service::{Env, Value};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::CloudWatchError;
use crate::evaluator;
use crate::history::{self, HistoryKind};
use crate::records::{self, Dimension, MetricIdentity, Statistic};

pub(crate) const ALARMS: &str = "cloudwatch/alarms";

/// DescribeAlarms answers 50 alarms a page unless asked for up to 100.
const DESCRIBE_PAGE: PageSize = PageSize::new(50, 100);
/// Each state's action list holds at most five ARNs.
const MAX_ACTIONS: usize = 5;
/// An alarm carries at most 50 tags.
const MAX_TAGS: usize = 50;
/// Alarms evaluate at most a day of data.
const MAX_EVALUATED_SECONDS: i64 = 86_400;
/// The initial state's reason, as AWS words it.
pub(crate) const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

/// The comparison operators of static-threshold alarms.
const STATIC_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
/// The operators of anomaly-detection bands, which need a `ThresholdMetricId`.
const BAND_OPERATORS: &[&str] = &[
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
const STATES: &[&str] = &["OK", "ALARM", "INSUFFICIENT_DATA"];
const TREATMENTS: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

/// A tag, as the API names its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// A metric alarm as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlarmRecord {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) description: Option<String>,
    /// Epoch milliseconds of the last PutMetricAlarm.
    pub(crate) configuration_updated: i64,
    pub(crate) actions_enabled: bool,
    pub(crate) ok_actions: Vec<String>,
    pub(crate) alarm_actions: Vec<String>,
    pub(crate) insufficient_data_actions: Vec<String>,
    pub(crate) state: String,
    pub(crate) state_reason: String,
    pub(crate) state_reason_data: Option<String>,
    /// Epoch milliseconds of the last state update, and of the last change of state.
    pub(crate) state_updated: i64,
    pub(crate) state_transitioned: i64,
    pub(crate) metric: MetricIdentity,
    pub(crate) statistic: Option<String>,
    pub(crate) extended_statistic: Option<String>,
    pub(crate) period: i64,
    pub(crate) unit: Option<String>,
    pub(crate) evaluation_periods: i64,
    pub(crate) datapoints_to_alarm: Option<i64>,
    pub(crate) threshold: f64,
    pub(crate) comparison_operator: String,
    pub(crate) treat_missing_data: Option<String>,
    pub(crate) evaluate_low_sample_count_percentile: Option<String>,
    pub(crate) tags: Vec<Tag>,
    /// The key of the alarm's pending evaluation timer: a timer with another key is stale.
    pub(crate) timer: Option<String>,
}

impl AlarmRecord {
    /// The statistic the alarm evaluates.
    pub(crate) fn statistic(&self) -> Option<Statistic> {
        match (&self.statistic, &self.extended_statistic) {
            (Some(s), _) => Statistic::plain(s),
            (None, Some(p)) => Statistic::percentile(p),
            (None, None) => None,
        }
    }

    /// The actions of `state`.
    pub(crate) fn actions_of(&self, state: &str) -> &[String] {
        match state {
            "OK" => &self.ok_actions,
            "ALARM" => &self.alarm_actions,
            _ => &self.insufficient_data_actions,
        }
    }
}

pub(crate) fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

fn scope(account: &str, region: &str) -> String {
    format!("{account}:{region}:")
}

fn alarm_key(account: &str, region: &str, name: &str) -> String {
    format!("{}{name}", scope(account, region))
}

pub(crate) fn load(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<AlarmRecord>, StoreError> {
    get_json(tx, ALARMS, &alarm_key(account, region, name))
}

pub(crate) fn save(
    tx: &mut (impl WriteTx + ?Sized),
    alarm: &AlarmRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        ALARMS,
        &alarm_key(&alarm.account, &alarm.region, &alarm.name),
        alarm,
    )
}

/// The caller's alarm `name`.
pub(crate) fn caller_alarm(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    name: &str,
) -> Result<Option<AlarmRecord>, StoreError> {
    load(tx, &env.caller.account_id, env.region, name)
}

pub(crate) fn millis(env: &Env<'_>) -> i64 {
    i64::try_from(env.now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutMetricAlarmInput {
    alarm_name: String,
    alarm_description: Option<String>,
    actions_enabled: Option<bool>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<Vec<String>>,
    alarm_actions: Option<Vec<String>>,
    insufficient_data_actions: Option<Vec<String>>,
    metric_name: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    period: Option<i64>,
    unit: Option<String>,
    evaluation_periods: i64,
    datapoints_to_alarm: Option<i64>,
    threshold: Option<f64>,
    comparison_operator: String,
    treat_missing_data: Option<String>,
    evaluate_low_sample_count_percentile: Option<String>,
    metrics: Option<Vec<MetricDataQuery>>,
    tags: Option<Vec<Tag>>,
    threshold_metric_id: Option<String>,
    evaluation_criteria: Option<EvaluationCriteria>,
    evaluation_interval: Option<i64>,
}

/// A metric math query of `Metrics`: only its presence is read (metric math alarms are not
/// served).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricDataQuery {
    id: String,
}

/// PromQL alarm criteria: only their presence is read (not served).
#[derive(Debug, Deserialize)]
pub(crate) struct EvaluationCriteria {
    #[serde(rename = "PromQLCriteria")]
    prom_ql_criteria: Option<PromQlCriteria>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PromQlCriteria {
    query: String,
}

fn check_actions(member: &str, actions: &[String]) -> Result<(), CloudWatchError> {
    if actions.len() > MAX_ACTIONS {
        return Err(CloudWatchError::Validation(format!(
            "The collection {member} must not have a size greater than {MAX_ACTIONS}."
        )));
    }
    for arn in actions {
        if action_kind(arn).is_none() {
            return Err(CloudWatchError::Validation(format!(
                "Invalid arn syntax: {arn}"
            )));
        }
    }
    Ok(())
}

/// What an action ARN asks for: `sns`, or one of the kinds Rampart accepts but does not run.
pub(crate) fn action_kind(arn: &str) -> Option<&'static str> {
    let parts = rampart_service::EventResource::parts(arn)?;
    Some(match parts.service {
        "sns" => "sns",
        "autoscaling" => "autoscaling",
        // EC2 actions: arn:aws:automate:<region>:ec2:stop, and the older swf form.
        "automate" | "swf" => "ec2",
        "ssm" | "ssm-incidents" => "ssm",
        "lambda" => "lambda",
        _ => return None,
    })
}

fn check_tags(tags: &[Tag]) -> Result<(), CloudWatchError> {
    if tags.len() > MAX_TAGS {
        return Err(CloudWatchError::Validation(format!(
            "The collection Tags must not have a size greater than {MAX_TAGS}."
        )));
    }
    for tag in tags {
        let key_len = tag.key.chars().count();
        if key_len == 0 || key_len > 128 {
            return Err(CloudWatchError::Validation(
                "Tag keys must be between 1 and 128 characters long.".to_owned(),
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(CloudWatchError::Validation(
                "Tag values must be at most 256 characters long.".to_owned(),
            ));
        }
        if tag.key.starts_with("aws:") {
            return Err(CloudWatchError::Validation(
                "Tag keys must not begin with the reserved prefix aws:.".to_owned(),
            ));
        }
    }
    Ok(())
}

fn merge_tags(tags: &mut Vec<Tag>, given: Vec<Tag>) {
    for tag in given {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => tags.push(tag),
        }
    }
}

pub(crate) fn put_metric_alarm(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutMetricAlarmInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    if let Some(queries) = &input.metrics {
        let ids: Vec<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        return Err(CloudWatchError::NotImplemented(format!(
            "Rampart does not serve metric math alarms yet: PutMetricAlarm's Metrics ({}) is not supported (give MetricName, Namespace and Statistic)",
            ids.join(", ")
        )));
    }
    let promql = input
        .evaluation_criteria
        .as_ref()
        .and_then(|c| c.prom_ql_criteria.as_ref())
        .map(|c| c.query.as_str());
    if input.evaluation_criteria.is_some() || input.evaluation_interval.is_some() {
        return Err(CloudWatchError::NotImplemented(format!(
            "Rampart does not serve PromQL alarms (EvaluationCriteria, EvaluationInterval) yet{}",
            promql.map(|q| format!(": query {q:?}")).unwrap_or_default()
        )));
    }
    let name = input.alarm_name;
    if name.is_empty() || name.chars().count() > 255 {
        return Err(CloudWatchError::Validation(
            "The parameter AlarmName must be between 1 and 255 characters long.".to_owned(),
        ));
    }
    if BAND_OPERATORS.contains(&input.comparison_operator.as_str()) {
        return match input.threshold_metric_id {
            None => Err(CloudWatchError::Validation(
                "Comparison operators for anomaly detection models require ThresholdMetricId and an anomaly detection band in Metrics.".to_owned(),
            )),
            Some(_) => Err(CloudWatchError::NotImplemented(
                "Rampart does not serve anomaly detection alarms yet".to_owned(),
            )),
        };
    }
    if !STATIC_OPERATORS.contains(&input.comparison_operator.as_str()) {
        return Err(CloudWatchError::Validation(format!(
            "1 validation error detected: Value '{}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            input.comparison_operator,
            [STATIC_OPERATORS, BAND_OPERATORS].concat().join(", ")
        )));
    }
    if input.threshold_metric_id.is_some() {
        return Err(CloudWatchError::Validation(
            "ThresholdMetricId can only be used with anomaly detection comparison operators."
                .to_owned(),
        ));
    }
    let threshold = input.threshold.ok_or_else(|| {
        CloudWatchError::Validation(
            "Threshold is required when the comparison operator is not an anomaly detection operator.".to_owned(),
        )
    })?;
    let (Some(metric_name), Some(namespace)) = (input.metric_name, input.namespace) else {
        return Err(CloudWatchError::Validation(
            "MetricName and Namespace must be specified.".to_owned(),
        ));
    };
    match (&input.statistic, &input.extended_statistic) {
        (Some(_), Some(_)) => {
            return Err(CloudWatchError::combination(
                "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.",
            ));
        }
        (None, None) => {
            return Err(CloudWatchError::MissingParameter(
                "Either Statistic or ExtendedStatistic must be specified.".to_owned(),
            ));
        }
        (Some(s), None) if Statistic::plain(s).is_none() => {
            return Err(CloudWatchError::invalid(format!(
                "The value {s} for parameter Statistic is invalid."
            )));
        }
        (None, Some(p)) if Statistic::percentile(p).is_none() => {
            return Err(CloudWatchError::invalid(format!(
                "The value {p} for parameter ExtendedStatistic is invalid."
            )));
        }
        _ => {}
    }
    let period = input.period.ok_or_else(|| {
        CloudWatchError::MissingParameter("The parameter Period is required.".to_owned())
    })?;
    if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
        return Err(CloudWatchError::invalid(
            "The parameter Period must be 10, 30 or a multiple of 60.",
        ));
    }
    if input.evaluation_periods < 1 {
        return Err(CloudWatchError::invalid(
            "The parameter EvaluationPeriods must be greater than or equal to 1.",
        ));
    }
    if input.evaluation_periods.saturating_mul(period) > MAX_EVALUATED_SECONDS {
        return Err(CloudWatchError::Validation(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).".to_owned(),
        ));
    }
    if let Some(m) = input.datapoints_to_alarm {
        if m < 1 {
            return Err(CloudWatchError::invalid(
                "The parameter DatapointsToAlarm must be greater than or equal to 1.",
            ));
        }
        if m > input.evaluation_periods {
            return Err(CloudWatchError::Validation(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods.".to_owned(),
            ));
        }
    }
    if let Some(t) = &input.treat_missing_data
        && !TREATMENTS.contains(&t.as_str())
    {
        return Err(CloudWatchError::Validation(format!(
            "The value {t} for parameter TreatMissingData is invalid. Valid values are breaching, notBreaching, ignore and missing."
        )));
    }
    if let Some(e) = &input.evaluate_low_sample_count_percentile {
        if input.extended_statistic.is_none() {
            return Err(CloudWatchError::Validation(
                "EvaluateLowSampleCountPercentile can only be used with percentile statistics."
                    .to_owned(),
            ));
        }
        if e != "evaluate" && e != "ignore" {
            return Err(CloudWatchError::Validation(format!(
                "The value {e} for parameter EvaluateLowSampleCountPercentile is invalid. Valid values are evaluate and ignore."
            )));
        }
    }
    if input.dimensions.len() > 30 {
        return Err(CloudWatchError::invalid(
            "The collection Dimensions must not have a size greater than 30.",
        ));
    }
    let ok_actions = input.ok_actions.unwrap_or_default();
    let alarm_actions = input.alarm_actions.unwrap_or_default();
    let insufficient = input.insufficient_data_actions.unwrap_or_default();
    check_actions("OKActions", &ok_actions)?;
    check_actions("AlarmActions", &alarm_actions)?;
    check_actions("InsufficientDataActions", &insufficient)?;
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;

    let now = millis(env);
    let existing = caller_alarm(env, tx, &name)?;
    let created = existing.is_none();
    let mut alarm = AlarmRecord {
        account: env.caller.account_id.clone(),
        region: env.region.to_owned(),
        arn: alarm_arn(env.region, &env.caller.account_id, &name),
        name: name.clone(),
        description: input.alarm_description,
        configuration_updated: now,
        actions_enabled: input.actions_enabled.unwrap_or(true),
        ok_actions,
        alarm_actions,
        insufficient_data_actions: insufficient,
        // An update leaves the state as it is; the next evaluation decides.
        state: "INSUFFICIENT_DATA".to_owned(),
        state_reason: INITIAL_REASON.to_owned(),
        state_reason_data: None,
        state_updated: now,
        state_transitioned: now,
        metric: MetricIdentity::new(&namespace, &metric_name, input.dimensions),
        statistic: input.statistic,
        extended_statistic: input.extended_statistic,
        period,
        unit: input.unit,
        evaluation_periods: input.evaluation_periods,
        datapoints_to_alarm: input.datapoints_to_alarm,
        threshold,
        comparison_operator: input.comparison_operator,
        treat_missing_data: input.treat_missing_data,
        evaluate_low_sample_count_percentile: input.evaluate_low_sample_count_percentile,
        tags: Vec::new(),
        timer: None,
    };
    if let Some(old) = existing {
        alarm.state = old.state;
        alarm.state_reason = old.state_reason;
        alarm.state_reason_data = old.state_reason_data;
        alarm.state_updated = old.state_updated;
        alarm.state_transitioned = old.state_transitioned;
        // Tags given to PutMetricAlarm on an existing alarm are ignored, as AWS ignores them.
        alarm.tags = old.tags;
        alarm.timer = old.timer;
    } else {
        merge_tags(&mut alarm.tags, tags);
    }
    evaluator::schedule(env, tx, &mut alarm)?;
    save(tx, &alarm)?;
    let verb = if created { "created" } else { "updated" };
    let data = serde_json::json!({
        "version": "1.0",
        "type": if created { "Create" } else { "Update" },
        "updatedAlarm": configuration_json(&alarm),
    });
    history::record(
        env,
        tx,
        &alarm,
        HistoryKind::ConfigurationUpdate,
        &format!("Alarm \"{name}\" {verb}"),
        &data,
    )?;
    Ok(serde_json::Map::new())
}

/// The alarm's configuration as AWS writes it in ConfigurationUpdate history.
fn configuration_json(alarm: &AlarmRecord) -> serde_json::Value {
    let dimensions: Vec<serde_json::Value> = alarm
        .metric
        .dimensions
        .iter()
        .map(|d| serde_json::json!({"name": d.name, "value": d.value}))
        .collect();
    serde_json::json!({
        "alarmName": alarm.name,
        "alarmArn": alarm.arn,
        "alarmDescription": alarm.description,
        "actionsEnabled": alarm.actions_enabled,
        "okactions": alarm.ok_actions,
        "alarmActions": alarm.alarm_actions,
        "insufficientDataActions": alarm.insufficient_data_actions,
        "stateValue": alarm.state,
        "metricName": alarm.metric.name,
        "namespace": alarm.metric.namespace,
        "statistic": alarm.statistic,
        "extendedStatistic": alarm.extended_statistic,
        "dimensions": dimensions,
        "period": alarm.period,
        "unit": alarm.unit,
        "evaluationPeriods": alarm.evaluation_periods,
        "datapointsToAlarm": alarm.datapoints_to_alarm,
        "threshold": alarm.threshold,
        "comparisonOperator": alarm.comparison_operator,
        "treatMissingData": alarm.treat_missing_data,
        "evaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
    })
}

fn timestamp(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(evaluator::aws_millis)
        .unwrap_or_default()
}

/// A metric alarm as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricAlarm {
    alarm_name: String,
    alarm_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_description: Option<String>,
    alarm_configuration_updated_timestamp: String,
    actions_enabled: bool,
    #[serde(rename = "OKActions")]
    ok_actions: Vec<String>,
    alarm_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
    state_value: String,
    state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_data: Option<String>,
    state_updated_timestamp: String,
    state_transitioned_timestamp: String,
    metric_name: String,
    namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<String>,
    dimensions: Vec<Dimension>,
    period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    evaluation_periods: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<i64>,
    threshold: f64,
    comparison_operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    treat_missing_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluate_low_sample_count_percentile: Option<String>,
}

impl From<AlarmRecord> for MetricAlarm {
    fn from(a: AlarmRecord) -> Self {
        Self {
            alarm_configuration_updated_timestamp: timestamp(a.configuration_updated),
            state_updated_timestamp: timestamp(a.state_updated),
            state_transitioned_timestamp: timestamp(a.state_transitioned),
            alarm_name: a.name,
            alarm_arn: a.arn,
            alarm_description: a.description,
            actions_enabled: a.actions_enabled,
            ok_actions: a.ok_actions,
            alarm_actions: a.alarm_actions,
            insufficient_data_actions: a.insufficient_data_actions,
            state_value: a.state,
            state_reason: a.state_reason,
            state_reason_data: a.state_reason_data,
            metric_name: a.metric.name,
            namespace: a.metric.namespace,
            statistic: a.statistic,
            extended_statistic: a.extended_statistic,
            dimensions: a.metric.dimensions,
            period: a.period,
            unit: a.unit,
            evaluation_periods: a.evaluation_periods,
            datapoints_to_alarm: a.datapoints_to_alarm,
            threshold: a.threshold,
            comparison_operator: a.comparison_operator,
            treat_missing_data: a.treat_missing_data,
            evaluate_low_sample_count_percentile: a.evaluate_low_sample_count_percentile,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsInput {
    alarm_names: Option<Vec<String>>,
    alarm_name_prefix: Option<String>,
    alarm_types: Option<Vec<String>>,
    children_of_alarm_name: Option<String>,
    parents_of_alarm_name: Option<String>,
    state_value: Option<String>,
    action_prefix: Option<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsOutput {
    metric_alarms: Vec<MetricAlarm>,
    composite_alarms: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn describe_alarms(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeAlarmsInput,
) -> Result<DescribeAlarmsOutput, CloudWatchError> {
    if input.children_of_alarm_name.is_some() || input.parents_of_alarm_name.is_some() {
        return Err(CloudWatchError::NotImplemented(
            "Rampart does not serve composite alarms yet: DescribeAlarms' ChildrenOfAlarmName and ParentsOfAlarmName are not supported".to_owned(),
        ));
    }
    let names = input.alarm_names.unwrap_or_default();
    if !names.is_empty() && input.alarm_name_prefix.is_some() {
        return Err(CloudWatchError::combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    if names.len() > 100 {
        return Err(CloudWatchError::invalid(
            "The collection AlarmNames must not have a size greater than 100.",
        ));
    }
    if let Some(state) = &input.state_value
        && !STATES.contains(&state.as_str())
    {
        return Err(CloudWatchError::invalid(format!(
            "The value {state} for parameter StateValue is invalid."
        )));
    }
    let types = input.alarm_types.unwrap_or_default();
    let metric_alarms_wanted = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let keep = |alarm: &AlarmRecord| {
        (names.is_empty() || names.contains(&alarm.name))
            && input.state_value.as_ref().is_none_or(|s| *s == alarm.state)
            && input.action_prefix.as_ref().is_none_or(|prefix| {
                alarm
                    .ok_actions
                    .iter()
                    .chain(&alarm.alarm_actions)
                    .chain(&alarm.insufficient_data_actions)
                    .any(|a| a.starts_with(prefix.as_str()))
            })
    };
    let prefix = format!(
        "{}{}",
        scope(&env.caller.account_id, env.region),
        input.alarm_name_prefix.as_deref().unwrap_or_default()
    );
    let page = if metric_alarms_wanted {
        paging::scan_page(
            tx,
            ALARMS,
            &prefix,
            input.next_token.as_deref(),
            DESCRIBE_PAGE.of(input.max_records),
            |_, key, bytes| -> Result<Option<MetricAlarm>, CloudWatchError> {
                let alarm: AlarmRecord = records::decode(ALARMS, key, bytes)?;
                Ok(keep(&alarm).then(|| MetricAlarm::from(alarm)))
            },
        )
        .map_err(|e| match e {
            CloudWatchError::InvalidParameterValue(_) => {
                CloudWatchError::InvalidNextToken("The NextToken is invalid.".to_owned())
            }
            other => other,
        })?
    } else {
        paging::Page {
            items: Vec::new(),
            next: None,
        }
    };
    Ok(DescribeAlarmsOutput {
        metric_alarms: page.items,
        composite_alarms: Vec::new(),
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsForMetricInput {
    metric_name: String,
    namespace: String,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    period: Option<i64>,
    unit: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsForMetricOutput {
    metric_alarms: Vec<MetricAlarm>,
}

pub(crate) fn describe_alarms_for_metric(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeAlarmsForMetricInput,
) -> Result<DescribeAlarmsForMetricOutput, CloudWatchError> {
    let metric = MetricIdentity::new(&input.namespace, &input.metric_name, input.dimensions);
    let mut out = Vec::new();
    for alarm in all_alarms(tx, &env.caller.account_id, env.region)? {
        let same_metric = alarm.metric.namespace == metric.namespace
            && alarm.metric.name == metric.name
            && (metric.dimensions.is_empty() || alarm.metric.dimensions == metric.dimensions);
        let keep = same_metric
            && input
                .statistic
                .as_ref()
                .is_none_or(|s| alarm.statistic.as_ref() == Some(s))
            && input
                .extended_statistic
                .as_ref()
                .is_none_or(|s| alarm.extended_statistic.as_ref() == Some(s))
            && input.period.is_none_or(|p| p == alarm.period)
            && input
                .unit
                .as_ref()
                .is_none_or(|u| alarm.unit.as_ref() == Some(u));
        if keep {
            out.push(MetricAlarm::from(alarm));
        }
    }
    Ok(DescribeAlarmsForMetricOutput { metric_alarms: out })
}

/// Every alarm of an account in a region.
pub(crate) fn all_alarms(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    region: &str,
) -> Result<Vec<AlarmRecord>, CloudWatchError> {
    let prefix = scope(account, region);
    let mut after: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let batch = tx.scan(ALARMS, &prefix, after.as_deref(), 500)?;
        let done = batch.len() < 500;
        for (key, bytes) in &batch {
            out.push(records::decode(ALARMS, key, bytes)?);
        }
        match batch.last() {
            Some((key, _)) if !done => after = Some(key.clone()),
            _ => return Ok(out),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AlarmNamesInput {
    alarm_names: Vec<String>,
}

fn check_names(names: &[String]) -> Result<(), CloudWatchError> {
    if names.len() > 100 {
        return Err(CloudWatchError::invalid(
            "The collection AlarmNames must not have a size greater than 100.",
        ));
    }
    Ok(())
}

pub(crate) fn delete_alarms(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AlarmNamesInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    check_names(&input.alarm_names)?;
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for name in &input.alarm_names {
        match caller_alarm(env, tx, name)? {
            Some(alarm) => found.push(alarm),
            None => missing.push(name.clone()),
        }
    }
    // AWS deletes nothing when one name is wrong.
    if !missing.is_empty() {
        return Err(CloudWatchError::ResourceNotFound(format!(
            "{} of the alarm names given were not found: [{}]",
            missing.len(),
            missing.join(", ")
        )));
    }
    for alarm in found {
        if let Some(timer) = &alarm.timer {
            tx.delete(evaluator::DUE, timer)?;
        }
        tx.delete(
            ALARMS,
            &alarm_key(&alarm.account, &alarm.region, &alarm.name),
        )?;
        let data = serde_json::json!({
            "version": "1.0",
            "type": "Delete",
            "deletedAlarm": configuration_json(&alarm),
        });
        history::record(
            env,
            tx,
            &alarm,
            HistoryKind::ConfigurationUpdate,
            &format!("Alarm \"{}\" deleted", alarm.name),
            &data,
        )?;
    }
    Ok(serde_json::Map::new())
}

fn set_actions_enabled(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    names: &[String],
    enabled: bool,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    check_names(names)?;
    for name in names {
        // Names of alarms that do not exist are skipped, as AWS skips them.
        if let Some(mut alarm) = caller_alarm(env, tx, name)? {
            alarm.actions_enabled = enabled;
            save(tx, &alarm)?;
        }
    }
    Ok(serde_json::Map::new())
}

pub(crate) fn enable_alarm_actions(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AlarmNamesInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    set_actions_enabled(env, tx, &input.alarm_names, true)
}

pub(crate) fn disable_alarm_actions(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AlarmNamesInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    set_actions_enabled(env, tx, &input.alarm_names, false)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetAlarmStateInput {
    alarm_name: String,
    state_value: String,
    state_reason: String,
    state_reason_data: Option<String>,
}

pub(crate) fn set_alarm_state(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SetAlarmStateInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    if !STATES.contains(&input.state_value.as_str()) {
        return Err(CloudWatchError::invalid(format!(
            "The value {} for parameter StateValue is invalid.",
            input.state_value
        )));
    }
    if input.state_reason.chars().count() > 1023 {
        return Err(CloudWatchError::invalid(
            "The parameter StateReason must be at most 1023 characters long.",
        ));
    }
    let reason_data = match input.state_reason_data {
        Some(data) => {
            if serde_json::from_str::<serde_json::Value>(&data).is_err() {
                return Err(CloudWatchError::InvalidFormat(
                    "StateReasonData must be valid JSON.".to_owned(),
                ));
            }
            Some(data)
        }
        None => None,
    };
    let mut alarm = caller_alarm(env, tx, &input.alarm_name)?.ok_or_else(|| {
        CloudWatchError::ResourceNotFound(format!("Alarm {} not found", input.alarm_name))
    })?;
    evaluator::transition(
        env,
        tx,
        &mut alarm,
        evaluator::NewState {
            value: input.state_value,
            reason: input.state_reason,
            reason_data,
        },
    )?;
    save(tx, &alarm)?;
    Ok(serde_json::Map::new())
}

/// The caller's alarm an ARN names, if it is one of theirs in this region.
fn alarm_of_arn<'a>(env: &Env<'_>, arn: &'a str) -> Result<&'a str, CloudWatchError> {
    let own = alarm_arn(env.region, &env.caller.account_id, "");
    if let Some(name) = arn.strip_prefix(own.as_str()) {
        return Ok(name);
    }
    if arn.starts_with("arn:aws:cloudwatch:") {
        return Err(CloudWatchError::ResourceNotFoundException(
            "The specified resource does not exist.".to_owned(),
        ));
    }
    Err(CloudWatchError::InvalidParameterValueException(format!(
        "Invalid value for parameter ResourceARN: {arn}"
    )))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    tags: Vec<Tag>,
}

fn tagged_alarm(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<AlarmRecord, CloudWatchError> {
    let name = alarm_of_arn(env, arn)?;
    caller_alarm(env, tx, name)?.ok_or_else(|| {
        CloudWatchError::ResourceNotFoundException(
            "The specified resource does not exist.".to_owned(),
        )
    })
}

pub(crate) fn tag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    let mut alarm = tagged_alarm(env, tx, &input.resource_arn)?;
    check_tags(&input.tags)?;
    merge_tags(&mut alarm.tags, input.tags);
    if alarm.tags.len() > MAX_TAGS {
        return Err(CloudWatchError::LimitExceeded(format!(
            "An alarm can have at most {MAX_TAGS} tags."
        )));
    }
    save(tx, &alarm)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(crate) fn untag_resource(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagResourceInput,
) -> Result<serde_json::Map<String, serde_json::Value>, CloudWatchError> {
    let mut alarm = tagged_alarm(env, tx, &input.resource_arn)?;
    alarm.tags.retain(|t| !input.tag_keys.contains(&t.key));
    save(tx, &alarm)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsForResourceOutput {
    tags: Vec<Tag>,
}

pub(crate) fn list_tags_for_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, CloudWatchError> {
    let alarm = tagged_alarm(env, tx, &input.resource_arn)?;
    Ok(ListTagsForResourceOutput { tags: alarm.tags })
}
