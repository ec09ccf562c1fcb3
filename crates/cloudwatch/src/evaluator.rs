//! The alarm evaluator, run by the server's scheduler ([`rampart_service::Timers`]): each
//! alarm has one timer, at the end of its next period (every `Period` seconds for 10- and
//! 30-second alarms, each minute otherwise). When it falls due the alarm is evaluated as AWS
//! defines it ("Evaluating an alarm": the last `EvaluationPeriods` complete periods, M out of N
//! with `DatapointsToAlarm`, `TreatMissingData`), a change of state is written with AWS's
//! `StateReason` and `StateReasonData`, recorded in history, and the new state's actions run
//! when actions are enabled; then the next timer is set.
//!
//! Differences from AWS, on purpose or not yet: the evaluation range does not reach back
//! beyond the last N periods for `missing` and `ignore` (AWS looks further back when some are
//! missing); `EvaluateLowSampleCountPercentile: ignore` keeps the state whenever a percentile
//! rests on too few samples. Only SNS actions run; other action kinds are recorded in history
//! as not executed.

use std::collections::BTreeMap;

use rampart_service::timers::{due_work, earliest_due, timer_key};
use rampart_service::{AwsError, CallPrincipal, DueWork, Env, ServiceCall, Timers, Value};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::alarms::{self, AlarmRecord, action_kind, millis};
use crate::error::CloudWatchError;
use crate::history::{self, HistoryKind};
use crate::records::{Aggregate, Statistic};
use crate::statistics::period_aggregates;

/// The timers, by due time: `<due>|<account>|<region>|<alarm name>`.
pub(crate) const DUE: &str = "cloudwatch/due";

/// The service principal alarm actions run as.
const PRINCIPAL: &str = "cloudwatch.amazonaws.com";

/// SNS refuses subjects longer than this; AWS cuts the alarm's subject to fit.
const MAX_SUBJECT: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
struct TimerRecord {
    alarm_name: String,
}

/// RFC 3339 with milliseconds, as the API writes alarm timestamps.
pub(crate) fn aws_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `2026-12-08T01:20:05.123+0000`, as alarm notifications and reason data write times.
fn notification_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn at_second(second: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(second).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn at_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `dd/MM/yy HH:mm:ss`, as StateReason writes a datapoint's time.
fn reason_time(second: i64) -> String {
    let t = at_second(second);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.day(),
        u8::from(t.month()),
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A number as AWS's messages write doubles: `5.0`, `0.25`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn was(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// The seconds between evaluations: the period, at most a minute.
fn step(period: i64) -> i64 {
    period.clamp(1, 60)
}

/// Sets `alarm`'s next evaluation timer (at the end of the current step), replacing its
/// previous one.
pub(crate) fn schedule(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    alarm: &mut AlarmRecord,
) -> Result<(), StoreError> {
    if let Some(old) = alarm.timer.take() {
        tx.delete(DUE, &old)?;
    }
    let now = env.now.unix_timestamp();
    let step = step(alarm.period);
    let next = now - now.rem_euclid(step) + step;
    let key = timer_key(
        at_second(next),
        &format!("{}|{}|{}", alarm.account, alarm.region, alarm.name),
    );
    put_json(
        tx,
        DUE,
        &key,
        &TimerRecord {
            alarm_name: alarm.name.clone(),
        },
    )?;
    alarm.timer = Some(key);
    Ok(())
}

/// A state an alarm moves to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewState {
    pub(crate) value: String,
    pub(crate) reason: String,
    pub(crate) reason_data: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    Breaching,
    Fine,
    Missing,
}

fn verb(operator: &str) -> &'static str {
    match operator {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    }
}

fn breaches(operator: &str, value: f64, threshold: f64) -> bool {
    match operator {
        "GreaterThanOrEqualToThreshold" => value >= threshold,
        "GreaterThanThreshold" => value > threshold,
        "LessThanThreshold" => value < threshold,
        _ => value <= threshold,
    }
}

/// Whether a percentile rests on too few samples to be meaningful (AWS's rule: fewer than
/// 10 / (1 - p/100) samples).
fn low_sample(stat: &Statistic, count: f64) -> bool {
    match stat {
        Statistic::Percentile(p) if *p < 100.0 => count < 10.0 / (1.0 - p / 100.0),
        _ => false,
    }
}

