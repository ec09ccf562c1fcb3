//! Golden records (issue 19): real calls through a running server, each event read back with
//! LookupEvents (its `CloudTrailEvent`, the JSON a trail file holds) and compared field by
//! field with a golden file in `tests/golden/`, one per operation family. Each golden names
//! the AWS example event its shape follows (`source`).
//!
//! A golden file is `{"source": …, "steps": [step…]}`; a step is
//! - `call`: `{"service", "form"}` (Query protocol) or `{"service", "target", "body"}` (JSON
//!   protocol), optionally `"as"`: the name of credentials captured earlier;
//! - `status`: the HTTP status expected (200 unless said);
//! - `capture`: names for values of the response (an XML tag's text, or a JSON pointer), used
//!   later as `{name}` in calls and expected values;
//! - `credentials`: `{name: [key id, secret, token?]}`, each a capture, to sign later calls;
//! - `also`: `{event name: event}`, events other services wrote for the call (same request);
//! - `service_events`: `{event name: event}`, the service events (`AwsServiceEvent`) the call
//!   led to, each the newest of its name (they carry no request ID of the call);
//! - `event`: the event expected, every field but [`VARYING`]. In it, `"<any>"` matches any
//!   present value, `"<date>"` a date as IAM, STS and Organizations write them (`Aug 1, 2024
//!   1:37:41 PM`), `"<date,>"` as KMS writes them (`Aug 10, 2022, 10:38:27 PM`) and
//!   `"<iso8601>"` an RFC 3339 UTC time.
//!
//! `RAMPART_GOLDEN_BLESS=1` writes the events produced into the golden files instead of
//! comparing, with captured values as `{name}` and dates as placeholders: for a new golden,
//! whose every line must then be checked against AWS's example by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Rampart, Signing};
use serde_json::{Map, Value, json};

/// Top-level event fields that differ on every run; the test checks they are present.
const VARYING: &[&str] = &["eventID", "eventTime", "requestID", "userAgent"];
/// The same for service events, which name no client and may have no request ID.
const SERVICE_VARYING: &[&str] = &["eventID", "eventTime"];

const CLOUDTRAIL_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

#[test]
fn iam_users() {
    run_golden("iam_users.json");
}

#[test]
fn iam_roles_and_policies() {
    run_golden("iam_roles.json");
}

#[test]
fn sts_sessions() {
    run_golden("sts_sessions.json");
}

#[test]
fn kms_keys_and_cryptography() {
    run_golden("kms_keys.json");
}

#[test]
fn cloudtrail_trails() {
    run_golden("cloudtrail_trails.json");
}

#[test]
fn organizations() {
    run_golden("organizations.json");
}

#[test]
fn ssm_parameters() {
    run_golden("ssm_parameters.json");
}

