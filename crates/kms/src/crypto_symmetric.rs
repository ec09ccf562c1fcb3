//! Symmetric cryptography: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom. Encrypt, Decrypt and ReEncrypt also
//! serve RSA encryption keys (RSAES-OAEP), through asymmetric.rs.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::KmsError;
use crate::grants::check_tokens;
use crate::records::{self, KeyRecord};
use crate::resolve::{find_key, require_enabled, require_usage};
use crate::spec::{ENCRYPT_DECRYPT, KeySpec, SYMMETRIC_DEFAULT, quota_class};
use crate::{asymmetric, blob, material, quotas};

/// Decodes a blob member; the wire layer already checked it is base64.
pub(crate) fn decode(b64: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    data_encoding::BASE64
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| KmsError::Validation("Base64 encoded value is invalid".to_owned()))
}

/// Encodes a blob member.
pub(crate) fn encode(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// DryRun: every check passed, nothing is done.
pub(crate) fn dry_run(requested: Option<bool>) -> Result<(), KmsError> {
    if requested == Some(true) {
        return Err(KmsError::DryRun(
            "The request would have succeeded, but the DryRun option is set.".to_owned(),
        ));
    }
    Ok(())
}

/// The `Recipient` of Decrypt, GenerateDataKey*, GenerateRandom and DeriveSharedSecret: an
/// attested Nitro enclave (the model's `RecipientInfo`). Only its presence is read: Rampart
/// refuses it.
#[derive(Debug, Deserialize)]
pub(crate) struct RecipientInfo {}

/// Recipient (Nitro Enclaves attestation) is not supported.
pub(crate) fn no_recipient(recipient: Option<&RecipientInfo>) -> Result<(), KmsError> {
    if recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Rampart does not support Recipient (attested enclaves)".to_owned(),
        ));
    }
    Ok(())
}

/// The key's spec; records hold only specs Rampart created.
pub(crate) fn spec_of(key: &KeyRecord) -> Result<KeySpec, KmsError> {
    KeySpec::parse(&key.key_spec).map_err(|_| KmsError::Internal)
}

/// Finds an enabled key with the usage `operation` needs, and counts the request against
/// the key type's quota.
pub(crate) fn usable_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    key_id: &str,
    usage: &str,
    operation: &str,
) -> Result<(KeyRecord, KeySpec), KmsError> {
    let key = find_key(tx, env, key_id)?;
    require_enabled(&key)?;
    require_usage(&key, usage, operation)?;
    let spec = spec_of(&key)?;
    quotas::charge(env, quota_class(spec))?;
    Ok((key, spec))
}

fn require_symmetric(key: &KeyRecord, spec: KeySpec, operation: &str) -> Result<(), KmsError> {
    if spec != KeySpec::Symmetric {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key spec {} is not valid for {operation}; use a symmetric encryption KMS key.",
            key.arn, key.key_spec
        )));
    }
    Ok(())
}

fn unsupported_algorithm(key: &KeyRecord, algorithm: &str) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "{} key spec {} does not support encryption algorithm {algorithm}.",
        key.arn, key.key_spec
    ))
}

/// Encrypts under the key's current material into Rampart's blob.
pub(crate) fn encrypt_symmetric(
    env: &Env<'_>,
    key: &KeyRecord,
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), KmsError> {
    let (material_id, secret) = material::current(env, key)?;
    let mut nonce = [0u8; 12];
    env.entropy.fill(&mut nonce);
    let header = blob::BlobHeader {
        account_id: key.account_id.clone(),
        key_id: key.key_id.clone(),
        material_id: material_id.clone(),
    };
    let ciphertext = blob::seal(&header, secret.expose(), nonce, context, plaintext)?;
    Ok((ciphertext, material_id))
}

/// Encrypts with `key` and `algorithm` (symmetric blob, or RSAES-OAEP).
fn encrypt_with(
    env: &Env<'_>,
    key: &KeyRecord,
    spec: KeySpec,
    algorithm: Option<&str>,
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, String, Option<String>), KmsError> {
    match spec {
        KeySpec::Symmetric => {
            let algorithm = algorithm.unwrap_or(SYMMETRIC_DEFAULT);
            if algorithm != SYMMETRIC_DEFAULT {
                return Err(unsupported_algorithm(key, algorithm));
            }
            let (blob, material) = encrypt_symmetric(env, key, context, plaintext)?;
            Ok((blob, algorithm.to_owned(), Some(material)))
        }
        _ => {
            let algorithm = algorithm.unwrap_or(SYMMETRIC_DEFAULT);
            if !spec
                .encryption_algorithms(&key.key_usage)
                .contains(&algorithm)
            {
                return Err(unsupported_algorithm(key, algorithm));
            }
            asymmetric::reject_context(context)?;
            let blob = asymmetric::rsa_encrypt(key, algorithm, plaintext)?;
            Ok((blob, algorithm.to_owned(), None))
        }
    }
}

/// A decryption's result: the key, the plaintext, the algorithm and (symmetric) material id.
type Decrypted = (KeyRecord, Zeroizing<Vec<u8>>, String, Option<String>);

