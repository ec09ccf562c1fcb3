//! The shapes of a model, resolved to indices once so that walking them never looks a name up.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::error::ModelError;
use crate::raw::Raw;

/// Index of a shape in its [`ShapeTable`].
// INVARIANT: every ShapeId stored in a table is a valid index into that table's `shapes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ShapeId(pub(crate) usize);

/// How a timestamp is written on the wire when a shape or member overrides the protocol default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampFormat {
    Iso8601,
    UnixTimestamp,
    Rfc822,
}

impl TimestampFormat {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "iso8601" => Some(Self::Iso8601),
            "unixTimestamp" => Some(Self::UnixTimestamp),
            "rfc822" => Some(Self::Rfc822),
            _ => None,
        }
    }
}

/// A reference from a structure, list or map to a shape, with its serialization hints.
#[derive(Debug)]
pub(crate) struct Member {
    /// The member name (PascalCase; the key in the canonical `Value`).
    pub(crate) name: String,
    pub(crate) shape: ShapeId,
    /// `locationName`: the name on the wire when it differs from `name`.
    pub(crate) location_name: Option<String>,
    pub(crate) flattened: bool,
    pub(crate) timestamp_format: Option<TimestampFormat>,
}

impl Member {
    /// The element or key name on the wire.
    pub(crate) fn wire_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }
}

/// The type of a shape with what its type needs.
#[derive(Debug)]
pub(crate) enum ShapeKind {
    Structure {
        members: Vec<Member>,
        required: Vec<String>,
    },
    List {
        member: Member,
    },
    Map {
        key: Member,
        value: Member,
    },
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
    /// A free-form JSON document (`document: true`), passed through as is.
    Document,
}

/// Where a modeled error goes on the wire.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub(crate) code: String,
    pub(crate) status: u16,
    pub(crate) sender_fault: bool,
}

/// One shape of a model.
#[derive(Debug)]
pub(crate) struct Shape {
    pub(crate) name: String,
    pub(crate) kind: ShapeKind,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    pub(crate) pattern: Option<String>,
    /// Compiled lazily: most shapes are never validated in a process's life.
    pub(crate) regex: OnceLock<Option<Regex>>,
    pub(crate) enum_values: Vec<String>,
    pub(crate) sensitive: bool,
    /// The shape or anything reachable from it is `sensitive`.
    pub(crate) holds_sensitive: bool,
    pub(crate) flattened: bool,
    pub(crate) timestamp_format: Option<TimestampFormat>,
    pub(crate) error: Option<ErrorInfo>,
    pub(crate) exception: bool,
}

impl Shape {
    /// The compiled `pattern`, if it has one the `regex` crate can express.
    pub(crate) fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| self.pattern.as_deref().and_then(crate::pattern::compile))
            .as_ref()
    }
}

/// All the shapes of one model.
#[derive(Debug)]
pub(crate) struct ShapeTable {
    shapes: Vec<Shape>,
    by_name: HashMap<String, ShapeId>,
}

impl ShapeTable {
    pub(crate) fn get(&self, id: ShapeId) -> Option<&Shape> {
        self.shapes.get(id.0)
    }

