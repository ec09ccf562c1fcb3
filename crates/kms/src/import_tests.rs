//! Imported key material: keys of origin EXTERNAL from creation to expiry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPublicEncryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
};
use rampart_service::Value;
use rampart_service::testing::TestEnv;
use serde_json::json;
use time::Duration;

use crate::error::KmsError;
use crate::tests::{b64, create, r, unb64, w};
use crate::{asymmetric, crypto_symmetric, import, keys, rotation};

fn external(t: &TestEnv, extra: Value) -> String {
    let mut input = json!({"Origin": "EXTERNAL"});
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    create(t, input)
}

fn describe(t: &TestEnv, key_id: &str) -> Value {
    r(t, keys::describe_key, json!({"KeyId": key_id})).unwrap()["KeyMetadata"].clone()
}

/// GetParametersForImport's public key and token for `key_id`.
fn parameters(t: &TestEnv, key_id: &str, algorithm: &str) -> (PublicEncryptingKey, String) {
    let out = r(
        t,
        import::get_parameters_for_import,
        json!({"KeyId": key_id, "WrappingAlgorithm": algorithm, "WrappingKeySpec": "RSA_2048"}),
    )
    .unwrap();
    let public = PublicEncryptingKey::from_der(&unb64(&out["PublicKey"])).unwrap();
    (public, out["ImportToken"].as_str().unwrap().to_owned())
}

/// GetParametersForImport's refusal for `key_id` and `algorithm`.
fn refused_parameters(t: &TestEnv, key_id: &str, algorithm: &str) -> KmsError {
    r(
        t,
        import::get_parameters_for_import,
        json!({"KeyId": key_id, "WrappingAlgorithm": algorithm, "WrappingKeySpec": "RSA_2048"}),
    )
    .unwrap_err()
}

fn oaep_wrap(
    public: PublicEncryptingKey,
    algorithm: &'static OaepAlgorithm,
    secret: &[u8],
) -> Vec<u8> {
    let public = OaepPublicEncryptingKey::new(public).unwrap();
    let mut out = vec![0u8; public.ciphertext_size()];
    public
        .encrypt(algorithm, secret, &mut out, None)
        .unwrap()
        .to_vec()
}

/// RSA_AES_KEY_WRAP: an AES-256 key under RSA-OAEP, then the material under it (RFC 5649).
fn rsa_aes_wrap(
    public: PublicEncryptingKey,
    algorithm: &'static OaepAlgorithm,
    secret: &[u8],
) -> Vec<u8> {
    let aes = [7u8; 32];
    let mut out = oaep_wrap(public, algorithm, &aes);
    let mut wrapped = vec![0u8; secret.len() + 16];
    let len = AesKek::new(&AES_256, &aes)
        .unwrap()
        .wrap_with_padding(secret, &mut wrapped)
        .unwrap()
        .len();
    out.extend_from_slice(&wrapped[..len]);
    out
}

fn import(
    t: &TestEnv,
    key_id: &str,
    token: &str,
    wrapped: &[u8],
    expiry: Value,
) -> Result<Value, KmsError> {
    let mut input = json!({
        "KeyId": key_id,
        "ImportToken": token,
        "EncryptedKeyMaterial": b64(wrapped),
    });
    input
        .as_object_mut()
        .unwrap()
        .extend(expiry.as_object().unwrap().clone());
    w(t, import::import_key_material, input)
}

fn never() -> Value {
    json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
}

/// Imports `secret` into the symmetric key `key_id` with RSAES_OAEP_SHA_256.
fn import_symmetric(
    t: &TestEnv,
    key_id: &str,
    secret: &[u8],
    expiry: Value,
) -> Result<Value, KmsError> {
    let (public, token) = parameters(t, key_id, "RSAES_OAEP_SHA_256");
    import(
        t,
        key_id,
        &token,
        &oaep_wrap(public, &OAEP_SHA256_MGF1SHA256, secret),
        expiry,
    )
}

fn encrypt(t: &TestEnv, key_id: &str) -> Result<Value, KmsError> {
    r(
        t,
        crypto_symmetric::encrypt,
        json!({"KeyId": key_id, "Plaintext": b64(b"imported")}),
    )
}

fn code(e: KmsError) -> String {
    rampart_service::AwsError::from(e).code.to_string()
}

