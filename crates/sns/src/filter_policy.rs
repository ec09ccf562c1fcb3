//! Subscription filter policies on message attributes (`FilterPolicyScope`
//! `MessageAttributes`): what a policy may say and whether a message's attributes match it.
//!
//! A policy is a JSON object from attribute names to lists of conditions; a message matches
//! when every named attribute matches at least one of its conditions. Conditions, as AWS
//! documents them: an exact string or number, `{"prefix": …}`, `{"suffix": …}`,
//! `{"anything-but": value | [values] | {"prefix": …}}`, `{"numeric": [op, n, (op, n)]}`,
//! `{"exists": bool}`, `{"equals-ignore-case": …}`. The document is untrusted input: its size,
//! its number of values (AWS's 150 combinations) and its nesting are bounded before it is
//! kept.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::SnsError;
use crate::messages::Attribute;

/// The most characters a filter policy has (AWS: 256 KB).
const MAX_CHARS: usize = 256 * 1024;
/// The most attribute names a policy names (AWS's quota for attribute policies).
const MAX_KEYS: usize = 5;
/// The most value combinations (AWS: 150).
const MAX_COMBINATIONS: usize = 150;

fn invalid(reason: &str) -> SnsError {
    SnsError::invalid(format!("Invalid parameter: FilterPolicy: {reason}"))
}

/// A condition on one attribute.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Equals(String),
    Number(f64),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Condition>),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
}

fn parse_condition(value: &Value, nested: bool) -> Result<Condition, SnsError> {
    match value {
        Value::String(s) => Ok(Condition::Equals(s.clone())),
        Value::Number(n) => n
            .as_f64()
            .map(Condition::Number)
            .ok_or_else(|| invalid("number out of range")),
        Value::Object(map) if map.len() == 1 && !nested => {
            let Some((operator, operand)) = map.iter().next() else {
                return Err(invalid("empty condition"));
            };
            let text = || {
                operand
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("operand must be a string"))
            };
            match operator.as_str() {
                "prefix" => Ok(Condition::Prefix(text()?)),
                "suffix" => Ok(Condition::Suffix(text()?)),
                "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(text()?)),
                "exists" => operand
                    .as_bool()
                    .map(Condition::Exists)
                    .ok_or_else(|| invalid("exists must be true or false")),
                "anything-but" => {
                    let inner = match operand {
                        Value::Array(items) if !items.is_empty() => items
                            .iter()
                            .map(|v| parse_condition(v, true))
                            .collect::<Result<Vec<_>, _>>()?,
                        Value::Object(map) if map.len() == 1 && map.contains_key("prefix") => {
                            vec![parse_condition(operand, false)?]
                        }
                        Value::String(_) | Value::Number(_) => {
                            vec![parse_condition(operand, true)?]
                        }
                        _ => return Err(invalid("anything-but needs a value or a list")),
                    };
                    Ok(Condition::AnythingBut(inner))
                }
                "numeric" => {
                    let items = operand
                        .as_array()
                        .ok_or_else(|| invalid("numeric needs a list"))?;
                    if items.is_empty() || items.len() > 4 || items.len() % 2 != 0 {
                        return Err(invalid("numeric needs one or two comparisons"));
                    }
                    let mut comparisons = Vec::new();
                    for pair in items.chunks(2) {
                        let (Some(op), Some(n)) = (
                            pair.first().and_then(Value::as_str),
                            pair.get(1).and_then(Value::as_f64),
                        ) else {
                            return Err(invalid(
                                "numeric comparisons are an operator and a number",
                            ));
                        };
                        if !["=", "<", "<=", ">", ">="].contains(&op) {
                            return Err(invalid("unknown numeric operator"));
                        }
                        comparisons.push((op.to_owned(), n));
                    }
                    Ok(Condition::Numeric(comparisons))
                }
                _ => Err(invalid("unknown operator")),
            }
        }
        _ => Err(invalid(
            "conditions are strings, numbers or one-operator objects",
        )),
    }
}

/// A parsed filter policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    conditions: BTreeMap<String, Vec<Condition>>,
}

