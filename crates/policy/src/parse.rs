//! Reading a policy document: JSON text to [`Policy`].
//!
//! The grammar is AWS's: `Statement` may be one object or an array, and most
//! elements accept a string or an array of strings. Messages follow IAM's
//! `MalformedPolicyDocument` wording; every error carries the JSON path and
//! line/column of the offending value.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::condition::ConditionOperator;
use crate::error::{Location, PolicyError, SYNTAX_ERRORS};
use crate::json_path::{JsonPath, line_column, too_deep_at};
use crate::model::{
    ConditionBlock, ConditionEntry, ConditionValue, Effect, Policy, PrincipalSpec, PrincipalType,
    Statement, StringList, Version,
};
use crate::principal::is_account_id;

/// Largest document accepted, far above AWS's largest policy quota (a few
/// tens of kilobytes) but small enough that a hostile input cannot hurt.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// IAM's message for an action without a service prefix.
pub(crate) const ACTION_PREFIX: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
/// IAM's message for a bad principal.
pub(crate) const INVALID_PRINCIPAL: &str = "Invalid principal in policy";

pub(crate) fn parse(text: &str) -> Result<Policy> {
    let root = JsonPath::default();
    if text.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::limit(
            format!(
                "Policy document is too large: {} bytes, the limit is {MAX_POLICY_BYTES}",
                text.len()
            ),
            root.locate(""),
        ));
    }
    if let Some(offset) = too_deep_at(text) {
        let (line, column) = line_column(text, offset);
        return Err(PolicyError::limit(
            "Policy document nests too deeply",
            Location {
                path: root.to_string(),
                line,
                column,
            },
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let detail = e.to_string();
        // serde_json appends " at line L column C"; keep only the reason.
        let detail = detail
            .split(" at line ")
            .next()
            .unwrap_or(&detail)
            .to_owned();
        PolicyError::syntax(
            detail,
            Location {
                path: root.to_string(),
                // serde_json reports an error before the first character (an empty
                // document) at column 0; Rampart's positions are 1-based.
                line: e.line().max(1),
                column: e.column().max(1),
            },
        )
    })?;
    Reader { text }.policy(&value)
}

struct Reader<'t> {
    text: &'t str,
}

type Result<T> = std::result::Result<T, PolicyError>;