#[test]
fn an_external_key_waits_for_its_material_then_encrypts_with_it() {
    let t = TestEnv::new();
    let key_id = external(&t, json!({}));
    let before = describe(&t, &key_id);
    assert_eq!(before["Origin"], "EXTERNAL");
    assert_eq!(before["KeyState"], "PendingImport");
    assert_eq!(before["Enabled"], false);
    assert!(before.get("ExpirationModel").is_none());
    assert!(before.get("CurrentKeyMaterialId").is_none());
    let refused = encrypt(&t, &key_id).unwrap_err();
    assert!(
        refused.to_string().ends_with("is pending import."),
        "{refused}"
    );
    assert_eq!(code(refused), "KMSInvalidStateException");
    assert_eq!(
        code(w(&t, keys::enable_key, json!({"KeyId": key_id})).unwrap_err()),
        "KMSInvalidStateException"
    );

    let out = import_symmetric(&t, &key_id, &[42u8; 32], never()).unwrap();
    let material_id = out["KeyMaterialId"].as_str().unwrap().to_owned();
    assert_eq!(material_id.len(), 64);
    let after = describe(&t, &key_id);
    assert_eq!(after["KeyState"], "Enabled");
    assert_eq!(after["ExpirationModel"], "KEY_MATERIAL_DOES_NOT_EXPIRE");
    assert!(after.get("ValidTo").is_none());
    assert_eq!(after["CurrentKeyMaterialId"], material_id.as_str());

    let ciphertext = encrypt(&t, &key_id).unwrap()["CiphertextBlob"].clone();
    let plain = r(
        &t,
        crypto_symmetric::decrypt,
        json!({"CiphertextBlob": ciphertext}),
    )
    .unwrap();
    assert_eq!(unb64(&plain["Plaintext"]), b"imported");
}

#[test]
fn only_the_same_material_comes_back_after_deletion() {
    let t = TestEnv::new();
    let key_id = external(&t, json!({}));
    import_symmetric(&t, &key_id, &[1u8; 32], never()).unwrap();
    let ciphertext = encrypt(&t, &key_id).unwrap()["CiphertextBlob"].clone();

    let other = import_symmetric(&t, &key_id, &[2u8; 32], never()).unwrap_err();
    assert_eq!(code(other), "IncorrectKeyMaterialException");

    let deleted = w(
        &t,
        import::delete_imported_key_material,
        json!({"KeyId": key_id}),
    )
    .unwrap();
    assert_eq!(deleted["KeyMaterialId"].as_str().unwrap().len(), 64);
    assert_eq!(describe(&t, &key_id)["KeyState"], "PendingImport");
    let decrypt = || {
        r(
            &t,
            crypto_symmetric::decrypt,
            json!({"CiphertextBlob": ciphertext.clone()}),
        )
    };
    assert_eq!(code(decrypt().unwrap_err()), "KMSInvalidStateException");
    assert_eq!(
        code(import_symmetric(&t, &key_id, &[2u8; 32], never()).unwrap_err()),
        "IncorrectKeyMaterialException"
    );

    import_symmetric(&t, &key_id, &[1u8; 32], never()).unwrap();
    assert_eq!(describe(&t, &key_id)["KeyState"], "Enabled");
    assert_eq!(unb64(&decrypt().unwrap()["Plaintext"]), b"imported");
}

#[test]
fn material_is_gone_once_its_valid_to_passes() {
    let mut t = TestEnv::new();
    let key_id = external(&t, json!({}));
    let valid_to = rampart_service::aws_timestamp(t.now + Duration::hours(1));
    import_symmetric(
        &t,
        &key_id,
        &[3u8; 32],
        json!({"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": valid_to}),
    )
    .unwrap();
    let meta = describe(&t, &key_id);
    assert_eq!(meta["ExpirationModel"], "KEY_MATERIAL_EXPIRES");
    assert_eq!(meta["ValidTo"], valid_to.as_str());
    encrypt(&t, &key_id).unwrap();

    t.now += Duration::hours(2);
    assert_eq!(describe(&t, &key_id)["KeyState"], "PendingImport");
    assert_eq!(
        code(encrypt(&t, &key_id).unwrap_err()),
        "KMSInvalidStateException"
    );
    // Importing it again (here without expiry) brings the key back.
    import_symmetric(&t, &key_id, &[3u8; 32], never()).unwrap();
    encrypt(&t, &key_id).unwrap();
}

