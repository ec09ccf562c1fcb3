//! JSON paths into a policy document and their line/column positions.
//!
//! serde_json's `Value` keeps no positions, so when (and only when) an error must
//! be reported, the original text is scanned again along the path to find where
//! that value starts. Parsing stays fast; errors still say where.

use std::fmt;

use crate::error::Location;

/// Deepest nesting accepted. A policy nests at most about 6 levels
/// (document, Statement array, statement, Condition, operator, key, value list).
pub(crate) const MAX_DEPTH: usize = 32;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// A JSON path such as `$.Statement[0].Effect`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPath(pub(crate) Vec<Step>);

impl JsonPath {
    pub(crate) fn key(&self, key: &str) -> JsonPath {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        JsonPath(steps)
    }

    pub(crate) fn index(&self, index: usize) -> JsonPath {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        JsonPath(steps)
    }

    /// Where this path's value starts in `text`; the document root when the path
    /// cannot be followed (which only happens for paths that do not exist).
    pub(crate) fn locate(&self, text: &str) -> Location {
        let offset = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
        }
        .find(&self.0)
        .unwrap_or(0);
        let (line, column) = line_column(text, offset);
        Location {
            path: self.to_string(),
            line,
            column,
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                Step::Key(k) if is_plain_key(k) => write!(f, ".{k}")?,
                Step::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/'))
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the first bracket nested deeper than [`MAX_DEPTH`], if any.
/// Checked before serde_json sees the text so that recursion stays bounded.
pub(crate) fn too_deep_at(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Walks text already known to be valid JSON, following one path.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Offset of the value at `path`, starting from the value at `self.pos`.
    fn find(mut self, path: &[Step]) -> Option<usize> {
        let mut remaining = path;
        loop {
            self.skip_ws();
            let Some((step, rest)) = remaining.split_first() else {
                return Some(self.pos);
            };
            match (self.peek()?, step) {
                (b'{', Step::Key(wanted)) => {
                    self.pos += 1;
                    loop {
                        self.skip_ws();
                        if self.peek()? == b'}' {
                            return None;
                        }
                        let key = self.string()?;
                        self.skip_ws();
                        self.pos += 1; // ':'
                        if &key == wanted {
                            break;
                        }
                        self.skip_value()?;
                        self.skip_ws();
                        if self.peek()? == b',' {
                            self.pos += 1;
                        }
                    }
                }
                (b'[', Step::Index(wanted)) => {
                    self.pos += 1;
                    for _ in 0..*wanted {
                        self.skip_ws();
                        if self.peek()? == b']' {
                            return None;
                        }
                        self.skip_value()?;
                        self.skip_ws();
                        if self.peek()? == b',' {
                            self.pos += 1;
                        }
                    }
                    self.skip_ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                }
                _ => return None,
            }
            remaining = rest;
        }
    }

    /// Reads a string token and decodes it.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.skip_string()?;
        let raw = std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?;
        serde_json::from_str(raw).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        self.pos += 1; // opening quote
        let mut escaped = false;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                return Some(());
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.pos += 1;
                }
                b',' | b'}' | b']' if depth == 0 => return Some(()),
                _ => self.pos += 1,
            }
            if depth == 0 && matches!(self.peek(), Some(b',' | b'}' | b']') | None) {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[Step]) -> JsonPath {
        JsonPath(steps.to_vec())
    }

    #[test]
    fn locates_nested_values() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\"Effect\": \"Maybe\"}\n  ]\n}";
        let loc = path(&[
            Step::Key("Statement".into()),
            Step::Index(1),
            Step::Key("Effect".into()),
        ])
        .locate(text);
        assert_eq!(loc.path, "$.Statement[1].Effect");
        assert_eq!((loc.line, loc.column), (5, 16));
    }

    #[test]
    fn skips_strings_with_brackets_and_escapes() {
        let text = r#"{"a": "}]\"{", "b": [1, {"c": 2}]}"#;
        let loc =
            path(&[Step::Key("b".into()), Step::Index(1), Step::Key("c".into())]).locate(text);
        assert_eq!((loc.line, loc.column), (1, 31));
    }

    #[test]
    fn depth_limit_is_found() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(too_deep_at(&deep), Some(MAX_DEPTH));
        assert_eq!(
            too_deep_at(r#"{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#),
            None
        );
    }

    #[test]
    fn paths_render_with_quoted_keys() {
        let p = path(&[Step::Key("Condition".into()), Step::Key("a b".into())]);
        assert_eq!(p.to_string(), "$.Condition[\"a b\"]");
    }
}
