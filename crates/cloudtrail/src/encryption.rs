//! A trail's KMS key (`KmsKeyId`): accepted by CreateTrail and UpdateTrail when CloudTrail may
//! use it, then used by the deliverer to encrypt each log file (sse_kms.rs).
//!
//! As AWS does it: CloudTrail checks the key with a GenerateDataKey call of its own (through
//! the spine, which authorizes and records it), as the service principal
//! `cloudtrail.amazonaws.com`, with encryption context
//! `aws:cloudtrail:arn` = the trail's ARN; so the key must exist in the trail's region, be an
//! enabled symmetric encryption key, and its key policy must allow CloudTrail
//! `kms:GenerateDataKey*` (AWS's documented statement conditions on `aws:SourceArn` and
//! `kms:EncryptionContext:aws:cloudtrail:arn`, both set here). Each delivered file then gets
//! its data key the way S3 gets one for an SSE-KMS object CloudTrail writes: a GenerateDataKey
//! call via S3 (`kms:ViaService` = `s3.<region>.amazonaws.com`) on CloudTrail's behalf, with
//! the object's ARN added to the context (`aws:s3:arn`).

use std::collections::BTreeMap;

use rampart_service::{AwsError, CallPrincipal, Entropy, Env, ServiceCall, Value};
use rampart_store::ReadTx;
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::CloudTrailError;
use crate::sse_kms;
use crate::trails::TrailRecord;

/// CloudTrail's service principal.
pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";
/// The encryption context key naming the trail.
pub const TRAIL_CONTEXT_KEY: &str = "aws:cloudtrail:arn";
/// The encryption context key naming the object (S3's SSE-KMS context).
pub const OBJECT_CONTEXT_KEY: &str = "aws:s3:arn";

/// Whether `key_id` has a shape `KmsKeyId` accepts: a key ID, a key ARN, an alias name or an
/// alias ARN.
fn well_formed(key_id: &str) -> bool {
    let id_like = |s: &str| {
        !s.is_empty()
            && s.len() <= 256
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
    };
    if let Some(rest) = key_id.strip_prefix("arn:") {
        return match rest.splitn(5, ':').collect::<Vec<_>>().as_slice() {
            [_, "kms", region, account, resource] => {
                !region.is_empty()
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && (resource.strip_prefix("key/").is_some_and(id_like)
                        || resource.strip_prefix("alias/").is_some_and(id_like))
            }
            _ => false,
        };
    }
    match key_id.strip_prefix("alias/") {
        Some(name) => id_like(name),
        None => id_like(key_id) && !key_id.contains('/'),
    }
}

