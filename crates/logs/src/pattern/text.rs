//! Text-term patterns: `ERROR`, `"Access denied"`, `ERROR -Exiting`, `?ERROR ?WARN`.

use super::{Cursor, PatternError};

/// The terms of a text pattern, by role.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Terms {
    /// Each must appear.
    required: Vec<String>,
    /// None may appear (`-term`).
    excluded: Vec<String>,
    /// At least one must appear, when any are given (`?term`).
    any: Vec<String>,
}

impl Terms {
    pub(super) fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| message.contains(t.as_str()))
            && !self.excluded.iter().any(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
    }
}

pub(super) fn parse(cursor: &mut Cursor) -> Result<Terms, PatternError> {
    let mut terms = Terms::default();
    loop {
        cursor.skip_space();
        let Some(first) = cursor.peek() else {
            return Ok(terms);
        };
        let list = match first {
            '-' => {
                cursor.bump();
                &mut terms.excluded
            }
            '?' => {
                cursor.bump();
                &mut terms.any
            }
            _ => &mut terms.required,
        };
        let term = if cursor.peek() == Some('"') {
            cursor.quoted()?
        } else {
            let mut word = String::new();
            while let Some(c) = cursor.peek().filter(|c| !c.is_whitespace()) {
                if c == '"' {
                    return Err(cursor.error("a quote inside an unquoted term".to_owned()));
                }
                word.push(c);
                cursor.bump();
            }
            word
        };
        if term.starts_with('%') && term.ends_with('%') && term.len() > 1 {
            return Err(cursor.error("regular-expression terms are not implemented".to_owned()));
        }
        if term.is_empty() && first != '"' {
            return Err(cursor.error("an empty term".to_owned()));
        }
        list.push(term);
    }
}
