//! Requests signed by the official `aws-sigv4` crate must verify, and any
//! change to them must not.

#![expect(
    clippy::unwrap_used,
    reason = "proptest strategies and helpers fail the test on bad input"
)]
mod common;

use std::time::Duration;

use common::{AKID, SECRET, Signer, request, t0, verify};
use proptest::prelude::*;
use rampart_sigv4::{AuthKind, ErrorFlavor, SigV4Error, SigningKeyCache};

fn sts_post() -> http::Request<Vec<u8>> {
    request(
        "POST",
        "http://sts.localhost:4566/",
        &[
            ("host", "sts.localhost:4566"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
}

#[test]
fn header_signed_request_verifies() {
    let mut req = sts_post();
    Signer {
        token: Some("session-token"),
        ..Signer::default()
    }
    .sign(&mut req);
    let v = verify(&req, SECRET, t0(), &SigningKeyCache::default()).unwrap();
    assert_eq!(v.access_key_id(), AKID);
    assert_eq!(v.region(), "us-east-1");
    assert_eq!(v.service(), "sts");
    assert_eq!(v.security_token(), Some("session-token"));
    assert_eq!(v.request_time(), t0());
    assert_eq!(v.kind(), AuthKind::Header);
}

#[test]
fn wrong_secret_does_not_verify_even_with_a_warm_cache() {
    let mut req = sts_post();
    Signer::default().sign(&mut req);
    let cache = SigningKeyCache::default();
    verify(&req, SECRET, t0(), &cache).unwrap();
    assert_eq!(
        verify(&req, "another-secret", t0(), &cache),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
    assert_eq!(
        verify(&req, "another-secret", t0(), &SigningKeyCache::disabled()),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
}

#[test]
fn tampering_is_detected() {
    let mut signed = sts_post();
    Signer::default().sign(&mut signed);
    let cache = SigningKeyCache::default();
    type Tamper = fn(&mut http::Request<Vec<u8>>);
    let tampers: [(&str, Tamper); 6] = [
        ("body", |r| r.body_mut().extend_from_slice(b"&RoleArn=x")),
        ("signed header", |r| {
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
        }),
        ("host", |r| {
            r.headers_mut()
                .insert("host", "evil.localhost".parse().unwrap());
        }),
        ("method", |r| *r.method_mut() = http::Method::PUT),
        ("path", |r| {
            *r.uri_mut() = "http://sts.localhost:4566/x".parse().unwrap()
        }),
        ("query", |r| {
            *r.uri_mut() = "http://sts.localhost:4566/?Action=AssumeRole"
                .parse()
                .unwrap()
        }),
    ];
    for (what, tamper) in tampers {
        let mut req = signed.clone();
        tamper(&mut req);
        assert_eq!(
            verify(&req, SECRET, t0(), &cache),
            Err(SigV4Error::SignatureDoesNotMatch),
            "{what}"
        );
    }
    // An unsigned header may be added: AWS verifies only the listed headers.
    let mut req = signed.clone();
    req.headers_mut()
        .insert("x-forwarded-for", "10.0.0.1".parse().unwrap());
    verify(&req, SECRET, t0(), &cache).unwrap();
}

#[test]
fn declared_payload_hash_must_match_body() {
    let mut req = sts_post();
    // aws-sigv4 signs the declared header as the payload hash.
    let hash = "0000000000000000000000000000000000000000000000000000000000000000";
    req.headers_mut()
        .insert("x-amz-content-sha256", hash.parse().unwrap());
    Signer::default().sign(&mut req);
    assert_eq!(
        verify(&req, SECRET, t0(), &SigningKeyCache::default()),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
}

#[test]
fn header_clock_skew_is_fifteen_minutes_both_ways() {
    let mut req = sts_post();
    Signer::default().sign(&mut req);
    let cache = SigningKeyCache::default();
    let fifteen = Duration::from_secs(900);
    verify(&req, SECRET, t0() + fifteen, &cache).unwrap();
    verify(&req, SECRET, t0() - fifteen, &cache).unwrap();
    let late = verify(
        &req,
        SECRET,
        t0() + fifteen + Duration::from_secs(1),
        &cache,
    )
    .unwrap_err();
    assert_eq!(
        late.to_string(),
        "Signature expired: 20261124T103000Z is now earlier than 20261124T103001Z (20261124T104501Z - 15 min.)"
    );
    assert_eq!(late.code(ErrorFlavor::Query), "SignatureDoesNotMatch");
    assert_eq!(late.code(ErrorFlavor::Json), "InvalidSignatureException");
    let early = verify(
        &req,
        SECRET,
        t0() - fifteen - Duration::from_secs(1),
        &cache,
    )
    .unwrap_err();
    assert_eq!(
        early.to_string(),
        "Signature not yet current: 20261124T103000Z is still later than 20261124T102959Z (20261124T101459Z + 15 min.)"
    );
}

#[test]
fn presigned_url_verifies_until_it_expires() {
    let mut req = request(
        "GET",
        "http://sts.localhost/?Action=GetCallerIdentity&Version=2011-06-15",
        &[("host", "sts.localhost")],
        b"",
    );
    Signer {
        presign: Some(Duration::from_secs(3600)),
        token: Some("tok/en+="),
        ..Signer::default()
    }
    .sign(&mut req);
    assert!(req.uri().query().unwrap().contains("X-Amz-Signature="));
    assert!(req.headers().get("authorization").is_none());
    let cache = SigningKeyCache::default();
    let v = verify(&req, SECRET, t0() + Duration::from_secs(3600), &cache).unwrap();
    assert_eq!(v.kind(), AuthKind::Presigned);
    assert_eq!(v.security_token(), Some("tok/en+="));
    let err = verify(&req, SECRET, t0() + Duration::from_secs(3601), &cache).unwrap_err();
    assert_eq!(err, SigV4Error::RequestExpired);
    assert_eq!(err.code(ErrorFlavor::Query), "RequestExpired");
    // Dated in the future beyond the skew.
    let err = verify(&req, SECRET, t0() - Duration::from_secs(901), &cache).unwrap_err();
    assert!(
        matches!(err, SigV4Error::SignatureNotYetCurrent { .. }),
        "{err:?}"
    );
    verify(&req, SECRET, t0() - Duration::from_secs(900), &cache).unwrap();
}

#[test]
fn presigned_unsigned_payload_verifies_only_without_body() {
    let mut req = request(
        "GET",
        "http://sts.localhost/?Action=GetCallerIdentity&Version=2011-06-15",
        &[("host", "sts.localhost")],
        b"",
    );
    Signer {
        presign: Some(Duration::from_secs(60)),
        unsigned_payload: true,
        ..Signer::default()
    }
    .sign(&mut req);
    let cache = SigningKeyCache::default();
    verify(&req, SECRET, t0(), &cache).unwrap();
    let mut with_body = req.clone();
    *with_body.body_mut() = b"Action=AssumeRole".to_vec();
    assert_eq!(
        verify(&with_body, SECRET, t0(), &cache),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
}

#[test]
fn presigned_query_and_authorization_header_together_are_refused() {
    let mut req = request(
        "GET",
        "http://sts.localhost/?Action=GetCallerIdentity&Version=2011-06-15",
        &[("host", "sts.localhost")],
        b"",
    );
    Signer {
        presign: Some(Duration::from_secs(60)),
        ..Signer::default()
    }
    .sign(&mut req);
    req.headers_mut()
        .insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    let err = verify(&req, SECRET, t0(), &SigningKeyCache::default()).unwrap_err();
    assert_eq!(err.code(ErrorFlavor::Query), "IncompleteSignature");
    assert!(
        err.to_string()
            .starts_with("Only one auth mechanism allowed"),
        "{err}"
    );
}

fn path_segment() -> impl Strategy<Value = String> {
    // Printable ASCII that http::Uri accepts in a path, pre-encoded by the
    // strategy below where needed.
    proptest::string::string_regex("[A-Za-z0-9._~!$'()*,;=:@ %+-]{0,8}").unwrap()
}

fn enc(s: &str) -> String {
    // Encode like an SDK would before putting text in a URL.
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~éü€]{0,12}").unwrap()
}

prop_compose! {
    fn random_request()(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        segments in prop::collection::vec(path_segment(), 0..4),
        query in prop::collection::vec((text(), text()), 0..5),
        header_values in prop::collection::vec("[ -~]{0,20}", 0..3),
        body in prop::collection::vec(any::<u8>(), 0..64),
        service in prop::sample::select(vec!["sts", "iam", "kms"]),
        presign in any::<bool>(),
    ) -> (http::Request<Vec<u8>>, &'static str, bool) {
        let path: String = segments.iter().map(|s| format!("/{}", enc(s))).collect();
        let mut uri = format!("http://{service}.localhost{path}");
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
            uri.push('?');
            uri.push_str(&q.join("&"));
        }
        let mut req = request(method, &uri, &[("host", &format!("{service}.localhost"))], &body);
        for (i, v) in header_values.iter().enumerate() {
            req.headers_mut().append(http::HeaderName::try_from(format!("x-test-{i}")).unwrap(), v.parse().unwrap());
            // A repeated header: values are joined with commas.
            req.headers_mut().append("x-multi", v.parse().unwrap());
        }
        (req, service, presign && body.is_empty())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aws_sigv4_signatures_verify((mut req, service, presign) in random_request()) {
        Signer {
            service,
            presign: presign.then(|| Duration::from_secs(300)),
            ..Signer::default()
        }
        .sign(&mut req);
        let cache = SigningKeyCache::default();
        let verified = verify(&req, SECRET, t0(), &cache);
        prop_assert!(verified.is_ok(), "{:?} for {} {}", verified, req.method(), req.uri());
        prop_assert_eq!(verify(&req, "wrong", t0(), &cache), Err(SigV4Error::SignatureDoesNotMatch));
        if !presign {
            let mut tampered = req.clone();
            tampered.body_mut().push(b'x');
            prop_assert_eq!(verify(&tampered, SECRET, t0(), &cache), Err(SigV4Error::SignatureDoesNotMatch));
        }
    }
}
