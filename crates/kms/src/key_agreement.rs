//! DeriveSharedSecret: ECDH between a `KEY_AGREEMENT` key's private key and a peer's public
//! key. The shared secret is the raw ECDH result (the x-coordinate of the shared point), as
//! AWS returns it: callers run their own key derivation function over it.

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ECDH_P521, PrivateKey, UnparsedPublicKey};
use rampart_service::Env;
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto_symmetric::{decode, dry_run, encode, no_recipient, usable_key};
use crate::error::KmsError;
use crate::grants::check_tokens;
use crate::material;
use crate::spec::{Curve, KEY_AGREEMENT, KeySpec};

/// The one key agreement algorithm KMS offers.
pub(crate) const ECDH: &str = "ECDH";

/// The ECDH algorithm of a curve; secp256k1 keys cannot agree keys in KMS.
pub(crate) fn ecdh(curve: Curve) -> Option<&'static agreement::Algorithm> {
    match curve {
        Curve::P256 => Some(&ECDH_P256),
        Curve::P384 => Some(&ECDH_P384),
        Curve::P521 => Some(&ECDH_P521),
        Curve::Secp256k1 => None,
    }
}

/// DeriveSharedSecret's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeriveSharedSecretInput {
    key_id: String,
    key_agreement_algorithm: String,
    public_key: String,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
    recipient: Option<crate::crypto_symmetric::RecipientInfo>,
}

/// DeriveSharedSecret's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeriveSharedSecretOutput {
    key_id: String,
    shared_secret: String,
    key_agreement_algorithm: &'static str,
    key_origin: &'static str,
}

/// DeriveSharedSecret.
pub(crate) fn derive_shared_secret(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DeriveSharedSecretInput,
) -> Result<DeriveSharedSecretOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    no_recipient(input.recipient.as_ref())?;
    let (key, spec) = usable_key(env, tx, &input.key_id, KEY_AGREEMENT, "DeriveSharedSecret")?;
    let algorithm = match spec {
        KeySpec::Ecc(curve) => ecdh(curve),
        _ => None,
    }
    .ok_or_else(|| {
        KmsError::InvalidKeyUsage(format!(
            "{} key spec {} does not support key agreement.",
            key.arn, key.key_spec
        ))
    })?;
    if input.key_agreement_algorithm != ECDH {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} does not support key agreement algorithm {}.",
            key.arn, input.key_agreement_algorithm
        )));
    }
    let peer = decode(&input.public_key)?;
    dry_run(input.dry_run)?;
    let (_, der) = material::current(env, &key)?;
    let private = PrivateKey::from_private_key_der(algorithm, der.expose())
        .map_err(|_| KmsError::Internal)?;
    let invalid_peer = KmsError::Validation(format!(
        "PublicKey is not a DER-encoded SubjectPublicKeyInfo of a public key on the curve of {} ({}).",
        key.arn, key.key_spec
    ));
    let secret = agreement::agree(
        &private,
        UnparsedPublicKey::new(algorithm, peer.as_slice()),
        invalid_peer,
        |shared| Ok(Zeroizing::new(shared.to_vec())),
    )?;
    Ok(DeriveSharedSecretOutput {
        key_id: key.arn.clone(),
        shared_secret: encode(&secret),
        key_agreement_algorithm: ECDH,
        key_origin: key.origin.as_str(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use rampart_service::testing::TestEnv;
    use serde_json::json;

    use super::*;
    use crate::tests::{b64, create, r, unb64};
    use crate::{asymmetric, keys};

    #[test]
    fn both_sides_derive_the_same_secret() {
        let t = TestEnv::new();
        let key_id = create(
            &t,
            json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "KEY_AGREEMENT"}),
        );
        let meta = r(&t, keys::describe_key, json!({"KeyId": key_id})).unwrap();
        assert_eq!(
            meta["KeyMetadata"]["KeyAgreementAlgorithms"],
            json!(["ECDH"])
        );
        assert!(meta["KeyMetadata"].get("SigningAlgorithms").is_none());
        let kms_public = unb64(
            &r(&t, asymmetric::get_public_key, json!({"KeyId": key_id})).unwrap()["PublicKey"],
        );

        let peer = PrivateKey::generate(&ECDH_P384).unwrap();
        let peer_public: PublicKeyX509Der<'static> =
            peer.compute_public_key().unwrap().as_der().unwrap();
        let out = r(
            &t,
            derive_shared_secret,
            json!({"KeyId": key_id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": b64(peer_public.as_ref())}),
        )
        .unwrap();
        let ours = agreement::agree(
            &peer,
            UnparsedPublicKey::new(&ECDH_P384, kms_public.as_slice()),
            (),
            |s| Ok(s.to_vec()),
        )
        .unwrap();
        assert_eq!(unb64(&out["SharedSecret"]), ours);
        assert_eq!(out["KeyOrigin"], "AWS_KMS");

        // A public key of another curve is refused, and so is a signing key.
        let other = PrivateKey::generate(&ECDH_P256).unwrap();
        let other_public: PublicKeyX509Der<'static> =
            other.compute_public_key().unwrap().as_der().unwrap();
        let e = r(
            &t,
            derive_shared_secret,
            json!({"KeyId": key_id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": b64(other_public.as_ref())}),
        )
        .unwrap_err();
        assert!(matches!(e, KmsError::Validation(_)), "{e}");
        let signing = create(
            &t,
            json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "SIGN_VERIFY"}),
        );
        let e = r(
            &t,
            derive_shared_secret,
            json!({"KeyId": signing, "KeyAgreementAlgorithm": "ECDH", "PublicKey": b64(peer_public.as_ref())}),
        )
        .unwrap_err();
        assert!(matches!(e, KmsError::InvalidKeyUsage(_)), "{e}");
    }

    #[test]
    fn secp256k1_keys_do_not_agree_keys() {
        let t = TestEnv::new();
        let e = crate::tests::w(
            &t,
            keys::create_key,
            json!({"KeySpec": "ECC_SECG_P256K1", "KeyUsage": "KEY_AGREEMENT"}),
        )
        .unwrap_err();
        assert!(matches!(e, KmsError::Validation(_)), "{e}");
    }
}
