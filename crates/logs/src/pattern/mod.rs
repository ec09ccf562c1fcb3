//! CloudWatch Logs' filter-pattern language, as metric filters, FilterLogEvents and (later)
//! subscription filters use it. Three forms, told apart by their first character:
//!
//! - **text terms** (`ERROR`, `"Access denied"`, `ERROR -Exiting`, `?ERROR ?WARN`): every
//!   plain term appears in the message, no `-term` does, and when `?term`s are given at least
//!   one of them does; matching is case-sensitive; the empty pattern matches every event;
//! - **JSON** (`{ $.eventType = "UpdateTrail" && $.bytes > 100 }`), in `json.rs`;
//! - **space-delimited** (`[ip, user, ..., status_code = 4*, bytes]`), in `delimited.rs`.
//!
//! The parser is hand-written recursive descent rather than a parser-combinator crate: the
//! language's three forms lex differently (an unquoted JSON value such as
//! `kms.amazonaws.com` or `123.123.*` runs to the next delimiter, a delimited field list is
//! comma-separated, a text term is any run of non-space characters), the whole grammar is a
//! few productions, and the nesting is bounded here ([`MAX_DEPTH`]) on untrusted input.
//! Not implemented: `%regex%` terms (refused as InvalidParameterException by the callers).

mod delimited;
mod json;
mod text;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;

/// The longest pattern AWS accepts (the model's `FilterPattern` maximum).
pub const MAX_LENGTH: usize = 1024;

/// How deep parentheses may nest in a JSON pattern (AWS documents no limit; this keeps the
/// recursive parser's stack bounded).
pub const MAX_DEPTH: usize = 32;

/// Why a pattern cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter pattern at character {at}: {reason}")]
pub struct PatternError {
    /// The character offset where parsing stopped.
    pub at: usize,
    /// What was wrong there.
    pub reason: String,
}

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPattern {
    form: Form,
}

#[derive(Debug, Clone, PartialEq)]
enum Form {
    Text(text::Terms),
    Json(json::Expr),
    Delimited(delimited::Fields),
}

/// What a match found: the values a metric filter's `metricValue` and dimensions may name.
#[derive(Debug, Clone, PartialEq)]
pub enum Matched {
    /// A text pattern matched; it names no values.
    Text,
    /// A JSON pattern matched this event (`$.field` selects from it).
    Json(serde_json::Value),
    /// A space-delimited pattern matched; its named fields (`$name`).
    Delimited(BTreeMap<String, String>),
}

impl Matched {
    /// The value `reference` (`$.a.b[0]` for JSON, `$name` for space-delimited) names, as
    /// text; `None` when it names nothing in this event.
    pub fn value(&self, reference: &str) -> Option<String> {
        match self {
            Matched::Text => None,
            Matched::Json(event) => {
                let selector = json::Selector::parse(reference).ok()?;
                match selector.select(event)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    serde_json::Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }
            }
            Matched::Delimited(fields) => fields.get(reference.strip_prefix('$')?).cloned(),
        }
    }
}

impl FilterPattern {
    /// Parses `text` (at most [`MAX_LENGTH`] characters).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.chars().count() > MAX_LENGTH {
            return Err(PatternError {
                at: MAX_LENGTH,
                reason: format!("a pattern is at most {MAX_LENGTH} characters"),
            });
        }
        let mut cursor = Cursor::new(text);
        cursor.skip_space();
        let form = match cursor.peek() {
            Some('{') => Form::Json(json::parse(&mut cursor)?),
            Some('[') => Form::Delimited(delimited::parse(&mut cursor)?),
            _ => Form::Text(text::parse(&mut cursor)?),
        };
        cursor.skip_space();
        if let Some(c) = cursor.peek() {
            return Err(cursor.error(format!("unexpected `{c}` after the pattern")));
        }
        Ok(Self { form })
    }

    /// The values a match shows (TestMetricFilter's `extractedValues`): each selector a JSON
    /// pattern names that holds a value in the event, or each named field of a space-delimited
    /// pattern, as `$name`.
    pub fn extracted(&self, matched: &Matched) -> BTreeMap<String, String> {
        match (&self.form, matched) {
            (Form::Json(expr), Matched::Json(_)) => {
                let mut selectors = Vec::new();
                expr.selectors(&mut selectors);
                selectors
                    .into_iter()
                    .filter_map(|s| Some((s.to_owned(), matched.value(s)?)))
                    .collect()
            }
            (Form::Delimited(_), Matched::Delimited(fields)) => fields
                .iter()
                .map(|(name, value)| (format!("${name}"), value.clone()))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Whether this is a JSON pattern (it reads the message parsed as JSON).
    pub fn is_json(&self) -> bool {
        matches!(self.form, Form::Json(_))
    }

    /// [`FilterPattern::matches`] with the message already parsed as JSON (`None` when it is
    /// not JSON), so that many patterns applied to one event share one parse.
    pub fn matches_parsed(
        &self,
        message: &str,
        parsed: Option<&serde_json::Value>,
    ) -> Option<Matched> {
        match &self.form {
            Form::Json(expr) => {
                let event = parsed?;
                json::eval(expr, event).then(|| Matched::Json(event.clone()))
            }
            _ => self.matches(message),
        }
    }

    /// Whether `message` matches, and the values the match found.
    pub fn matches(&self, message: &str) -> Option<Matched> {
        match &self.form {
            Form::Text(terms) => terms.matches(message).then_some(Matched::Text),
            Form::Json(expr) => {
                let event: serde_json::Value = serde_json::from_str(message).ok()?;
                json::eval(expr, &event).then_some(Matched::Json(event))
            }
            Form::Delimited(fields) => fields.matches(message).map(Matched::Delimited),
        }
    }
}

/// A comparison operator of JSON and space-delimited patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    /// An unquoted number (`200`, `1.5`, `-3`), compared as a number with numbers.
    Number(f64, String),
    /// A string, quoted or not, with `*` wildcards.
    Text(String),
}

