//! Tests of web identity verification: tokens signed here with freshly generated RSA and EC
//! keys, verified against the JWKS that publishes them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::io::{Read, Write};
use std::net::TcpListener;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RsaKeyPair,
};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;
use crate::provider_testing::{ACCOUNT, ProviderStore};

const ISSUER: &str = "https://idp.example.com/tenant";
const AUDIENCE: &str = "sts.amazonaws.com";

fn b64url(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

/// An RSA key made for the test: its signing key for jsonwebtoken and its public JWK.
struct RsaTestKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl RsaTestKey {
    fn generate(kid: &str) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap();
        let signing = RsaKeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = signing.public_key();
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64url(public.modulus().big_endian_without_leading_zero()),
            "e": b64url(public.exponent().big_endian_without_leading_zero()),
        });
        Self {
            encoding: EncodingKey::from_rsa_der(&pkcs1_of(pkcs8.as_ref())),
            jwk,
        }
    }
}

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo, which is what jsonwebtoken's
/// RSA signer reads: the OCTET STRING after the fixed rsaEncryption AlgorithmIdentifier.
fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    const ALG_ID: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let at = pkcs8
        .windows(ALG_ID.len())
        .position(|w| w == ALG_ID)
        .unwrap()
        + ALG_ID.len();
    let rest = &pkcs8[at..];
    assert_eq!(rest[0], 0x04, "an OCTET STRING");
    let (len, header) = match rest[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(rest[2]), 3),
        0x82 => ((usize::from(rest[2]) << 8) | usize::from(rest[3]), 4),
        other => panic!("unexpected length form {other:#x}"),
    };
    rest[header..header + len].to_vec()
}

struct EcTestKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl EcTestKey {
    fn generate(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        // An uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid,
            "x": b64url(&point[1..33]), "y": b64url(&point[33..65]),
        });
        Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }
}

/// A JWKS served from memory.
struct StaticJwks(Value);

impl JwksSource for StaticJwks {
    fn jwks(&self, provider_url: &str) -> Result<JwkSet, StsError> {
        assert_eq!(provider_url, ISSUER);
        Ok(serde_json::from_value(self.0.clone()).unwrap())
    }
}

fn jwks(keys: &[&Value]) -> StaticJwks {
    StaticJwks(json!({ "keys": keys }))
}

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-24 12:00:00 UTC)
}

fn claims(overrides: Value) -> Value {
    let now = now().unix_timestamp();
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "repo:acme/app:ref:refs/heads/main",
        "iat": now - 10, "nbf": now - 10, "exp": now + 600, "amr": ["pwd", "mfa"],
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn store_with_provider(client_ids: &[&str]) -> ProviderStore {
    let store = ProviderStore::new();
    store
        .iam(
            "CreateOpenIDConnectProvider",
            json!({ "Url": ISSUER, "ClientIDList": client_ids }),
        )
        .unwrap();
    store
}

fn verify(
    store: &ProviderStore,
    token: &str,
    source: &dyn JwksSource,
) -> Result<WebIdentity, StsError> {
    store.read(|tx| verify_web_identity(tx, ACCOUNT, token, now(), source))
}

#[test]
fn an_rs256_token_from_a_known_provider_is_a_web_identity() {
    let store = store_with_provider(&["other-client", AUDIENCE]);
    let key = RsaTestKey::generate("k1");
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &key.encoding,
        &claims(json!({})),
    );
    let identity = verify(&store, &token, &jwks(&[&key.jwk])).unwrap();
    assert_eq!(
        identity.provider_arn,
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com/tenant")
    );
    assert_eq!(identity.provider_url, "idp.example.com/tenant");
    assert_eq!(identity.subject, "repo:acme/app:ref:refs/heads/main");
    assert_eq!(identity.audience, AUDIENCE);
    assert_eq!(identity.amr, ["pwd", "mfa"]);
    assert_eq!(
        identity.expires_at.unix_timestamp(),
        now().unix_timestamp() + 600
    );
    let keys = identity.condition_keys();
    assert!(keys.contains(&(
        "idp.example.com/tenant:sub".into(),
        vec!["repo:acme/app:ref:refs/heads/main".into()]
    )));
    assert!(keys.contains(&("idp.example.com/tenant:aud".into(), vec![AUDIENCE.into()])));
}

