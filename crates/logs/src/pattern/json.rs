//! JSON patterns: `{ SELECTOR OP VALUE }`, `{ SELECTOR IS NULL | IS TRUE | IS FALSE }`,
//! `{ SELECTOR NOT EXISTS }`, joined by `&&` and `||` (`&&` binds tighter) and grouped by
//! parentheses. A selector is `$.` followed by member names and array indexes
//! (`$.users[0].email`). A comparison on a member the event lacks is false, whatever its
//! operator; only `NOT EXISTS` is true there.

use serde_json::Value;

use super::{Cursor, Literal, MAX_DEPTH, Op, PatternError};

/// A JSON pattern's expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Compare(Selector, Op, Literal),
    IsNull(Selector),
    IsBool(Selector, bool),
    NotExists(Selector),
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Member(String),
    Index(usize),
}

/// `$.a.b[0]`, and its text as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selector(Vec<Step>, String);

impl Selector {
    /// A selector on its own (a metric value's `$.field`).
    pub(crate) fn parse(text: &str) -> Result<Self, PatternError> {
        let mut cursor = Cursor::new(text);
        let selector = selector(&mut cursor)?;
        match cursor.peek() {
            None => Ok(selector),
            Some(c) => Err(cursor.error(format!("unexpected `{c}` in a selector"))),
        }
    }

    pub(crate) fn select<'a>(&self, event: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(event, |value, step| match step {
            Step::Member(name) => value.as_object()?.get(name),
            Step::Index(i) => value.as_array()?.get(*i),
        })
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '@' || c == ':'
}

fn selector(cursor: &mut Cursor) -> Result<Selector, PatternError> {
    cursor.skip_space();
    let start = cursor.at;
    if !cursor.eat("$") {
        return Err(cursor.error("expected a selector starting with `$.`".to_owned()));
    }
    let mut steps = Vec::new();
    loop {
        match cursor.peek() {
            Some('.') => {
                cursor.bump();
                let mut name = String::new();
                while let Some(c) = cursor.peek().filter(|c| is_name_char(*c)) {
                    name.push(c);
                    cursor.bump();
                }
                if name.is_empty() {
                    return Err(cursor.error("expected a member name after `.`".to_owned()));
                }
                steps.push(Step::Member(name));
            }
            Some('[') => {
                cursor.bump();
                let mut digits = String::new();
                while let Some(c) = cursor.peek().filter(char::is_ascii_digit) {
                    digits.push(c);
                    cursor.bump();
                }
                let index = digits
                    .parse()
                    .map_err(|_| cursor.error("expected an array index".to_owned()))?;
                if !cursor.eat("]") {
                    return Err(cursor.error("expected `]`".to_owned()));
                }
                steps.push(Step::Index(index));
            }
            _ => break,
        }
    }
    if steps.is_empty() {
        return Err(cursor.error("a selector names a member: `$.name`".to_owned()));
    }
    let text = cursor
        .chars
        .get(start..cursor.at)
        .unwrap_or_default()
        .iter()
        .collect();
    Ok(Selector(steps, text))
}

impl Expr {
    /// Every selector the expression names, in order, as written.
    pub(super) fn selectors<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Or(items) | Expr::And(items) => items.iter().for_each(|e| e.selectors(out)),
            Expr::Compare(s, _, _) | Expr::IsNull(s) | Expr::IsBool(s, _) | Expr::NotExists(s) => {
                if !out.contains(&s.1.as_str()) {
                    out.push(&s.1);
                }
            }
        }
    }
}

pub(super) fn parse(cursor: &mut Cursor) -> Result<Expr, PatternError> {
    cursor.expect("{")?;
    let expr = or(cursor, 0)?;
    cursor.expect("}")?;
    Ok(expr)
}

fn or(cursor: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    let mut items = vec![and(cursor, depth)?];
    loop {
        cursor.skip_space();
        if !cursor.eat("||") {
            break;
        }
        items.push(and(cursor, depth)?);
    }
    Ok(one_or(items, Expr::Or))
}

/// The only item, or all of them joined.
fn one_or(mut items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    match (items.len(), items.pop()) {
        (1, Some(only)) => only,
        (_, Some(last)) => {
            items.push(last);
            join(items)
        }
        (_, None) => join(items),
    }
}

fn and(cursor: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    let mut items = vec![unary(cursor, depth)?];
    loop {
        cursor.skip_space();
        if !cursor.eat("&&") {
            break;
        }
        items.push(unary(cursor, depth)?);
    }
    Ok(one_or(items, Expr::And))
}

fn unary(cursor: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    cursor.skip_space();
    if cursor.peek() == Some('(') {
        if depth >= MAX_DEPTH {
            return Err(cursor.error(format!("parentheses nest at most {MAX_DEPTH} deep")));
        }
        cursor.bump();
        let inner = or(cursor, depth + 1)?;
        cursor.expect(")")?;
        return Ok(inner);
    }
    let selector = selector(cursor)?;
    cursor.skip_space();
    if cursor.eat("IS") {
        cursor.skip_space();
        return if cursor.eat("NULL") {
            Ok(Expr::IsNull(selector))
        } else if cursor.eat("TRUE") {
            Ok(Expr::IsBool(selector, true))
        } else if cursor.eat("FALSE") {
            Ok(Expr::IsBool(selector, false))
        } else {
            Err(cursor.error("expected NULL, TRUE or FALSE after IS".to_owned()))
        };
    }
    if cursor.eat("NOT") {
        cursor.expect("EXISTS")?;
        return Ok(Expr::NotExists(selector));
    }
    let op = cursor.op()?;
    let literal = cursor.literal(op, &[')', '}'])?;
    Ok(Expr::Compare(selector, op, literal))
}

pub(super) fn eval(expr: &Expr, event: &Value) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|e| eval(e, event)),
        Expr::And(items) => items.iter().all(|e| eval(e, event)),
        Expr::IsNull(s) => s.select(event).is_some_and(Value::is_null),
        Expr::IsBool(s, b) => s.select(event).and_then(Value::as_bool) == Some(*b),
        Expr::NotExists(s) => s.select(event).is_none(),
        Expr::Compare(s, op, literal) => match s.select(event) {
            Some(Value::String(text)) => literal.compare(*op, text, None),
            Some(Value::Number(n)) => literal.compare(*op, &n.to_string(), n.as_f64()),
            Some(Value::Bool(b)) => literal.compare(*op, &b.to_string(), None),
            _ => false,
        },
    }
}
