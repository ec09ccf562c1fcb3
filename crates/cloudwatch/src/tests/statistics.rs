//! GetMetricStatistics and GetMetricData over what PutMetricData kept.

use serde_json::{Value, json};

use super::{fails, ok};
use rampart_service::testing::TestEnv;

/// Puts `datums` in namespace `App` for metric `Latency` with dimension `Api=get`.
fn put(env: &TestEnv, datums: Vec<Value>) {
    let datums: Vec<Value> = datums
        .into_iter()
        .map(|mut d| {
            d["MetricName"] = json!("Latency");
            d["Dimensions"] = json!([{"Name": "Api", "Value": "get"}]);
            d
        })
        .collect();
    ok(
        env,
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": datums}),
    );
}

fn statistics(env: &TestEnv, period: i64, extra: Value) -> Value {
    let mut input = json!({"Namespace": "App", "MetricName": "Latency",
        "Dimensions": [{"Name": "Api", "Value": "get"}],
        "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z",
        "Period": period, "Statistics": ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    ok(env, "GetMetricStatistics", input)
}

#[test]
fn datapoints_aggregate_per_minute_and_per_period() {
    let env = TestEnv::new();
    put(
        &env,
        vec![
            json!({"Value": 10.0, "Timestamp": "2026-11-24T11:10:05Z", "Unit": "Milliseconds"}),
            json!({"Value": 30.0, "Timestamp": "2026-11-24T11:10:55Z", "Unit": "Milliseconds"}),
            json!({"Values": [1.0, 2.0], "Counts": [3.0, 1.0], "Timestamp": "2026-11-24T11:12:00Z", "Unit": "Milliseconds"}),
        ],
    );
    // A second request into the same minute adds to it.
    put(
        &env,
        vec![
            json!({"StatisticValues": {"SampleCount": 2.0, "Sum": 100.0, "Minimum": 40.0, "Maximum": 60.0},
            "Timestamp": "2026-11-24T11:10:30Z", "Unit": "Milliseconds"}),
        ],
    );
    let minutes = statistics(&env, 60, json!({}));
    assert_eq!(minutes["Label"], "Latency");
    assert_eq!(
        minutes["Datapoints"],
        json!([
            {"Timestamp": "2026-11-24T11:10:00Z", "SampleCount": 4.0, "Sum": 140.0, "Average": 35.0,
             "Minimum": 10.0, "Maximum": 60.0, "Unit": "Milliseconds"},
            {"Timestamp": "2026-11-24T11:12:00Z", "SampleCount": 4.0, "Sum": 5.0, "Average": 1.25,
             "Minimum": 1.0, "Maximum": 2.0, "Unit": "Milliseconds"}
        ])
    );
    let five = statistics(&env, 300, json!({"Statistics": ["Sum"]}));
    assert_eq!(
        five["Datapoints"],
        json!([{"Timestamp": "2026-11-24T11:10:00Z", "Sum": 145.0, "Unit": "Milliseconds"}])
    );
    // Another unit asked for finds nothing; another dimension value names another metric.
    let seconds = statistics(&env, 60, json!({"Unit": "Seconds"}));
    assert_eq!(seconds["Datapoints"], json!([]));
    let other = statistics(
        &env,
        60,
        json!({"Dimensions": [{"Name": "Api", "Value": "put"}]}),
    );
    assert_eq!(other["Datapoints"], json!([]));
}

#[test]
fn percentiles_from_the_kept_samples() {
    let env = TestEnv::new();
    let values: Vec<f64> = (1..=100).map(f64::from).collect();
    put(
        &env,
        vec![json!({"Values": values, "Timestamp": "2026-11-24T11:30:00Z"})],
    );
    let answer = statistics(
        &env,
        60,
        json!({"Statistics": null, "ExtendedStatistics": ["p50", "p99", "p99.9", "p100", "p0"]}),
    );
    assert_eq!(
        answer["Datapoints"][0]["ExtendedStatistics"],
        json!({"p0": 1.0, "p50": 50.0, "p99": 99.0, "p99.9": 100.0, "p100": 100.0})
    );
    fails(
        &env,
        "GetMetricStatistics",
        json!({"Namespace": "App", "MetricName": "Latency", "StartTime": "2026-11-24T11:00:00Z",
            "EndTime": "2026-11-24T12:00:00Z", "Period": 60, "ExtendedStatistics": ["p101"]}),
        "InvalidParameterValue",
    );
}

#[test]
fn period_and_range_rules() {
    let env = TestEnv::new();
    let get = |period: i64, start: &str, end: &str| {
        env.call(
            &super::cloudwatch(),
            "GetMetricStatistics",
            json!({"Namespace": "App", "MetricName": "Latency", "StartTime": start,
                "EndTime": end, "Period": period, "Statistics": ["Sum"]}),
        )
    };
    let day = ("2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z");
    get(60, day.0, day.1).unwrap();
    let e = get(59, day.0, day.1).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    let e = get(30, day.0, day.1).unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.message.as_str()),
        (
            "InvalidParameterCombination",
            "You have requested up to 2,880 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )
    );
    let e = get(60, day.1, day.0).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    let e = env
        .call(
            &super::cloudwatch(),
            "GetMetricStatistics",
            json!({"Namespace": "App", "MetricName": "Latency", "StartTime": day.0,
                "EndTime": day.1, "Period": 60}),
        )
        .unwrap_err();
    assert_eq!(e.code, "MissingParameter");
}

#[test]
fn high_resolution_data_is_kept_per_second() {
    let env = TestEnv::new();
    put(
        &env,
        vec![
            json!({"Value": 1.0, "Timestamp": "2026-11-24T11:59:01Z", "StorageResolution": 1}),
            json!({"Value": 2.0, "Timestamp": "2026-11-24T11:59:02Z", "StorageResolution": 1}),
            json!({"Value": 4.0, "Timestamp": "2026-11-24T11:59:07Z", "StorageResolution": 1}),
        ],
    );
    let answer = statistics(
        &env,
        5,
        json!({"StartTime": "2026-11-24T11:59:00Z", "Statistics": ["Sum"]}),
    );
    assert_eq!(
        answer["Datapoints"],
        json!([
            {"Timestamp": "2026-11-24T11:59:00Z", "Sum": 3.0, "Unit": "None"},
            {"Timestamp": "2026-11-24T11:59:05Z", "Sum": 4.0, "Unit": "None"}
        ])
    );
}

fn query(id: &str, stat: &str) -> Value {
    json!({"Id": id, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency",
        "Dimensions": [{"Name": "Api", "Value": "get"}]}, "Period": 60, "Stat": stat}})
}

