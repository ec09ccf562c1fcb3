//! Smithy RPC v2 CBOR: request bodies into the canonical `Value`, outputs and errors back to
//! CBOR. The operation is named by the request path (`/service/<Service>/operation/<Op>`),
//! which the server routes; this module only reads and writes bodies.
//!
//! On the wire (Smithy's `rpcv2Cbor` specification): structures and maps are CBOR maps with
//! text keys, timestamps are tag 1 around epoch seconds (integer or float), blobs are byte
//! strings, numbers are CBOR integers and floats. Indefinite-length items are accepted.
//! Errors are a map with `__type` and `message`.

use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value};

use crate::error::AwsError;
use crate::model::{OperationModel, ServiceModel};
use crate::shape::{Member, ShapeId, ShapeKind, ShapeTable};
use crate::{MAX_DEPTH, timestamp};

/// The `Content-Type` of RPC v2 CBOR requests and responses.
pub const CBOR_CONTENT_TYPE: &str = "application/cbor";
/// The header that marks a request or response as RPC v2 CBOR, and its value.
pub const SMITHY_PROTOCOL_HEADER: &str = "smithy-protocol";
/// The value of [`SMITHY_PROTOCOL_HEADER`] for this protocol.
pub const RPC_V2_CBOR: &str = "rpc-v2-cbor";

/// CBOR's tag for epoch-based date/time (RFC 8949 §3.4.2).
const EPOCH_TAG: u64 = 1;

/// Decode an RPC v2 CBOR request body into the canonical `Value` of the operation's input,
/// then validate it exactly as [`crate::decode_json`] does. An empty body is `{}`; members
/// the model does not name are ignored.
pub fn decode_cbor(
    service: &ServiceModel,
    op: &OperationModel,
    body: &[u8],
) -> Result<Value, AwsError> {
    let value = read_cbor(op, body)?;
    crate::validate::validate_input(service, op, &value)?;
    Ok(value)
}

/// The decoding half of [`decode_cbor`]: types are checked, constraints are not.
pub(crate) fn read_cbor(op: &OperationModel, body: &[u8]) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut rest = body;
    // The recursion limit bounds the parser's stack before the model's depth is checked;
    // every level of the model is at most two of CBOR's (a tag inside an item).
    let parsed: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut rest, 2 * MAX_DEPTH)
        .map_err(|_| AwsError::serialization("Unable to parse the CBOR body"))?;
    if !rest.is_empty() {
        return Err(AwsError::serialization(
            "Unexpected data after the CBOR body",
        ));
    }
    match (&parsed, op.input_id()) {
        (Cbor::Map(_), Some(id)) => read(&op.shapes, id, &parsed, 0),
        (Cbor::Map(_), None) => Ok(Value::Object(Map::new())),
        (other, _) => Err(mismatch(other, "a Structure")),
    }
}

fn kind_name(value: &Cbor) -> &'static str {
    match value {
        Cbor::Integer(_) => "an integer",
        Cbor::Bytes(_) => "a byte string",
        Cbor::Float(_) => "a float",
        Cbor::Text(_) => "a text string",
        Cbor::Bool(_) => "a boolean",
        Cbor::Null => "null",
        Cbor::Tag(..) => "a tagged item",
        Cbor::Array(_) => "an array",
        Cbor::Map(_) => "a map",
        _ => "an unknown item",
    }
}

fn mismatch(value: &Cbor, expected: &str) -> AwsError {
    AwsError::serialization(format!(
        "{} can not be converted to {expected}",
        kind_name(value)
    ))
}

/// A map's entries with text keys; any other key is a type error.
fn text_entries(entries: &[(Cbor, Cbor)]) -> Result<Vec<(&str, &Cbor)>, AwsError> {
    entries
        .iter()
        .map(|(k, v)| match k {
            Cbor::Text(k) => Ok((k.as_str(), v)),
            other => Err(mismatch(other, "a String")),
        })
        .collect()
}

