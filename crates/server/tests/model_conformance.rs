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

#[path = "model_conformance/compare.rs"]
mod compare;
#[path = "model_conformance/fixture.rs"]
mod fixture;
#[path = "model_conformance/replays.rs"]
mod replays;

use std::collections::BTreeSet;

use compare::{input_problems, unread_members};
use fixture::{Called, Fixture, generic};
use rampart_server::Registry;
use rampart_wire::{OperationModel, ServiceModel, Value, check_output};

/// Operations authorized for another action than `<prefix>:<Operation>`, and why.
const OTHER_ACTIONS: &[(&str, &str, &str)] = &[
    (
        "ReEncrypt",
        "kms:ReEncryptFrom",
        "AWS has no kms:ReEncrypt action: ReEncrypt needs kms:ReEncryptFrom on the source key \
         and kms:ReEncryptTo on the destination key (its authorization targets)",
    ),
    (
        "PublishBatch",
        "sns:Publish",
        "AWS has no sns:PublishBatch action: a batch is authorized as sns:Publish on its topic",
    ),
];

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

/// Services whose IAM action prefix is not their SigV4 signing name, and the prefix.
const IAM_PREFIXES: &[(&str, &str)] = &[
    // CloudWatch signs as `monitoring` (its endpoint prefix) and authorizes as `cloudwatch`.
    ("monitoring", "cloudwatch"),
];

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
        let prefix = IAM_PREFIXES
            .iter()
            .find(|(s, _)| *s == signing)
            .map_or(signing, |(_, prefix)| prefix);
        let expected = format!("{prefix}:{name}");
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
