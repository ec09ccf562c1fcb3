//! A typed input's serde format, as serde-reflection traced it, held against a model shape.

use std::collections::BTreeSet;

use rampart_service::serde_reflection::{
    ContainerFormat, Format, Named, Registry as Formats, VariantFormat,
};
use rampart_wire::{ModelShape, OperationModel, ShapeType};

/// Where a traced input (`format`, with the formats of the types in it) reads what `op`'s
/// model does not have; `shared` lists top-level members it may read for another operation.
pub fn input_problems(
    format: &Format,
    formats: &Formats,
    op: &OperationModel,
    shared: &[&'static str],
) -> Vec<String> {
    let mut comparison = Comparison {
        formats,
        problems: Vec::new(),
        shared: shared.to_vec(),
        shared_used: BTreeSet::new(),
    };
    match op.input() {
        Some(shape) => comparison.compare(format, shape, "", 0),
        None => comparison.no_members(format),
    }
    for member in shared {
        if !comparison.shared_used.contains(member) {
            comparison.problems.push(format!(
                "`{member}` is no longer read: drop it from SHARED_INPUTS"
            ));
        }
    }
    comparison.problems
}

/// The top-level members of `op`'s input that the traced input does not read.
pub fn unread_members<'m>(
    format: &Format,
    formats: &Formats,
    op: &'m OperationModel,
) -> Vec<&'m str> {
    let read: BTreeSet<&str> = match format {
        Format::TypeName(name) => match formats.get(name) {
            Some(ContainerFormat::Struct(fields)) => {
                fields.iter().map(|f| f.name.as_str()).collect()
            }
            _ => BTreeSet::new(),
        },
        _ => BTreeSet::new(),
    };
    op.input()
        .map(|shape| {
            shape
                .members()
                .map(|(name, _)| name)
                .filter(|name| !read.contains(name))
                .collect()
        })
        .unwrap_or_default()
}

/// A traced input held against a model shape, collecting every mismatch.
struct Comparison<'a> {
    formats: &'a Formats,
    problems: Vec<String>,
    /// Top-level members the input reads for another operation (SHARED_INPUTS).
    shared: Vec<&'static str>,
    shared_used: BTreeSet<&'static str>,
}

/// Deeper than any model nests what Rampart reads; bounds recursive types.
const MAX_DEPTH: usize = 16;

