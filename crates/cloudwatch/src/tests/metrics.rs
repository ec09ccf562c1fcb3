//! PutMetricData's rules and ListMetrics' filters and pages.

use serde_json::json;

use super::{fails, ok};
use rampart_service::testing::TestEnv;

#[test]
fn aws_namespaces_are_reserved() {
    let env = TestEnv::new();
    let e = fails(
        &env,
        "PutMetricData",
        json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "CPU", "Value": 1.0}]}),
        "InvalidParameterValue",
    );
    assert_eq!(
        e.message,
        "The value AWS/EC2 for parameter Namespace is invalid."
    );
    assert_eq!(e.status, 400);
    // `AWS` alone, or another case, is a namespace like any other.
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "AWSome", "MetricData": [{"MetricName": "CPU", "Value": 1.0}]}),
    );
}

#[test]
fn timestamps_must_be_within_two_weeks_past_and_two_hours_ahead() {
    let env = TestEnv::new();
    let put = |timestamp: &str| {
        env.call(
            &super::cloudwatch(),
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": [
                {"MetricName": "Ok", "Value": 1.0},
                {"MetricName": "M", "Value": 1.0, "Timestamp": timestamp}]}),
        )
    };
    let old = put("2026-11-10T11:59:00Z").unwrap_err();
    assert_eq!(
        (old.code.as_ref(), old.message.as_str()),
        (
            "InvalidParameterValue",
            "The parameter MetricData.member.2.Timestamp must specify a time within the past two weeks."
        )
    );
    let ahead = put("2026-11-24T14:00:01Z").unwrap_err();
    assert!(
        ahead
            .message
            .contains("no more than two hours in the future"),
        "{}",
        ahead.message
    );
    put("2026-11-10T12:00:00Z").unwrap();
    put("2026-11-24T14:00:00Z").unwrap();
}

#[test]
fn each_datum_gives_exactly_one_kind_of_value() {
    let env = TestEnv::new();
    let put = |datum: serde_json::Value, code: &str| {
        fails(
            &env,
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": [datum]}),
            code,
        )
        .message
    };
    assert_eq!(
        put(json!({"MetricName": "M"}), "InvalidParameterCombination"),
        "At least one of the parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues must be specified."
    );
    put(
        json!({"MetricName": "M", "Value": 1.0, "Values": [1.0]}),
        "InvalidParameterCombination",
    );
    put(
        json!({"MetricName": "M", "Values": [1.0, 2.0], "Counts": [1.0]}),
        "InvalidParameterCombination",
    );
    put(
        json!({"MetricName": "M", "Value": 1.0, "StorageResolution": 5}),
        "InvalidParameterValue",
    );
    put(
        json!({"MetricName": "M", "Value": 1e200}),
        "InvalidParameterValue",
    );
    assert_eq!(
        put(
            json!({"MetricName": "M", "Value": 1.0, "Dimensions": [
                {"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]}),
            "InvalidParameterValue",
        ),
        "No metric may specify the same dimension name twice."
    );
    let too_many: Vec<_> = (0..151).map(f64::from).collect();
    put(
        json!({"MetricName": "M", "Values": too_many}),
        "InvalidParameterValue",
    );
    fails(
        &env,
        "PutMetricData",
        json!({"Namespace": "App"}),
        "MissingParameter",
    );
    let datums: Vec<_> = (0..1001)
        .map(|i| json!({"MetricName": format!("m{i}"), "Value": 1.0}))
        .collect();
    fails(
        &env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": datums}),
        "InvalidParameterValue",
    );
    // Nothing of a refused request is kept.
    let listed = ok(&env, "ListMetrics", json!({}));
    assert_eq!(listed["Metrics"], json!([]));
}

#[test]
fn list_metrics_filters_and_pages() {
    let env = TestEnv::new();
    let datums: Vec<_> = (0..700)
        .map(|i| {
            json!({"MetricName": format!("m{i:03}"), "Value": 1.0,
                "Dimensions": [{"Name": "Shard", "Value": format!("{}", i % 2)}]})
        })
        .collect();
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "Big", "MetricData": datums}),
    );
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "Small", "MetricData": [{"MetricName": "Errors", "Value": 1.0,
            "Dimensions": [{"Name": "Service", "Value": "api"}, {"Name": "Env", "Value": "prod"}]}]}),
    );
    let first = ok(&env, "ListMetrics", json!({"Namespace": "Big"}));
    assert_eq!(first["Metrics"].as_array().unwrap().len(), 500);
    let token = first["NextToken"].as_str().unwrap();
    let second = ok(
        &env,
        "ListMetrics",
        json!({"Namespace": "Big", "NextToken": token}),
    );
    assert_eq!(second["Metrics"].as_array().unwrap().len(), 200);
    assert!(second.get("NextToken").is_none());

    let shard = ok(
        &env,
        "ListMetrics",
        json!({"Namespace": "Big", "MetricName": "m007", "Dimensions": [{"Name": "Shard"}]}),
    );
    assert_eq!(
        shard["Metrics"],
        json!([{"Namespace": "Big", "MetricName": "m007", "Dimensions": [{"Name": "Shard", "Value": "1"}]}])
    );
    let none = ok(
        &env,
        "ListMetrics",
        json!({"Namespace": "Big", "MetricName": "m007", "Dimensions": [{"Name": "Shard", "Value": "0"}]}),
    );
    assert_eq!(none["Metrics"], json!([]));
    // Dimensions are kept sorted by name: their order in a request names the same metric.
    let small = ok(
        &env,
        "ListMetrics",
        json!({"Namespace": "Small", "Dimensions": [{"Name": "Service", "Value": "api"}]}),
    );
    assert_eq!(
        small["Metrics"][0]["Dimensions"],
        json!([{"Name": "Env", "Value": "prod"}, {"Name": "Service", "Value": "api"}])
    );
    // A namespace that is a prefix of another is not that one.
    let prefix = ok(&env, "ListMetrics", json!({"Namespace": "Bi"}));
    assert_eq!(prefix["Metrics"], json!([]));
}

#[test]
fn recently_active_is_the_last_three_hours() {
    let mut env = TestEnv::new();
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [{"MetricName": "Old", "Value": 1.0}]}),
    );
    env.now += time::Duration::hours(4);
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [{"MetricName": "New", "Value": 1.0}]}),
    );
    let recent = ok(&env, "ListMetrics", json!({"RecentlyActive": "PT3H"}));
    assert_eq!(recent["Metrics"].as_array().unwrap().len(), 1);
    assert_eq!(recent["Metrics"][0]["MetricName"], "New");
    let all = ok(&env, "ListMetrics", json!({}));
    assert_eq!(all["Metrics"].as_array().unwrap().len(), 2);
}

#[test]
fn another_accounts_metrics_are_not_listed() {
    let mut env = TestEnv::new();
    ok(
        &env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [{"MetricName": "Mine", "Value": 1.0}]}),
    );
    env.act_as("210987654321");
    let theirs = ok(&env, "ListMetrics", json!({}));
    assert_eq!(theirs["Metrics"], json!([]));
}
