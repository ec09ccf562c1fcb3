//! Handler tests, family by family, on a real store with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use rampart_service::{Env, Value};
use rampart_store::{ReadTx, WriteTx};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use time::Duration;

use crate::error::KmsError;
use crate::{
    aliases, asymmetric, authorization, crypto_symmetric, grants, keys, mac, policy, rotation, tags,
};
use rampart_service::testing::{ACCOUNT, TestEnv};

type W<I, O> = fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<O, KmsError>;
type R<I, O> = fn(&Env<'_>, &mut dyn ReadTx, I) -> Result<O, KmsError>;

pub(crate) fn w<I: DeserializeOwned + Send + 'static, O: Serialize + Send + 'static>(
    t: &TestEnv,
    h: W<I, O>,
    input: Value,
) -> Result<Value, KmsError> {
    let input: I = serde_json::from_value(input).unwrap();
    t.write(move |env, tx| h(env, tx, input))
        .map(|o| serde_json::to_value(o).unwrap())
}

pub(crate) fn r<I: DeserializeOwned, O: Serialize>(
    t: &TestEnv,
    h: R<I, O>,
    input: Value,
) -> Result<Value, KmsError> {
    let input: I = serde_json::from_value(input).unwrap();
    t.read(|env, tx| h(env, tx, input))
        .map(|o| serde_json::to_value(o).unwrap())
}

pub(crate) fn create(t: &TestEnv, input: Value) -> String {
    let out = w(t, keys::create_key, input).unwrap();
    out["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
}

pub(crate) fn b64(s: &[u8]) -> String {
    data_encoding::BASE64.encode(s)
}

pub(crate) fn unb64(v: &Value) -> Vec<u8> {
    data_encoding::BASE64
        .decode(v.as_str().unwrap().as_bytes())
        .unwrap()
}

#[test]
fn create_describe_list_and_lifecycle() {
    let mut t = TestEnv::new();
    let id = create(
        &t,
        json!({"Description": "d", "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    );
    let meta = r(&t, keys::describe_key, json!({"KeyId": id})).unwrap()["KeyMetadata"].clone();
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(meta["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(meta["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
    assert_eq!(
        meta["Arn"],
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}")
    );
    assert_eq!(meta["CurrentKeyMaterialId"].as_str().unwrap().len(), 64);
    let listed = r(&t, keys::list_keys, json!({})).unwrap();
    assert_eq!(listed["Keys"][0]["KeyId"], id.as_str());
    assert_eq!(listed["Truncated"], false);

    w(&t, keys::disable_key, json!({"KeyId": id})).unwrap();
    let e = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Disabled(_)), "{e:?}");
    w(&t, keys::enable_key, json!({"KeyId": id})).unwrap();

    let e = w(
        &t,
        keys::schedule_key_deletion,
        json!({"KeyId": id, "PendingWindowInDays": 3}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
    let out = w(
        &t,
        keys::schedule_key_deletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .unwrap();
    assert_eq!(out["KeyState"], "PendingDeletion");
    let e = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidState(_)), "{e:?}");
    let out = w(&t, keys::cancel_key_deletion, json!({"KeyId": id})).unwrap();
    assert!(out["KeyId"].as_str().unwrap().ends_with(&id));
    let meta = r(&t, keys::describe_key, json!({"KeyId": id})).unwrap()["KeyMetadata"].clone();
    assert_eq!(meta["KeyState"], "Disabled");

    // Deletion: gone at the date, purged by the next CreateKey.
    w(
        &t,
        keys::schedule_key_deletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .unwrap();
    t.now += Duration::days(7);
    let e = r(&t, keys::describe_key, json!({"KeyId": id})).unwrap_err();
    assert!(
        matches!(e, KmsError::NotFound(ref m) if m.contains("does not exist")),
        "{e:?}"
    );
    assert_eq!(
        r(&t, keys::list_keys, json!({})).unwrap()["Keys"],
        json!([])
    );
    create(&t, json!({}));
    let gone =
        t.read_infallible(|_, tx| crate::records::load_key(tx, ACCOUNT, "us-east-1", &id).unwrap());
    assert!(gone.is_none());
}

#[test]
fn key_specs_and_usages() {
    let t = TestEnv::new();
    let e = w(&t, keys::create_key, json!({"KeySpec": "HMAC_256"})).unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
    let e = w(
        &t,
        keys::create_key,
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "ENCRYPT_DECRYPT"}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
    let mrk = w(&t, keys::create_key, json!({"MultiRegion": true})).unwrap();
    let mrk_id = mrk["KeyMetadata"]["KeyId"].as_str().unwrap();
    assert!(mrk_id.starts_with("mrk-") && mrk_id.len() == 36, "{mrk_id}");
    assert!(mrk_id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    let e = w(
        &t,
        keys::create_key,
        json!({"MultiRegion": true, "Origin": "EXTERNAL"}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::UnsupportedOperation(_)));
    let e = w(&t, keys::create_key, json!({"Policy": "{"})).unwrap_err();
    assert!(matches!(e, KmsError::MalformedPolicyDocument(_)));
    let out = w(
        &t,
        keys::create_key,
        json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}),
    )
    .unwrap();
    assert_eq!(
        out["KeyMetadata"]["SigningAlgorithms"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn listing_pages_with_markers() {
    let t = TestEnv::new();
    for _ in 0..5 {
        create(&t, json!({}));
    }
    let first = r(&t, keys::list_keys, json!({"Limit": 2})).unwrap();
    assert_eq!(first["Keys"].as_array().unwrap().len(), 2);
    assert_eq!(first["Truncated"], true);
    let mut seen = 2;
    let mut marker = first["NextMarker"].as_str().unwrap().to_owned();
    loop {
        let page = r(&t, keys::list_keys, json!({"Limit": 2, "Marker": marker})).unwrap();
        seen += page["Keys"].as_array().unwrap().len();
        match page["NextMarker"].as_str() {
            Some(m) => marker = m.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    let e = r(&t, keys::list_keys, json!({"Marker": "bogus!"})).unwrap_err();
    assert!(matches!(e, KmsError::InvalidMarker(_)));
}

#[test]
fn aliases_name_keys_everywhere() {
    let t = TestEnv::new();
    let id = create(&t, json!({}));
    let other = create(&t, json!({}));
    w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/app", "TargetKeyId": id}),
    )
    .unwrap();
    let e = w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/app", "TargetKeyId": id}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::AlreadyExists(_)));
    let e = w(
        &t,
        aliases::create_alias,
        json!({"AliasName": "alias/aws/x", "TargetKeyId": id}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidAliasName(_)));
    let alias_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/app");
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}");
    for name in [
        "alias/app",
        alias_arn.as_str(),
        key_arn.as_str(),
        id.as_str(),
    ] {
        let meta = r(&t, keys::describe_key, json!({"KeyId": name})).unwrap();
        assert_eq!(meta["KeyMetadata"]["KeyId"], id.as_str(), "{name}");
    }
    let listed = r(&t, aliases::list_aliases, json!({"KeyId": id})).unwrap();
    assert_eq!(listed["Aliases"][0]["AliasName"], "alias/app");
    w(
        &t,
        aliases::update_alias,
        json!({"AliasName": "alias/app", "TargetKeyId": other}),
    )
    .unwrap();
    let meta = r(&t, keys::describe_key, json!({"KeyId": "alias/app"})).unwrap();
    assert_eq!(meta["KeyMetadata"]["KeyId"], other.as_str());
    w(&t, aliases::delete_alias, json!({"AliasName": "alias/app"})).unwrap();
    let e = r(&t, keys::describe_key, json!({"KeyId": "alias/app"})).unwrap_err();
    assert!(
        matches!(e, KmsError::NotFound(ref m) if m.contains("is not found")),
        "{e:?}"
    );
}

#[test]
fn tags_and_key_policies() {
    let t = TestEnv::new();
    let id = create(&t, json!({}));
    w(&t, tags::tag_resource, json!({"KeyId": id, "Tags": [{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}]})).unwrap();
    w(
        &t,
        tags::untag_resource,
        json!({"KeyId": id, "TagKeys": ["a"]}),
    )
    .unwrap();
    let listed = r(&t, tags::list_resource_tags, json!({"KeyId": id})).unwrap();
    assert_eq!(listed["Tags"], json!([{"TagKey": "b", "TagValue": "2"}]));
    let e = w(
        &t,
        tags::tag_resource,
        json!({"KeyId": id, "Tags": [{"TagKey": "aws:x", "TagValue": "1"}]}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Tag(_)));

    let p = r(&t, policy::get_key_policy, json!({"KeyId": id})).unwrap();
    assert!(
        p["Policy"]
            .as_str()
            .unwrap()
            .contains(&format!("arn:aws:iam::{ACCOUNT}:root"))
    );
    assert_eq!(
        r(&t, policy::list_key_policies, json!({"KeyId": id})).unwrap()["PolicyNames"],
        json!(["default"])
    );
    let e = w(&t, policy::put_key_policy, json!({"KeyId": id, "Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"})).unwrap_err();
    assert!(
        matches!(e, KmsError::MalformedPolicyDocument(_)),
        "a key policy needs a Principal: {e:?}"
    );
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"}, "Action": "kms:Encrypt", "Resource": "*"}]}).to_string();
    w(
        &t,
        policy::put_key_policy,
        json!({"KeyId": id, "Policy": doc}),
    )
    .unwrap();
    assert_eq!(
        r(
            &t,
            policy::get_key_policy,
            json!({"KeyId": id, "PolicyName": "default"})
        )
        .unwrap()["Policy"],
        doc.as_str()
    );
}

#[test]
fn symmetric_round_trips_bind_context_and_detect_tampering() {
    let t = TestEnv::new();
    let id = create(&t, json!({}));
    let ctx = json!({"purpose": "test", "tenant": "a"});
    let out = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"secret"), "EncryptionContext": ctx}),
    )
    .unwrap();
    let blob = out["CiphertextBlob"].as_str().unwrap().to_owned();
    // Decrypt needs no KeyId: the blob names its key.
    let plain = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": blob, "EncryptionContext": ctx}),
    )
    .unwrap();
    assert_eq!(unb64(&plain["Plaintext"]), b"secret");
    assert!(plain["KeyId"].as_str().unwrap().ends_with(&id));
    let e = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": blob, "EncryptionContext": {"purpose": "other"}}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidCiphertext(_)));
    let mut tampered = unb64(&json!(blob));
    *tampered.last_mut().unwrap() ^= 1;
    let e = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": b64(&tampered), "EncryptionContext": ctx}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidCiphertext(_)));
    let other = create(&t, json!({}));
    let e = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": blob, "EncryptionContext": ctx, "KeyId": other}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::IncorrectKey(_)));
    // ReEncrypt to the other key.
    let re = r(
        &t,
        crypto_symmetric::re_encrypt,
        json!({"CiphertextBlob": blob, "SourceEncryptionContext": ctx, "DestinationKeyId": other}),
    )
    .unwrap();
    let plain = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": re["CiphertextBlob"]}),
    )
    .unwrap();
    assert_eq!(unb64(&plain["Plaintext"]), b"secret");
    // Data keys.
    let dk = r(
        &t,
        crypto_symmetric::generate_data_key,
        json!({"KeyId": id, "KeySpec": "AES_256"}),
    )
    .unwrap();
    let back = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": dk["CiphertextBlob"]}),
    )
    .unwrap();
    assert_eq!(back["Plaintext"], dk["Plaintext"]);
    assert_eq!(unb64(&dk["Plaintext"]).len(), 32);
    let dk = r(
        &t,
        crypto_symmetric::generate_data_key_without_plaintext,
        json!({"KeyId": id, "NumberOfBytes": 16}),
    )
    .unwrap();
    assert!(dk.get("Plaintext").is_none());
    let e = r(
        &t,
        crypto_symmetric::generate_data_key,
        json!({"KeyId": id}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
    let random = r(
        &t,
        crypto_symmetric::generate_random,
        json!({"NumberOfBytes": 1024}),
    )
    .unwrap();
    assert_eq!(unb64(&random["Plaintext"]).len(), 1024);
    let e = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "GrantTokens": ["forged"]}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidGrantToken(_)));
}

