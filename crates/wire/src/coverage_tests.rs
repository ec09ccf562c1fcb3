//! Every operation of every vendored model: decoding empty and example inputs, round-tripping
//! example inputs through both wire formats, and encoding example outputs.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::cbor::{read_cbor, to_cbor_input};
use crate::model::{OperationModel, Protocol, ServiceModel, all_services};
use crate::shape::{ShapeId, ShapeKind, ShapeTable};
use crate::{
    check_output, decode_cbor, decode_json, decode_query, encode_cbor_response,
    encode_json_response, encode_query_response, json::read_json, query_decode::read_query,
    redact_input, redact_output,
};

/// An example value of a shape: every member present, one item per list and map, recursion
/// cut where a shape reappears on its own path.
fn example(shapes: &ShapeTable, id: ShapeId, seen: &mut HashSet<ShapeId>) -> Option<Value> {
    let shape = shapes.get(id)?;
    if !seen.insert(id) {
        return None;
    }
    let value = match &shape.kind {
        ShapeKind::Structure { members, .. } => {
            let mut object = Map::new();
            for m in members {
                if let Some(v) = example(shapes, m.shape, seen) {
                    object.insert(m.name.clone(), v);
                }
            }
            Value::Object(object)
        }
        ShapeKind::List { member } => {
            Value::Array(example(shapes, member.shape, seen).into_iter().collect())
        }
        ShapeKind::Map { value, .. } => {
            let mut object = Map::new();
            if let Some(v) = example(shapes, value.shape, seen) {
                object.insert("some-key".to_owned(), v);
            }
            Value::Object(object)
        }
        ShapeKind::String => json!(
            shape
                .enum_values
                .first()
                .cloned()
                .unwrap_or_else(|| "ex & <ample> \"q\" 'a' é".to_owned())
        ),
        ShapeKind::Integer | ShapeKind::Long => json!(shape.min.map_or(7, |m| m as i64 + 1)),
        ShapeKind::Float | ShapeKind::Double => json!(1.5),
        ShapeKind::Boolean => json!(true),
        ShapeKind::Timestamp => json!("2026-11-24T15:23:48Z"),
        ShapeKind::Blob => json!("aGVsbG8="),
        ShapeKind::Document => json!({"any": ["thing"]}),
    };
    seen.remove(&id);
    Some(value)
}

/// A test-side Query encoder, as botocore's QuerySerializer writes parameters.
fn to_query(
    shapes: &ShapeTable,
    id: ShapeId,
    value: &Value,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let Some(shape) = shapes.get(id) else { return };
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => {
            for m in members {
                if let Some(v) = object.get(&m.name) {
                    to_query(shapes, m.shape, v, &join(m.wire_name()), out);
                }
            }
        }
        (ShapeKind::List { member }, Value::Array(items)) => {
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
            }
            for (i, v) in items.iter().enumerate() {
                let p = if shape.flattened {
                    format!("{prefix}.{}", i + 1)
                } else {
                    format!("{prefix}.{}.{}", member.wire_name(), i + 1)
                };
                to_query(shapes, member.shape, v, &p, out);
            }
        }
        (ShapeKind::Map { key, value: mv }, Value::Object(entries)) => {
            for (i, (k, v)) in entries.iter().enumerate() {
                let p = format!("{prefix}.entry.{}", i + 1);
                out.push((format!("{p}.{}", key.wire_name()), k.clone()));
                to_query(shapes, mv.shape, v, &format!("{p}.{}", mv.wire_name()), out);
            }
        }
        (_, Value::String(s)) => out.push((prefix.to_owned(), s.clone())),
        (_, v) => out.push((prefix.to_owned(), v.to_string())),
    }
}

/// `value` without members that are empty structures: Query has no way to send one (botocore
/// sends no parameter for it), so a Query round trip cannot bring one back.
fn without_empty_structures(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(_, v)| !v.as_object().is_some_and(Map::is_empty))
                .map(|(k, v)| (k.clone(), without_empty_structures(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_empty_structures).collect()),
        other => other.clone(),
    }
}

fn example_of(op: &OperationModel, id: Option<ShapeId>) -> Value {
    id.and_then(|id| example(&op.shapes, id, &mut HashSet::new()))
        .unwrap_or_else(|| json!({}))
}

