//! Compiled string patterns: literals, `*`, `?` and policy variables.
//!
//! A pattern is split at its `*`s into pieces of fixed width; the first piece
//! is anchored at the start, the last at the end, and the middle ones are
//! matched leftmost-first. For glob patterns that is exact and needs no
//! backtracking. Common shapes (exact text, prefix, `*`) take fast paths.

use crate::variables::{Syntax, Token, Variables, resolve, tokenize};

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The text compiled (lowercased when folding).
    source: Box<str>,
    shape: Shape,
    /// Compare case-insensitively (action names, `…IgnoreCase` operators).
    fold: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    /// `*`.
    Any,
    /// No wildcard and no variable.
    Exact(Box<str>),
    /// `literal*`.
    Prefix(Box<str>),
    /// Anything else: pieces between stars.
    General {
        pieces: Box<[Box<[Token]>]>,
        has_star: bool,
        has_vars: bool,
    },
}

impl Pattern {
    /// Compiles `text`. With `fold`, literals are lowercased here so that only
    /// the subject needs folding at match time.
    pub(crate) fn new(text: &str, syntax: Syntax, fold: bool) -> Self {
        let source = if fold {
            text.to_lowercase()
        } else {
            text.to_owned()
        };
        let tokens = tokenize(&source, syntax);
        let shape = match tokens.as_slice() {
            [Token::Star] => Shape::Any,
            [] => Shape::Exact("".into()),
            [Token::Lit(l)] => Shape::Exact(l.clone()),
            [Token::Lit(l), Token::Star] => Shape::Prefix(l.clone()),
            _ => {
                let has_star = tokens.contains(&Token::Star);
                let has_vars = tokens.iter().any(|t| matches!(t, Token::Var(_)));
                let pieces = tokens
                    .split(|t| *t == Token::Star)
                    .map(|piece| piece.to_vec().into_boxed_slice())
                    .collect();
                Shape::General {
                    pieces,
                    has_star,
                    has_vars,
                }
            }
        };
        Self {
            source: source.into_boxed_str(),
            shape,
            fold,
        }
    }

    /// The text the pattern was compiled from (lowercased when folding).
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The literal text when the pattern has no wildcard and no variable.
    pub(crate) fn as_exact(&self) -> Option<&str> {
        match &self.shape {
            Shape::Exact(text) => Some(text),
            _ => None,
        }
    }

    /// Whether every variable of the pattern resolves in this request.
    pub(crate) fn resolves(&self, vars: &dyn Variables) -> bool {
        match &self.shape {
            Shape::General { pieces, .. } => pieces.iter().flatten().all(|token| match token {
                Token::Var(v) => resolve(v, vars).is_some(),
                _ => true,
            }),
            _ => true,
        }
    }

    /// Matches `text`. `None` when a variable does not resolve: AWS then treats
    /// the element as not matching, whatever the operator.
    pub(crate) fn matches(&self, text: &str, vars: &dyn Variables) -> Option<bool> {
        match &self.shape {
            Shape::Any => Some(true),
            Shape::Exact(lit) => Some(literal_at(lit, text, 0, self.fold) == Some(text.len())),
            Shape::Prefix(lit) => Some(literal_at(lit, text, 0, self.fold).is_some()),
            Shape::General {
                pieces,
                has_star,
                has_vars,
            } => {
                if *has_vars && !self.resolves(vars) {
                    return None;
                }
                Some(self.general(pieces, *has_star, text, vars))
            }
        }
    }

    fn general(
        &self,
        pieces: &[Box<[Token]>],
        has_star: bool,
        text: &str,
        vars: &dyn Variables,
    ) -> bool {
        let Some((first, rest)) = pieces.split_first() else {
            return text.is_empty();
        };
        let Some(mut pos) = piece_at(first, text, 0, self.fold, vars) else {
            return false;
        };
        if !has_star {
            return pos == text.len();
        }
        let Some((last, middle)) = rest.split_last() else {
            return pos == text.len();
        };
        for piece in middle {
            match find_piece(piece, text, pos, self.fold, vars) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        if last.is_empty() {
            return true;
        }
        // The last piece must end exactly at the end of the text.
        boundaries(text, pos)
            .any(|start| piece_at(last, text, start, self.fold, vars) == Some(text.len()))
    }
}

/// Char boundaries of `text` from `from` to its end, inclusive.
fn boundaries(text: &str, from: usize) -> impl Iterator<Item = usize> + '_ {
    text.get(from..)
        .unwrap_or("")
        .char_indices()
        .map(move |(i, _)| from + i)
        .chain(std::iter::once(text.len()))
}