fn finite(f: f64, value: &Cbor) -> Result<Value, AwsError> {
    // The canonical tree is JSON's: it has no NaN or infinity, and no AWS input here needs them.
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| mismatch(value, "a finite number"))
}

/// Read `value` as shape `id`, checking CBOR types as [`crate::json`] checks JSON's.
fn read(shapes: &ShapeTable, id: ShapeId, value: &Cbor, depth: usize) -> Result<Value, AwsError> {
    if depth > MAX_DEPTH {
        return Err(AwsError::serialization("Input nested too deeply"));
    }
    let Some(shape) = shapes.get(id) else {
        return Ok(Value::Null);
    };
    match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Cbor::Map(entries)) => {
            let entries = text_entries(entries)?;
            let mut out = Map::new();
            for member in members {
                // The first occurrence of a repeated key counts, as in JSON bodies.
                match entries.iter().find(|(k, _)| *k == member.wire_name()) {
                    None | Some((_, Cbor::Null)) => {}
                    Some((_, v)) => {
                        out.insert(
                            member.name.clone(),
                            read(shapes, member.shape, v, depth + 1)?,
                        );
                    }
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::List { member }, Cbor::Array(items)) => items
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
            Cbor::Map(entries),
        ) => {
            let mut out = Map::new();
            for (k, v) in text_entries(entries)? {
                if !v.is_null() {
                    out.insert(
                        k.to_owned(),
                        read(shapes, value_member.shape, v, depth + 1)?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::Document, v) => document(v, depth),
        (ShapeKind::String, Cbor::Text(s)) => Ok(Value::String(s.clone())),
        (ShapeKind::Boolean, Cbor::Bool(b)) => Ok(Value::Bool(*b)),
        (ShapeKind::Integer, Cbor::Integer(i)) => {
            integer(i128::from(*i), i32::MIN.into(), i32::MAX.into(), value)
        }
        (ShapeKind::Long, Cbor::Integer(i)) => {
            integer(i128::from(*i), i64::MIN.into(), i64::MAX.into(), value)
        }
        (ShapeKind::Float | ShapeKind::Double, Cbor::Float(f)) => finite(*f, value),
        #[expect(
            clippy::cast_precision_loss,
            reason = "a CBOR integer sent for a float member is converted as Smithy clients do"
        )]
        (ShapeKind::Float | ShapeKind::Double, Cbor::Integer(i)) => {
            finite(i128::from(*i) as f64, value)
        }
        (ShapeKind::Timestamp, Cbor::Tag(EPOCH_TAG, inner)) => epoch(inner),
        (ShapeKind::Blob, Cbor::Bytes(bytes)) => {
            Ok(Value::String(data_encoding::BASE64.encode(bytes)))
        }
        (kind, v) => Err(mismatch(v, expected_name(kind))),
    }
}

fn integer(i: i128, min: i128, max: i128, value: &Cbor) -> Result<Value, AwsError> {
    if !(min..=max).contains(&i) {
        return Err(mismatch(
            value,
            if max == i128::from(i64::MAX) {
                "a Long"
            } else {
                "an Integer"
            },
        ));
    }
    i64::try_from(i)
        .map(Value::from)
        .map_err(|_| mismatch(value, "a Long"))
}

/// Tag 1's content: epoch seconds as an integer or a float.
fn epoch(inner: &Cbor) -> Result<Value, AwsError> {
    #[expect(
        clippy::cast_precision_loss,
        reason = "epoch seconds within the timestamp range are exact in f64"
    )]
    let seconds = match inner {
        Cbor::Integer(i) => i128::from(*i) as f64,
        Cbor::Float(f) => *f,
        other => return Err(mismatch(other, "a Timestamp")),
    };
    timestamp::from_epoch(seconds)
        .map(Value::String)
        .ok_or_else(|| AwsError::serialization("Timestamp out of range"))
}