#[test]
fn asymmetric_sign_verify_and_rsa_encryption() {
    let t = TestEnv::new();
    for (spec, alg) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
    ] {
        let id = create(&t, json!({"KeySpec": spec, "KeyUsage": "SIGN_VERIFY"}));
        let msg = b64(b"message");
        let sig = r(
            &t,
            asymmetric::sign,
            json!({"KeyId": id, "Message": msg, "SigningAlgorithm": alg}),
        )
        .unwrap();
        let ok = r(&t, asymmetric::verify, json!({"KeyId": id, "Message": msg, "SigningAlgorithm": alg, "Signature": sig["Signature"]})).unwrap();
        assert_eq!(ok["SignatureValid"], true, "{spec} {alg}");
        let e = r(&t, asymmetric::verify, json!({"KeyId": id, "Message": b64(b"other"), "SigningAlgorithm": alg, "Signature": sig["Signature"]})).unwrap_err();
        assert!(matches!(e, KmsError::InvalidSignature(_)), "{spec}");
        // DIGEST: the digest of the message verifies as the RAW signature did.
        let digest = match alg {
            a if a.ends_with("256") => {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"message")
            }
            a if a.ends_with("384") => {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, b"message")
            }
            _ => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"message"),
        };
        let ok = r(&t, asymmetric::verify, json!({"KeyId": id, "Message": b64(digest.as_ref()), "MessageType": "DIGEST", "SigningAlgorithm": alg, "Signature": sig["Signature"]})).unwrap();
        assert_eq!(ok["SignatureValid"], true);
        let pk = r(&t, asymmetric::get_public_key, json!({"KeyId": id})).unwrap();
        assert!(unb64(&pk["PublicKey"]).starts_with(&[0x30]));
    }
    let ec = create(
        &t,
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
    );
    let e = r(
        &t,
        asymmetric::sign,
        json!({"KeyId": ec, "Message": b64(b"m"), "SigningAlgorithm": "ECDSA_SHA_384"}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidKeyUsage(_)));
    let e = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": ec, "Plaintext": b64(b"m")}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidKeyUsage(_)));

    let rsa = create(
        &t,
        json!({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"}),
    );
    for alg in ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] {
        let c = r(
            &t,
            crypto_symmetric::encrypt,
            json!({"KeyId": rsa, "Plaintext": b64(b"hi"), "EncryptionAlgorithm": alg}),
        )
        .unwrap();
        let p = r(&t, crypto_symmetric::decrypt, json!({"KeyId": rsa, "CiphertextBlob": c["CiphertextBlob"], "EncryptionAlgorithm": alg})).unwrap();
        assert_eq!(unb64(&p["Plaintext"]), b"hi");
    }
    let sym = create(&t, json!({}));
    let e = r(&t, asymmetric::get_public_key, json!({"KeyId": sym})).unwrap_err();
    assert!(matches!(e, KmsError::UnsupportedOperation(_)));
    let pair = r(
        &t,
        asymmetric::generate_data_key_pair,
        json!({"KeyId": sym, "KeyPairSpec": "ECC_NIST_P256"}),
    )
    .unwrap();
    let back = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": pair["PrivateKeyCiphertextBlob"]}),
    )
    .unwrap();
    assert_eq!(back["Plaintext"], pair["PrivateKeyPlaintext"]);
}