/// The state `alarm`'s data asks for at `env.now`, or `None` when it stays as it is.
pub(crate) fn evaluate(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    alarm: &AlarmRecord,
) -> Result<Option<NewState>, CloudWatchError> {
    let Some(stat) = alarm.statistic() else {
        return Ok(None);
    };
    let now = env.now.unix_timestamp();
    let period = alarm.period.max(1);
    let n = alarm.evaluation_periods.max(1);
    let end = now - now.rem_euclid(period);
    let start = end - n * period;
    // Data of every unit counts when the alarm names none.
    let mut per_period: BTreeMap<i64, Aggregate> = BTreeMap::new();
    for ((second, _), aggregate) in period_aggregates(
        env,
        tx,
        &alarm.metric,
        start,
        end,
        period,
        alarm.unit.as_deref(),
    )? {
        match per_period.entry(second) {
            std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&aggregate),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(aggregate);
            }
        }
    }
    let ignore_low = alarm.evaluate_low_sample_count_percentile.as_deref() == Some("ignore");
    // (period start, value and sample count), oldest first.
    let mut values: Vec<(i64, Option<(f64, f64)>)> = Vec::new();
    for i in 0..n {
        let second = start + i * period;
        let value = match per_period.get(&second) {
            Some(a) => {
                if ignore_low && low_sample(&stat, a.sample_count) {
                    return Ok(None);
                }
                a.statistic(&stat).map(|v| (v, a.sample_count))
            }
            None => None,
        };
        values.push((second, value));
    }
    let threshold = alarm.threshold;
    let operator = alarm.comparison_operator.as_str();
    let points: Vec<Point> = values
        .iter()
        .map(|(_, v)| match v {
            Some((v, _)) if breaches(operator, *v, threshold) => Point::Breaching,
            Some(_) => Point::Fine,
            None => Point::Missing,
        })
        .collect();
    let total = points.len();
    let missing = points.iter().filter(|p| **p == Point::Missing).count();
    let present = total - missing;
    let treatment = alarm.treat_missing_data.as_deref().unwrap_or("missing");
    let m = usize::try_from(alarm.datapoints_to_alarm.unwrap_or(n).max(1)).unwrap_or(1);
    let reason_data = |recent: Vec<f64>| {
        let evaluated: Vec<serde_json::Value> = values
            .iter()
            .rev()
            .map(|(second, v)| match v {
                Some((value, count)) => serde_json::json!({
                    "timestamp": notification_time(at_second(*second)),
                    "sampleCount": count,
                    "value": value,
                }),
                None => serde_json::json!({"timestamp": notification_time(at_second(*second))}),
            })
            .collect();
        let mut data = serde_json::json!({
            "version": "1.0",
            "queryDate": notification_time(env.now),
            "startDate": notification_time(at_second(start)),
            "statistic": alarm.statistic.clone().or_else(|| alarm.extended_statistic.clone()),
            "period": period,
            "recentDatapoints": recent,
            "threshold": threshold,
            "evaluatedDatapoints": evaluated,
        });
        if let (Some(unit), Some(map)) = (&alarm.unit, data.as_object_mut()) {
            map.insert("unit".to_owned(), serde_json::json!(unit));
        }
        Some(data.to_string())
    };
    let recent: Vec<f64> = values
        .iter()
        .filter_map(|(_, v)| v.map(|(value, _)| value))
        .collect();
    if present == 0 {
        let (value, reason) = match treatment {
            "ignore" => return Ok(None),
            "breaching" => (
                "ALARM",
                format!(
                    "Threshold Crossed: no datapoints were received for {} and {} {} treated as [Breaching].",
                    plural(total, "period"),
                    plural(missing, "missing datapoint"),
                    was(missing)
                ),
            ),
            "notBreaching" => (
                "OK",
                format!(
                    "Threshold Crossed: no datapoints were received for {} and {} {} treated as [NonBreaching].",
                    plural(total, "period"),
                    plural(missing, "missing datapoint"),
                    was(missing)
                ),
            ),
            _ => (
                "INSUFFICIENT_DATA",
                format!(
                    "Insufficient Data: {} {} unknown.",
                    plural(total, "datapoint"),
                    was(total)
                ),
            ),
        };
        return Ok(Some(NewState {
            value: value.to_owned(),
            reason,
            reason_data: reason_data(recent),
        }));
    }
    let breaching_present = points.iter().filter(|p| **p == Point::Breaching).count();
    let treated_breaching = if treatment == "breaching" { missing } else { 0 };
    let alarmed = breaching_present + treated_breaching >= m;
    let new_value = if alarmed { "ALARM" } else { "OK" };
    if new_value == alarm.state {
        return Ok(None);
    }
    // The datapoints the reason names, newest first: the breaching ones for ALARM, the others
    // for OK.
    let listed: Vec<String> = values
        .iter()
        .rev()
        .filter_map(|(second, v)| {
            let (value, _) = (*v)?;
            (breaches(operator, value, threshold) == alarmed)
                .then(|| format!("{} ({})", number(value), reason_time(*second)))
        })
        .collect();
    let not = if alarmed { "" } else { "not " };
    let treated = match (treatment, missing) {
        ("breaching", 1..) => format!(
            " and {} {} treated as [Breaching]",
            plural(missing, "missing datapoint"),
            was(missing)
        ),
        ("notBreaching", 1..) => format!(
            " and {} {} treated as [NonBreaching]",
            plural(missing, "missing datapoint"),
            was(missing)
        ),
        _ => String::new(),
    };
    let reason = if total == 1 {
        format!(
            "Threshold Crossed: 1 datapoint [{}] was {not}{} the threshold ({}){treated}.",
            listed.join(", "),
            verb(operator),
            number(threshold)
        )
    } else {
        let minimum = if alarmed { m } else { 1 };
        format!(
            "Threshold Crossed: {} out of the last {total} datapoints [{}] {} {not}{} the threshold ({}){treated} (minimum {} for {} -> {new_value} transition).",
            listed.len(),
            listed.join(", "),
            was(listed.len()),
            verb(operator),
            number(threshold),
            plural(minimum, "datapoint"),
            alarm.state
        )
    };
    Ok(Some(NewState {
        value: new_value.to_owned(),
        reason,
        reason_data: reason_data(recent),
    }))
}