#[test]
fn an_es256_token_without_kid_is_verified_by_any_fitting_key() {
    let store = store_with_provider(&[AUDIENCE]);
    let rsa = RsaTestKey::generate("r");
    let ec = EcTestKey::generate("e");
    let token = sign(Algorithm::ES256, None, &ec.encoding, &claims(json!({})));
    let identity = verify(&store, &token, &jwks(&[&rsa.jwk, &ec.jwk])).unwrap();
    assert_eq!(identity.subject, "repo:acme/app:ref:refs/heads/main");
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let store = store_with_provider(&[AUDIENCE]);
    let published = RsaTestKey::generate("k1");
    let attacker = RsaTestKey::generate("k1");
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &attacker.encoding,
        &claims(json!({})),
    );
    let err = verify(&store, &token, &jwks(&[&published.jwk])).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}");
}

#[test]
fn a_changed_claim_breaks_the_signature() {
    let store = store_with_provider(&[AUDIENCE]);
    let key = RsaTestKey::generate("k1");
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &key.encoding,
        &claims(json!({})),
    );
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = claims(json!({ "sub": "admin" }));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    let err = verify(&store, &forged, &jwks(&[&key.jwk])).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}");
}

#[test]
fn hmac_tokens_are_refused_whatever_the_key() {
    let store = store_with_provider(&[AUDIENCE]);
    let key = RsaTestKey::generate("k1");
    // The classic confusion: an HS256 token "signed" with public material.
    let token = sign(
        Algorithm::HS256,
        Some("k1"),
        &EncodingKey::from_secret(key.jwk["n"].as_str().unwrap().as_bytes()),
        &claims(json!({})),
    );
    let err = verify(&store, &token, &jwks(&[&key.jwk])).unwrap_err();
    assert!(
        matches!(&err, StsError::InvalidIdentityToken(m) if m.contains("Unsupported signing algorithm")),
        "{err:?}"
    );
}

#[test]
fn the_audience_must_be_a_client_id_of_the_provider() {
    let store = store_with_provider(&["my-app"]);
    let key = RsaTestKey::generate("k1");
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &key.encoding,
        &claims(json!({})),
    );
    let err = verify(&store, &token, &jwks(&[&key.jwk])).unwrap_err();
    assert!(
        matches!(&err, StsError::InvalidIdentityToken(m) if m == "Incorrect token audience"),
        "{err:?}"
    );
    // A list of audiences passes when one of them is a client ID.
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &key.encoding,
        &claims(json!({ "aud": ["x", "my-app"] })),
    );
    assert_eq!(
        verify(&store, &token, &jwks(&[&key.jwk])).unwrap().audience,
        "my-app"
    );
}

#[test]
fn an_unknown_issuer_is_refused_with_aws_text() {
    let store = store_with_provider(&[AUDIENCE]);
    let key = RsaTestKey::generate("k1");
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &key.encoding,
        &claims(json!({ "iss": "https://elsewhere.example.com" })),
    );
    let err = verify(&store, &token, &jwks(&[&key.jwk])).unwrap_err();
    assert!(
        matches!(&err, StsError::InvalidIdentityToken(m) if m == "No OpenIDConnect provider found in your account for https://elsewhere.example.com"),
        "{err:?}"
    );
}