#[test]
fn secrets_manager_service_events() {
    run_golden("secretsmanager_service_events.json");
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Values captured from responses, and credentials made of them.
#[derive(Default)]
struct Captured {
    values: BTreeMap<String, String>,
    credentials: BTreeMap<String, Vec<String>>,
}

impl Captured {
    /// `text` with every `{name}` replaced by its captured value.
    fn fill(&self, text: &str) -> String {
        self.values.iter().fold(text.to_owned(), |t, (k, v)| {
            t.replace(&format!("{{{k}}}"), v)
        })
    }

    fn fill_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.fill(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill_value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.fill(k), self.fill_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn run_golden(file: &str) {
    let path = golden_dir().join(file);
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(
        golden["source"]
            .as_str()
            .is_some_and(|s| s.contains("https://")),
        "{file} names the AWS example its shape follows"
    );
    let bless = std::env::var_os("RAMPART_GOLDEN_BLESS").is_some();
    let mut blessed = golden.clone();
    let rampart = Rampart::ephemeral();
    let mut captured = Captured::default();
    captured
        .values
        .insert("account".into(), common::ACCOUNT_ID.into());
    for (i, step) in golden["steps"].as_array().unwrap().iter().enumerate() {
        let at = format!("{file} step {i}");
        let (status, request_id, body) = call(&rampart, &captured, &step["call"]);
        let expected_status = step["status"].as_u64().unwrap_or(200);
        assert_eq!(u64::from(status), expected_status, "{at}: {body}");
        for (name, from) in step["capture"].as_object().into_iter().flatten() {
            let from = from.as_str().unwrap();
            let value = if from.starts_with('/') {
                let json: Value = serde_json::from_str(&body).unwrap();
                json.pointer(from)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            } else {
                common::xml_text(&body, from).map(str::to_owned)
            };
            let value = value.unwrap_or_else(|| panic!("{at}: no {from} in {body}"));
            captured.values.insert(name.clone(), value);
        }
        for (name, parts) in step["credentials"].as_object().into_iter().flatten() {
            let parts = parts
                .as_array()
                .unwrap()
                .iter()
                .map(|p| captured.values[p.as_str().unwrap()].clone())
                .collect();
            captured.credentials.insert(name.clone(), parts);
        }
        // Events other services wrote for the call (Parameter Store's KMS calls), by name.
        for (name, expected) in step["also"].as_object().into_iter().flatten() {
            let event = event_of(&rampart, name, &request_id);
            if bless {
                blessed["steps"][i]["also"][name] = blessed_event(&event, &captured, VARYING);
                continue;
            }
            check_event(&at, &event, &captured.fill_value(expected), VARYING);
        }
        for (name, expected) in step["service_events"].as_object().into_iter().flatten() {
            let event = service_event_of(&rampart, name);
            if bless {
                blessed["steps"][i]["service_events"][name] =
                    blessed_event(&event, &captured, SERVICE_VARYING);
                continue;
            }
            check_event(&at, &event, &captured.fill_value(expected), SERVICE_VARYING);
        }
        if let Some(expected) = step.get("event") {
            let name = step["call"]["form"].as_str().map_or_else(
                || {
                    let target = step["call"]["target"].as_str().unwrap();
                    target.rsplit('.').next().unwrap().to_owned()
                },
                |form| {
                    form.split('&')
                        .find_map(|p| p.strip_prefix("Action="))
                        .unwrap()
                        .to_owned()
                },
            );
            let event = event_of(&rampart, &name, &request_id);
            if bless {
                blessed["steps"][i]["event"] = blessed_event(&event, &captured, VARYING);
                continue;
            }
            check_event(&at, &event, &captured.fill_value(expected), VARYING);
        }
    }
    if bless {
        let text = serde_json::to_string_pretty(&blessed).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
}

/// `event` as a golden holds it: no `varying` field, captured values by name, dates as
/// placeholders.
fn blessed_event(event: &Value, captured: &Captured, varying: &[&str]) -> Value {
    fn generalize(value: &Value, captured: &Captured) -> Value {
        match value {
            Value::String(text) => {
                let mut text = text.clone();
                // Longest first, so a key ID inside its ARN leaves the ARN's name whole.
                let mut values: Vec<_> = captured.values.iter().collect();
                values.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
                for (name, v) in values {
                    if v.len() >= 6 {
                        text = text.replace(v.as_str(), &format!("{{{name}}}"));
                    }
                }
                let placeholder = if is_medium_date(&text, false) {
                    "<date>"
                } else if is_medium_date(&text, true) {
                    "<date,>"
                } else if placeholder_matches("<iso8601>", &Value::String(text.clone())) {
                    "<iso8601>"
                } else {
                    return Value::String(text);
                };
                Value::String(placeholder.to_owned())
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| generalize(v, captured)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), generalize(v, captured)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let mut event = event.as_object().unwrap().clone();
    for field in varying {
        event.remove(*field);
    }
    generalize(&Value::Object(event), captured)
}

/// Fails unless `event` is `expected` field by field, but for the `varying` fields, which
/// must be present.
fn check_event(at: &str, event: &Value, expected: &Value, varying: &[&str]) {
    for field in varying {
        assert!(
            event.get(*field).is_some_and(Value::is_string),
            "{at}: {field} missing in {event}"
        );
    }
    let mut actual = event.as_object().unwrap().clone();
    for field in varying {
        actual.remove(*field);
    }
    let mut differences = Vec::new();
    compare("$", expected, &Value::Object(actual), &mut differences);
    assert!(
        differences.is_empty(),
        "{at}: the event differs from the golden:\n  {}\nevent: {event}",
        differences.join("\n  ")
    );
}

/// Sends one step's call, signed as the root user or the credentials it names; returns
/// (status, request ID, body).
fn call(rampart: &Rampart, captured: &Captured, call: &Value) -> (u16, String, String) {
    let service = call["service"].as_str().unwrap();
    let mut request = match call["form"].as_str() {
        Some(form) => rampart.query_request(&captured.fill(form)),
        None => {
            let body = captured.fill_value(&call["body"]).to_string();
            http::Request::post(format!("{}/", rampart.endpoint))
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-target", call["target"].as_str().unwrap())
                .header("host", rampart.endpoint.trim_start_matches("http://"))
                .body(body.into_bytes())
                .unwrap()
        }
    };
    let mut signing = Signing {
        service,
        ..Signing::default()
    };
    if let Some(name) = call["as"].as_str() {
        let parts = &captured.credentials[name];
        signing.access_key_id = &parts[0];
        signing.secret = &parts[1];
        signing.session_token = parts.get(2).map(String::as_str);
    }
    signing.sign(&mut request);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent.run(request).unwrap();
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        request_id,
        response.into_body().read_to_string().unwrap(),
    )
}

/// The event of the call `request_id`, as LookupEvents returns it (`CloudTrailEvent`).
fn event_of(rampart: &Rampart, event_name: &str, request_id: &str) -> Value {
    lookup(rampart, event_name)
        .into_iter()
        .find(|e| e["requestID"] == request_id)
        .unwrap_or_else(|| panic!("no {event_name} event for request {request_id}"))
}

/// The events named `event_name`, newest first, as LookupEvents returns them
/// (`CloudTrailEvent`).
fn lookup(rampart: &Rampart, event_name: &str) -> Vec<Value> {
    let body = json!({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": event_name}], "MaxResults": 50});
    let mut request = http::Request::post(format!("{}/", rampart.endpoint))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("{CLOUDTRAIL_TARGET}.LookupEvents"))
        .header("host", rampart.endpoint.trim_start_matches("http://"))
        .body(body.to_string().into_bytes())
        .unwrap();
    Signing {
        service: "cloudtrail",
        ..Signing::default()
    }
    .sign(&mut request);
    let (status, body) = rampart.send(request);
    assert_eq!(status, 200, "{body}");
    let found: Value = serde_json::from_str(&body).unwrap();
    found["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<Value>(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect()
}

/// The newest service event named `event_name`, as LookupEvents returns it.
fn service_event_of(rampart: &Rampart, event_name: &str) -> Value {
    lookup(rampart, event_name)
        .into_iter()
        .find(|e| e["eventType"] == "AwsServiceEvent")
        .unwrap_or_else(|| panic!("no {event_name} service event"))
}

/// Every difference between `expected` (with its placeholders) and `actual`, by path.
fn compare(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::String(pattern), actual) if pattern.starts_with('<') && pattern.ends_with('>') => {
            if !placeholder_matches(pattern, actual) {
                out.push(format!("{path}: expected {pattern}, found {actual}"));
            }
        }
        (Value::Object(want), Value::Object(got)) => {
            compare_objects(path, want, got, out);
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (i, (w, g)) in want.iter().zip(got).enumerate() {
                compare(&format!("{path}[{i}]"), w, g, out);
            }
        }
        (want, got) if want == got => {}
        (want, got) => out.push(format!("{path}: expected {want}, found {got}")),
    }
}

fn compare_objects(
    path: &str,
    want: &Map<String, Value>,
    got: &Map<String, Value>,
    out: &mut Vec<String>,
) {
    for (key, w) in want {
        match got.get(key) {
            Some(g) => compare(&format!("{path}.{key}"), w, g, out),
            None => out.push(format!("{path}.{key}: missing (expected {w})")),
        }
    }
    for (key, g) in got {
        if !want.contains_key(key) {
            out.push(format!("{path}.{key}: not in the golden (found {g})"));
        }
    }
}

fn placeholder_matches(pattern: &str, actual: &Value) -> bool {
    let text = actual.as_str().unwrap_or_default();
    match pattern {
        "<any>" => !actual.is_null(),
        "<date>" => is_medium_date(text, false),
        "<date,>" => is_medium_date(text, true),
        "<iso8601>" => {
            text.len() == 20 && text.ends_with('Z') && text.as_bytes().get(10) == Some(&b'T')
        }
        _ => false,
    }
}

/// `Aug 1, 2024 1:37:41 PM` (or, with `comma`, `Aug 10, 2022, 10:38:27 PM`).
fn is_medium_date(text: &str, comma: bool) -> bool {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let parts: Vec<&str> = text.split(' ').collect();
    let [month, day, year, time, period] = parts.as_slice() else {
        return false;
    };
    let year = if comma {
        year.strip_suffix(',')
    } else {
        Some(*year)
    };
    let clock: Vec<&str> = time.split(':').collect();
    MONTHS.contains(month)
        && day.strip_suffix(',').is_some_and(|d| digits(d, 1, 2))
        && year.is_some_and(|y| digits(y, 4, 4))
        && matches!(clock.as_slice(), [h, m, s] if digits(h, 1, 2) && digits(m, 2, 2) && digits(s, 2, 2))
        && matches!(*period, "AM" | "PM")
}

#[test]
fn placeholders_match_only_their_forms() {
    assert!(is_medium_date("Aug 1, 2024 1:37:41 PM", false));
    assert!(!is_medium_date("Aug 1, 2024, 1:37:41 PM", false));
    assert!(is_medium_date("Aug 10, 2022, 10:38:27 PM", true));
    assert!(!is_medium_date("2022-08-10T22:38:27Z", true));
    let mut out = Vec::new();
    compare(
        "$",
        &json!({"a": "<any>", "b": [1], "c": {"d": "x"}}),
        &json!({"a": null, "b": [1, 2], "c": {"d": "x", "e": 1}}),
        &mut out,
    );
    assert_eq!(out.len(), 3, "{out:?}");
}
