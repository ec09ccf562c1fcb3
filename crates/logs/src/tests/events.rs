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

#[test]
fn get_log_events_answers_timestamp_order_whatever_the_put_order() {
    let (env, logs) = setup();
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW - 10, "message": "late-1"}, {"timestamp": NOW - 5, "message": "late-2"}]),
    );
    // An older batch after a newer one, and a tie with the first batch.
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW - 30, "message": "early"}, {"timestamp": NOW - 10, "message": "tie"}]),
    );
    let get = |extra: Value| {
        let mut input = json!({"logGroupName": "g", "logStreamName": "s"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ok(&env, &logs, "GetLogEvents", input)
    };
    let all = ["early", "late-1", "tie", "late-2"];
    assert_eq!(messages(&get(json!({"startFromHead": true}))), all);
    assert_eq!(messages(&get(json!({}))), all);
    // Paged one at a time, forward then backward, the same order.
    let mut forward = Vec::new();
    let mut page = get(json!({"startFromHead": true, "limit": 1}));
    while !messages(&page).is_empty() {
        forward.extend(messages(&page));
        page = get(json!({"limit": 1, "nextToken": page["nextForwardToken"]}));
    }
    assert_eq!(forward, all);
    let mut backward = Vec::new();
    let mut page = get(json!({"limit": 1}));
    while !messages(&page).is_empty() {
        backward.splice(0..0, messages(&page));
        page = get(json!({"limit": 1, "nextToken": page["nextBackwardToken"]}));
    }
    assert_eq!(backward, all);
    // An empty stream's default read gives a forward token that finds what comes later.
    ok(
        &env,
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "empty"}),
    );
    let empty = ok(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "empty"}),
    );
    assert!(messages(&empty).is_empty());
    put(
        &env,
        &logs,
        "empty",
        json!([{"timestamp": NOW - 1, "message": "arrived"}]),
    );
    let later = ok(
        &env,
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "empty", "nextToken": empty["nextForwardToken"]}),
    );
    assert_eq!(messages(&later), ["arrived"]);
}

#[test]
fn filter_log_events_interleaves_streams_by_time_across_pages() {
    let (env, logs) = setup();
    for name in ["a", "b"] {
        ok(
            &env,
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": name}),
        );
    }
    put(
        &env,
        &logs,
        "a",
        json!([{"timestamp": NOW - 9, "message": "a9"}, {"timestamp": NOW - 5, "message": "a5"},
               {"timestamp": NOW - 1, "message": "a1"}]),
    );
    put(
        &env,
        &logs,
        "b",
        json!([{"timestamp": NOW - 7, "message": "b7"}, {"timestamp": NOW - 5, "message": "b5"},
               {"timestamp": NOW - 2, "message": "b2"}]),
    );
    let expected = ["a9", "b7", "a5", "b5", "b2", "a1"];
    let whole = ok(&env, &logs, "FilterLogEvents", json!({"logGroupName": "g"}));
    assert_eq!(messages(&whole), expected);
    let mut seen = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut input = json!({"logGroupName": "g", "limit": 2});
        if let Some(t) = &token {
            input["nextToken"] = t.clone();
        }
        let page = ok(&env, &logs, "FilterLogEvents", input);
        seen.extend(messages(&page));
        match page.get("nextToken") {
            Some(t) => token = Some(t.clone()),
            None => break,
        }
        assert!(seen.len() <= 6, "paging does not end");
    }
    assert_eq!(seen, expected);
}

