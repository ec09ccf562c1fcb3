//! GetKeyLastUsage: the last successful cryptographic operation of each key.
//!
//! The request spine records a [`KeyUse`] with the audit event of every successful tracked
//! operation, in the same transaction, so the use it reports is the one the trail holds
//! (same event ID). Rampart tracks a key from its creation: `TrackingStartDate` is the key's
//! creation date.

use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::KmsError;
use crate::records::key_doc;
use crate::resolve::find_own_key;

/// Each key's last use: `<account>/<region>/<key id>`.
pub(crate) const LAST_USES: &str = "kms-key-last-use";

/// The operations AWS tracks (`KeyLastUsageTrackingOperation`) that Rampart serves.
const TRACKED: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// One successful cryptographic call, for each key it used.
#[derive(Debug, Clone)]
pub struct KeyUse {
    /// Each key, `(account, region, key id)`, with the call as its account's trail has it.
    keys: Vec<((String, String, String), LastUse)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LastUse {
    operation: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    event_id: String,
    request_id: String,
}

impl KeyUse {
    /// The use a successful call of `operation` on `resources` (the ARNs it was authorized
    /// on) makes, if KMS tracks the operation. `event_id` names the call's event in an
    /// account's trail (a key used from another account is in its owner's trail as a copy
    /// with its own event ID).
    pub fn of_call(
        operation: &str,
        resources: &[String],
        at: OffsetDateTime,
        request_id: &str,
        event_id: &dyn Fn(&str) -> String,
    ) -> Option<Self> {
        let operation = TRACKED.iter().find(|o| **o == operation)?;
        let keys: Vec<_> = resources
            .iter()
            .filter_map(|arn| key_of(arn))
            .map(|key| {
                let last = LastUse {
                    operation: (*operation).to_owned(),
                    at,
                    event_id: event_id(&key.0),
                    request_id: request_id.to_owned(),
                };
                (key, last)
            })
            .collect();
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// Records the use for every key.
    pub fn record(&self, tx: &mut dyn WriteTx) -> Result<(), StoreError> {
        for ((account, region, key_id), last) in &self.keys {
            put_json(tx, LAST_USES, &key_doc(account, region, key_id), last)?;
        }
        Ok(())
    }
}

/// `(account, region, key id)` of a key ARN.
fn key_of(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:aws:kms:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let key_id = resource.strip_prefix("key/")?;
    Some((account.to_owned(), region.to_owned(), key_id.to_owned()))
}

/// GetKeyLastUsage's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyLastUsageInput {
    key_id: String,
}

/// `KeyLastUsageData`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyLastUsageData {
    operation: String,
    timestamp: String,
    cloud_trail_event_id: String,
    kms_request_id: String,
}

/// GetKeyLastUsage's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyLastUsageOutput {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_last_usage: Option<KeyLastUsageData>,
    tracking_start_date: String,
    key_creation_date: String,
}

/// GetKeyLastUsage: by key ID or ARN (AWS takes no alias here), the caller's own keys.
pub(crate) fn get_key_last_usage(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetKeyLastUsageInput,
) -> Result<GetKeyLastUsageOutput, KmsError> {
    if input.key_id.starts_with("alias/") || input.key_id.contains(":alias/") {
        return Err(KmsError::Validation(
            "GetKeyLastUsage takes a key ID or key ARN, not an alias.".to_owned(),
        ));
    }
    let key = find_own_key(tx, env, &input.key_id)?;
    let last: Option<LastUse> = get_json(tx, LAST_USES, &key.store_key())?;
    Ok(GetKeyLastUsageOutput {
        key_id: key.key_id,
        key_last_usage: last.map(|l| KeyLastUsageData {
            operation: l.operation,
            timestamp: aws_timestamp(l.at),
            cloud_trail_event_id: l.event_id,
            kms_request_id: l.request_id,
        }),
        tracking_start_date: aws_timestamp(key.created),
        key_creation_date: aws_timestamp(key.created),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    #[test]
    fn only_tracked_operations_on_keys_are_uses() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let event_id = |account: &str| format!("event-in-{account}");
        let used = KeyUse::of_call("Encrypt", &[arn.to_owned()], at, "r", &event_id).unwrap();
        let (key, last) = &used.keys[0];
        assert_eq!(
            key,
            &(
                "111122223333".to_owned(),
                "us-east-1".to_owned(),
                "1234abcd-12ab-34cd-56ef-1234567890ab".to_owned()
            )
        );
        assert_eq!(last.event_id, "event-in-111122223333");
        assert!(KeyUse::of_call("DescribeKey", &[arn.to_owned()], at, "r", &event_id).is_none());
        let alias = "arn:aws:kms:us-east-1:111122223333:alias/app".to_owned();
        assert!(KeyUse::of_call("Encrypt", &[alias], at, "r", &event_id).is_none());
    }
}
