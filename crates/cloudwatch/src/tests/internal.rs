//! PutMetricDataInternal: metric filters' datapoints land where PutMetricData's do.

use rampart_service::testing::TestEnv;
use rampart_service::{Handler, Value};
use rampart_store::StoreError;
use serde_json::json;

use super::{cloudwatch, ok};

/// The test clock, 2026-11-24T12:00:00Z, in epoch seconds.
const NOW: i64 = 1_795_521_600;

fn put_internal(env: &TestEnv, input: Value) {
    env.write(move |env, tx| {
        let service = cloudwatch();
        let Some(Handler::Write(handler)) = service
            .internal_operation("PutMetricDataInternal")
            .map(|o| &o.handler)
        else {
            panic!("PutMetricDataInternal is an internal write");
        };
        Ok::<_, StoreError>(handler(env, tx, input))
    })
    .unwrap()
    .unwrap();
}

fn sums(env: &TestEnv, namespace: &str, name: &str, dimensions: Value) -> Value {
    ok(
        env,
        "GetMetricStatistics",
        json!({"Namespace": namespace, "MetricName": name, "Dimensions": dimensions,
            "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z",
            "Period": 60, "Statistics": ["Sum", "SampleCount"]}),
    )["Datapoints"]
        .clone()
}

#[test]
fn internal_datapoints_are_seen_as_put_metric_data_would_put_them() {
    let env = TestEnv::new();
    put_internal(
        &env,
        json!({"MetricData": [
            {"Namespace": "CIS", "MetricName": "Unauthorized", "Timestamp": NOW - 3590, "Value": 1.0, "Count": 2.0},
            {"Namespace": "CIS", "MetricName": "Unauthorized", "Timestamp": NOW - 3570, "Value": 1.0},
            {"Namespace": "App", "MetricName": "Bytes", "Timestamp": NOW - 3590, "Value": 512.0,
             "Unit": "Bytes", "Dimensions": [{"Name": "Host", "Value": "a"}]},
        ]}),
    );
    assert_eq!(
        sums(&env, "CIS", "Unauthorized", json!([])),
        json!([{"Timestamp": "2026-11-24T11:00:00Z", "Sum": 3.0, "SampleCount": 3.0, "Unit": "None"}])
    );
    assert_eq!(
        sums(
            &env,
            "App",
            "Bytes",
            json!([{"Name": "Host", "Value": "a"}])
        ),
        json!([{"Timestamp": "2026-11-24T11:00:00Z", "Sum": 512.0, "SampleCount": 1.0, "Unit": "Bytes"}])
    );
    let listed = ok(&env, "ListMetrics", json!({"Namespace": "App"}));
    assert_eq!(
        listed["Metrics"],
        json!([{"Namespace": "App", "MetricName": "Bytes", "Dimensions": [{"Name": "Host", "Value": "a"}]}])
    );
}

#[test]
fn datapoints_cloudwatch_would_refuse_are_dropped_not_failed() {
    let env = TestEnv::new();
    put_internal(
        &env,
        json!({"MetricData": [
            {"Namespace": "CIS", "MetricName": "M", "Timestamp": NOW - 15 * 86_400, "Value": 1.0},
            {"Namespace": "CIS", "MetricName": "M", "Timestamp": NOW - 3590, "Value": 1e300},
            {"Namespace": "CIS", "MetricName": "M", "Timestamp": NOW - 3590, "Value": 4.0},
        ]}),
    );
    assert_eq!(
        sums(&env, "CIS", "M", json!([])),
        json!([{"Timestamp": "2026-11-24T11:00:00Z", "Sum": 4.0, "SampleCount": 1.0, "Unit": "None"}])
    );
}

#[test]
fn no_client_can_call_the_internal_operation() {
    let service = cloudwatch();
    assert!(service.operation("PutMetricDataInternal").is_none());
    assert!(!service.operation_names().contains(&"PutMetricDataInternal"));
}
