//! `rampart policy validate` and `rampart policy evaluate`, as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::process::Command;

fn rampart(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn validate_exits_1_only_when_a_file_has_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fine = write(
        &dir,
        "fine.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let broken = write(
        &dir,
        "broken.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericEquals":{"aws:x":"abc"}}}]}"#,
    );
    assert_eq!(rampart(&["policy", "validate", &fine]).0, 0);
    let (code, report) = rampart(&["policy", "validate", &fine, &broken]);
    assert_eq!(code, 1);
    assert!(report.contains("ERROR"), "{report}");
    let (_, json) = rampart(&["policy", "validate", "--json", &broken]);
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "{json}"
    );
}

#[test]
fn validate_checks_actions_keys_and_resources_against_aws_reference() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        &dir,
        "typo.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUsr","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAcount":"123456789012"}}}]}"#,
    );
    let (code, report) = rampart(&["policy", "validate", &typo]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("INVALID_ACTION")
            && report.contains("The action iam:GetUsr does not exist."),
        "{report}"
    );
    assert!(
        report.contains("INVALID_SERVICE_CONDITION_KEY") && report.contains("kms:CallerAcount"),
        "{report}"
    );
    let sound = write(
        &dir,
        "sound.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","Condition":{"StringEquals":{"kms:CallerAccount":"123456789012"}}}]}"#,
    );
    let (code, report) = rampart(&["policy", "validate", &sound]);
    assert_eq!(
        (code, report.trim_end()),
        (0, format!("{sound}: no findings").as_str())
    );
}

#[test]
fn evaluate_decides_a_request_with_scp_levels() {
    let dir = tempfile::tempdir().unwrap();
    let request = write(
        &dir,
        "request.json",
        r#"{"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key", "resource_account": "111111111111",
            "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}],
            "service_control_policies": [
                [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
                [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}]]}"#,
    );
    let (code, out) = rampart(&["policy", "evaluate", "--request", &request]);
    assert_eq!(code, 0);
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        answer["decision"], "ImplicitDeny",
        "the OU level allows no s3 action"
    );
    assert_eq!(answer["decided_by"], "ServiceControlPolicy");
}