impl Literal {
    /// Whether `value` (a field's text, `numeric` when the field holds a number) stands in
    /// `op` to this literal. Ordering operators need a number on both sides.
    fn compare(&self, op: Op, value: &str, numeric: Option<f64>) -> bool {
        match (self, op) {
            (Literal::Number(n, _), Op::Eq | Op::Ne) => {
                let equal = numeric.or_else(|| value.parse().ok()) == Some(*n);
                equal == (op == Op::Eq)
            }
            (Literal::Text(glob), Op::Eq) => wildcard_match(glob, value),
            (Literal::Text(glob), Op::Ne) => !wildcard_match(glob, value),
            (Literal::Number(n, _), _) => {
                let Some(v) = numeric.or_else(|| value.parse().ok()) else {
                    return false;
                };
                match op {
                    Op::Lt => v < *n,
                    Op::Le => v <= *n,
                    Op::Gt => v > *n,
                    Op::Ge => v >= *n,
                    Op::Eq | Op::Ne => false,
                }
            }
            (Literal::Text(_), _) => false,
        }
    }
}

/// `*` matches any run of characters; everything else matches itself. Iterative with one
/// backtrack point, so linear in practice and never exponential.
fn wildcard_match(glob: &str, value: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut gi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, vi));
                gi += 1;
            }
            Some(c) if Some(c) == v.get(vi) => {
                gi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sg, sv)) => {
                    gi = sg + 1;
                    vi = sv + 1;
                    star = Some((sg, sv + 1));
                }
                None => return false,
            },
        }
    }
    g.get(gi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// The parser's position in the pattern.
struct Cursor {
    chars: Vec<char>,
    at: usize,
}

impl Cursor {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Consumes `word` if the input continues with it.
    fn eat(&mut self, word: &str) -> bool {
        let matches = word
            .chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c));
        if matches {
            self.at += word.chars().count();
        }
        matches
    }

    fn expect(&mut self, word: &str) -> Result<(), PatternError> {
        self.skip_space();
        if self.eat(word) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{word}`")))
        }
    }

    fn error(&self, reason: String) -> PatternError {
        PatternError {
            at: self.at,
            reason,
        }
    }

    /// A double-quoted string (the opening quote next), with `\"` and `\\` escapes.
    fn quoted(&mut self) -> Result<String, PatternError> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated quoted string".to_owned())),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return Err(self.error("unterminated quoted string".to_owned())),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// A comparison operator.
    fn op(&mut self) -> Result<Op, PatternError> {
        self.skip_space();
        for (text, op) in [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat(text) {
                return Ok(op);
            }
        }
        Err(self.error("expected a comparison operator".to_owned()))
    }

    /// The literal after an operator: quoted, or an unquoted run up to whitespace or one of
    /// `stops`.
    fn literal(&mut self, op: Op, stops: &[char]) -> Result<Literal, PatternError> {
        self.skip_space();
        if self.peek() == Some('"') {
            let text = self.quoted()?;
            return match op {
                Op::Eq | Op::Ne => Ok(Literal::Text(text)),
                _ => Err(self.error("an ordering comparison needs a number".to_owned())),
            };
        }
        let start = self.at;
        while let Some(c) = self.peek() {
            let pair = matches!((c, self.peek_at(1)), ('&', Some('&')) | ('|', Some('|')));
            if c.is_whitespace() || stops.contains(&c) || pair {
                break;
            }
            self.at += 1;
        }
        let word: String = self
            .chars
            .get(start..self.at)
            .unwrap_or_default()
            .iter()
            .collect();
        if word.is_empty() {
            return Err(self.error("expected a value".to_owned()));
        }
        match word.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Literal::Number(n, word)),
            _ if matches!(op, Op::Eq | Op::Ne) => Ok(Literal::Text(word)),
            _ => Err(self.error(format!("`{word}` is not a number"))),
        }
    }
}
