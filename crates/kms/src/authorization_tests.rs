//! What the authorize step gets from KMS: targets (aliases resolved, one per key for
//! ReEncrypt and alias operations) and condition keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use rampart_service::{AuthorizationTarget, Value};
use serde_json::json;

use crate::authorization::{self, condition_keys};
use crate::tests::{b64, create, w};
use crate::{aliases, crypto_symmetric, tags};
use rampart_service::testing::{ACCOUNT, TestEnv};

type Lookup = fn(
    &rampart_service::Env<'_>,
    &mut dyn rampart_store::ReadTx,
    &Value,
) -> Result<Vec<AuthorizationTarget>, rampart_service::AwsError>;

fn targets(t: &TestEnv, lookup: Lookup, input: Value) -> Vec<AuthorizationTarget> {
    t.read_infallible(|env, tx| lookup(env, tx, &input))
        .unwrap()
}

fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}")
}

fn values<'a>(keys: &'a [(String, Vec<String>)], name: &str) -> Option<&'a [String]> {
    keys.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_slice())
}

#[test]
fn an_alias_is_authorized_as_its_key_with_the_key_policy_tags_and_facts() {
    let t = TestEnv::new();
    let id = create(
        &t,
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    );
    w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/mac", "TargetKeyId": id}),
    )
    .unwrap();
    w(
        &t,
        tags::tag_resource,
        json!({"KeyId": id, "Tags": [{"TagKey": "team", "TagValue": "red"}]}),
    )
    .unwrap();
    let found = targets(
        &t,
        authorization::key_targets,
        json!({"KeyId": "alias/mac"}),
    );
    assert_eq!(found.len(), 1);
    let target = &found[0];
    assert_eq!(target.action, None);
    assert_eq!(arns(&target.resources), [key_arn(&id)]);
    let policy = target.resource_policy.as_ref().unwrap();
    assert!(policy.must_allow && policy.account_id == ACCOUNT);
    assert_eq!(
        target.resources[0].tags,
        [("team".to_owned(), "red".to_owned())]
    );
    let keys = &target.resources[0].condition_keys;
    assert_eq!(
        values(keys, "kms:KeySpec"),
        Some(&["HMAC_256".to_owned()][..])
    );
    assert_eq!(
        values(keys, "kms:KeyUsage"),
        Some(&["GENERATE_VERIFY_MAC".to_owned()][..])
    );
    assert_eq!(
        values(keys, "kms:KeyOrigin"),
        Some(&["AWS_KMS".to_owned()][..])
    );
    assert_eq!(
        values(keys, "kms:ResourceAliases"),
        Some(&["alias/mac".to_owned()][..])
    );
    // The request's own keys say how it named the key.
    let request = t.with_env(|env| condition_keys(env, &json!({"KeyId": "alias/mac"})));
    assert_eq!(
        values(&request, "kms:RequestAlias"),
        Some(&["alias/mac".to_owned()][..])
    );
    assert_eq!(values(&request, "kms:ViaService"), None);
}

#[test]
fn a_missing_key_is_authorized_as_named_without_a_policy() {
    let t = TestEnv::new();
    let found = targets(
        &t,
        authorization::key_targets,
        json!({"KeyId": "alias/none"}),
    );
    assert_eq!(
        arns(&found[0].resources),
        [format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/none")]
    );
    assert!(found[0].resource_policy.is_none() && found[0].condition_keys.is_empty());
    let found = targets(&t, authorization::key_targets, json!({}));
    assert_eq!(arns(&found[0].resources), ["*"]);
}

#[test]
fn re_encrypt_is_authorized_from_the_source_and_to_the_destination() {
    let t = TestEnv::new();
    let source = create(&t, json!({}));
    let destination = create(&t, json!({}));
    let input = serde_json::from_value(json!({
        "KeyId": source, "Plaintext": b64(b"x"), "EncryptionContext": {"side": "from"}
    }))
    .unwrap();
    let blob = t
        .read(|env, tx| crypto_symmetric::encrypt(env, tx, input))
        .unwrap();
    let blob = serde_json::to_value(blob).unwrap()["CiphertextBlob"].clone();
    let found = targets(
        &t,
        authorization::re_encrypt_targets,
        json!({
            "CiphertextBlob": blob,
            "SourceEncryptionContext": {"side": "from"},
            "DestinationKeyId": destination,
            "DestinationEncryptionContext": {"side": "to", "extra": "1"},
        }),
    );
    assert_eq!(found.len(), 2);
    let (from, to) = (&found[0], &found[1]);
    assert_eq!(from.action, None);
    assert_eq!(arns(&from.resources), [key_arn(&source)]);
    assert_eq!(to.action, Some("kms:ReEncryptTo"));
    assert_eq!(arns(&to.resources), [key_arn(&destination)]);
    assert_eq!(
        values(&from.condition_keys, "kms:EncryptionContext:side"),
        Some(&["from".to_owned()][..])
    );
    assert_eq!(
        values(&from.condition_keys, "kms:EncryptionContext:extra"),
        None
    );
    assert_eq!(
        values(&to.condition_keys, "kms:EncryptionContext:side"),
        Some(&["to".to_owned()][..])
    );
    for target in [from, to] {
        assert_eq!(
            values(&target.condition_keys, "kms:ReEncryptOnSameKey"),
            Some(&["false".to_owned()][..])
        );
        assert!(target.resource_policy.is_some());
    }
    // The same key on both sides, named once by id and once by alias.
    w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/src", "TargetKeyId": source}),
    )
    .unwrap();
    let found = targets(
        &t,
        authorization::re_encrypt_targets,
        json!({"CiphertextBlob": blob, "DestinationKeyId": "alias/src"}),
    );
    assert_eq!(
        values(&found[1].condition_keys, "kms:ReEncryptOnSameKey"),
        Some(&["true".to_owned()][..])
    );
}