impl Reader<'_> {
    fn error(&self, path: &JsonPath, message: impl Into<String>) -> PolicyError {
        PolicyError::malformed(message, path.locate(self.text))
    }

    fn object<'v>(&self, value: &'v Value, path: &JsonPath) -> Result<&'v Map<String, Value>> {
        value
            .as_object()
            .ok_or_else(|| self.error(path, SYNTAX_ERRORS))
    }

    fn string<'v>(&self, value: &'v Value, path: &JsonPath) -> Result<&'v str> {
        value
            .as_str()
            .ok_or_else(|| self.error(path, SYNTAX_ERRORS))
    }

    fn policy(&self, value: &Value) -> Result<Policy> {
        let root = JsonPath::default();
        let object = self.object(value, &root)?;
        let mut version = None;
        let mut id = None;
        let mut statements = None;
        for (key, value) in object {
            let path = root.key(key);
            match key.as_str() {
                "Version" => {
                    version = Some(match self.string(value, &path)? {
                        "2012-10-17" => Version::V2012_10_17,
                        "2008-10-17" => Version::V2008_10_17,
                        _ => return Err(self.error(&path, "The policy failed legacy parsing")),
                    });
                }
                "Id" => id = Some(self.string(value, &path)?.to_owned()),
                "Statement" => statements = Some(self.statements(value, &path)?),
                _ => return Err(self.error(&path, SYNTAX_ERRORS)),
            }
        }
        let Some((statements, statement_was_array)) = statements else {
            return Err(self.error(&root, "Missing required field Statement"));
        };
        let mut sids = HashSet::new();
        for (i, statement) in statements.iter().enumerate() {
            if let Some(sid) = &statement.sid
                && !sids.insert(sid.as_str())
            {
                let path = root.key("Statement").index(i).key("Sid");
                return Err(self.error(
                    &path,
                    "Statement IDs (SID) in a single policy must be unique.",
                ));
            }
        }
        Ok(Policy {
            version,
            id,
            statements,
            statement_was_array,
        })
    }

    fn statements(&self, value: &Value, path: &JsonPath) -> Result<(Vec<Statement>, bool)> {
        match value {
            Value::Array(items) => {
                let statements = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.statement(item, &path.index(i)))
                    .collect::<Result<_>>()?;
                Ok((statements, true))
            }
            Value::Object(_) => Ok((vec![self.statement(value, path)?], false)),
            _ => Err(self.error(path, SYNTAX_ERRORS)),
        }
    }

    fn statement(&self, value: &Value, path: &JsonPath) -> Result<Statement> {
        let object = self.object(value, path)?;
        let mut statement = Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: None,
            resource: None,
            condition: Vec::new(),
        };
        let mut effect = None;
        for (key, value) in object {
            let here = path.key(key);
            let both = |name: &str| {
                self.error(
                    &here,
                    format!("Statement cannot contain both {name} and Not{name}"),
                )
            };
            match key.as_str() {
                "Sid" => statement.sid = Some(self.string(value, &here)?.to_owned()),
                "Effect" => {
                    effect = Some(match self.string(value, &here)? {
                        "Allow" => Effect::Allow,
                        "Deny" => Effect::Deny,
                        other => return Err(self.error(&here, format!("Invalid effect: {other}"))),
                    });
                }
                "Principal" | "NotPrincipal" => {
                    if statement.principal.is_some() {
                        return Err(both("Principal"));
                    }
                    statement.principal =
                        Some((key == "NotPrincipal", self.principal(value, &here)?));
                }
                "Action" | "NotAction" => {
                    if statement.action.is_some() {
                        return Err(both("Action"));
                    }
                    let list = self.string_list(value, &here)?;
                    if list.values.is_empty() {
                        return Err(self.error(&here, "Policy statement must contain actions."));
                    }
                    for (i, action) in list.values.iter().enumerate() {
                        if action != "*" && !action.contains(':') {
                            return Err(self.error(&item_path(&here, &list, i), ACTION_PREFIX));
                        }
                    }
                    statement.action = Some((key == "NotAction", list));
                }
                "Resource" | "NotResource" => {
                    if statement.resource.is_some() {
                        return Err(both("Resource"));
                    }
                    let list = self.string_list(value, &here)?;
                    if list.values.is_empty() {
                        return Err(self.error(&here, "Policy statement must contain resources."));
                    }
                    for (i, resource) in list.values.iter().enumerate() {
                        if resource != "*" && !resource.starts_with("arn:") {
                            return Err(self.error(
                                &item_path(&here, &list, i),
                                format!("Resource {resource} must be in ARN format or \"*\"."),
                            ));
                        }
                    }
                    statement.resource = Some((key == "NotResource", list));
                }
                "Condition" => statement.condition = self.condition(value, &here)?,
                _ => return Err(self.error(&here, SYNTAX_ERRORS)),
            }
        }
        statement.effect =
            effect.ok_or_else(|| self.error(path, "Missing required field Effect"))?;
        if statement.action.is_none() {
            return Err(self.error(path, "Policy statement must contain actions."));
        }
        Ok(statement)
    }

    fn string_list(&self, value: &Value, path: &JsonPath) -> Result<StringList> {
        match value {
            Value::String(s) => Ok(StringList {
                values: vec![s.clone()],
                was_array: false,
            }),
            Value::Array(items) => Ok(StringList {
                values: items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.string(item, &path.index(i)).map(str::to_owned))
                    .collect::<Result<_>>()?,
                was_array: true,
            }),
            _ => Err(self.error(path, SYNTAX_ERRORS)),
        }
    }

    fn principal(&self, value: &Value, path: &JsonPath) -> Result<PrincipalSpec> {
        let object = match value {
            Value::String(s) if s == "*" => return Ok(PrincipalSpec::Wildcard),
            Value::Object(object) if !object.is_empty() => object,
            _ => return Err(self.error(path, INVALID_PRINCIPAL)),
        };
        let mut entries = Vec::new();
        for (key, value) in object {
            let here = path.key(key);
            let principal_type =
                PrincipalType::from_key(key).ok_or_else(|| self.error(&here, INVALID_PRINCIPAL))?;
            let list = self.string_list(value, &here)?;
            if list.values.is_empty() {
                return Err(self.error(&here, INVALID_PRINCIPAL));
            }
            for (i, v) in list.values.iter().enumerate() {
                let valid = match principal_type {
                    PrincipalType::Aws => is_valid_aws_principal(v),
                    _ => !v.is_empty(),
                };
                if !valid {
                    return Err(self.error(&item_path(&here, &list, i), INVALID_PRINCIPAL));
                }
            }
            entries.push((principal_type, list));
        }
        Ok(PrincipalSpec::Typed(entries))
    }

    fn condition(&self, value: &Value, path: &JsonPath) -> Result<Vec<ConditionBlock>> {
        let operators = self.object(value, path)?;
        let mut blocks = Vec::new();
        for (operator_text, keys) in operators {
            let here = path.key(operator_text);
            let operator = ConditionOperator::parse(operator_text).ok_or_else(|| {
                self.error(&here, format!("Invalid Condition type : {operator_text}"))
            })?;
            let keys = self.object(keys, &here)?;
            let mut entries = Vec::new();
            for (key, values) in keys {
                let key_path = here.key(key);
                let (values, was_array) = match values {
                    Value::Array(items) => (
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| self.condition_value(item, &key_path.index(i)))
                            .collect::<Result<_>>()?,
                        true,
                    ),
                    single => (vec![self.condition_value(single, &key_path)?], false),
                };
                entries.push(ConditionEntry {
                    key: key.clone(),
                    values,
                    was_array,
                });
            }
            blocks.push(ConditionBlock {
                operator,
                operator_text: operator_text.clone(),
                entries,
            });
        }
        Ok(blocks)
    }

    fn condition_value(&self, value: &Value, path: &JsonPath) -> Result<ConditionValue> {
        match value {
            Value::String(s) => Ok(ConditionValue::String(s.clone())),
            Value::Number(n) => Ok(ConditionValue::Number(n.clone())),
            Value::Bool(b) => Ok(ConditionValue::Bool(*b)),
            _ => Err(self.error(path, SYNTAX_ERRORS)),
        }
    }
}

