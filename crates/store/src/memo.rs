//! Documents decoded once per read snapshot, and decodings shared across requests.
//!
//! One request resolves the same records more than once: its authorization step finds the
//! secret or key it names, then the handler finds it again, and a call to another service
//! (KMS decrypting for Secrets Manager) does the same for its key. Inside one read-only
//! snapshot a document cannot change, so the first decoding can serve the others.
//!
//! Across requests, the hot records (the key every GetSecretValue decrypts with) are read
//! again and again unchanged. Decoding is a pure function of the bytes, so a decoding kept
//! beside the exact bytes it came from serves any later read of the same bytes: each read
//! still fetches the document from its own snapshot and compares, so a change is seen at once
//! and nothing needs invalidating.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use crate::json::decode;
use crate::{ReadTx, StoreError};

/// Decoded documents of one read snapshot, each kept as the type it was decoded into.
#[derive(Default)]
pub struct Memo {
    // A request touches a handful of documents: a list scanned without allocating beats a map.
    decoded: Vec<Decoded>,
}

struct Decoded {
    ns: String,
    key: String,
    value: Arc<dyn Any + Send + Sync>,
}

impl Memo {
    fn get<T: Any + Send + Sync>(&self, ns: &str, key: &str) -> Option<Arc<Option<T>>> {
        self.decoded
            .iter()
            .filter(|d| d.ns == ns && d.key == key)
            .find_map(|d| Arc::clone(&d.value).downcast::<Option<T>>().ok())
    }

    fn insert<T: Any + Send + Sync>(&mut self, ns: &str, key: &str, value: Arc<Option<T>>) {
        self.decoded.push(Decoded {
            ns: ns.to_owned(),
            key: key.to_owned(),
            value,
        });
    }
}

/// A read-only snapshot that remembers what was decoded from it. Wrap a snapshot in it for
/// the length of one request: never a write transaction, whose documents change.
pub struct Memoized<'a> {
    inner: &'a mut dyn ReadTx,
    memo: Memo,
}

impl<'a> Memoized<'a> {
    /// `snapshot`, with an empty memo.
    pub fn new(snapshot: &'a mut dyn ReadTx) -> Self {
        Self {
            inner: snapshot,
            memo: Memo::default(),
        }
    }
}

impl ReadTx for Memoized<'_> {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(ns, key)
    }

    fn scan(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan(ns, prefix, after, limit)
    }

    fn journal_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::JournalEntry>, StoreError> {
        self.inner.journal_after(after, limit)
    }

    fn journal_lookup(
        &mut self,
        query: &crate::JournalQuery,
    ) -> Result<Vec<crate::JournalHit>, StoreError> {
        self.inner.journal_lookup(query)
    }

    fn documents_after(
        &mut self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::Document>, StoreError> {
        self.inner.documents_after(after, limit)
    }

    fn journal_records_after(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::JournalRecord>, StoreError> {
        self.inner.journal_records_after(after, limit)
    }

    fn memo(&mut self) -> Option<&mut Memo> {
        Some(&mut self.memo)
    }
}

/// The document at (`ns`, `key`) decoded as `T`, decoded at most once per snapshot that keeps a
/// [`Memo`] (elsewhere, exactly [`get_json`]). For records read on every request.
pub fn get_json_memo<T>(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    key: &str,
) -> Result<Option<T>, StoreError>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    if let Some(known) = tx.memo().and_then(|memo| memo.get::<T>(ns, key)) {
        return Ok(Option::clone(&known));
    }
    let value = match tx.get(ns, key)? {
        None => None,
        Some(bytes) => Some(SHARED.decode::<T>(ns, key, bytes)?),
    };
    if let Some(memo) = tx.memo() {
        memo.insert(ns, key, Arc::new(value.clone()));
    }
    Ok(value)
}

/// Decodings of documents, each beside the bytes it was decoded from, shared by every
/// request of the process (see the module's documentation).
struct SharedDecodings {
    entries: Mutex<HashMap<(TypeId, String, String), SharedEntry>>,
}

struct SharedEntry {
    bytes: Vec<u8>,
    value: Arc<dyn Any + Send + Sync>,
}

/// Documents larger than this are decoded each time: the hot records are small, and a big
/// one would cost more memory than its decoding costs time.
const SHARED_MAX_BYTES: usize = 16 * 1024;
/// Entries kept at most; past it the cache starts afresh (the hot records come back at once).
const SHARED_MAX_ENTRIES: usize = 4096;