#[test]
fn times_are_checked_with_a_small_leeway() {
    let store = store_with_provider(&[AUDIENCE]);
    let key = RsaTestKey::generate("k1");
    let source = jwks(&[&key.jwk]);
    let at = now().unix_timestamp();
    let with = |overrides: Value| {
        let token = sign(
            Algorithm::RS256,
            Some("k1"),
            &key.encoding,
            &claims(overrides),
        );
        verify(&store, &token, &source)
    };
    assert!(matches!(
        with(json!({ "exp": at - 3600 })),
        Err(StsError::ExpiredToken(m)) if m.starts_with("Token expired: current date/time")
    ));
    // Within the leeway, a just-expired token still passes.
    assert!(with(json!({ "exp": at - 5 })).is_ok());
    assert!(matches!(
        with(json!({ "nbf": at + 3600 })),
        Err(StsError::InvalidIdentityToken(_))
    ));
    assert!(matches!(
        with(json!({ "iat": at + 3600 })),
        Err(StsError::InvalidIdentityToken(_))
    ));
    assert!(matches!(
        with(json!({ "exp": null })),
        Err(StsError::InvalidIdentityToken(_))
    ));
    assert!(matches!(
        with(json!({ "sub": null })),
        Err(StsError::IdpRejectedClaim(_))
    ));
}

#[test]
fn garbage_is_not_a_token() {
    let store = store_with_provider(&[AUDIENCE]);
    let err = verify(&store, "not.a.jwt", &jwks(&[])).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)));
}

#[test]
fn jwks_files_are_named_by_the_url_without_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let key = RsaTestKey::generate("k1");
    std::fs::write(
        dir.path().join("idp.example.com%2Ftenant.json"),
        json!({ "keys": [key.jwk] }).to_string(),
    )
    .unwrap();
    let source = FileOrLoopbackJwks::new(Some(dir.path().to_path_buf()));
    let set = source.jwks(ISSUER).unwrap();
    assert_eq!(set.keys.len(), 1);
    // No file and not on the loopback: refused without going out.
    let err = source.jwks("https://other.example.com").unwrap_err();
    assert!(matches!(err, StsError::IdpCommunicationError(_)), "{err:?}");
    let err = source.jwks("http://192.0.2.1/x").unwrap_err();
    assert!(matches!(err, StsError::IdpCommunicationError(_)), "{err:?}");
}

