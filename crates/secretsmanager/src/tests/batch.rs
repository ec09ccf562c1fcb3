//! BatchGetSecretValue: each secret read by its own GetSecretValue call through the spine, as
//! the caller itself, so that a secret the caller may not read, cannot decrypt or that is not
//! there is an entry of `Errors` and the others are answered.

use rampart_service::CallPrincipal;
use serde_json::json;

use super::{Harness, token};

fn strings(values: &serde_json::Value, member: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[member].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_secret_is_read_by_a_get_secret_value_call_as_the_caller_itself() {
    let h = Harness::new();
    h.create("a", "one", &token(1));
    h.create("b", "two", &token(2));
    let batch = h.ok("BatchGetSecretValue", json!({"SecretIdList": ["a", "b"]}));
    assert_eq!(
        strings(&batch["SecretValues"], "SecretString"),
        ["one", "two"]
    );
    assert_eq!(batch["Errors"], json!([]));
    let calls = h.spine.own_calls.lock().unwrap().clone();
    let asked: Vec<_> = calls
        .iter()
        .map(|(operation, input, principal)| (operation.as_str(), input.clone(), principal.clone()))
        .collect();
    assert_eq!(
        asked,
        [
            (
                "GetSecretValue",
                json!({"SecretId": "a"}),
                CallPrincipal::CallerItself
            ),
            (
                "GetSecretValue",
                json!({"SecretId": "b"}),
                CallPrincipal::CallerItself
            ),
        ]
    );
}

#[test]
fn a_refused_secret_is_an_error_entry_and_the_others_are_answered() {
    let h = Harness::new();
    h.create("open", "readable", &token(1));
    h.create("closed", "hidden", &token(2));
    h.spine.refused.lock().unwrap().push("closed".to_owned());
    let batch = h.ok(
        "BatchGetSecretValue",
        json!({"SecretIdList": ["closed", "open", "missing"]}),
    );
    assert_eq!(strings(&batch["SecretValues"], "Name"), ["open"]);
    assert_eq!(batch["SecretValues"][0]["SecretString"], "readable");
    let errors = &batch["Errors"];
    assert_eq!(strings(errors, "SecretId"), ["closed", "missing"]);
    assert_eq!(
        strings(errors, "ErrorCode"),
        ["AccessDeniedException", "ResourceNotFoundException"]
    );
    assert_eq!(
        errors[1]["Message"],
        "Secrets Manager can't find the specified secret."
    );
    // The refused secret's value is nowhere in the answer.
    assert!(!batch.to_string().contains("hidden"));
}

#[test]
fn a_secret_kms_will_not_decrypt_is_an_error_entry() {
    let h = Harness::new();
    h.create("a", "one", &token(1));
    *h.kms.deny.lock().unwrap() = true;
    let batch = h.ok("BatchGetSecretValue", json!({"SecretIdList": ["a"]}));
    assert_eq!(batch["SecretValues"], json!([]));
    assert_eq!(batch["Errors"][0]["ErrorCode"], "AccessDeniedException");
    assert_eq!(
        batch["Errors"][0]["Message"],
        "Access to KMS is not allowed"
    );
}

#[test]
fn filters_choose_the_secrets_and_pages_follow_them() {
    let h = Harness::new();
    for (n, name) in ["team/a", "team/b", "team/c", "other"].iter().enumerate() {
        h.create(name, name, &token(u32::try_from(n).unwrap() + 1));
    }
    let first = h.ok(
        "BatchGetSecretValue",
        json!({"Filters": [{"Key": "name", "Values": ["team/"]}], "MaxResults": 2}),
    );
    let second = h.ok(
        "BatchGetSecretValue",
        json!({"Filters": [{"Key": "name", "Values": ["team/"]}], "MaxResults": 2,
               "NextToken": first["NextToken"]}),
    );
    let mut names = strings(&first["SecretValues"], "Name");
    names.extend(strings(&second["SecretValues"], "Name"));
    assert_eq!(names, ["team/a", "team/b", "team/c"]);
    assert!(second.get("NextToken").is_none());
    // Filters name secrets by ARN in the calls they make.
    let calls = h.spine.own_calls.lock().unwrap().clone();
    assert!(
        calls
            .iter()
            .all(|(_, input, _)| input["SecretId"].as_str().unwrap().starts_with("arn:aws:"))
    );
}

#[test]
fn the_request_names_its_secrets_one_way() {
    let h = Harness::new();
    h.create("a", "one", &token(1));
    let both = h.err(
        "BatchGetSecretValue",
        json!({"SecretIdList": ["a"], "Filters": [{"Key": "name", "Values": ["a"]}]}),
    );
    assert_eq!(both.code, "InvalidParameterException");
    let neither = h.err("BatchGetSecretValue", json!({}));
    assert_eq!(neither.code, "InvalidParameterException");
    let paged = h.err(
        "BatchGetSecretValue",
        json!({"SecretIdList": ["a"], "MaxResults": 5}),
    );
    assert_eq!(paged.code, "InvalidParameterException");
    // Refused before any secret is read.
    assert!(h.spine.own_calls.lock().unwrap().is_empty());
}