impl Comparison<'_> {
    fn problem(&mut self, path: &str, text: String) {
        let at = if path.is_empty() { "input" } else { path };
        self.problems.push(format!("`{at}`: {text}"));
    }

    /// An operation whose model takes no input: its typed input must read no member.
    fn no_members(&mut self, format: &Format) {
        if let Format::TypeName(name) = format
            && let Some(ContainerFormat::Struct(fields)) = self.formats.get(name)
            && !fields.is_empty()
        {
            let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
            self.problem("", format!("reads {names:?}; the model takes no input"));
        }
    }

    fn compare(&mut self, format: &Format, shape: ModelShape<'_>, path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let shape_type = shape.shape_type();
        match format {
            Format::Option(inner) => self.compare(inner, shape, path, depth),
            Format::TypeName(name) => match self.formats.get(name) {
                Some(container) => self.container(name, container, shape, path, depth),
                None => self.problem(path, format!("`{name}` was not traced")),
            },
            Format::Seq(element) => match shape.element() {
                Some(element_shape) => {
                    self.compare(element, element_shape, &format!("{path}[]"), depth + 1);
                }
                None => self.mismatch(path, "a list", shape),
            },
            Format::Map { key, value } => match (shape.key(), shape.value()) {
                (Some(key_shape), Some(value_shape)) => {
                    self.compare(key, key_shape, &format!("{path}{{key}}"), depth + 1);
                    self.compare(value, value_shape, &format!("{path}{{}}"), depth + 1);
                }
                // A structure read as a map of its members would take any name: only a
                // document may be read so.
                _ if shape_type == ShapeType::Document => {}
                _ => self.mismatch(path, "a map", shape),
            },
            // Times and blobs are strings between the wire and the handlers.
            Format::Str | Format::Char => {
                if !matches!(
                    shape_type,
                    ShapeType::String | ShapeType::Timestamp | ShapeType::Blob
                ) {
                    self.mismatch(path, "a string", shape);
                }
            }
            Format::Bool => {
                if shape_type != ShapeType::Boolean {
                    self.mismatch(path, "a boolean", shape);
                }
            }
            Format::I8
            | Format::I16
            | Format::I32
            | Format::I64
            | Format::I128
            | Format::U8
            | Format::U16
            | Format::U32
            | Format::U64
            | Format::U128 => {
                if !matches!(shape_type, ShapeType::Integer | ShapeType::Long) {
                    self.mismatch(path, "an integer", shape);
                }
            }
            Format::F32 | Format::F64 => {
                if !matches!(shape_type, ShapeType::Float | ShapeType::Double) {
                    self.mismatch(path, "a float", shape);
                }
            }
            Format::Unit => {}
            other => self.problem(path, format!("read as {other:?}, not a model type")),
        }
    }

    fn container(
        &mut self,
        name: &str,
        container: &ContainerFormat,
        shape: ModelShape<'_>,
        path: &str,
        depth: usize,
    ) {
        match container {
            ContainerFormat::Struct(fields) => {
                if shape.shape_type() != ShapeType::Structure {
                    self.mismatch(path, &format!("a structure (`{name}`)"), shape);
                    return;
                }
                self.fields(name, fields, shape, path, depth);
            }
            ContainerFormat::NewTypeStruct(inner) => self.compare(inner, shape, path, depth),
            ContainerFormat::Enum(variants) => {
                let unit = variants
                    .values()
                    .all(|v| matches!(v.value, VariantFormat::Unit));
                if unit {
                    self.unit_enum(name, variants.values(), shape, path);
                } else if shape.shape_type() == ShapeType::Structure {
                    // An externally tagged enum: one member set, as a union reads.
                    for variant in variants.values() {
                        let here = join(path, &variant.name);
                        match (&variant.value, shape.member(&variant.name)) {
                            (_, None) => self.problem(
                                &here,
                                format!("`{name}` variant is not a member of `{}`", shape.name()),
                            ),
                            (VariantFormat::NewType(inner), Some(member)) => {
                                self.compare(inner, member, &here, depth + 1);
                            }
                            (VariantFormat::Struct(fields), Some(member)) => {
                                self.fields(name, fields, member, &here, depth + 1);
                            }
                            (VariantFormat::Unit, Some(_)) => {}
                            (other, Some(_)) => {
                                self.problem(&here, format!("variant read as {other:?}"));
                            }
                        }
                    }
                } else {
                    self.mismatch(path, &format!("an enum with data (`{name}`)"), shape);
                }
            }
            ContainerFormat::UnitStruct | ContainerFormat::TupleStruct(_) => {
                self.problem(path, format!("`{name}` is read as {container:?}"));
            }
        }
    }

    fn fields(
        &mut self,
        name: &str,
        fields: &[Named<Format>],
        shape: ModelShape<'_>,
        path: &str,
        depth: usize,
    ) {
        for field in fields {
            let here = join(path, &field.name);
            match shape.member(&field.name) {
                Some(member) => self.compare(&field.value, member, &here, depth + 1),
                None if path.is_empty()
                    && let Some(shared) = self.shared.iter().find(|m| **m == field.name) =>
                {
                    self.shared_used.insert(shared);
                }
                None => self.problem(
                    &here,
                    format!("`{name}` reads a member `{}` does not have", shape.name()),
                ),
            }
        }
    }

    /// An enum of names: the model's string shape, each variant one of its enum values.
    fn unit_enum<'v>(
        &mut self,
        name: &str,
        variants: impl Iterator<Item = &'v Named<VariantFormat>>,
        shape: ModelShape<'_>,
        path: &str,
    ) {
        if shape.shape_type() != ShapeType::String {
            self.mismatch(path, &format!("an enum (`{name}`)"), shape);
            return;
        }
        let allowed = shape.enum_values();
        if allowed.is_empty() {
            return;
        }
        for variant in variants {
            if !allowed.contains(&variant.name) {
                self.problem(
                    path,
                    format!(
                        "`{name}::{}` is not a value of `{}` {allowed:?}",
                        variant.name,
                        shape.name()
                    ),
                );
            }
        }
    }

    fn mismatch(&mut self, path: &str, read_as: &str, shape: ModelShape<'_>) {
        self.problem(
            path,
            format!(
                "read as {read_as}; the model's `{}` is {:?}",
                shape.name(),
                shape.shape_type()
            ),
        );
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}
