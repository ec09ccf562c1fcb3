use serde_json::json;

use super::*;

#[test]
fn tags_are_added_listed_and_removed() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    ok(
        &env,
        &sns,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "dev"}]}),
    );
    let listed = ok(
        &env,
        &sns,
        "ListTagsForResource",
        json!({"ResourceArn": arn}),
    );
    assert_eq!(
        listed["Tags"],
        json!([{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "dev"}])
    );
    ok(
        &env,
        &sns,
        "UntagResource",
        json!({"ResourceArn": arn, "TagKeys": ["team"]}),
    );
    let listed = ok(
        &env,
        &sns,
        "ListTagsForResource",
        json!({"ResourceArn": arn}),
    );
    assert_eq!(listed["Tags"], json!([{"Key": "env", "Value": "dev"}]));

    let e = fails(
        &env,
        &sns,
        "ListTagsForResource",
        json!({"ResourceArn": format!("{arn}-gone")}),
        "ResourceNotFound",
    );
    assert_eq!(e.message, "Resource does not exist");
    fails(
        &env,
        &sns,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "aws:owner", "Value": "x"}]}),
        "InvalidParameter",
    );
}

#[test]
fn a_topic_carries_at_most_fifty_tags() {
    let env = TestEnv::new();
    let sns = sns();
    let arn = topic(&env, &sns, "alarms");
    let tags: Vec<Value> = (0..50)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    ok(
        &env,
        &sns,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": tags}),
    );
    let e = fails(
        &env,
        &sns,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "one-more", "Value": "v"}]}),
        "TagLimitExceeded",
    );
    assert_eq!(
        e.message,
        "Could not complete request: tag quota of per resource exceeded"
    );
    // Replacing a value is no new tag.
    ok(
        &env,
        &sns,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "k0", "Value": "w"}]}),
    );
}
