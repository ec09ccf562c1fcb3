//! SecureString values, encrypted and decrypted by KMS through the spine on the caller's
//! behalf, as Parameter Store does it (AWS KMS Developer Guide, "How AWS Systems Manager
//! Parameter Store uses AWS KMS"):
//!
//! - a standard parameter's value (at most 4096 bytes) is encrypted directly under the KMS key
//!   with `Encrypt`, and decrypted with `Decrypt`;
//! - an advanced parameter's value is encrypted under a data key from `GenerateDataKey`
//!   (envelope encryption); the data key's ciphertext is kept beside the value and decrypted
//!   with `Decrypt` when the value is read;
//! - both with the encryption context `{"PARAMETER_ARN": <the parameter's ARN>}`, so a
//!   ciphertext cannot be moved to another parameter, and a key policy can name parameters
//!   (`kms:EncryptionContext:PARAMETER_ARN`);
//! - without a `KeyId`, under the AWS managed key `alias/aws/ssm`, which KMS makes on first use.
//!
//! The calls are KMS's own operations: the spine authorizes them with the caller's identity
//! and the key policy, under `kms:ViaService = ssm.<region>.amazonaws.com`, and records them
//! with `invokedBy: ssm.amazonaws.com`. KMS's errors come back as Parameter Store passes them
//! on: `InvalidKeyId` for a key it cannot use, `AccessDeniedException` when the caller may not
//! use the key, each with KMS's message and AWS's `(Service: AWSKMS; …)` suffix.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use data_encoding::BASE64;
use rampart_service::{AwsError, CallPrincipal, Env, ServiceCall, Value};
use rampart_store::{ReadTx, WriteTx};
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::SsmError;
use crate::records::{StoredValue, Tier};

/// The AWS managed key Parameter Store encrypts with when the request names none.
pub(crate) const DEFAULT_KEY: &str = "alias/aws/ssm";
/// The encryption context's one key.
const CONTEXT_KEY: &str = "PARAMETER_ARN";

fn context(arn: &str) -> Value {
    json!({ CONTEXT_KEY: arn })
}

/// Whether `key_id` names the AWS managed key (by alias name or alias ARN).
fn is_default_key(key_id: &str) -> bool {
    key_id == DEFAULT_KEY || key_id.ends_with(":alias/aws/ssm")
}

/// KMS's error as Parameter Store answers it.
fn from_kms(env: &Env<'_>, e: AwsError) -> SsmError {
    let message = format!(
        "{} (Service: AWSKMS; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
        e.message, e.status, e.code, env.request_id
    );
    match e.code.as_ref() {
        "AccessDeniedException" => SsmError::AccessDenied(message),
        "NotFoundException"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "InvalidKeyUsageException"
        | "InvalidArnException"
        | "IncorrectKeyException"
        | "InvalidCiphertextException"
        | "ValidationException"
        | "NotImplemented" => SsmError::InvalidKeyId(message),
        _ => SsmError::Kms(AwsError::new(e.code.clone(), e.status, message)),
    }
}

fn unexpected(what: &str) -> SsmError {
    SsmError::Kms(AwsError::new(
        "InternalServerError",
        500,
        format!("KMS answered {what} without what Parameter Store needs"),
    ))
}

fn blob(output: &Value, member: &str) -> Result<Zeroizing<Vec<u8>>, SsmError> {
    let text = output
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| unexpected(member))?;
    BASE64
        .decode(text.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| unexpected(member))
}

/// Encrypts `value` for the parameter `arn` of tier `tier` under `key_id` (the AWS managed key
/// when `None`, made on first use), in the caller's transaction. Returns what to keep and the
/// key as DescribeParameters names it.
pub(crate) fn seal(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    key_id: Option<&str>,
    arn: &str,
    tier: Tier,
    value: &str,
) -> Result<(StoredValue, String), SsmError> {
    let key_id = key_id.unwrap_or(DEFAULT_KEY);
    if is_default_key(key_id) {
        env.calls
            .call_write(tx, call(env, "AwsManagedKey", json!({"Service": "ssm"})))
            .map_err(|e| from_kms(env, e))?;
    }
    let stored = match tier {
        Tier::Standard => {
            let input = json!({
                "KeyId": key_id,
                "Plaintext": BASE64.encode(value.as_bytes()),
                "EncryptionContext": context(arn),
            });
            let output = env
                .calls
                .call_write(tx, call(env, "Encrypt", input))
                .map_err(|e| from_kms(env, e))?;
            let ciphertext = output
                .get("CiphertextBlob")
                .and_then(Value::as_str)
                .ok_or_else(|| unexpected("Encrypt"))?
                .to_owned();
            StoredValue::Kms { ciphertext }
        }
        Tier::Advanced => {
            let input = json!({
                "KeyId": key_id,
                "KeySpec": "AES_256",
                "EncryptionContext": context(arn),
            });
            let output = env
                .calls
                .call_write(tx, call(env, "GenerateDataKey", input))
                .map_err(|e| from_kms(env, e))?;
            let data_key = output
                .get("CiphertextBlob")
                .and_then(Value::as_str)
                .ok_or_else(|| unexpected("GenerateDataKey"))?
                .to_owned();
            let plaintext_key = blob(&output, "Plaintext")?;
            let nonce = env.random(NONCE_LEN);
            let sealed = seal_locally(&plaintext_key, &nonce, arn, value.as_bytes())?;
            StoredValue::Envelope {
                data_key,
                sealed: BASE64.encode(&sealed),
            }
        }
    };
    Ok((stored, key_id.to_owned()))
}