/// Serves `responses` (path → body) on a loopback port, one connection each, in order.
fn serve(responses: Vec<(&'static str, Option<String>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (path, body) in responses {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let n = conn.read(&mut request).unwrap();
            let request = String::from_utf8_lossy(&request[..n]);
            assert!(request.starts_with(&format!("GET {path} ")), "{request}");
            let reply = match body {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            conn.write_all(reply.as_bytes()).unwrap();
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_loopback_issuer_is_asked_for_its_keys() {
    let key = RsaTestKey::generate("k1");
    let keys = json!({ "keys": [key.jwk] }).to_string();
    let base = serve(vec![("/issuer/.well-known/jwks.json", Some(keys.clone()))]);
    let set = FileOrLoopbackJwks::new(None)
        .jwks(&format!("{base}/issuer"))
        .unwrap();
    assert_eq!(set.keys.len(), 1);

    // Neither jwks.json nor a discovery document: the provider cannot be reached.
    let base = serve(vec![
        ("/.well-known/jwks.json", None),
        ("/.well-known/openid-configuration", None),
    ]);
    let err = FileOrLoopbackJwks::new(None).jwks(&base).unwrap_err();
    assert!(matches!(err, StsError::IdpCommunicationError(_)));
}

#[test]
fn discovery_leads_to_the_keys() {
    let key = EcTestKey::generate("e");
    let keys = json!({ "keys": [key.jwk] }).to_string();
    // No jwks.json: the discovery document's jwks_uri (on the same loopback server) is used.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = json!({ "jwks_uri": format!("http://{addr}/keys") }).to_string();
    std::thread::spawn(move || {
        for body in [None, Some(config), Some(keys)] {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let _ = conn.read(&mut request).unwrap();
            let reply = match body {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            conn.write_all(reply.as_bytes()).unwrap();
        }
    });
    let set = FileOrLoopbackJwks::new(None)
        .jwks(&format!("http://{addr}"))
        .unwrap();
    assert_eq!(set.keys.len(), 1);
}

#[test]
fn only_plain_http_to_the_loopback_interface_is_fetched() {
    let allowed = [
        ("http://127.0.0.1:8080/keys", "http://127.0.0.1:8080/keys"),
        ("http://127.3.2.1/keys", "http://127.3.2.1/keys"),
        ("http://localhost:9000/", "http://localhost:9000/"),
        ("http://LOCALHOST/x", "http://localhost/x"),
        ("http://[::1]:8080/keys", "http://[::1]:8080/keys"),
        ("http://[0:0:0:0:0:0:0:1]/keys", "http://[::1]/keys"),
        (
            "http://[::ffff:127.0.0.1]/keys",
            "http://[::ffff:7f00:1]/keys",
        ),
        // Other spellings of 127.0.0.1 are fetched as 127.0.0.1.
        ("http://0x7f.0.0.1/keys", "http://127.0.0.1/keys"),
        ("http://2130706433/keys", "http://127.0.0.1/keys"),
        // A backslash ends the host for an http URL: what is fetched says so.
        ("http://127.0.0.1\\0.0.0.0/k", "http://127.0.0.1/0.0.0.0/k"),
    ];
    for (url, fetched) in allowed {
        let parsed = loopback_url(url).unwrap_or_else(|| panic!("{url} refused"));
        assert_eq!(parsed.as_str(), fetched, "{url}");
    }
    let refused = [
        // User info: the host checked must be the host connected to, and there is no user.
        "http://127.0.0.1:1@0.0.0.0:4899/keys",
        "http://127.0.0.1@evil.example/keys",
        "http://user@127.0.0.1/keys",
        "http://user:pw@localhost/keys",
        "http://@127.0.0.1/keys",
        "http://evil.example#@127.0.0.1/keys",
        "http://evil.example?@127.0.0.1/keys",
        // Not the loopback interface.
        "http://0.0.0.0:4899/keys",
        "http://[::]:4899/keys",
        "http://192.0.2.1/keys",
        "http://[::ffff:192.0.2.1]/keys",
        "http://localhost.example.com/keys",
        "http://127.0.0.1.nip.io/keys",
        "http://localhost./keys",
        // Not plain http, or not a URL the parsers agree on.
        "https://127.0.0.1/keys",
        "file:///etc/passwd",
        "http://127.0.0.1\t@0.0.0.0/keys",
        "http://127.0.0.1\n/keys",
        "127.0.0.1/keys",
        "",
    ];
    for url in refused {
        assert!(loopback_url(url).is_none(), "{url:?} accepted");
    }
}

#[test]
fn a_jwks_uri_with_user_info_is_not_followed_off_the_loopback() {
    // The attack: a discovery document on the loopback names, after an `@`, another host on
    // which keys are served. 0.0.0.0 reaches this machine, so a listener there shows whether
    // Rampart connected.
    let elsewhere = TcpListener::bind("0.0.0.0:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let port = elsewhere.local_addr().unwrap().port();
    let config = json!({ "jwks_uri": format!("http://127.0.0.1:1@0.0.0.0:{port}/keys") });
    let base = serve(vec![
        ("/.well-known/jwks.json", None),
        (
            "/.well-known/openid-configuration",
            Some(config.to_string()),
        ),
    ]);
    let err = FileOrLoopbackJwks::new(None).jwks(&base).unwrap_err();
    assert!(matches!(err, StsError::IdpCommunicationError(_)), "{err:?}");
    // The fetch is synchronous: had it connected, the connection would be waiting.
    let connected = elsewhere.accept();
    assert!(
        matches!(&connected, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "Rampart connected to {:?}",
        connected.map(|(_, peer)| peer)
    );
}
