//! Rotation by the built-in function, immediately and on schedule, and the AWSPENDING rules.

use rampart_service::Timers;
use rampart_store::WriteTx;
use serde_json::json;
use time::Duration;

use super::{Harness, token};
use crate::scheduled::SecretTimers;

const BUILT_IN: &str = "arn:aws:lambda:us-east-1:123456789012:function:rampart-random-password";

#[test]
fn rotating_now_moves_the_labels_as_aws_does() {
    let h = Harness::new();
    h.create("db", "initial", &token(1));
    let rotated = h.ok(
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": BUILT_IN, "ClientRequestToken": token(2),
               "RotationRules": {"AutomaticallyAfterDays": 30}}),
    );
    assert_eq!(rotated["VersionId"], token(2));
    let stages = h.stages("db");
    assert_eq!(stages[token(1)], json!(["AWSPREVIOUS"]));
    assert_eq!(stages[token(2)], json!(["AWSPENDING", "AWSCURRENT"]));
    let fresh = h.value("db", "AWSCURRENT")["SecretString"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fresh.chars().count(), 32);
    assert_ne!(fresh, "initial");
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(described["RotationEnabled"], true);
    assert_eq!(described["RotationLambdaARN"], BUILT_IN);
    assert_eq!(described["RotationRules"]["AutomaticallyAfterDays"], 30);
    assert_eq!(described["LastRotatedDate"], "2026-11-24T12:00:00Z");
    assert_eq!(described["NextRotationDate"], "2026-12-24T00:00:00Z");
    // Another rotation: AWSPENDING is on the current version, so none is unfinished.
    h.ok(
        "RotateSecret",
        json!({"SecretId": "db", "ClientRequestToken": token(3)}),
    );
    let stages = h.stages("db");
    assert_eq!(stages[token(2)], json!(["AWSPREVIOUS"]));
    assert_eq!(stages[token(3)], json!(["AWSPENDING", "AWSCURRENT"]));
    assert!(stages.get(token(1)).is_none());
}

#[test]
fn an_unfinished_rotation_is_refused_and_left_as_it_is() {
    let h = Harness::new();
    h.create("db", "initial", &token(1));
    // What a rotation whose later steps failed leaves: AWSPENDING on a version not current.
    h.ok(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "half", "ClientRequestToken": token(2),
               "VersionStages": ["AWSPENDING"]}),
    );
    let e = h.err(
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": BUILT_IN,
               "RotationRules": {"AutomaticallyAfterDays": 7}}),
    );
    assert_eq!(e.code, "InvalidRequestException");
    assert_eq!(
        e.message,
        "A previous rotation isn't complete. That rotation will be reattempted."
    );
    assert_eq!(h.stages("db")[token(2)], json!(["AWSPENDING"]));
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "initial");
}

#[test]
fn a_function_rampart_cannot_invoke_fails_the_rotation() {
    let h = Harness::new();
    h.create("db", "initial", &token(1));
    let e = h.err(
        "RotateSecret",
        json!({"SecretId": "db",
               "RotationLambdaARN": "arn:aws:lambda:us-east-1:123456789012:function:nobody",
               "RotationRules": {"AutomaticallyAfterDays": 7}}),
    );
    assert_eq!(e.code, "AccessDeniedException");
    assert!(
        e.message
            .starts_with("Secrets Manager cannot invoke the specified Lambda function.")
    );
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert!(described.get("RotationEnabled").is_none());
    let e = h.err(
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": "not-an-arn",
               "RotationRules": {"AutomaticallyAfterDays": 7}}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    let e = h.err("RotateSecret", json!({"SecretId": "db"}));
    assert_eq!(e.code, "InvalidRequestException");
    let e = h.err(
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": BUILT_IN,
               "RotationRules": {"ScheduleExpression": "rate(1 hours)"}}),
    );
    assert_eq!(e.code, "InvalidParameterException");
}

/// A scheduled rotation by the built-in function that KMS refuses (`deny` below; the
/// principal it runs as lost access to the key) fails, writes nothing, and the next window is
/// set, once per window. One that succeeds, run as its principal through the spine, is tested
/// in the server's scheduler tests; the handler's path end to end
/// (test_secretsmanager_rotation.py).
#[test]
fn scheduled_rotations_run_once_when_due_and_set_the_next() {
    let mut h = Harness::new();
    h.create("db", "initial", &token(1));
    h.ok(
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": BUILT_IN, "RotateImmediately": false,
               "RotationRules": {"ScheduleExpression": "cron(0 6 * * ? *)", "Duration": "2h"}}),
    );
    // Not rotated now.
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "initial");
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(described["NextRotationDate"], "2026-11-25T06:00:00Z");
    let timers = SecretTimers::default();
    let due_at = |h: &Harness, now| {
        h.env
            .read_infallible(|_, tx| timers.due(tx, now, 10).unwrap())
    };
    assert!(due_at(&h, h.env.now + Duration::hours(17)).is_empty());
    h.env.now += Duration::hours(18);
    *h.kms.deny.lock().unwrap() = true;
    let due = due_at(&h, h.env.now);
    assert_eq!(due.len(), 1);
    for _ in 0..2 {
        let work = due[0].clone();
        h.env
            .write(move |env, tx: &mut dyn WriteTx| {
                SecretTimers::default().run(env, tx, &work).unwrap();
                Ok::<_, rampart_store::StoreError>(())
            })
            .unwrap();
    }
    *h.kms.deny.lock().unwrap() = false;
    // Failed, leaving nothing behind; the next window is set, and the timer ran once.
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "initial");
    assert_eq!(h.stages("db").as_object().unwrap().len(), 1);
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(described["NextRotationDate"], "2026-11-26T06:00:00Z");
    assert!(described.get("LastRotatedDate").is_none());
    assert_eq!(due_at(&h, h.env.now).len(), 0);
    // Cancelled: no timer left, rotation off.
    h.ok("CancelRotateSecret", json!({"SecretId": "db"}));
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(described["RotationEnabled"], false);
    assert!(described.get("NextRotationDate").is_none());
    assert!(due_at(&h, h.env.now + Duration::days(400)).is_empty());
}
