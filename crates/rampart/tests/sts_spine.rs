//! The foundation end to end: a real rampart process, STS GetCallerIdentity over every step of
//! the spine, with the AWS SDK for Rust, requests signed by `aws-sigv4`, and curl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::{Duration, SystemTime};

use aws_sdk_sts::error::ProvideErrorMetadata;
use common::{ACCESS_KEY_ID, ACCOUNT_ID, Rampart, SECRET_ACCESS_KEY, Signing, xml_text};

const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

fn root_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:root")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_gets_the_root_identity() {
    let rampart = Rampart::ephemeral();
    let sts = rampart.sts(ACCESS_KEY_ID, SECRET_ACCESS_KEY).await;
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(root_arn().as_str()));
    assert_eq!(me.account(), Some(ACCOUNT_ID));
    assert_eq!(me.user_id(), Some(ACCOUNT_ID));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_reads_the_account_from_an_access_key_id() {
    let rampart = Rampart::ephemeral();
    let sts = rampart.sts(ACCESS_KEY_ID, SECRET_ACCESS_KEY).await;
    let info = sts
        .get_access_key_info()
        .access_key_id(ACCESS_KEY_ID)
        .send()
        .await
        .unwrap();
    // AWS's documentation key encodes this account.
    assert_eq!(info.account(), Some("581039954779"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_does_not_match() {
    let rampart = Rampart::ephemeral();
    let sts = rampart.sts(ACCESS_KEY_ID, "not-the-secret").await;
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_key_is_an_invalid_client_token() {
    let rampart = Rampart::ephemeral();
    let sts = rampart.sts("AKIAUNKNOWNKEY000000", SECRET_ACCESS_KEY).await;
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );
}

#[test]
fn a_signed_request_passes_and_its_tampered_copy_does_not() {
    let rampart = Rampart::ephemeral();
    let mut request = rampart.query_request(GET_CALLER_IDENTITY);
    Signing::default().sign(&mut request);
    let mut tampered = request.clone();
    let (status, body) = rampart.send(request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(xml_text(&body, "Arn"), Some(root_arn().as_str()));

    *tampered.body_mut() = b"Action=GetCallerIdentity&Version=2011-06-15&X=1".to_vec();
    let (status, body) = rampart.send(tampered);
    assert_eq!(status, 403);
    assert_eq!(xml_text(&body, "Code"), Some("SignatureDoesNotMatch"));
}

#[test]
fn a_request_twenty_minutes_old_has_expired() {
    let rampart = Rampart::ephemeral();
    let mut request = rampart.query_request(GET_CALLER_IDENTITY);
    Signing {
        time: SystemTime::now() - Duration::from_secs(20 * 60),
        ..Signing::default()
    }
    .sign(&mut request);
    let (status, body) = rampart.send(request);
    assert_eq!(status, 403);
    assert_eq!(xml_text(&body, "Code"), Some("SignatureDoesNotMatch"));
    let message = xml_text(&body, "Message").unwrap();
    assert!(message.starts_with("Signature expired: "), "{message}");
}

fn presigned_url(rampart: &Rampart, signed_at: SystemTime, valid_for: Duration) -> String {
    let mut request = http::Request::get(format!("{}/?{GET_CALLER_IDENTITY}", rampart.endpoint))
        .header("host", rampart.endpoint.trim_start_matches("http://"))
        .body(Vec::new())
        .unwrap();
    Signing {
        time: signed_at,
        presign: Some(valid_for),
        ..Signing::default()
    }
    .sign(&mut request);
    request.uri().to_string()
}

#[test]
fn an_expired_presigned_url_is_refused() {
    let rampart = Rampart::ephemeral();
    let url = presigned_url(
        &rampart,
        SystemTime::now() - Duration::from_secs(10 * 60),
        Duration::from_secs(60),
    );
    let request = http::Request::get(url).body(Vec::new()).unwrap();
    let (status, body) = rampart.send(request);
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_text(&body, "Code"), Some("RequestExpired"));
}

#[test]
fn a_presigned_url_works_with_curl() {
    let rampart = Rampart::ephemeral();
    let url = presigned_url(&rampart, SystemTime::now(), Duration::from_secs(300));
    let output = std::process::Command::new("curl")
        .args(["--silent", "--show-error", &url])
        .output()
        .expect("curl runs");
    let body = String::from_utf8(output.stdout).unwrap();
    assert_eq!(xml_text(&body, "Arn"), Some(root_arn().as_str()), "{body}");
}

#[test]
fn invalid_input_gets_the_validation_message() {
    let rampart = Rampart::ephemeral();
    let mut request = rampart.query_request(
        "Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId=AKIAIOSFODNN7+EXAMPLE",
    );
    Signing::default().sign(&mut request);
    let (status, body) = rampart.send(request);
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_text(&body, "Code"), Some("ValidationError"));
    assert_eq!(
        xml_text(&body, "Message"),
        Some(
            "1 validation error detected: Value 'AKIAIOSFODNN7 EXAMPLE' at 'accessKeyId' \
             failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*"
        )
    );
}

#[test]
fn an_unsigned_request_is_missing_its_token() {
    let rampart = Rampart::ephemeral();
    let (status, body) = rampart.send(rampart.query_request(GET_CALLER_IDENTITY));
    assert_eq!(status, 403);
    assert_eq!(xml_text(&body, "Code"), Some("MissingAuthenticationToken"));
}

#[test]
fn unknown_and_unimplemented_operations_say_so() {
    let rampart = Rampart::ephemeral();
    let mut unknown = rampart.query_request("Action=GetCallerIdentities&Version=2011-06-15");
    Signing::default().sign(&mut unknown);
    let (status, body) = rampart.send(unknown);
    assert_eq!(status, 400);
    assert_eq!(xml_text(&body, "Code"), Some("InvalidAction"));

    let mut not_yet = rampart.query_request("Action=GetAccountProperties&Version=2010-05-08");
    Signing {
        service: "iam",
        ..Signing::default()
    }
    .sign(&mut not_yet);
    let (status, body) = rampart.send(not_yet);
    assert_eq!(status, 501);
    assert_eq!(xml_text(&body, "Code"), Some("NotImplemented"));
    assert!(
        xml_text(&body, "Message")
            .unwrap()
            .contains("iam:GetAccountProperties"),
        "{body}"
    );

    let mut json = http::Request::post(format!("{}/", rampart.endpoint))
        .header("host", rampart.endpoint.trim_start_matches("http://"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.DescribeCustomKeyStores")
        .body(b"{}".to_vec())
        .unwrap();
    Signing {
        service: "kms",
        ..Signing::default()
    }
    .sign(&mut json);
    let (status, body) = rampart.send(json);
    assert_eq!(status, 501);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["__type"], "NotImplemented");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("kms:DescribeCustomKeyStores")
    );
}

#[test]
fn every_call_is_journaled_before_it_is_answered() {
    let rampart = Rampart::ephemeral();
    let before = rampart.journal_seq();
    let mut good = rampart.query_request(GET_CALLER_IDENTITY);
    Signing::default().sign(&mut good);
    assert_eq!(rampart.send(good).0, 200);
    let mut bad = rampart.query_request(GET_CALLER_IDENTITY);
    Signing {
        secret: "wrong",
        ..Signing::default()
    }
    .sign(&mut bad);
    assert_eq!(rampart.send(bad).0, 403);
    assert_eq!(rampart.journal_seq(), before + 2);
}

#[test]
fn health_answers_without_authentication() {
    let rampart = Rampart::ephemeral();
    let health = rampart.health();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"]["backend"], "sqlite");
    assert!(health["version"].is_string());
    assert!(health["uptime_seconds"].is_u64());
}
