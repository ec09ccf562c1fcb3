//! Validation of a decoded input against the model's constraints, with AWS's messages.
//!
//! The message formats follow real AWS (Coral) responses quoted in public issues and code:
//! - `1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint:
//!   Member must satisfy regular expression pattern: [\w+=,.@-]+`; several violations are
//!   joined by `"; "` after `N validation errors detected: `.
//! - A missing required member: `Value null at 'userName' … Member must not be null`.
//! - Paths are lowerCamelCase member names; inside lists of structures they read
//!   `tags.1.member.key` (1-based), for Query (IAM) and awsJson (EBS, KMS) services alike.
//! - A list of scalars is reported once, at the list, with every constraint of its member:
//!   `Value '[GET, POST, OPTIONS]' at 'cors.allowMethods' failed to satisfy constraint:
//!   Member must satisfy constraint: [Member must have length less than or equal to 6, …]`.
//! - Maps likewise: `Map keys must satisfy constraint: […]` and `Map value must satisfy
//!   constraint: […]`; the value is echoed Java-style (`{k=v}`).
//! - A `sensitive` value is never echoed: `Value at 'password' failed to satisfy …`
//!   (Cognito's answer for its sensitive password member).
//!
//! Not verified against AWS (no public example found): the path of a map value that is a
//! structure (`attributes.<key>` here) and the order of several violations of one member
//! (here length, then pattern, then enum).

use serde_json::Value;

use crate::error::{AwsError, Constraint, ELLIPSIS, MAX_QUOTED_BYTES, Violations, quote_prefix};
use crate::model::{OperationModel, ServiceModel};
use crate::shape::{Shape, ShapeId, ShapeKind, ShapeTable};
use crate::{MAX_DEPTH, lower_first};

/// Check `input` (a canonical value of the operation's input) against the model.
pub(crate) fn validate_input(
    service: &ServiceModel,
    op: &OperationModel,
    input: &Value,
) -> Result<(), AwsError> {
    let Some(id) = op.input_id() else {
        return Ok(());
    };
    let mut violations = Violations::default();
    Validator { shapes: &op.shapes }.value(id, input, "", &mut violations, 0);
    match violations.message() {
        None => Ok(()),
        Some(message) => Err(service.validation_error(message, violations.first())),
    }
}

struct Validator<'m> {
    shapes: &'m ShapeTable,
}

impl Validator<'_> {
    fn value(&self, id: ShapeId, value: &Value, path: &str, out: &mut Violations, depth: usize) {
        let Some(shape) = self.shapes.get(id) else {
            return;
        };
        if depth > MAX_DEPTH || value.is_null() {
            return;
        }
        match (&shape.kind, value) {
            (ShapeKind::Structure { members, required }, Value::Object(object)) => {
                for member in members {
                    let member_path = join(path, &lower_first(&member.name));
                    match object.get(&member.name) {
                        None | Some(Value::Null) => {
                            if required.contains(&member.name) {
                                let name = self.shapes.get(member.shape).map(|s| s.name.as_str());
                                out.push_null(&member_path, name.unwrap_or_default());
                            }
                        }
                        Some(v) => self.value(member.shape, v, &member_path, out, depth + 1),
                    }
                }
            }
            (ShapeKind::List { member }, Value::Array(items)) => {
                self.count(shape, items.len(), value, path, out);
                let Some(item_shape) = self.shapes.get(member.shape) else {
                    return;
                };
                if is_scalar(item_shape) {
                    if items
                        .iter()
                        .any(|item| !violations(item_shape, item).is_empty())
                    {
                        let constraint = format!(
                            "Member must satisfy constraint: [{}]",
                            all_constraints(item_shape)
                        );
                        out.push(
                            echo(shape, value).as_deref(),
                            path,
                            (Constraint::Member, &constraint),
                            &shape.name,
                        );
                    }
                } else {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{path}.{}.member", i + 1);
                        self.value(member.shape, item, &item_path, out, depth + 1);
                    }
                }
            }
            (
                ShapeKind::Map {
                    key,
                    value: map_value,
                },
                Value::Object(entries),
            ) => {
                self.count(shape, entries.len(), value, path, out);
                if let Some(key_shape) = self.shapes.get(key.shape)
                    && entries
                        .keys()
                        .any(|k| !violations(key_shape, &Value::String(k.clone())).is_empty())
                {
                    let constraint = format!(
                        "Map keys must satisfy constraint: [{}]",
                        all_constraints(key_shape)
                    );
                    out.push(
                        echo(shape, value).as_deref(),
                        path,
                        (Constraint::Member, &constraint),
                        &shape.name,
                    );
                }
                let Some(value_shape) = self.shapes.get(map_value.shape) else {
                    return;
                };
                if is_scalar(value_shape) {
                    if entries
                        .values()
                        .any(|v| !violations(value_shape, v).is_empty())
                    {
                        let constraint = format!(
                            "Map value must satisfy constraint: [{}]",
                            all_constraints(value_shape)
                        );
                        out.push(
                            echo(shape, value).as_deref(),
                            path,
                            (Constraint::Member, &constraint),
                            &shape.name,
                        );
                    }
                } else {
                    for (k, v) in entries {
                        self.value(map_value.shape, v, &join(path, k), out, depth + 1);
                    }
                }
            }
            _ => {
                for (kind, constraint) in violations(shape, value) {
                    out.push(
                        echo(shape, value).as_deref(),
                        path,
                        (kind, &constraint),
                        &shape.name,
                    );
                }
            }
        }
    }

    /// Length constraints of a list or map apply to its number of entries.
    fn count(&self, shape: &Shape, len: usize, value: &Value, path: &str, out: &mut Violations) {
        #[expect(
            clippy::cast_precision_loss,
            reason = "collection sizes are far below 2^53"
        )]
        let len = len as f64;
        if let Some(max) = shape.max
            && len > max
        {
            let constraint = format!(
                "Member must have length less than or equal to {}",
                number(max)
            );
            out.push(
                echo(shape, value).as_deref(),
                path,
                (Constraint::MaxLength, &constraint),
                &shape.name,
            );
        }
        if let Some(min) = shape.min
            && len < min
        {
            let constraint = format!(
                "Member must have length greater than or equal to {}",
                number(min)
            );
            out.push(
                echo(shape, value).as_deref(),
                path,
                (Constraint::MinLength, &constraint),
                &shape.name,
            );
        }
    }
}

