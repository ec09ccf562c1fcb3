//! PutLogEvents' batch rules, GetLogEvents' tokens, FilterLogEvents.

use rampart_service::testing::TestEnv;
use serde_json::{Value, json};

use super::{fails, logs, ok};

/// The test clock, 2026-11-24T12:00:00Z, in milliseconds.
const NOW: i64 = 1_795_521_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn setup() -> (TestEnv, std::sync::Arc<dyn rampart_service::Service>) {
    let env = TestEnv::new();
    let logs = logs();
    ok(&env, &logs, "CreateLogGroup", json!({"logGroupName": "g"}));
    ok(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    );
    (env, logs)
}

fn put(
    env: &TestEnv,
    logs: &std::sync::Arc<dyn rampart_service::Service>,
    stream: &str,
    events: Value,
) -> Value {
    ok(
        env,
        logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": stream, "logEvents": events}),
    )
}

fn messages(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn batch_rules_refuse_the_whole_batch() {
    let (env, logs) = setup();
    let call =
        |events: Value| json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events});
    fails(
        &env,
        &logs,
        "PutLogEvents",
        call(json!([{"timestamp": NOW, "message": "b"}, {"timestamp": NOW - 1, "message": "a"}])),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "PutLogEvents",
        call(
            json!([{"timestamp": NOW - DAY - 1, "message": "a"}, {"timestamp": NOW, "message": "b"}]),
        ),
        "InvalidParameterException",
    );
    let big = "x".repeat(256 * 1024 - 25);
    fails(
        &env,
        &logs,
        "PutLogEvents",
        call(json!([{"timestamp": NOW, "message": big}])),
        "InvalidParameterException",
    );
    let fits = "x".repeat(256 * 1024 - 26);
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW, "message": fits}]),
    );
    let quarter = "y".repeat(256 * 1024 - 26);
    let five: Vec<Value> = (0..5)
        .map(|_| json!({"timestamp": NOW, "message": quarter}))
        .collect();
    fails(
        &env,
        &logs,
        "PutLogEvents",
        call(Value::Array(five)),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "none", "logEvents": [{"timestamp": NOW, "message": "a"}]}),
        "ResourceNotFoundException",
    );
    // A sequence token is accepted and ignored.
    ok(
        &env,
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "sequenceToken": "whatever", "logEvents": [{"timestamp": NOW, "message": "a"}]}),
    );
}

#[test]
fn events_too_old_expired_or_too_new_are_rejected_not_failed() {
    let (env, logs) = setup();
    ok(
        &env,
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    );
    let out = put(
        &env,
        &logs,
        "s",
        json!([
            {"timestamp": NOW - 15 * DAY, "message": "too old"},
            {"timestamp": NOW - 15 * DAY + HOUR, "message": "too old too"},
        ]),
    );
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooOldLogEventEndIndex": 2})
    );
    let out = put(
        &env,
        &logs,
        "s",
        json!([
            {"timestamp": NOW - DAY - HOUR, "message": "expired"},
            {"timestamp": NOW - 2 * HOUR, "message": "kept"},
        ]),
    );
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"expiredLogEventEndIndex": 1})
    );
    let out = put(
        &env,
        &logs,
        "s",
        json!([
            {"timestamp": NOW, "message": "kept too"},
            {"timestamp": NOW + 3 * HOUR, "message": "too new"},
        ]),
    );
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooNewLogEventStartIndex": 1})
    );
    let got = ok(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    );
    assert_eq!(messages(&got), ["kept", "kept too"]);
    let clean = put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW, "message": "fine"}]),
    );
    assert!(clean.get("rejectedLogEventsInfo").is_none());
    // Three events kept so far: the token says so, in AWS's all-digit form.
    let token = clean["nextSequenceToken"].as_str().unwrap();
    assert!(token.bytes().all(|b| b.is_ascii_digit()) && token.ends_with('3'));
}