/// A document member: CBOR's data model read as JSON's, bounded like everything else.
fn document(value: &Cbor, depth: usize) -> Result<Value, AwsError> {
    if depth > MAX_DEPTH {
        return Err(AwsError::serialization("Input nested too deeply"));
    }
    Ok(match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Text(s) => Value::String(s.clone()),
        Cbor::Integer(i) => {
            let i = i128::from(*i);
            match i64::try_from(i) {
                Ok(i) => Value::from(i),
                Err(_) => return Err(mismatch(value, "a Number")),
            }
        }
        Cbor::Float(f) => finite(*f, value)?,
        Cbor::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| document(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(entries) => {
            let mut out = Map::new();
            for (k, v) in text_entries(entries)? {
                out.insert(k.to_owned(), document(v, depth + 1)?);
            }
            Value::Object(out)
        }
        other => return Err(mismatch(other, "a Document")),
    })
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
        ShapeKind::Blob => "a Blob",
    }
}

/// Encode an operation's canonical output as an RPC v2 CBOR body: members the model does not
/// name and `null`s are dropped (and logged, as [`crate::encode_json_response`] does),
/// timestamps become tag 1 epoch seconds, blobs byte strings. An operation without output
/// answers an empty map.
pub fn encode_cbor_response(
    _service: &ServiceModel,
    op: &OperationModel,
    output: &Value,
) -> Vec<u8> {
    let mut dropped = false;
    let value = match op.output_id() {
        Some(id) => write(&op.shapes, id, None, output, 0, &mut dropped)
            .unwrap_or_else(|| Cbor::Map(Vec::new())),
        None => {
            dropped = output.as_object().is_some_and(|o| !o.is_empty());
            Cbor::Map(Vec::new())
        }
    };
    if dropped {
        crate::output_check::warn_dropped(op, output);
    }
    to_bytes(&value)
}

fn to_bytes(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    match ciborium::ser::into_writer(value, &mut out) {
        Ok(()) => out,
        // Writing to a Vec fails only on allocation; an empty map is still a valid answer.
        Err(_) => vec![0xa0],
    }
}

fn write(
    shapes: &ShapeTable,
    id: ShapeId,
    // Unused: RPC v2 CBOR writes every timestamp as tag 1, whatever format a member names.
    _member: Option<&Member>,
    value: &Value,
    depth: usize,
    dropped: &mut bool,
) -> Option<Cbor> {
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
            let mut out = Vec::new();
            let mut named = 0;
            for m in members {
                if let Some(v) = object.get(&m.name) {
                    named += 1;
                    if let Some(v) = write(shapes, m.shape, Some(m), v, depth + 1, dropped) {
                        out.push((Cbor::Text(m.wire_name().to_owned()), v));
                    }
                }
            }
            if named < object.len() {
                *dropped = true;
            }
            Some(Cbor::Map(out))
        }
        (ShapeKind::List { member: m }, Value::Array(items)) => Some(Cbor::Array(
            items
                .iter()
                .filter_map(|v| write(shapes, m.shape, Some(m), v, depth + 1, dropped))
                .collect(),
        )),
        (ShapeKind::Map { value: m, .. }, Value::Object(object)) => Some(Cbor::Map(
            object
                .iter()
                .filter_map(|(k, v)| {
                    write(shapes, m.shape, Some(m), v, depth + 1, dropped)
                        .map(|v| (Cbor::Text(k.clone()), v))
                })
                .collect(),
        )),
        (ShapeKind::Timestamp, v) => write_timestamp(v),
        (ShapeKind::Blob, Value::String(s)) => data_encoding::BASE64
            .decode(s.as_bytes())
            .ok()
            .map(Cbor::Bytes),
        (ShapeKind::String, Value::String(s)) => Some(Cbor::Text(s.clone())),
        (ShapeKind::Boolean, Value::Bool(b)) => Some(Cbor::Bool(*b)),
        (ShapeKind::Integer | ShapeKind::Long, Value::Number(n)) => n.as_i64().map(Cbor::from),
        (ShapeKind::Float | ShapeKind::Double, Value::Number(n)) => n.as_f64().map(Cbor::Float),
        (ShapeKind::Document, v) => Some(plain(v, depth)),
        _ => None,
    };
    if written.is_none() {
        *dropped = true;
    }
    written
}