#[test]
fn retention_hides_old_events_at_once_and_the_sweep_removes_them() {
    let (mut env, logs) = setup();
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW - 3 * DAY, "message": "old"}]),
    );
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW - HOUR, "message": "new"}]),
    );
    ok(
        &env,
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    );
    let read = |env: &TestEnv| {
        let got = ok(
            env,
            &logs,
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
        );
        let filtered = ok(env, &logs, "FilterLogEvents", json!({"logGroupName": "g"}));
        (messages(&got), messages(&filtered))
    };
    assert_eq!(read(&env), (vec!["new".to_owned()], vec!["new".to_owned()]));
    let stored = |env: &TestEnv| {
        env.read_infallible(|_, tx| {
            (
                tx.scan(crate::records::EVENTS, "", None, 100)
                    .unwrap()
                    .len(),
                tx.scan(crate::records::EVENTS_DESC, "", None, 100)
                    .unwrap()
                    .len(),
            )
        })
    };
    assert_eq!(stored(&env), (2, 2));
    let sweep = |env: &TestEnv| {
        env.write(|e, tx| {
            let service = crate::Logs::new();
            let timers = rampart_service::Service::timers(&service).unwrap();
            let due = timers.due(tx, e.now, 10)?;
            let ran = due.len();
            for work in due {
                timers.run(e, tx, &work).unwrap();
            }
            Ok::<_, rampart_store::StoreError>(ran)
        })
        .unwrap()
    };
    assert_eq!(sweep(&env), 1);
    assert_eq!(stored(&env), (1, 1));
    let group = ok(
        &env,
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "g"}),
    );
    assert_eq!(group["logGroups"][0]["storedBytes"], 3);
    // The next sweep is an hour away; then the remaining event has aged out too.
    assert_eq!(sweep(&env), 0);
    env.now += time::Duration::hours(24);
    assert_eq!(read(&env), (Vec::<String>::new(), Vec::<String>::new()));
    assert_eq!(sweep(&env), 1);
    assert_eq!(stored(&env), (0, 0));
    // No retention, no sweep left behind.
    ok(
        &env,
        &logs,
        "DeleteRetentionPolicy",
        json!({"logGroupName": "g"}),
    );
    env.now += time::Duration::hours(2);
    assert_eq!(sweep(&env), 0);
    env.read_infallible(|_, tx| {
        assert!(
            tx.scan(crate::retention::SWEEPS, "", None, 10)
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn events_stored_in_put_order_by_an_earlier_rampart_are_moved_and_read_in_time_order() {
    let (env, logs) = setup();
    // Session 9's layout: `<stream key>:<position>`, position in put order, 16 digits.
    let stream_key = env.read_infallible(|env, _| crate::names::stream_key(env, "g", "s"));
    let old = [(NOW - 5, "second"), (NOW - 10, "first"), (NOW, "third")];
    env.write(move |_, tx| {
        for (position, (timestamp, message)) in old.iter().enumerate() {
            let event = crate::records::EventRecord {
                timestamp: *timestamp,
                ingestion: NOW,
                message: (*message).to_owned(),
            };
            let bytes = serde_json::to_vec(&event).unwrap();
            tx.put(
                crate::records::EVENTS,
                &format!("{stream_key}:{position:016}"),
                &bytes,
            )?;
        }
        let mut stream: crate::records::StreamRecord =
            rampart_store::get_json(tx, crate::records::STREAMS, &stream_key)?.unwrap();
        stream.events = 3;
        rampart_store::put_json(tx, crate::records::STREAMS, &stream_key, &stream)
    })
    .unwrap();
    let upgrade = |env: &TestEnv| {
        let logs = std::sync::Arc::clone(&logs);
        env.write(move |_, tx| logs.upgrade_stored(tx)).unwrap();
    };
    upgrade(&env);
    let read = |env: &TestEnv| {
        let got = ok(
            env,
            &logs,
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
        );
        messages(&got)
    };
    assert_eq!(read(&env), ["first", "second", "third"]);
    // Run again (every start runs it): nothing moves twice, nothing is lost.
    upgrade(&env);
    put(
        &env,
        &logs,
        "s",
        json!([{"timestamp": NOW + 1, "message": "fourth"}]),
    );
    assert_eq!(read(&env), ["first", "second", "third", "fourth"]);
}