    pub(crate) fn id(&self, name: &str) -> Option<ShapeId> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.iter()
    }

    /// Build from the model's `shapes` object.
    pub(crate) fn build(shapes: &[(String, Raw)]) -> Result<Self, ModelError> {
        let by_name: HashMap<String, ShapeId> = shapes
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), ShapeId(i)))
            .collect();
        let mut built = Vec::with_capacity(shapes.len());
        for (name, raw) in shapes {
            built.push(build_shape(name, raw, &by_name)?);
        }
        let mut table = Self {
            shapes: built,
            by_name,
        };
        table.mark_sensitive_holders();
        Ok(table)
    }

    /// Propagate `sensitive` to every shape that can contain a sensitive one (a fixpoint,
    /// since shapes may be recursive), so redaction and error messages can tell cheaply.
    fn mark_sensitive_holders(&mut self) {
        for shape in &mut self.shapes {
            shape.holds_sensitive = shape.sensitive;
        }
        loop {
            let mut changed = false;
            for i in 0..self.shapes.len() {
                let Some(shape) = self.shapes.get(i) else {
                    continue;
                };
                if shape.holds_sensitive {
                    continue;
                }
                let holds = children(&shape.kind)
                    .any(|c| self.shapes.get(c.0).is_some_and(|s| s.holds_sensitive));
                if holds && let Some(shape) = self.shapes.get_mut(i) {
                    shape.holds_sensitive = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

fn children(kind: &ShapeKind) -> Box<dyn Iterator<Item = ShapeId> + '_> {
    match kind {
        ShapeKind::Structure { members, .. } => Box::new(members.iter().map(|m| m.shape)),
        ShapeKind::List { member } => Box::new(std::iter::once(member.shape)),
        ShapeKind::Map { key, value } => Box::new([key.shape, value.shape].into_iter()),
        _ => Box::new(std::iter::empty()),
    }
}

fn str_field<'a>(raw: &'a Raw, key: &str) -> Option<&'a str> {
    raw.get(key).and_then(Raw::as_str)
}

fn bool_field(raw: &Raw, key: &str) -> bool {
    raw.get(key).and_then(Raw::as_bool).unwrap_or(false)
}

fn member(
    owner: &str,
    name: &str,
    raw: &Raw,
    by_name: &HashMap<String, ShapeId>,
) -> Result<Member, ModelError> {
    let target = str_field(raw, "shape")
        .ok_or_else(|| ModelError::Missing(format!("{owner}.{name}.shape")))?;
    let shape = *by_name
        .get(target)
        .ok_or_else(|| ModelError::UndefinedShape {
            from: owner.to_owned(),
            to: target.to_owned(),
        })?;
    Ok(Member {
        name: name.to_owned(),
        shape,
        location_name: str_field(raw, "locationName").map(str::to_owned),
        flattened: bool_field(raw, "flattened"),
        timestamp_format: str_field(raw, "timestampFormat").and_then(TimestampFormat::parse),
    })
}

fn build_shape(
    name: &str,
    raw: &Raw,
    by_name: &HashMap<String, ShapeId>,
) -> Result<Shape, ModelError> {
    let kind_name =
        str_field(raw, "type").ok_or_else(|| ModelError::Missing(format!("{name}.type")))?;
    let kind = match kind_name {
        "structure" if bool_field(raw, "document") => ShapeKind::Document,
        "structure" => {
            let mut members = Vec::new();
            if let Some(raw_members) = raw.get("members").and_then(Raw::as_object) {
                for (member_name, raw_member) in raw_members {
                    members.push(member(name, member_name, raw_member, by_name)?);
                }
            }
            let required = raw
                .get("required")
                .and_then(Raw::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Raw::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            ShapeKind::Structure { members, required }
        }
        "list" => {
            let raw_member = raw
                .get("member")
                .ok_or_else(|| ModelError::Missing(format!("{name}.member")))?;
            ShapeKind::List {
                member: member(name, "member", raw_member, by_name)?,
            }
        }
        "map" => {
            let raw_key = raw
                .get("key")
                .ok_or_else(|| ModelError::Missing(format!("{name}.key")))?;
            let raw_value = raw
                .get("value")
                .ok_or_else(|| ModelError::Missing(format!("{name}.value")))?;
            ShapeKind::Map {
                key: member(name, "key", raw_key, by_name)?,
                value: member(name, "value", raw_value, by_name)?,
            }
        }
        "string" => ShapeKind::String,
        "integer" => ShapeKind::Integer,
        "long" => ShapeKind::Long,
        "float" => ShapeKind::Float,
        "double" => ShapeKind::Double,
        "boolean" => ShapeKind::Boolean,
        "timestamp" => ShapeKind::Timestamp,
        "blob" => ShapeKind::Blob,
        other => {
            return Err(ModelError::Missing(format!(
                "{name}.type (unknown `{other}`)"
            )));
        }
    };
    let error = raw.get("error").map(|e| {
        let status = e
            .get("httpStatusCode")
            .and_then(Raw::as_f64)
            .filter(|s| (100.0..=599.0).contains(s))
            .map(|s| s as u16)
            .unwrap_or(400);
        ErrorInfo {
            code: str_field(e, "code").unwrap_or(name).to_owned(),
            status,
            sender_fault: e
                .get("senderFault")
                .and_then(Raw::as_bool)
                .unwrap_or(status < 500),
        }
    });
    Ok(Shape {
        name: name.to_owned(),
        kind,
        min: raw.get("min").and_then(Raw::as_f64),
        max: raw.get("max").and_then(Raw::as_f64),
        pattern: str_field(raw, "pattern").map(str::to_owned),
        regex: OnceLock::new(),
        enum_values: raw
            .get("enum")
            .and_then(Raw::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(Raw::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        sensitive: bool_field(raw, "sensitive"),
        holds_sensitive: false,
        flattened: bool_field(raw, "flattened"),
        timestamp_format: str_field(raw, "timestampFormat").and_then(TimestampFormat::parse),
        error,
        exception: bool_field(raw, "exception"),
    })
}
