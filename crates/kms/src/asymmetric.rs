//! Asymmetric keys: Sign, Verify, GetPublicKey, GenerateDataKeyPair,
//! GenerateDataKeyPairWithoutPlaintext, and RSAES-OAEP for Encrypt and Decrypt.

use std::collections::BTreeMap;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, RsaEncoding, UnparsedPublicKey, VerificationAlgorithm,
};
use rampart_service::Env;
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto_symmetric::{decode, dry_run, encode, encrypt_symmetric, spec_of, usable_key};
use crate::error::KmsError;
use crate::grants::check_tokens;
use crate::records::KeyRecord;
use crate::resolve::{find_key, require_enabled};
use crate::spec::{Curve, ENCRYPT_DECRYPT, KeySpec, SIGN_VERIFY, quota_class};
use crate::{material, quotas};

/// Encryption context is a symmetric-key feature.
pub(crate) fn reject_context(context: &BTreeMap<String, String>) -> Result<(), KmsError> {
    if !context.is_empty() {
        return Err(KmsError::Validation(
            "EncryptionContext is not supported with asymmetric KMS keys".to_owned(),
        ));
    }
    Ok(())
}

fn oaep(algorithm: &str) -> &'static OaepAlgorithm {
    if algorithm == "RSAES_OAEP_SHA_1" {
        &OAEP_SHA1_MGF1SHA1
    } else {
        &OAEP_SHA256_MGF1SHA256
    }
}

fn public_der(key: &KeyRecord) -> Result<Vec<u8>, KmsError> {
    let text = key.public_key.as_deref().ok_or(KmsError::Internal)?;
    data_encoding::BASE64
        .decode(text.as_bytes())
        .map_err(|_| KmsError::Internal)
}

fn private_der(env: &Env<'_>, key: &KeyRecord) -> Result<rampart_crypto::SecretBytes, KmsError> {
    let m = key.materials.last().ok_or(KmsError::Internal)?;
    material::open(env, key, m)
}

