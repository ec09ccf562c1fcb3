//! A real `rampart serve` process on an ephemeral loopback port, and ways to call it: the AWS
//! SDK, raw requests signed with the official `aws-sigv4` crate, and plain HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    reason = "test harness: failing loudly is the point; each test binary uses a subset"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const ACCOUNT_ID: &str = "111122223333";

/// A running rampart; killed when dropped.
pub struct Rampart {
    child: Child,
    pub endpoint: String,
    /// Everything the process printed on stdout before it served.
    pub banner: Vec<String>,
}

impl Rampart {
    /// An ephemeral rampart with fixed root credentials and reset enabled.
    pub fn ephemeral() -> Self {
        Self::start(&["--ephemeral", "--enable-reset"], None)
    }

    /// A rampart keeping its state in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self::start(&["--data-dir", data_dir.to_str().unwrap()], None)
    }

    /// Starts `rampart serve` with `args` on a free loopback port and waits until it serves.
    pub fn start(args: &[&str], env: Option<&[(&str, &str)]>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--account-id", ACCOUNT_ID])
            .args(args)
            .env("RAMPART_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("RAMPART_ROOT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("RAMPART_LOG", "warn")
            // Small audit log segments: each server preallocates two.
            .env("RAMPART_JOURNAL_SEGMENT_MIB", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env.unwrap_or_default() {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("rampart starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let endpoint = loop {
            let line = lines
                .next()
                .expect("rampart printed its address before exiting")
                .unwrap();
            if let Some(url) = line.strip_prefix("rampart listening on ") {
                break url.to_owned();
            }
            banner.push(line);
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            endpoint,
            banner,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        self.child.wait().unwrap()
    }

    /// Sends SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.signal("-KILL");
        self.child.wait().unwrap();
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// An STS client of the AWS SDK for Rust, pointed at this rampart.
    pub async fn sts(&self, access_key_id: &str, secret: &str) -> aws_sdk_sts::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(access_key_id, secret, None, None, "test"))
            .load()
            .await;
        aws_sdk_sts::Client::new(&config)
    }

    /// `GET /_rampart/health` as JSON.
    pub fn health(&self) -> serde_json::Value {
        let body = ureq::get(&format!("{}/_rampart/health", self.endpoint))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    }

    /// The journal's last sequence number.
    pub fn journal_seq(&self) -> u64 {
        self.health()["store"]["journal_seq"].as_u64().unwrap()
    }

    /// Sends a prepared request and returns (status, body), whatever the status.
    pub fn send(&self, request: http::Request<Vec<u8>>) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_string().unwrap())
    }

    /// A form POST of the Query protocol, not yet signed.
    pub fn query_request(&self, form: &str) -> http::Request<Vec<u8>> {
        http::Request::post(format!("{}/", self.endpoint))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .header("host", self.endpoint.trim_start_matches("http://"))
            .body(form.as_bytes().to_vec())
            .unwrap()
    }
}

impl Drop for Rampart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to sign a raw request with the official `aws-sigv4` crate.
pub struct Signing<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// Presign into the query string, valid for this long.
    pub presign: Option<Duration>,
    /// The session token of temporary credentials.
    pub session_token: Option<&'a str>,
}

impl Default for Signing<'_> {
    fn default() -> Self {
        Self {
            access_key_id: ACCESS_KEY_ID,
            secret: SECRET_ACCESS_KEY,
            service: "sts",
            time: SystemTime::now(),
            presign: None,
            session_token: None,
        }
    }
}

impl Signing<'_> {
    /// Signs `request` in place.
    pub fn sign(&self, request: &mut http::Request<Vec<u8>>) {
        let identity: Identity = Credentials::new(
            self.access_key_id,
            self.secret,
            self.session_token.map(str::to_owned),
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = self.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = request.uri().to_string();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(request.body()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(request);
    }
}

/// The text of `<tag>…</tag>` in an XML body.
pub fn xml_text<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(&body[start..end])
}
