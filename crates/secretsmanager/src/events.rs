//! The events Secrets Manager records of its own work (`eventType` `AwsServiceEvent`), as AWS
//! writes them (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html>,
//! "Log entries for deletion" and "Log entries for rotation"; the shapes as AWS delivers them):
//! `userIdentity` is the account invoked by `secretsmanager.amazonaws.com`, which is also the
//! source address and user agent; the secret is named in `additionalEventData.SecretId`, not in
//! `resources`; a rotation's events carry the request ID `Rotation-<secret ARN>-<token>`, and a
//! failed rotation its reason as `errorMessage`.
//!
//! Written: RotationStarted, RotationSucceeded, RotationFailed (RotateSecret's immediate
//! rotation and scheduled ones); StartSecretVersionDelete (DeleteSecret),
//! CancelSecretVersionDelete (RestoreSecret), EndSecretVersionDelete (the secret gone: at the
//! end of its recovery window, or at once when forced). Not written: RotationAbandoned
//! (Rampart does not remove an unfinished rotation's AWSPENDING when a version is put by
//! hand) and the TestRotation events (RotateImmediately=false runs no testSecret step here).

use rampart_service::{Env, ServiceEvent, ServiceEventSource};
use serde_json::json;

use crate::records::SecretRecord;

fn event(name: &'static str, record: &SecretRecord) -> ServiceEvent {
    let mut event = ServiceEvent::new(
        "secretsmanager",
        name,
        record.account.clone(),
        record.region.clone(),
        ServiceEventSource::Service,
    );
    event.additional = Some(json!({ "SecretId": record.arn }));
    event
}

/// Records a deletion event (`StartSecretVersionDelete`, `CancelSecretVersionDelete`,
/// `EndSecretVersionDelete`) of `record`.
pub(crate) fn deletion(env: &Env<'_>, name: &'static str, record: &SecretRecord) {
    env.calls.record_event(event(name, record));
}

/// Records a rotation event of `record` with `token`, with the reason it failed if it did.
pub(crate) fn rotation(
    env: &Env<'_>,
    name: &'static str,
    record: &SecretRecord,
    token: &str,
    error: Option<String>,
) {
    let mut event = event(name, record);
    event.request_id = Some(format!("Rotation-{}-{token}", record.arn));
    event.error_message = error;
    env.calls.record_event(event);
}

/// Records the end of a rotation of `record` with `token`: RotationStarted, then
/// RotationSucceeded or RotationFailed with `outcome`'s reason.
pub(crate) fn rotation_ran(
    env: &Env<'_>,
    record: &SecretRecord,
    token: &str,
    outcome: Result<(), String>,
) {
    rotation(env, "RotationStarted", record, token, None);
    match outcome {
        Ok(()) => rotation(env, "RotationSucceeded", record, token, None),
        Err(reason) => rotation(env, "RotationFailed", record, token, Some(reason)),
    }
}
