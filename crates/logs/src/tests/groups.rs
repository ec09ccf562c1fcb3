//! Log groups, streams, tags, retention and metric filters.

use rampart_service::testing::{ACCOUNT, TestEnv};
use serde_json::json;

use super::{fails, logs, ok};

#[test]
fn groups_are_created_described_and_deleted() {
    let env = TestEnv::new();
    let logs = logs();
    ok(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "/app/web", "tags": {"team": "blue"}}),
    );
    ok(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "/app/worker"}),
    );
    ok(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "audit"}),
    );
    fails(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "audit"}),
        "ResourceAlreadyExistsException",
    );

    let all = ok(&env, &logs, "DescribeLogGroups", json!({}));
    let names: Vec<&str> = all["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["logGroupName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/app/web", "/app/worker", "audit"]);
    let web = &all["logGroups"][0];
    assert_eq!(
        web["arn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web:*")
    );
    assert_eq!(
        web["logGroupArn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web")
    );
    assert_eq!(web["creationTime"], 1_795_521_600_000_i64);

    let prefixed = ok(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "/app/"}),
    );
    assert_eq!(prefixed["logGroups"].as_array().unwrap().len(), 2);
    let pattern = ok(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePattern": "WORK"}),
    );
    assert_eq!(pattern["logGroups"][0]["logGroupName"], "/app/worker");
    fails(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "a", "logGroupNamePattern": "b"}),
        "InvalidParameterException",
    );

    // Paging: one at a time, every group once.
    let first = ok(&env, &logs, "DescribeLogGroups", json!({"limit": 2}));
    assert_eq!(first["logGroups"].as_array().unwrap().len(), 2);
    let token = first["nextToken"].as_str().unwrap();
    let second = ok(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"limit": 2, "nextToken": token}),
    );
    assert_eq!(second["logGroups"][0]["logGroupName"], "audit");
    assert!(second.get("nextToken").is_none());
    fails(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"nextToken": "garbage"}),
        "InvalidParameterException",
    );

    ok(
        &env,
        &logs,
        "DeleteLogGroup",
        json!({"logGroupName": "audit"}),
    );
    fails(
        &env,
        &logs,
        "DeleteLogGroup",
        json!({"logGroupName": "audit"}),
        "ResourceNotFoundException",
    );
    let after = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert_eq!(after["logGroups"].as_array().unwrap().len(), 2);
}

#[test]
fn kms_keys_and_reserved_tags_are_refused() {
    let env = TestEnv::new();
    let logs = logs();
    fails(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "g", "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/x"}),
        "NotImplemented",
    );
    fails(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": {"aws:x": "y"}}),
        "InvalidParameterException",
    );
    let many: serde_json::Map<String, serde_json::Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    fails(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": many}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g"}),
        "ResourceNotFoundException",
    );
}

#[test]
fn retention_takes_aws_values_only() {
    let env = TestEnv::new();
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    ok(
        &env,
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 14}),
    );
    let shown = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert_eq!(shown["logGroups"][0]["retentionInDays"], 14);
    fails(
        &env,
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 2}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "nope", "retentionInDays": 1}),
        "ResourceNotFoundException",
    );
    ok(
        &env,
        &logs,
        "DeleteRetentionPolicy",
        json!({"logGroupName": "g"}),
    );
    let shown = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert!(shown["logGroups"][0].get("retentionInDays").is_none());
}

#[test]
fn tags_by_arn_and_by_name() {
    let env = TestEnv::new();
    let logs = logs();
    ok(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": {"a": "1"}}),
    );
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g");
    ok(
        &env,
        &logs,
        "TagResource",
        json!({"resourceArn": arn, "tags": {"b": "2"}}),
    );
    ok(
        &env,
        &logs,
        "TagLogGroup",
        json!({"logGroupName": "g", "tags": {"c": "3"}}),
    );
    let tags = ok(
        &env,
        &logs,
        "ListTagsForResource",
        json!({"resourceArn": arn}),
    );
    assert_eq!(tags["tags"], json!({"a": "1", "b": "2", "c": "3"}));
    ok(
        &env,
        &logs,
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["a"]}),
    );
    ok(
        &env,
        &logs,
        "UntagLogGroup",
        json!({"logGroupName": "g", "tags": ["b"]}),
    );
    let tags = ok(
        &env,
        &logs,
        "ListTagsLogGroup",
        json!({"logGroupName": "g"}),
    );
    assert_eq!(tags["tags"], json!({"c": "3"}));
    let other = "arn:aws:logs:us-east-1:999999999999:log-group:g";
    fails(
        &env,
        &logs,
        "ListTagsForResource",
        json!({"resourceArn": other}),
        "ResourceNotFoundException",
    );
    fails(
        &env,
        &logs,
        "TagResource",
        json!({"resourceArn": "arn:aws:s3:::bucket", "tags": {"x": "y"}}),
        "InvalidParameterException",
    );
}