fn write_timestamp(value: &Value) -> Option<Cbor> {
    let seconds = match value {
        Value::String(s) => timestamp::to_epoch(s)?,
        Value::Number(_) => value.clone(),
        _ => return None,
    };
    let seconds = match seconds.as_i64() {
        Some(whole) => Cbor::from(whole),
        None => Cbor::Float(seconds.as_f64()?),
    };
    Some(Cbor::Tag(EPOCH_TAG, Box::new(seconds)))
}

/// A JSON value as CBOR, for documents and error bodies.
fn plain(value: &Value, depth: usize) -> Cbor {
    if depth > MAX_DEPTH {
        return Cbor::Null;
    }
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Cbor::from(i),
            (None, Some(f)) => Cbor::Float(f),
            (None, None) => Cbor::Null,
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => Cbor::Array(items.iter().map(|v| plain(v, depth + 1)).collect()),
        Value::Object(object) => Cbor::Map(
            object
                .iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), plain(v, depth + 1)))
                .collect(),
        ),
    }
}

/// An RPC v2 CBOR error body: `{"__type": …, "message": …}` plus the error's other members.
/// `error_type` is what `__type` says (see [`ServiceModel::error_type`]).
pub fn encode_cbor_error(error_type: &str, error: &AwsError) -> Vec<u8> {
    let mut body = vec![(
        Cbor::Text("__type".to_owned()),
        Cbor::Text(error_type.to_owned()),
    )];
    if !error.message.is_empty() {
        body.push((
            Cbor::Text("message".to_owned()),
            Cbor::Text(error.message.clone()),
        ));
    }
    for (name, value) in &error.members {
        body.push((Cbor::Text((*name).to_owned()), Cbor::Text(value.clone())));
    }
    to_bytes(&Cbor::Map(body))
}