/// Decrypts a SecureString version of the parameter `arn`, on the caller's snapshot.
pub(crate) fn open(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    arn: &str,
    stored: &StoredValue,
) -> Result<String, SsmError> {
    let plaintext = match stored {
        StoredValue::Plain { value } => return Ok(value.clone()),
        StoredValue::Kms { ciphertext } => {
            let input = json!({"CiphertextBlob": ciphertext, "EncryptionContext": context(arn)});
            let output = env
                .calls
                .call(tx, call(env, "Decrypt", input))
                .map_err(|e| from_kms(env, e))?;
            blob(&output, "Plaintext")?
        }
        StoredValue::Envelope { data_key, sealed } => {
            let input = json!({"CiphertextBlob": data_key, "EncryptionContext": context(arn)});
            let output = env
                .calls
                .call(tx, call(env, "Decrypt", input))
                .map_err(|e| from_kms(env, e))?;
            let key = blob(&output, "Plaintext")?;
            let sealed = BASE64.decode(sealed.as_bytes()).map_err(|_| unreadable())?;
            open_locally(&key, arn, &sealed)?
        }
    };
    String::from_utf8(plaintext.to_vec()).map_err(|_| unreadable())
}

/// What GetParameter answers for a SecureString read without decryption: the ciphertext,
/// base64 (for an advanced parameter, the data key's ciphertext and the sealed value).
pub(crate) fn shown_encrypted(stored: &StoredValue) -> String {
    match stored {
        StoredValue::Plain { value } => value.clone(),
        StoredValue::Kms { ciphertext } => ciphertext.clone(),
        StoredValue::Envelope { data_key, sealed } => {
            let data_key = BASE64.decode(data_key.as_bytes()).unwrap_or_default();
            let sealed = BASE64.decode(sealed.as_bytes()).unwrap_or_default();
            let length = u32::try_from(data_key.len()).unwrap_or(u32::MAX);
            let mut out = Vec::with_capacity(4 + data_key.len() + sealed.len());
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(&data_key);
            out.extend_from_slice(&sealed);
            BASE64.encode(&out)
        }
    }
}

fn call<'a>(_env: &Env<'_>, operation: &'a str, input: Value) -> ServiceCall<'a> {
    ServiceCall {
        service: "kms",
        operation,
        input,
        principal: CallPrincipal::OnBehalfOfCaller,
    }
}

fn unreadable() -> SsmError {
    SsmError::Kms(AwsError::new(
        "InternalServerError",
        500,
        "A stored SecureString value could not be decrypted.",
    ))
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, SsmError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| unexpected("GenerateDataKey"))
}

/// AES-256-GCM under the data key, bound to the parameter's ARN: nonce, ciphertext, tag.
fn seal_locally(
    key: &[u8],
    nonce: &[u8],
    arn: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, SsmError> {
    let key = aead_key(key)?;
    let nonce_value = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce_value, Aad::from(arn.as_bytes()), &mut body)
        .map_err(|_| unreadable())?;
    let mut out = Vec::with_capacity(nonce.len() + body.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_locally(key: &[u8], arn: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SsmError> {
    let key = aead_key(key)?;
    if sealed.len() < NONCE_LEN {
        return Err(unreadable());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut body = Zeroizing::new(body.to_vec());
    let plain = key
        .open_in_place(nonce, Aad::from(arn.as_bytes()), &mut body)
        .map_err(|_| unreadable())?;
    Ok(Zeroizing::new(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_parameter() {
        let key = [7u8; 32];
        let nonce = [1u8; NONCE_LEN];
        let sealed = seal_locally(&key, &nonce, "arn:a", b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            open_locally(&key, "arn:a", &sealed).unwrap().as_slice(),
            b"hunter2"
        );
        assert!(open_locally(&key, "arn:b", &sealed).is_err());
        assert!(open_locally(&[8u8; 32], "arn:a", &sealed).is_err());
        assert!(open_locally(&key, "arn:a", &sealed[..5]).is_err());
    }
}