/// RSAES-OAEP encryption with the key's public key.
pub(crate) fn rsa_encrypt(
    key: &KeyRecord,
    algorithm: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let public =
        PublicEncryptingKey::from_der(&public_der(key)?).map_err(|_| KmsError::Internal)?;
    let public = OaepPublicEncryptingKey::new(public).map_err(|_| KmsError::Internal)?;
    let alg = oaep(algorithm);
    if plaintext.len() > public.max_plaintext_size(alg) {
        return Err(KmsError::Validation(format!(
            "Plaintext is too long for {algorithm} with key spec {} (at most {} bytes)",
            key.key_spec,
            public.max_plaintext_size(alg)
        )));
    }
    let mut out = vec![0u8; public.ciphertext_size()];
    let len = public
        .encrypt(alg, plaintext, &mut out, None)
        .map_err(|_| KmsError::Internal)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// RSAES-OAEP decryption; any failure is an InvalidCiphertextException, as AWS answers.
pub(crate) fn rsa_decrypt(
    env: &Env<'_>,
    key: &KeyRecord,
    algorithm: &str,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let der = private_der(env, key)?;
    let private = PrivateDecryptingKey::from_pkcs8(der.expose()).map_err(|_| KmsError::Internal)?;
    let private = OaepPrivateDecryptingKey::new(private).map_err(|_| KmsError::Internal)?;
    let mut out = Zeroizing::new(vec![0u8; private.min_output_size()]);
    let len = private
        .decrypt(oaep(algorithm), ciphertext, &mut out, None)
        .map_err(|_| KmsError::InvalidCiphertext(String::new()))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// How a signing algorithm signs and verifies.
enum Scheme {
    Rsa(&'static dyn RsaEncoding, &'static signature::RsaParameters),
    Ecdsa(
        &'static signature::EcdsaSigningAlgorithm,
        &'static signature::EcdsaVerificationAlgorithm,
    ),
}

fn scheme(spec: KeySpec, algorithm: &str) -> Option<(Scheme, &'static digest::Algorithm)> {
    use signature as s;
    Some(match (spec, algorithm) {
        (KeySpec::Rsa(_), "RSASSA_PSS_SHA_256") => (
            Scheme::Rsa(&s::RSA_PSS_SHA256, &s::RSA_PSS_2048_8192_SHA256),
            &digest::SHA256,
        ),
        (KeySpec::Rsa(_), "RSASSA_PSS_SHA_384") => (
            Scheme::Rsa(&s::RSA_PSS_SHA384, &s::RSA_PSS_2048_8192_SHA384),
            &digest::SHA384,
        ),
        (KeySpec::Rsa(_), "RSASSA_PSS_SHA_512") => (
            Scheme::Rsa(&s::RSA_PSS_SHA512, &s::RSA_PSS_2048_8192_SHA512),
            &digest::SHA512,
        ),
        (KeySpec::Rsa(_), "RSASSA_PKCS1_V1_5_SHA_256") => (
            Scheme::Rsa(&s::RSA_PKCS1_SHA256, &s::RSA_PKCS1_2048_8192_SHA256),
            &digest::SHA256,
        ),
        (KeySpec::Rsa(_), "RSASSA_PKCS1_V1_5_SHA_384") => (
            Scheme::Rsa(&s::RSA_PKCS1_SHA384, &s::RSA_PKCS1_2048_8192_SHA384),
            &digest::SHA384,
        ),
        (KeySpec::Rsa(_), "RSASSA_PKCS1_V1_5_SHA_512") => (
            Scheme::Rsa(&s::RSA_PKCS1_SHA512, &s::RSA_PKCS1_2048_8192_SHA512),
            &digest::SHA512,
        ),
        (KeySpec::Ecc(Curve::P256), "ECDSA_SHA_256") => (
            Scheme::Ecdsa(
                &s::ECDSA_P256_SHA256_ASN1_SIGNING,
                &s::ECDSA_P256_SHA256_ASN1,
            ),
            &digest::SHA256,
        ),
        (KeySpec::Ecc(Curve::P384), "ECDSA_SHA_384") => (
            Scheme::Ecdsa(
                &s::ECDSA_P384_SHA384_ASN1_SIGNING,
                &s::ECDSA_P384_SHA384_ASN1,
            ),
            &digest::SHA384,
        ),
        (KeySpec::Ecc(Curve::P521), "ECDSA_SHA_512") => (
            Scheme::Ecdsa(
                &s::ECDSA_P521_SHA512_ASN1_SIGNING,
                &s::ECDSA_P521_SHA512_ASN1,
            ),
            &digest::SHA512,
        ),
        (KeySpec::Ecc(Curve::Secp256k1), "ECDSA_SHA_256") => (
            Scheme::Ecdsa(
                &s::ECDSA_P256K1_SHA256_ASN1_SIGNING,
                &s::ECDSA_P256K1_SHA256_ASN1,
            ),
            &digest::SHA256,
        ),
        _ => return None,
    })
}

/// Sign's and Verify's common checks: an enabled signing key, an algorithm it supports, a
/// message type Rampart handles, and for DIGEST a digest of the algorithm's length.
fn signing_setup(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    key_id: &str,
    algorithm: &str,
    message_type: Option<&str>,
    message: &[u8],
    operation: &str,
) -> Result<(KeyRecord, Scheme, Option<Digest>), KmsError> {
    let (key, spec) = usable_key(env, tx, key_id, SIGN_VERIFY, operation)?;
    let Some((scheme, digest_alg)) = scheme(spec, algorithm) else {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key spec {} does not support signing algorithm {algorithm}.",
            key.arn, key.key_spec
        )));
    };
    let digest = match message_type.unwrap_or("RAW") {
        "RAW" => None,
        "DIGEST" => Some(Digest::import_less_safe(message, digest_alg).map_err(|_| {
            KmsError::Validation(format!(
                "Digest is invalid length for algorithm {algorithm}."
            ))
        })?),
        other => {
            return Err(KmsError::UnsupportedOperation(format!(
                "Rampart does not support MessageType {other}"
            )));
        }
    };
    Ok((key, scheme, digest))
}

