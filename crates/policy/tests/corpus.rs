//! Table-driven cases from AWS's documented behaviour, one data file per topic
//! under `tests/corpus/`. Each case names the documented behaviour it encodes
//! in `doc`. One runner for all files; every case runs and all failures are
//! listed together.
//!
//! A case is either an evaluation (`request`, in the format of `rampart
//! policy evaluate --request FILE`, merged over the file's `defaults`;
//! `statement` is shorthand for one identity policy holding that statement)
//! or a parse (`policy` text, optional `kind`), with `expect` saying what
//! must come out.

use std::path::Path;

use rampart_policy::cli::RequestFile;
use rampart_policy::{Policy, PolicyKind, access_denied_message};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    topic: String,
    #[serde(default)]
    defaults: Map<String, Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    doc: String,
    #[serde(default)]
    request: Map<String, Value>,
    #[serde(default)]
    statement: Option<Value>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    kind: Option<PolicyKind>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    #[serde(default)]
    decision: Option<String>,
    /// The deciding policy type; `null` for none.
    #[serde(default, deserialize_with = "some")]
    decided_by: Option<Option<String>>,
    /// `[policy_id, statement_index]` of every matched statement, in order.
    #[serde(default)]
    matched: Option<Vec<(String, usize)>>,
    /// The AccessDenied message.
    #[serde(default)]
    message: Option<String>,
    /// For parse cases: the policy parses.
    #[serde(default)]
    parses: Option<bool>,
    /// For parse cases: the error.
    #[serde(default)]
    error: Option<ExpectedError>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    message: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
}

/// Distinguishes an explicit `null` from an absent field.
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn run_evaluation(defaults: &Map<String, Value>, case: &Case) -> Result<(), String> {
    let mut request = defaults.clone();
    for (k, v) in &case.request {
        request.insert(k.clone(), v.clone());
    }
    if let Some(statement) = &case.statement {
        request.insert(
            "identity_policies".into(),
            json!([{"Version": "2012-10-17", "Statement": [statement]}]),
        );
    }
    let file: RequestFile =
        serde_json::from_value(Value::Object(request)).map_err(|e| format!("bad request: {e}"))?;
    let (request, decision) = file
        .decide()
        .map_err(|e| format!("evaluation failed: {e}"))?;
    let expect = &case.expect;
    let got = decision.kind.to_string();
    let mut problems = Vec::new();
    if let Some(want) = &expect.decision {
        if *want != got {
            problems.push(format!("decision: want {want}, got {got}"));
        }
    } else {
        problems.push("evaluation case without expect.decision".to_owned());
    }
    if let Some(want) = &expect.decided_by {
        let got_by = decision.decided_by.map(|t| format!("{t:?}"));
        if *want != got_by {
            problems.push(format!("decided_by: want {want:?}, got {got_by:?}"));
        }
    }
    if let Some(want) = &expect.matched {
        let got_matched: Vec<(String, usize)> = decision
            .matched_statements
            .iter()
            .map(|m| (m.policy_id.to_string(), m.statement_index))
            .collect();
        if *want != got_matched {
            problems.push(format!("matched: want {want:?}, got {got_matched:?}"));
        }
    }
    if let Some(want) = &expect.message {
        let got_message = access_denied_message(&request, &decision);
        if Some(want) != got_message.as_ref() {
            problems.push(format!("message: want {want:?}, got {got_message:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn run_parse(text: &str, case: &Case) -> Result<(), String> {
    let result = match case.kind {
        Some(kind) => Policy::parse_as(text, kind),
        None => Policy::parse(text),
    };
    let expect = &case.expect;
    match (&result, expect.parses, &expect.error) {
        (Ok(policy), Some(true), None) => {
            // A policy that parses also survives re-serialization unchanged.
            let again =
                Policy::parse(&policy.to_string()).map_err(|e| format!("re-parse failed: {e}"))?;
            if again != *policy {
                return Err(format!("re-serialization changed the policy: {policy}"));
            }
            Ok(())
        }
        (Err(e), _, Some(want)) => {
            let mut problems = Vec::new();
            if e.aws_message() != want.message {
                problems.push(format!(
                    "message: want {:?}, got {:?}",
                    want.message,
                    e.aws_message()
                ));
            }
            let loc = e.location();
            if want.path.as_ref().is_some_and(|p| *p != loc.path) {
                problems.push(format!("path: want {:?}, got {:?}", want.path, loc.path));
            }
            if want.line.is_some_and(|l| l != loc.line)
                || want.column.is_some_and(|c| c != loc.column)
            {
                problems.push(format!(
                    "position: want {:?}:{:?}, got {}:{}",
                    want.line, want.column, loc.line, loc.column
                ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
        (Ok(_), _, Some(want)) => Err(format!("parsed, but expected error {:?}", want.message)),
        (Err(e), _, None) => Err(format!("unexpected error: {e}")),
        (Ok(_), _, None) => Err("parse case without expect.parses or expect.error".to_owned()),
    }
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable corpus file");
        let file: CorpusFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid corpus file: {e}", path.display()));
        assert_eq!(
            Some(file.topic.as_str()),
            path.file_stem().and_then(|s| s.to_str()),
            "topic must match the file name"
        );
        assert!(!file.cases.is_empty(), "{}: no cases", path.display());
        for case in &file.cases {
            total += 1;
            assert!(
                !case.doc.trim().is_empty(),
                "{}: case {} has no doc",
                file.topic,
                case.name
            );
            let result = match &case.policy {
                Some(text) => run_parse(text, case),
                None => run_evaluation(&file.defaults, case),
            };
            if let Err(problem) = result {
                failures.push(format!("{} / {}: {problem}", file.topic, case.name));
            }
        }
    }
    println!("{total} corpus cases in {} files", paths.len());
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 250, "the corpus shrank to {total} cases");
}
