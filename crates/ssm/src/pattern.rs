//! `AllowedPattern`: a regular expression a parameter's value must match, whole (as Java's
//! `Pattern.matches`, which Parameter Store uses, does).
//!
//! The pattern is untrusted input: at most 1024 characters (the API model's bound), compiled
//! with bounded program and cache sizes and a bounded nesting depth by the `regex` crate,
//! whose matching time is linear in the value's length whatever the pattern. Java features
//! the crate lacks (look-around, backreferences) are refused as invalid patterns. A fuzz target
//! (`fuzz/fuzz_targets/ssm_allowed_pattern.rs`) runs [`compile`] and [`AllowedPattern::matches`].

use regex::{Regex, RegexBuilder};

/// The longest pattern the API accepts.
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Bounds on the compiled program and the lazy DFA's cache, in bytes.
const SIZE_LIMIT: usize = 1 << 20;
const DFA_SIZE_LIMIT: usize = 1 << 20;
/// The deepest nesting of groups and repetitions accepted.
const NEST_LIMIT: u32 = 50;

/// A compiled `AllowedPattern`.
#[derive(Debug, Clone)]
pub struct AllowedPattern {
    regex: Regex,
}

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The request does not meet the regular expression requirement: {0}")]
pub struct PatternError(String);

/// Compiles `pattern`, anchored at both ends.
pub fn compile(pattern: &str) -> Result<AllowedPattern, PatternError> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(PatternError(format!(
            "AllowedPattern is longer than {MAX_PATTERN_CHARS} characters"
        )));
    }
    // The pattern alone first: wrapped, `a)|(b` would parse and escape the anchors.
    build(pattern)?;
    build(&format!("^(?:{pattern})$")).map(|regex| AllowedPattern { regex })
}

fn build(pattern: &str) -> Result<Regex, PatternError> {
    RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .nest_limit(NEST_LIMIT)
        .build()
        .map_err(|e| {
            PatternError(match e {
                regex::Error::CompiledTooBig(_) => "the pattern is too complex".to_owned(),
                _ => "the pattern is not a valid regular expression".to_owned(),
            })
        })
}

impl AllowedPattern {
    /// Whether the whole of `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn patterns_match_the_whole_value() {
        let digits = compile(r"\d+").unwrap();
        assert!(digits.matches("123"));
        assert!(!digits.matches("12a"));
        assert!(!digits.matches("a12"));
        // An alternation stays inside the anchors.
        let either = compile("a|b").unwrap();
        assert!(!either.matches("ab"));
        assert!(either.matches("b"));
    }

    #[test]
    fn invalid_huge_and_unbalanced_patterns_are_refused() {
        assert!(compile("(").is_err());
        assert!(compile("a)(").is_err());
        assert!(compile("a)|(.*").is_err());
        assert!(compile(r"(a)\1").is_err());
        assert!(compile(&"x".repeat(MAX_PATTERN_CHARS + 1)).is_err());
        assert!(compile(&format!("{}a{}", "(".repeat(60), ")".repeat(60))).is_err());
        assert!(compile(r"(\w{100}){100}").is_err());
        // Catastrophic for a backtracking engine, linear here.
        let nested = compile("(a+)+b").unwrap();
        assert!(!nested.matches(&"a".repeat(10_000)));
    }
}