fn is_scalar(shape: &Shape) -> bool {
    !matches!(
        shape.kind,
        ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. }
    )
}

/// The constraints of a scalar shape that `value` breaks, in AWS's wording.
fn violations(shape: &Shape, value: &Value) -> Vec<(Constraint, String)> {
    let mut broken = Vec::new();
    match (&shape.kind, value) {
        (ShapeKind::String, Value::String(s)) => {
            // Smithy lengths count Unicode code points, not UTF-16 units.
            length(shape, s.chars().count(), &mut broken);
            if shape.pattern.is_some()
                && let Some(regex) = shape.regex()
                && !regex.is_match(s)
            {
                broken.push((Constraint::Pattern, pattern_constraint(shape)));
            }
            if !shape.enum_values.is_empty() && !shape.enum_values.iter().any(|e| e == s) {
                broken.push((Constraint::Enum, enum_constraint(shape)));
            }
        }
        (ShapeKind::Blob, Value::String(b64)) => {
            if let Ok(bytes) = data_encoding::BASE64.decode(b64.as_bytes()) {
                length(shape, bytes.len(), &mut broken);
            }
        }
        (
            ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double,
            Value::Number(n),
        ) => {
            if let Some(n) = n.as_f64() {
                if let Some(max) = shape.max
                    && n > max
                {
                    broken.push((
                        Constraint::MaxValue,
                        format!(
                            "Member must have value less than or equal to {}",
                            number(max)
                        ),
                    ));
                }
                if let Some(min) = shape.min
                    && n < min
                {
                    broken.push((
                        Constraint::MinValue,
                        format!(
                            "Member must have value greater than or equal to {}",
                            number(min)
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    broken
}

fn length(shape: &Shape, len: usize, broken: &mut Vec<(Constraint, String)>) {
    #[expect(
        clippy::cast_precision_loss,
        reason = "value lengths are far below 2^53"
    )]
    let len = len as f64;
    if let Some(max) = shape.max
        && len > max
    {
        broken.push((
            Constraint::MaxLength,
            format!(
                "Member must have length less than or equal to {}",
                number(max)
            ),
        ));
    }
    if let Some(min) = shape.min
        && len < min
    {
        broken.push((
            Constraint::MinLength,
            format!(
                "Member must have length greater than or equal to {}",
                number(min)
            ),
        ));
    }
}

fn pattern_constraint(shape: &Shape) -> String {
    format!(
        "Member must satisfy regular expression pattern: {}",
        shape.pattern.as_deref().unwrap_or_default()
    )
}

fn enum_constraint(shape: &Shape) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        shape.enum_values.join(", ")
    )
}

/// Every constraint of a scalar shape, as AWS lists them for list members and map entries.
fn all_constraints(shape: &Shape) -> String {
    let mut all = Vec::new();
    let (unit, numeric) = match shape.kind {
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double => {
            ("value", true)
        }
        _ => ("length", false),
    };
    if let Some(max) = shape.max {
        all.push(format!(
            "Member must have {unit} less than or equal to {}",
            number(max)
        ));
    }
    if let Some(min) = shape.min {
        all.push(format!(
            "Member must have {unit} greater than or equal to {}",
            number(min)
        ));
    }
    if !numeric && shape.pattern.is_some() && shape.regex().is_some() {
        all.push(pattern_constraint(shape));
    }
    if !shape.enum_values.is_empty() {
        all.push(enum_constraint(shape));
    }
    all.join(", ")
}

/// A bound as AWS prints it: `64`, not `64.0`.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// The value as AWS echoes it (`'bob'`, `'[a, b]'`, `'{k=v}'`), or `None` when it is or
/// holds something sensitive, which must never be echoed. A long value is quoted by its
/// first [`MAX_QUOTED_BYTES`] bytes and an ellipsis.
fn echo(shape: &Shape, value: &Value) -> Option<String> {
    if shape.holds_sensitive {
        return None;
    }
    let mut text = String::new();
    java_string(value, &mut text, 0);
    Some(format!("'{}'", quote_prefix(&text)))
}

/// Java's `toString` of the value Coral holds: lists `[a, b]`, maps and structures `{k=v}`.
/// Stops soon after [`MAX_QUOTED_BYTES`]: only that much is ever quoted.
fn java_string(value: &Value, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    if out.len() > MAX_QUOTED_BYTES {
        return;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_bounded(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if out.len() > MAX_QUOTED_BYTES {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(item, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if out.len() > MAX_QUOTED_BYTES {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                push_bounded(out, k);
                out.push('=');
                java_string(v, out, depth + 1);
            }
            out.push('}');
        }
    }
}

/// Appends `s`, or as much of it as keeps `out` one character past [`MAX_QUOTED_BYTES`]
/// (enough for [`quote_prefix`] to see that the value was cut).
fn push_bounded(out: &mut String, s: &str) {
    let room = (MAX_QUOTED_BYTES + 1).saturating_sub(out.len());
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(s.get(..end).unwrap_or_default());
    if end < s.len() {
        out.push_str(ELLIPSIS);
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}
