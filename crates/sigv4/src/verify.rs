//! Verification of a parsed signature: clock, payload hash, canonical
//! request, string to sign, signature.

use std::time::SystemTime;

use http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::cache::{SigningKeyCache, hmac_sha256};
use crate::canonical::canonical_request_head;
use crate::constants::{
    ALGORITHM, EMPTY_SHA256, MAX_CLOCK_SKEW_SECS, Q_CONTENT_SHA256, SCOPE_TERMINATOR,
    UNSIGNED_PAYLOAD, X_AMZ_CONTENT_SHA256,
};
use crate::error::SigV4Error;
use crate::parse::{AuthKind, SignedRequest};
use crate::time::{format_amz_date, system_time, unix_seconds};

/// A request whose signature verified: what the later steps (authorize,
/// audit) need to know about the caller.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    access_key_id: String,
    region: String,
    service: String,
    security_token: Option<String>,
    request_time: i64,
    kind: AuthKind,
}

impl std::fmt::Debug for VerifiedRequest {
    // The session token is a credential: it never reaches a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedRequest")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("request_time", &self.request_time)
            .field("kind", &self.kind)
            .finish()
    }
}

impl VerifiedRequest {
    /// The access key id that signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }
    /// The session token sent with temporary credentials; the server must
    /// still check that it belongs to the access key.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
    /// The signed request time (`X-Amz-Date`).
    pub fn request_time(&self) -> SystemTime {
        system_time(self.request_time)
    }
    /// Where the signature was found.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }
}

/// Room for a typical canonical request (a presigned URL with a session token runs to about
/// 1 KiB) and its string to sign, so neither buffer grows while it is written.
const CANONICAL_REQUEST_CAPACITY: usize = 1024;
const STRING_TO_SIGN_CAPACITY: usize = 160;

fn sha256_hex(data: &[u8]) -> String {
    if data.is_empty() {
        return EMPTY_SHA256.to_owned();
    }
    hex::encode(Sha256::digest(data))
}