#[test]
fn every_operation_decodes_empty_and_example_input() {
    let mut ops = 0;
    for service in all_services() {
        for op in service.operations() {
            ops += 1;
            let empty = match service.protocol() {
                Protocol::Query => decode_query(service, op, &[]),
                Protocol::Json(_) => decode_json(service, op, b"{}"),
                Protocol::RpcV2Cbor => decode_cbor(service, op, &[0xa0]),
            };
            if let Err(err) = empty {
                assert_eq!(err.code, service.validation_error_code(), "{}", op.name());
                // Organizations names the broken rule by a reason instead of listing members.
                let reason = err.members.iter().find(|(name, _)| *name == "Reason");
                assert!(
                    err.message.contains("Member must not be null")
                        || reason.is_some_and(|(_, r)| r == "INPUT_REQUIRED"),
                    "{}: {}",
                    op.name(),
                    err.message
                );
            }
            let input = example_of(op, op.input_id());
            let body = serde_json::to_vec(&input).unwrap();
            let read = read_json(op, &body).unwrap_or_else(|e| panic!("{}: {e}", op.name()));
            assert_eq!(read, input, "JSON round trip of {}", op.name());
            // Validation may reject the example (patterns); it must not panic.
            let _ = decode_json(service, op, &body);
            if service.serves(Protocol::RpcV2Cbor) {
                let body = to_cbor_input(op, &input);
                let read = read_cbor(op, &body).unwrap_or_else(|e| panic!("{}: {e}", op.name()));
                assert_eq!(read, input, "CBOR round trip of {}", op.name());
                let _ = decode_cbor(service, op, &body);
            }
            if service.serves(Protocol::Query) {
                let mut params = Vec::new();
                if let Some(id) = op.input_id() {
                    to_query(&op.shapes, id, &input, "", &mut params);
                }
                let read = read_query(service, op, &params)
                    .unwrap_or_else(|e| panic!("{}: {e}", op.name()));
                assert_eq!(
                    read,
                    without_empty_structures(&input),
                    "Query round trip of {}",
                    op.name()
                );
                let _ = decode_query(service, op, &params);
            }
            let _ = redact_input(op, &input);
        }
    }
    assert_eq!(ops, 1028, "operations in the vendored models");
}

#[test]
fn every_operation_encodes_example_output() {
    for service in all_services() {
        for op in service.operations() {
            let output = example_of(op, op.output_id());
            // An output with every member the model has is one it describes.
            check_output(op, &output).unwrap_or_else(|e| panic!("{e}"));
            let body: Value = serde_json::from_slice(&encode_json_response(service, op, &output))
                .unwrap_or_else(|e| panic!("{}: {e}", op.name()));
            assert!(body.is_object(), "{}", op.name());
            let _ = redact_output(op, &output);
            if service.serves(Protocol::RpcV2Cbor) {
                let body = encode_cbor_response(service, op, &output);
                let read: ciborium::Value = ciborium::de::from_reader(body.as_slice())
                    .unwrap_or_else(|e| panic!("{}: {e}", op.name()));
                assert!(read.is_map(), "{}", op.name());
            }
            if service.serves(Protocol::Query) {
                let xml = encode_query_response(service, op, &output, "req-1");
                let doc = roxmltree::Document::parse(&xml)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{xml}", op.name()));
                let root = doc.root_element();
                assert_eq!(root.tag_name().name(), format!("{}Response", op.name()));
                assert_eq!(root.tag_name().namespace(), service.xml_namespace());
                let has_result = root
                    .children()
                    .any(|c| c.tag_name().name() == op.result_wrapper());
                assert_eq!(has_result, op.output_id().is_some(), "{}", op.name());
            }
        }
    }
}

#[test]
fn every_model_parses_and_services_are_found() {
    let prefixes: Vec<&str> = all_services().map(ServiceModel::endpoint_prefix).collect();
    assert_eq!(
        prefixes,
        [
            "sts",
            "iam",
            "kms",
            "cloudtrail",
            "organizations",
            "ssm",
            "secretsmanager",
            "cognito-idp",
            "acm",
            "wafv2",
            "logs",
            "monitoring",
            "sns"
        ]
    );
}

/// A small deterministic generator (xorshift), so the garbage below is the same every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Structured garbage (plausible keys, hostile values) through both decoders of every
/// operation: errors are fine, panics are not. The fuzz target goes further.
#[test]
fn garbage_never_panics() {
    let segments = [
        "Tags",
        "member",
        "entry",
        "key",
        "value",
        "1",
        "2",
        "0",
        "-1",
        "99999999999",
        "",
        "Key",
        "Value",
        "UserName",
        "PolicyDocument",
        "MaxItems",
        "Attribute",
        "Statement",
        "Filters",
        "Name",
        "Values",
    ];
    let values = [
        "",
        "true",
        "x",
        "-1",
        "1e400",
        "NaN",
        "2026-11-24T15:23:48Z",
        "=",
        "%",
        "\u{0}",
        "é",
        "aGk=",
        "***",
    ];
    let json_values = [
        r#"{}"#,
        "[]",
        "null",
        "1",
        "-1.5e308",
        r#""s""#,
        "true",
        r#"{"a":[{}]}"#,
        r#"[[[]]]"#,
    ];
    let mut g = Garbage(0x9E37_79B9_7F4A_7C15);
    for service in all_services() {
        for op in service.operations() {
            for _ in 0..20 {
                let params: Vec<(String, String)> = (0..(g.next() % 12))
                    .map(|_| {
                        let key: Vec<&str> =
                            (0..=(g.next() % 6)).map(|_| g.pick(&segments)).collect();
                        (key.join("."), g.pick(&values).to_owned())
                    })
                    .collect();
                let _ = decode_query(service, op, &params);
                let members: Vec<String> = (0..(g.next() % 6))
                    .map(|_| format!("\"{}\":{}", g.pick(&segments), g.pick(&json_values)))
                    .collect();
                let body = format!("{{{}}}", members.join(","));
                if let Ok(v) = decode_json(service, op, body.as_bytes()) {
                    let _ = redact_input(op, &v);
                }
                if service.serves(Protocol::RpcV2Cbor) {
                    let cbor: Vec<u8> = (0..(g.next() % 40)).map(|_| g.next() as u8).collect();
                    let _ = decode_cbor(service, op, &cbor);
                }
            }
        }
    }
}
