//! Alarms: their validation, the evaluator driven by a test clock (each due timer run as the
//! scheduler runs it), history, actions as SNS calls, tags.

use std::sync::{Arc, Mutex};

use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{AwsError, CallPrincipal, ServiceCall, ServiceCalls, Timers, Value};
use rampart_store::{ReadTx, StoreError, WriteTx};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{fails, ok};
use crate::evaluator::AlarmTimers;

/// A call an action made, as the test sees it.
#[derive(Debug, Clone)]
struct Made {
    service: String,
    operation: String,
    input: Value,
    principal: String,
    source_arn: String,
    source_account: String,
}

/// Records every call and answers as SNS would (or fails, as the spine does while SNS is not
/// served).
struct Recording {
    made: Mutex<Vec<Made>>,
    answer: Result<Value, AwsError>,
}

impl Recording {
    fn new(answer: Result<Value, AwsError>) -> Arc<Self> {
        Arc::new(Self {
            made: Mutex::new(Vec::new()),
            answer,
        })
    }

    fn keep(&self, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        let (principal, source_arn, source_account) = match call.principal {
            CallPrincipal::Service {
                principal,
                source_arn,
                source_account,
                ..
            } => (principal, source_arn, source_account),
            other => panic!("unexpected principal {other:?}"),
        };
        self.made.lock().unwrap().push(Made {
            service: call.service.to_owned(),
            operation: call.operation.to_owned(),
            input: call.input,
            principal: principal.to_owned(),
            source_arn: source_arn.to_owned(),
            source_account: source_account.to_owned(),
        });
        self.answer.clone()
    }

    fn made(&self) -> Vec<Made> {
        self.made.lock().unwrap().clone()
    }
}

impl ServiceCalls for Recording {
    fn call(&self, _: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        self.keep(call)
    }

    fn call_write(&self, _: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        self.keep(call)
    }
}

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:ops";

fn harness(answer: Result<Value, AwsError>) -> (TestEnv, Arc<Recording>) {
    let mut env = TestEnv::new();
    let recording = Recording::new(answer);
    env.calls = Arc::clone(&recording) as Arc<dyn ServiceCalls>;
    (env, recording)
}

fn put(env: &TestEnv, value: f64, at: OffsetDateTime) {
    ok(
        env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [{
            "MetricName": "Errors", "Value": value, "StorageResolution": 1,
            "Timestamp": rampart_service::aws_timestamp(at),
            "Dimensions": [{"Name": "Service", "Value": "api"}]}]}),
    );
}

fn alarm(extra: Value) -> Value {
    let mut input = json!({
        "AlarmName": "errors", "MetricName": "Errors", "Namespace": "App",
        "Dimensions": [{"Name": "Service", "Value": "api"}],
        "Statistic": "Maximum", "Period": 10, "EvaluationPeriods": 1,
        "Threshold": 3.0, "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [TOPIC], "OKActions": [TOPIC],
    });
    if let (Some(map), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            map.insert(k.clone(), v.clone());
        }
    }
    input
}