#[test]
fn get_metric_data_answers_each_query_scanned_and_paged() {
    let env = TestEnv::new();
    put(
        &env,
        (0..5)
            .map(|i| json!({"Value": f64::from(i), "Timestamp": format!("2026-11-24T11:0{i}:00Z")}))
            .collect(),
    );
    let input = |extra: Value| {
        let mut input = json!({"MetricDataQueries": [query("sum", "Sum"), query("p90", "p90")],
            "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let all = ok(&env, "GetMetricData", input(json!({})));
    let results = &all["MetricDataResults"];
    assert_eq!(results[0]["Id"], "sum");
    assert_eq!(results[0]["Label"], "Latency");
    assert_eq!(results[0]["Values"], json!([4.0, 3.0, 2.0, 1.0, 0.0]));
    assert_eq!(results[0]["Timestamps"][0], "2026-11-24T11:04:00Z");
    assert_eq!(results[0]["StatusCode"], "Complete");
    let ascending = ok(
        &env,
        "GetMetricData",
        input(json!({"ScanBy": "TimestampAscending"})),
    );
    assert_eq!(
        ascending["MetricDataResults"][0]["Values"],
        json!([0.0, 1.0, 2.0, 3.0, 4.0])
    );
    // Pages of 3 datapoints across both queries' 10.
    let mut token: Option<String> = None;
    let mut values: Vec<Value> = Vec::new();
    for _ in 0..4 {
        let mut extra = json!({"MaxDatapoints": 3, "ScanBy": "TimestampAscending"});
        if let Some(t) = &token {
            extra["NextToken"] = json!(t);
        }
        let page = ok(&env, "GetMetricData", input(extra));
        for result in page["MetricDataResults"].as_array().unwrap() {
            values.extend(result["Values"].as_array().unwrap().iter().cloned());
        }
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(token.is_none());
    assert_eq!(values.len(), 10);
    fails(
        &env,
        "GetMetricData",
        input(json!({"NextToken": "zzz"})),
        "InvalidNextToken",
    );
}

#[test]
fn get_metric_data_refuses_what_it_does_not_evaluate() {
    let env = TestEnv::new();
    let e = fails(
        &env,
        "GetMetricData",
        json!({"MetricDataQueries": [{"Id": "e1", "Expression": "SUM(METRICS())"}],
            "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z"}),
        "NotImplemented",
    );
    assert!(e.message.contains("Expression"), "{}", e.message);
    fails(
        &env,
        "GetMetricData",
        json!({"MetricDataQueries": [query("5xx", "Sum")],
            "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z"}),
        "ValidationError",
    );
    fails(
        &env,
        "GetMetricData",
        json!({"MetricDataQueries": [query("a", "Sum"), query("a", "Average")],
            "StartTime": "2026-11-24T11:00:00Z", "EndTime": "2026-11-24T12:00:00Z"}),
        "ValidationError",
    );
}
