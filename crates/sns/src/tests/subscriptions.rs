use rampart_store::StoreError;
use serde_json::json;

use super::*;
use crate::delivery::{DELIVERIES, DeliveryRecord};

/// The queued deliveries, oldest first.
pub(crate) fn deliveries(env: &TestEnv) -> Vec<DeliveryRecord> {
    env.read(|_, tx| {
        let rows = tx.scan(DELIVERIES, "", None, 1000)?;
        Ok::<_, StoreError>(
            rows.iter()
                .map(|(_, bytes)| serde_json::from_slice(bytes).unwrap())
                .collect(),
        )
    })
    .unwrap()
}

/// Subscribes `endpoint` over http and answers the token its confirmation carries.
pub(crate) fn subscribe(
    env: &TestEnv,
    sns: &Arc<dyn Service>,
    arn: &str,
    endpoint: &str,
) -> String {
    let answer = ok(
        env,
        sns,
        "Subscribe",
        json!({"TopicArn": arn, "Protocol": "http", "Endpoint": endpoint}),
    );
    assert_eq!(answer["SubscriptionArn"], "pending confirmation");
    let confirmation = deliveries(env)
        .into_iter()
        .rev()
        .find(|d| d.endpoint == endpoint)
        .unwrap();
    let body: Value = serde_json::from_str(&confirmation.body).unwrap();
    assert_eq!(body["Type"], "SubscriptionConfirmation");
    body["Token"].as_str().unwrap().to_owned()
}

#[test]
fn a_subscription_is_confirmed_by_its_token_within_three_days_only() {
    let mut env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let token = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/a");
    let e = fails(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": "0".repeat(token.len())}),
        "InvalidParameter",
    );
    assert_eq!(e.message, "Invalid token");
    let confirmed = ok(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": token}),
    );
    let subscription = confirmed["SubscriptionArn"].as_str().unwrap().to_owned();
    assert!(subscription.starts_with(&format!("{arn}:")));
    let attributes =
        ok(&env, &sns, "GetTopicAttributes", json!({"TopicArn": arn}))["Attributes"].clone();
    assert_eq!(attributes["SubscriptionsConfirmed"], "1");

    // A second subscription's token, past its 3 days, confirms nothing.
    let late = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/b");
    env.now += time::Duration::days(3) + time::Duration::seconds(1);
    fails(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": late}),
        "InvalidParameter",
    );
    let listed = ok(
        &env,
        &sns,
        "ListSubscriptionsByTopic",
        json!({"TopicArn": arn}),
    );
    let shown: Vec<&str> = listed["Subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["SubscriptionArn"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&"PendingConfirmation"));
    assert!(shown.contains(&subscription.as_str()));

    ok(
        &env,
        &sns,
        "Unsubscribe",
        json!({"SubscriptionArn": subscription}),
    );
    let attributes =
        ok(&env, &sns, "GetTopicAttributes", json!({"TopicArn": arn}))["Attributes"].clone();
    assert_eq!(attributes["SubscriptionsConfirmed"], "0");
    assert_eq!(attributes["SubscriptionsDeleted"], "1");
}

#[test]
fn endpoints_are_guarded_and_unserved_protocols_named() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    for (protocol, endpoint, says) in [
        (
            "http",
            "http://169.254.169.254/latest",
            "--sns-endpoints any",
        ),
        ("http", "http://example.com/hook", "--sns-endpoints any"),
        ("http", "https://127.0.0.1/x", "must match"),
        ("https", "https://127.0.0.1/x", "https"),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:q",
            "does not deliver to sqs",
        ),
        (
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "does not deliver to lambda",
        ),
        ("sms", "+15555550100", "does not deliver to sms"),
        ("carrier-pigeon", "x", "does not support this protocol"),
        ("email", "not-an-address", "Email"),
    ] {
        let e = fails(
            &env,
            &sns,
            "Subscribe",
            json!({"TopicArn": arn, "Protocol": protocol, "Endpoint": endpoint}),
            "InvalidParameter",
        );
        assert!(
            e.message.contains(says),
            "{protocol} {endpoint}: {}",
            e.message
        );
    }
    assert!(deliveries(&env).is_empty());
    // The operator's opt-in lets any host in.
    let open: Arc<dyn Service> = Arc::new(crate::Sns::with_settings(crate::SnsSettings {
        endpoints: crate::EndpointScope::Any,
        ..crate::SnsSettings::default()
    }));
    ok(
        &env,
        &open,
        "Subscribe",
        json!({"TopicArn": arn, "Protocol": "http", "Endpoint": "http://example.com/hook"}),
    );
}

#[test]
fn another_account_cannot_touch_a_subscription() {
    let mut env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let token = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/a");
    let subscription = ok(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": token}),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    env.act_as("210987654321");
    for (operation, input) in [
        ("Unsubscribe", json!({"SubscriptionArn": subscription})),
        (
            "GetSubscriptionAttributes",
            json!({"SubscriptionArn": subscription}),
        ),
        (
            "SetSubscriptionAttributes",
            json!({"SubscriptionArn": subscription, "AttributeName": "RawMessageDelivery", "AttributeValue": "true"}),
        ),
    ] {
        fails(&env, &sns, operation, input, "AuthorizationError");
    }
    env.act_as("123456789012");
    let attributes = ok(
        &env,
        &sns,
        "GetSubscriptionAttributes",
        json!({"SubscriptionArn": subscription}),
    )["Attributes"]
        .clone();
    assert_eq!(attributes["PendingConfirmation"], "false");
    assert_eq!(attributes["RawMessageDelivery"], "false");
}

#[test]
fn subscription_attributes_are_checked() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let token = subscribe(&env, &sns, &arn, "http://127.0.0.1:9000/a");
    let subscription = ok(
        &env,
        &sns,
        "ConfirmSubscription",
        json!({"TopicArn": arn, "Token": token}),
    )["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = |name: &str, value: &str| {
        env.call(
            &sns,
            "SetSubscriptionAttributes",
            json!({"SubscriptionArn": subscription, "AttributeName": name, "AttributeValue": value}),
        )
    };
    set("FilterPolicy", r#"{"severity":["high"]}"#).unwrap();
    set("RawMessageDelivery", "true").unwrap();
    for (name, value) in [
        ("FilterPolicy", "[1]"),
        ("FilterPolicyScope", "MessageBody"),
        ("RawMessageDelivery", "yes"),
        ("RedrivePolicy", "{}"),
        ("Owner", "x"),
    ] {
        assert_eq!(
            set(name, value).unwrap_err().code,
            "InvalidParameter",
            "{name}"
        );
    }
    let attributes = ok(
        &env,
        &sns,
        "GetSubscriptionAttributes",
        json!({"SubscriptionArn": subscription}),
    )["Attributes"]
        .clone();
    assert_eq!(attributes["FilterPolicy"], r#"{"severity":["high"]}"#);
    assert_eq!(attributes["FilterPolicyScope"], "MessageAttributes");
    assert_eq!(attributes["RawMessageDelivery"], "true");
}