/// Leftmost match of `piece` at or after `from`; returns where it ends.
fn find_piece(
    piece: &[Token],
    text: &str,
    from: usize,
    fold: bool,
    vars: &dyn Variables,
) -> Option<usize> {
    if let ([Token::Lit(lit)], false) = (piece, fold) {
        let found = text.get(from..)?.find(&**lit)?;
        return Some(from + found + lit.len());
    }
    boundaries(text, from).find_map(|start| piece_at(piece, text, start, fold, vars))
}

/// Matches a star-free piece at `pos`; returns where it ends.
fn piece_at(
    piece: &[Token],
    text: &str,
    mut pos: usize,
    fold: bool,
    vars: &dyn Variables,
) -> Option<usize> {
    for token in piece {
        pos = match token {
            Token::Lit(lit) => literal_at(lit, text, pos, fold)?,
            Token::Var(v) => literal_at(resolve(v, vars)?, text, pos, fold)?,
            Token::AnyChar => pos + text.get(pos..)?.chars().next()?.len_utf8(),
            Token::Star => return None,
        };
    }
    Some(pos)
}

/// Matches `lit` at `pos` in `text`; returns where it ends. With `fold`, both
/// sides are compared lowercased.
fn literal_at(lit: &str, text: &str, pos: usize, fold: bool) -> Option<usize> {
    let rest = text.get(pos..)?;
    if !fold {
        return rest.starts_with(lit).then_some(pos + lit.len());
    }
    if lit.is_ascii() {
        let head = rest.get(..lit.len())?;
        return head.eq_ignore_ascii_case(lit).then_some(pos + lit.len());
    }
    let mut subject = rest.char_indices();
    let mut end = 0;
    for expected in lit.chars() {
        let (i, actual) = subject.next()?;
        if !actual.to_lowercase().eq(expected.to_lowercase()) {
            return None;
        }
        end = i + actual.len_utf8();
    }
    Some(pos + end)
}

/// Wildcards only (actions, and everything under the 2008 language).
pub(crate) const GLOB: Syntax = Syntax {
    wildcards: true,
    variables: false,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::NoVariables;

    const GLOB_WITH_VARIABLES: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    struct One(&'static str, &'static str);
    impl Variables for One {
        fn variable(&self, key: &str) -> Option<&str> {
            (key == self.0).then_some(self.1)
        }
    }

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern, GLOB, false)
            .matches(text, &NoVariables)
            .unwrap()
    }

    #[test]
    fn globs() {
        assert!(m("*", ""));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*b*", "abc"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("??", "éa"));
        assert!(!m("???", "éa"));
        assert!(m("*a*a", "aaa"));
        assert!(!m("abc", "abcd"));
        assert!(m("", ""));
    }

    #[test]
    fn folding() {
        let p = Pattern::new("S3:Get*", GLOB, true);
        assert!(p.matches("s3:GETOBJECT", &NoVariables).unwrap());
        let p = Pattern::new("ÉTÉ", GLOB, true);
        assert!(p.matches("été", &NoVariables).unwrap());
    }

    #[test]
    fn variables_resolve_or_fail() {
        let p = Pattern::new("home/${aws:username}/*", GLOB_WITH_VARIABLES, false);
        assert_eq!(
            p.matches("home/bob/x", &One("aws:username", "bob")),
            Some(true)
        );
        assert_eq!(
            p.matches("home/eve/x", &One("aws:username", "bob")),
            Some(false)
        );
        assert_eq!(p.matches("home/bob/x", &NoVariables), None);
        let p = Pattern::new("home/${aws:username, 'guest'}", GLOB_WITH_VARIABLES, false);
        assert_eq!(p.matches("home/guest", &NoVariables), Some(true));
    }

    #[test]
    fn substituted_values_are_literal() {
        // A value containing `*` is compared as text, not as a wildcard.
        let p = Pattern::new("${k}", GLOB_WITH_VARIABLES, false);
        assert_eq!(p.matches("abc", &One("k", "*")), Some(false));
        assert_eq!(p.matches("*", &One("k", "*")), Some(true));
    }
}
