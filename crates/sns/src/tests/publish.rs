use serde_json::json;

use super::subscriptions::{deliveries, subscribe};
use super::*;

#[test]
fn publish_checks_the_message_as_aws_does() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    for (input, says) in [
        (
            json!({"TopicArn": arn, "Message": ""}),
            "Invalid parameter: Empty message",
        ),
        (
            json!({"TopicArn": arn, "Message": "x".repeat(262_145)}),
            "Invalid parameter: Message too long",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "Subject": "s".repeat(101)}),
            "Invalid parameter: Subject",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "Subject": "two\nlines"}),
            "Invalid parameter: Subject",
        ),
        (
            json!({"TopicArn": arn, "Message": "{\"http\":\"x\"}", "MessageStructure": "json"}),
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        ),
        (
            json!({"TopicArn": arn, "Message": "not json", "MessageStructure": "json"}),
            "Invalid parameter: Message Structure - JSON message body failed to parse",
        ),
        (json!({"Message": "m"}), "Neither TopicArn nor TargetArn"),
        (
            json!({"PhoneNumber": "+15555550100", "Message": "m"}),
            "SMS",
        ),
    ] {
        let e = fails(&env, &sns, "Publish", input, "InvalidParameter");
        assert!(e.message.contains(says), "{}", e.message);
    }
    fails(
        &env,
        &sns,
        "Publish",
        json!({"TopicArn": arn, "Message": "m", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "many"}}}),
        "ParameterValueInvalid",
    );
    fails(
        &env,
        &sns,
        "Publish",
        json!({"TopicArn": format!("{arn}-gone"), "Message": "m"}),
        "NotFound",
    );
    // 256 KiB exactly is accepted.
    ok(
        &env,
        &sns,
        "Publish",
        json!({"TopicArn": arn, "Message": "x".repeat(262_144)}),
    );
}

#[test]
fn a_publish_queues_one_signed_notification_per_confirmed_matching_subscription() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let token = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/all");
    ok(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": token}),
    );
    let filtered = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/high");
    let high = ok(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": filtered}),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &env,
        &sns,
        "SetSubscriptionAttributes",
        json!({"SubscriptionArn": high, "AttributeName": "FilterPolicy", "AttributeValue": r#"{"severity":["high"]}"#}),
    );
    // Pending: no notification.
    subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/pending");
    let notifications = |env: &TestEnv| -> Vec<crate::delivery::DeliveryRecord> {
        deliveries(env)
            .into_iter()
            .filter(|d| {
                d.headers.contains(&(
                    "x-amz-sns-message-type".to_owned(),
                    "Notification".to_owned(),
                ))
            })
            .collect()
    };
    assert!(notifications(&env).is_empty());
    let published = ok(
        &env,
        &sns,
        "Publish",
        json!({"TopicArn": arn, "Message": "low", "Subject": "s"}),
    );
    let queued = notifications(&env);
    assert_eq!(queued.len(), 1);
    let body: Value = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(body["MessageId"], published["MessageId"]);
    assert_eq!(body["Subject"], "s");
    assert_eq!(body["SignatureVersion"], "1");
    assert!(body["Signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(queued[0].endpoint, "http://127.0.0.1:9000/all");

    let batch = ok(
        &env,
        &sns,
        "PublishBatch",
        json!({"TopicArn": arn, "PublishBatchRequestEntries": [
            {"Id": "a", "Message": "hi", "MessageAttributes": {"severity": {"DataType": "String", "StringValue": "high"}}},
            {"Id": "b", "Message": ""}]}),
    );
    assert_eq!(batch["Successful"][0]["Id"], "a");
    assert_eq!(batch["Failed"][0]["Id"], "b");
    assert_eq!(batch["Failed"][0]["Code"], "InvalidParameter");
    assert_eq!(notifications(&env).len(), 3);
    for (entries, code) in [
        (json!([]), "EmptyBatchRequest"),
        (
            json!(
                (0..11)
                    .map(|i| json!({"Id": format!("e{i}"), "Message": "m"}))
                    .collect::<Vec<_>>()
            ),
            "TooManyEntriesInBatchRequest",
        ),
        (
            json!([{"Id": "x", "Message": "m"}, {"Id": "x", "Message": "m"}]),
            "BatchEntryIdsNotDistinct",
        ),
        (
            json!([{"Id": "no spaces", "Message": "m"}]),
            "InvalidBatchEntryId",
        ),
    ] {
        fails(
            &env,
            &sns,
            "PublishBatch",
            json!({"TopicArn": arn, "PublishBatchRequestEntries": entries}),
            code,
        );
    }
}
