//! Every registered operation against its vendored API model (issue 17):
//! - the operation is in its service's model;
//! - its action is `<signing name>:<Operation>`, unless it is one of the exceptions below;
//! - its typed input, traced from its `Deserialize` implementation with serde-reflection,
//!   reads only members the model's input shape has, under the model's names, each holding
//!   what the model says (string, number, boolean, list, map, structure, timestamp, blob),
//!   all the way down; an input serde-reflection cannot trace is listed below with its reason;
//! - its output, as its handler answers a request that sets every input member, has only
//!   members the model's output shape has, each of its type (`rampart_wire::check_output`).
//!   Outputs are checked on values because a `Serialize`-only type cannot be traced without
//!   one; debug builds check every output the same way, so every test that calls an operation
//!   checks what it answers too.
//!
//! Members the model has and a struct lacks are fine: not every member is implemented.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "model_conformance/fixture.rs"]
mod fixture;

use std::collections::BTreeSet;

use fixture::{Called, Fixture, generic};
use rampart_server::Registry;
use rampart_service::serde_reflection::{
    ContainerFormat, Format, Named, Registry as Formats, VariantFormat,
};
use rampart_wire::{ModelShape, OperationModel, ServiceModel, ShapeType, Value, check_output};

/// Operations authorized for another action than `<prefix>:<Operation>`, and why.
const OTHER_ACTIONS: &[(&str, &str, &str)] = &[(
    "ReEncrypt",
    "kms:ReEncryptFrom",
    "AWS has no kms:ReEncrypt action: ReEncrypt needs kms:ReEncryptFrom on the source key and \
     kms:ReEncryptTo on the destination key (its authorization targets)",
)];

/// Inputs serde-reflection cannot trace, and why each is still read under the model's names.
const UNTRACED_INPUTS: &[(&str, &str, &str)] = &[
    (
        "cloudtrail",
        "PutEventSelectors",
        "EventSelectors and AdvancedEventSelectors are kept as JSON (serde_json::Value, read \
         with deserialize_any) and matched by TrailRecord::selects; the decoder passes only the \
         model's members, so the JSON holds nothing else",
    ),
    ("iam", "ListAttachedGroupPolicies", FLATTENED_PAGE),
    ("iam", "ListAttachedRolePolicies", FLATTENED_PAGE),
    ("iam", "ListAttachedUserPolicies", FLATTENED_PAGE),
    ("iam", "ListEntitiesForPolicy", FLATTENED_PAGE),
    ("iam", "SimulateCustomPolicy", FLATTENED_SIMULATION),
    ("iam", "SimulatePrincipalPolicy", FLATTENED_SIMULATION),
];

const FLATTENED_PAGE: &str = "`#[serde(flatten)] page: ListPage` makes serde read the input as \
    a map, which serde-reflection cannot trace; ListPage reads PathPrefix, Marker and MaxItems, \
    members of the four operations' inputs";

const FLATTENED_SIMULATION: &str = "`#[serde(flatten)] request: SimulationRequest` (shared by \
    both simulations) makes serde read the input as a map, which serde-reflection cannot trace";

/// Members an input struct shared by two operations reads for one of them only: the decoder
/// passes the other none (it passes only the model's members), so the handler never sees
/// one there. (service, operation, member, the operation that has it).
const SHARED_INPUTS: &[(&str, &str, &str, &str)] = &[
    (
        "cloudtrail",
        "GetInsightSelectors",
        "InsightSelectors",
        "PutInsightSelectors (InsightSelectorsInput)",
    ),
    (
        "cloudtrail",
        "GetInsightSelectors",
        "InsightsDestination",
        "PutInsightSelectors (InsightSelectorsInput)",
    ),
    (
        "cloudtrail",
        "UpdateTrail",
        "TagsList",
        "CreateTrail (TrailInput)",
    ),
    (
        "kms",
        "GenerateDataKeyPairWithoutPlaintext",
        "Recipient",
        "GenerateDataKeyPair (GenerateDataKeyPairInput)",
    ),
    (
        "kms",
        "GenerateDataKeyWithoutPlaintext",
        "Recipient",
        "GenerateDataKey (GenerateDataKeyInput)",
    ),
    ("kms", "GenerateMac", "Mac", "VerifyMac (MacInput)"),
    ("kms", "Sign", "Signature", "Verify (SignInput)"),
];

