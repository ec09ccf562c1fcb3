//! Signing with the official `aws-sigv4` crate, so the verifier is checked
//! against an independent implementation rather than against itself.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on bad input"
)]
#![allow(dead_code, reason = "each test binary uses a subset")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// 2026-11-24T10:30:00Z.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_516_200)
}

pub struct Signer<'a> {
    pub akid: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// `Some(expires)` presigns into the query string.
    pub presign: Option<Duration>,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body hash.
    pub unsigned_payload: bool,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Self {
            akid: AKID,
            secret: SECRET,
            token: None,
            region: "us-east-1",
            service: "sts",
            time: t0(),
            presign: None,
            unsigned_payload: false,
        }
    }
}

impl Signer<'_> {
    /// Signs `req` in place (headers or query) with aws-sigv4.
    pub fn sign(&self, req: &mut http::Request<Vec<u8>>) {
        let identity: Identity = Credentials::new(
            self.akid,
            self.secret,
            self.token.map(str::to_owned),
            None,
            "tests",
        )
        .into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = self.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = req.uri().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let body = if self.unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(req.body())
        };
        let signable = SignableRequest::new(
            req.method().as_str(),
            uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            body,
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(req);
    }
}

pub fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Request<Vec<u8>> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(body.to_vec()).unwrap()
}

/// Parses and verifies with Rampart's verifier.
pub fn verify(
    req: &http::Request<Vec<u8>>,
    secret: &str,
    now: SystemTime,
    cache: &rampart_sigv4::SigningKeyCache,
) -> Result<rampart_sigv4::VerifiedRequest, rampart_sigv4::SigV4Error> {
    let (parts, body) = req.clone().into_parts();
    let signed = rampart_sigv4::parse(&parts)?;
    signed.verify(&parts, &body, secret.as_bytes(), now, cache)
}
