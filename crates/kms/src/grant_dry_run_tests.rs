//! `DryRun` on CreateGrant, RetireGrant and RevokeGrant: a request that would succeed answers
//! DryRunOperationException and changes nothing; a request that would fail answers its own
//! error; without `DryRun` the same requests do their work. (That a caller the key policy
//! refuses is refused before the handler runs, dry run or not, is the authorize step's:
//! tests/python/test_review_fixes.py replays it through the spine.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use rampart_service::testing::{ACCOUNT, TestEnv};
use serde_json::{Value, json};

use crate::error::KmsError;
use crate::grants;
use crate::tests::{create, r, w};

const DRY_RUN_MESSAGE: &str = "The request would have succeeded, but the DryRun option is set.";

fn grantee() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/alice")
}

fn grant_ids(t: &TestEnv, key: &str) -> Vec<String> {
    let listed = r(t, grants::list_grants, json!({"KeyId": key})).unwrap();
    listed["Grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GrantId"].as_str().unwrap().to_owned())
        .collect()
}

fn create_grant(t: &TestEnv, key: &str, extra: Value) -> Result<Value, KmsError> {
    let mut input = json!({"KeyId": key, "GranteePrincipal": grantee(),
                           "Operations": ["Encrypt", "RetireGrant"]});
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    w(t, grants::create_grant, input)
}

fn assert_dry_run(result: Result<Value, KmsError>) {
    match result {
        Err(KmsError::DryRun(message)) => assert_eq!(message, DRY_RUN_MESSAGE),
        other => panic!("expected DryRunOperationException, got {other:?}"),
    }
}

#[test]
fn a_dry_run_create_grant_makes_no_grant() {
    let t = TestEnv::new();
    let key = create(&t, json!({}));
    assert_dry_run(create_grant(&t, &key, json!({"DryRun": true})));
    assert!(grant_ids(&t, &key).is_empty());
    // A named dry run does not leave a grant a later request would find again either.
    assert_dry_run(create_grant(&t, &key, json!({"DryRun": true, "Name": "n"})));
    assert!(grant_ids(&t, &key).is_empty());
    // DryRun false, or absent, creates the grant.
    let made = create_grant(&t, &key, json!({"DryRun": false})).unwrap();
    assert_eq!(grant_ids(&t, &key), [made["GrantId"].as_str().unwrap()]);
}

#[test]
fn a_dry_run_create_grant_still_checks_its_parameters() {
    let t = TestEnv::new();
    let key = create(&t, json!({}));
    // Sign is no operation of a symmetric encryption key: the real call would fail.
    let refused = create_grant(&t, &key, json!({"DryRun": true, "Operations": ["Sign"]}));
    assert!(matches!(refused, Err(KmsError::Validation(m)) if m.contains("Sign")));
    let missing = w(
        &t,
        grants::create_grant,
        json!({"KeyId": "alias/none", "GranteePrincipal": grantee(),
               "Operations": ["Encrypt"], "DryRun": true}),
    );
    assert!(matches!(missing, Err(KmsError::NotFound(_))), "{missing:?}");
}

#[test]
fn a_dry_run_retire_grant_retires_nothing() {
    let t = TestEnv::new();
    let key = create(&t, json!({}));
    let made = create_grant(&t, &key, json!({})).unwrap();
    let id = made["GrantId"].as_str().unwrap().to_owned();
    let token = made["GrantToken"].as_str().unwrap().to_owned();
    assert_dry_run(w(
        &t,
        grants::retire_grant,
        json!({"GrantToken": token, "DryRun": true}),
    ));
    assert_dry_run(w(
        &t,
        grants::retire_grant,
        json!({"KeyId": key, "GrantId": id, "DryRun": true}),
    ));
    assert_eq!(grant_ids(&t, &key), [id.as_str()]);
    w(&t, grants::retire_grant, json!({"GrantToken": token})).unwrap();
    assert!(grant_ids(&t, &key).is_empty());
    // A grant that no longer exists is not found, dry run or not.
    let gone = w(
        &t,
        grants::retire_grant,
        json!({"KeyId": key, "GrantId": id, "DryRun": true}),
    );
    assert!(matches!(gone, Err(KmsError::NotFound(_))), "{gone:?}");
}

#[test]
fn a_dry_run_revoke_grant_revokes_nothing() {
    let t = TestEnv::new();
    let key = create(&t, json!({}));
    let made = create_grant(&t, &key, json!({})).unwrap();
    let id = made["GrantId"].as_str().unwrap().to_owned();
    let revoke = |dry_run: bool| {
        w(
            &t,
            grants::revoke_grant,
            json!({"KeyId": key, "GrantId": id, "DryRun": dry_run}),
        )
    };
    assert_dry_run(revoke(true));
    assert_eq!(grant_ids(&t, &key), [id.as_str()]);
    revoke(false).unwrap();
    assert!(grant_ids(&t, &key).is_empty());
    assert!(matches!(revoke(true), Err(KmsError::NotFound(_))));
}
