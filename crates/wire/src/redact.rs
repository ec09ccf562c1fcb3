//! Redaction of sensitive members for the audit trail, as CloudTrail does.

use serde_json::{Map, Value};

use crate::MAX_DEPTH;
use crate::model::OperationModel;
use crate::shape::{ShapeId, ShapeKind, ShapeTable};

/// What CloudTrail writes in place of a sensitive value.
pub const REDACTED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// A copy of an operation's canonical input with every member whose shape is `sensitive`
/// replaced by [`REDACTED`], and binary members left out. Members the model does not name are dropped: the trail records
/// what the model describes, and an unmodeled value cannot be known to be harmless.
pub fn redact_input(op: &OperationModel, input: &Value) -> Value {
    match op.input_id() {
        Some(id) => redact(&op.shapes, id, input, 0),
        None => Value::Object(Map::new()),
    }
}

/// As [`redact_input`], for an operation's canonical output.
pub fn redact_output(op: &OperationModel, output: &Value) -> Value {
    match op.output_id() {
        Some(id) => redact(&op.shapes, id, output, 0),
        None => Value::Object(Map::new()),
    }
}

fn redact(shapes: &ShapeTable, id: ShapeId, value: &Value, depth: usize) -> Value {
    let Some(shape) = shapes.get(id) else {
        return Value::Null;
    };
    if value.is_null() {
        return Value::Null;
    }
    if shape.sensitive {
        return Value::String(REDACTED.to_owned());
    }
    if depth > MAX_DEPTH {
        // Too deep to look inside: hide it rather than risk recording a secret.
        return Value::String(REDACTED.to_owned());
    }
    match (&shape.kind, value) {
        // Binary members (ciphertexts, import tokens, wrapped key material) are left out, as
        // CloudTrail leaves them out of KMS's events: large, and never meant for a log.
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => Value::Object(
            members
                .iter()
                .filter(|m| {
                    !shapes
                        .get(m.shape)
                        .is_some_and(|s| matches!(s.kind, ShapeKind::Blob))
                })
                .filter_map(|m| {
                    object
                        .get(&m.name)
                        .map(|v| (m.name.clone(), redact(shapes, m.shape, v, depth + 1)))
                })
                .collect(),
        ),
        (ShapeKind::List { member }, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|v| redact(shapes, member.shape, v, depth + 1))
                .collect(),
        ),
        (ShapeKind::Map { value: m, .. }, Value::Object(entries)) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), redact(shapes, m.shape, v, depth + 1)))
                .collect(),
        ),
        (ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. }, _) => {
            Value::Null
        }
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ServiceModel;

    #[test]
    fn hides_sensitive_members_at_any_depth() {
        let sm = ServiceModel::by_endpoint_prefix("secretsmanager").unwrap();
        let op = sm.operation("CreateSecret").unwrap();
        let input =
            json!({"Name": "db", "SecretString": "hunter2", "Tags": [{"Key": "k", "Value": "v"}]});
        assert_eq!(
            redact_input(op, &input),
            json!({"Name": "db", "SecretString": REDACTED, "Tags": [{"Key": "k", "Value": "v"}]})
        );
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let op = iam.operation("CreateLoginProfile").unwrap();
        let out = redact_input(
            op,
            &json!({"UserName": "bob", "Password": "pw", "Extra": "x"}),
        );
        assert_eq!(out, json!({"UserName": "bob", "Password": REDACTED}));
        let sts = ServiceModel::by_endpoint_prefix("sts").unwrap();
        let op = sts.operation("AssumeRole").unwrap();
        let out = redact_output(
            op,
            &json!({"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t",
                "Expiration": "2026-11-24T15:23:48Z"}}),
        );
        assert_eq!(out["Credentials"]["SecretAccessKey"], json!(REDACTED));
        assert_eq!(out["Credentials"]["AccessKeyId"], json!("ASIA"));
    }

    #[test]
    fn leaves_binary_members_out() {
        let kms = ServiceModel::by_endpoint_prefix("kms").unwrap();
        let op = kms.operation("Decrypt").unwrap();
        let out = redact_input(
            op,
            &json!({"CiphertextBlob": "AAAA", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        );
        assert_eq!(out, json!({"EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}));
        let op = kms.operation("ImportKeyMaterial").unwrap();
        let out = redact_input(
            op,
            &json!({"KeyId": "k", "ImportToken": "AAAA", "EncryptedKeyMaterial": "AAAA",
                "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
        );
        assert_eq!(
            out,
            json!({"KeyId": "k", "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
        );
    }
}
