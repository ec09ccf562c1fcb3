//! The request context: condition keys and their values.

use crate::key_hash::KeyMap;

/// Condition keys of a request and their values. Key names are
/// case-insensitive, values are kept as text (AWS coerces them per operator).
///
/// A key is single-valued (`aws:SourceIp`) or multivalued (`aws:TagKeys`); the
/// difference matters for policy variables, which AWS cannot substitute from a
/// multivalued key. An empty multivalued key counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: KeyMap<ContextValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ContextValue {
    values: Vec<Box<str>>,
    multivalued: bool,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `keys` keys: a request's context holds a few dozen,
    /// and growing the map to them rehashes it several times.
    pub fn with_capacity(keys: usize) -> Self {
        Self {
            entries: KeyMap::with_capacity_and_hasher(keys, Default::default()),
        }
    }

    /// Sets a single-valued key, replacing any previous value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.entries.insert(
            lowercase(key).into_boxed_str(),
            ContextValue {
                values: vec![value.into().into_boxed_str()],
                multivalued: false,
            },
        );
    }

    /// Sets a multivalued key, replacing any previous values.
    pub fn insert_multi<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entries.insert(
            lowercase(key).into_boxed_str(),
            ContextValue {
                values: values
                    .into_iter()
                    .map(|v| v.into().into_boxed_str())
                    .collect(),
                multivalued: true,
            },
        );
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::insert_multi`].
    pub fn with_multi<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert_multi(key, values);
        self
    }

    /// The values of a key (any case), if present and not empty.
    pub fn get(&self, key: &str) -> Option<&[Box<str>]> {
        self.lookup(&lowercase(key)).map(|(values, _)| values)
    }

    /// The keys present (lower-cased, as they are compared), in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|(_, v)| !v.values.is_empty())
            .map(|(k, _)| k.as_ref())
    }

    /// Keeps only the keys (lower-cased, as they are compared) that `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|key, _| keep(key));
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks up an already-lowercased key; no allocation on the hot path.
    pub(crate) fn lookup(&self, key: &str) -> Option<(&[Box<str>], bool)> {
        self.entries
            .get(key)
            .filter(|v| !v.values.is_empty())
            .map(|v| (v.values.as_slice(), v.multivalued))
    }
}

/// `key` lowercased as condition keys compare: ASCII keys (nearly all) without the Unicode
/// tables, which give the same result for them.
fn lowercase(key: &str) -> String {
    if key.is_ascii() {
        key.to_ascii_lowercase()
    } else {
        key.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_values_are_not() {
        let ctx = Context::new()
            .with("aws:SourceIp", "10.0.0.1")
            .with_multi("aws:TagKeys", ["A", "b"]);
        assert_eq!(ctx.get("AWS:SOURCEIP").unwrap()[0].as_ref(), "10.0.0.1");
        assert_eq!(ctx.lookup("aws:tagkeys").unwrap().0.len(), 2);
        assert!(ctx.lookup("aws:tagkeys").unwrap().1);
        let mut keys: Vec<&str> = ctx.keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["aws:sourceip", "aws:tagkeys"]);
        let mut kept = ctx.clone();
        kept.retain(|key| key != "aws:tagkeys");
        assert!(kept.get("aws:TagKeys").is_none() && kept.get("aws:SourceIp").is_some());
    }

    #[test]
    fn empty_multivalued_key_is_absent() {
        let ctx = Context::new().with_multi("aws:TagKeys", Vec::<String>::new());
        assert!(ctx.get("aws:TagKeys").is_none());
    }
}
