//! GetFederationToken's session tags: they reach the federated user's session (whose
//! `aws:PrincipalTag/*` the spine makes of them), are checked as AssumeRole's are, count in
//! the packed policy size, and make the request need `sts:TagSession` as well.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{Caller, PrincipalKind};
use serde_json::{Value, json};

use crate::StsError;
use crate::session::Session;
use crate::session_token::{federation_targets, get_federation_token};

const USER_ARN: &str = "arn:aws:iam::123456789012:user/proxies/broker";

fn as_broker(t: &mut TestEnv) {
    t.caller = Caller {
        account_id: ACCOUNT.into(),
        arn: USER_ARN.into(),
        principal_id: "AIDABROKER".into(),
        kind: PrincipalKind::IamUser,
        user_name: Some("broker".into()),
        access_key_id: "AKIABROKER0000000000".into(),
    };
}

fn federate(t: &TestEnv, input: Value) -> Result<Value, StsError> {
    let input = serde_json::from_value(input).unwrap();
    t.read(|env, tx| get_federation_token(env, tx, input))
        .map(|out| serde_json::to_value(out).unwrap())
}

/// The session the answer's credentials stand for.
fn session_of(t: &TestEnv, out: &Value) -> Session {
    let credentials = &out["Credentials"];
    Session::open(
        &t.root_key,
        credentials["AccessKeyId"].as_str().unwrap(),
        credentials["SessionToken"].as_str().unwrap(),
        t.now.unix_timestamp(),
    )
    .unwrap()
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;

#[test]
fn session_tags_become_the_federated_sessions_tags() {
    let mut t = TestEnv::new();
    as_broker(&mut t);
    let out = federate(
        &t,
        json!({"Name": "carol", "Policy": POLICY,
               "Tags": tags(&[("Project", "apollo"), ("cost-center", "42")])}),
    )
    .unwrap();
    let session = session_of(&t, &out);
    assert_eq!(session.caller.kind, PrincipalKind::FederatedUser);
    assert_eq!(
        session.tags,
        [
            ("Project".to_owned(), "apollo".to_owned()),
            ("cost-center".to_owned(), "42".to_owned())
        ]
    );
    // None is transitive: a federated user cannot chain into a role.
    assert!(session.transitive_tag_keys.is_empty());
    // The tags count in the packed size: more than the policy alone.
    let untagged = federate(&t, json!({"Name": "carol", "Policy": POLICY})).unwrap();
    assert!(session_of(&t, &untagged).tags.is_empty());
    assert!(out["PackedPolicySize"].as_i64() > untagged["PackedPolicySize"].as_i64());
    // Tags alone (no session policy) still report a packed size.
    let tags_only = federate(&t, json!({"Name": "carol", "Tags": tags(&[("k", "v")])})).unwrap();
    assert_eq!(tags_only["PackedPolicySize"], 1);
}

#[test]
fn session_tags_are_checked_as_assume_roles_are() {
    let mut t = TestEnv::new();
    as_broker(&mut t);
    // Keys are one key whatever their case.
    let twice = federate(
        &t,
        json!({"Name": "carol", "Tags": tags(&[("Project", "a"), ("project", "b")])}),
    );
    assert!(
        matches!(&twice, Err(StsError::Validation(m)) if m.starts_with("Duplicate tag keys found")),
        "{twice:?}"
    );
    // At most 50.
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let refused = federate(&t, json!({"Name": "carol", "Tags": many[..51]}));
    assert!(
        matches!(&refused, Err(StsError::Validation(m)) if m.contains("less than or equal to 50")),
        "{refused:?}"
    );
    let fifty = federate(&t, json!({"Name": "carol", "Tags": many[..50]})).unwrap();
    assert_eq!(session_of(&t, &fifty).tags.len(), 50);
    // The packed policy limit applies with tags as without.
    let padding = "x".repeat(2100);
    let large = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{padding}","Effect":"Allow","Action":"kms:*","Resource":"*"}}]}}"#
    );
    let too_large = federate(
        &t,
        json!({"Name": "carol", "Policy": large, "Tags": tags(&[("k", "v")])}),
    );
    assert!(
        matches!(&too_large, Err(StsError::PackedPolicyTooLarge(m)) if m.contains("% of allotted space")),
        "{too_large:?}"
    );
}

#[test]
fn tags_make_the_request_need_tag_session_on_the_calling_user() {
    let mut t = TestEnv::new();
    as_broker(&mut t);
    let targets = |input: Value| t.read_infallible(|env, tx| federation_targets(env, tx, &input));
    let untagged = targets(json!({"Name": "carol"})).unwrap();
    assert_eq!(untagged.len(), 1);
    assert_eq!(untagged[0].action, None);
    assert_eq!(
        untagged[0].resources[0].arn,
        format!("arn:aws:sts::{ACCOUNT}:federated-user/carol")
    );
    // An empty list passes no tag.
    assert_eq!(
        targets(json!({"Name": "carol", "Tags": []})).unwrap().len(),
        1
    );
    let tagged = targets(json!({"Name": "carol", "Tags": tags(&[("Project", "apollo")])})).unwrap();
    assert_eq!(tagged.len(), 2);
    assert_eq!(tagged[0].action, None);
    assert_eq!(tagged[1].action, Some("sts:TagSession"));
    assert_eq!(tagged[1].resources[0].arn, USER_ARN);
    assert!(tagged.iter().all(|t| t.resource_policy.is_none()));
}
