//! Finds and parses the signature of a request: presigned query parameters
//! or the `Authorization` header. No key is needed here, so the server can
//! look the access key up between `parse` and `verify`.

use http::request::Parts;

use crate::canonical::{decode_component, query_components};
use crate::constants::{
    ALGORITHM, AUTHORIZATION, DATE, HOST, MAX_PRESIGNED_EXPIRES_SECS, MIN_PRESIGNED_EXPIRES_SECS,
    PARAM_CREDENTIAL, PARAM_SIGNATURE, PARAM_SIGNED_HEADERS, Q_ALGORITHM, Q_CREDENTIAL, Q_DATE,
    Q_EXPIRES, Q_SECURITY_TOKEN, Q_SIGNATURE, Q_SIGNED_HEADERS, SCOPE_TERMINATOR, X_AMZ_DATE,
    X_AMZ_SECURITY_TOKEN,
};
use crate::error::{SigV4Error, quoted};
use crate::time::{parse_amz_date, parse_http_date};

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    Header,
    /// `?X-Amz-Algorithm=...&X-Amz-Credential=...&X-Amz-Signature=...`.
    Presigned,
}

/// The authentication claims of a request, parsed but not yet verified.
///
/// Nothing here is trustworthy until [`SignedRequest::verify`] succeeds;
/// the server reads [`access_key_id`](Self::access_key_id) only to look up
/// the secret, and [`region`](Self::region) / [`service`](Self::service) to
/// reject a scope it does not serve.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub(crate) kind: AuthKind,
    pub(crate) access_key_id: String,
    pub(crate) scope_date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) signed_headers: Vec<String>,
    pub(crate) signature: String,
    pub(crate) amz_date: String,
    pub(crate) request_time: i64,
    pub(crate) expires: Option<i64>,
    pub(crate) security_token: Option<String>,
}

impl std::fmt::Debug for SignedRequest {
    // The session token is a credential: it never reaches a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field("expires", &self.expires)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl SignedRequest {
    /// Where the signature was found.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }
    /// The access key id named in the credential.
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
    /// The date of the credential scope, `YYYYMMDD`.
    pub fn scope_date(&self) -> &str {
        &self.scope_date
    }
    /// The signed header names, lowercase, in the order the request lists them.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }
    /// The request time as signed, `YYYYMMDDTHHMMSSZ`.
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }
    /// The request time.
    pub fn request_time(&self) -> std::time::SystemTime {
        crate::time::system_time(self.request_time)
    }
    /// `X-Amz-Expires` of a presigned request, in seconds.
    pub fn expires_secs(&self) -> Option<i64> {
        self.expires
    }
    /// The session token of temporary credentials (`X-Amz-Security-Token`).
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// Refuses a request that carries the header `name` (lowercase) without signing it:
    /// a header that selects the operation or decides how its input is read must be
    /// covered by the signature, or whoever relays the request could swap it. `display` is
    /// the header's name as the error spells it (`X-Amz-Target`).
    pub fn require_signed(
        &self,
        parts: &Parts,
        name: &str,
        display: &'static str,
    ) -> Result<(), SigV4Error> {
        if parts.headers.contains_key(name) && !self.signed_headers.iter().any(|h| h == name) {
            return Err(SigV4Error::unsigned_header(display));
        }
        Ok(())
    }
}

/// Finds the signature of a request and parses it.
///
/// Errors: [`SigV4Error::MissingAuthenticationToken`] when the request is
/// not signed, [`SigV4Error::IncompleteSignature`] when parts are missing or
/// malformed, [`SigV4Error::CredentialScope`] for a wrong terminator, a scope
/// date that differs from the request date, or a malformed region.
pub fn parse(parts: &Parts) -> Result<SignedRequest, SigV4Error> {
    let authorization = parts.headers.get(AUTHORIZATION);
    // Presigned query parameters are looked at first, as AWS does: they are
    // an explicit claim inside the signed URL itself, while an Authorization
    // header may have been added by something else on the path (a proxy, a
    // browser's basic auth). Looking at the query first means a request
    // carrying both is always seen and refused, never silently verified
    // against whichever form happened to be checked.
    if let Some(query) = parts.uri.query()
        && let Some(presigned) = PresignedParams::collect(query)
    {
        if authorization.is_some() {
            // S3 documents this answer (code InvalidArgument, 400); Rampart
            // answers it as an incomplete signature, the 400 its services model.
            return Err(SigV4Error::incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be specified",
            ));
        }
        return presigned.parse();
    }
    match authorization {
        Some(value) => parse_header(parts, value.as_bytes()),
        None => Err(SigV4Error::MissingAuthenticationToken),
    }
}

