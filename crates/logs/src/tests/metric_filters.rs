//! Metric filters' datapoints: values from fields and literals, default values, dimensions,
//! and the events PutLogEvents hands to CloudWatch (stored ones only, no back-fill).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, CallPrincipal, Handler, ServiceCall, ServiceCalls, Value};
use rampart_store::{ReadTx, StoreError, WriteTx};
use serde_json::json;

use super::{logs, ok};
use crate::metric_filters::datum;
use crate::pattern::FilterPattern;
use crate::records::Transformation;

/// The test clock, 2026-11-24T12:00:00Z, in milliseconds.
const NOW: i64 = 1_795_521_600_000;

fn transformation(
    value: &str,
    default: Option<f64>,
    dimensions: &[(&str, &str)],
) -> Transformation {
    Transformation {
        metric_name: "M".to_owned(),
        metric_namespace: "N".to_owned(),
        metric_value: value.to_owned(),
        default_value: default,
        dimensions: (!dimensions.is_empty()).then(|| {
            dimensions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        }),
        unit: None,
    }
}

/// The value and dimensions `t` emits for `message` under `pattern`, if any.
fn emitted(
    pattern: &str,
    t: &Transformation,
    message: &str,
) -> Option<(f64, Vec<(String, String)>)> {
    let pattern = FilterPattern::parse(pattern).unwrap();
    let key = datum(t, pattern.matches(message).as_ref(), NOW + 1500)?;
    // At the event's timestamp, in seconds.
    assert_eq!(key.timestamp, NOW / 1000 + 1);
    Some((
        f64::from_bits(key.value_bits),
        key.dimensions
            .into_iter()
            .map(|d| (d.name, d.value))
            .collect(),
    ))
}

