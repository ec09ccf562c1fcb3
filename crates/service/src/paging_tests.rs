use std::collections::BTreeMap;

use rampart_store::JournalEntry;

use super::*;

/// A store of one namespace in memory, scanned as the SQLite store scans: keys in byte
/// order, those under the prefix, after `after`.
#[derive(Default)]
struct Documents(BTreeMap<String, Vec<u8>>);

impl Documents {
    fn of(keys: &[&str]) -> Self {
        Self(
            keys.iter()
                .map(|k| ((*k).to_owned(), k.as_bytes().to_vec()))
                .collect(),
        )
    }
}

impl ReadTx for Documents {
    fn get(&mut self, _ns: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(key).cloned())
    }

    fn scan(
        &mut self,
        _ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .0
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn journal_after(
        &mut self,
        _after: u64,
        _limit: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        Ok(Vec::new())
    }
}

/// Every page of a scan, following tokens to the end.
fn scan_all(
    docs: &mut Documents,
    prefix: &str,
    size: usize,
    keep: impl Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = scan_page(docs, "ns", prefix, token.as_deref(), size, |_, key, _| {
            Ok::<_, PageError>(keep(key).then(|| key.to_owned()))
        })
        .unwrap();
        pages.push(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => return pages,
        }
    }
}

fn keyed(keys: &[&str]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| ((*k).to_owned(), (*k).to_owned()))
        .collect()
}

#[test]
fn page_sizes_default_and_stay_within_one_and_the_maximum() {
    let size = PageSize::new(100, 1000);
    assert_eq!(size.of(None), 100);
    assert_eq!(size.of(Some(7)), 7);
    assert_eq!(size.of(Some(1000)), 1000);
    assert_eq!(size.of(Some(1001)), 1000);
    assert_eq!(size.of(Some(0)), 1);
    assert_eq!(size.of(Some(-5)), 1);
    assert_eq!(size.of(Some(i64::MAX)), 1000);
    // A default above the maximum, or a zero, cannot make an endless or empty page.
    assert_eq!(PageSize::new(50, 20).of(None), 20);
    assert_eq!(PageSize::new(0, 0).of(None), 1);
}

#[test]
fn sorted_pages_cover_every_item_once_in_key_order() {
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page = page_sorted(keyed(&["c", "a", "e", "b", "d"]), token.as_deref(), 2).unwrap();
        assert_eq!(page.is_truncated(), page.next.is_some());
        pages.push(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
    let whole = page_sorted(keyed(&["a", "b"]), None, 2).unwrap();
    assert_eq!((whole.items.len(), whole.next), (2, None));
    let empty = page_sorted(keyed(&[]), None, 2).unwrap();
    assert_eq!((empty.items.len(), empty.next), (0, None));
}

#[test]
fn a_sorted_page_continues_after_its_last_key_when_items_come_and_go() {
    let first = page_sorted(keyed(&["a", "b", "c"]), None, 1).unwrap();
    // "a" is deleted and "aa" added before the next page: neither repeats nor hides "b".
    let next = page_sorted(keyed(&["aa", "b", "c"]), first.next.as_deref(), 1).unwrap();
    assert_eq!(next.items, ["aa"]);
    let gone = page_sorted(keyed(&["b", "c"]), first.next.as_deref(), 1).unwrap();
    assert_eq!(gone.items, ["b"]);
}

#[test]
fn a_key_token_is_opaque_base64_of_the_last_key() {
    let page = page_sorted(keyed(&["alice", "bob"]), None, 1).unwrap();
    assert_eq!(page.next.as_deref(), Some("YWxpY2U"));
}

#[test]
fn tokens_not_handed_out_are_refused() {
    for token in ["%%%", "not base64!", "_w"] {
        assert!(
            matches!(
                page_sorted(keyed(&["a"]), Some(token), 1),
                Err(PageError::InvalidToken)
            ),
            "{token}"
        );
    }
    for token in ["x", "-1", "1.5", "99999999999999999999999"] {
        assert!(
            matches!(
                page_by_index(vec![1, 2], Some(token), 1),
                Err(PageError::InvalidToken)
            ),
            "{token}"
        );
    }
}

#[test]
fn index_pages_continue_at_the_next_index() {
    let first = page_by_index((0..5).collect(), None, 2).unwrap();
    assert_eq!(first.items, [0, 1]);
    assert_eq!(first.next.as_deref(), Some("2"));
    let second = page_by_index((0..5).collect(), first.next.as_deref(), 10).unwrap();
    assert_eq!(second.items, [2, 3, 4]);
    assert!(!second.is_truncated());
    // An index past the end (a forged or stale token) is an empty last page, not a crash.
    let past = page_by_index(
        (0..5).collect::<Vec<_>>(),
        Some(&usize::MAX.to_string()),
        10,
    )
    .unwrap();
    assert!(past.items.is_empty() && past.next.is_none());
}

#[test]
fn a_zero_size_still_pages_rather_than_ending_the_listing() {
    let sorted = page_sorted(keyed(&["a", "b"]), None, 0).unwrap();
    assert_eq!((sorted.items.len(), sorted.next.is_some()), (1, true));
    let indexed = page_by_index(vec![1, 2], None, 0).unwrap();
    assert_eq!((indexed.items.len(), indexed.next.is_some()), (1, true));
    let mut docs = Documents::of(&["p/a", "p/b"]);
    assert_eq!(scan_all(&mut docs, "p/", 0, |_| true).len(), 2);
}

#[test]
fn one_page_listings_refuse_every_token() {
    assert!(single_page(None).is_ok());
    assert!(matches!(
        single_page(Some("")),
        Err(PageError::InvalidToken)
    ));
    assert!(matches!(
        single_page(Some("YWxpY2U")),
        Err(PageError::InvalidToken)
    ));
}

#[test]
fn scans_page_through_matches_under_the_prefix_only() {
    let keys: Vec<String> = (0..250).map(|i| format!("acct1/{i:03}")).collect();
    let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
    all.extend(["acct0/z", "acct2/a"]);
    let mut docs = Documents::of(&all);
    // Every third document matches: pages skip the others, across scan batches.
    let pages = scan_all(&mut docs, "acct1/", 30, |k| {
        k.trim_start_matches("acct1/").parse::<u32>().unwrap() % 3 == 0
    });
    let found: Vec<String> = pages.concat();
    let expected: Vec<String> = (0..250)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("acct1/{i:03}"))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(pages.len(), 3);
    assert!(pages[..2].iter().all(|p| p.len() == 30));
}

