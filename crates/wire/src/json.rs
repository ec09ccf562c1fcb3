//! awsJson: request bodies into the canonical `Value`, and outputs and errors back to JSON.

use serde_json::{Map, Number, Value};

use crate::error::{AwsError, quote_prefix};
use crate::model::{OperationModel, ServiceModel};
use crate::shape::{Member, Shape, ShapeId, ShapeKind, ShapeTable, TimestampFormat};
use crate::{MAX_DEPTH, timestamp};

/// Decode an awsJson request body into the canonical `Value` of the operation's input, then
/// validate it. An empty body is `{}`; members the model does not name are ignored.
pub fn decode_json(
    service: &ServiceModel,
    op: &OperationModel,
    body: &[u8],
) -> Result<Value, AwsError> {
    let value = read_json(op, body)?;
    crate::validate::validate_input(service, op, &value)?;
    Ok(value)
}

/// The decoding half of [`decode_json`]: types are checked, constraints are not.
pub(crate) fn read_json(op: &OperationModel, body: &[u8]) -> Result<Value, AwsError> {
    let body_is_blank = body.iter().all(u8::is_ascii_whitespace);
    let parsed: Value = if body_is_blank {
        Value::Object(Map::new())
    } else {
        // AWS answers an unreadable body with a bare `SerializationException`, no message.
        serde_json::from_slice(body).map_err(|_| AwsError::serialization(""))?
    };
    match &parsed {
        Value::Object(_) => match op.input_id() {
            Some(id) => read(&op.shapes, id, &parsed, 0),
            None => Ok(Value::Object(Map::new())),
        },
        Value::Array(_) => Err(AwsError::serialization(
            "Start of list found where not expected",
        )),
        _ => Err(AwsError::serialization("")),
    }
}

/// The token Coral names a JSON value by in its "can not be converted" messages.
fn token(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn mismatch(value: &Value, expected: &str) -> AwsError {
    match value {
        Value::Object(_) => {
            AwsError::serialization("Start of structure or map found where not expected.")
        }
        Value::Array(_) => AwsError::serialization("Start of list found where not expected"),
        other => AwsError::serialization(format!(
            "{} can not be converted to {expected}",
            token(other)
        )),
    }
}

/// Read `value` as shape `id`, checking JSON types (a mismatch is a SerializationException,
/// reported before any constraint violation, as AWS does).
fn read(shapes: &ShapeTable, id: ShapeId, value: &Value, depth: usize) -> Result<Value, AwsError> {
    if depth > MAX_DEPTH {
        return Err(AwsError::serialization("Input nested too deeply"));
    }
    let Some(shape) = shapes.get(id) else {
        return Ok(Value::Null);
    };
    match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => {
            let mut out = Map::new();
            for member in members {
                match object.get(member.wire_name()) {
                    None | Some(Value::Null) => {}
                    Some(v) => {
                        out.insert(
                            member.name.clone(),
                            read(shapes, member.shape, v, depth + 1)?,
                        );
                    }
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::List { member }, Value::Array(items)) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| read(shapes, member.shape, v, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (
            ShapeKind::Map {
                value: value_member,
                ..
            },
            Value::Object(object),
        ) => {
            let mut out = Map::new();
            for (k, v) in object {
                if !v.is_null() {
                    out.insert(k.clone(), read(shapes, value_member.shape, v, depth + 1)?);
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::Document, v) => Ok(v.clone()),
        (ShapeKind::String, Value::String(_)) | (ShapeKind::Boolean, Value::Bool(_)) => {
            Ok(value.clone())
        }
        (ShapeKind::Integer, Value::Number(n)) => {
            integer(n, i64::from(i32::MIN), i64::from(i32::MAX), value)
        }
        (ShapeKind::Long, Value::Number(n)) => integer(n, i64::MIN, i64::MAX, value),
        (ShapeKind::Float | ShapeKind::Double, Value::Number(_)) => Ok(value.clone()),
        (ShapeKind::Timestamp, Value::Number(n)) => n
            .as_f64()
            .and_then(timestamp::from_epoch)
            .map(Value::String)
            .ok_or_else(|| AwsError::serialization("Timestamp out of range")),
        (ShapeKind::Timestamp, Value::String(s)) => {
            timestamp::parse_text(s).map(Value::String).ok_or_else(|| {
                AwsError::serialization(format!("Unable to parse timestamp '{}'", quote_prefix(s)))
            })
        }
        (ShapeKind::Blob, Value::String(s)) => match data_encoding::BASE64.decode(s.as_bytes()) {
            Ok(_) => Ok(value.clone()),
            Err(_) => Err(AwsError::serialization("Base64 encoded value is invalid")),
        },
        (kind, v) => Err(mismatch(v, expected_name(kind))),
    }
}

/// Coral truncates a fractional number sent for an integer member; out of range is an error.
fn integer(n: &Number, min: i64, max: i64, value: &Value) -> Result<Value, AwsError> {
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        #[expect(
            clippy::cast_possible_truncation,
            reason = "range checked against i64 bounds"
        )]
        (None, Some(f)) if f.is_finite() && f.abs() < 9.2e18 => Some(f.trunc() as i64),
        _ => None,
    };
    match whole {
        Some(i) if (min..=max).contains(&i) => Ok(Value::from(i)),
        _ => Err(mismatch(
            value,
            if max == i64::MAX {
                "a Long"
            } else {
                "an Integer"
            },
        )),
    }
}

fn expected_name(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } | ShapeKind::Document => "a Structure",
        ShapeKind::List { .. } => "a List",
        ShapeKind::Map { .. } => "a Map",
        ShapeKind::String => "a String",
        ShapeKind::Integer => "an Integer",
        ShapeKind::Long => "a Long",
        ShapeKind::Float => "a Float",
        ShapeKind::Double => "a Double",
        ShapeKind::Boolean => "a Boolean",
        ShapeKind::Timestamp => "a Timestamp",
        ShapeKind::Blob => "a ByteBuffer",
    }
}