#[test]
fn literal_values_count_matches() {
    let t = transformation("1", None, &[]);
    let cis = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
    assert_eq!(
        emitted(
            cis,
            &t,
            r#"{"errorCode": "AccessDenied", "eventName": "GetUser"}"#
        )
        .map(|d| d.0),
        Some(1.0)
    );
    assert_eq!(
        emitted(cis, &t, r#"{"errorCode": "Client.UnauthorizedOperation"}"#).map(|d| d.0),
        Some(1.0)
    );
    assert_eq!(emitted(cis, &t, r#"{"eventName": "GetUser"}"#), None);
    assert_eq!(emitted(cis, &t, "not json"), None);
}

#[test]
fn values_come_from_json_and_delimited_fields() {
    let json_pattern = r#"{ $.bytes > 0 }"#;
    let bytes = transformation("$.bytes", None, &[]);
    assert_eq!(
        emitted(json_pattern, &bytes, r#"{"bytes": 512}"#).map(|d| d.0),
        Some(512.0)
    );
    assert_eq!(
        emitted("{ $.size = * }", &bytes, r#"{"size": 1, "bytes": "1.5"}"#).map(|d| d.0),
        Some(1.5)
    );
    // A value field that holds no number, or that the event lacks, emits nothing.
    assert_eq!(
        emitted("{ $.size = * }", &bytes, r#"{"size": 1, "bytes": "many"}"#),
        None
    );
    assert_eq!(emitted("{ $.size = * }", &bytes, r#"{"size": 1}"#), None);
    let delimited = "[ip, user, status = 2*, size]";
    let size = transformation("$size", None, &[]);
    assert_eq!(
        emitted(delimited, &size, "10.0.0.1 alice 200 2048").map(|d| d.0),
        Some(2048.0)
    );
    assert_eq!(emitted(delimited, &size, "10.0.0.1 alice 404 2048"), None);
    // A text pattern names no fields.
    assert_eq!(emitted("ERROR", &size, "ERROR 12"), None);
}

#[test]
fn default_values_are_emitted_for_events_that_do_not_match() {
    let t = transformation("1", Some(0.0), &[]);
    assert_eq!(emitted("ERROR", &t, "ERROR disk").map(|d| d.0), Some(1.0));
    assert_eq!(emitted("ERROR", &t, "INFO fine").map(|d| d.0), Some(0.0));
    let without = transformation("1", None, &[]);
    assert_eq!(emitted("ERROR", &without, "INFO fine"), None);
}

#[test]
fn dimensions_come_from_fields_and_need_them() {
    let t = transformation("1", None, &[("User", "$user"), ("Status", "$status")]);
    let pattern = "[ip, user, status, size]";
    let (value, dimensions) = emitted(pattern, &t, "10.0.0.1 alice 200 2048").unwrap();
    assert_eq!(value, 1.0);
    assert_eq!(
        dimensions,
        vec![
            ("Status".to_owned(), "200".to_owned()),
            ("User".to_owned(), "alice".to_owned())
        ]
    );
    let json_dims = transformation("1", None, &[("Event", "$.eventName")]);
    assert!(emitted("{ $.a = 1 }", &json_dims, r#"{"a": 1, "eventName": "X"}"#).is_some());
    // The event lacks the dimension's field: no datapoint.
    assert_eq!(emitted("{ $.a = 1 }", &json_dims, r#"{"a": 1}"#), None);
}

/// Keeps the calls PutLogEvents makes to CloudWatch.
#[derive(Default)]
struct RecordedCalls(Mutex<Vec<(String, String, Value, String)>>);

impl ServiceCalls for RecordedCalls {
    fn call(&self, _: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        panic!("{} is not a read", call.operation)
    }

    fn call_write(&self, _: &mut dyn WriteTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        let principal = match call.principal {
            CallPrincipal::Service {
                principal,
                source_arn,
                ..
            } => format!("{principal} {source_arn}"),
            other => panic!("unexpected principal {other:?}"),
        };
        self.0.lock().unwrap().push((
            call.service.to_owned(),
            call.operation.to_owned(),
            call.input,
            principal,
        ));
        Ok(json!({}))
    }
}

#[test]
fn put_log_events_emits_for_stored_events_under_filters_put_before_them() {
    let mut env = TestEnv::new();
    let recorded = Arc::new(RecordedCalls::default());
    env.calls = recorded.clone();
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    ok(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    );
    let put = |messages: &[&str]| {
        let events: Vec<Value> = messages
            .iter()
            .map(|m| json!({"timestamp": NOW - 60_000, "message": m}))
            .collect();
        ok(
            &env,
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events}),
        );
    };
    // No filter yet: nothing is emitted, and later filters do not reach back.
    put(&["ERROR early"]);
    assert!(recorded.0.lock().unwrap().is_empty());
    ok(
        &env,
        &logs,
        "PutMetricFilter",
        json!({"logGroupName": "g", "filterName": "errors", "filterPattern": "ERROR",
            "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App",
                "metricValue": "1", "defaultValue": 0, "unit": "Count"}]}),
    );
    put(&["ERROR one", "INFO fine", "ERROR two"]);
    // An event older than 14 days is rejected, so it emits nothing.
    ok(
        &env,
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
            {"timestamp": NOW - 15 * 86_400_000, "message": "ERROR stale"}]}),
    );
    let calls = recorded.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (service, operation, input, principal) = &calls[0];
    assert_eq!(
        (service.as_str(), operation.as_str()),
        ("monitoring", "PutMetricDataInternal")
    );
    assert_eq!(
        principal,
        "logs.amazonaws.com arn:aws:logs:us-east-1:123456789012:log-group:g"
    );
    let second = (NOW - 60_000) / 1000;
    assert_eq!(
        input["MetricData"],
        json!([
            {"Namespace": "App", "MetricName": "Errors", "Dimensions": [], "Timestamp": second,
             "Value": 0.0, "Count": 1.0, "Unit": "Count"},
            {"Namespace": "App", "MetricName": "Errors", "Dimensions": [], "Timestamp": second,
             "Value": 1.0, "Count": 2.0, "Unit": "Count"},
        ])
    );
    // Deleting the filter stops it.
    ok(
        &env,
        &logs,
        "DeleteMetricFilter",
        json!({"logGroupName": "g", "filterName": "errors"}),
    );
    put(&["ERROR late"]);
    assert_eq!(recorded.0.lock().unwrap().len(), 1);
}

/// A handler's failure, or the store's.
#[derive(Debug)]
enum Failed {
    Call(AwsError),
    #[expect(dead_code, reason = "only its presence is tested")]
    Store(StoreError),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

/// A CloudWatch whose store fails.
struct FailingCalls;

impl ServiceCalls for FailingCalls {
    fn call(&self, _: &mut dyn ReadTx, call: ServiceCall<'_>) -> Result<Value, AwsError> {
        panic!("{} is not a read", call.operation)
    }

    fn call_write(&self, _: &mut dyn WriteTx, _: ServiceCall<'_>) -> Result<Value, AwsError> {
        Err(AwsError::new("InternalFailure", 500, "store failure"))
    }
}

#[test]
fn events_are_not_stored_when_their_datapoints_cannot_be() {
    let mut env = TestEnv::new();
    env.calls = Arc::new(FailingCalls);
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    ok(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    );
    let events = json!({"logGroupName": "g", "logStreamName": "s",
        "logEvents": [{"timestamp": NOW, "message": "ERROR one"}]});
    // Without a filter CloudWatch is not called: the events are stored.
    ok(&env, &logs, "PutLogEvents", events.clone());
    ok(
        &env,
        &logs,
        "PutMetricFilter",
        json!({"logGroupName": "g", "filterName": "errors", "filterPattern": "ERROR",
            "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App",
                "metricValue": "1"}]}),
    );
    // As the spine runs a handler: its writes are undone when it fails.
    let service = Arc::clone(&logs);
    let failed = env
        .write(move |env, tx| {
            let Some(Handler::Write(handler)) =
                service.operation("PutLogEvents").map(|o| &o.handler)
            else {
                panic!("PutLogEvents writes");
            };
            handler(env, tx, events).map_err(Failed::Call)
        })
        .unwrap_err();
    let Failed::Call(e) = failed else {
        panic!("the store failed")
    };
    assert_eq!(e.code, "ServiceUnavailableException");
    let stored = ok(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
    );
    assert_eq!(stored["events"].as_array().unwrap().len(), 1, "{stored}");
}
