//! Runs every SigV4 vector under tests/vectors/:
//!
//! * `suite/`: requests described after AWS's SigV4 test suite (facts, not
//!   its files). They are signed here by the official `aws-sigv4` crate at
//!   `time` (header or presigned), optionally changed after signing, then
//!   verified by Rampart at `verify_at`.
//! * `botocore/`: requests already signed by botocore (see
//!   tests/botocore/generate_vectors.py), verified at their signing time.

#![expect(clippy::unwrap_used, reason = "a malformed vector fails the test")]
#![expect(clippy::panic, reason = "a malformed vector fails the test")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_sigv4::{ErrorFlavor, SigningKeyCache};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    description: String,
    #[serde(default)]
    generator: Option<String>,
    request: Request,
    credentials: Credentials,
    region: String,
    #[serde(default)]
    service: Option<String>,
    /// Signing time, `YYYYMMDDTHHMMSSZ`.
    time: String,
    /// `header`, `presigned`, or `none` (already signed).
    sign: String,
    #[serde(default)]
    expires: Option<u64>,
    /// AWS's published signature for this request, when known.
    #[serde(default)]
    expected_signature: Option<String>,
    #[serde(default)]
    after_signing: Option<AfterSigning>,
    #[serde(default)]
    verify_at: Option<String>,
    #[serde(default)]
    verify_secret: Option<String>,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    expect_security_token: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AfterSigning {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    set_headers: Vec<(String, String)>,
}

/// Expected failure: the Query-flavour code, and the message when given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    #[serde(default)]
    message: Option<String>,
}

fn amz_time(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| s.get(r).unwrap().parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    // Days from civil (proleptic Gregorian), independent of the crate's own.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

fn build(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &str,
) -> http::Request<Vec<u8>> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.as_bytes().to_vec())
        .unwrap();
    for (n, v) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    // An HTTP/1.1 client always sends Host; botocore leaves it to urllib3.
    if !req.headers().contains_key("host") {
        let authority = req.uri().authority().unwrap().to_string();
        req.headers_mut().insert("host", authority.parse().unwrap());
    }
    req
}

fn run(path: &Path) -> Result<(), String> {
    let v: Vector = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .map_err(|e| format!("malformed vector: {e}"))?;
    let _ = (&v.description, &v.generator);
    let time = amz_time(&v.time);
    let mut req = build(
        &v.request.method,
        &v.request.uri,
        &v.request.headers,
        &v.request.body,
    );
    let service = v.service.clone().unwrap_or_default();
    match v.sign.as_str() {
        "none" => {}
        "header" | "presigned" => {
            common::Signer {
                akid: &v.credentials.access_key_id,
                secret: &v.credentials.secret_access_key,
                token: v.credentials.session_token.as_deref(),
                region: &v.region,
                service: &service,
                time,
                presign: (v.sign == "presigned").then(|| Duration::from_secs(v.expires.unwrap())),
                unsigned_payload: false,
            }
            .sign(&mut req);
        }
        other => return Err(format!("unknown sign mode {other}")),
    }
    if let Some(expected) = &v.expected_signature {
        let auth = req
            .headers()
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        if !auth.ends_with(&format!("Signature={expected}")) {
            return Err(format!(
                "aws-sigv4 produced {auth}, AWS publishes {expected}"
            ));
        }
    }
    if let Some(after) = &v.after_signing {
        if let Some(uri) = &after.uri {
            *req.uri_mut() = uri.parse().unwrap();
        }
        if let Some(body) = &after.body {
            *req.body_mut() = body.as_bytes().to_vec();
        }
        for (n, val) in &after.set_headers {
            req.headers_mut().insert(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(val).unwrap(),
            );
        }
    }
    let now = v.verify_at.as_deref().map_or(time, amz_time);
    let secret = v
        .verify_secret
        .as_deref()
        .unwrap_or(&v.credentials.secret_access_key);
    let (parts, body) = req.into_parts();
    let result = rampart_sigv4::parse(&parts).and_then(|signed| {
        if signed.access_key_id() != v.credentials.access_key_id || signed.region() != v.region {
            panic!("parsed the wrong credential: {signed:?}");
        }
        signed.verify(
            &parts,
            &body,
            secret.as_bytes(),
            now,
            &SigningKeyCache::default(),
        )
    });
    match (&v.expect, result) {
        (None, Ok(verified)) => {
            let expected_token = v
                .credentials
                .session_token
                .as_deref()
                .filter(|_| v.expect_security_token);
            if verified.security_token() != expected_token {
                return Err(format!("security token {:?}", verified.security_token()));
            }
            if verified.request_time() != time {
                return Err("request time".into());
            }
            Ok(())
        }
        (None, Err(e)) => Err(format!("expected success, got {e:?}: {e}")),
        (Some(x), Ok(_)) => Err(format!("expected {}, verified", x.code)),
        (Some(x), Err(e)) => {
            if e.code(ErrorFlavor::Query) != x.code {
                return Err(format!("expected {}, got {e:?}", x.code));
            }
            match &x.message {
                Some(m) if *m != e.to_string() => Err(format!("message {e}")),
                _ => Ok(()),
            }
        }
    }
}

fn vector_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn run_all(dir: &str, min: usize) {
    let files = vector_files(dir);
    assert!(
        files.len() >= min,
        "expected at least {min} vectors in {dir}, found {}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| run(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn aws_test_suite_vectors() {
    run_all("suite", 30);
}

#[test]
fn botocore_vectors() {
    run_all("botocore", 5);
}
