//! awsQuery input: form parameters (`UserName=bob&Tags.member.1.Key=k`) into a `Value` tree.
//!
//! The flat keys are first folded into a tree on their dots, then the tree is read against
//! the input shape: structures by member name (or `locationName`), lists as
//! `Name.member.N` (`Name.N` when flattened), maps as `Name.entry.N.key` / `.value`.
//! Parameters the model does not name are ignored, as AWS ignores them.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::error::{AwsError, quote_prefix};
use crate::model::{OperationModel, ServiceModel};
use crate::shape::{Shape, ShapeId, ShapeKind, ShapeTable};
use crate::{MAX_DEPTH, lower_first, timestamp};

/// Keys with more dots than this cannot name anything within [`MAX_DEPTH`] levels (a level
/// takes at most four segments, `Name.entry.N.key`); they are ignored like any unknown
/// parameter, which also keeps the tree shallow enough to drop without deep recursion.
const MAX_SEGMENTS: usize = MAX_DEPTH * 4;

#[derive(Default, Debug)]
struct Node<'a> {
    value: Option<&'a str>,
    children: BTreeMap<&'a str, Node<'a>>,
}

impl<'a> Node<'a> {
    fn build(params: &'a [(String, String)]) -> Self {
        let mut root = Node::default();
        for (key, value) in params {
            if key.split('.').count() > MAX_SEGMENTS {
                continue;
            }
            let mut node = &mut root;
            for segment in key.split('.') {
                node = node.children.entry(segment).or_default();
            }
            // The first occurrence wins, as with repeated form fields elsewhere in AWS.
            if node.value.is_none() {
                node.value = Some(value);
            }
        }
        root
    }

    /// The numbered children (`1`, `2`, …) in numeric order.
    fn numbered(&self) -> Vec<&Node<'a>> {
        let mut items: Vec<(u32, &Node<'a>)> = self
            .children
            .iter()
            .filter_map(|(k, v)| k.parse::<u32>().ok().filter(|n| *n >= 1).map(|n| (n, v)))
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

/// Decode awsQuery parameters (without `Action`, `Version` and the `X-Amz-*` auth
/// parameters) into the canonical `Value` of the operation's input, then validate it.
pub fn decode_query(
    service: &ServiceModel,
    op: &OperationModel,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let value = read_query(service, op, params)?;
    crate::validate::validate_input(service, op, &value)?;
    Ok(value)
}

/// The decoding half of [`decode_query`]: types are checked, constraints are not.
pub(crate) fn read_query(
    service: &ServiceModel,
    op: &OperationModel,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let root = Node::build(params);
    let decoder = Decoder {
        shapes: &op.shapes,
        code: service.validation_error_code(),
    };
    Ok(match op.input_id() {
        Some(id) => decoder
            .shape(id, &root, "", 0)?
            .unwrap_or_else(|| Value::Object(Map::new())),
        None => Value::Object(Map::new()),
    })
}

struct Decoder<'m> {
    shapes: &'m ShapeTable,
    code: &'static str,
}

impl Decoder<'_> {
    /// A value that is not of the member's type. AWS answers these with its validation code;
    /// the wording after the path is ours (no real example of it was found).
    fn bad_value(&self, shape: &Shape, raw: &str, path: &str, expected: &str) -> AwsError {
        let value = if shape.holds_sensitive {
            String::new()
        } else {
            format!(" '{}'", quote_prefix(raw))
        };
        let path = quote_prefix(path);
        AwsError::new(
            self.code,
            400,
            format!(
                "1 validation error detected: Value{value} at '{path}' failed to satisfy constraint: \
                 Member must be {expected}"
            ),
        )
    }

