//! Paging as AWS's list operations do it, for every service: a page of at most a page size of
//! items, and an opaque token (IAM's and KMS's `Marker`, Organizations' and CloudTrail's
//! `NextToken`) while more follow. Each service keeps its own parameter names and error codes:
//! the functions here answer a [`PageError`] that the service maps.
//!
//! Two token formats, both produced here only:
//! - a key token is the key of the last item returned, base64url-encoded; the next page
//!   starts after that key, so items added or removed between pages neither repeat nor hide
//!   others. A key token decoded for a store scan must lie under the listing's prefix, so a
//!   forged token cannot move a scan out of the caller's records.
//! - an index token is the decimal position of the next item, for answers rebuilt in the same
//!   order on every call (evaluation results, a resource's tags).
//!
//! A page size outside the model's range never reaches a handler (the decode step answers
//! AWS's validation error first); [`PageSize::of`] still keeps it within 1 and the maximum,
//! and every function here takes a size of 0 as 1: an empty page without a token would say
//! the listing ended while items remain.

use rampart_store::{ReadTx, StoreError};

/// Why a page cannot be served; each service maps it to its own error.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The token is not one this listing hands out.
    #[error("the pagination token was not issued by this listing")]
    InvalidToken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The token of the next page, while more items follow.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Whether more items follow (IAM's `IsTruncated`, KMS's `Truncated`).
    pub fn is_truncated(&self) -> bool {
        self.next.is_some()
    }
}

/// A listing's page size: what it is when the caller does not say, and the most it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    default: usize,
    max: usize,
}

impl PageSize {
    /// `default` items when the caller does not say, at most `max` (both at least 1).
    pub const fn new(default: usize, max: usize) -> Self {
        let max = if max == 0 { 1 } else { max };
        let default = if default == 0 {
            1
        } else if default > max {
            max
        } else {
            default
        };
        Self { default, max }
    }

    /// The size of the page the caller asked for (`MaxItems`, `Limit`, `MaxResults`).
    pub fn of(self, requested: Option<i64>) -> usize {
        match requested {
            None => self.default,
            Some(n) => usize::try_from(n).unwrap_or(1).clamp(1, self.max),
        }
    }
}

fn key_token(key: &str) -> String {
    data_encoding::BASE64URL_NOPAD.encode(key.as_bytes())
}

fn key_of_token(token: &str) -> Result<String, PageError> {
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(token.as_bytes())
        .map_err(|_| PageError::InvalidToken)?;
    String::from_utf8(bytes).map_err(|_| PageError::InvalidToken)
}

fn index_of_token(token: &str) -> Result<usize, PageError> {
    token.parse().map_err(|_| PageError::InvalidToken)
}

/// The page of `items` (each with a unique key) after `token`, in key order, at most `size`
/// long; the token names the last key returned.
pub fn page_sorted<T>(
    mut items: Vec<(String, T)>,
    token: Option<&str>,
    size: usize,
) -> Result<Page<T>, PageError> {
    let size = size.max(1);
    let after = token.map(key_of_token).transpose()?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = after.map_or(0, |after| items.partition_point(|(key, _)| *key <= after));
    let mut rest = items.into_iter().skip(start);
    let mut page = Vec::new();
    let mut last = None;
    for (key, item) in rest.by_ref().take(size) {
        page.push(item);
        last = Some(key);
    }
    let next = match (rest.next(), last) {
        (Some(_), Some(last)) => Some(key_token(&last)),
        _ => None,
    };
    Ok(Page { items: page, next })
}

/// The page of `items` (an answer rebuilt in the same order on every call) at `token`, at most
/// `size` long; the token is the index of the next item.
pub fn page_by_index<T>(
    items: Vec<T>,
    token: Option<&str>,
    size: usize,
) -> Result<Page<T>, PageError> {
    let size = size.max(1);
    let start = token.map(index_of_token).transpose()?.unwrap_or(0);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = start.saturating_add(page.len());
    Ok(Page {
        items: page,
        next: (next < total).then(|| next.to_string()),
    })
}

/// Refuses any token, for a listing that always answers in one page (and so never hands out a
/// token).
pub fn single_page(token: Option<&str>) -> Result<(), PageError> {
    match token {
        Some(_) => Err(PageError::InvalidToken),
        None => Ok(()),
    }
}

/// Items read from the store: the documents of `ns` under `prefix`, in key order, after
/// `token`, that `keep` turns into an item (given the document's key and bytes), at most `size`
/// of them.
pub fn scan_page<Tx, T, E>(
    tx: &mut Tx,
    ns: &str,
    prefix: &str,
    token: Option<&str>,
    size: usize,
    mut keep: impl FnMut(&mut Tx, &str, &[u8]) -> Result<Option<T>, E>,
) -> Result<Page<T>, E>
where
    Tx: ReadTx + ?Sized,
    E: From<PageError>,
{
    let mut after = match token {
        None => None,
        Some(token) => {
            let key = key_of_token(token)?;
            if !key.starts_with(prefix) {
                return Err(PageError::InvalidToken.into());
            }
            Some(key)
        }
    };
    let size = size.max(1);
    // One more match than the page holds says the listing is truncated.
    let batch = size.saturating_add(1).max(100);
    let mut items = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let documents = tx
            .scan(ns, prefix, after.as_deref(), batch)
            .map_err(PageError::from)?;
        let exhausted = documents.len() < batch;
        for (key, bytes) in documents {
            if let Some(item) = keep(tx, &key, &bytes)? {
                if items.len() == size {
                    return Ok(Page {
                        items,
                        next: last.as_deref().map(key_token),
                    });
                }
                items.push(item);
                last = Some(key.clone());
            }
            after = Some(key);
        }
        if exhausted {
            return Ok(Page { items, next: None });
        }
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
