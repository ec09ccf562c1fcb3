//! Condition operator names: `[ForAllValues:|ForAnyValue:]Operator[IfExists]`.

use std::fmt;

/// The operators AWS documents, without qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(
    missing_docs,
    reason = "each variant is the AWS operator of the same name"
)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// What kind of value an operator compares; used to coerce and to validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Text.
    String,
    /// Integers and decimals.
    Numeric,
    /// ISO 8601 dates or epoch seconds.
    Date,
    /// `true` / `false`.
    Bool,
    /// Base64 text.
    Binary,
    /// IPv4/IPv6 addresses and CIDR blocks.
    Ip,
    /// ARNs.
    Arn,
    /// `true` (key absent) / `false` (key present).
    Null,
}

const ALL: [(&str, OperatorKind); 27] = [
    ("StringEquals", OperatorKind::StringEquals),
    ("StringNotEquals", OperatorKind::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        OperatorKind::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        OperatorKind::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", OperatorKind::StringLike),
    ("StringNotLike", OperatorKind::StringNotLike),
    ("NumericEquals", OperatorKind::NumericEquals),
    ("NumericNotEquals", OperatorKind::NumericNotEquals),
    ("NumericLessThan", OperatorKind::NumericLessThan),
    ("NumericLessThanEquals", OperatorKind::NumericLessThanEquals),
    ("NumericGreaterThan", OperatorKind::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        OperatorKind::NumericGreaterThanEquals,
    ),
    ("DateEquals", OperatorKind::DateEquals),
    ("DateNotEquals", OperatorKind::DateNotEquals),
    ("DateLessThan", OperatorKind::DateLessThan),
    ("DateLessThanEquals", OperatorKind::DateLessThanEquals),
    ("DateGreaterThan", OperatorKind::DateGreaterThan),
    ("DateGreaterThanEquals", OperatorKind::DateGreaterThanEquals),
    ("Bool", OperatorKind::Bool),
    ("BinaryEquals", OperatorKind::BinaryEquals),
    ("IpAddress", OperatorKind::IpAddress),
    ("NotIpAddress", OperatorKind::NotIpAddress),
    ("ArnEquals", OperatorKind::ArnEquals),
    ("ArnLike", OperatorKind::ArnLike),
    ("ArnNotEquals", OperatorKind::ArnNotEquals),
    ("ArnNotLike", OperatorKind::ArnNotLike),
    ("Null", OperatorKind::Null),
];

impl OperatorKind {
    /// The operator's AWS name.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(_, kind)| *kind == self)
            .map_or("Null", |(name, _)| name)
    }

    /// Negated operators match when the key matches none of the values (NOR),
    /// and match when the key is absent.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    /// What the operator compares.
    pub fn value_type(self) -> ValueType {
        use OperatorKind as K;
        match self {
            K::StringEquals
            | K::StringNotEquals
            | K::StringEqualsIgnoreCase
            | K::StringNotEqualsIgnoreCase
            | K::StringLike
            | K::StringNotLike => ValueType::String,
            K::NumericEquals
            | K::NumericNotEquals
            | K::NumericLessThan
            | K::NumericLessThanEquals
            | K::NumericGreaterThan
            | K::NumericGreaterThanEquals => ValueType::Numeric,
            K::DateEquals
            | K::DateNotEquals
            | K::DateLessThan
            | K::DateLessThanEquals
            | K::DateGreaterThan
            | K::DateGreaterThanEquals => ValueType::Date,
            K::Bool => ValueType::Bool,
            K::BinaryEquals => ValueType::Binary,
            K::IpAddress | K::NotIpAddress => ValueType::Ip,
            K::ArnEquals | K::ArnLike | K::ArnNotEquals | K::ArnNotLike => ValueType::Arn,
            K::Null => ValueType::Null,
        }
    }
}

/// `ForAllValues:` or `ForAnyValue:`: how a multivalued key is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every value in the request must match (true when the key is absent).
    ForAllValues,
    /// At least one value in the request must match (false when absent).
    ForAnyValue,
}

/// A full condition operator as written in a `Condition` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    /// `ForAllValues:` / `ForAnyValue:`, if any.
    pub qualifier: Option<SetQualifier>,
    /// The base operator.
    pub kind: OperatorKind,
    /// `…IfExists`: true when the key is absent.
    pub if_exists: bool,
}

impl ConditionOperator {
    /// Parses an operator name. Names are matched case-insensitively so that a
    /// `Deny` written as `stringequals` is never silently ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let (qualifier, rest) = if let Some(rest) = strip_prefix_ci(text, "ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = strip_prefix_ci(text, "ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, text)
        };
        let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let kind = ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(base))
            .map(|(_, kind)| *kind)?;
        // `NullIfExists` means nothing: Null already speaks about presence.
        if kind == OperatorKind::Null && if_exists {
            return None;
        }
        Some(Self {
            qualifier,
            kind,
            if_exists,
        })
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.kind.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix)
        .then(|| text.get(..cut))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qualifiers_and_if_exists() {
        let op = ConditionOperator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert_eq!(op.kind, OperatorKind::StringLike);
        assert!(op.if_exists);
        assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
    }

    #[test]
    fn rejects_unknown_and_null_if_exists() {
        assert!(ConditionOperator::parse("StringEqualz").is_none());
        assert!(ConditionOperator::parse("NullIfExists").is_none());
        assert!(ConditionOperator::parse("IfExists").is_none());
    }

    #[test]
    fn every_name_round_trips() {
        for (name, kind) in ALL {
            assert_eq!(kind.name(), name);
            assert_eq!(ConditionOperator::parse(name).unwrap().kind, kind);
        }
    }
}