/// Moves `alarm` to `new` (nothing happens when it is in that state already): the state
/// fields, a StateUpdate history item, and the new state's actions when actions are enabled.
/// The caller saves the alarm.
pub(crate) fn transition(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    alarm: &mut AlarmRecord,
    new: NewState,
) -> Result<(), CloudWatchError> {
    if new.value == alarm.state {
        return Ok(());
    }
    let now = millis(env);
    let parsed = |data: &Option<String>| {
        data.as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
    };
    let mut old_json = serde_json::json!({
        "stateValue": alarm.state,
        "stateReason": alarm.state_reason,
    });
    if let (Some(data), Some(map)) = (parsed(&alarm.state_reason_data), old_json.as_object_mut()) {
        map.insert("stateReasonData".to_owned(), data);
    }
    let mut new_json = serde_json::json!({
        "stateValue": new.value,
        "stateReason": new.reason,
    });
    if let (Some(data), Some(map)) = (parsed(&new.reason_data), new_json.as_object_mut()) {
        map.insert("stateReasonData".to_owned(), data);
    }
    let old_state = std::mem::replace(&mut alarm.state, new.value);
    alarm.state_reason = new.reason;
    alarm.state_reason_data = new.reason_data;
    alarm.state_updated = now;
    alarm.state_transitioned = now;
    history::record(
        env,
        tx,
        alarm,
        HistoryKind::StateUpdate,
        &format!("Alarm updated from {old_state} to {}", alarm.state),
        &serde_json::json!({"version": "1.0", "oldState": old_json, "newState": new_json}),
    )?;
    if alarm.actions_enabled {
        run_actions(env, tx, alarm, &old_state)?;
    }
    Ok(())
}

/// The region's name as alarm notifications write it.
pub(crate) fn region_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ca-central-1" => "Canada (Central)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "me-south-1" => "Middle East (Bahrain)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    }
}