/// Decrypts a ciphertext: with the key `key_id` names if given, else with the key the
/// (symmetric) blob names.
fn decrypt_with(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    key_id: Option<&str>,
    algorithm: Option<&str>,
    context: &BTreeMap<String, String>,
    ciphertext: &[u8],
    operation: &str,
) -> Result<Decrypted, KmsError> {
    let header = blob::parse_header(ciphertext);
    let key_id = match (key_id, &header) {
        (Some(k), _) => k.to_owned(),
        (None, Ok(h)) => records::key_arn(env.region, &h.account_id, &h.key_id),
        (None, Err(_)) => return Err(KmsError::InvalidCiphertext(String::new())),
    };
    let (key, spec) = usable_key(env, tx, &key_id, ENCRYPT_DECRYPT, operation)?;
    if spec != KeySpec::Symmetric {
        let algorithm = algorithm.unwrap_or(SYMMETRIC_DEFAULT);
        if !spec
            .encryption_algorithms(&key.key_usage)
            .contains(&algorithm)
        {
            return Err(unsupported_algorithm(&key, algorithm));
        }
        asymmetric::reject_context(context)?;
        let plain = asymmetric::rsa_decrypt(env, &key, algorithm, ciphertext)?;
        return Ok((key, plain, algorithm.to_owned(), None));
    }
    if let Some(a) = algorithm
        && a != SYMMETRIC_DEFAULT
    {
        return Err(unsupported_algorithm(&key, a));
    }
    let header = header?;
    if header.key_id != key.key_id || header.account_id != key.account_id {
        return Err(KmsError::IncorrectKey(
            "The key ID in the request does not identify a CMK that can perform this operation."
                .to_owned(),
        ));
    }
    let secret = material::by_id(env, &key, &header.material_id)?
        .ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?;
    let plain = blob::open(ciphertext, secret.expose(), context)?;
    Ok((
        key,
        plain,
        SYMMETRIC_DEFAULT.to_owned(),
        Some(header.material_id),
    ))
}

/// Encrypt's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptInput {
    key_id: String,
    plaintext: String,
    encryption_context: Option<BTreeMap<String, String>>,
    grant_tokens: Option<Vec<String>>,
    encryption_algorithm: Option<String>,
    dry_run: Option<bool>,
}

/// Encrypt's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptOutput {
    ciphertext_blob: String,
    key_id: String,
    encryption_algorithm: String,
}

/// Encrypt (at most 4,096 bytes, which the API model enforces).
pub(crate) fn encrypt(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: EncryptInput,
) -> Result<EncryptOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let (key, spec) = usable_key(env, tx, &input.key_id, ENCRYPT_DECRYPT, "Encrypt")?;
    let plaintext = decode(&input.plaintext)?;
    let context = input.encryption_context.unwrap_or_default();
    let (blob, algorithm, _) = encrypt_with(
        env,
        &key,
        spec,
        input.encryption_algorithm.as_deref(),
        &context,
        &plaintext,
    )?;
    dry_run(input.dry_run)?;
    Ok(EncryptOutput {
        ciphertext_blob: encode(&blob),
        key_id: key.arn,
        encryption_algorithm: algorithm,
    })
}

/// Decrypt's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptInput {
    ciphertext_blob: Option<String>,
    encryption_context: Option<BTreeMap<String, String>>,
    grant_tokens: Option<Vec<String>>,
    key_id: Option<String>,
    encryption_algorithm: Option<String>,
    recipient: Option<crate::crypto_symmetric::RecipientInfo>,
    dry_run: Option<bool>,
}

/// Decrypt's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptOutput {
    key_id: String,
    plaintext: String,
    encryption_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

fn required_blob(blob: Option<&str>) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    match blob {
        Some(b) => decode(b),
        None => Err(KmsError::Validation(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null".to_owned(),
        )),
    }
}

/// Decrypt.
pub(crate) fn decrypt(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DecryptInput,
) -> Result<DecryptOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    no_recipient(input.recipient.as_ref())?;
    let ciphertext = required_blob(input.ciphertext_blob.as_deref())?;
    let context = input.encryption_context.unwrap_or_default();
    let (key, plain, algorithm, material) = decrypt_with(
        env,
        tx,
        input.key_id.as_deref(),
        input.encryption_algorithm.as_deref(),
        &context,
        &ciphertext,
        "Decrypt",
    )?;
    dry_run(input.dry_run)?;
    Ok(DecryptOutput {
        key_id: key.arn,
        plaintext: encode(&plain),
        encryption_algorithm: algorithm,
        key_material_id: material,
    })
}

/// ReEncrypt's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncryptInput {
    ciphertext_blob: Option<String>,
    source_encryption_context: Option<BTreeMap<String, String>>,
    source_key_id: Option<String>,
    destination_key_id: String,
    destination_encryption_context: Option<BTreeMap<String, String>>,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

