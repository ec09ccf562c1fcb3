use serde_json::json;

use super::*;

#[test]
fn a_topic_is_created_listed_described_and_deleted() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:alarms");
    let listed = ok(&env, &sns, "ListTopics", json!({}));
    assert_eq!(listed["Topics"], json!([{"TopicArn": arn}]));

    let attributes =
        ok(&env, &sns, "GetTopicAttributes", json!({"TopicArn": arn}))["Attributes"].clone();
    assert_eq!(attributes["Owner"], "123456789012");
    assert_eq!(attributes["TopicArn"], arn.as_str());
    assert_eq!(attributes["DisplayName"], "");
    assert_eq!(attributes["SubscriptionsConfirmed"], "0");
    assert_eq!(attributes["SubscriptionsPending"], "0");
    assert_eq!(attributes["SubscriptionsDeleted"], "0");
    assert!(attributes.get("SignatureVersion").is_none());
    let effective: Value =
        serde_json::from_str(attributes["EffectiveDeliveryPolicy"].as_str().unwrap()).unwrap();
    assert_eq!(
        effective["http"]["defaultHealthyRetryPolicy"]["numRetries"],
        3
    );
    assert_eq!(
        effective["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"],
        20
    );
    // AWS's default policy: any principal, when the source owner is the topic's account.
    let policy: Value = serde_json::from_str(attributes["Policy"].as_str().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"], json!({"AWS": "*"}));
    assert_eq!(statement["Resource"], arn.as_str());
    assert_eq!(
        statement["Condition"],
        json!({"StringEquals": {"AWS:SourceOwner": "123456789012"}})
    );
    assert!(
        statement["Action"]
            .as_array()
            .unwrap()
            .contains(&json!("SNS:Publish"))
    );

    ok(&env, &sns, "DeleteTopic", json!({"TopicArn": arn}));
    let e = fails(
        &env,
        &sns,
        "GetTopicAttributes",
        json!({"TopicArn": arn}),
        "NotFound",
    );
    assert_eq!(e.message, "Topic does not exist");
    assert_eq!(e.status, 404);
    // Deleting a topic that does not exist is no error, as AWS documents.
    ok(&env, &sns, "DeleteTopic", json!({"TopicArn": arn}));
    assert_eq!(ok(&env, &sns, "ListTopics", json!({}))["Topics"], json!([]));
}

#[test]
fn create_topic_is_idempotent_on_the_same_attributes_only() {
    let env = TestEnv::new();
    let sns = sns();
    let input = json!({"Name": "ops", "Attributes": {"DisplayName": "Ops"},
                       "Tags": [{"Key": "team", "Value": "red"}]});
    let first = ok(&env, &sns, "CreateTopic", input.clone());
    let again = ok(&env, &sns, "CreateTopic", input);
    assert_eq!(first, again);
    // No attributes: the same topic.
    assert_eq!(ok(&env, &sns, "CreateTopic", json!({"Name": "ops"})), first);
    let e = fails(
        &env,
        &sns,
        "CreateTopic",
        json!({"Name": "ops", "Attributes": {"DisplayName": "Other"}}),
        "InvalidParameter",
    );
    assert_eq!(
        e.message,
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    );
    let e = fails(
        &env,
        &sns,
        "CreateTopic",
        json!({"Name": "ops", "Tags": [{"Key": "team", "Value": "blue"}]}),
        "InvalidParameter",
    );
    assert_eq!(
        e.message,
        "Invalid parameter: Tags Reason: Topic already exists with different tags"
    );
}

#[test]
fn names_attributes_and_fifo_are_refused_as_aws_refuses_them() {
    let env = TestEnv::new();
    let sns = sns();
    for bad in ["", "has space", "dots.are.out", &"a".repeat(257)] {
        let e = fails(
            &env,
            &sns,
            "CreateTopic",
            json!({"Name": bad}),
            "InvalidParameter",
        );
        assert_eq!(e.message, "Invalid parameter: Topic Name");
    }
    let e = fails(
        &env,
        &sns,
        "CreateTopic",
        json!({"Name": "orders.fifo", "Attributes": {"FifoTopic": "true"}}),
        "InvalidParameter",
    );
    assert!(e.message.contains("FIFO"), "{}", e.message);
    for (name, value) in [
        ("SignatureVersion", "3"),
        ("TracingConfig", "Sometimes"),
        ("DisplayName", &"x".repeat(101)),
        ("DeliveryPolicy", "{"),
        ("Policy", "not a policy"),
        ("NoSuchAttribute", "1"),
    ] {
        fails(
            &env,
            &sns,
            "CreateTopic",
            json!({"Name": "t", "Attributes": {name: value}}),
            "InvalidParameter",
        );
    }
    assert_eq!(ok(&env, &sns, "ListTopics", json!({}))["Topics"], json!([]));
    fails(
        &env,
        &sns,
        "GetTopicAttributes",
        json!({"TopicArn": "alarms"}),
        "InvalidParameter",
    );
}

