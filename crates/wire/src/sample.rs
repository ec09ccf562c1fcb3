//! Sample inputs: a value for every member an operation takes, for tests that exercise what
//! a handler or an authorization lookup reads from a complete request.

use serde_json::{Map, Value};

use crate::OperationModel;
use crate::shape::{Member, Shape, ShapeId, ShapeKind, ShapeTable};

/// How deep a sample goes; models are recursive (WAFv2 statements nest).
const SAMPLE_DEPTH: usize = 6;

/// An input for `operation` with every member set: structures with all their members, lists of
/// one element, maps of one entry. `choose` gives the value of a member by name (say, the
/// name of an entity a test made); a member it leaves out gets a placeholder of its shape:
/// its enum's first value, a string of its minimum length, its minimum number, `true`, a fixed
/// time, a short blob. The sample follows the model's shapes, not its patterns: it exercises
/// readers of a request, not its validation.
pub fn sample_input(operation: &OperationModel, choose: &dyn Fn(&str) -> Option<Value>) -> Value {
    let table = &operation.shapes;
    match operation.input_id() {
        Some(id) => sample(table, id, choose, 0),
        None => Value::Object(Map::new()),
    }
}

fn sample(
    table: &ShapeTable,
    id: ShapeId,
    choose: &dyn Fn(&str) -> Option<Value>,
    depth: usize,
) -> Value {
    let Some(shape) = table.get(id) else {
        return Value::Null;
    };
    match &shape.kind {
        ShapeKind::Structure { members, .. } => {
            let mut object = Map::new();
            if depth < SAMPLE_DEPTH {
                for member in members {
                    let value = member_value(table, member, choose, depth);
                    if !value.is_null() {
                        object.insert(member.name.clone(), value);
                    }
                }
            }
            Value::Object(object)
        }
        ShapeKind::List { member } if depth < SAMPLE_DEPTH => {
            Value::Array(vec![member_value(table, member, choose, depth)])
        }
        ShapeKind::Map { key, value } if depth < SAMPLE_DEPTH => {
            let key = match member_value(table, key, choose, depth) {
                Value::String(key) => key,
                _ => "key".to_owned(),
            };
            let mut object = Map::new();
            object.insert(key, member_value(table, value, choose, depth));
            Value::Object(object)
        }
        ShapeKind::List { .. } => Value::Array(Vec::new()),
        ShapeKind::Map { .. } => Value::Object(Map::new()),
        _ => scalar(shape),
    }
}

fn member_value(
    table: &ShapeTable,
    member: &Member,
    choose: &dyn Fn(&str) -> Option<Value>,
    depth: usize,
) -> Value {
    choose(&member.name).unwrap_or_else(|| sample(table, member.shape, choose, depth + 1))
}

fn scalar(shape: &Shape) -> Value {
    let min = shape.min.unwrap_or(0.0);
    match shape.kind {
        ShapeKind::String => match shape.enum_values.first() {
            Some(first) => Value::String(first.clone()),
            None => {
                let len = (min.max(1.0) as usize).min(64);
                Value::String("s".repeat(len))
            }
        },
        ShapeKind::Integer | ShapeKind::Long => Value::from(min.max(1.0) as i64),
        ShapeKind::Float | ShapeKind::Double => Value::from(min.max(1.0)),
        ShapeKind::Boolean => Value::Bool(true),
        ShapeKind::Timestamp => Value::String("2026-11-24T12:00:00Z".to_owned()),
        ShapeKind::Blob => Value::String("c2FtcGxl".to_owned()),
        ShapeKind::Document => Value::Object(Map::new()),
        ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServiceModel;

    #[test]
    fn every_member_is_set_and_chosen_values_win() {
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let create = iam.operation("CreateUser").unwrap();
        let input = sample_input(create, &|name| {
            (name == "UserName").then(|| Value::String("alice".into()))
        });
        assert_eq!(input["UserName"], "alice");
        assert!(input["Path"].is_string());
        assert!(input["PermissionsBoundary"].is_string());
        let tag = &input["Tags"][0];
        assert!(tag["Key"].is_string() && tag["Value"].is_string());
        let kms = ServiceModel::by_endpoint_prefix("kms").unwrap();
        let encrypt = sample_input(kms.operation("Encrypt").unwrap(), &|_| None);
        // An enum takes its first value; a map has one entry.
        assert!(encrypt["EncryptionAlgorithm"].is_string());
        assert_eq!(encrypt["EncryptionContext"].as_object().unwrap().len(), 1);
    }
}