/// ReEncrypt's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncryptOutput {
    ciphertext_blob: String,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: String,
    destination_encryption_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_key_material_id: Option<String>,
}

/// ReEncrypt: decrypts and encrypts again inside Rampart; the plaintext never leaves.
pub(crate) fn re_encrypt(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ReEncryptInput,
) -> Result<ReEncryptOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let ciphertext = required_blob(input.ciphertext_blob.as_deref())?;
    let (source, plain, source_algorithm, source_material) = decrypt_with(
        env,
        tx,
        input.source_key_id.as_deref(),
        input.source_encryption_algorithm.as_deref(),
        &input.source_encryption_context.unwrap_or_default(),
        &ciphertext,
        "ReEncrypt",
    )?;
    let (dest, spec) = usable_key(
        env,
        tx,
        &input.destination_key_id,
        ENCRYPT_DECRYPT,
        "ReEncrypt",
    )?;
    let (blob, dest_algorithm, dest_material) = encrypt_with(
        env,
        &dest,
        spec,
        input.destination_encryption_algorithm.as_deref(),
        &input.destination_encryption_context.unwrap_or_default(),
        &plain,
    )?;
    dry_run(input.dry_run)?;
    Ok(ReEncryptOutput {
        ciphertext_blob: encode(&blob),
        source_key_id: source.arn,
        key_id: dest.arn,
        source_encryption_algorithm: source_algorithm,
        destination_encryption_algorithm: dest_algorithm,
        source_key_material_id: source_material,
        destination_key_material_id: dest_material,
    })
}

/// GenerateDataKey's and GenerateDataKeyWithoutPlaintext's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyInput {
    key_id: String,
    encryption_context: Option<BTreeMap<String, String>>,
    number_of_bytes: Option<i64>,
    key_spec: Option<String>,
    grant_tokens: Option<Vec<String>>,
    recipient: Option<crate::crypto_symmetric::RecipientInfo>,
    dry_run: Option<bool>,
}

/// GenerateDataKey's output (GenerateDataKeyWithoutPlaintext leaves `Plaintext` out).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyOutput {
    ciphertext_blob: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<String>,
    key_id: String,
    key_material_id: String,
}

fn data_key_length(number_of_bytes: Option<i64>, spec: Option<&str>) -> Result<usize, KmsError> {
    match (number_of_bytes, spec) {
        (Some(_), Some(_)) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".to_owned(),
        )),
        (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".to_owned(),
        )),
        (Some(n), None) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or_else(|| {
                KmsError::Validation(format!("NumberOfBytes {n} must be between 1 and 1024"))
            }),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(_)) => Ok(32),
    }
}

fn generate_data_key_inner(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyInput,
    operation: &str,
    with_plaintext: bool,
) -> Result<GenerateDataKeyOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    no_recipient(input.recipient.as_ref())?;
    let length = data_key_length(input.number_of_bytes, input.key_spec.as_deref())?;
    let (key, spec) = usable_key(env, tx, &input.key_id, ENCRYPT_DECRYPT, operation)?;
    require_symmetric(&key, spec, operation)?;
    let data_key = Zeroizing::new(env.random(length));
    let context = input.encryption_context.unwrap_or_default();
    let (blob, material) = encrypt_symmetric(env, &key, &context, &data_key)?;
    dry_run(input.dry_run)?;
    Ok(GenerateDataKeyOutput {
        ciphertext_blob: encode(&blob),
        plaintext: with_plaintext.then(|| encode(&data_key)),
        key_id: key.arn,
        key_material_id: material,
    })
}

/// GenerateDataKey.
pub(crate) fn generate_data_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyInput,
) -> Result<GenerateDataKeyOutput, KmsError> {
    generate_data_key_inner(env, tx, input, "GenerateDataKey", true)
}

/// GenerateDataKeyWithoutPlaintext.
pub(crate) fn generate_data_key_without_plaintext(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GenerateDataKeyInput,
) -> Result<GenerateDataKeyOutput, KmsError> {
    generate_data_key_inner(env, tx, input, "GenerateDataKeyWithoutPlaintext", false)
}

/// GenerateRandom's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandomInput {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
    recipient: Option<crate::crypto_symmetric::RecipientInfo>,
}

/// GenerateRandom's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandomOutput {
    plaintext: String,
}

/// GenerateRandom: 1–1,024 bytes from the OS generator.
pub(crate) fn generate_random(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: GenerateRandomInput,
) -> Result<GenerateRandomOutput, KmsError> {
    no_recipient(input.recipient.as_ref())?;
    if input.custom_key_store_id.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Rampart does not support custom key stores".to_owned(),
        ));
    }
    let Some(n) = input.number_of_bytes else {
        return Err(KmsError::Validation("NumberOfBytes is required".to_owned()));
    };
    let n = usize::try_from(n)
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| {
            KmsError::Validation(format!("NumberOfBytes {n} must be between 1 and 1024"))
        })?;
    quotas::charge(env, quotas::QuotaClass::Symmetric)?;
    Ok(GenerateRandomOutput {
        plaintext: encode(&env.random(n)),
    })
}
