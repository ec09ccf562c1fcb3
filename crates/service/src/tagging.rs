//! Tags on resources, for every service: the rules AWS applies when tags are given (the
//! reserved `aws:` prefix, repeated keys, the quota of tags per resource, the characters a
//! key and a value may hold) and how given tags merge into a resource's tags and leave it.
//!
//! Services differ, and each says how in its [`TagRules`]: IAM compares keys without regard
//! to case and refuses a key given twice; KMS compares them exactly, lets a later tag of a
//! request replace an earlier one, and reserves `aws:` as written; Organizations and
//! CloudTrail reserve `aws:` in any case. Each service keeps its own tag spelling (it
//! implements [`Tag`]) and its own error codes (it maps [`TagError`] and [`TagTextError`]).

use std::sync::OnceLock;

use regex::Regex;

/// The prefix AWS keeps for its own tags.
pub const RESERVED_PREFIX: &str = "aws:";
/// The most characters a tag key may have.
pub const MAX_KEY_CHARS: usize = 128;
/// The most characters a tag value may have.
pub const MAX_VALUE_CHARS: usize = 256;

/// A tag as a service spells it.
pub trait Tag {
    /// The key.
    fn key(&self) -> &str;
    /// The value; `None` where the service lets a tag have none (CloudTrail).
    fn value(&self) -> Option<&str>;
}

/// How tag keys compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCase {
    /// `Team` and `team` are two keys.
    Sensitive,
    /// `Team` and `team` are one key (IAM); a tag given later replaces the key's spelling too.
    Insensitive,
}

/// Whether keys beginning with [`RESERVED_PREFIX`] are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservedPrefix {
    /// They are accepted.
    Allowed,
    /// They are refused when spelled `aws:` exactly.
    ExactCase,
    /// They are refused in any case (`AWS:`, `Aws:`, …).
    AnyCase,
}

/// What a request that names one key twice gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKeys {
    /// An error.
    Refused,
    /// The later tag's value.
    LastWins,
}

/// One service's tag rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagRules {
    /// The most tags a resource may carry.
    pub max_tags: usize,
    /// How keys compare.
    pub key_case: KeyCase,
    /// Whether `aws:` keys are refused.
    pub reserved_prefix: ReservedPrefix,
    /// What a key given twice in one request gets.
    pub duplicate_keys: DuplicateKeys,
}

/// Why given tags are refused; the service maps it to its error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// A key begins with the reserved prefix.
    #[error("tag key `{key}` begins with the reserved prefix `aws:`")]
    ReservedKey {
        /// The key.
        key: String,
    },
    /// A key is given twice.
    #[error("tag key `{key}` is given more than once")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// The resource would carry more tags than its quota.
    #[error("{count} tags, over the quota of {max}")]
    TooMany {
        /// How many tags the resource would carry.
        count: usize,
        /// The quota.
        max: usize,
    },
}

impl TagRules {
    /// Whether `a` and `b` name the same key.
    pub fn same_key(&self, a: &str, b: &str) -> bool {
        match self.key_case {
            KeyCase::Sensitive => a == b,
            KeyCase::Insensitive => a.eq_ignore_ascii_case(b),
        }
    }