/// Encode an operation's canonical output as an awsJson response body: members the model
/// does not name and `null`s are dropped, timestamps become epoch seconds.
///
/// What the model does not describe is left out and logged as a warning; [`crate::check_output`]
/// says what it was.
pub fn encode_json_response(
    _service: &ServiceModel,
    op: &OperationModel,
    output: &Value,
) -> Vec<u8> {
    let mut dropped = false;
    let value = match op.output_id() {
        Some(id) => write(&op.shapes, id, None, output, 0, &mut dropped)
            .unwrap_or_else(|| Value::Object(Map::new())),
        None => {
            dropped = output.as_object().is_some_and(|o| !o.is_empty());
            Value::Object(Map::new())
        }
    };
    if dropped {
        crate::output_check::warn_dropped(op, output);
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec())
}

/// Render a canonical value as shape `id` for the wire; `None` when it has nothing to write
/// (null, or a value that is not of the shape's type — dropped rather than sent malformed,
/// and `dropped` set).
fn write(
    shapes: &ShapeTable,
    id: ShapeId,
    member: Option<&Member>,
    value: &Value,
    depth: usize,
    dropped: &mut bool,
) -> Option<Value> {
    let shape = shapes.get(id)?;
    if value.is_null() {
        return None;
    }
    if depth > MAX_DEPTH {
        *dropped = true;
        return None;
    }
    let written = match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => {
            let mut out = Map::new();
            let mut named = 0;
            for m in members {
                if let Some(v) = object.get(&m.name) {
                    named += 1;
                    if let Some(v) = write(shapes, m.shape, Some(m), v, depth + 1, dropped) {
                        out.insert(m.wire_name().to_owned(), v);
                    }
                }
            }
            // Counting is enough to notice a member the model lacks: naming it is the slow path.
            if named < object.len() {
                *dropped = true;
            }
            Some(Value::Object(out))
        }
        (ShapeKind::List { member: m }, Value::Array(items)) => Some(Value::Array(
            items
                .iter()
                .filter_map(|v| write(shapes, m.shape, Some(m), v, depth + 1, dropped))
                .collect(),
        )),
        (ShapeKind::Map { value: m, .. }, Value::Object(object)) => Some(Value::Object(
            object
                .iter()
                .filter_map(|(k, v)| {
                    write(shapes, m.shape, Some(m), v, depth + 1, dropped).map(|v| (k.clone(), v))
                })
                .collect(),
        )),
        (ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. }, _) => None,
        (ShapeKind::Timestamp, v) => write_timestamp(shape, member, v),
        (_, v) => Some(v.clone()),
    };
    if written.is_none() {
        *dropped = true;
    }
    written
}

fn write_timestamp(shape: &Shape, member: Option<&Member>, value: &Value) -> Option<Value> {
    let canonical = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => timestamp::from_epoch(n.as_f64()?)?,
        _ => return None,
    };
    match member
        .and_then(|m| m.timestamp_format)
        .or(shape.timestamp_format)
    {
        Some(TimestampFormat::Iso8601) => Some(Value::String(canonical)),
        Some(TimestampFormat::Rfc822) => timestamp::to_rfc822(&canonical).map(Value::String),
        Some(TimestampFormat::UnixTimestamp) | None => timestamp::to_epoch(&canonical),
    }
}

/// An awsJson error body: `{"__type":"Code","message":"…"}` (no `message` when empty, as
/// AWS sends a bare `{"__type":"SerializationException"}` for an unreadable body).
pub fn encode_json_error(error: &AwsError) -> Vec<u8> {
    encode_json_error_as(&error.code, error)
}