/// Sign's and Verify's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignInput {
    key_id: String,
    message: String,
    message_type: Option<String>,
    grant_tokens: Option<Vec<String>>,
    signing_algorithm: String,
    signature: Option<String>,
    dry_run: Option<bool>,
}

/// Sign's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignOutput {
    key_id: String,
    signature: String,
    signing_algorithm: String,
}

/// Sign: DER-encoded ECDSA signatures, PSS with a salt as long as the digest.
pub(crate) fn sign(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: SignInput,
) -> Result<SignOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let message = decode(&input.message)?;
    let (key, scheme, digest) = signing_setup(
        env,
        tx,
        &input.key_id,
        &input.signing_algorithm,
        input.message_type.as_deref(),
        &message,
        "Sign",
    )?;
    let der = private_der(env, &key)?;
    let failed = |_| {
        tracing::error!("signing failed in aws-lc");
        KmsError::Internal
    };
    let signature = match scheme {
        Scheme::Rsa(encoding, _) => {
            let pair =
                signature::RsaKeyPair::from_pkcs8(der.expose()).map_err(|_| KmsError::Internal)?;
            let mut out = vec![0u8; pair.public_modulus_len()];
            match &digest {
                Some(d) => pair.sign_digest(encoding, d, &mut out).map_err(failed)?,
                None => pair
                    .sign(encoding, &SystemRandom::new(), &message, &mut out)
                    .map_err(failed)?,
            }
            out
        }
        Scheme::Ecdsa(alg, _) => {
            let pair =
                EcdsaKeyPair::from_pkcs8(alg, der.expose()).map_err(|_| KmsError::Internal)?;
            let sig = match &digest {
                Some(d) => pair.sign_digest(d).map_err(failed)?,
                None => pair.sign(&SystemRandom::new(), &message).map_err(failed)?,
            };
            sig.as_ref().to_vec()
        }
    };
    dry_run(input.dry_run)?;
    Ok(SignOutput {
        key_id: key.arn,
        signature: encode(&signature),
        signing_algorithm: input.signing_algorithm,
    })
}

/// Verify's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyOutput {
    key_id: String,
    signature_valid: bool,
    signing_algorithm: String,
}

/// Verify: a signature that does not verify is a KMSInvalidSignatureException.
pub(crate) fn verify(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: SignInput,
) -> Result<VerifyOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let message = decode(&input.message)?;
    let signature = decode(input.signature.as_deref().unwrap_or_default())?;
    let (key, scheme, digest) = signing_setup(
        env,
        tx,
        &input.key_id,
        &input.signing_algorithm,
        input.message_type.as_deref(),
        &message,
        "Verify",
    )?;
    let public = public_der(&key)?;
    let algorithm: &'static dyn VerificationAlgorithm = match scheme {
        Scheme::Rsa(_, params) => params,
        Scheme::Ecdsa(_, verification) => verification,
    };
    let verifier = UnparsedPublicKey::new(algorithm, &public);
    let valid = match &digest {
        Some(d) => verifier.verify_digest(d, &signature),
        None => verifier.verify(&message, &signature),
    }
    .is_ok();
    if !valid {
        return Err(KmsError::InvalidSignature(String::new()));
    }
    dry_run(input.dry_run)?;
    Ok(VerifyOutput {
        key_id: key.arn,
        signature_valid: true,
        signing_algorithm: input.signing_algorithm,
    })
}

/// GetPublicKey's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetPublicKeyInput {
    key_id: String,
    grant_tokens: Option<Vec<String>>,
}