static SHARED: LazyLock<SharedDecodings> = LazyLock::new(|| SharedDecodings {
    entries: Mutex::new(HashMap::new()),
});

impl SharedDecodings {
    /// `bytes`, the document at (`ns`, `key`), decoded as `T`: the kept decoding when it came
    /// from the same bytes, else a fresh one, kept for the next read.
    fn decode<T>(&self, ns: &str, key: &str, bytes: Vec<u8>) -> Result<T, StoreError>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let id = (TypeId::of::<T>(), ns.to_owned(), key.to_owned());
        if bytes.len() > SHARED_MAX_BYTES {
            return decode(ns, key, &bytes);
        }
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = entries.get(&id)
                && entry.bytes == bytes
                && let Some(value) = entry.value.downcast_ref::<T>()
            {
                return Ok(value.clone());
            }
        }
        let value: T = decode(ns, key, &bytes)?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= SHARED_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            id,
            SharedEntry {
                bytes,
                value: Arc::new(value.clone()),
            },
        );
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JournalEntry, ReadTx};

    /// A snapshot of one document that counts how often it is read.
    struct Counting {
        reads: usize,
    }

    impl ReadTx for Counting {
        fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.reads += 1;
            Ok((ns == "keys" && key == "k1").then(|| br#"{"name":"one"}"#.to_vec()))
        }

        fn scan(
            &mut self,
            _: &str,
            _: &str,
            _: Option<&str>,
            _: usize,
        ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
            Ok(Vec::new())
        }

        fn journal_after(&mut self, _: u64, _: usize) -> Result<Vec<JournalEntry>, StoreError> {
            Ok(Vec::new())
        }
    }

    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Named {
        name: String,
    }

    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Other {
        name: String,
    }

    #[test]
    fn a_memoized_snapshot_decodes_each_document_once_per_type_and_remembers_absence() {
        let mut snapshot = Counting { reads: 0 };
        let mut tx = Memoized::new(&mut snapshot);
        let one = Named { name: "one".into() };
        for _ in 0..3 {
            assert_eq!(
                get_json_memo::<Named>(&mut tx, "keys", "k1").unwrap(),
                Some(one.clone())
            );
            assert_eq!(get_json_memo::<Named>(&mut tx, "keys", "k2").unwrap(), None);
        }
        // Another type decodes the same document again: the memo never hands out a wrong type.
        assert_eq!(
            get_json_memo::<Other>(&mut tx, "keys", "k1").unwrap(),
            Some(Other { name: "one".into() })
        );
        assert_eq!(
            get_json_memo::<Named>(&mut tx, "other", "k1").unwrap(),
            None
        );
        drop(tx);
        assert_eq!(snapshot.reads, 4);
    }

    #[test]
    fn without_a_memo_every_read_goes_to_the_snapshot() {
        let mut snapshot = Counting { reads: 0 };
        for _ in 0..3 {
            assert!(
                get_json_memo::<Named>(&mut snapshot, "keys", "k1")
                    .unwrap()
                    .is_some()
            );
        }
        assert_eq!(snapshot.reads, 3);
    }

    /// A snapshot holding one document whose bytes the test changes.
    struct OneDocument(Vec<u8>);

    impl ReadTx for OneDocument {
        fn get(&mut self, _: &str, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(Some(self.0.clone()))
        }

        fn scan(
            &mut self,
            _: &str,
            _: &str,
            _: Option<&str>,
            _: usize,
        ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
            Ok(Vec::new())
        }

        fn journal_after(&mut self, _: u64, _: usize) -> Result<Vec<JournalEntry>, StoreError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_shared_decoding_never_outlives_the_bytes_it_came_from() {
        let key = "shared-decoding-test";
        let mut before = OneDocument(br#"{"name":"before"}"#.to_vec());
        let mut after = OneDocument(br#"{"name":"after"}"#.to_vec());
        for _ in 0..2 {
            let read = |tx: &mut OneDocument| get_json_memo::<Named>(tx, "keys", key).unwrap();
            assert_eq!(
                read(&mut before),
                Some(Named {
                    name: "before".into()
                })
            );
            // The same document, changed since: decoded afresh, at once.
            assert_eq!(
                read(&mut after),
                Some(Named {
                    name: "after".into()
                })
            );
        }
        // Bytes that do not decode are refused every time, never served from an older read.
        let mut broken = OneDocument(br#"{"name":"#.to_vec());
        assert!(get_json_memo::<Named>(&mut broken, "keys", key).is_err());
        assert!(get_json_memo::<Named>(&mut broken, "keys", key).is_err());
    }
}
