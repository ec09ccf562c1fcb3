//! Versions and staging labels, moved as AWS moves them.

use serde_json::json;

use super::{Harness, token};

#[test]
fn put_secret_value_moves_current_and_previous() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    let put = h.ok(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "two", "ClientRequestToken": token(2)}),
    );
    assert_eq!(put["VersionStages"], json!(["AWSCURRENT"]));
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "two");
    assert_eq!(h.value("db", "AWSPREVIOUS")["SecretString"], "one");
    h.ok(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "three", "ClientRequestToken": token(3)}),
    );
    let stages = h.stages("db");
    assert_eq!(stages.get(token(1)), None, "{stages}");
    assert_eq!(stages[token(2)], json!(["AWSPREVIOUS"]));
    assert_eq!(stages[token(3)], json!(["AWSCURRENT"]));
    // A version staged AWSPENDING only leaves AWSCURRENT where it is.
    h.ok(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "four", "ClientRequestToken": token(4),
               "VersionStages": ["AWSPENDING"]}),
    );
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "three");
    assert_eq!(h.value("db", "AWSPENDING")["SecretString"], "four");
    // Deprecated versions are listed only when asked.
    let listed = h.ok("ListSecretVersionIds", json!({"SecretId": "db"}));
    assert_eq!(listed["Versions"].as_array().unwrap().len(), 3);
    let all = h.ok(
        "ListSecretVersionIds",
        json!({"SecretId": "db", "IncludeDeprecated": true}),
    );
    assert_eq!(all["Versions"].as_array().unwrap().len(), 4);
}

#[test]
fn a_client_request_token_makes_put_idempotent() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    let again = json!({"SecretId": "db", "SecretString": "two", "ClientRequestToken": token(2)});
    h.ok("PutSecretValue", again.clone());
    h.ok("PutSecretValue", again);
    assert_eq!(h.value("db", "AWSPREVIOUS")["SecretString"], "one");
    let e = h.err(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "other", "ClientRequestToken": token(2)}),
    );
    assert_eq!(e.code, "ResourceExistsException");
    assert_eq!(
        e.message,
        "You can't modify an existing version, you can only create a new version."
    );
}

#[test]
fn update_secret_version_stage_moves_labels_as_aws_does() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    h.ok(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": "two", "ClientRequestToken": token(2),
               "VersionStages": ["blue"]}),
    );
    // AWSCURRENT cannot move without naming the version it leaves.
    let e = h.err(
        "UpdateSecretVersionStage",
        json!({"SecretId": "db", "VersionStage": "AWSCURRENT", "MoveToVersionId": token(2)}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    h.ok(
        "UpdateSecretVersionStage",
        json!({"SecretId": "db", "VersionStage": "AWSCURRENT", "MoveToVersionId": token(2),
               "RemoveFromVersionId": token(1)}),
    );
    let stages = h.stages("db");
    assert_eq!(stages[token(2)], json!(["blue", "AWSCURRENT"]));
    assert_eq!(stages[token(1)], json!(["AWSPREVIOUS"]));
    // A custom label comes off without moving anywhere.
    h.ok(
        "UpdateSecretVersionStage",
        json!({"SecretId": "db", "VersionStage": "blue", "RemoveFromVersionId": token(2)}),
    );
    assert_eq!(h.stages("db")[token(2)], json!(["AWSCURRENT"]));
    let e = h.err(
        "GetSecretValue",
        json!({"SecretId": "db", "VersionStage": "blue"}),
    );
    assert_eq!(e.code, "ResourceNotFoundException");
    let e = h.err(
        "UpdateSecretVersionStage",
        json!({"SecretId": "db", "VersionStage": "AWSCURRENT", "RemoveFromVersionId": token(2)}),
    );
    assert_eq!(e.code, "InvalidParameterException");
}