fn registry() -> Registry {
    Registry::with_all_services()
}

/// Every registered (service prefix, operation name), sorted.
fn operations(registry: &Registry) -> Vec<(&'static str, &'static str)> {
    let mut all = Vec::new();
    for service in registry.names() {
        for name in registry.get(service).unwrap().operation_names() {
            all.push((service, name));
        }
    }
    all.sort_unstable();
    all
}

#[test]
fn every_operation_is_in_its_model() {
    let registry = registry();
    let mut missing = Vec::new();
    let all = operations(&registry);
    assert!(all.len() > 250, "{} operations", all.len());
    for (service, name) in all {
        let model = ServiceModel::by_endpoint_prefix(service)
            .unwrap_or_else(|| panic!("no vendored model for `{service}`"));
        if model.operation(name).is_none() {
            missing.push(format!("{service}:{name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "not in the vendored models: {missing:?}"
    );
}

#[test]
fn every_action_is_the_operation_unless_declared_otherwise() {
    let registry = registry();
    let mut problems = Vec::new();
    let mut exceptions_used = BTreeSet::new();
    for (service, name) in operations(&registry) {
        let operation = registry.get(service).unwrap().operation(name).unwrap();
        let signing = ServiceModel::by_endpoint_prefix(service)
            .unwrap()
            .signing_name();
        let expected = format!("{signing}:{name}");
        if operation.action == expected {
            continue;
        }
        match OTHER_ACTIONS.iter().find(|(op, _, _)| *op == name) {
            Some((_, action, _)) if *action == operation.action => {
                exceptions_used.insert(name);
            }
            _ => problems.push(format!(
                "{service} {name}: action `{}`, expected `{expected}`",
                operation.action
            )),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let stale: Vec<_> = OTHER_ACTIONS
        .iter()
        .filter(|(op, _, _)| !exceptions_used.contains(op))
        .collect();
    assert!(stale.is_empty(), "exceptions no longer needed: {stale:?}");
}

#[test]
fn every_typed_input_reads_only_what_the_model_has() {
    let registry = registry();
    let mut problems = Vec::new();
    let mut untraced_used = BTreeSet::new();
    let mut unread_by_operation = Vec::new();
    let mut traced = 0;
    for (service, name) in operations(&registry) {
        let operation = registry.get(service).unwrap().operation(name).unwrap();
        let model = ServiceModel::by_endpoint_prefix(service).unwrap();
        let Some(op_model) = model.operation(name) else {
            continue; // every_operation_is_in_its_model
        };
        let (format, formats) = match operation.input_format() {
            Ok(traced) => traced,
            Err(e) => {
                if UNTRACED_INPUTS
                    .iter()
                    .any(|(s, op, _)| *s == service && *op == name)
                {
                    untraced_used.insert((service, name));
                } else {
                    problems.push(format!("{service} {name}: input not traced: {e}"));
                }
                continue;
            }
        };
        traced += 1;
        let shared: Vec<&'static str> = SHARED_INPUTS
            .iter()
            .filter(|(s, op, _, _)| *s == service && *op == name)
            .map(|(_, _, member, _)| *member)
            .collect();
        problems.extend(
            input_problems(&format, &formats, op_model, &shared)
                .into_iter()
                .map(|p| format!("{service} {name}: {p}")),
        );
        let unread = unread_members(&format, &formats, op_model);
        if !unread.is_empty() {
            unread_by_operation.push(format!("{service} {name}: {}", unread.join(", ")));
        }
    }
    // Not a failure: not every member is implemented (docs/COVERAGE.md says which
    // operations are partial).
    eprintln!(
        "model members no typed input reads ({} operations):\n{}",
        unread_by_operation.len(),
        unread_by_operation.join("\n")
    );
    assert!(problems.is_empty(), "{problems:#?}");
    let stale: Vec<_> = UNTRACED_INPUTS
        .iter()
        .filter(|(s, op, _)| !untraced_used.contains(&(*s, *op)))
        .collect();
    assert!(
        stale.is_empty(),
        "now traced, drop from UNTRACED_INPUTS: {stale:?}"
    );
    assert!(traced > 250, "{traced} inputs traced");
}

/// The inputs an operation is called with: the members that name fixture entities and those
/// the model requires (for most operations); those the model requires alone, with
/// placeholders (for operations that make something new); every member (for the optional
/// members of outputs).
fn inputs(fixture: &Fixture, service: &str, op: &OperationModel) -> Vec<Value> {
    let name = op.name();
    let chosen = |member: &str| fixture.member(service, name, member);
    let every = rampart_wire::sample_input(op, &chosen);
    let required: BTreeSet<&str> = op
        .input()
        .map(|shape| shape.required_members().collect())
        .unwrap_or_default();
    let named = top_level(&every, |member| {
        required.contains(member) || chosen(member).is_some()
    });
    let fresh = top_level(&rampart_wire::sample_input(op, &generic), |member| {
        required.contains(member)
    });
    vec![named, fresh, every]
}

fn top_level(input: &Value, keep: impl Fn(&str) -> bool) -> Value {
    match input {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(name, _)| keep(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn every_output_has_only_what_the_model_has() {
    let mut fixture = Fixture::new();
    fixture.act_as_alice();
    let mut problems = BTreeSet::new();
    let mut answered = 0;
    let mut unanswered = Vec::new();
    for (service, name) in operations(&fixture.registry) {
        let Some(op) = ServiceModel::by_endpoint_prefix(service)
            .unwrap()
            .operation(name)
        else {
            continue; // every_operation_is_in_its_model
        };
        let mut any = false;
        let mut errors = Vec::new();
        for input in inputs(&fixture, service, op) {
            match fixture.try_call(service, name, input) {
                Called::Answered(Ok(output)) => {
                    any = true;
                    if let Err(e) = check_output(op, &output) {
                        problems.insert(e.to_string());
                    }
                }
                // Debug builds refuse such an output before it gets here.
                Called::Answered(Err(e)) if e.message.contains("does not match its API model") => {
                    any = true;
                    problems.insert(e.message);
                }
                Called::Answered(Err(e)) => errors.push(format!("{} {}", e.code, e.message)),
                Called::Store(e) => errors.push(e.to_string()),
            }
        }
        if any {
            answered += 1;
        } else {
            unanswered.push(format!("{service} {name}: {}", errors.join(" | ")));
        }
    }
    // Not a failure: the inputs are samples, and some operations refuse all three. Their
    // outputs are checked wherever a test calls them (debug builds check every output).
    eprintln!(
        "{answered} operations answered; not answered ({}):\n{}",
        unanswered.len(),
        unanswered.join("\n")
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(answered > 200, "only {answered} operations answered");
}

/// Where a traced input (`format`, with the formats of the types in it) reads what `op`'s
/// model does not have; `shared` lists top-level members it may read for another operation.
fn input_problems(
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
fn unread_members<'m>(format: &Format, formats: &Formats, op: &'m OperationModel) -> Vec<&'m str> {
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

/// The slips issue 17 is about, replayed on operations of their own: each check must catch
/// its slip, and pass the same type written right.
mod replays {
    use rampart_service::testing::TestEnv;
    use rampart_service::{AwsError, Env, Handler, Operation};
    use rampart_store::WriteTx;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct MisreadCreateUser {
        #[serde(rename = "Username")]
        _user_name: String,
        _path: Option<u32>,
        _permissions_boundary: Option<Vec<String>>,
        #[serde(default)]
        _tags: Vec<MisreadTag>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct MisreadTag {
        _key: String,
        #[serde(rename = "Val")]
        _value: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct CreateUser {
        _user_name: String,
        _path: Option<String>,
        _permissions_boundary: Option<String>,
        #[serde(default)]
        _tags: Vec<Tag>,
    }

    #[derive(Deserialize, Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct Tag {
        key: String,
        value: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct MisreadUpdateAccessKey {
        _access_key_id: String,
        _status: Status,
    }

    #[derive(Deserialize)]
    enum Status {
        Active,
        Disabled,
    }

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct Created {
        user: User,
    }

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct User {
        #[serde(rename = "Username")]
        user_name: String,
        arn: String,
        tags: Vec<Tag>,
    }

    /// A handler that answers `output` whatever it is asked.
    fn answer<I, O>(
        output: O,
    ) -> impl Fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<O, AwsError> + Send + Sync + 'static
    where
        O: Clone + Send + Sync + 'static,
    {
        move |_, _, _| Ok(output.clone())
    }

    fn check_input(operation: &Operation, service: &str) -> Vec<String> {
        let (format, formats) = operation.input_format().unwrap();
        let model = ServiceModel::by_endpoint_prefix(service)
            .unwrap()
            .operation(operation.name)
            .unwrap();
        input_problems(&format, &formats, model, &[])
    }

    #[test]
    fn an_input_read_under_another_name_or_type_is_caught() {
        let misread = Operation::write(
            "CreateUser",
            "iam:CreateUser",
            answer::<MisreadCreateUser, _>(()),
        );
        assert_eq!(
            check_input(&misread, "iam"),
            [
                "`Username`: `MisreadCreateUser` reads a member `CreateUserRequest` does not have",
                "`Path`: read as an integer; the model's `pathType` is String",
                "`PermissionsBoundary`: read as a list; the model's `arnType` is String",
                "`Tags[].Val`: `MisreadTag` reads a member `Tag` does not have",
            ]
        );
        let right = Operation::write("CreateUser", "iam:CreateUser", answer::<CreateUser, _>(()));
        assert_eq!(check_input(&right, "iam"), Vec::<String>::new());
        let status = Operation::write(
            "UpdateAccessKey",
            "iam:UpdateAccessKey",
            answer::<MisreadUpdateAccessKey, _>(()),
        );
        let problems = check_input(&status, "iam");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("`Status`: `Status::Disabled` is not a value of `statusType`"),
            "{problems:?}"
        );
    }

    /// Calls the operation's handler as the spine does, with the output it is erased to.
    fn call(operation: Operation) -> Result<Value, AwsError> {
        TestEnv::new()
            .write(move |env, tx| {
                let Handler::Write(handler) = &operation.handler else {
                    unreachable!("written as a write")
                };
                Ok::<_, rampart_store::StoreError>(handler(env, tx, json!({"UserName": "bob"})))
            })
            .unwrap()
    }

    #[test]
    fn an_output_member_the_model_lacks_fails_in_debug_builds() {
        let misnamed = Created {
            user: User {
                user_name: "bob".to_owned(),
                arn: "arn:aws:iam::123456789012:user/bob".to_owned(),
                tags: vec![Tag {
                    key: "k".to_owned(),
                    value: "v".to_owned(),
                }],
            },
        };
        let operation = Operation::write(
            "CreateUser",
            "iam:CreateUser",
            answer::<CreateUser, _>(misnamed),
        );
        let answer = call(operation);
        if cfg!(debug_assertions) {
            let e = answer.unwrap_err();
            assert_eq!((e.code.as_ref(), e.status), ("InternalFailure", 500));
            assert_eq!(
                e.message,
                "the output of `CreateUser` does not match its API model: \
                 `User.Username`: not a member of `User`"
            );
        } else {
            // A release server answers, without the member (and logs a warning).
            assert_eq!(answer.unwrap()["User"]["Username"], "bob");
        }
    }

    #[test]
    fn an_output_the_model_describes_is_answered() {
        #[derive(Serialize, Clone)]
        #[serde(rename_all = "PascalCase")]
        struct Right {
            user: RightUser,
        }
        #[derive(Serialize, Clone)]
        #[serde(rename_all = "PascalCase")]
        struct RightUser {
            user_name: String,
            arn: String,
            create_date: String,
        }
        let right = Right {
            user: RightUser {
                user_name: "bob".to_owned(),
                arn: "arn:aws:iam::123456789012:user/bob".to_owned(),
                create_date: "2026-11-24T12:00:00Z".to_owned(),
            },
        };
        let operation = Operation::write(
            "CreateUser",
            "iam:CreateUser",
            answer::<CreateUser, _>(right),
        );
        let output = call(operation).unwrap();
        assert_eq!(output["User"]["UserName"], "bob");
    }
}
