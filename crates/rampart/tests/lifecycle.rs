//! The server's life: first start, restart, crash, reset, shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{ACCESS_KEY_ID, ACCOUNT_ID, Rampart, SECRET_ACCESS_KEY, Signing, xml_text};

fn call(rampart: &Rampart) -> u16 {
    let mut request = rampart.query_request("Action=GetCallerIdentity&Version=2011-06-15");
    Signing::default().sign(&mut request);
    rampart.send(request).0
}

#[test]
fn a_restart_keeps_the_account_and_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = Rampart::in_dir(dir.path());
    assert!(
        first.banner.iter().any(|l| l.contains(ACCOUNT_ID)),
        "the first start announces the account: {:?}",
        first.banner
    );
    assert_eq!(call(&first), 200);
    assert!(first.stop().success(), "SIGTERM stops cleanly");

    let credentials = std::fs::read_to_string(dir.path().join("credentials")).unwrap();
    assert!(credentials.starts_with("[rampart]\n"));
    assert!(credentials.contains(&format!("aws_access_key_id = {ACCESS_KEY_ID}")));
    assert!(credentials.contains(&format!("aws_secret_access_key = {SECRET_ACCESS_KEY}")));
    #[cfg(unix)]
    for file in ["credentials", "root.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} is private");
    }

    let second = Rampart::in_dir(dir.path());
    assert!(
        second.banner.iter().all(|l| !l.contains(SECRET_ACCESS_KEY)),
        "the secret is printed on the first start only"
    );
    assert_eq!(call(&second), 200);
}

#[test]
fn the_database_never_holds_the_secret_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let rampart = Rampart::in_dir(dir.path());
    assert_eq!(call(&rampart), 200);
    assert!(rampart.stop().success());
    for file in ["rampart.db", "rampart.db-wal"] {
        let path = dir.path().join(file);
        if let Ok(bytes) = std::fs::read(&path) {
            let needle = SECRET_ACCESS_KEY.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} contains the secret access key"
            );
        }
    }
}

#[test]
fn kill_9_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let rampart = Rampart::in_dir(dir.path());
    let before = rampart.journal_seq();
    let calls = 25;
    for _ in 0..calls {
        assert_eq!(call(&rampart), 200);
    }
    rampart.kill9();
    let again = Rampart::in_dir(dir.path());
    assert!(
        again.journal_seq() >= before + calls,
        "every answered call's event survived the crash"
    );
    assert_eq!(call(&again), 200);
}

#[test]
fn reset_returns_to_the_bootstrap_and_needs_its_flag() {
    let with_reset = Rampart::ephemeral();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let reset = |endpoint: &str| {
        agent
            .post(&format!("{endpoint}/_rampart/reset"))
            .header("x-rampart-reset", "true")
            .send_empty()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(reset(&with_reset.endpoint), 200);
    let mut request = with_reset.query_request("Action=GetCallerIdentity&Version=2011-06-15");
    Signing::default().sign(&mut request);
    let (status, body) = with_reset.send(request);
    assert_eq!(status, 200);
    assert_eq!(
        xml_text(&body, "Account"),
        Some(ACCOUNT_ID),
        "same account after reset"
    );

    let without = Rampart::start(&["--ephemeral"], None);
    assert_eq!(reset(&without.endpoint), 404);
}

#[test]
fn ephemeral_state_is_removed_at_exit() {
    let rampart = Rampart::start(&["--ephemeral"], None);
    let dir = rampart
        .banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("credentials file:"))
        .map(|s| s.trim().trim_end_matches(" (profile `rampart`)").to_owned())
        .expect("the banner names the credentials file");
    let dir = std::path::Path::new(&dir).parent().unwrap().to_owned();
    assert!(dir.exists());
    assert!(rampart.stop().success());
    assert!(!dir.exists(), "{} was removed", dir.display());
}

#[test]
fn admin_creates_another_account_whose_root_key_works() {
    let dir = tempfile::tempdir().unwrap();
    let first = Rampart::in_dir(dir.path());
    assert!(first.stop().success());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env("RAMPART_JOURNAL_SEGMENT_MIB", "1")
        .args([
            "admin",
            "create-account",
            "--account-id",
            "999988887777",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap()
    };
    let (key, secret) = (
        field("root access key id:"),
        field("root secret access key:"),
    );
    let again = Rampart::in_dir(dir.path());
    let mut request = again.query_request("Action=GetCallerIdentity&Version=2011-06-15");
    Signing {
        access_key_id: &key,
        secret: &secret,
        ..Signing::default()
    }
    .sign(&mut request);
    let (status, body) = again.send(request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        xml_text(&body, "Arn"),
        Some("arn:aws:iam::999988887777:root")
    );
    // The same ID twice is refused.
    let twice = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env("RAMPART_JOURNAL_SEGMENT_MIB", "1")
        .args([
            "admin",
            "create-account",
            "--account-id",
            "999988887777",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!twice.status.success());
}