#[derive(Default)]
struct PresignedParams {
    algorithm: Option<String>,
    credential: Option<String>,
    date: Option<String>,
    expires: Option<String>,
    signed_headers: Option<String>,
    signature: Option<String>,
    security_token: Option<String>,
}

impl PresignedParams {
    /// The auth parameters of a query string, or `None` when it carries none.
    fn collect(query: &str) -> Option<Self> {
        let mut p = Self::default();
        for (name, value) in query_components(query) {
            let slot = match &*decode_component(name) {
                n if n == Q_ALGORITHM.as_bytes() => &mut p.algorithm,
                n if n == Q_CREDENTIAL.as_bytes() => &mut p.credential,
                n if n == Q_DATE.as_bytes() => &mut p.date,
                n if n == Q_EXPIRES.as_bytes() => &mut p.expires,
                n if n == Q_SIGNED_HEADERS.as_bytes() => &mut p.signed_headers,
                n if n == Q_SIGNATURE.as_bytes() => &mut p.signature,
                n if n == Q_SECURITY_TOKEN.as_bytes() => &mut p.security_token,
                _ => continue,
            };
            // The first occurrence counts; every occurrence is in the
            // canonical query string, so a duplicate cannot be swapped in.
            if slot.is_none() {
                *slot = Some(String::from_utf8_lossy(&decode_component(value)).into_owned());
            }
        }
        let claims_presigned =
            p.algorithm.is_some() || p.credential.is_some() || p.signature.is_some();
        claims_presigned.then_some(p)
    }

    fn parse(self) -> Result<SignedRequest, SigV4Error> {
        let mut missing = String::new();
        for (name, value) in [
            (Q_ALGORITHM, &self.algorithm),
            (Q_CREDENTIAL, &self.credential),
            (Q_SIGNATURE, &self.signature),
            (Q_SIGNED_HEADERS, &self.signed_headers),
            (Q_DATE, &self.date),
        ] {
            if value.is_none() {
                missing.push_str(&format!(
                    "AWS query-string parameters must include '{name}'. "
                ));
            }
        }
        let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) = (
            self.algorithm,
            self.credential,
            self.signature,
            self.signed_headers,
            self.date,
        ) else {
            missing.push_str("Re-examine the query-string parameters.");
            return Err(SigV4Error::incomplete(missing));
        };
        if algorithm != ALGORITHM {
            return Err(unsupported_algorithm(&algorithm));
        }
        let request_time = parse_request_date(&date)?;
        // Without X-Amz-Expires a query-signed request is an ordinary signed
        // request (AWS's Query services list no X-Amz-Expires among their
        // common parameters): it gets the same ±15 minute window as a header.
        let expires = self.expires.as_deref().map(parse_expires).transpose()?;
        let (access_key_id, scope_date, region, service) = parse_credential(&credential, &date)?;
        Ok(SignedRequest {
            kind: AuthKind::Presigned,
            access_key_id,
            scope_date,
            region,
            service,
            signed_headers: parse_signed_headers(&signed_headers)?,
            signature,
            amz_date: date,
            request_time,
            expires,
            security_token: self.security_token,
        })
    }
}

