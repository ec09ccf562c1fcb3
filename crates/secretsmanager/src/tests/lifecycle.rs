//! A secret's life: creation, reading by name and ARN, encryption at rest, listing, deletion
//! with recovery and the timer that ends it, restoring, tags and errors.

use rampart_service::Timers;
use rampart_store::WriteTx;
use serde_json::json;
use time::Duration;

use super::{Harness, token};
use crate::scheduled::SecretTimers;

#[test]
fn a_secret_is_read_by_name_full_arn_and_partial_arn_and_kept_encrypted() {
    let h = Harness::new();
    let created = h.ok(
        "CreateSecret",
        json!({"Name": "prod/db", "SecretString": "hunter2-very-secret",
               "ClientRequestToken": token(1), "Description": "the db",
               "Tags": [{"Key": "team", "Value": "red"}]}),
    );
    let arn = created["ARN"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-"));
    assert_eq!(
        arn.len(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-".len() + 6
    );
    assert_eq!(created["VersionId"], token(1));
    let partial = arn.get(..arn.len() - 7).unwrap();
    for id in ["prod/db", arn, partial] {
        let got = h.ok("GetSecretValue", json!({"SecretId": id}));
        assert_eq!(got["SecretString"], "hunter2-very-secret");
        assert_eq!(got["VersionStages"], json!(["AWSCURRENT"]));
        assert_eq!(got["ARN"], arn);
    }
    // A wrong suffix is another secret.
    let wrong = format!("{partial}-zzzzzz");
    let e = h.err("GetSecretValue", json!({"SecretId": wrong}));
    assert_eq!(e.code, "ResourceNotFoundException");
    assert_eq!(
        e.message,
        "Secrets Manager can't find the specified secret."
    );
    assert!(!h.everything_stored().contains("hunter2-very-secret"));
    let calls = h.kms.calls.lock().unwrap().clone();
    assert_eq!(calls.first().map(String::as_str), Some("AwsManagedKey"));
    assert!(calls.contains(&"GenerateDataKey".to_owned()));
    assert!(calls.contains(&"Decrypt".to_owned()));
}

#[test]
fn binary_secrets_round_trip() {
    let h = Harness::new();
    h.ok(
        "CreateSecret",
        json!({"Name": "blob", "SecretBinary": "AAECAwQ="}),
    );
    let got = h.value("blob", "AWSCURRENT");
    assert_eq!(got["SecretBinary"], "AAECAwQ=");
    assert!(got.get("SecretString").is_none());
    let e = h.err(
        "CreateSecret",
        json!({"Name": "both", "SecretBinary": "AAECAwQ=", "SecretString": "x"}),
    );
    assert_eq!(e.code, "InvalidParameterException");
}

#[test]
fn kms_refusing_the_caller_refuses_the_read() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    *h.kms.deny.lock().unwrap() = true;
    let e = h.err("GetSecretValue", json!({"SecretId": "db"}));
    assert_eq!(e.code, "AccessDeniedException");
    assert_eq!(e.message, "Access to KMS is not allowed");
}

#[test]
fn creating_twice_and_names_are_checked() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    let e = h.err("CreateSecret", json!({"Name": "db", "SecretString": "x"}));
    assert_eq!(e.code, "ResourceExistsException");
    assert_eq!(
        e.message,
        "The operation failed because the secret db already exists."
    );
    let e = h.err(
        "CreateSecret",
        json!({"Name": "bad name", "SecretString": "x"}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    // A secret without a value has no version.
    let empty = h.ok("CreateSecret", json!({"Name": "empty"}));
    assert!(empty.get("VersionId").is_none());
    let e = h.err("GetSecretValue", json!({"SecretId": "empty"}));
    assert_eq!(e.code, "ResourceNotFoundException");
}

#[test]
fn deletion_waits_for_its_window_and_can_be_restored() {
    let mut h = Harness::new();
    h.create("db", "one", &token(1));
    let e = h.err(
        "DeleteSecret",
        json!({"SecretId": "db", "RecoveryWindowInDays": 6}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    let e = h.err(
        "DeleteSecret",
        json!({"SecretId": "db", "RecoveryWindowInDays": 7, "ForceDeleteWithoutRecovery": true}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    let deleted = h.ok(
        "DeleteSecret",
        json!({"SecretId": "db", "RecoveryWindowInDays": 7}),
    );
    assert_eq!(deleted["DeletionDate"], "2026-12-01T12:00:00Z");
    let e = h.err("GetSecretValue", json!({"SecretId": "db"}));
    assert_eq!(e.code, "InvalidRequestException");
    assert_eq!(
        e.message,
        "You can't perform this operation on the secret because it was marked for deletion."
    );
    let listed = h.ok("ListSecrets", json!({}));
    assert_eq!(listed["SecretList"], json!([]));
    let planned = h.ok("ListSecrets", json!({"IncludePlannedDeletion": true}));
    assert_eq!(planned["SecretList"].as_array().unwrap().len(), 1);
    let e = h.err("CreateSecret", json!({"Name": "db", "SecretString": "x"}));
    assert_eq!(e.code, "InvalidRequestException");
    h.ok("RestoreSecret", json!({"SecretId": "db"}));
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "one");
    // Scheduled again; the timer deletes it once the window has passed, and only then.
    h.ok(
        "DeleteSecret",
        json!({"SecretId": "db", "RecoveryWindowInDays": 7}),
    );
    let timers = SecretTimers::default();
    let due_at = |h: &Harness, now| {
        h.env
            .read_infallible(|_, tx| timers.due(tx, now, 10).unwrap())
    };
    assert!(due_at(&h, h.env.now + Duration::days(6)).is_empty());
    let due = due_at(&h, h.env.now + Duration::days(7));
    assert_eq!(due.len(), 1);
    h.env.now += Duration::days(7);
    for _ in 0..2 {
        let work = due[0].clone();
        h.env
            .write(move |env, tx: &mut dyn WriteTx| {
                SecretTimers::default().run(env, tx, &work).unwrap();
                Ok::<_, rampart_store::StoreError>(())
            })
            .unwrap();
    }
    let e = h.err("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(e.code, "ResourceNotFoundException");
    assert!(due_at(&h, h.env.now).is_empty());
    // The name is free again.
    h.create("db", "again", &token(2));
}

#[test]
fn force_delete_is_immediate() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    h.ok(
        "DeleteSecret",
        json!({"SecretId": "db", "ForceDeleteWithoutRecovery": true}),
    );
    let e = h.err("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(e.code, "ResourceNotFoundException");
    assert!(!h.everything_stored().contains("secret:db"));
}

#[test]
fn list_secrets_filters_sorts_and_pages() {
    let h = Harness::new();
    for (name, description, team) in [
        ("app/alpha", "Database password", "red"),
        ("app/beta", "api key", "blue"),
        ("other", "misc", "red"),
    ] {
        h.ok(
            "CreateSecret",
            json!({"Name": name, "SecretString": "x", "Description": description,
                   "Tags": [{"Key": "team", "Value": team}]}),
        );
    }
    let names = |out: &serde_json::Value| -> Vec<String> {
        out["SecretList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Name"].as_str().unwrap().to_owned())
            .collect()
    };
    let by = |key: &str, values: serde_json::Value| {
        names(&h.ok(
            "ListSecrets",
            json!({"Filters": [{"Key": key, "Values": values}], "SortBy": "name"}),
        ))
    };
    assert_eq!(by("name", json!(["app/"])), ["app/alpha", "app/beta"]);
    assert_eq!(by("name", json!(["App/"])), Vec::<String>::new());
    assert_eq!(by("description", json!(["DATABASE"])), ["app/alpha"]);
    assert_eq!(by("tag-value", json!(["red"])), ["app/alpha", "other"]);
    assert_eq!(by("tag-value", json!(["!red"])), ["app/beta"]);
    assert_eq!(by("all", json!(["API"])), ["app/beta"]);
    let page = h.ok(
        "ListSecrets",
        json!({"MaxResults": 2, "SortBy": "name", "SortOrder": "desc"}),
    );
    assert_eq!(names(&page), ["other", "app/beta"]);
    let rest = h.ok(
        "ListSecrets",
        json!({"MaxResults": 2, "SortBy": "name", "SortOrder": "desc",
               "NextToken": page["NextToken"]}),
    );
    assert_eq!(names(&rest), ["app/alpha"]);
    let e = h.err(
        "ListSecrets",
        json!({"Filters": [{"Key": "color", "Values": ["x"]}]}),
    );
    assert_eq!(e.code, "InvalidParameterException");
}

#[test]
fn tags_and_batch_reads() {
    let h = Harness::new();
    h.create("a", "one", &token(1));
    h.create("b", "two", &token(2));
    h.ok(
        "TagResource",
        json!({"SecretId": "a", "Tags": [{"Key": "env", "Value": "prod"}]}),
    );
    let described = h.ok("DescribeSecret", json!({"SecretId": "a"}));
    assert_eq!(described["Tags"], json!([{"Key": "env", "Value": "prod"}]));
    let e = h.err(
        "TagResource",
        json!({"SecretId": "a", "Tags": [{"Key": "aws:x", "Value": "y"}]}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    h.ok(
        "UntagResource",
        json!({"SecretId": "a", "TagKeys": ["env"]}),
    );
    assert!(
        h.ok("DescribeSecret", json!({"SecretId": "a"}))
            .get("Tags")
            .is_none()
    );
    let batch = h.ok(
        "BatchGetSecretValue",
        json!({"SecretIdList": ["a", "b", "missing"]}),
    );
    let values: Vec<&str> = batch["SecretValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["SecretString"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["one", "two"]);
    assert_eq!(batch["Errors"][0]["SecretId"], "missing");
    assert_eq!(batch["Errors"][0]["ErrorCode"], "ResourceNotFoundException");
    let filtered = h.ok(
        "BatchGetSecretValue",
        json!({"Filters": [{"Key": "name", "Values": ["b"]}]}),
    );
    assert_eq!(filtered["SecretValues"][0]["SecretString"], "two");
}

#[test]
fn update_secret_changes_value_description_and_key() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    let updated = h.ok(
        "UpdateSecret",
        json!({"SecretId": "db", "Description": "new", "SecretString": "two",
               "ClientRequestToken": token(2)}),
    );
    assert_eq!(updated["VersionId"], token(2));
    assert_eq!(h.value("db", "AWSCURRENT")["SecretString"], "two");
    assert_eq!(h.value("db", "AWSPREVIOUS")["SecretString"], "one");
    let described = h.ok("DescribeSecret", json!({"SecretId": "db"}));
    assert_eq!(described["Description"], "new");
    // A description alone makes no version.
    let only = h.ok(
        "UpdateSecret",
        json!({"SecretId": "db", "Description": "newer"}),
    );
    assert!(only.get("VersionId").is_none());
}

#[test]
fn resource_policies_are_kept_validated_and_blocked_when_public() {
    let h = Harness::new();
    h.create("db", "one", &token(1));
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let e = h.err(
        "PutResourcePolicy",
        json!({"SecretId": "db", "ResourcePolicy": public, "BlockPublicPolicy": true}),
    );
    assert_eq!(e.code, "PublicPolicyException");
    let validated = h.ok("ValidateResourcePolicy", json!({"ResourcePolicy": public}));
    assert_eq!(validated["PolicyValidationPassed"], false);
    let e = h.err(
        "PutResourcePolicy",
        json!({"SecretId": "db", "ResourcePolicy": "{not json"}),
    );
    assert_eq!(e.code, "MalformedPolicyDocumentException");
    let account = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    h.ok(
        "PutResourcePolicy",
        json!({"SecretId": "db", "ResourcePolicy": account, "BlockPublicPolicy": true}),
    );
    let got = h.ok("GetResourcePolicy", json!({"SecretId": "db"}));
    assert_eq!(got["ResourcePolicy"], account);
    h.ok("DeleteResourcePolicy", json!({"SecretId": "db"}));
    assert!(
        h.ok("GetResourcePolicy", json!({"SecretId": "db"}))
            .get("ResourcePolicy")
            .is_none()
    );
}
