//! The parsed form of a policy document, close to its JSON.
//!
//! The model keeps what the author wrote (string or array, raw condition
//! values) so that it serializes back to an equivalent document; compiling it
//! for evaluation happens in [`crate::compile`].

use serde_json::{Map, Value};

use crate::condition::ConditionOperator;

/// The policy language version (`Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17`: the original language; `${…}` is literal text.
    V2008_10_17,
}

impl Version {
    /// The version string as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2012_10_17 => "2012-10-17",
            Self::V2008_10_17 => "2008-10-17",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement denies.
    Deny,
}

impl Effect {
    /// The effect as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// A list of strings that the author may have written as a single string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringList {
    /// The values, in document order.
    pub values: Vec<String>,
    /// Whether the document used an array (kept for faithful re-serialization).
    pub was_array: bool,
}

impl StringList {
    fn to_json(&self) -> Value {
        match (self.was_array, self.values.as_slice()) {
            (false, [one]) => Value::String(one.clone()),
            _ => Value::Array(self.values.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// The kinds of principal a `Principal` element can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// `AWS`: accounts, users, roles, sessions, or `*`.
    Aws,
    /// `Service`: AWS service principals such as `ec2.amazonaws.com`.
    Service,
    /// `Federated`: identity providers (OIDC or SAML).
    Federated,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    /// The key as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Service => "Service",
            Self::Federated => "Federated",
            Self::CanonicalUser => "CanonicalUser",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Self> {
        match key {
            "AWS" => Some(Self::Aws),
            "Service" => Some(Self::Service),
            "Federated" => Some(Self::Federated),
            "CanonicalUser" => Some(Self::CanonicalUser),
            _ => None,
        }
    }
}

/// The value of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    /// `"*"`: everyone, including anonymous callers.
    Wildcard,
    /// `{"AWS": …, "Service": …}`.
    Typed(Vec<(PrincipalType, StringList)>),
}

impl PrincipalSpec {
    fn to_json(&self) -> Value {
        match self {
            Self::Wildcard => Value::String("*".to_owned()),
            Self::Typed(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(t, list)| (t.as_str().to_owned(), list.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A condition value as written: JSON strings, numbers and booleans are all
/// accepted and compared as text after AWS's coercions.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionValue {
    /// A JSON string.
    String(String),
    /// A JSON number, kept as written.
    Number(serde_json::Number),
    /// A JSON boolean.
    Bool(bool),
}

impl ConditionValue {
    /// The value as text, the form condition operators compare.
    pub fn as_text(&self) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Number(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Number(n) => Value::Number(n.clone()),
            Self::Bool(b) => Value::Bool(*b),
        }
    }
}

/// One key and its values under a condition operator.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionEntry {
    /// The condition key as written (matched case-insensitively).
    pub key: String,
    /// The values (any one may match).
    pub values: Vec<ConditionValue>,
    /// Whether the document used an array.
    pub was_array: bool,
}

/// One operator block of a `Condition` element.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionBlock {
    /// The operator, parsed.
    pub operator: ConditionOperator,
    /// The operator exactly as written (kept for re-serialization and messages).
    pub operator_text: String,
    /// Its keys; all must match.
    pub entries: Vec<ConditionEntry>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` (`negated == false`) or `NotPrincipal` (`negated == true`).
    pub principal: Option<(bool, PrincipalSpec)>,
    /// `Action` or `NotAction` (`negated == true`).
    pub action: Option<(bool, StringList)>,
    /// `Resource` or `NotResource` (`negated == true`).
    pub resource: Option<(bool, StringList)>,
    /// `Condition` blocks; all must match.
    pub condition: Vec<ConditionBlock>,
}

impl Statement {
    /// The statement as a JSON object.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(sid) = &self.sid {
            object.insert("Sid".to_owned(), Value::String(sid.clone()));
        }
        object.insert(
            "Effect".to_owned(),
            Value::String(self.effect.as_str().to_owned()),
        );
        if let Some((negated, spec)) = &self.principal {
            let name = if *negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            object.insert(name.to_owned(), spec.to_json());
        }
        if let Some((negated, list)) = &self.action {
            let name = if *negated { "NotAction" } else { "Action" };
            object.insert(name.to_owned(), list.to_json());
        }
        if let Some((negated, list)) = &self.resource {
            let name = if *negated { "NotResource" } else { "Resource" };
            object.insert(name.to_owned(), list.to_json());
        }
        if !self.condition.is_empty() {
            let mut blocks = Map::new();
            for block in &self.condition {
                let mut keys = Map::new();
                for entry in &block.entries {
                    let value = match (entry.was_array, entry.values.as_slice()) {
                        (false, [one]) => one.to_json(),
                        _ => {
                            Value::Array(entry.values.iter().map(ConditionValue::to_json).collect())
                        }
                    };
                    keys.insert(entry.key.clone(), value);
                }
                blocks.insert(block.operator_text.clone(), Value::Object(keys));
            }
            object.insert("Condition".to_owned(), Value::Object(blocks));
        }
        Value::Object(object)
    }
}

/// A parsed policy document. Build one with [`Policy::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`; `None` when absent (which AWS treats as the 2008 language).
    pub version: Option<Version>,
    /// `Id`, if any.
    pub id: Option<String>,
    /// The statements in document order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was an array (kept for re-serialization).
    pub statement_was_array: bool,
}

impl Policy {
    /// Whether policy variables (`${…}`) are expanded: only under 2012-10-17.
    pub fn expands_variables(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }

    /// The policy as a JSON document equivalent to the one parsed.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(version) = self.version {
            object.insert(
                "Version".to_owned(),
                Value::String(version.as_str().to_owned()),
            );
        }
        if let Some(id) = &self.id {
            object.insert("Id".to_owned(), Value::String(id.clone()));
        }
        let statements = match (self.statement_was_array, self.statements.as_slice()) {
            (false, [one]) => one.to_json(),
            _ => Value::Array(self.statements.iter().map(Statement::to_json).collect()),
        };
        object.insert("Statement".to_owned(), statements);
        Value::Object(object)
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl serde::Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}