fn parse_expires(value: &str) -> Result<i64, SigV4Error> {
    let secs: i64 = value
        .parse()
        .map_err(|_| SigV4Error::incomplete("X-Amz-Expires should be a number"))?;
    if secs < 0 {
        return Err(SigV4Error::incomplete("X-Amz-Expires must be non-negative"));
    }
    if secs < MIN_PRESIGNED_EXPIRES_SECS {
        return Err(SigV4Error::incomplete(
            "X-Amz-Expires must be at least 1 second",
        ));
    }
    if secs > MAX_PRESIGNED_EXPIRES_SECS {
        return Err(SigV4Error::incomplete(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    Ok(secs)
}

fn parse_header(parts: &Parts, raw: &[u8]) -> Result<SignedRequest, SigV4Error> {
    let header = String::from_utf8_lossy(raw);
    let header = header.trim();
    let (algorithm, params) = header.split_once(' ').unwrap_or((header, ""));

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // Only an AWS4 header has parameters to read; for any other scheme
    // (Basic, Bearer, a bare token) AWS reports every parameter as missing.
    if algorithm == ALGORITHM {
        // AWS splits on commas and whitespace alike: a stray space inside a
        // value shows up as a token without '='.
        for token in params
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
        {
            let Some((key, value)) = token.split_once('=') else {
                return Err(SigV4Error::incomplete(format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                    quoted(token),
                    quoted(header)
                )));
            };
            let slot = match key {
                PARAM_CREDENTIAL => &mut credential,
                PARAM_SIGNED_HEADERS => &mut signed_headers,
                PARAM_SIGNATURE => &mut signature,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
    }

    let date = header_date(parts)?;
    let mut missing = String::new();
    for (name, value) in [
        (PARAM_CREDENTIAL, credential),
        (PARAM_SIGNATURE, signature),
        (PARAM_SIGNED_HEADERS, signed_headers),
    ] {
        if value.is_none() {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some((amz_date, request_time))) =
        (credential, signature, signed_headers, date)
    else {
        missing.push_str(&format!("Authorization={}", quoted(header)));
        return Err(SigV4Error::incomplete(missing));
    };
    let (access_key_id, scope_date, region, service) = parse_credential(credential, &amz_date)?;
    let security_token = parts
        .headers
        .get(X_AMZ_SECURITY_TOKEN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Ok(SignedRequest {
        kind: AuthKind::Header,
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: parse_signed_headers(signed_headers)?,
        signature: signature.to_owned(),
        amz_date,
        request_time,
        expires: None,
        security_token,
    })
}

/// The request time of a header-signed request: `X-Amz-Date`, else `Date`
/// (ISO 8601 basic or an HTTP date), normalized to ISO 8601 basic since that
/// is what the string to sign holds.
fn header_date(parts: &Parts) -> Result<Option<(String, i64)>, SigV4Error> {
    if let Some(v) = parts.headers.get(X_AMZ_DATE) {
        let s = String::from_utf8_lossy(v.as_bytes());
        return parse_request_date(&s).map(|t| Some((s.into_owned(), t)));
    }
    let Some(v) = parts.headers.get(DATE) else {
        return Ok(None);
    };
    let s = String::from_utf8_lossy(v.as_bytes());
    if let Some(t) = parse_http_date(&s) {
        return Ok(Some((crate::time::format_amz_date(t), t)));
    }
    parse_request_date(&s).map(|t| Some((s.into_owned(), t)))
}

fn parse_request_date(s: &str) -> Result<i64, SigV4Error> {
    parse_amz_date(s).ok_or_else(|| {
        SigV4Error::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            quoted(s)
        ))
    })
}

fn unsupported_algorithm(algorithm: &str) -> SigV4Error {
    SigV4Error::incomplete(format!(
        "Unsupported AWS 'algorithm': '{}'",
        quoted(algorithm)
    ))
}

fn is_scope_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Splits `AKID/YYYYMMDD/region/service/aws4_request` and checks the scope
/// against the request date.
fn parse_credential(
    credential: &str,
    amz_date: &str,
) -> Result<(String, String, String, String), SigV4Error> {
    let malformed = || {
        SigV4Error::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            quoted(credential)
        ))
    };
    let mut it = credential.split('/');
    let (Some(akid), Some(date), Some(region), Some(service), Some(terminator), None) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Err(malformed());
    };
    if akid.is_empty() || date.is_empty() || !is_scope_name(service) {
        return Err(malformed());
    }
    if terminator != SCOPE_TERMINATOR {
        return Err(SigV4Error::CredentialScope {
            message: format!(
                "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not '{}'. ",
                quoted(terminator)
            ),
        });
    }
    let request_day = amz_date.get(..8).unwrap_or(amz_date);
    if date != request_day {
        return Err(SigV4Error::CredentialScope {
            message: format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_day}', from '{amz_date}'.",
                quoted(date)
            ),
        });
    }
    if !is_scope_name(region) {
        return Err(SigV4Error::wrong_region(region));
    }
    Ok((
        akid.to_owned(),
        date.to_owned(),
        region.to_owned(),
        service.to_owned(),
    ))
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = list.split(';').map(str::to_ascii_lowercase).collect();
    // Without the host the signature would not bind the request to this
    // endpoint; AWS refuses such a signature outright.
    if !names.iter().any(|n| n == HOST || n == ":authority") {
        return Err(SigV4Error::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}