/// An awsJson error body whose `__type` is `error_type` (an `awsQueryCompatible` service
/// names its error shape there: see [`ServiceModel::error_type`]).
pub fn encode_json_error_as(error_type: &str, error: &AwsError) -> Vec<u8> {
    let mut body = Map::new();
    body.insert("__type".to_owned(), Value::String(error_type.to_owned()));
    if !error.message.is_empty() {
        body.insert("message".to_owned(), Value::String(error.message.clone()));
    }
    for (name, value) in &error.members {
        body.insert((*name).to_owned(), Value::String(value.clone()));
    }
    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kms() -> &'static ServiceModel {
        ServiceModel::by_endpoint_prefix("kms").unwrap()
    }

    fn kms_decode(op: &str, body: &str) -> Result<Value, AwsError> {
        decode_json(kms(), kms().operation(op).unwrap(), body.as_bytes())
    }

    #[test]
    fn decodes_members_and_ignores_unknowns() {
        let v = kms_decode(
            "Encrypt",
            r#"{"KeyId":"alias/x","Plaintext":"aGk=","EncryptionContext":{"a":"b"},"Nope":1,"GrantTokens":null}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"KeyId": "alias/x", "Plaintext": "aGk=", "EncryptionContext": {"a": "b"}})
        );
        assert_eq!(kms_decode("ListKeys", "").unwrap(), json!({}));
        assert_eq!(kms_decode("ListKeys", "  \n").unwrap(), json!({}));
    }

    #[test]
    fn type_mismatches_are_serialization_exceptions() {
        for (body, message) in [
            (
                r#"{"Limit":"10"}"#,
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                r#"{"Limit":{}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                r#"{"Marker":[1]}"#,
                "Start of list found where not expected",
            ),
            (
                r#"{"Limit":99999999999}"#,
                "NUMBER_VALUE can not be converted to an Integer",
            ),
            ("[]", "Start of list found where not expected"),
            ("{", ""),
            ("null", ""),
            ("\"x\"", ""),
        ] {
            let err = kms_decode("ListKeys", body).unwrap_err();
            assert_eq!(
                (err.code.as_ref(), err.status, err.message.as_str()),
                ("SerializationException", 400, message)
            );
        }
        let err = kms_decode("Encrypt", r#"{"KeyId":"k","Plaintext":"***"}"#).unwrap_err();
        assert_eq!(err.code, "SerializationException");
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let wafv2 = ServiceModel::by_endpoint_prefix("wafv2").unwrap();
        let op = wafv2.operation("CheckCapacity").unwrap();
        let mut body =
            String::from(r#"{"Scope":"REGIONAL","Rules":[{"Name":"r","Priority":1,"Statement":"#);
        for _ in 0..100 {
            body.push_str(r#"{"NotStatement":{"Statement":"#);
        }
        body.push_str("{}");
        for _ in 0..100 {
            body.push_str("}}");
        }
        body.push_str("}]}");
        let err = decode_json(wafv2, op, body.as_bytes()).unwrap_err();
        assert_eq!(err.code, "SerializationException");
        let deep = "[".repeat(100_000);
        assert!(decode_json(wafv2, op, deep.as_bytes()).is_err());
    }

    #[test]
    fn encodes_output_with_epoch_timestamps() {
        let op = kms().operation("DescribeKey").unwrap();
        let output = json!({"KeyMetadata": {"KeyId": "1234", "CreationDate": "2026-11-24T15:23:48Z",
            "Enabled": true, "Extra": "dropped", "Description": null}});
        let body: Value =
            serde_json::from_slice(&encode_json_response(kms(), op, &output)).unwrap();
        assert_eq!(
            body,
            json!({"KeyMetadata": {"KeyId": "1234", "CreationDate": 1_795_533_828, "Enabled": true}})
        );
        // The release server still answers without the unknown member; tests see it.
        let err = crate::check_output(op, &output).unwrap_err();
        assert_eq!(
            err.problems(),
            ["`KeyMetadata.Extra`: not a member of `KeyMetadata`"]
        );
    }

    #[test]
    fn a_structure_that_is_not_an_object_is_dropped_not_sent() {
        let op = kms().operation("DescribeKey").unwrap();
        let output = json!({"KeyMetadata": "not a structure"});
        let body: Value =
            serde_json::from_slice(&encode_json_response(kms(), op, &output)).unwrap();
        assert_eq!(body, json!({}));
        assert!(crate::check_output(op, &output).is_err());
    }

    #[test]
    fn error_bodies() {
        let err = AwsError::new(
            "NotFoundException",
            400,
            "Key 'arn:aws:kms:us-east-1:111122223333:key/x' does not exist",
        );
        let body: Value = serde_json::from_slice(&encode_json_error(&err)).unwrap();
        assert_eq!(
            body,
            json!({"__type": "NotFoundException", "message": "Key 'arn:aws:kms:us-east-1:111122223333:key/x' does not exist"})
        );
        assert_eq!(
            encode_json_error(&AwsError::serialization("")),
            br#"{"__type":"SerializationException"}"#
        );
    }
}