#[test]
fn attributes_are_set_recorded_and_shown() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let set = |name: &str, value: &str| {
        ok(
            &env,
            &sns,
            "SetTopicAttributes",
            json!({"TopicArn": arn, "AttributeName": name, "AttributeValue": value}),
        )
    };
    set("DisplayName", "Alarms");
    set("SignatureVersion", "2");
    set("KmsMasterKeyId", "alias/aws/sns");
    let delivery = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":2}}}"#;
    set("DeliveryPolicy", delivery);
    let attributes =
        ok(&env, &sns, "GetTopicAttributes", json!({"TopicArn": arn}))["Attributes"].clone();
    assert_eq!(attributes["DisplayName"], "Alarms");
    assert_eq!(attributes["SignatureVersion"], "2");
    assert_eq!(attributes["KmsMasterKeyId"], "alias/aws/sns");
    assert_eq!(attributes["DeliveryPolicy"], delivery);
    assert!(
        attributes["EffectiveDeliveryPolicy"]
            .as_str()
            .unwrap()
            .contains(r#""numRetries":2"#)
    );

    let e = fails(
        &env,
        &sns,
        "SetTopicAttributes",
        json!({"TopicArn": arn, "AttributeName": "Owner", "AttributeValue": "999999999999"}),
        "InvalidParameter",
    );
    assert_eq!(e.message, "Invalid parameter: AttributeName");
    fails(
        &env,
        &sns,
        "SetTopicAttributes",
        json!({"TopicArn": format!("{arn}x"), "AttributeName": "DisplayName", "AttributeValue": "x"}),
        "NotFound",
    );
}

#[test]
fn list_topics_pages_by_one_hundred() {
    let env = TestEnv::new();
    let sns = sns();
    for i in 0..205 {
        topic(&env, &sns, &format!("t{i:03}"));
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let input = match &token {
            Some(t) => json!({"NextToken": t}),
            None => json!({}),
        };
        let page = ok(&env, &sns, "ListTopics", input);
        pages += 1;
        let topics = page["Topics"].as_array().unwrap();
        assert!(topics.len() <= 100);
        seen.extend(
            topics
                .iter()
                .map(|t| t["TopicArn"].as_str().unwrap().to_owned()),
        );
        match page.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 205);
    fails(
        &env,
        &sns,
        "ListTopics",
        json!({"NextToken": "forged"}),
        "InvalidParameter",
    );
    // Another account sees none of them.
    let mut other = env;
    other.act_as("210987654321");
    assert_eq!(
        ok(&other, &sns, "ListTopics", json!({}))["Topics"],
        json!([])
    );
}

#[test]
fn permissions_add_and_remove_labelled_statements() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    ok(
        &env,
        &sns,
        "AddPermission",
        json!({"TopicArn": arn, "Label": "publishers", "AWSAccountId": ["210987654321"],
               "ActionName": ["Publish"]}),
    );
    let policy = |env: &TestEnv| -> Value {
        let attributes = ok(env, &sns, "GetTopicAttributes", json!({"TopicArn": arn}));
        serde_json::from_str(attributes["Attributes"]["Policy"].as_str().unwrap()).unwrap()
    };
    let statements = policy(&env)["Statement"].as_array().unwrap().clone();
    assert_eq!(statements.len(), 2);
    assert_eq!(
        statements[1],
        json!({"Sid": "publishers", "Effect": "Allow",
               "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
               "Action": "SNS:Publish", "Resource": arn})
    );
    let e = fails(
        &env,
        &sns,
        "AddPermission",
        json!({"TopicArn": arn, "Label": "publishers", "AWSAccountId": ["210987654321"],
               "ActionName": ["Publish"]}),
        "InvalidParameter",
    );
    assert_eq!(e.message, "Invalid parameter: Statement already exists");
    fails(
        &env,
        &sns,
        "AddPermission",
        json!({"TopicArn": arn, "Label": "x", "AWSAccountId": ["210987654321"],
               "ActionName": ["CreateQueue"]}),
        "InvalidParameter",
    );
    ok(
        &env,
        &sns,
        "RemovePermission",
        json!({"TopicArn": arn, "Label": "publishers"}),
    );
    assert_eq!(policy(&env)["Statement"].as_array().unwrap().len(), 1);
    // A label the policy lacks changes nothing.
    ok(
        &env,
        &sns,
        "RemovePermission",
        json!({"TopicArn": arn, "Label": "publishers"}),
    );
}
