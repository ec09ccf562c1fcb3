//! Space-delimited patterns: `[ip, user, ..., status_code = 4* || status_code = 5*, bytes]`.
//!
//! The message is split into fields at spaces; text in double quotes or square brackets is
//! one field (without its quotes or brackets). Each pattern field names the message field at
//! its place, optionally with conditions on it joined by `&&` or `||` (left to right); `...`
//! stands for any number of fields. Without `...` the message must have exactly as many fields
//! as the pattern.

use std::collections::BTreeMap;

use super::{Cursor, Literal, Op, PatternError};

/// The most fields a pattern may list (AWS documents none; this bounds matching work).
const MAX_FIELDS: usize = 100;

/// One condition on a field.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    op: Op,
    literal: Literal,
}

/// One pattern field.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    /// `...`.
    Any,
    /// A named field and its conditions: the first, then each joined by `&&` (true) or `||`.
    Named {
        name: String,
        first: Option<Condition>,
        rest: Vec<(bool, Condition)>,
    },
}

/// A space-delimited pattern's fields.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fields(Vec<Field>);

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn name(cursor: &mut Cursor) -> Result<String, PatternError> {
    cursor.skip_space();
    let mut name = String::new();
    while let Some(c) = cursor.peek().filter(|c| is_name_char(*c)) {
        name.push(c);
        cursor.bump();
    }
    if name.is_empty() {
        return Err(cursor.error("expected a field name or `...`".to_owned()));
    }
    Ok(name)
}

fn condition(cursor: &mut Cursor) -> Result<Condition, PatternError> {
    let op = cursor.op()?;
    let literal = cursor.literal(op, &[',', ']'])?;
    Ok(Condition { op, literal })
}

pub(super) fn parse(cursor: &mut Cursor) -> Result<Fields, PatternError> {
    cursor.expect("[")?;
    let mut fields = Vec::new();
    loop {
        cursor.skip_space();
        if fields.len() >= MAX_FIELDS {
            return Err(cursor.error(format!("a pattern lists at most {MAX_FIELDS} fields")));
        }
        if cursor.eat("...") {
            fields.push(Field::Any);
        } else {
            let field = name(cursor)?;
            cursor.skip_space();
            let mut first = None;
            let mut rest = Vec::new();
            if !matches!(cursor.peek(), Some(',' | ']')) {
                first = Some(condition(cursor)?);
                loop {
                    cursor.skip_space();
                    let all = if cursor.eat("&&") {
                        true
                    } else if cursor.eat("||") {
                        false
                    } else {
                        break;
                    };
                    // The condition repeats the field's name: `status = 4* || status = 5*`.
                    let again = name(cursor)?;
                    if again != field {
                        return Err(cursor
                            .error(format!("a condition joined to `{field}` names `{again}`")));
                    }
                    rest.push((all, condition(cursor)?));
                }
            }
            fields.push(Field::Named {
                name: field,
                first,
                rest,
            });
        }
        cursor.skip_space();
        if cursor.eat("]") {
            return Ok(Fields(fields));
        }
        if !cursor.eat(",") {
            return Err(cursor.error("expected `,` or `]`".to_owned()));
        }
    }
}

/// The message's fields.
fn split(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = message.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ') {
            chars.next();
        }
        let Some(first) = chars.next() else {
            return out;
        };
        let close = match first {
            '"' => Some('"'),
            '[' => Some(']'),
            _ => None,
        };
        let mut field = String::new();
        match close {
            Some(close) => {
                for c in chars.by_ref() {
                    if c == close {
                        break;
                    }
                    field.push(c);
                }
            }
            None => {
                field.push(first);
                while let Some(c) = chars.next_if(|c| *c != ' ') {
                    field.push(c);
                }
            }
        }
        out.push(field);
    }
}

impl Field {
    fn accepts(&self, value: &str) -> bool {
        match self {
            Field::Any => true,
            Field::Named { first, rest, .. } => {
                let test = |c: &Condition| c.literal.compare(c.op, value, None);
                let Some(first) = first else {
                    return true;
                };
                rest.iter().fold(test(first), |acc, (all, c)| {
                    if *all { acc && test(c) } else { acc || test(c) }
                })
            }
        }
    }
}

impl Fields {
    /// The match of a pattern with at most one `...`: the fields before it take the first
    /// message fields, those after it the last ones. Linear, where the general case is not.
    fn match_with_one_gap(&self, values: &[String]) -> Option<BTreeMap<String, String>> {
        let gap = self.0.iter().position(|f| matches!(f, Field::Any));
        let fixed = self.0.len() - usize::from(gap.is_some());
        if values.len() < fixed || (gap.is_none() && values.len() != fixed) {
            return None;
        }
        let before = gap.unwrap_or(fixed);
        let after_start = values.len() - (fixed - before);
        let pairs = self.0.iter().filter(|f| !matches!(f, Field::Any)).zip(
            values
                .iter()
                .take(before)
                .chain(values.iter().skip(after_start)),
        );
        let mut named = BTreeMap::new();
        for (field, value) in pairs {
            if !field.accepts(value) {
                return None;
            }
            if let Field::Named { name, .. } = field {
                named.insert(name.clone(), value.clone());
            }
        }
        Some(named)
    }

    /// The named fields, when `message` matches.
    pub(super) fn matches(&self, message: &str) -> Option<BTreeMap<String, String>> {
        let values = split(message);
        let anys = self.0.iter().filter(|f| matches!(f, Field::Any)).count();
        if anys <= 1 {
            return self.match_with_one_gap(&values);
        }
        // Which pattern field takes each message field, by dynamic programming over
        // (pattern position, message position): `...` makes a greedy match wrong.
        let (p, m) = (self.0.len(), values.len());
        let mut reach = vec![vec![false; m + 1]; p + 1];
        *reach.get_mut(p)?.get_mut(m)? = true;
        for i in (0..p).rev() {
            for j in (0..=m).rev() {
                let ok = match self.0.get(i)? {
                    Field::Any => {
                        reach.get(i + 1)?.get(j).copied().unwrap_or(false)
                            || (j < m && reach.get(i)?.get(j + 1).copied().unwrap_or(false))
                    }
                    field => {
                        j < m
                            && field.accepts(values.get(j)?)
                            && reach.get(i + 1)?.get(j + 1).copied().unwrap_or(false)
                    }
                };
                *reach.get_mut(i)?.get_mut(j)? = ok;
            }
        }
        if !reach.first()?.first().copied().unwrap_or(false) {
            return None;
        }
        // Walk the match forwards, naming fields; `...` takes as few fields as it can.
        let mut named = BTreeMap::new();
        let (mut i, mut j) = (0, 0);
        while i < p {
            match self.0.get(i)? {
                Field::Any => {
                    if reach.get(i + 1)?.get(j).copied().unwrap_or(false) {
                        i += 1;
                    } else {
                        j += 1;
                    }
                }
                Field::Named { name, .. } => {
                    named.insert(name.clone(), values.get(j)?.clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        Some(named)
    }
}