#[test]
fn hmac_keys_generate_and_verify() {
    let t = TestEnv::new();
    let id = create(
        &t,
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    );
    let msg = b64(b"m");
    let out = r(
        &t,
        mac::generate_mac,
        json!({"KeyId": id, "Message": msg, "MacAlgorithm": "HMAC_SHA_256"}),
    )
    .unwrap();
    assert_eq!(unb64(&out["Mac"]).len(), 32);
    let ok = r(
        &t,
        mac::verify_mac,
        json!({"KeyId": id, "Message": msg, "MacAlgorithm": "HMAC_SHA_256", "Mac": out["Mac"]}),
    )
    .unwrap();
    assert_eq!(ok["MacValid"], true);
    let e = r(&t, mac::verify_mac, json!({"KeyId": id, "Message": b64(b"n"), "MacAlgorithm": "HMAC_SHA_256", "Mac": out["Mac"]})).unwrap_err();
    assert!(matches!(e, KmsError::InvalidMac(_)));
    let e = r(
        &t,
        mac::generate_mac,
        json!({"KeyId": id, "Message": msg, "MacAlgorithm": "HMAC_SHA_512"}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::InvalidKeyUsage(_)));
}

#[test]
fn grants_become_key_policy_statements() {
    let t = TestEnv::new();
    let id = create(&t, json!({}));
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let out = w(
        &t,
        grants::create_grant,
        json!({
            "KeyId": id, "GranteePrincipal": bob, "RetiringPrincipal": bob,
            "Operations": ["Decrypt", "Encrypt"],
            "Constraints": {"EncryptionContextEquals": {"app": "x"}},
            "Name": "g1"
        }),
    )
    .unwrap();
    let grant_id = out["GrantId"].as_str().unwrap().to_owned();
    let token = out["GrantToken"].as_str().unwrap().to_owned();
    // Same name and parameters: the same grant.
    let again = w(
        &t,
        grants::create_grant,
        json!({
            "KeyId": id, "GranteePrincipal": bob, "RetiringPrincipal": bob,
            "Operations": ["Decrypt", "Encrypt"],
            "Constraints": {"EncryptionContextEquals": {"app": "x"}}, "Name": "g1"
        }),
    )
    .unwrap();
    assert_eq!(again["GrantId"], grant_id.as_str());
    // Tokens Rampart issued are accepted.
    r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"x"), "GrantTokens": [token]}),
    )
    .unwrap();
    let listed = r(&t, grants::list_grants, json!({"KeyId": id})).unwrap();
    assert_eq!(listed["Grants"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["Grants"][0]["Constraints"],
        json!({"EncryptionContextEquals": {"app": "x"}})
    );
    let retirable = r(
        &t,
        grants::list_retirable_grants,
        json!({"RetiringPrincipal": bob}),
    )
    .unwrap();
    assert_eq!(retirable["Grants"][0]["GrantId"], grant_id.as_str());

    let doc = t.read_infallible(|env, tx| {
        let key = crate::resolve::find_key(tx, env, &id).unwrap();
        authorization::policy_with_grants(tx, &key, &bob, crate::grant_policy::GrantUse::Operation)
            .unwrap()
    });
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    let grant = &statements[1];
    // Only grants naming the caller add statements, so they name it as `*`.
    assert_eq!(grant["Principal"], "*");
    let alice = bob.replace("bob", "alice");
    let others = t.read_infallible(|env, tx| {
        let key = crate::resolve::find_key(tx, env, &id).unwrap();
        authorization::policy_with_grants(
            tx,
            &key,
            &alice,
            crate::grant_policy::GrantUse::Operation,
        )
        .unwrap()
    });
    let others: Value = serde_json::from_str(&others).unwrap();
    assert_eq!(others["Statement"].as_array().unwrap().len(), 1);
    // Retiring is for RetireGrant requests about this grant only (see grant_tests.rs).
    assert_eq!(grant["Action"], json!(["kms:Decrypt", "kms:Encrypt"]));
    assert_eq!(
        grant["Condition"]["StringEquals"]["kms:EncryptionContext:app"],
        "x"
    );
    assert_eq!(
        grant["Condition"]["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"],
        json!(["app"])
    );
    // The statement is a valid key policy statement for the engine.
    rampart_policy::Policy::parse_as(&doc.to_string(), rampart_policy::PolicyKind::KeyPolicy)
        .unwrap();
    // Others get nothing extra.
    let other = t.read_infallible(|env, tx| {
        let key = crate::resolve::find_key(tx, env, &id).unwrap();
        authorization::policy_with_grants(
            tx,
            &key,
            "arn:aws:iam::123456789012:user/eve",
            crate::grant_policy::GrantUse::Operation,
        )
        .unwrap()
    });
    assert!(!other.contains("Grant"));

    w(
        &t,
        grants::retire_grant,
        json!({"GrantToken": out["GrantToken"]}),
    )
    .unwrap();
    let e = w(
        &t,
        grants::revoke_grant,
        json!({"KeyId": id, "GrantId": grant_id}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::NotFound(_)));
    let e = w(
        &t,
        grants::create_grant,
        json!({"KeyId": id, "GranteePrincipal": bob, "Operations": ["Sign"]}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
}

#[test]
fn role_sessions_match_grants_to_their_role() {
    assert!(authorization::principal_matches(
        "arn:aws:iam::111122223333:role/path/app",
        "arn:aws:sts::111122223333:assumed-role/app/session"
    ));
    assert!(!authorization::principal_matches(
        "arn:aws:iam::111122223333:role/app",
        "arn:aws:sts::444455556666:assumed-role/app/session"
    ));
}

#[test]
fn condition_keys_come_from_the_request() {
    let t = TestEnv::new();
    let keys = t.with_env(|env| {
        authorization::condition_keys(env, &json!({"KeyId": "alias/x", "EncryptionContext": {"a": "b"}, "Operations": ["Decrypt"]}))
    });
    let get = |k: &str| keys.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("kms:CallerAccount"), Some(vec![ACCOUNT.to_owned()]));
    assert_eq!(get("kms:EncryptionContext:a"), Some(vec!["b".to_owned()]));
    assert_eq!(get("kms:EncryptionContextKeys"), Some(vec!["a".to_owned()]));
    assert_eq!(get("kms:RequestAlias"), Some(vec!["alias/x".to_owned()]));
    assert_eq!(get("kms:GrantOperations"), Some(vec!["Decrypt".to_owned()]));
}

#[test]
fn rotation_keeps_old_material_and_happens_by_itself() {
    let mut t = TestEnv::new();
    let id = create(&t, json!({}));
    let before = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"old")}),
    )
    .unwrap();
    let e = w(
        &t,
        rotation::enable_key_rotation,
        json!({"KeyId": id, "RotationPeriodInDays": 30}),
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::Validation(_)));
    w(
        &t,
        rotation::enable_key_rotation,
        json!({"KeyId": id, "RotationPeriodInDays": 90}),
    )
    .unwrap();
    let status = r(&t, rotation::get_key_rotation_status, json!({"KeyId": id})).unwrap();
    assert_eq!(status["KeyRotationEnabled"], true);
    assert_eq!(status["RotationPeriodInDays"], 90);

    w(&t, rotation::rotate_key_on_demand, json!({"KeyId": id})).unwrap();
    let after_on_demand = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"mid")}),
    )
    .unwrap();

    // 91 days later, with no write in between: reads already use the rotated material.
    t.now += Duration::days(91);
    let rotated = r(
        &t,
        crypto_symmetric::encrypt,
        json!({"KeyId": id, "Plaintext": b64(b"new")}),
    )
    .unwrap();
    let list = r(&t, rotation::list_key_rotations, json!({"KeyId": id})).unwrap();
    let rotations = list["Rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2);
    assert_eq!(rotations[0]["RotationType"], "ON_DEMAND");
    assert_eq!(rotations[1]["RotationType"], "AUTOMATIC");
    assert_eq!(rotations[1]["KeyMaterialState"], "CURRENT");
    // A write records the due rotation; the derived material is the same, so everything
    // encrypted before and after still decrypts.
    w(
        &t,
        keys::update_key_description,
        json!({"KeyId": id, "Description": "x"}),
    )
    .unwrap();
    for (blob, want) in [
        (&before, "old"),
        (&after_on_demand, "mid"),
        (&rotated, "new"),
    ] {
        let p = r(
            &t,
            crypto_symmetric::decrypt,
            json!({"CiphertextBlob": blob["CiphertextBlob"]}),
        )
        .unwrap();
        assert_eq!(unb64(&p["Plaintext"]), want.as_bytes());
    }
    let ids: Vec<Vec<u8>> = [&before, &after_on_demand, &rotated]
        .iter()
        .map(|b| unb64(&b["CiphertextBlob"])[49..81].to_vec())
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    let meta = r(&t, keys::describe_key, json!({"KeyId": id})).unwrap();
    assert_eq!(
        meta["KeyMetadata"]["CurrentKeyMaterialId"]
            .as_str()
            .unwrap(),
        data_encoding::HEXLOWER.encode(&ids[2])
    );
    let status = r(&t, rotation::get_key_rotation_status, json!({"KeyId": id})).unwrap();
    assert!(status["NextRotationDate"].as_str().is_some());
}