#[test]
fn a_scan_whose_matches_fill_the_page_exactly_is_not_truncated() {
    let mut docs = Documents::of(&["p/a", "p/b", "p/c", "q/a"]);
    let page = scan_page(&mut docs, "ns", "p/", None, 3, |_, key, _| {
        Ok::<_, PageError>(Some(key.to_owned()))
    })
    .unwrap();
    assert_eq!(page.items, ["p/a", "p/b", "p/c"]);
    assert!(!page.is_truncated());
}

/// A token is a key: one naming a key outside the listing's prefix (another account's
/// records) is refused, not used to move the scan there.
#[test]
fn a_scan_token_outside_the_prefix_is_refused() {
    let mut docs = Documents::of(&["111111111111/alice", "222222222222/bob"]);
    let foreign = data_encoding::BASE64URL_NOPAD.encode(b"111111111111/");
    let below = data_encoding::BASE64URL_NOPAD.encode(b"");
    for token in [foreign.as_str(), below.as_str(), "%%%"] {
        let result = scan_page(
            &mut docs,
            "ns",
            "222222222222/",
            Some(token),
            10,
            |_, k, _| Ok::<_, PageError>(Some(k.to_owned())),
        );
        assert!(matches!(result, Err(PageError::InvalidToken)), "{token}");
    }
    // The listing's own token goes on as usual.
    let own = data_encoding::BASE64URL_NOPAD.encode(b"222222222222/");
    let page = scan_page(
        &mut docs,
        "ns",
        "222222222222/",
        Some(&own),
        10,
        |_, k, _| Ok::<_, PageError>(Some(k.to_owned())),
    )
    .unwrap();
    assert_eq!(page.items, ["222222222222/bob"]);
}

#[test]
fn a_scan_passes_the_keeps_error_on() {
    #[derive(Debug)]
    enum ServiceError {
        Page,
        Unreadable(String),
    }
    impl From<PageError> for ServiceError {
        fn from(_: PageError) -> Self {
            ServiceError::Page
        }
    }
    let mut docs = Documents::of(&["p/a", "p/b"]);
    let result = scan_page(&mut docs, "ns", "p/", None, 10, |_, key, _| {
        if key == "p/b" {
            return Err(ServiceError::Unreadable(key.to_owned()));
        }
        Ok(Some(()))
    });
    assert!(matches!(result, Err(ServiceError::Unreadable(k)) if k == "p/b"));
    let bad = scan_page(&mut docs, "ns", "p/", Some("%%%"), 10, |_, _, _| {
        Ok::<Option<()>, ServiceError>(None)
    });
    assert!(matches!(bad, Err(ServiceError::Page)));
}
