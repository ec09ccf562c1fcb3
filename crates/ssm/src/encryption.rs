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

use data_encoding::BASE64;
use rampart_crypto::{DATA_KEY_NONCE_LEN, open_with_data_key, seal_with_data_key};
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
            let nonce = env.random(DATA_KEY_NONCE_LEN);
            let sealed =
                seal_with_data_key(&plaintext_key, &nonce, arn.as_bytes(), value.as_bytes())
                    .map_err(|_| unreadable())?;
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
            open_with_data_key(&key, arn.as_bytes(), &sealed).map_err(|_| unreadable())?
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