#[test]
fn expiry_terms_are_checked() {
    let t = TestEnv::new();
    let key_id = external(&t, json!({}));
    let cases = [
        json!({}),
        json!({"ExpirationModel": "KEY_MATERIAL_EXPIRES"}),
        json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE", "ValidTo": rampart_service::aws_timestamp(t.now + Duration::days(1))}),
        json!({"ValidTo": rampart_service::aws_timestamp(t.now - Duration::minutes(1))}),
        json!({"ValidTo": rampart_service::aws_timestamp(t.now + Duration::days(366))}),
    ];
    for expiry in cases {
        let e = import_symmetric(&t, &key_id, &[4u8; 32], expiry.clone()).unwrap_err();
        assert_eq!(code(e), "ValidationException", "{expiry}");
    }
    assert_eq!(describe(&t, &key_id)["KeyState"], "PendingImport");
}

#[test]
fn tokens_are_bound_to_their_key_and_their_day() {
    let mut t = TestEnv::new();
    let a = external(&t, json!({}));
    let b = external(&t, json!({}));
    let (public, token) = parameters(&t, &a, "RSAES_OAEP_SHA_1");
    let wrapped = oaep_wrap(public, &OAEP_SHA1_MGF1SHA1, &[5u8; 32]);
    let e = import(&t, &b, &token, &wrapped, never()).unwrap_err();
    assert_eq!(code(e), "InvalidImportTokenException");
    let e = import(&t, &a, "bm90IGEgdG9rZW4=", &wrapped, never()).unwrap_err();
    assert_eq!(code(e), "InvalidImportTokenException");
    // Material wrapped under another algorithm than the token's does not unwrap.
    let (public, token_sha256) = parameters(&t, &a, "RSAES_OAEP_SHA_256");
    let e = import(
        &t,
        &a,
        &token_sha256,
        &oaep_wrap(public, &OAEP_SHA1_MGF1SHA1, &[5u8; 32]),
        never(),
    )
    .unwrap_err();
    assert_eq!(code(e), "InvalidCiphertextException");

    t.now += Duration::hours(25);
    let e = import(&t, &a, &token, &wrapped, never()).unwrap_err();
    assert_eq!(code(e), "ExpiredImportTokenException");
}

#[test]
fn material_must_fit_the_key_spec() {
    let t = TestEnv::new();
    let key_id = external(&t, json!({}));
    let e = import_symmetric(&t, &key_id, &[6u8; 16], never()).unwrap_err();
    assert_eq!(code(e), "IncorrectKeyMaterialException");

    let hmac = external(
        &t,
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    );
    let e = import_symmetric(&t, &hmac, &[6u8; 31], never()).unwrap_err();
    assert_eq!(code(e), "IncorrectKeyMaterialException");
    let out = import_symmetric(&t, &hmac, &[6u8; 48], never()).unwrap();
    assert!(out.get("KeyMaterialId").is_none(), "{out}");

    let rsa = external(
        &t,
        json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}),
    );
    let e = refused_parameters(&t, &rsa, "RSAES_OAEP_SHA_256");
    assert_eq!(code(e), "ValidationException");
    let e = refused_parameters(&t, &key_id, "RSAES_PKCS1_V1_5");
    assert_eq!(code(e), "ValidationException");
}

#[test]
fn an_imported_ecc_key_signs_with_the_imported_private_key() {
    let t = TestEnv::new();
    let key_id = external(
        &t,
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
    );
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let (public, token) = parameters(&t, &key_id, "RSA_AES_KEY_WRAP_SHA_256");
    let wrapped = rsa_aes_wrap(public, &OAEP_SHA256_MGF1SHA256, pkcs8.as_ref());
    import(&t, &key_id, &token, &wrapped, never()).unwrap();

    let out = r(&t, asymmetric::get_public_key, json!({"KeyId": key_id})).unwrap();
    assert_eq!(
        unb64(&out["PublicKey"]),
        pair.public_key().as_der().unwrap().as_ref()
    );
    let signed = r(
        &t,
        asymmetric::sign,
        json!({"KeyId": key_id, "Message": b64(b"hello"), "SigningAlgorithm": "ECDSA_SHA_256"}),
    )
    .unwrap();
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref())
        .verify(b"hello", &unb64(&signed["Signature"]))
        .unwrap();

    // A private key of another curve is not material for this key.
    let other = external(
        &t,
        json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "SIGN_VERIFY"}),
    );
    let (public, token) = parameters(&t, &other, "RSA_AES_KEY_WRAP_SHA_1");
    let wrapped = rsa_aes_wrap(public, &OAEP_SHA1_MGF1SHA1, pkcs8.as_ref());
    let e = import(&t, &other, &token, &wrapped, never()).unwrap_err();
    assert_eq!(code(e), "IncorrectKeyMaterialException");
}