/// The notification CloudWatch publishes to an SNS topic when `alarm` changed from
/// `old_state`.
pub(crate) fn notification(alarm: &AlarmRecord, old_state: &str) -> serde_json::Value {
    let dimensions: Vec<serde_json::Value> = alarm
        .metric
        .dimensions
        .iter()
        .map(|d| serde_json::json!({"value": d.value, "name": d.name}))
        .collect();
    let (statistic_type, statistic) = match (&alarm.statistic, &alarm.extended_statistic) {
        (Some(s), _) => ("Statistic", s.to_uppercase()),
        (None, Some(p)) => ("ExtendedStatistic", p.clone()),
        (None, None) => ("Statistic", String::new()),
    };
    serde_json::json!({
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": alarm.account,
        "AlarmConfigurationUpdatedTimestamp": notification_time(at_millis(alarm.configuration_updated)),
        "NewStateValue": alarm.state,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": notification_time(at_millis(alarm.state_updated)),
        "Region": region_name(&alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": alarm.ok_actions,
        "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "Trigger": {
            "MetricName": alarm.metric.name,
            "Namespace": alarm.metric.namespace,
            "StatisticType": statistic_type,
            "Statistic": statistic,
            "Unit": alarm.unit,
            "Dimensions": dimensions,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm.unwrap_or(alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data.as_deref().unwrap_or("missing"),
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile.as_deref().unwrap_or(""),
        }
    })
}

/// The notification's subject: `ALARM: "name" in US East (N. Virginia)`, cut to what SNS
/// takes.
pub(crate) fn subject(alarm: &AlarmRecord) -> String {
    let full = format!(
        "{}: \"{}\" in {}",
        alarm.state,
        alarm.name,
        region_name(&alarm.region)
    );
    full.chars().take(MAX_SUBJECT).collect()
}

/// The SNS Publish call an SNS action makes.
pub(crate) fn publish_input(alarm: &AlarmRecord, topic: &str, old_state: &str) -> Value {
    serde_json::json!({
        "TopicArn": topic,
        "Subject": subject(alarm),
        "Message": notification(alarm, old_state).to_string(),
    })
}

fn run_actions(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    alarm: &AlarmRecord,
    old_state: &str,
) -> Result<(), CloudWatchError> {
    let now = millis(env);
    for arn in alarm.actions_of(&alarm.state).to_vec() {
        let (summary, data) = match action_kind(&arn) {
            Some("sns") => {
                let input = publish_input(alarm, &arn, old_state);
                let call = ServiceCall {
                    service: "sns",
                    operation: "Publish",
                    input: input.clone(),
                    principal: CallPrincipal::Service {
                        principal: PRINCIPAL,
                        source_arn: &alarm.arn,
                        source_account: &alarm.account,
                        via: None,
                    },
                };
                match env.calls.call_write(tx, call) {
                    Ok(output) => (
                        format!("Successfully executed action {arn}"),
                        serde_json::json!({
                            "actionState": "Succeeded",
                            "stateUpdateTimestamp": now,
                            "notificationResource": arn,
                            "publishedMessage": {
                                "messageId": output.get("MessageId"),
                                "subject": input.get("Subject"),
                            },
                        }),
                    ),
                    Err(e) => {
                        tracing::info!(alarm = %alarm.arn, action = %arn, code = %e.code,
                            "an alarm's SNS action failed");
                        (
                            format!(
                                "Failed to execute action {arn}. Received error: \"{}\"",
                                e.message
                            ),
                            serde_json::json!({
                                "actionState": "Failed",
                                "stateUpdateTimestamp": now,
                                "notificationResource": arn,
                                "error": format!("{}: {}", e.code, e.message),
                            }),
                        )
                    }
                }
            }
            kind => {
                let kind = kind.unwrap_or("unknown");
                (
                    format!(
                        "Failed to execute action {arn}. Rampart does not execute {kind} actions: the action was not executed"
                    ),
                    serde_json::json!({
                        "actionState": "Failed",
                        "stateUpdateTimestamp": now,
                        "notificationResource": arn,
                        "error": format!("Rampart does not execute {kind} actions yet"),
                    }),
                )
            }
        };
        history::record(env, tx, alarm, HistoryKind::Action, &summary, &data)?;
    }
    Ok(())
}

/// Evaluates `alarm` now: moves it to the state its data asks for and sets its next timer.
/// The caller saves it.
pub(crate) fn evaluate_now(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    alarm: &mut AlarmRecord,
) -> Result<(), CloudWatchError> {
    if let Some(new) = evaluate(env, tx, alarm)? {
        transition(env, tx, alarm, new)?;
    }
    schedule(env, tx, alarm)?;
    Ok(())
}

/// The alarms' evaluation timers, for the scheduler.
#[derive(Debug, Default)]
pub(crate) struct AlarmTimers;

impl Timers for AlarmTimers {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        due_work(tx, DUE, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, DUE)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        let Some(doc) = get_json::<TimerRecord>(tx, DUE, &work.key).map_err(store_error)? else {
            return Ok(());
        };
        // The delete claims the item: of two transactions that found it, only one runs it.
        if !tx.delete(DUE, &work.key).map_err(store_error)? {
            return Ok(());
        }
        let Some(mut alarm) =
            alarms::load(tx, &work.account, &work.region, &doc.alarm_name).map_err(store_error)?
        else {
            return Ok(());
        };
        // A timer the alarm no longer points at was replaced by a later PutMetricAlarm.
        if alarm.timer.as_deref() != Some(work.key.as_str()) {
            return Ok(());
        }
        alarm.timer = None;
        evaluate_now(env, tx, &mut alarm).map_err(AwsError::from)?;
        alarms::save(tx, &alarm).map_err(store_error)?;
        Ok(())
    }
}

fn store_error(e: StoreError) -> AwsError {
    AwsError::from(CloudWatchError::Store(e))
}
