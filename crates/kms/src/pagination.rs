//! Marker pagination as KMS does it: `Limit` (1–1000), `Marker` in, `NextMarker` and
//! `Truncated` out, on the shared paging of `rampart_service::paging`. What is KMS's own: its
//! page sizes, its answer to a marker it did not hand out, and skipping (with a warning) a
//! record it cannot read rather than failing the listing.

use rampart_service::paging::{self, Page, PageError, PageSize};
use rampart_store::ReadTx;
use serde::de::DeserializeOwned;

use crate::error::KmsError;

/// The most items a KMS listing answers at once (the model's range of `Limit`).
const MAX_LIMIT: usize = 1000;

/// A page size of `default` items unless the caller gives a `Limit`.
pub(crate) const fn page_size(default: usize) -> PageSize {
    PageSize::new(default, MAX_LIMIT)
}

impl From<PageError> for KmsError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => KmsError::InvalidMarker("Invalid marker".to_owned()),
            PageError::Store(e) => KmsError::Store(e),
        }
    }
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
    let size = page_size(default_limit).of(limit);
    paging::scan_page(
        tx,
        ns,
        prefix,
        marker,
        size,
        |tx, doc, bytes| match serde_json::from_slice::<R>(bytes) {
            Ok(record) => keep(tx, record),
            Err(e) => {
                tracing::warn!(ns, doc, error = %e, "unreadable KMS record skipped");
                Ok(None)
            }
        },
    )
}

/// One page of `items`, an answer rebuilt in the same order on every call: the marker is the
/// index of the next item.
pub(crate) fn page_by_index<T>(
    items: Vec<T>,
    marker: Option<&str>,
    limit: Option<i64>,
    default_limit: usize,
) -> Result<Page<T>, KmsError> {
    Ok(paging::page_by_index(
        items,
        marker,
        page_size(default_limit).of(limit),
    )?)
}

#[cfg(test)]
mod tests {
    use rampart_service::testing::{ACCOUNT, TestEnv};
    use serde_json::json;

    use super::*;
    use crate::keys;
    use crate::records::KEYS;
    use crate::tests::{create, r};

    /// KMS's own choice, kept on the shared paging: a record it cannot read is left out of
    /// the listing (and logged), not a failure of the whole listing.
    #[test]
    fn an_unreadable_record_is_skipped() {
        let t = TestEnv::new();
        let id = create(&t, json!({}));
        t.write(|_, tx| {
            tx.put(
                KEYS,
                &format!("{ACCOUNT}/us-east-1/0-unreadable"),
                b"{not json",
            )
        })
        .unwrap();
        let listed = r(&t, keys::list_keys, json!({})).unwrap();
        assert_eq!(listed["Keys"].as_array().unwrap().len(), 1);
        assert_eq!(listed["Keys"][0]["KeyId"], id.as_str());
    }

    /// ListKeys answered up to 1000 keys when `Limit` was not given; AWS's default is 100.
    #[test]
    fn list_keys_pages_by_a_hundred_unless_told() {
        let t = TestEnv::new();
        for _ in 0..101 {
            create(&t, json!({}));
        }
        let first = r(&t, keys::list_keys, json!({})).unwrap();
        assert_eq!(first["Keys"].as_array().unwrap().len(), 100);
        assert_eq!(first["Truncated"], true);
        let marker = first["NextMarker"].as_str().unwrap().to_owned();
        let rest = r(&t, keys::list_keys, json!({"Marker": marker})).unwrap();
        assert_eq!(rest["Keys"].as_array().unwrap().len(), 1);
        assert_eq!(rest["Truncated"], false);
        let all = r(&t, keys::list_keys, json!({"Limit": 1000})).unwrap();
        assert_eq!(all["Keys"].as_array().unwrap().len(), 101);
    }

    /// A marker is a store key under the listing's prefix: one naming another account's keys
    /// is refused, and the listing's own goes on.
    #[test]
    fn a_marker_outside_the_callers_keys_is_refused() {
        let t = TestEnv::new();
        for _ in 0..2 {
            create(&t, json!({}));
        }
        let foreign = data_encoding::BASE64URL_NOPAD.encode(b"999999999999/us-east-1/");
        let e = r(&t, keys::list_keys, json!({"Marker": foreign})).unwrap_err();
        assert!(
            matches!(&e, KmsError::InvalidMarker(m) if m == "Invalid marker"),
            "{e:?}"
        );
        let first = r(&t, keys::list_keys, json!({"Limit": 1})).unwrap();
        let marker = first["NextMarker"].as_str().unwrap().to_owned();
        let second = r(&t, keys::list_keys, json!({"Limit": 1, "Marker": marker})).unwrap();
        assert_eq!(second["Keys"].as_array().unwrap().len(), 1);
        assert_ne!(first["Keys"][0]["KeyId"], second["Keys"][0]["KeyId"]);
    }
}
