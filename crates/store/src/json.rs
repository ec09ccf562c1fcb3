//! Typed documents: services keep their records as JSON documents.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ReadTx, StoreError, WriteTx};

fn malformed(ns: &str, key: &str, e: &serde_json::Error) -> StoreError {
    StoreError::Malformed {
        ns: ns.to_owned(),
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

/// The document at (`ns`, `key`) decoded as `T`.
pub fn get_json<T: DeserializeOwned>(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match tx.get(ns, key)? {
        None => Ok(None),
        Some(bytes) => decode(ns, key, &bytes).map(Some),
    }
}

/// `bytes`, the document at (`ns`, `key`), decoded as `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    ns: &str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(ns, key, &e))
}

/// Stores `value` as the document at (`ns`, `key`).
pub fn put_json<T: Serialize>(
    tx: &mut (impl WriteTx + ?Sized),
    ns: &str,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(value).map_err(|e| malformed(ns, key, &e))?;
    tx.put(ns, key, &bytes)
}

/// Up to `limit` documents of `ns` under `prefix` after `after`, decoded as `T`.
pub fn scan_json<T: DeserializeOwned>(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, T)>, StoreError> {
    tx.scan(ns, prefix, after, limit)?
        .into_iter()
        .map(|(key, bytes)| {
            let value = serde_json::from_slice(&bytes).map_err(|e| malformed(ns, &key, &e))?;
            Ok((key, value))
        })
        .collect()
}