/// Parses an untrusted filter policy.
pub fn parse(document: &str) -> Result<FilterPolicy, SnsError> {
    if document.len() > MAX_CHARS {
        return Err(invalid("the policy is too long"));
    }
    let value: Value =
        serde_json::from_str(document).map_err(|_| invalid("the policy is not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid("the policy must be a JSON object"))?;
    if object.len() > MAX_KEYS {
        return Err(invalid("Filter policy can not have more than 5 keys"));
    }
    let mut conditions = BTreeMap::new();
    let mut combinations: usize = 1;
    for (name, list) in object {
        let list = match list {
            Value::Array(items) => items.clone(),
            Value::Object(_) => {
                return Err(invalid(
                    "nested keys apply to FilterPolicyScope MessageBody, which Rampart does not serve",
                ));
            }
            other => vec![other.clone()],
        };
        if list.is_empty() {
            return Err(invalid("empty arrays are not allowed"));
        }
        combinations = combinations.saturating_mul(list.len());
        if combinations > MAX_COMBINATIONS {
            return Err(invalid("Filter policy is too complex"));
        }
        let parsed = list
            .iter()
            .map(|v| parse_condition(v, false))
            .collect::<Result<Vec<_>, _>>()?;
        conditions.insert(name.clone(), parsed);
    }
    Ok(FilterPolicy { conditions })
}

/// Refuses a filter policy AWS would refuse.
pub(crate) fn check(document: &str) -> Result<(), SnsError> {
    parse(document).map(|_| ())
}

fn numeric_holds(value: f64, comparisons: &[(String, f64)]) -> bool {
    comparisons.iter().all(|(op, n)| match op.as_str() {
        "=" => (value - n).abs() < f64::EPSILON,
        "<" => value < *n,
        "<=" => value <= *n,
        ">" => value > *n,
        ">=" => value >= *n,
        _ => false,
    })
}

/// Whether one value of an attribute satisfies `condition`.
fn value_matches(condition: &Condition, value: &Value) -> bool {
    match (condition, value) {
        (Condition::Equals(s), Value::String(v)) => s == v,
        (Condition::Number(n), Value::Number(v)) => {
            v.as_f64().is_some_and(|v| (v - n).abs() < f64::EPSILON)
        }
        (Condition::Prefix(p), Value::String(v)) => v.starts_with(p.as_str()),
        (Condition::Suffix(p), Value::String(v)) => v.ends_with(p.as_str()),
        (Condition::EqualsIgnoreCase(s), Value::String(v)) => s.to_lowercase() == v.to_lowercase(),
        (Condition::AnythingBut(inner), v) => !inner.iter().any(|c| value_matches(c, v)),
        (Condition::Numeric(comparisons), Value::Number(v)) => {
            v.as_f64().is_some_and(|v| numeric_holds(v, comparisons))
        }
        _ => false,
    }
}

/// The values an attribute offers a filter: a String's text, a Number's number, each member
/// of a String.Array.
fn values_of(attribute: &Attribute) -> Vec<Value> {
    let kind = attribute.data_type.split('.').next().unwrap_or_default();
    match (kind, attribute.data_type.as_str()) {
        ("String", "String.Array") => serde_json::from_str::<Value>(&attribute.value)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default(),
        ("Number", _) => attribute
            .value
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(|n| vec![Value::Number(n)])
            .unwrap_or_default(),
        ("String", _) => vec![Value::String(attribute.value.clone())],
        _ => Vec::new(),
    }
}

impl FilterPolicy {
    /// Whether a message with `attributes` passes.
    pub(crate) fn matches(&self, attributes: &BTreeMap<String, Attribute>) -> bool {
        self.conditions.iter().all(|(name, conditions)| {
            let attribute = attributes.get(name);
            conditions
                .iter()
                .any(|condition| match (condition, attribute) {
                    (Condition::Exists(wanted), found) => *wanted == found.is_some(),
                    (_, None) => false,
                    (condition, Some(attribute)) => values_of(attribute)
                        .iter()
                        .any(|value| value_matches(condition, value)),
                })
        })
    }
}

/// Parses and applies an untrusted filter policy, for the fuzz target: never panics.
pub fn fuzz_filter_policy(document: &str, attribute: &str) {
    if let Ok(policy) = parse(document) {
        let mut attributes = BTreeMap::new();
        for data_type in ["String", "Number", "String.Array"] {
            attributes.insert(
                "a".to_owned(),
                Attribute {
                    data_type: data_type.to_owned(),
                    value: attribute.to_owned(),
                },
            );
            let _ = policy.matches(&attributes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, Attribute> {
        pairs
            .iter()
            .map(|(name, kind, value)| {
                (
                    (*name).to_owned(),
                    Attribute {
                        data_type: (*kind).to_owned(),
                        value: (*value).to_owned(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn aws_documented_examples_match_as_documented() {
        let policy = parse(
            r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],
                "customer_interests":["rugby","football","baseball"],
                "price_usd":[{"numeric":[">=",100]}]}"#,
        )
        .unwrap();
        let message = attributes(&[
            ("store", "String", "example_corp"),
            ("event", "String", "order_placed"),
            (
                "customer_interests",
                "String.Array",
                r#"["soccer","rugby","hockey"]"#,
            ),
            ("price_usd", "Number", "210.75"),
        ]);
        assert!(policy.matches(&message));
        let cheap = attributes(&[
            ("store", "String", "example_corp"),
            ("event", "String", "order_placed"),
            ("customer_interests", "String", "rugby"),
            ("price_usd", "Number", "99"),
        ]);
        assert!(!policy.matches(&cheap));
        let cancelled = parse(r#"{"event":[{"anything-but":["order_cancelled"]}]}"#).unwrap();
        assert!(!cancelled.matches(&attributes(&[("event", "String", "order_cancelled")])));
        let exists = parse(r#"{"team":[{"exists":false}]}"#).unwrap();
        assert!(exists.matches(&attributes(&[])));
        assert!(!exists.matches(&attributes(&[("team", "String", "red")])));
        let prefix = parse(r#"{"region":[{"prefix":"us-"}]}"#).unwrap();
        assert!(prefix.matches(&attributes(&[("region", "String", "us-east-1")])));
    }

    #[test]
    fn malformed_or_oversized_policies_are_refused() {
        for bad in [
            "[]",
            "not json",
            r#"{"a":[]}"#,
            r#"{"a":[{"numeric":["!",1]}]}"#,
            r#"{"a":[{"unknown":1}]}"#,
            r#"{"a":{"nested":["x"]}}"#,
            r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
            r#"{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13],"b":[1,2,3,4,5,6,7,8,9,10,11,12,13]}"#,
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
