//! The versions AWS keeps: 100 a secret, the oldest unlabelled ones removed once they are 24
//! hours old, and a new version refused (LimitExceededException) when none can go.

use serde_json::json;
use time::Duration;

use super::{Harness, token};

/// Every version of `name`, oldest first.
fn versions(h: &Harness, name: &str) -> Vec<String> {
    let listed = h.ok(
        "ListSecretVersionIds",
        json!({"SecretId": name, "IncludeDeprecated": true, "MaxResults": 100}),
    );
    assert!(listed.get("NextToken").is_none());
    let mut ids: Vec<String> = listed["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VersionId"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    ids
}

fn put(h: &Harness, n: u32) -> Result<serde_json::Value, rampart_service::AwsError> {
    h.call(
        "PutSecretValue",
        json!({"SecretId": "db", "SecretString": format!("value {n}"), "ClientRequestToken": token(n)}),
    )
}

/// A secret `db` with 100 versions, `token(1)` to `token(100)`, all made at the harness's now.
fn full_secret() -> Harness {
    let h = Harness::new();
    h.create("db", "value 1", &token(1));
    for n in 2..=100 {
        put(&h, n).unwrap();
    }
    assert_eq!(versions(&h, "db").len(), 100);
    h
}

#[test]
fn a_version_beyond_the_quota_is_refused_while_the_unlabelled_ones_are_young() {
    let mut h = full_secret();
    let data_keys = |h: &Harness| {
        h.kms
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| *c == "GenerateDataKey")
            .count()
    };
    let before = data_keys(&h);
    // 23 hours 59 minutes on, every unlabelled version is still too young to remove.
    h.env.now += Duration::hours(24) - Duration::minutes(1);
    let refused = put(&h, 101).unwrap_err();
    assert_eq!(refused.code, "LimitExceededException");
    assert!(
        refused.message.contains("100 versions"),
        "{}",
        refused.message
    );
    assert_eq!(versions(&h, "db"), (1..=100).map(token).collect::<Vec<_>>());
    assert_eq!(h.value("db", "AWSCURRENT")["VersionId"], token(100));
    // Refused before KMS made a data key for it.
    assert_eq!(data_keys(&h), before);
    // UpdateSecret's new value is refused alike.
    let updated = h.err(
        "UpdateSecret",
        json!({"SecretId": "db", "SecretString": "other", "ClientRequestToken": token(102)}),
    );
    assert_eq!(updated.code, "LimitExceededException");
}

#[test]
fn the_oldest_unlabelled_version_goes_once_it_is_a_day_old_and_labelled_ones_stay() {
    let mut h = full_secret();
    // The oldest version carries a label of its own: never removed.
    h.ok(
        "UpdateSecretVersionStage",
        json!({"SecretId": "db", "VersionStage": "keep", "MoveToVersionId": token(1)}),
    );
    h.env.now += Duration::hours(24);
    let made = put(&h, 101).unwrap();
    assert_eq!(made["VersionStages"], json!(["AWSCURRENT"]));
    let kept = versions(&h, "db");
    assert_eq!(kept.len(), 100);
    assert_eq!(kept.first(), Some(&token(1)));
    assert!(
        !kept.contains(&token(2)),
        "the oldest unlabelled version is removed"
    );
    assert_eq!(kept.last(), Some(&token(101)));
    // Its value is gone from the store, not only from the listing.
    let e = h.err(
        "GetSecretValue",
        json!({"SecretId": "db", "VersionId": token(2)}),
    );
    assert_eq!(e.code, "ResourceNotFoundException");
    assert_eq!(
        h.ok(
            "GetSecretValue",
            json!({"SecretId": "db", "VersionId": token(1)})
        )["SecretString"],
        "value 1"
    );
    // The versions made since are young again: the next new one removes the next oldest.
    put(&h, 102).unwrap();
    assert!(!versions(&h, "db").contains(&token(3)));
}

#[test]
fn the_same_token_again_is_no_new_version_even_at_the_quota() {
    let h = full_secret();
    let again = put(&h, 100).unwrap();
    assert_eq!(again["VersionId"], token(100));
    assert_eq!(versions(&h, "db").len(), 100);
}