/// Checks a trail's `KmsKeyId` as CloudTrail does, and returns the key's ARN (what the trail
/// then records and shows): a GenerateDataKey call to KMS, through the spine, as CloudTrail's
/// own principal acting for the trail.
pub(crate) fn check_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    trail_arn: &str,
    key_id: &str,
) -> Result<String, CloudTrailError> {
    if !well_formed(key_id) {
        return Err(CloudTrailError::InvalidKmsKeyId(format!(
            "Invalid KmsKeyId {key_id}: give a key ID, a key ARN, an alias name (alias/…) or \
             an alias ARN."
        )));
    }
    let context = BTreeMap::from([(TRAIL_CONTEXT_KEY.to_owned(), trail_arn.to_owned())]);
    let call = data_key_call(key_id, &context, trail_arn, &env.caller.account_id, None);
    match env.calls.call(tx, call) {
        Ok(output) => output
            .get("KeyId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| CloudTrailError::Kms(format!("KMS key {key_id} could not be checked."))),
        Err(e) => Err(match e.code.as_ref() {
            "NotFoundException" => CloudTrailError::KmsKeyNotFound(format!(
                "KMS key {key_id} does not exist in {}, the trail's region.",
                env.region
            )),
            "AccessDeniedException" | "AccessDenied" => {
                CloudTrailError::InsufficientEncryptionPolicy(format!(
                    "Insufficient permissions to access KMS key {key_id}: its key policy must \
                     allow {SERVICE_PRINCIPAL} kms:GenerateDataKey* for encryption context \
                     {TRAIL_CONTEXT_KEY} {trail_arn}."
                ))
            }
            "DisabledException" | "KMSInvalidStateException" | "InvalidKeyUsageException" => {
                CloudTrailError::Kms(format!(
                    "KMS key {key_id} cannot encrypt the trail's log files ({}: {}).",
                    e.code, e.message
                ))
            }
            _ => CloudTrailError::Kms(format!("KMS key {key_id} could not be checked.")),
        }),
    }
}

/// CloudTrail's GenerateDataKey call for a 256-bit data key of `key_id` under `context`, as
/// its own principal acting for the trail `trail_arn` of `account`, made by `via` on its
/// behalf when a service makes it (S3 writing the trail's objects).
pub fn data_key_call<'a>(
    key_id: &str,
    context: &BTreeMap<String, String>,
    trail_arn: &'a str,
    account: &'a str,
    via: Option<&'a str>,
) -> ServiceCall<'a> {
    ServiceCall {
        service: "kms",
        operation: "GenerateDataKey",
        input: json!({"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context}),
        principal: CallPrincipal::Service {
            principal: SERVICE_PRINCIPAL,
            source_arn: trail_arn,
            source_account: account,
            via,
        },
    }
}

/// Why a log file could not be encrypted: KMS's answer, as S3 reports it to CloudTrail in
/// `LatestDeliveryError` (`KMS.DisabledException`, `AccessDenied`, …).
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct EncryptLogError {
    /// The error code S3 would answer PutObject with.
    pub code: String,
    /// What KMS said.
    pub message: String,
}

impl EncryptLogError {
    /// KMS's refusal of a log file's data key, as S3 reports it.
    pub fn of_kms(e: &AwsError) -> Self {
        Self {
            code: match e.code.as_ref() {
                "AccessDeniedException" | "AccessDenied" => "AccessDenied".to_owned(),
                code => format!("KMS.{code}"),
            },
            message: e.message.clone(),
        }
    }
}

/// The encryption context of the data key for `trail`'s log file at `object_key`: the trail
/// and the object, as S3 and CloudTrail name them.
pub fn log_file_context(trail: &TrailRecord, object_key: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TRAIL_CONTEXT_KEY.to_owned(), trail.arn()),
        (
            OBJECT_CONTEXT_KEY.to_owned(),
            format!("arn:aws:s3:::{}/{object_key}", trail.s3_bucket_name),
        ),
    ])
}

/// A gzip log file encrypted as S3 stores an SSE-KMS object, with the data key KMS answered
/// (`generated`: GenerateDataKey's output) under `context`.
pub fn seal_log_file(
    generated: &Value,
    context: BTreeMap<String, String>,
    entropy: &dyn Entropy,
    gz: &[u8],
) -> Result<Vec<u8>, EncryptLogError> {
    let member = |name: &str| {
        generated
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let internal = |message: String| EncryptLogError {
        code: "InternalError".to_owned(),
        message,
    };
    let plaintext = Zeroizing::new(
        data_encoding::BASE64
            .decode(member("Plaintext").as_bytes())
            .map_err(|e| internal(format!("KMS answered an unreadable data key: {e}")))?,
    );
    let mut iv = [0u8; 12];
    entropy.fill(&mut iv);
    let header = sse_kms::Header {
        algorithm: sse_kms::ALGORITHM.to_owned(),
        encrypted_data_key: member("CiphertextBlob").to_owned(),
        encryption_context: context,
        iv: data_encoding::BASE64.encode(&iv),
        kms_key_arn: member("KeyId").to_owned(),
    };
    sse_kms::seal(&header, &plaintext, iv, gz).map_err(|e| internal(e.to_string()))
}
#[cfg(test)]
mod tests {
    use super::well_formed;

    #[test]
    fn key_ids_arns_and_aliases_are_accepted() {
        for good in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/trail-key",
            "arn:aws:kms:us-east-1:123456789012:alias/trail-key",
        ] {
            assert!(well_formed(good), "{good}");
        }
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:1234:key/x",
            "alias/",
            "key/abc",
            "white space",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
