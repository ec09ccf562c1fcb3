//! IAM's pagination: `Marker` / `MaxItems` in, `IsTruncated` / `Marker` out.
//!
//! The marker is opaque to clients; here it is the last key returned, base64-encoded, so a
//! page continues exactly after it even when entities are added or removed in between.

use rampart_store::{ReadTx, scan_json};
use serde::de::DeserializeOwned;

use crate::IamError;

/// AWS's default page size for IAM lists.
pub const DEFAULT_MAX_ITEMS: usize = 100;

/// One page of a listing.
#[derive(Debug)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub marker: Option<String>,
}

impl<T> Page<T> {
    /// Whether more items follow.
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }
}

fn decode_marker(marker: Option<&str>) -> Result<Option<String>, IamError> {
    marker
        .map(|m| {
            data_encoding::BASE64URL_NOPAD
                .decode(m.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| IamError::InvalidInput("Invalid Marker.".into()))
        })
        .transpose()
}

fn encode_marker(key: &str) -> String {
    data_encoding::BASE64URL_NOPAD.encode(key.as_bytes())
}

/// A page of the documents of `ns` under `prefix` that `keep` accepts, in key order.
pub fn page<T: DeserializeOwned>(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    prefix: &str,
    marker: Option<&str>,
    max_items: Option<i64>,
    keep: impl Fn(&T) -> bool,
) -> Result<Page<T>, IamError> {
    let max = max_items
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(DEFAULT_MAX_ITEMS);
    let mut after = decode_marker(marker)?;
    let mut items = Vec::new();
    loop {
        let batch = scan_json::<T>(tx, ns, prefix, after.as_deref(), max + 1)?;
        let exhausted = batch.len() <= max;
        for (key, item) in batch {
            if !keep(&item) {
                after = Some(key);
                continue;
            }
            if items.len() == max {
                // One more match exists: this page ends at the previous key.
                let last = after.unwrap_or_default();
                return Ok(Page {
                    items,
                    marker: Some(encode_marker(&last)),
                });
            }
            items.push(item);
            after = Some(key);
        }
        if exhausted {
            return Ok(Page {
                items,
                marker: None,
            });
        }
    }
}