    fn shape(
        &self,
        id: ShapeId,
        node: &Node<'_>,
        path: &str,
        depth: usize,
    ) -> Result<Option<Value>, AwsError> {
        if depth > MAX_DEPTH {
            return Err(AwsError::new(
                self.code,
                400,
                "Request parameters are nested too deeply",
            ));
        }
        let Some(shape) = self.shapes.get(id) else {
            return Ok(None);
        };
        match &shape.kind {
            ShapeKind::Structure { members, .. } => {
                let mut object = Map::new();
                for member in members {
                    let Some(child) = node.children.get(member.wire_name()) else {
                        continue;
                    };
                    let child_path = join(path, &lower_first(&member.name));
                    if let Some(v) = self.shape(member.shape, child, &child_path, depth + 1)? {
                        object.insert(member.name.clone(), v);
                    }
                }
                Ok(Some(Value::Object(object)))
            }
            ShapeKind::List { member } => {
                if node.children.is_empty() {
                    // `Name=` is how Query says "an empty list".
                    return Ok(node.value.map(|_| Value::Array(Vec::new())));
                }
                let items = if shape.flattened || member.flattened {
                    Some(node)
                } else {
                    node.children.get(member.wire_name())
                };
                let mut list = Vec::new();
                for (i, item) in items
                    .map(Node::numbered)
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let item_path = format!("{}.{}.member", path, i + 1);
                    if let Some(v) = self.shape(member.shape, item, &item_path, depth + 1)? {
                        list.push(v);
                    }
                }
                Ok(Some(Value::Array(list)))
            }
            ShapeKind::Map { key, value } => {
                if node.children.is_empty() {
                    return Ok(node.value.map(|_| Value::Object(Map::new())));
                }
                let entries = if shape.flattened {
                    Some(node)
                } else {
                    node.children.get("entry")
                };
                let mut map = Map::new();
                for entry in entries.map(Node::numbered).unwrap_or_default() {
                    let Some(k) = entry.children.get(key.wire_name()).and_then(|n| n.value) else {
                        continue;
                    };
                    let Some(v_node) = entry.children.get(value.wire_name()) else {
                        continue;
                    };
                    if let Some(v) = self.shape(value.shape, v_node, &join(path, k), depth + 1)? {
                        map.insert(k.to_owned(), v);
                    }
                }
                Ok(Some(Value::Object(map)))
            }
            _ => match node.value {
                Some(raw) => self.scalar(shape, raw, path).map(Some),
                None => Ok(None),
            },
        }
    }

    fn scalar(&self, shape: &Shape, raw: &str, path: &str) -> Result<Value, AwsError> {
        match &shape.kind {
            ShapeKind::String | ShapeKind::Document => Ok(Value::String(raw.to_owned())),
            ShapeKind::Integer => raw
                .trim()
                .parse::<i32>()
                .map(Value::from)
                .map_err(|_| self.bad_value(shape, raw, path, "an integer")),
            ShapeKind::Long => raw
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| self.bad_value(shape, raw, path, "a long")),
            ShapeKind::Float | ShapeKind::Double => raw
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| self.bad_value(shape, raw, path, "a number")),
            ShapeKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(self.bad_value(shape, raw, path, "a boolean")),
            },
            ShapeKind::Timestamp => timestamp::parse_text(raw)
                .map(Value::String)
                .ok_or_else(|| self.bad_value(shape, raw, path, "a timestamp")),
            ShapeKind::Blob => match data_encoding::BASE64.decode(raw.as_bytes()) {
                Ok(_) => Ok(Value::String(raw.to_owned())),
                Err(_) => Err(self.bad_value(shape, raw, path, "base64-encoded")),
            },
            ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => {
                Ok(Value::Object(Map::new()))
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn iam_decode(op: &str, pairs: &[(&str, &str)]) -> Result<Value, AwsError> {
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        decode_query(iam, iam.operation(op).unwrap(), &params(pairs))
    }

    #[test]
    fn members_lists_of_structures_and_unknowns() {
        let v = iam_decode(
            "CreateUser",
            &[
                ("UserName", "bob"),
                ("Path", "/eng/"),
                ("Tags.member.2.Key", "team"),
                ("Tags.member.2.Value", "infra"),
                ("Tags.member.1.Key", "env"),
                ("Tags.member.1.Value", "prod"),
                ("Bogus", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"UserName": "bob", "Path": "/eng/", "Tags": [
                {"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "infra"}]})
        );
    }

    #[test]
    fn numbers_booleans_and_empty_lists() {
        let v = iam_decode("ListUsers", &[("MaxItems", "10"), ("Marker", "m")]).unwrap();
        assert_eq!(v, json!({"MaxItems": 10, "Marker": "m"}));
        let err = iam_decode("ListUsers", &[("MaxItems", "ten")]).unwrap_err();
        assert_eq!((err.code.as_ref(), err.status), ("ValidationError", 400));
        assert!(
            err.message.contains("'ten' at 'maxItems'"),
            "{}",
            err.message
        );
        let v = iam_decode(
            "UpdateAccountPasswordPolicy",
            &[("RequireSymbols", "true"), ("MinimumPasswordLength", "12")],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"RequireSymbols": true, "MinimumPasswordLength": 12})
        );
        assert!(iam_decode("UpdateAccountPasswordPolicy", &[("RequireSymbols", "yes")]).is_err());
        let v = iam_decode(
            "CreateOpenIDConnectProvider",
            &[("Url", "https://x.example"), ("ClientIDList", "")],
        )
        .unwrap();
        assert_eq!(v["ClientIDList"], json!([]));
    }

    #[test]
    fn flattened_lists_and_maps_follow_the_model() {
        let model = r#"{"metadata":{"protocol":"query","apiVersion":"2020-01-01","endpointPrefix":"t"},
          "operations":{"Op":{"name":"Op","input":{"shape":"In"}}},
          "shapes":{
            "In":{"type":"structure","members":{
              "Flat":{"shape":"FlatList"},
              "Attrs":{"shape":"Attrs","locationName":"Attribute"},
              "When":{"shape":"Ts"}, "Data":{"shape":"Bin"}}},
            "FlatList":{"type":"list","member":{"shape":"S"},"flattened":true},
            "Attrs":{"type":"map","key":{"shape":"S","locationName":"Name"},"value":{"shape":"S","locationName":"Value"}},
            "S":{"type":"string"}, "Ts":{"type":"timestamp"}, "Bin":{"type":"blob"}}}"#;
        let svc = ServiceModel::from_json(model).unwrap();
        let op = svc.operation("Op").unwrap();
        let v = decode_query(
            &svc,
            op,
            &params(&[
                ("Flat.1", "a"),
                ("Flat.2", "b"),
                ("Attribute.entry.1.Name", "k"),
                ("Attribute.entry.1.Value", "v"),
                ("When", "2026-11-24T15:23:48.000Z"),
                ("Data", "aGVsbG8="),
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"Flat": ["a", "b"], "Attrs": {"k": "v"}, "When": "2026-11-24T15:23:48Z", "Data": "aGVsbG8="})
        );
        let err = decode_query(&svc, op, &params(&[("Data", "not base64!")])).unwrap_err();
        assert_eq!(err.status, 400);
    }

    #[test]
    fn absurd_keys_do_not_hurt() {
        let deep = "Tags.member.1.".repeat(10_000) + "Key";
        assert!(iam_decode("ListUsers", &[(deep.as_str(), "x")]).is_ok());
        let deep = "a.".repeat(100_000);
        assert!(iam_decode("ListUsers", &[(deep.as_str(), "x")]).is_ok());
    }
}