#[test]
fn import_operations_need_an_external_key_and_external_keys_do_not_rotate() {
    let t = TestEnv::new();
    let native = create(&t, json!({}));
    let e = refused_parameters(&t, &native, "RSAES_OAEP_SHA_256");
    assert!(e.to_string().contains("origin is AWS_KMS"), "{e}");
    assert_eq!(code(e), "UnsupportedOperationException");
    let e = w(
        &t,
        import::delete_imported_key_material,
        json!({"KeyId": native}),
    )
    .unwrap_err();
    assert_eq!(code(e), "UnsupportedOperationException");

    let key_id = external(&t, json!({}));
    import_symmetric(&t, &key_id, &[8u8; 32], never()).unwrap();
    let e = w(&t, rotation::enable_key_rotation, json!({"KeyId": key_id})).unwrap_err();
    assert_eq!(code(e), "UnsupportedOperationException");
    let status = r(
        &t,
        rotation::get_key_rotation_status,
        json!({"KeyId": key_id}),
    )
    .unwrap();
    assert_eq!(status["KeyRotationEnabled"], false);
}

#[test]
fn a_cancelled_deletion_leaves_a_key_without_material_pending_import() {
    let t = TestEnv::new();
    let key_id = external(&t, json!({}));
    w(
        &t,
        keys::schedule_key_deletion,
        json!({"KeyId": key_id, "PendingWindowInDays": 7}),
    )
    .unwrap();
    let e = refused_parameters(&t, &key_id, "RSAES_OAEP_SHA_256");
    assert_eq!(code(e), "KMSInvalidStateException");
    w(&t, keys::cancel_key_deletion, json!({"KeyId": key_id})).unwrap();
    assert_eq!(describe(&t, &key_id)["KeyState"], "PendingImport");
}

#[test]
fn all_key_material_lists_the_original_and_the_imported_material_with_its_state() {
    let t = TestEnv::new();
    let list = |key_id: &str, include: &str| {
        r(
            &t,
            rotation::list_key_rotations,
            json!({"KeyId": key_id, "IncludeKeyMaterial": include}),
        )
        .unwrap()["Rotations"]
            .as_array()
            .unwrap()
            .clone()
    };
    let native = create(&t, json!({}));
    w(&t, rotation::rotate_key_on_demand, json!({"KeyId": native})).unwrap();
    assert_eq!(list(&native, "ROTATIONS_ONLY").len(), 1);
    let all = list(&native, "ALL_KEY_MATERIAL");
    assert_eq!(all.len(), 2);
    assert!(all[0].get("RotationDate").is_none());
    assert_eq!(all[0]["KeyMaterialState"], "NON_CURRENT");
    assert_eq!(all[1]["RotationType"], "ON_DEMAND");
    assert_eq!(all[1]["KeyMaterialState"], "CURRENT");
    assert!(all[1].get("ImportState").is_none());

    let key_id = external(&t, json!({}));
    assert!(list(&key_id, "ALL_KEY_MATERIAL").is_empty());
    let id = import_symmetric(&t, &key_id, &[9u8; 32], never()).unwrap()["KeyMaterialId"].clone();
    let imported = list(&key_id, "ALL_KEY_MATERIAL");
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0]["KeyMaterialId"], id);
    assert_eq!(imported[0]["ImportState"], "IMPORTED");
    assert_eq!(imported[0]["KeyMaterialState"], "CURRENT");
    assert_eq!(
        imported[0]["ExpirationModel"],
        "KEY_MATERIAL_DOES_NOT_EXPIRE"
    );
    w(
        &t,
        import::delete_imported_key_material,
        json!({"KeyId": key_id}),
    )
    .unwrap();
    let pending = list(&key_id, "ALL_KEY_MATERIAL");
    assert_eq!(pending[0]["KeyMaterialId"], id);
    assert_eq!(pending[0]["ImportState"], "PENDING_IMPORT");
    assert!(pending[0].get("ExpirationModel").is_none());
    assert!(list(&key_id, "ROTATIONS_ONLY").is_empty());
}
