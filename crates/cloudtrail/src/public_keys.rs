//! ListPublicKeys: the public halves of the region's digest signing keys whose validity window
//! overlaps the time range asked (signing_keys.rs keeps them).

use rampart_service::{Env, aws_timestamp};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::CloudTrailError;
use crate::lookup::seconds;
use crate::signing_keys::{SigningKey, keys_overlapping};

/// ListPublicKeys' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPublicKeysInput {
    start_time: Option<String>,
    end_time: Option<String>,
    next_token: Option<String>,
}

/// ListPublicKeys' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPublicKeysOutput {
    public_key_list: Vec<PublicKeyOutput>,
}

/// One public key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublicKeyOutput {
    /// A blob, base64 on the wire: the DER `RSAPublicKey` (PKCS #1). The AWS CLI leaves blobs
    /// undecoded, and its validator base64-decodes this text into the DER it loads.
    value: String,
    validity_start_time: String,
    validity_end_time: String,
    fingerprint: String,
}

fn stamp(seconds: i64) -> String {
    aws_timestamp(
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH),
    )
}

impl From<SigningKey> for PublicKeyOutput {
    fn from(key: SigningKey) -> Self {
        Self {
            value: key.public_key,
            validity_start_time: stamp(key.validity_start),
            validity_end_time: stamp(key.validity_end),
            fingerprint: key.fingerprint,
        }
    }
}

/// ListPublicKeys: the keys of the request's region valid at some time in [StartTime,
/// EndTime] (each defaulting to now, which gives the current key).
pub(crate) fn list_public_keys(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPublicKeysInput,
) -> Result<ListPublicKeysOutput, CloudTrailError> {
    // AWS reserves NextToken "for future use": every key fits one page.
    if input.next_token.is_some() {
        return Err(CloudTrailError::InvalidToken(
            "Invalid NextToken".to_owned(),
        ));
    }
    let now = env.now.unix_timestamp();
    let start = input
        .start_time
        .as_deref()
        .map(seconds)
        .transpose()?
        .unwrap_or(now);
    let end = input
        .end_time
        .as_deref()
        .map(seconds)
        .transpose()?
        .unwrap_or(now);
    if start > end {
        return Err(CloudTrailError::InvalidTimeRange(
            "Start time must be before end time.".to_owned(),
        ));
    }
    let keys = keys_overlapping(tx, env.region, start, end)?;
    Ok(ListPublicKeysOutput {
        public_key_list: keys.into_iter().map(PublicKeyOutput::from).collect(),
    })
}
