//! Paging as Organizations does it: `MaxResults` (1–20, checked by the model) and
//! `NextToken` in, `NextToken` out while more remain.
//!
//! Listings are small (an organization holds at most thousands of entities), so each is
//! built whole, sorted by a stable key, and cut into pages. A token is the key of the last
//! item returned, base64-encoded so callers treat it as opaque; the next page starts after
//! it, so items added or removed between pages neither repeat nor hide others.

use crate::OrganizationsError;
use crate::error::InvalidInput;

/// Items per page when the caller does not say (AWS's documented maximum).
const DEFAULT_PAGE: usize = 20;

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_token: Option<String>,
}

fn invalid_token() -> OrganizationsError {
    OrganizationsError::InvalidInput(InvalidInput::InvalidNextToken)
}

/// The page of `items` after `next_token`, at most `max_results` long; `key` names an item
/// uniquely.
pub(crate) fn page<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<Page<T>, OrganizationsError> {
    let limit = max_results
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PAGE);
    items.sort_by_key(&key);
    let start = match next_token {
        None => 0,
        Some(token) => {
            let raw = data_encoding::BASE64URL_NOPAD
                .decode(token.as_bytes())
                .map_err(|_| invalid_token())?;
            let after = String::from_utf8(raw).map_err(|_| invalid_token())?;
            items.partition_point(|item| key(item) <= after)
        }
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next_token = if rest.len() > limit {
        rest.truncate(limit);
        rest.last()
            .map(|last| data_encoding::BASE64URL_NOPAD.encode(key(last).as_bytes()))
    } else {
        None
    };
    Ok(Page {
        items: rest,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_pages(items: &[&str], size: i64) -> Vec<Vec<String>> {
        let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        let mut pages = Vec::new();
        let mut token = None;
        loop {
            let page = page(items.clone(), Clone::clone, token.as_deref(), Some(size)).unwrap();
            pages.push(page.items);
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        pages
    }

    #[test]
    fn pages_cover_every_item_once_in_key_order() {
        assert_eq!(
            all_pages(&["c", "a", "e", "b", "d"], 2),
            vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]
        );
        assert_eq!(all_pages(&["a", "b"], 2), vec![vec!["a", "b"]]);
        assert_eq!(all_pages(&[], 2), vec![Vec::<String>::new()]);
    }

    #[test]
    fn a_removed_item_does_not_shift_the_next_page() {
        let first = page(
            vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            Clone::clone,
            None,
            Some(1),
        )
        .unwrap();
        let next = page(
            vec!["b".to_owned(), "c".to_owned()],
            Clone::clone,
            first.next_token.as_deref(),
            Some(1),
        )
        .unwrap();
        assert_eq!(next.items, ["b"]);
    }

    #[test]
    fn a_foreign_token_is_refused() {
        let err = page(vec!["a".to_owned()], Clone::clone, Some("%%%"), None).unwrap_err();
        assert!(matches!(
            err,
            OrganizationsError::InvalidInput(InvalidInput::InvalidNextToken)
        ));
    }
}
