//! ARN-aware matching for `Resource` elements and the `Arn*` operators.
//!
//! AWS matches each of the six colon-separated components of an ARN
//! separately (`arn:partition:service:region:account:resource`), so a `*` in
//! the region never swallows the account; the last component is the rest of
//! the string, where `*` may span `/` and `:`. Matching is case-sensitive.

use crate::variables::{Syntax, Variables};
use crate::wildcard::Pattern;

/// A compiled ARN pattern.
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    /// `*`: every resource.
    Any,
    /// Not six components: matched as one string.
    Whole(Pattern),
    /// Six components, each matched on its own.
    Components(Box<[Pattern; 6]>),
}

impl ArnPattern {
    pub(crate) fn new(text: &str, syntax: Syntax) -> Self {
        if text == "*" {
            return Self::Any;
        }
        let special =
            |part: &str| part.contains(['*', '?']) || (syntax.variables && part.contains("${"));
        match split_components(text, syntax.variables) {
            // With the first five components literal, matching the whole text
            // is the same as matching component by component (the literal
            // prefix pins all five colons), and it takes the fast paths.
            Some([a, b, c, d, e, _]) if ![a, b, c, d, e].into_iter().any(special) => {
                Self::Whole(Pattern::new(text, syntax, false))
            }
            Some([a, b, c, d, e, f]) => Self::Components(Box::new([
                Pattern::new(a, syntax, false),
                Pattern::new(b, syntax, false),
                Pattern::new(c, syntax, false),
                Pattern::new(d, syntax, false),
                Pattern::new(e, syntax, false),
                Pattern::new(f, syntax, false),
            ])),
            None => Self::Whole(Pattern::new(text, syntax, false)),
        }
    }

    /// Whether every policy variable in the pattern resolves for this request.
    pub(crate) fn resolves(&self, vars: &dyn Variables) -> bool {
        match self {
            Self::Any => true,
            Self::Whole(pattern) => pattern.resolves(vars),
            Self::Components(patterns) => patterns.iter().all(|p| p.resolves(vars)),
        }
    }

    /// Matches a concrete ARN; `None` when a policy variable does not resolve.
    pub(crate) fn matches(&self, arn: &str, vars: &dyn Variables) -> Option<bool> {
        match self {
            Self::Any => Some(true),
            Self::Whole(pattern) => pattern.matches(arn, vars),
            Self::Components(patterns) => {
                if !patterns.iter().all(|p| p.resolves(vars)) {
                    return None;
                }
                let Some(parts) = split_components(arn, false) else {
                    return Some(false);
                };
                Some(
                    patterns
                        .iter()
                        .zip(parts)
                        .all(|(pattern, part)| pattern.matches(part, vars) == Some(true)),
                )
            }
        }
    }
}

/// Splits at the first five colons, ignoring colons inside `${…}` when
/// variables are recognized. `None` if there are fewer than five.
pub(crate) fn split_components(text: &str, skip_variables: bool) -> Option<[&str; 6]> {
    let mut cuts = [0usize; 5];
    let mut found = 0;
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && found < 5 {
        match bytes.get(i) {
            Some(b'$') if skip_variables && bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            Some(b'}') if depth > 0 => depth -= 1,
            Some(b':') if depth == 0 => {
                if let Some(slot) = cuts.get_mut(found) {
                    *slot = i;
                }
                found += 1;
            }
            _ => {}
        }
        i += 1;
    }
    if found < 5 {
        return None;
    }
    let [c0, c1, c2, c3, c4] = cuts;
    Some([
        text.get(..c0)?,
        text.get(c0 + 1..c1)?,
        text.get(c1 + 1..c2)?,
        text.get(c2 + 1..c3)?,
        text.get(c3 + 1..c4)?,
        text.get(c4 + 1..)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::NoVariables;
    use crate::wildcard::GLOB;

    fn m(pattern: &str, arn: &str) -> bool {
        ArnPattern::new(pattern, GLOB)
            .matches(arn, &NoVariables)
            .unwrap()
    }

    #[test]
    fn components_match_separately() {
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c"));
        assert!(m(
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        ));
        // A `*` in the region does not reach into the account.
        assert!(!m("arn:aws:iam::*:user/*", "arn:aws:iam::111:222:user/x"));
        assert!(m("arn:aws:iam::*", "arn:aws:iam::111:222:user/x"));
        assert!(!m("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x"));
        assert!(m("*", "anything"));
        assert!(!m("arn:aws:s3:::*", "*"));
    }

    #[test]
    fn splits_six_components() {
        assert_eq!(
            split_components("arn:aws:iam::123456789012:role/a:b", false),
            Some(["arn", "aws", "iam", "", "123456789012", "role/a:b"])
        );
        assert_eq!(split_components("arn:aws:iam", false), None);
    }
}