    fn check_key(&self, key: &str) -> Result<(), TagError> {
        let reserved = match self.reserved_prefix {
            ReservedPrefix::Allowed => false,
            ReservedPrefix::ExactCase => key.starts_with(RESERVED_PREFIX),
            ReservedPrefix::AnyCase => key
                .get(..RESERVED_PREFIX.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(RESERVED_PREFIX)),
        };
        if reserved {
            return Err(TagError::ReservedKey {
                key: key.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks keys named for removal: a reserved key is AWS's to remove.
    pub fn check_keys(&self, keys: &[impl AsRef<str>]) -> Result<(), TagError> {
        keys.iter().try_for_each(|key| self.check_key(key.as_ref()))
    }

    /// Checks tags given in one request: no reserved key, then no key twice (where refused).
    pub fn check<T: Tag>(&self, given: &[T]) -> Result<(), TagError> {
        for tag in given {
            self.check_key(tag.key())?;
        }
        if self.duplicate_keys == DuplicateKeys::Refused {
            for (i, tag) in given.iter().enumerate() {
                if given
                    .iter()
                    .skip(i + 1)
                    .any(|other| self.same_key(other.key(), tag.key()))
                {
                    return Err(TagError::DuplicateKey {
                        key: tag.key().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks tags given to a resource being created: [`TagRules::check`], then the quota.
    pub fn check_new<T: Tag>(&self, given: &[T]) -> Result<(), TagError> {
        self.check(given)?;
        self.check_count(self.new_keys(&[], given))
    }

    /// Adds `given` to `tags` (a key already there takes the given value), after
    /// [`TagRules::check`] and the quota; on an error `tags` is left as it was.
    pub fn merge<T: Tag>(&self, tags: &mut Vec<T>, given: Vec<T>) -> Result<(), TagError> {
        self.check(&given)?;
        self.check_count(tags.len().saturating_add(self.new_keys(tags, &given)))?;
        for tag in given {
            match tags
                .iter_mut()
                .find(|existing| self.same_key(existing.key(), tag.key()))
            {
                Some(existing) => *existing = tag,
                None => tags.push(tag),
            }
        }
        Ok(())
    }

    /// Removes the tags whose keys are among `keys` (keys the resource lacks are ignored).
    pub fn remove<T: Tag>(&self, tags: &mut Vec<T>, keys: &[impl AsRef<str>]) {
        tags.retain(|tag| {
            !keys
                .iter()
                .any(|key| self.same_key(key.as_ref(), tag.key()))
        });
    }

    /// How many distinct keys of `given` are not among `tags`.
    fn new_keys<T: Tag>(&self, tags: &[T], given: &[T]) -> usize {
        let mut added: Vec<&str> = Vec::new();
        for tag in given {
            let key = tag.key();
            let known = tags.iter().any(|t| self.same_key(t.key(), key))
                || added.iter().any(|k| self.same_key(k, key));
            if !known {
                added.push(key);
            }
        }
        added.len()
    }

    fn check_count(&self, count: usize) -> Result<(), TagError> {
        if count > self.max_tags {
            return Err(TagError::TooMany {
                count,
                max: self.max_tags,
            });
        }
        Ok(())
    }
}

/// Why a tag's text is refused: for services whose API model does not check it already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagTextError {
    /// The key is empty, too long, or holds a character tags may not.
    #[error("tag key `{key}` is not 1 to 128 letters, digits, spaces and `_ . : / = + - @`")]
    InvalidKey {
        /// The key.
        key: String,
    },
    /// The value is too long or holds a character tags may not.
    #[error(
        "the value of tag key `{key}` is not up to 256 letters, digits, spaces and `_ . : / = + - @`"
    )]
    InvalidValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

/// Whether `text` holds only what AWS allows in tags: letters, digits, spaces (Unicode's
/// categories L, N and Z, as AWS's `[\p{L}\p{Z}\p{N}_.:/=+\-@]` pattern says) and
/// `_ . : / = + - @`.
fn allowed_text(text: &str) -> bool {
    static ALLOWED: OnceLock<Option<Regex>> = OnceLock::new();
    ALLOWED
        .get_or_init(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").ok())
        .as_ref()
        // The pattern is constant and compiles (a test says so); were it not to, no text
        // would pass rather than any.
        .is_some_and(|allowed| allowed.is_match(text))
}

/// Checks a tag's key (1 to 128 characters) and value (up to 256) against AWS's tag
/// character rules.
pub fn check_text<T: Tag>(tag: &T) -> Result<(), TagTextError> {
    let key = tag.key();
    let key_chars = key.chars().count();
    if key_chars == 0 || key_chars > MAX_KEY_CHARS || !allowed_text(key) {
        return Err(TagTextError::InvalidKey {
            key: key.to_owned(),
        });
    }
    if let Some(value) = tag.value()
        && (value.chars().count() > MAX_VALUE_CHARS || !allowed_text(value))
    {
        return Err(TagTextError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "tagging_tests.rs"]
mod tests;
