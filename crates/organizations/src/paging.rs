//! Paging as Organizations does it: `MaxResults` (1–20, checked by the model) and
//! `NextToken` in, `NextToken` out while more remain, on the shared paging of
//! `rampart_service::paging`.
//!
//! Listings are small (an organization holds at most thousands of entities), so each is
//! built whole and cut into pages in the order of a stable key; the token names the last key
//! returned. What is Organizations' own: its page size and its answer to a token it did not
//! hand out.

use rampart_service::paging::{self, Page, PageError, PageSize};

use crate::OrganizationsError;
use crate::error::InvalidInput;

/// Items per page when the caller does not say (AWS's documented maximum), and at most.
const PAGE_SIZE: PageSize = PageSize::new(20, 20);

impl From<PageError> for OrganizationsError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => {
                OrganizationsError::InvalidInput(InvalidInput::InvalidNextToken)
            }
            PageError::Store(e) => OrganizationsError::Store(e),
        }
    }
}

/// The page of `items` after `next_token`, at most `max_results` long; `key` names an item
/// uniquely.
pub(crate) fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<Page<T>, OrganizationsError> {
    let keyed = items.into_iter().map(|item| (key(&item), item)).collect();
    Ok(paging::page_sorted(
        keyed,
        next_token,
        PAGE_SIZE.of(max_results),
    )?)
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
            match page.next {
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
            first.next.as_deref(),
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
