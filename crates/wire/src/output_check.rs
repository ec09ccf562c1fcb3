//! Whether an operation's output is what its model describes: every member named in the
//! model, every value of its member's type. The encoders leave out what is not (a handler's
//! bug must not become a response an SDK cannot parse); this says what that was.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::OutputMismatchError;
use crate::model::OperationModel;
use crate::shape::{Shape, ShapeId, ShapeKind, ShapeTable};
use crate::{MAX_DEPTH, timestamp};

/// Checks `output` (the canonical value a handler returns) against `op`'s output shape.
///
/// A mismatch is a member the model does not name (even when `null`), or a value that is not
/// of its member's type: a structure that is not an object, a number for a string, an
/// integer shape holding a fraction, a timestamp that is not RFC 3339, a blob that is not
/// base64, a string outside its enum. Members the model has and the output lacks are fine.
pub fn check_output(op: &OperationModel, output: &Value) -> Result<(), OutputMismatchError> {
    let mut problems = BTreeSet::new();
    match op.output_id() {
        Some(id) => check(&op.shapes, id, output, "", &mut problems, 0),
        None => {
            if output.as_object().is_some_and(|o| !o.is_empty()) {
                problems.insert("the operation has no output in the model".to_owned());
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OutputMismatchError::new(
            op.name(),
            problems.into_iter().collect(),
        ))
    }
}

/// Logs what an encoder left out of `output`: a handler's output that the model does not
/// describe is Rampart's bug, which tests catch with [`check_output`]; a release server still
/// answers. Paths and shape names only, never values.
pub(crate) fn warn_dropped(op: &OperationModel, output: &Value) {
    let problems = match check_output(op, output) {
        Err(e) => e.problems().join("; "),
        Ok(()) => "a value nested too deeply".to_owned(),
    };
    tracing::warn!(
        operation = op.name(),
        %problems,
        "the response leaves out what the API model does not describe"
    );
}

/// `parent.name`, or `name` at the top.
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn check(
    shapes: &ShapeTable,
    id: ShapeId,
    value: &Value,
    path: &str,
    problems: &mut BTreeSet<String>,
    depth: usize,
) {
    let Some(shape) = shapes.get(id) else {
        return;
    };
    if value.is_null() {
        return;
    }
    if depth > MAX_DEPTH {
        problems.insert(format!("`{path}`: nested deeper than {MAX_DEPTH}"));
        return;
    }
    match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => {
            for (name, v) in object {
                let here = join(path, name);
                match members.iter().find(|m| m.name == *name) {
                    Some(m) => check(shapes, m.shape, v, &here, problems, depth + 1),
                    None => {
                        problems.insert(format!("`{here}`: not a member of `{}`", shape.name));
                    }
                }
            }
        }
        (ShapeKind::List { member }, Value::Array(items)) => {
            let here = format!("{path}[]");
            for v in items {
                check(shapes, member.shape, v, &here, problems, depth + 1);
            }
        }
        (ShapeKind::Map { value: m, .. }, Value::Object(entries)) => {
            let here = format!("{path}{{}}");
            for v in entries.values() {
                check(shapes, m.shape, v, &here, problems, depth + 1);
            }
        }
        (kind, v) => {
            if let Some(problem) = scalar_problem(shape, v) {
                let expected = type_name(kind);
                problems.insert(format!(
                    "`{path}`: {problem} where `{}` is {expected}",
                    shape.name
                ));
            }
        }
    }
}

/// Why a value cannot be written as a scalar (or document) shape, if it cannot.
fn scalar_problem(shape: &Shape, value: &Value) -> Option<&'static str> {
    let fits = match (&shape.kind, value) {
        (ShapeKind::Document, _) => true,
        (ShapeKind::String, Value::String(s)) => {
            if !shape.enum_values.is_empty() && !shape.enum_values.contains(s) {
                return Some("a value outside its enum");
            }
            true
        }
        (ShapeKind::Boolean, Value::Bool(_)) => true,
        (ShapeKind::Integer | ShapeKind::Long, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (ShapeKind::Float | ShapeKind::Double, Value::Number(_)) => true,
        (ShapeKind::Timestamp, Value::String(s)) => timestamp::to_epoch(s).is_some(),
        (ShapeKind::Timestamp, Value::Number(n)) => {
            n.as_f64().and_then(timestamp::from_epoch).is_some()
        }
        (ShapeKind::Blob, Value::String(s)) => data_encoding::BASE64.decode(s.as_bytes()).is_ok(),
        _ => false,
    };
    (!fits).then(|| value_name(value))
}