/// Moves the clock to `to` and runs every evaluation due by then, as the scheduler does.
fn tick(env: &mut TestEnv, to: OffsetDateTime) {
    env.now = to;
    env.write(move |e, tx| {
        let due = AlarmTimers.due(tx, to, 100)?;
        for work in due {
            AlarmTimers
                .run(e, tx, &work)
                .unwrap_or_else(|err| panic!("{}: {}", err.code, err.message));
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
}

fn state(env: &TestEnv, name: &str) -> (String, String) {
    let out = ok(env, "DescribeAlarms", json!({"AlarmNames": [name]}));
    let a = &out["MetricAlarms"][0];
    (
        a["StateValue"].as_str().unwrap().to_owned(),
        a["StateReason"].as_str().unwrap().to_owned(),
    )
}

fn history(env: &TestEnv, kind: &str) -> Vec<Value> {
    ok(
        env,
        "DescribeAlarmHistory",
        json!({"AlarmName": "errors", "HistoryItemType": kind, "ScanBy": "TimestampAscending"}),
    )["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn put_metric_alarm_checks_as_aws_does() {
    let (env, _) = harness(Ok(json!({})));
    let e = fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"Metrics": [{"Id": "m1", "Expression": "m2*2"}]})),
        "NotImplemented",
    );
    assert!(e.message.contains("metric math"), "{}", e.message);
    let e = fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"})),
        "ValidationError",
    );
    assert!(e.message.contains("ThresholdMetricId"), "{}", e.message);
    fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"Period": 20})),
        "InvalidParameterValue",
    );
    let e = fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"Period": 3600, "EvaluationPeriods": 25})),
        "ValidationError",
    );
    assert_eq!(
        e.message,
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."
    );
    fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"EvaluationPeriods": 2, "DatapointsToAlarm": 3})),
        "ValidationError",
    );
    fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"ExtendedStatistic": "p99"})),
        "InvalidParameterCombination",
    );
    fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"TreatMissingData": "sometimes"})),
        "ValidationError",
    );
    fails(
        &env,
        "PutMetricAlarm",
        alarm(json!({"AlarmActions": ["not an arn"]})),
        "ValidationError",
    );
    // Accepted though not run: other action kinds.
    ok(
        &env,
        "PutMetricAlarm",
        alarm(
            json!({"AlarmActions": ["arn:aws:automate:us-east-1:ec2:stop",
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:autoScalingGroupName/g:policyName/p"]}),
        ),
    );
    let out = ok(&env, "DescribeAlarms", json!({}));
    let a = &out["MetricAlarms"][0];
    assert_eq!(
        a["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors"
    );
    assert_eq!(a["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(a["StateReason"], "Unchecked: Initial alarm creation");
    assert_eq!(a["Dimensions"][0]["Name"], "Service");
    assert_eq!(a["ActionsEnabled"], true);
    let created = history(&env, "ConfigurationUpdate");
    assert_eq!(created[0]["HistorySummary"], "Alarm \"errors\" created");
}

#[test]
fn a_breach_trips_the_alarm_and_publishes_to_sns_as_cloudwatch() {
    let (mut env, calls) = harness(Ok(json!({"MessageId": "m-1"})));
    let start = env.now;
    ok(
        &env,
        "PutMetricAlarm",
        alarm(json!({"AlarmDescription": "too many"})),
    );
    put(&env, 5.0, start + Duration::seconds(2));
    // Before the period ends nothing is evaluated.
    tick(&mut env, start + Duration::seconds(5));
    assert_eq!(state(&env, "errors").0, "INSUFFICIENT_DATA");
    tick(&mut env, start + Duration::seconds(10));
    let (value, reason) = state(&env, "errors");
    assert_eq!(value, "ALARM");
    assert_eq!(
        reason,
        "Threshold Crossed: 1 datapoint [5.0 (24/11/26 12:00:00)] was greater than the threshold (3.0)."
    );
    let made = calls.made();
    assert_eq!(made.len(), 1);
    let call = &made[0];
    assert_eq!(
        (call.service.as_str(), call.operation.as_str()),
        ("sns", "Publish")
    );
    assert_eq!(call.principal, "cloudwatch.amazonaws.com");
    assert_eq!(
        call.source_arn,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors"
    );
    assert_eq!(call.source_account, ACCOUNT);
    assert_eq!(call.input["TopicArn"], TOPIC);
    assert_eq!(
        call.input["Subject"],
        "ALARM: \"errors\" in US East (N. Virginia)"
    );
    let message: Value = serde_json::from_str(call.input["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["AlarmName"], "errors");
    assert_eq!(message["AlarmDescription"], "too many");
    assert_eq!(message["AWSAccountId"], ACCOUNT);
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(message["Region"], "US East (N. Virginia)");
    assert_eq!(message["NewStateReason"], reason.as_str());
    assert_eq!(message["StateChangeTime"], "2026-11-24T12:00:10.000+0000");
    assert_eq!(message["Trigger"]["Statistic"], "MAXIMUM");
    assert_eq!(message["Trigger"]["StatisticType"], "Statistic");
    assert_eq!(message["Trigger"]["Period"], 10);
    assert_eq!(message["Trigger"]["Threshold"], 3.0);
    assert_eq!(message["Trigger"]["TreatMissingData"], "missing");
    assert_eq!(
        message["Trigger"]["Dimensions"][0],
        json!({"value": "api", "name": "Service"})
    );
    let updates = history(&env, "StateUpdate");
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0]["HistorySummary"],
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    );
    let data: Value = serde_json::from_str(updates[0]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(data["newState"]["stateValue"], "ALARM");
    assert_eq!(
        data["newState"]["stateReasonData"]["recentDatapoints"],
        json!([5.0])
    );
    assert_eq!(
        data["oldState"]["stateReason"],
        "Unchecked: Initial alarm creation"
    );
    let actions = history(&env, "Action");
    assert_eq!(
        actions[0]["HistorySummary"],
        format!("Successfully executed action {TOPIC}")
    );
    // A quiet period: back to OK with missing data? No: missing data alone is INSUFFICIENT_DATA.
    put(&env, 1.0, start + Duration::seconds(12));
    tick(&mut env, start + Duration::seconds(20));
    let (value, reason) = state(&env, "errors");
    assert_eq!(value, "OK");
    assert_eq!(
        reason,
        "Threshold Crossed: 1 datapoint [1.0 (24/11/26 12:00:10)] was not greater than the threshold (3.0)."
    );
    tick(&mut env, start + Duration::seconds(30));
    let (value, reason) = state(&env, "errors");
    assert_eq!(value, "INSUFFICIENT_DATA");
    assert_eq!(reason, "Insufficient Data: 1 datapoint was unknown.");
    // OK and ALARM published; INSUFFICIENT_DATA has no actions.
    assert_eq!(calls.made().len(), 2);
    assert_eq!(
        calls.made()[1].input["Subject"],
        "OK: \"errors\" in US East (N. Virginia)"
    );
}

#[test]
fn a_failed_or_unsupported_action_is_recorded_as_aws_records_it() {
    let (mut env, _) = harness(Err(AwsError::new(
        "NotImplemented",
        501,
        "Rampart does not implement sns:Publish yet (see docs/COVERAGE.md)",
    )));
    let start = env.now;
    ok(
        &env,
        "PutMetricAlarm",
        alarm(json!({"AlarmActions": [TOPIC, "arn:aws:automate:us-east-1:ec2:stop"]})),
    );
    put(&env, 9.0, start);
    tick(&mut env, start + Duration::seconds(10));
    assert_eq!(state(&env, "errors").0, "ALARM");
    let actions = history(&env, "Action");
    assert_eq!(actions.len(), 2);
    assert_eq!(
        actions[0]["HistorySummary"],
        format!(
            "Failed to execute action {TOPIC}. Received error: \"Rampart does not implement sns:Publish yet (see docs/COVERAGE.md)\""
        )
    );
    assert!(
        actions[1]["HistorySummary"]
            .as_str()
            .unwrap()
            .contains("was not executed"),
        "{}",
        actions[1]["HistorySummary"]
    );
}

#[test]
fn m_out_of_n_and_missing_data_treatments() {
    let (mut env, _) = harness(Ok(json!({})));
    let start = env.now;
    for (name, treatment) in [
        ("missing", "missing"),
        ("ignore", "ignore"),
        ("breaching", "breaching"),
        ("notBreaching", "notBreaching"),
    ] {
        ok(
            &env,
            "PutMetricAlarm",
            alarm(
                json!({"AlarmName": name, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
                "TreatMissingData": treatment}),
            ),
        );
    }
    // Nothing at all for three periods.
    tick(&mut env, start + Duration::seconds(30));
    assert_eq!(state(&env, "missing").0, "INSUFFICIENT_DATA");
    assert_eq!(state(&env, "ignore").0, "INSUFFICIENT_DATA");
    assert_eq!(state(&env, "breaching").0, "ALARM");
    assert_eq!(
        state(&env, "breaching").1,
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
    assert_eq!(state(&env, "notBreaching").0, "OK");
    // One breaching datapoint of three: below M for all but `breaching` (2 missing count).
    put(&env, 7.0, start + Duration::seconds(31));
    tick(&mut env, start + Duration::seconds(40));
    assert_eq!(state(&env, "missing").0, "OK");
    assert_eq!(state(&env, "ignore").0, "OK");
    assert_eq!(state(&env, "breaching").0, "ALARM");
    assert_eq!(state(&env, "notBreaching").0, "OK");
    // Two of the last three breach: every alarm goes to ALARM.
    put(&env, 8.0, start + Duration::seconds(41));
    tick(&mut env, start + Duration::seconds(50));
    for name in ["missing", "ignore", "breaching", "notBreaching"] {
        assert_eq!(state(&env, name).0, "ALARM", "{name}");
    }
    let (_, reason) = state(&env, "missing");
    assert_eq!(
        reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [8.0 (24/11/26 12:00:40), 7.0 (24/11/26 12:00:30)] were greater than the threshold (3.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    // All missing again: `ignore` keeps ALARM, `missing` has no data to decide on.
    tick(&mut env, start + Duration::seconds(90));
    assert_eq!(state(&env, "ignore").0, "ALARM");
    assert_eq!(
        state(&env, "missing"),
        (
            "INSUFFICIENT_DATA".to_owned(),
            "Insufficient Data: 3 datapoints were unknown.".to_owned()
        )
    );
}

#[test]
fn set_alarm_state_disabled_actions_and_deletion() {
    let (env, calls) = harness(Ok(json!({"MessageId": "m"})));
    ok(&env, "PutMetricAlarm", alarm(json!({})));
    ok(
        &env,
        "DisableAlarmActions",
        json!({"AlarmNames": ["errors"]}),
    );
    ok(
        &env,
        "SetAlarmState",
        json!({"AlarmName": "errors", "StateValue": "ALARM", "StateReason": "testing",
            "StateReasonData": "{\"a\":1}"}),
    );
    assert_eq!(
        state(&env, "errors"),
        ("ALARM".to_owned(), "testing".to_owned())
    );
    assert!(calls.made().is_empty(), "disabled actions do not run");
    ok(
        &env,
        "EnableAlarmActions",
        json!({"AlarmNames": ["errors"]}),
    );
    ok(
        &env,
        "SetAlarmState",
        json!({"AlarmName": "errors", "StateValue": "OK", "StateReason": "back"}),
    );
    assert_eq!(calls.made().len(), 1);
    fails(
        &env,
        "SetAlarmState",
        json!({"AlarmName": "errors", "StateValue": "OK", "StateReason": "x", "StateReasonData": "{"}),
        "InvalidFormat",
    );
    fails(
        &env,
        "SetAlarmState",
        json!({"AlarmName": "nope", "StateValue": "OK", "StateReason": "x"}),
        "ResourceNotFound",
    );
    fails(
        &env,
        "DeleteAlarms",
        json!({"AlarmNames": ["errors", "nope"]}),
        "ResourceNotFound",
    );
    ok(&env, "DeleteAlarms", json!({"AlarmNames": ["errors"]}));
    assert!(
        ok(&env, "DescribeAlarms", json!({}))["MetricAlarms"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The evaluation timer went with the alarm.
    let left = env.read_infallible(|_, tx| tx.scan(crate::evaluator::DUE, "", None, 10).unwrap());
    assert!(left.is_empty());
    let configuration = history(&env, "ConfigurationUpdate");
    assert_eq!(
        configuration.last().unwrap()["HistorySummary"],
        "Alarm \"errors\" deleted"
    );
}

#[test]
fn describe_filters_pages_and_tags() {
    let (env, _) = harness(Ok(json!({})));
    for i in 0..5 {
        ok(
            &env,
            "PutMetricAlarm",
            alarm(json!({"AlarmName": format!("a{i}"), "Tags": [{"Key": "team", "Value": "red"}]})),
        );
    }
    ok(
        &env,
        "PutMetricAlarm",
        alarm(json!({"AlarmName": "b", "AlarmActions": []})),
    );
    let page = ok(
        &env,
        "DescribeAlarms",
        json!({"AlarmNamePrefix": "a", "MaxRecords": 3}),
    );
    assert_eq!(page["MetricAlarms"].as_array().unwrap().len(), 3);
    let token = page["NextToken"].as_str().unwrap().to_owned();
    let rest = ok(
        &env,
        "DescribeAlarms",
        json!({"AlarmNamePrefix": "a", "MaxRecords": 3, "NextToken": token}),
    );
    assert_eq!(rest["MetricAlarms"].as_array().unwrap().len(), 2);
    assert!(rest.get("NextToken").is_none());
    let by_action = ok(
        &env,
        "DescribeAlarms",
        json!({"ActionPrefix": "arn:aws:sns:"}),
    );
    assert_eq!(
        by_action["MetricAlarms"].as_array().unwrap().len(),
        6,
        "OKActions count"
    );
    let composite = ok(
        &env,
        "DescribeAlarms",
        json!({"AlarmTypes": ["CompositeAlarm"]}),
    );
    assert!(composite["MetricAlarms"].as_array().unwrap().is_empty());
    let alarm_state = ok(&env, "DescribeAlarms", json!({"StateValue": "ALARM"}));
    assert!(alarm_state["MetricAlarms"].as_array().unwrap().is_empty());
    let for_metric = ok(
        &env,
        "DescribeAlarmsForMetric",
        json!({"MetricName": "Errors", "Namespace": "App", "Statistic": "Maximum"}),
    );
    assert_eq!(for_metric["MetricAlarms"].as_array().unwrap().len(), 6);
    let arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a0";
    assert_eq!(
        ok(&env, "ListTagsForResource", json!({"ResourceARN": arn}))["Tags"],
        json!([{"Key": "team", "Value": "red"}])
    );
    ok(
        &env,
        "TagResource",
        json!({"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}]}),
    );
    ok(
        &env,
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["team"]}),
    );
    assert_eq!(
        ok(&env, "ListTagsForResource", json!({"ResourceARN": arn}))["Tags"],
        json!([{"Key": "env", "Value": "prod"}])
    );
    fails(
        &env,
        "ListTagsForResource",
        json!({"ResourceARN": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:none"}),
        "ResourceNotFoundException",
    );
    let page = ok(&env, "DescribeAlarmHistory", json!({"MaxRecords": 4}));
    assert_eq!(page["AlarmHistoryItems"].as_array().unwrap().len(), 4);
    // Newest first by default.
    assert_eq!(page["AlarmHistoryItems"][0]["AlarmName"], "b");
    fails(
        &env,
        "DescribeAlarmHistory",
        json!({"NextToken": "garbage"}),
        "InvalidNextToken",
    );
}