#[test]
fn streams_are_listed_by_name_and_by_last_event() {
    let mut env = TestEnv::new();
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    for name in ["b", "a", "c"] {
        ok(
            &env,
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": name}),
        );
    }
    fails(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "a"}),
        "ResourceAlreadyExistsException",
    );
    fails(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "none", "logStreamName": "a"}),
        "ResourceNotFoundException",
    );
    let now = 1_795_521_600_000_i64;
    for (stream, at) in [("c", now - 3000), ("a", now - 1000), ("b", now - 2000)] {
        ok(
            &env,
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": stream, "logEvents": [{"timestamp": at, "message": "hello"}]}),
        );
    }
    env.now += time::Duration::seconds(1);
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["logStreams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["logStreamName"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_name = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g"}),
    );
    assert_eq!(names(&by_name), ["a", "b", "c"]);
    assert_eq!(by_name["logStreams"][0]["lastEventTimestamp"], now - 1000);
    assert_eq!(by_name["logStreams"][0]["storedBytes"], 5);
    assert_eq!(
        by_name["logStreams"][0]["arn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:a")
    );
    let latest = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g", "orderBy": "LastEventTime", "descending": true}),
    );
    assert_eq!(names(&latest), ["a", "b", "c"]);
    let oldest = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupIdentifier": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:*"), "orderBy": "LastEventTime", "limit": 2}),
    );
    assert_eq!(names(&oldest), ["c", "b"]);
    let rest = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g", "orderBy": "LastEventTime", "limit": 2, "nextToken": oldest["nextToken"]}),
    );
    assert_eq!(names(&rest), ["a"]);
    fails(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g", "orderBy": "LastEventTime", "logStreamNamePrefix": "a"}),
        "InvalidParameterException",
    );
    let prefixed = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g", "logStreamNamePrefix": "b"}),
    );
    assert_eq!(names(&prefixed), ["b"]);

    ok(
        &env,
        &logs,
        "DeleteLogStream",
        json!({"logGroupName": "g", "logStreamName": "a"}),
    );
    fails(
        &env,
        &logs,
        "DeleteLogStream",
        json!({"logGroupName": "g", "logStreamName": "a"}),
        "ResourceNotFoundException",
    );
    let groups = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert_eq!(groups["logGroups"][0]["storedBytes"], 10);
    // Deleting the group takes its streams and events with it.
    ok(&env, &logs, "DeleteLogGroup", json!({"logGroupName": "g"}));
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    let empty = ok(
        &env,
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "g"}),
    );
    assert!(names(&empty).is_empty());
}

