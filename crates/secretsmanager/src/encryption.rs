//! Secret values, encrypted and decrypted by KMS through the spine on the caller's behalf, as
//! Secrets Manager does it (AWS KMS Developer Guide, "How AWS Secrets Manager uses AWS KMS"):
//!
//! - each version's value is encrypted under its own data key from `GenerateDataKey`
//!   (envelope encryption, AES-256-GCM); the data key's ciphertext is kept beside the sealed
//!   value and decrypted with `Decrypt` when the value is read;
//! - both calls carry the encryption context `{"SecretARN": <arn>, "SecretVersionId": <id>}`,
//!   so a key policy can name secrets and a ciphertext cannot move to another version;
//! - without a `KmsKeyId`, under the AWS managed key `alias/aws/secretsmanager`, which KMS
//!   makes on first use.
//!
//! The calls are KMS's own operations: the spine authorizes them with the caller's identity
//! and the key policy, under `kms:ViaService = secretsmanager.<region>.amazonaws.com`, and
//! records them with `invokedBy: secretsmanager.amazonaws.com`.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use data_encoding::BASE64;
use rampart_service::{AwsError, CallPrincipal, Env, ServiceCall, Value};
use rampart_store::{ReadTx, WriteTx};
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::SecretsError;
use crate::records::{SealedValue, SecretRecord};

/// The AWS managed key Secrets Manager encrypts with when the secret names none.
pub(crate) const DEFAULT_KEY: &str = "alias/aws/secretsmanager";

fn context(arn: &str, version: &str) -> Value {
    json!({"SecretARN": arn, "SecretVersionId": version})
}

fn call<'a>(operation: &'a str, input: Value) -> ServiceCall<'a> {
    ServiceCall {
        service: "kms",
        operation,
        input,
        principal: CallPrincipal::OnBehalfOfCaller,
    }
}

/// KMS's refusal or failure as Secrets Manager answers it.
fn from_kms(e: AwsError, encrypting: bool) -> SecretsError {
    match e.code.as_ref() {
        "AccessDeniedException" => {
            SecretsError::AccessDenied("Access to KMS is not allowed".into())
        }
        "NotFoundException"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "InvalidKeyUsageException"
        | "InvalidArnException"
        | "IncorrectKeyException"
        | "InvalidCiphertextException"
        | "ValidationException" => {
            if encrypting {
                SecretsError::EncryptionFailure(format!(
                    "Secrets Manager can't encrypt the secret value: {}",
                    e.message
                ))
            } else {
                SecretsError::DecryptionFailure(
                    "Secrets Manager can't decrypt the protected secret text using the provided \
                     KMS key."
                        .to_owned(),
                )
            }
        }
        _ => SecretsError::Kms(e),
    }
}

fn unreadable() -> SecretsError {
    SecretsError::DecryptionFailure(
        "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
            .to_owned(),
    )
}

fn blob(output: &Value, member: &str) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let text = output
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(unreadable)?;
    BASE64
        .decode(text.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| unreadable())
}

/// The key a secret of `record`'s account encrypts with when it names `key_id`: the AWS
/// managed key (made on first use, in the caller's own account) when it names none.
fn key_for(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    key_id: Option<&str>,
) -> Result<String, SecretsError> {
    if let Some(key) = key_id {
        return Ok(key.to_owned());
    }
    if record.account != env.caller.account_id {
        // Another account's managed key: KMS refuses it to this caller, as AWS does.
        return Ok(format!(
            "arn:aws:kms:{}:{}:{DEFAULT_KEY}",
            record.region, record.account
        ));
    }
    env.calls
        .call_write(
            tx,
            call("AwsManagedKey", json!({"Service": "secretsmanager"})),
        )
        .map_err(|e| from_kms(e, true))?;
    Ok(DEFAULT_KEY.to_owned())
}

/// Encrypts `value` for version `version` of `record` under `key_id` (the AWS managed key
/// when `None`), in the caller's transaction.
pub(crate) fn seal(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    key_id: Option<&str>,
    version: &str,
    value: &[u8],
    binary: bool,
) -> Result<SealedValue, SecretsError> {
    let key = key_for(env, tx, record, key_id)?;
    let input = json!({
        "KeyId": key,
        "KeySpec": "AES_256",
        "EncryptionContext": context(&record.arn, version),
    });
    let output = env
        .calls
        .call_write(tx, call("GenerateDataKey", input))
        .map_err(|e| from_kms(e, true))?;
    let data_key = output
        .get("CiphertextBlob")
        .and_then(Value::as_str)
        .ok_or_else(unreadable)?
        .to_owned();
    let plaintext_key = blob(&output, "Plaintext")?;
    let nonce = env.random(NONCE_LEN);
    let aad = format!("{}|{version}", record.arn);
    let sealed = seal_locally(&plaintext_key, &nonce, &aad, value)?;
    Ok(SealedValue {
        data_key,
        sealed: BASE64.encode(&sealed),
        binary,
    })
}

/// Decrypts version `version` of `record`, on the caller's snapshot or transaction.
pub(crate) fn open(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    record: &SecretRecord,
    version: &str,
    stored: &SealedValue,
) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let input = json!({
        "CiphertextBlob": stored.data_key,
        "EncryptionContext": context(&record.arn, version),
    });
    let output = env
        .calls
        .call(tx, call("Decrypt", input))
        .map_err(|e| from_kms(e, false))?;
    let key = blob(&output, "Plaintext")?;
    let sealed = BASE64
        .decode(stored.sealed.as_bytes())
        .map_err(|_| unreadable())?;
    open_locally(&key, &format!("{}|{version}", record.arn), &sealed)
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, SecretsError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| unreadable())
}

/// AES-256-GCM under the data key, bound to the secret's ARN and version: nonce, ciphertext,
/// tag.
fn seal_locally(
    key: &[u8],
    nonce: &[u8],
    aad: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, SecretsError> {
    let key = aead_key(key)?;
    let nonce_value = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce_value, Aad::from(aad.as_bytes()), &mut body)
        .map_err(|_| unreadable())?;
    let mut out = Vec::with_capacity(nonce.len() + body.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_locally(key: &[u8], aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let key = aead_key(key)?;
    if sealed.len() < NONCE_LEN {
        return Err(unreadable());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut body = Zeroizing::new(body.to_vec());
    let plain = key
        .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut body)
        .map_err(|_| unreadable())?;
    Ok(Zeroizing::new(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_version() {
        let key = [7u8; 32];
        let nonce = [1u8; NONCE_LEN];
        let sealed = seal_locally(&key, &nonce, "arn:a|v1", b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            open_locally(&key, "arn:a|v1", &sealed).unwrap().as_slice(),
            b"hunter2"
        );
        assert!(open_locally(&key, "arn:a|v2", &sealed).is_err());
        assert!(open_locally(&[8u8; 32], "arn:a|v1", &sealed).is_err());
        assert!(open_locally(&key, "arn:a|v1", &sealed[..5]).is_err());
    }
}
