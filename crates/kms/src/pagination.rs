//! Marker pagination as KMS does it: `Limit` (1–1000), `Marker` in, `NextMarker` and
//! `Truncated` out. A marker is the store key of the last item returned, under the listing's
//! prefix, base64-encoded so callers treat it as opaque.

use rampart_store::ReadTx;
use serde::de::DeserializeOwned;

use crate::error::KmsError;

/// One page of a listing.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_marker: Option<String>,
}

fn invalid_marker() -> KmsError {
    KmsError::InvalidMarker("Invalid marker".to_owned())
}

/// Up to `limit` (default `default_limit`) items of namespace `ns` under `prefix` after
/// `marker`, keeping those `keep` maps to `Some`.
pub(crate) fn page<R, T>(
    tx: &mut dyn ReadTx,
    ns: &str,
    prefix: &str,
    marker: Option<&str>,
    limit: Option<i64>,
    default_limit: usize,
    mut keep: impl FnMut(&mut dyn ReadTx, R) -> Result<Option<T>, KmsError>,
) -> Result<Page<T>, KmsError>
where
    R: DeserializeOwned,
{
    let limit = limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(default_limit)
        .max(1);
    let mut after = match marker {
        Some(m) => {
            let raw = data_encoding::BASE64URL_NOPAD
                .decode(m.as_bytes())
                .map_err(|_| invalid_marker())?;
            let text = String::from_utf8(raw).map_err(|_| invalid_marker())?;
            if !text.starts_with(prefix) {
                return Err(invalid_marker());
            }
            Some(text)
        }
        None => None,
    };
    let mut items: Vec<(String, T)> = Vec::new();
    // Read in batches until one more item than the page holds is found: that extra item
    // says the listing is truncated.
    loop {
        let batch = tx.scan(ns, prefix, after.as_deref(), 200)?;
        let Some((last, _)) = batch.last() else { break };
        after = Some(last.clone());
        for (doc, bytes) in batch {
            let record: R = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(ns, doc, error = %e, "unreadable KMS record skipped");
                    continue;
                }
            };
            if let Some(item) = keep(&mut *tx, record)? {
                items.push((doc, item));
            }
            if items.len() > limit {
                break;
            }
        }
        if items.len() > limit {
            break;
        }
    }
    let truncated = items.len() > limit;
    items.truncate(limit);
    let next_marker = if truncated {
        items
            .last()
            .map(|(doc, _)| data_encoding::BASE64URL_NOPAD.encode(doc.as_bytes()))
    } else {
        None
    };
    Ok(Page {
        items: items.into_iter().map(|(_, t)| t).collect(),
        next_marker,
    })
}
