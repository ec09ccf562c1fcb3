//! A read-only view of a model's shapes, for tests that hold Rust types against the model
//! (member names, what each member holds), without exposing the shape table itself.

use crate::model::OperationModel;
use crate::shape::{Member, ShapeId, ShapeKind, ShapeTable};

/// What a shape holds, as the model types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeType {
    /// Named members ([`ModelShape::members`]).
    Structure,
    /// Elements of one shape ([`ModelShape::element`]).
    List,
    /// Entries from a key shape to a value shape ([`ModelShape::key`], [`ModelShape::value`]).
    Map,
    /// Text, possibly limited to an enum ([`ModelShape::enum_values`]).
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// A 32-bit float.
    Float,
    /// A 64-bit float.
    Double,
    /// `true` or `false`.
    Boolean,
    /// A time (an RFC 3339 string between the wire and the handlers).
    Timestamp,
    /// Bytes (a base64 string between the wire and the handlers).
    Blob,
    /// A free-form JSON document.
    Document,
}

/// One shape of an operation's model, and the way to the shapes it refers to.
#[derive(Clone, Copy)]
pub struct ModelShape<'a> {
    table: &'a ShapeTable,
    id: ShapeId,
}

impl std::fmt::Debug for ModelShape<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelShape({})", self.name())
    }
}

impl<'a> ModelShape<'a> {
    fn at(table: &'a ShapeTable, id: ShapeId) -> Option<Self> {
        table.get(id).map(|_| Self { table, id })
    }

    fn kind(&self) -> Option<&'a ShapeKind> {
        self.table.get(self.id).map(|s| &s.kind)
    }

    /// The shape's name in the model, such as `CreateUserRequest`.
    pub fn name(&self) -> &'a str {
        self.table.get(self.id).map_or("", |s| s.name.as_str())
    }

    /// What the shape holds.
    pub fn shape_type(&self) -> ShapeType {
        match self.kind() {
            Some(ShapeKind::Structure { .. }) => ShapeType::Structure,
            Some(ShapeKind::List { .. }) => ShapeType::List,
            Some(ShapeKind::Map { .. }) => ShapeType::Map,
            Some(ShapeKind::String) => ShapeType::String,
            Some(ShapeKind::Integer) => ShapeType::Integer,
            Some(ShapeKind::Long) => ShapeType::Long,
            Some(ShapeKind::Float) => ShapeType::Float,
            Some(ShapeKind::Double) => ShapeType::Double,
            Some(ShapeKind::Boolean) => ShapeType::Boolean,
            Some(ShapeKind::Timestamp) => ShapeType::Timestamp,
            Some(ShapeKind::Blob) => ShapeType::Blob,
            Some(ShapeKind::Document) | None => ShapeType::Document,
        }
    }

    /// A structure's members in model order, by member name; none for other shapes.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, ModelShape<'a>)> + 'a {
        let members: &'a [Member] = match self.kind() {
            Some(ShapeKind::Structure { members, .. }) => members,
            _ => &[],
        };
        let table = self.table;
        members
            .iter()
            .filter_map(move |m| Self::at(table, m.shape).map(|s| (m.name.as_str(), s)))
    }

    /// The structure member called `name` (its member name, such as `UserName`).
    pub fn member(&self, name: &str) -> Option<ModelShape<'a>> {
        self.members().find(|(n, _)| *n == name).map(|(_, s)| s)
    }

    /// The names of a structure's required members; none for other shapes.
    pub fn required_members(&self) -> impl Iterator<Item = &'a str> + 'a {
        let required: &'a [String] = match self.kind() {
            Some(ShapeKind::Structure { required, .. }) => required,
            _ => &[],
        };
        required.iter().map(String::as_str)
    }

    /// A list's element shape.
    pub fn element(&self) -> Option<ModelShape<'a>> {
        match self.kind() {
            Some(ShapeKind::List { member }) => Self::at(self.table, member.shape),
            _ => None,
        }
    }

    /// A map's key shape.
    pub fn key(&self) -> Option<ModelShape<'a>> {
        match self.kind() {
            Some(ShapeKind::Map { key, .. }) => Self::at(self.table, key.shape),
            _ => None,
        }
    }

    /// A map's value shape.
    pub fn value(&self) -> Option<ModelShape<'a>> {
        match self.kind() {
            Some(ShapeKind::Map { value, .. }) => Self::at(self.table, value.shape),
            _ => None,
        }
    }

    /// A string shape's enum values; empty when any string is allowed.
    pub fn enum_values(&self) -> &'a [String] {
        self.table
            .get(self.id)
            .map_or(&[], |s| s.enum_values.as_slice())
    }
}

impl OperationModel {
    /// The input structure, if the operation takes input.
    pub fn input(&self) -> Option<ModelShape<'_>> {
        self.input_id()
            .and_then(|id| ModelShape::at(&self.shapes, id))
    }

    /// The output structure, if the operation returns output.
    pub fn output(&self) -> Option<ModelShape<'_>> {
        self.output_id()
            .and_then(|id| ModelShape::at(&self.shapes, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServiceModel;

    #[test]
    fn walks_members_lists_and_maps() {
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let input = iam.operation("CreateUser").unwrap().input().unwrap();
        assert_eq!(input.name(), "CreateUserRequest");
        assert_eq!(input.shape_type(), ShapeType::Structure);
        let names: Vec<&str> = input.members().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["Path", "UserName", "PermissionsBoundary", "Tags"],
            "model order"
        );
        let tags = input.member("Tags").unwrap();
        assert_eq!(tags.shape_type(), ShapeType::List);
        let tag = tags.element().unwrap();
        assert_eq!(tag.member("Key").unwrap().shape_type(), ShapeType::String);
        assert!(input.member("Username").is_none(), "names are exact");
        assert_eq!(input.required_members().collect::<Vec<_>>(), ["UserName"]);
        assert!(tags.member("Key").is_none() && tag.element().is_none());
        let output = iam.operation("CreateUser").unwrap().output().unwrap();
        let user = output.member("User").unwrap();
        assert_eq!(
            user.member("CreateDate").unwrap().shape_type(),
            ShapeType::Timestamp
        );
        assert!(iam.operation("DeleteUser").unwrap().output().is_none());

        let kms = ServiceModel::by_endpoint_prefix("kms").unwrap();
        let encrypt = kms.operation("Encrypt").unwrap().input().unwrap();
        let context = encrypt.member("EncryptionContext").unwrap();
        assert_eq!(context.shape_type(), ShapeType::Map);
        assert_eq!(context.key().unwrap().shape_type(), ShapeType::String);
        assert_eq!(context.value().unwrap().shape_type(), ShapeType::String);
        assert_eq!(
            encrypt.member("Plaintext").unwrap().shape_type(),
            ShapeType::Blob
        );
        let algorithm = encrypt.member("EncryptionAlgorithm").unwrap();
        assert!(
            algorithm
                .enum_values()
                .iter()
                .any(|v| v == "SYMMETRIC_DEFAULT")
        );
        assert!(context.enum_values().is_empty());
    }
}
