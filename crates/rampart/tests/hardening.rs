//! The edges of a running server: who may read its files (finding 12) and who may reset it
//! (finding 11).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Rampart, Signing};

const CLOUDTRAIL_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn signed(rampart: &Rampart, mut request: http::Request<Vec<u8>>, service: &str) -> (u16, String) {
    Signing {
        service,
        ..Signing::default()
    }
    .sign(&mut request);
    rampart.send(request)
}

fn cloudtrail(rampart: &Rampart, operation: &str, body: &str) -> (u16, String) {
    let request = http::Request::post(format!("{}/", rampart.endpoint))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("{CLOUDTRAIL_TARGET}.{operation}"))
        .header("host", rampart.endpoint.trim_start_matches("http://"))
        .body(body.as_bytes().to_vec())
        .unwrap();
    signed(rampart, request, "cloudtrail")
}

fn create_user(rampart: &Rampart, name: &str) -> u16 {
    let request = rampart.query_request(&format!(
        "Action=CreateUser&UserName={name}&Version=2010-05-08"
    ));
    signed(rampart, request, "iam").0
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Finding 12: rampart.db and its -wal/-shm were created 0644 in a pre-existing 0755 data
/// directory, readable by every local user.
#[cfg(unix)]
#[test]
fn the_data_directory_and_every_file_in_it_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A credentials file left readable to all (by hand, or by an older version).
    std::fs::write(dir.join("credentials"), "stale").unwrap();
    std::fs::set_permissions(
        dir.join("credentials"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let buckets = dir.join("buckets");
    let rampart = Rampart::start(
        &["--data-dir", dir.to_str().unwrap()],
        Some(&[
            ("RAMPART_TRAIL_DELIVERY_SECONDS", "0.2"),
            ("RAMPART_BUCKETS_DIR", buckets.to_str().unwrap()),
        ]),
    );
    let (status, body) = cloudtrail(
        &rampart,
        "CreateTrail",
        r#"{"Name":"perm","S3BucketName":"perm-bucket"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        cloudtrail(&rampart, "StartLogging", r#"{"Name":"perm"}"#).0,
        200
    );
    assert_eq!(create_user(&rampart, "perm-user"), 200);
    // Wait for the deliverer's first trail file.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !buckets.exists() || files_under(&buckets).is_empty() {
        assert!(Instant::now() < deadline, "no trail file was delivered");
        std::thread::sleep(Duration::from_millis(100));
    }

    assert_eq!(mode(&dir), 0o700, "the data directory was narrowed");
    for file in ["rampart.db", "rampart.db-wal", "rampart.db-shm", "root.key"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    for file in ["credentials", "config"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    for file in files_under(&buckets) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        let mut parent = file.parent().unwrap();
        while parent != buckets {
            assert_eq!(mode(parent), 0o700, "{}", parent.display());
            parent = parent.parent().unwrap();
        }
    }
    // The server still works from its narrowed files after a restart.
    assert!(rampart.stop().success());
    let again = Rampart::in_dir(&dir);
    assert_eq!(create_user(&again, "perm-user-2"), 200);
}

fn reset(rampart: &Rampart, headers: &[(&str, &str)], content_type: &str) -> u16 {
    let mut request = http::Request::post(format!("{}/_rampart/reset", rampart.endpoint))
        .header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    rampart.send(request.body(b"{}".to_vec()).unwrap()).0
}

fn user_exists(rampart: &Rampart, name: &str) -> bool {
    let request = rampart.query_request(&format!(
        "Action=GetUser&UserName={name}&Version=2010-05-08"
    ));
    signed(rampart, request, "iam").0 == 200
}

/// Finding 11: a text/plain POST with a foreign Origin (what any web page can make a browser
/// send to a loopback port) wiped all state, and the reset was not journaled.
#[test]
fn reset_refuses_browsers_and_undeliberate_requests() {
    let rampart = Rampart::ephemeral();
    assert_eq!(create_user(&rampart, "keep-me"), 200);
    let cross_site = [
        vec![
            ("origin", "https://evil.example"),
            ("x-rampart-reset", "true"),
        ],
        vec![("origin", "null"), ("x-rampart-reset", "true")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("x-rampart-reset", "true"),
        ],
        vec![("sec-fetch-site", "same-site"), ("x-rampart-reset", "true")],
    ];
    for headers in &cross_site {
        assert_eq!(reset(&rampart, headers, "text/plain"), 403, "{headers:?}");
    }
    // Without the deliberate header (a form a page could post, or a bare POST).
    assert_eq!(reset(&rampart, &[], "text/plain"), 400);
    assert_eq!(
        reset(&rampart, &[("x-rampart-reset", "yes")], "application/json"),
        400
    );
    assert!(user_exists(&rampart, "keep-me"), "nothing was reset");
}

#[test]
fn a_deliberate_reset_works_and_is_journaled() {
    let rampart = Rampart::ephemeral();
    assert_eq!(create_user(&rampart, "gone-after-reset"), 200);
    let before = rampart.journal_seq();
    // What a test harness sends; a same-origin or direct navigation mark is no browser's
    // cross-site request.
    assert_eq!(
        reset(
            &rampart,
            &[("x-rampart-reset", "true"), ("sec-fetch-site", "none")],
            "application/json"
        ),
        200
    );
    assert_eq!(rampart.journal_seq(), before + 1, "the reset has its event");
    assert!(!user_exists(&rampart, "gone-after-reset"));
    let (status, body) = cloudtrail(
        &rampart,
        "LookupEvents",
        r#"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"Reset"}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let found: serde_json::Value = serde_json::from_str(&body).unwrap();
    let events = found["Events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["EventSource"], "rampart.local");
    let event: serde_json::Value =
        serde_json::from_str(events[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(event["sourceIPAddress"], "127.0.0.1");
    assert_eq!(event["userIdentity"]["type"], "Unknown");
    assert_eq!(event["recipientAccountId"], common::ACCOUNT_ID);
}
