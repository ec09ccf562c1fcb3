//! IAM's pagination: `Marker` / `MaxItems` in, `IsTruncated` / `Marker` out, on the shared
//! paging of `rampart_service::paging`. What is IAM's own: its page size and its answer to a
//! marker it did not hand out.

use rampart_service::paging::{self, PageError, PageSize};
use rampart_store::{ReadTx, StoreError};
use serde::de::DeserializeOwned;

use crate::IamError;

pub use rampart_service::paging::Page;

/// `MaxItems`: AWS's default of 100 unless given, at most 1000 (the model's range).
pub const PAGE_SIZE: PageSize = PageSize::new(100, 1000);

impl From<PageError> for IamError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => IamError::InvalidInput("Invalid Marker.".into()),
            PageError::Store(e) => IamError::Store(e),
        }
    }
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
    paging::scan_page(
        tx,
        ns,
        prefix,
        marker,
        PAGE_SIZE.of(max_items),
        |_, key, bytes| {
            let item: T = serde_json::from_slice(bytes).map_err(|e| StoreError::Malformed {
                ns: ns.to_owned(),
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
            Ok(keep(&item).then_some(item))
        },
    )
}

/// One page of `items`, each with a unique key, in key order; the marker names the last key
/// returned, so a page continues after it even when items come and go.
pub(crate) fn page_sorted<T>(
    items: Vec<(String, T)>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>, IamError> {
    Ok(paging::page_sorted(items, marker, PAGE_SIZE.of(max_items))?)
}

/// One page of `items`, an answer rebuilt in the same order on every call: the marker is the
/// index of the next item.
pub(crate) fn page_by_index<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>, IamError> {
    Ok(paging::page_by_index(
        items,
        marker,
        PAGE_SIZE.of(max_items),
    )?)
}

#[cfg(test)]
mod tests {
    use rampart_service::testing::TestEnv;
    use rampart_store::put_json;

    use super::*;

    const NS: &str = "paging-test";

    fn store(t: &TestEnv, documents: &'static [(&'static str, u32)]) {
        t.write(move |_, tx| {
            for (key, n) in documents {
                put_json(tx, NS, key, n)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    fn list(
        t: &TestEnv,
        prefix: &'static str,
        marker: Option<String>,
    ) -> Result<Page<u32>, IamError> {
        t.read(move |_, tx| page::<u32>(tx, NS, prefix, marker.as_deref(), Some(1), |_| true))
    }

    /// A marker is a store key: one naming another account's records is refused with IAM's
    /// answer, never used to start the scan there; the account's own markers go on.
    #[test]
    fn a_marker_outside_the_listing_is_refused() {
        let t = TestEnv::new();
        store(
            &t,
            &[
                ("111111111111/a", 1),
                ("222222222222/a", 2),
                ("222222222222/b", 3),
            ],
        );
        let foreign = data_encoding::BASE64URL_NOPAD.encode(b"111111111111/");
        let e = list(&t, "222222222222/", Some(foreign)).unwrap_err();
        assert!(
            matches!(&e, IamError::InvalidInput(m) if m == "Invalid Marker."),
            "{e:?}"
        );
        let first = list(&t, "222222222222/", None).unwrap();
        assert_eq!(first.items, [2]);
        let second = list(&t, "222222222222/", first.next).unwrap();
        assert_eq!(second.items, [3]);
        assert!(!second.is_truncated());
    }

    /// IAM's own choice, kept on the shared paging: a record it cannot read fails the
    /// listing as a store failure.
    #[test]
    fn an_unreadable_record_fails_the_listing() {
        let t = TestEnv::new();
        t.write(|_, tx| tx.put(NS, "222222222222/a", b"{not json"))
            .unwrap();
        assert!(matches!(
            list(&t, "222222222222/", None),
            Err(IamError::Store(StoreError::Malformed { .. }))
        ));
    }
}