#[test]
fn get_log_events_pages_forward_and_backward() {
    let (env, logs) = setup();
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({"timestamp": NOW - 100 + i, "message": format!("m{i}")}))
        .collect();
    put(&env, &logs, "s", Value::Array(batch));
    let get = |extra: Value| {
        let mut input = json!({"logGroupName": "g", "logStreamName": "s"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ok(&env, &logs, "GetLogEvents", input)
    };
    // The newest events by default, the oldest from the head.
    let latest = get(json!({"limit": 3}));
    assert_eq!(messages(&latest), ["m7", "m8", "m9"]);
    let head = get(json!({"limit": 3, "startFromHead": true}));
    assert_eq!(messages(&head), ["m0", "m1", "m2"]);
    assert!(head["nextForwardToken"].as_str().unwrap().starts_with("f/"));
    assert!(
        head["nextBackwardToken"]
            .as_str()
            .unwrap()
            .starts_with("b/")
    );
    let next = get(json!({"limit": 3, "nextToken": head["nextForwardToken"]}));
    assert_eq!(messages(&next), ["m3", "m4", "m5"]);
    let back = get(json!({"limit": 2, "nextToken": latest["nextBackwardToken"]}));
    assert_eq!(messages(&back), ["m5", "m6"]);
    // At the end, the forward token stays where it is: new events come with it.
    let end = get(json!({"nextToken": latest["nextForwardToken"]}));
    assert!(messages(&end).is_empty());
    assert_eq!(end["nextForwardToken"], latest["nextForwardToken"]);
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW, "message": "new"}]),
    );
    let fresh = get(json!({"nextToken": end["nextForwardToken"]}));
    assert_eq!(messages(&fresh), ["new"]);
    // Time range: start inclusive, end exclusive.
    let ranged = get(json!({"startTime": NOW - 98, "endTime": NOW - 95, "startFromHead": true}));
    assert_eq!(messages(&ranged), ["m2", "m3", "m4"]);
    fails(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "f/999"}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "x/1"}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logGroupIdentifier": "g", "logStreamName": "s"}),
        "InvalidParameterException",
    );
}

#[test]
fn filter_log_events_across_streams() {
    let (env, logs) = setup();
    ok(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "t"}),
    );
    put(
        &env,
        &logs,
        "s",
        json!([
            {"timestamp": NOW - 3, "message": "ERROR disk full"},
            {"timestamp": NOW - 2, "message": "INFO fine"},
            {"timestamp": NOW - 1, "message": "{\"level\": \"error\", \"code\": 500}"},
        ]),
    );
    put(
        &env,
        &logs,
        "t",
        json!([
            {"timestamp": NOW - 3, "message": "ERROR Exiting"},
            {"timestamp": NOW - 1, "message": "{\"level\": \"warn\", \"code\": 404}"},
        ]),
    );
    let filter = |extra: Value| {
        let mut input = json!({"logGroupName": "g"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ok(&env, &logs, "FilterLogEvents", input)
    };
    assert_eq!(
        messages(&filter(json!({"filterPattern": "ERROR"}))),
        ["ERROR disk full", "ERROR Exiting"]
    );
    assert_eq!(
        messages(&filter(json!({"filterPattern": "ERROR -Exiting"}))),
        ["ERROR disk full"]
    );
    let json_hits = filter(json!({"filterPattern": "{ $.code >= 400 }"}));
    assert_eq!(json_hits["events"].as_array().unwrap().len(), 2);
    assert_eq!(json_hits["events"][1]["logStreamName"], "t");
    assert_eq!(messages(&filter(json!({"logStreamNames": ["t"]}))).len(), 2);
    assert_eq!(
        messages(&filter(json!({"logStreamNamePrefix": "s"}))).len(),
        3
    );
    assert_eq!(
        messages(&filter(json!({"startTime": NOW - 2, "endTime": NOW - 2}))),
        ["INFO fine"]
    );
    // Paging: one event a page, every event once.
    let mut seen = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut input = json!({"limit": 1});
        if let Some(t) = &token {
            input["nextToken"] = t.clone();
        }
        let page = filter(input);
        seen.extend(messages(&page));
        match page.get("nextToken") {
            Some(t) => token = Some(t.clone()),
            None => break,
        }
        assert!(seen.len() <= 5, "paging does not end");
    }
    assert_eq!(seen.len(), 5);
    fails(
        &env,
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "{ $.a = "}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "logStreamNames": ["s"], "logStreamNamePrefix": "s"}),
        "InvalidParameterException",
    );
    fails(
        &env,
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "nextToken": "@@"}),
        "InvalidParameterException",
    );
}