/// GetPublicKey's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetPublicKeyOutput {
    key_id: String,
    public_key: String,
    customer_master_key_spec: String,
    key_spec: String,
    key_usage: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    encryption_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signing_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    key_agreement_algorithms: Vec<&'static str>,
}

/// GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key.
pub(crate) fn get_public_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetPublicKeyInput,
) -> Result<GetPublicKeyOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let key = find_key(tx, env, &input.key_id)?;
    require_enabled(&key)?;
    let spec = spec_of(&key)?;
    if matches!(spec, KeySpec::Symmetric | KeySpec::Hmac(_)) {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} key spec {} is not valid for GetPublicKey.",
            key.arn, key.key_spec
        )));
    }
    quotas::charge(env, quota_class(spec))?;
    Ok(GetPublicKeyOutput {
        public_key: encode(&public_der(&key)?),
        customer_master_key_spec: key.key_spec.clone(),
        key_spec: key.key_spec.clone(),
        encryption_algorithms: spec.encryption_algorithms(&key.key_usage),
        signing_algorithms: spec.signing_algorithms(&key.key_usage),
        key_agreement_algorithms: spec.key_agreement_algorithms(&key.key_usage),
        key_usage: key.key_usage,
        key_id: key.arn,
    })
}

/// GenerateDataKeyPair's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyPairInput {
    key_id: String,
    encryption_context: Option<BTreeMap<String, String>>,
    key_pair_spec: String,
    grant_tokens: Option<Vec<String>>,
    recipient: Option<crate::crypto_symmetric::RecipientInfo>,
    dry_run: Option<bool>,
}

/// GenerateDataKeyPair's output (the WithoutPlaintext variant leaves the private key out).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyPairOutput {
    private_key_ciphertext_blob: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_plaintext: Option<String>,
    public_key: String,
    key_id: String,
    key_pair_spec: String,
    key_material_id: String,
}

fn generate_pair(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyPairInput,
    operation: &str,
    with_plaintext: bool,
) -> Result<GenerateDataKeyPairOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    crate::crypto_symmetric::no_recipient(input.recipient.as_ref())?;
    let pair_spec = match KeySpec::parse(&input.key_pair_spec)? {
        s @ (KeySpec::Rsa(_) | KeySpec::Ecc(_)) => s,
        _ => {
            return Err(KmsError::UnsupportedOperation(format!(
                "Rampart does not support KeyPairSpec {}",
                input.key_pair_spec
            )));
        }
    };
    let (key, spec) = usable_key(env, tx, &input.key_id, ENCRYPT_DECRYPT, operation)?;
    if spec != KeySpec::Symmetric {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key spec {} is not valid for {operation}; use a symmetric encryption KMS key.",
            key.arn, key.key_spec
        )));
    }
    let pair = material::generate(env, pair_spec)?;
    let public = pair.public_key.as_deref().ok_or(KmsError::Internal)?;
    let context = input.encryption_context.unwrap_or_default();
    let (blob, material_id) = encrypt_symmetric(env, &key, &context, &pair.secret)?;
    dry_run(input.dry_run)?;
    Ok(GenerateDataKeyPairOutput {
        private_key_ciphertext_blob: encode(&blob),
        private_key_plaintext: with_plaintext.then(|| encode(&pair.secret)),
        public_key: encode(public),
        key_id: key.arn,
        key_pair_spec: input.key_pair_spec,
        key_material_id: material_id,
    })
}

/// GenerateDataKeyPair.
pub(crate) fn generate_data_key_pair(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyPairInput,
) -> Result<GenerateDataKeyPairOutput, KmsError> {
    generate_pair(env, tx, input, "GenerateDataKeyPair", true)
}

/// GenerateDataKeyPairWithoutPlaintext.
pub(crate) fn generate_data_key_pair_without_plaintext(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyPairInput,
) -> Result<GenerateDataKeyPairOutput, KmsError> {
    generate_pair(env, tx, input, "GenerateDataKeyPairWithoutPlaintext", false)
}
