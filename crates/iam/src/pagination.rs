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
    let max = max_of(max_items);
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

/// One page of `items`, which are in ascending order of their keys (unique). The marker is the
/// last key returned, base64-encoded, so a page continues after it even when items come and go.
pub(crate) fn page_sorted<T>(
    items: Vec<(String, T)>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>, IamError> {
    let after = decode_marker(marker)?;
    let max = max_of(max_items);
    let mut rest = items
        .into_iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|after| key > after));
    let mut page = Vec::new();
    let mut last = None;
    for (key, item) in rest.by_ref().take(max) {
        page.push(item);
        last = Some(key);
    }
    let marker = match (rest.next(), last) {
        (Some(_), Some(last)) => Some(encode_marker(&last)),
        _ => None,
    };
    Ok(Page {
        items: page,
        marker,
    })
}

/// One page of `items`, an answer rebuilt in the same order on every call: the marker is the
/// index of the next item.
pub(crate) fn page_by_index<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>, IamError> {
    let start = match marker {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| IamError::InvalidInput("Invalid Marker.".into()))?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(max_of(max_items))
        .collect();
    let next = start + page.len();
    Ok(Page {
        items: page,
        marker: (next < total).then(|| next.to_string()),
    })
}

fn max_of(max_items: Option<i64>) -> usize {
    max_items
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(DEFAULT_MAX_ITEMS)
}
