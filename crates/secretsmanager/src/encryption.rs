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

use data_encoding::BASE64;
use rampart_crypto::{DATA_KEY_NONCE_LEN, open_with_data_key, seal_with_data_key};
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

fn call<'a>(operation: &'a str, input: Value, principal: &CallPrincipal<'a>) -> ServiceCall<'a> {
    ServiceCall {
        service: "kms",
        operation,
        input,
        principal: principal.clone(),
    }
}

/// The account of whoever KMS is called for.
fn acting_account<'a>(env: &'a Env<'_>, principal: &'a CallPrincipal<'_>) -> &'a str {
    match principal {
        CallPrincipal::OnBehalfOfCaller | CallPrincipal::CallerItself => &env.caller.account_id,
        CallPrincipal::Principal { principal, .. } => &principal.account,
        CallPrincipal::Service { source_account, .. } => source_account,
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
/// managed key (made on first use, in the acting principal's own account) when it names none.
fn key_for(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    key_id: Option<&str>,
    principal: &CallPrincipal<'_>,
) -> Result<String, SecretsError> {
    if let Some(key) = key_id {
        return Ok(key.to_owned());
    }
    if record.account != acting_account(env, principal) {
        // Another account's managed key: KMS refuses it to this caller, as AWS does.
        return Ok(format!(
            "arn:aws:kms:{}:{}:{DEFAULT_KEY}",
            record.region, record.account
        ));
    }
    env.calls
        .call_write(
            tx,
            call(
                "AwsManagedKey",
                json!({"Service": "secretsmanager"}),
                principal,
            ),
        )
        .map_err(|e| from_kms(e, true))?;
    Ok(DEFAULT_KEY.to_owned())
}

/// Encrypts `value` for version `version` of `record` under the secret's key (the AWS managed
/// key when it names none), in the caller's transaction, calling KMS as `principal`.
pub(crate) fn seal(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    version: &str,
    value: &[u8],
    binary: bool,
    principal: &CallPrincipal<'_>,
) -> Result<SealedValue, SecretsError> {
    let key = key_for(env, tx, record, record.kms_key_id.as_deref(), principal)?;
    let input = json!({
        "KeyId": key,
        "KeySpec": "AES_256",
        "EncryptionContext": context(&record.arn, version),
    });
    let output = env
        .calls
        .call_write(tx, call("GenerateDataKey", input, principal))
        .map_err(|e| from_kms(e, true))?;
    let data_key = output
        .get("CiphertextBlob")
        .and_then(Value::as_str)
        .ok_or_else(unreadable)?
        .to_owned();
    let plaintext_key = blob(&output, "Plaintext")?;
    let nonce = env.random(DATA_KEY_NONCE_LEN);
    let aad = format!("{}|{version}", record.arn);
    let sealed = seal_with_data_key(&plaintext_key, &nonce, aad.as_bytes(), value)
        .map_err(|_| unreadable())?;
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
        .call(tx, call("Decrypt", input, &CallPrincipal::OnBehalfOfCaller))
        .map_err(|e| from_kms(e, false))?;
    let key = blob(&output, "Plaintext")?;
    let sealed = BASE64
        .decode(stored.sealed.as_bytes())
        .map_err(|_| unreadable())?;
    open_with_data_key(
        &key,
        format!("{}|{version}", record.arn).as_bytes(),
        &sealed,
    )
    .map_err(|_| unreadable())
}
