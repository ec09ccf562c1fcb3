//! The CloudWatch Logs deliverer's selection and batching.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use rampart_service::RunAs;

use super::*;

const ACCOUNT: &str = "123456789012";

fn trail() -> TrailRecord {
    serde_json::from_value(json!({
        "name": "audit", "accountId": ACCOUNT, "homeRegion": "us-east-1",
        "s3BucketName": "b", "s3KeyPrefix": null, "snsTopicName": null,
        "includeGlobalServiceEvents": true, "isMultiRegionTrail": false,
        "logFileValidationEnabled": false, "cloudWatchLogsLogGroupArn": null,
        "cloudWatchLogsRoleArn": null, "isLogging": true, "startLoggingTime": 100,
        "stopLoggingTime": null, "eventSelectors": null, "advancedEventSelectors": null,
    }))
    .unwrap()
}

fn target() -> LogsTarget {
    LogsTarget {
        group: "CloudTrail/logs".into(),
        role: RunAs {
            account: ACCOUNT.into(),
            unique_id: "AROAEXAMPLE".into(),
        },
        since: 200,
    }
}

fn event(seconds: i64, source: &str, invoked_by: Option<&str>) -> Vec<u8> {
    let at = OffsetDateTime::from_unix_timestamp(seconds).unwrap();
    let mut identity = json!({"type": "AssumedRole", "accountId": ACCOUNT});
    if let Some(service) = invoked_by {
        identity["invokedBy"] = json!(service);
    }
    json!({"eventTime": rampart_service::aws_timestamp(at), "eventSource": source,
           "eventName": "X", "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT,
           "readOnly": false, "userIdentity": identity})
    .to_string()
    .into_bytes()
}

#[test]
fn the_deliverers_own_logs_calls_are_never_sent_back() {
    let events = [
        event(300, "iam.amazonaws.com", None),
        // CloudTrail's own PutLogEvents: sending it would make another, forever.
        event(301, "logs.amazonaws.com", Some("cloudtrail.amazonaws.com")),
        // A caller's own PutLogEvents is an event like any other.
        event(302, "logs.amazonaws.com", None),
        // Before delivery was set up.
        event(150, "iam.amazonaws.com", None),
        // Another region, on a single-region trail.
        event(303, "ec2.amazonaws.com", None)
            .into_iter()
            .collect::<Vec<u8>>(),
    ];
    let mut other_region: Value = serde_json::from_slice(&events[4]).unwrap();
    other_region["awsRegion"] = json!("eu-west-1");
    let other_region = other_region.to_string().into_bytes();
    let all = [
        &events[0],
        &events[1],
        &events[2],
        &events[3],
        &other_region,
    ];
    let selected = select(&trail(), &target(), all.iter().map(|e| e.as_slice()));
    let times: Vec<i64> = selected.iter().map(|(ms, _)| *ms).collect();
    assert_eq!(times, vec![300_000, 302_000]);
    assert_eq!(selected[0].1.as_bytes(), events[0].as_slice());
}

#[test]
fn selected_events_come_in_time_order() {
    let events = [
        event(305, "iam.amazonaws.com", None),
        event(301, "iam.amazonaws.com", None),
    ];
    let selected = select(&trail(), &target(), events.iter().map(|e| e.as_slice()));
    assert_eq!(selected[0].0, 301_000);
    assert_eq!(selected[1].0, 305_000);
}

#[test]
fn batches_keep_put_log_events_rules() {
    // 10,000 events at most.
    let many: Vec<(i64, String)> = (0..25_000).map(|i| (i, "m".to_owned())).collect();
    let sizes: Vec<usize> = chunks(&many).iter().map(|c| c.len()).collect();
    assert_eq!(sizes, vec![10_000, 10_000, 5_000]);
    // 1 MiB with 26 bytes per event.
    let big = "x".repeat(100_000);
    let large: Vec<(i64, String)> = (0..21).map(|i| (i, big.clone())).collect();
    let cut = chunks(&large);
    assert_eq!(cut[0].len(), 10);
    assert!(cut.iter().all(|c| {
        c.iter()
            .map(|(_, m)| m.len() + EVENT_OVERHEAD)
            .sum::<usize>()
            <= MAX_BATCH_BYTES
    }));
    assert_eq!(cut.iter().map(|c| c.len()).sum::<usize>(), 21);
    // 24 hours from first to last.
    let day = 24 * 3_600_000;
    let spread = vec![(0, "a".into()), (day, "b".into()), (day + 1, "c".into())];
    let cut = chunks(&spread);
    assert_eq!(cut.len(), 2);
    assert_eq!(cut[0].len(), 2);
    assert!(chunks(&[]).is_empty());
}