/// Path of the i-th value of a string-or-array element.
fn item_path(path: &JsonPath, list: &StringList, i: usize) -> JsonPath {
    if list.was_array {
        path.index(i)
    } else {
        path.clone()
    }
}

/// `*`, an account id, or an IAM/STS ARN without wildcards (AWS does not
/// accept wildcards in principal ARNs).
fn is_valid_aws_principal(value: &str) -> bool {
    if value == "*" || is_account_id(value) {
        return true;
    }
    match crate::arn::split_components(value, false) {
        Some(["arn", partition, "iam" | "sts", "", account, resource]) => {
            !partition.is_empty()
                && is_account_id(account)
                && !resource.is_empty()
                && !value.contains(['*', '?'])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyError {
        parse(text).unwrap_err()
    }

    #[test]
    fn accepts_single_statement_object_and_strings() {
        let p = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version, None);
        assert_eq!(p.statements.len(), 1);
        assert!(!p.statement_was_array);
    }

    #[test]
    fn errors_carry_path_and_position() {
        let e = err(
            "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Maybe\", \"Action\": \"*\"}]}",
        );
        assert_eq!(e.aws_message(), "Invalid effect: Maybe");
        assert_eq!(e.location().path, "$.Statement[0].Effect");
        assert_eq!((e.location().line, e.location().column), (2, 27));
    }

    #[test]
    fn json_syntax_errors_have_positions() {
        let e = err("{\n  \"Statement\": [,]}");
        assert!(matches!(e, PolicyError::Syntax(_)));
        assert_eq!(e.aws_message(), SYNTAX_ERRORS);
        assert_eq!(e.location().line, 2);
    }

    #[test]
    fn limits() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(err(&deep), PolicyError::Limit(_)));
        let big = format!("{{\"Id\": \"{}\"}}", "x".repeat(MAX_POLICY_BYTES));
        assert!(matches!(err(&big), PolicyError::Limit(_)));
    }

    #[test]
    fn aws_messages() {
        assert_eq!(
            err(r#"{"Statement": [{"Effect": "Allow", "Action": "GetObject"}]}"#).aws_message(),
            ACTION_PREFIX
        );
        assert_eq!(
            err(r#"{"Version": "2020-01-01", "Statement": []}"#).aws_message(),
            "The policy failed legacy parsing"
        );
        assert_eq!(
            err(r#"{"Statement": [{"Effect": "Allow"}]}"#).aws_message(),
            "Policy statement must contain actions."
        );
        assert_eq!(
            err(r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEqualz": {"a": "b"}}}]}"#).aws_message(),
            "Invalid Condition type : StringEqualz"
        );
        assert_eq!(
            err(r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}}]}"#).aws_message(),
            INVALID_PRINCIPAL
        );
    }
}

#[cfg(test)]
mod empty_input_tests {
    use super::*;

    /// Found by the `policy_parse` fuzz target: an empty document reported column 0.
    #[test]
    fn an_empty_document_is_a_syntax_error_at_line_1_column_1() {
        let error = parse("").unwrap_err();
        assert_eq!((error.location().line, error.location().column), (1, 1));
    }
}