#[test]
fn metric_filters_with_a_cis_pattern() {
    let env = TestEnv::new();
    let logs = logs();
    ok(
        &env,
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "trail"}),
    );
    let (_, root_pattern) = crate::pattern::tests::CIS[2];
    ok(
        &env,
        &logs,
        "PutMetricFilter",
        json!({
            "logGroupName": "trail", "filterName": "RootUse", "filterPattern": root_pattern,
            "metricTransformations": [{"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}],
        }),
    );
    ok(
        &env,
        &logs,
        "PutMetricFilter",
        json!({
            "logGroupName": "trail", "filterName": "Bytes", "filterPattern": "[ip, user, ..., bytes]",
            "metricTransformations": [{"metricName": "Bytes", "metricNamespace": "Web", "metricValue": "$bytes", "dimensions": {"User": "$user"}, "unit": "Bytes"}],
        }),
    );
    let all = ok(
        &env,
        &logs,
        "DescribeMetricFilters",
        json!({"logGroupName": "trail"}),
    );
    assert_eq!(all["metricFilters"].as_array().unwrap().len(), 2);
    let cis = ok(
        &env,
        &logs,
        "DescribeMetricFilters",
        json!({"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark"}),
    );
    assert_eq!(cis["metricFilters"][0]["filterName"], "RootUse");
    assert_eq!(cis["metricFilters"][0]["filterPattern"], root_pattern);
    let prefixed = ok(
        &env,
        &logs,
        "DescribeMetricFilters",
        json!({"logGroupName": "trail", "filterNamePrefix": "B"}),
    );
    assert_eq!(
        prefixed["metricFilters"][0]["metricTransformations"][0]["dimensions"],
        json!({"User": "$user"})
    );
    fails(
        &env,
        &logs,
        "DescribeMetricFilters",
        json!({"filterNamePrefix": "B"}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "DescribeMetricFilters",
        json!({"metricName": "Bytes"}),
        "InvalidParameterException",
    );
    let groups = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert_eq!(groups["logGroups"][0]["metricFilterCount"], 2);

    fails(
        &env,
        &logs,
        "PutMetricFilter",
        json!({
            "logGroupName": "trail", "filterName": "Bad", "filterPattern": "{ $.a = ",
            "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
        }),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "PutMetricFilter",
        json!({
            "logGroupName": "trail", "filterName": "Bad", "filterPattern": "x",
            "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "one"}],
        }),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "PutMetricFilter",
        json!({
            "logGroupName": "trail", "filterName": "Bad", "filterPattern": "[a]",
            "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "1", "defaultValue": 0.0, "dimensions": {"A": "$a"}}],
        }),
        "InvalidParameterException",
    );

    ok(
        &env,
        &logs,
        "DeleteMetricFilter",
        json!({"logGroupName": "trail", "filterName": "Bytes"}),
    );
    fails(
        &env,
        &logs,
        "DeleteMetricFilter",
        json!({"logGroupName": "trail", "filterName": "Bytes"}),
        "ResourceNotFoundException",
    );
    let groups = ok(&env, &logs, "DescribeLogGroups", json!({}));
    assert_eq!(groups["logGroups"][0]["metricFilterCount"], 1);
}

#[test]
fn a_group_holds_at_most_100_metric_filters() {
    let env = TestEnv::new();
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    let filter = |name: String| {
        json!({
            "logGroupName": "g", "filterName": name, "filterPattern": "ERROR",
            "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
        })
    };
    for i in 0..100 {
        ok(&env, &logs, "PutMetricFilter", filter(format!("f{i}")));
    }
    // Replacing one is not adding one.
    ok(&env, &logs, "PutMetricFilter", filter("f0".to_owned()));
    fails(
        &env,
        &logs,
        "PutMetricFilter",
        filter("f100".to_owned()),
        "LimitExceededException",
    );
}

#[test]
fn test_metric_filter_shows_extracted_values() {
    let env = TestEnv::new();
    let logs = logs();
    let out = ok(
        &env,
        &logs,
        "TestMetricFilter",
        json!({
            "filterPattern": "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
            "logEventMessages": [
                "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 2326",
                "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
            ],
        }),
    );
    let matches = out["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0]["eventNumber"], 1);
    assert_eq!(matches[0]["extractedValues"]["$status_code"], "404");
    assert_eq!(matches[0]["extractedValues"]["$bytes"], "2326");

    let json_out = ok(
        &env,
        &logs,
        "TestMetricFilter",
        json!({
            "filterPattern": "{ $.latency > 100 && $.path = \"/api/*\" }",
            "logEventMessages": ["{\"latency\": 250, \"path\": \"/api/users\"}", "{\"latency\": 50, \"path\": \"/api/users\"}", "not json"],
        }),
    );
    assert_eq!(json_out["matches"].as_array().unwrap().len(), 1);
    assert_eq!(
        json_out["matches"][0]["extractedValues"],
        json!({"$.latency": "250", "$.path": "/api/users"})
    );
    fails(
        &env,
        &logs,
        "TestMetricFilter",
        json!({"filterPattern": "{ $.x >", "logEventMessages": ["a"]}),
        "InvalidParameterException",
    );
}