fn value_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_name(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } => "a structure",
        ShapeKind::List { .. } => "a list",
        ShapeKind::Map { .. } => "a map",
        ShapeKind::String => "a string",
        ShapeKind::Integer => "an integer",
        ShapeKind::Long => "a long",
        ShapeKind::Float => "a float",
        ShapeKind::Double => "a double",
        ShapeKind::Boolean => "a boolean",
        ShapeKind::Timestamp => "a timestamp",
        ShapeKind::Blob => "a blob",
        ShapeKind::Document => "a document",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ServiceModel;

    fn problems(prefix: &str, op: &str, output: &Value) -> Vec<String> {
        let model = ServiceModel::by_endpoint_prefix(prefix).unwrap();
        match check_output(model.operation(op).unwrap(), output) {
            Ok(()) => Vec::new(),
            Err(e) => e.problems().to_vec(),
        }
    }

    #[test]
    fn a_modeled_output_passes_even_when_members_are_missing() {
        let output = json!({"User": {"UserName": "bob", "CreateDate": "2026-11-24T15:23:48Z",
            "Tags": [{"Key": "k", "Value": "v"}], "PasswordLastUsed": null}});
        assert_eq!(problems("iam", "CreateUser", &output), Vec::<String>::new());
        assert!(problems("iam", "DeleteUser", &json!({})).is_empty());
        let key = json!({"KeyMetadata": {"KeyId": "k", "CreationDate": 1_795_533_828,
            "KeyState": "Enabled", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}});
        assert!(problems("kms", "DescribeKey", &key).is_empty());
    }

    #[test]
    fn unknown_members_are_named_with_their_path() {
        // The slip this catches: a serde rename that does not match the model's member name.
        let output = json!({"User": {"Username": "bob", "Tags": [{"Key": "k", "Valeu": "v"}]},
            "Extra": null});
        assert_eq!(
            problems("iam", "CreateUser", &output),
            [
                "`Extra`: not a member of `CreateUserResponse`",
                "`User.Tags[].Valeu`: not a member of `Tag`",
                "`User.Username`: not a member of `User`",
            ]
        );
        assert_eq!(
            problems("iam", "DeleteUser", &json!({"Deleted": true})),
            ["the operation has no output in the model"]
        );
    }

    #[test]
    fn values_of_the_wrong_type_are_named() {
        let output = json!({"KeyMetadata": {"KeyId": 7, "CreationDate": "yesterday",
            "Enabled": "true", "KeyState": "enabled", "EncryptionAlgorithms": "SYMMETRIC_DEFAULT",
            "MultiRegionConfiguration": {"ReplicaKeys": [{"Arn": "a", "Region": ["r"]}]}}});
        assert_eq!(
            problems("kms", "DescribeKey", &output),
            [
                "`KeyMetadata.CreationDate`: a string where `DateType` is a timestamp",
                "`KeyMetadata.Enabled`: a string where `BooleanType` is a boolean",
                "`KeyMetadata.EncryptionAlgorithms`: a string where `EncryptionAlgorithmSpecList` is a list",
                "`KeyMetadata.KeyId`: a number where `KeyIdType` is a string",
                "`KeyMetadata.KeyState`: a value outside its enum where `KeyState` is a string",
                "`KeyMetadata.MultiRegionConfiguration.ReplicaKeys[].Region`: an array where `RegionType` is a string",
            ]
        );
        let blob = json!({"CiphertextBlob": "not base64!", "KeyId": "k"});
        assert_eq!(
            problems("kms", "Encrypt", &blob),
            ["`CiphertextBlob`: a string where `CiphertextType` is a blob"]
        );
        let fraction = json!({"Keys": [], "Truncated": false, "NextMarker": "m"});
        assert!(problems("kms", "ListKeys", &fraction).is_empty());
        let policy = json!({"Policy": {"AttachmentCount": 1.5}});
        assert_eq!(
            problems("iam", "GetPolicy", &policy),
            ["`Policy.AttachmentCount`: a number where `attachmentCountType` is an integer"]
        );
    }
}
