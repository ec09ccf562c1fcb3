//! How CloudTrail records KMS's calls beyond what the API model gives (see
//! `rampart_service::recorded`), from the KMS Developer Guide's example events
//! (<https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html> and its siblings).

use rampart_service::recorded::{EventStyle, MemberNaming, TimestampStyle};
use rampart_service::{Env, RecordedCall, ServiceEvent, ServiceEventSource, Value};

use crate::records::KeyRecord;

/// KMS's events name members as Java beans do (`keyId`, but `AWSAccountId` kept) and write
/// response timestamps as `Aug 10, 2022, 10:38:27 PM` (the CreateKey example).
pub(crate) const EVENT_STYLE: EventStyle = EventStyle {
    naming: MemberNaming::JavaBean,
    response_timestamps: TimestampStyle::MediumDateCommaTime,
};

/// The algorithm KMS uses when a call names none.
const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

/// "The CloudTrail log entry for a Decrypt operation always includes the
/// encryptionAlgorithm in the requestParameters even if the encryption algorithm wasn't
/// specified in the request" — and so do Encrypt's and ReEncrypt's examples. Their
/// responses are `null` because KMS records them read-only: no ciphertext or plaintext
/// ever reaches an event.
pub(crate) fn shape_event(call: &mut RecordedCall) {
    let default = || Value::String(SYMMETRIC_DEFAULT.to_owned());
    match call.operation.as_str() {
        "Encrypt" | "Decrypt" => call.default_parameter("encryptionAlgorithm", default()),
        "ReEncrypt" => {
            call.default_parameter("sourceEncryptionAlgorithm", default());
            call.default_parameter("destinationEncryptionAlgorithm", default());
        }
        _ => {}
    }
}

/// Records KMS's `RotateKey` service event for a rotation of `key` (`rotation_type`
/// `AUTOMATIC` or `ON_DEMAND`) from material `previous` to `current`, as the Developer Guide's
/// RotateKey example shows it (<https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html>):
/// invoked by `AWS Internal`, the key in `resources`, the rotation in `serviceEventDetails`.
pub(crate) fn rotated(
    env: &Env<'_>,
    key: &KeyRecord,
    rotation_type: &str,
    previous: Option<&str>,
    current: &str,
) {
    let mut event = ServiceEvent::new(
        "kms",
        "RotateKey",
        key.account_id.clone(),
        key.region.clone(),
        ServiceEventSource::AwsInternal,
    );
    event.resources = vec![key.arn.clone()];
    let mut details = serde_json::json!({
        "rotationType": rotation_type,
        "keyOrigin": "AWS_KMS",
        "currentKeyMaterialId": current,
        "keyId": key.key_id,
    });
    if let (Some(previous), Some(map)) = (previous, details.as_object_mut()) {
        map.insert("previousKeyMaterialId".to_owned(), Value::from(previous));
    }
    event.details = Some(details);
    env.calls.record_event(event);
}

/// Records KMS's `DeleteKey` service event for `key`, deleted at the end of its waiting period
/// (<https://docs.aws.amazon.com/kms/latest/developerguide/ct-delete-key.html>): invoked by
/// `AWS Internal`, the key in `resources` and, as entries since December 2022 have it, its ARN
/// in `responseElements.keyId`.
pub(crate) fn deleted(env: &Env<'_>, key: &KeyRecord) {
    let mut event = ServiceEvent::new(
        "kms",
        "DeleteKey",
        key.account_id.clone(),
        key.region.clone(),
        ServiceEventSource::AwsInternal,
    );
    event.resources = vec![key.arn.clone()];
    event.response = Some(serde_json::json!({ "keyId": key.arn }));
    env.calls.record_event(event);
}
