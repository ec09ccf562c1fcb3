//! Conditions: operators, AWS's value coercions, and how a compiled
//! condition is evaluated against a request.
//!
//! The rules, from AWS's condition operator documentation: values of one key
//! are ORed, keys and operators are ANDed, and a negated operator (`…Not…`)
//! matches only when the key matches none of the values. A missing key makes a
//! positive operator false and a negated operator true; `…IfExists` makes it
//! true; `ForAllValues:` is true and `ForAnyValue:` false; `Null` tests presence.

mod operator;
pub(crate) mod values;

use std::net::IpAddr;

pub use operator::{ConditionOperator, OperatorKind, SetQualifier, ValueType};

use crate::arn::ArnPattern;
use crate::model::ConditionBlock;
use crate::request::Request;
use crate::variables::Syntax;
use crate::wildcard::Pattern;
use values::{Cidr, parse_bool, parse_date, parse_number};

/// One operator and key, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledCondition {
    operator: ConditionOperator,
    /// Lowercased: key names are case-insensitive.
    key: Box<str>,
    operand: Operand,
}

/// The policy's values, coerced once at compile time. A value that does not
/// coerce (`NumericEquals: "abc"`) is kept as `None` and never matches.
#[derive(Debug, Clone)]
enum Operand {
    Text(Vec<Pattern>),
    Numbers(Vec<Option<f64>>),
    Dates(Vec<Option<i64>>),
    Bools(Vec<Option<bool>>),
    Binary(Vec<Box<str>>),
    Cidrs(Vec<Option<Cidr>>),
    Arns(Vec<ArnPattern>),
    Null(Vec<Option<bool>>),
}

/// Compiles every key of a condition block.
pub(crate) fn compile_block(block: &ConditionBlock, variables: bool) -> Vec<CompiledCondition> {
    block
        .entries
        .iter()
        .map(|entry| {
            let texts: Vec<String> = entry.values.iter().map(|v| v.as_text()).collect();
            CompiledCondition {
                operator: block.operator,
                key: entry.key.to_lowercase().into_boxed_str(),
                operand: Operand::compile(block.operator.kind, &texts, variables),
            }
        })
        .collect()
}

impl Operand {
    fn compile(kind: OperatorKind, texts: &[String], variables: bool) -> Self {
        use OperatorKind as K;
        let exact = Syntax {
            wildcards: false,
            variables,
        };
        let glob = Syntax {
            wildcards: true,
            variables,
        };
        match kind.value_type() {
            ValueType::String => {
                let (syntax, fold) = match kind {
                    K::StringLike | K::StringNotLike => (glob, false),
                    K::StringEqualsIgnoreCase | K::StringNotEqualsIgnoreCase => (exact, true),
                    _ => (exact, false),
                };
                Self::Text(
                    texts
                        .iter()
                        .map(|t| Pattern::new(t, syntax, fold))
                        .collect(),
                )
            }
            ValueType::Numeric => Self::Numbers(texts.iter().map(|t| parse_number(t)).collect()),
            ValueType::Date => Self::Dates(texts.iter().map(|t| parse_date(t)).collect()),
            ValueType::Bool => Self::Bools(texts.iter().map(|t| parse_bool(t)).collect()),
            ValueType::Binary => Self::Binary(texts.iter().map(|t| t.as_str().into()).collect()),
            ValueType::Ip => Self::Cidrs(texts.iter().map(|t| Cidr::parse(t)).collect()),
            ValueType::Arn => Self::Arns(texts.iter().map(|t| ArnPattern::new(t, glob)).collect()),
            ValueType::Null => Self::Null(texts.iter().map(|t| parse_bool(t)).collect()),
        }
    }

    /// Whether every policy variable in the values resolves for this request.
    fn resolves(&self, request: &Request) -> bool {
        match self {
            Self::Text(patterns) => patterns.iter().all(|p| p.resolves(request)),
            Self::Arns(patterns) => patterns.iter().all(|p| p.resolves(request)),
            _ => true,
        }
    }
}

impl CompiledCondition {
    /// Whether the condition holds for `request`.
    pub(crate) fn matches(&self, request: &Request) -> bool {
        let op = self.operator;
        if let Operand::Null(expected) = &self.operand {
            let present = request.key_values(&self.key).is_some();
            return expected.contains(&Some(!present));
        }
        // An unresolved policy variable makes the condition not match,
        // whatever the operator (AWS: the element "does not match").
        if !self.operand.resolves(request) {
            return false;
        }
        let Some(values) = request.key_values(&self.key) else {
            if op.if_exists {
                return true;
            }
            return match op.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => op.kind.is_negated(),
            };
        };
        let negated = op.kind.is_negated();
        match op.qualifier {
            None => values.into_iter().any(|v| self.positive(v, request)) != negated,
            Some(SetQualifier::ForAllValues) => values
                .into_iter()
                .all(|v| self.positive(v, request) != negated),
            Some(SetQualifier::ForAnyValue) => values
                .into_iter()
                .any(|v| self.positive(v, request) != negated),
        }
    }

    /// Whether one request value matches any policy value under the operator's
    /// positive form (`StringNotEquals` compares as `StringEquals`).
    fn positive(&self, value: &str, request: &Request) -> bool {
        use OperatorKind as K;
        match &self.operand {
            Operand::Text(patterns) => patterns
                .iter()
                .any(|p| p.matches(value, request) == Some(true)),
            Operand::Numbers(expected) => {
                let Some(actual) = parse_number(value) else {
                    return false;
                };
                expected
                    .iter()
                    .flatten()
                    .any(|e| compare(self.operator.kind, actual, *e))
            }
            Operand::Dates(expected) => {
                let Some(actual) = parse_date(value) else {
                    return false;
                };
                expected
                    .iter()
                    .flatten()
                    .any(|e| compare(self.operator.kind, actual, *e))
            }
            Operand::Bools(expected) => {
                let actual = parse_bool(value);
                actual.is_some() && expected.contains(&actual)
            }
            Operand::Binary(expected) => expected.iter().any(|e| **e == *value),
            Operand::Cidrs(expected) => match value.parse::<IpAddr>() {
                Ok(addr) => expected.iter().flatten().any(|net| net.contains(addr)),
                Err(_) => false,
            },
            Operand::Arns(patterns) => patterns
                .iter()
                .any(|p| p.matches(value, request) == Some(true)),
            Operand::Null(_) => {
                debug_assert!(matches!(self.operator.kind, K::Null));
                false
            }
        }
    }

    /// The condition key, lowercased.
    #[cfg(test)]
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

/// Compares a request value with a policy value for the ordered operators;
/// the `…NotEquals` operators compare as `…Equals` (negation happens above).
fn compare<T: PartialOrd>(kind: OperatorKind, actual: T, expected: T) -> bool {
    use OperatorKind as K;
    match kind {
        K::NumericLessThan | K::DateLessThan => actual < expected,
        K::NumericLessThanEquals | K::DateLessThanEquals => actual <= expected,
        K::NumericGreaterThan | K::DateGreaterThan => actual > expected,
        K::NumericGreaterThanEquals | K::DateGreaterThanEquals => actual >= expected,
        _ => actual == expected,
    }
}