#[test]
fn alias_operations_are_authorized_on_the_alias_and_every_key_involved() {
    let t = TestEnv::new();
    let first = create(&t, json!({}));
    let second = create(&t, json!({}));
    let alias_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/app");
    let create_targets = targets(
        &t,
        authorization::create_alias_targets,
        json!({"AliasName": "alias/app", "TargetKeyId": first}),
    );
    let resources = |ts: &[AuthorizationTarget]| -> Vec<String> {
        ts.iter().flat_map(|t| arns(&t.resources)).collect()
    };
    assert_eq!(
        resources(&create_targets),
        [alias_arn.clone(), key_arn(&first)]
    );
    // The alias has no policy: identity policies decide; the key's policy must allow.
    assert!(create_targets[0].resource_policy.is_none());
    assert!(create_targets[1].resource_policy.is_some());
    w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/app", "TargetKeyId": first}),
    )
    .unwrap();
    let update = targets(
        &t,
        authorization::update_alias_targets,
        json!({"AliasName": "alias/app", "TargetKeyId": second}),
    );
    assert_eq!(
        resources(&update),
        [alias_arn.clone(), key_arn(&first), key_arn(&second)]
    );
    let delete = targets(
        &t,
        authorization::delete_alias_targets,
        json!({"AliasName": "alias/app"}),
    );
    assert_eq!(resources(&delete), [alias_arn, key_arn(&first)]);
}

#[test]
fn create_key_states_the_new_key_facts() {
    let t = TestEnv::new();
    let keys = t.with_env(|env| {
        authorization::create_key_condition_keys(
            env,
            &json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
        )
    });
    assert_eq!(
        values(&keys, "kms:KeySpec"),
        Some(&["ECC_NIST_P256".to_owned()][..])
    );
    assert_eq!(
        values(&keys, "kms:KeyUsage"),
        Some(&["SIGN_VERIFY".to_owned()][..])
    );
    assert_eq!(
        values(&keys, "kms:KeyOrigin"),
        Some(&["AWS_KMS".to_owned()][..])
    );
    assert_eq!(
        values(&keys, "kms:MultiRegion"),
        Some(&["false".to_owned()][..])
    );
}

#[test]
fn a_new_key_policy_must_let_the_caller_change_it_again_unless_bypassed() {
    let t = TestEnv::new();
    let id = create(&t, json!({}));
    let locked = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/nobody")},
        "Action": "kms:*", "Resource": "*"}]})
    .to_string();
    let found = targets(
        &t,
        authorization::put_key_policy_targets,
        json!({"KeyId": id, "Policy": locked}),
    );
    assert_eq!(found.len(), 2);
    let lockout = &found[1];
    assert_eq!(lockout.action, Some("kms:PutKeyPolicy"));
    assert_eq!(arns(&lockout.resources), [key_arn(&id)]);
    assert_eq!(
        lockout.resource_policy.as_ref().unwrap().document,
        locked.as_str()
    );
    assert_eq!(
        lockout.denial.as_ref().unwrap().code,
        "MalformedPolicyDocumentException"
    );
    let bypassed = targets(
        &t,
        authorization::put_key_policy_targets,
        json!({"KeyId": id, "Policy": locked, "BypassPolicyLockoutSafetyCheck": true}),
    );
    assert_eq!(bypassed.len(), 1);
    // A document that is no key policy is left to the handler's answer.
    let malformed = targets(
        &t,
        authorization::put_key_policy_targets,
        json!({"KeyId": id, "Policy": "{nope"}),
    );
    assert_eq!(malformed.len(), 1);
    // CreateKey checks the key it is about to make, under the id its handler will give it.
    let (found, made) = t.with_env(|env| {
        let found = t.read_infallible(|_, tx| {
            authorization::create_key_targets(env, tx, &json!({"Policy": locked})).unwrap()
        });
        (found, crate::keys::new_key_id(env, false))
    });
    assert_eq!(found.len(), 2);
    assert_eq!(arns(&found[1].resources), [key_arn(&made)]);
}

/// The ARNs of `resources`.
fn arns(resources: &[rampart_service::Resource]) -> Vec<String> {
    resources.iter().map(|r| r.arn.clone()).collect()
}