impl SignedRequest {
    /// Verifies the signature against the request and its secret.
    ///
    /// `now` is the server's clock; `cache` holds derived signing keys.
    /// Checks, in order: the request time (±15 minutes for a header
    /// signature; `X-Amz-Date ..= X-Amz-Date + X-Amz-Expires` for a presigned
    /// URL, which may also not be dated more than 15 minutes ahead), the
    /// payload hash, then the signature in constant time.
    pub fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        secret_access_key: &[u8],
        now: SystemTime,
        cache: &SigningKeyCache,
    ) -> Result<VerifiedRequest, SigV4Error> {
        self.check_clock(unix_seconds(now))?;

        let candidates = self.payload_hashes(parts, body)?;
        let Ok(provided) = hex::decode(&self.signature) else {
            return Err(SigV4Error::SignatureDoesNotMatch);
        };
        let key = cache.signing_key(
            &self.access_key_id,
            secret_access_key,
            &self.scope_date,
            &self.region,
            &self.service,
        );
        let presigned = self.kind == AuthKind::Presigned;
        // One buffer for everything hashed: the canonical request's head is built once, then
        // each candidate payload hash is appended to it in turn; the string to sign reuses a
        // second buffer.
        let mut creq = String::with_capacity(CANONICAL_REQUEST_CAPACITY);
        canonical_request_head(
            parts,
            &self.service,
            &self.signed_headers,
            presigned,
            &mut creq,
        );
        let head_len = creq.len();
        let mut string_to_sign = String::with_capacity(STRING_TO_SIGN_CAPACITY);
        let mut matched = false;
        for payload_hash in candidates.iter().flatten() {
            creq.truncate(head_len);
            creq.push_str(payload_hash);
            string_to_sign.clear();
            self.string_to_sign(&creq, &mut string_to_sign);
            let expected = hmac_sha256(&key, string_to_sign.as_bytes());
            // Constant time: the comparison must not tell a forger how many
            // leading bytes were right. Lengths are public (always 32).
            matched |= bool::from(expected.as_slice().ct_eq(provided.as_slice()));
        }
        if !matched {
            return Err(SigV4Error::SignatureDoesNotMatch);
        }
        Ok(VerifiedRequest {
            access_key_id: self.access_key_id.clone(),
            region: self.region.clone(),
            service: self.service.clone(),
            security_token: self.security_token.clone(),
            request_time: self.request_time,
            kind: self.kind,
        })
    }

    /// Appends the string to sign for `canonical_request` to `out`.
    fn string_to_sign(&self, canonical_request: &str, out: &mut String) {
        out.push_str(ALGORITHM);
        out.push('\n');
        out.push_str(&self.amz_date);
        out.push('\n');
        out.push_str(&self.scope_date);
        out.push('/');
        out.push_str(&self.region);
        out.push('/');
        out.push_str(&self.service);
        out.push('/');
        out.push_str(SCOPE_TERMINATOR);
        out.push('\n');
        let mut hex = [0u8; 64];
        let digest = Sha256::digest(canonical_request.as_bytes());
        // Hex of a digest is ASCII, so this never fails.
        if hex::encode_to_slice(digest, &mut hex).is_ok()
            && let Ok(hex) = std::str::from_utf8(&hex)
        {
            out.push_str(hex);
        }
    }

    fn check_clock(&self, now: i64) -> Result<(), SigV4Error> {
        let signed = self.request_time;
        if signed.saturating_sub(now) > MAX_CLOCK_SKEW_SECS {
            return Err(SigV4Error::SignatureNotYetCurrent {
                signed: self.amz_date.clone(),
                latest: format_amz_date(now.saturating_add(MAX_CLOCK_SKEW_SECS)),
                now: format_amz_date(now),
            });
        }
        match self.expires {
            Some(expires) if now > signed.saturating_add(expires) => {
                Err(SigV4Error::RequestExpired)
            }
            Some(_) => Ok(()),
            None if now.saturating_sub(signed) > MAX_CLOCK_SKEW_SECS => {
                Err(SigV4Error::SignatureExpired {
                    signed: self.amz_date.clone(),
                    earliest: format_amz_date(now.saturating_sub(MAX_CLOCK_SKEW_SECS)),
                    now: format_amz_date(now),
                })
            }
            None => Ok(()),
        }
    }

    /// The payload hashes the signer may have used (at most two).
    ///
    /// * A declared hash (`x-amz-content-sha256` header, or the
    ///   `X-Amz-Content-Sha256` query parameter of a presigned URL) is what
    ///   was signed; unless it is `UNSIGNED-PAYLOAD` it must equal the body's
    ///   hash, or the body was changed after signing.
    /// * Otherwise a header signature covers the body's SHA-256.
    /// * Otherwise a presigned URL covers the body's SHA-256 (botocore and
    ///   aws-sigv4 hash the empty body for STS presigned URLs), or
    ///   `UNSIGNED-PAYLOAD` (S3-style presigners).
    ///
    /// `UNSIGNED-PAYLOAD` is accepted only with an empty body: Rampart's
    /// services read their parameters from the body, so an unsigned body
    /// would let anyone holding a signed request change what it asks for.
    fn payload_hashes(
        &self,
        parts: &Parts,
        body: &[u8],
    ) -> Result<[Option<String>; 2], SigV4Error> {
        let declared = parts
            .headers
            .get(X_AMZ_CONTENT_SHA256)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .or_else(|| {
                if self.kind == AuthKind::Presigned {
                    query_value(parts, Q_CONTENT_SHA256)
                } else {
                    None
                }
            });
        let body_hash = sha256_hex(body);
        match declared {
            Some(d) if d == UNSIGNED_PAYLOAD => {
                if body.is_empty() {
                    Ok([Some(d), None])
                } else {
                    Err(SigV4Error::SignatureDoesNotMatch)
                }
            }
            Some(d) => {
                if bool::from(d.as_bytes().ct_eq(body_hash.as_bytes())) {
                    Ok([Some(d), None])
                } else {
                    Err(SigV4Error::SignatureDoesNotMatch)
                }
            }
            None if self.kind == AuthKind::Presigned && body.is_empty() => {
                Ok([Some(body_hash), Some(UNSIGNED_PAYLOAD.to_owned())])
            }
            None => Ok([Some(body_hash), None]),
        }
    }
}

fn query_value(parts: &Parts, name: &str) -> Option<String> {
    let query = parts.uri.query()?;
    crate::canonical::query_components(query)
        .find(|(n, _)| *crate::canonical::decode_component(n) == *name.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(&crate::canonical::decode_component(v)).into_owned())
}