/// A canonical value as CBOR shaped by `id` (for tests that build request bodies).
#[cfg(test)]
pub(crate) fn to_cbor_input(op: &OperationModel, input: &Value) -> Vec<u8> {
    let mut dropped = false;
    let value = op
        .input_id()
        .and_then(|id| write(&op.shapes, id, None, input, 0, &mut dropped))
        .unwrap_or_else(|| Cbor::Map(Vec::new()));
    to_bytes(&value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cloudwatch() -> &'static ServiceModel {
        ServiceModel::by_endpoint_prefix("monitoring").unwrap()
    }

    fn bytes(value: &Cbor) -> Vec<u8> {
        to_bytes(value)
    }

    fn text(s: &str) -> Cbor {
        Cbor::Text(s.to_owned())
    }

    fn decode(op: &str, body: &[u8]) -> Result<Value, AwsError> {
        decode_cbor(cloudwatch(), cloudwatch().operation(op).unwrap(), body)
    }

    #[test]
    fn decodes_timestamps_blobs_numbers_and_ignores_unknowns() {
        let body = bytes(&Cbor::Map(vec![
            (text("Namespace"), text("App")),
            (
                text("MetricData"),
                Cbor::Array(vec![Cbor::Map(vec![
                    (text("MetricName"), text("Latency")),
                    (
                        text("Timestamp"),
                        Cbor::Tag(1, Box::new(Cbor::Float(1_795_533_828.5))),
                    ),
                    (text("Value"), Cbor::Integer(3.into())),
                    (text("StorageResolution"), Cbor::Integer(1.into())),
                    (text("Unknown"), Cbor::Bytes(vec![1, 2])),
                ])]),
            ),
        ]));
        let value = decode("PutMetricData", &body).unwrap();
        assert_eq!(
            value,
            json!({"Namespace": "App", "MetricData": [{"MetricName": "Latency",
                "Timestamp": "2026-11-24T15:23:48.500Z", "Value": 3.0, "StorageResolution": 1}]})
        );
        assert_eq!(decode("ListMetrics", b"").unwrap(), json!({}));
    }

    #[test]
    fn type_mismatches_and_garbage_are_serialization_exceptions() {
        for body in [
            bytes(&Cbor::Array(vec![])),
            bytes(&Cbor::Map(vec![(
                text("Namespace"),
                Cbor::Integer(1.into()),
            )])),
            bytes(&Cbor::Map(vec![(Cbor::Integer(1.into()), text("x"))])),
            bytes(&Cbor::Map(vec![(
                text("MetricData"),
                Cbor::Array(vec![Cbor::Map(vec![(
                    text("Value"),
                    Cbor::Float(f64::NAN),
                )])]),
            )])),
            bytes(&Cbor::Map(vec![(
                text("MetricData"),
                Cbor::Array(vec![Cbor::Map(vec![(
                    text("Timestamp"),
                    text("yesterday"),
                )])]),
            )])),
            vec![0xa1, 0x61],
            vec![0xa0, 0x00],
            vec![0xff],
        ] {
            let err = decode("PutMetricData", &body).unwrap_err();
            assert_eq!(
                (err.code.as_ref(), err.status),
                ("SerializationException", 400)
            );
        }
        let too_long = bytes(&Cbor::Map(vec![(
            text("MaxRecords"),
            Cbor::Integer(u64::MAX.into()),
        )]));
        let err = decode("DescribeAlarms", &too_long).unwrap_err();
        assert_eq!(err.code, "SerializationException");
    }

    #[test]
    fn constraints_are_validated_as_for_json() {
        let body = bytes(&Cbor::Map(vec![(text("Namespace"), text(""))]));
        let err = decode("PutMetricData", &body).unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert!(
            err.message
                .contains("at 'namespace' failed to satisfy constraint: Member must have length"),
            "{}",
            err.message
        );
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let mut deep = vec![0xa1u8, 0x69];
        deep.extend_from_slice(b"Namespace");
        deep.extend(std::iter::repeat_n(0x81u8, 100_000));
        deep.push(0xa0);
        assert!(decode("PutMetricData", &deep).is_err());
        let mut tags = vec![0xa1u8, 0x69];
        tags.extend_from_slice(b"Namespace");
        tags.extend(std::iter::repeat_n(0xc1u8, 100_000));
        tags.push(0x00);
        assert!(decode("PutMetricData", &tags).is_err());
    }

    #[test]
    fn encodes_output_with_tagged_timestamps() {
        let op = cloudwatch().operation("GetMetricStatistics").unwrap();
        let output = json!({"Label": "Latency", "Datapoints": [{"Timestamp": "2026-11-24T15:23:00Z",
            "Sum": 2.5, "Unit": "Seconds", "Extra": 1}]});
        let body = encode_cbor_response(cloudwatch(), op, &output);
        let read: Cbor = ciborium::de::from_reader(body.as_slice()).unwrap();
        assert_eq!(
            read,
            Cbor::Map(vec![
                (text("Label"), text("Latency")),
                (
                    text("Datapoints"),
                    Cbor::Array(vec![Cbor::Map(vec![
                        (
                            text("Timestamp"),
                            Cbor::Tag(1, Box::new(Cbor::Integer(1_795_533_780.into())))
                        ),
                        (text("Sum"), Cbor::Float(2.5)),
                        (text("Unit"), text("Seconds")),
                    ])])
                ),
            ])
        );
        let empty = encode_cbor_response(
            cloudwatch(),
            cloudwatch().operation("PutMetricData").unwrap(),
            &json!({}),
        );
        assert_eq!(empty, [0xa0]);
    }

    #[test]
    fn error_bodies_carry_type_and_message() {
        let err = AwsError::new("InvalidParameterValue", 400, "bad");
        let body = encode_cbor_error(&cloudwatch().error_type(&err), &err);
        let read: Cbor = ciborium::de::from_reader(body.as_slice()).unwrap();
        assert_eq!(
            read,
            Cbor::Map(vec![
                (text("__type"), text("InvalidParameterValueException")),
                (text("message"), text("bad")),
            ])
        );
        assert_eq!(
            cloudwatch().query_error_header(&err).as_deref(),
            Some("InvalidParameterValue;Sender")
        );
    }
}
