//! Verifying a web identity token (an OpenID Connect JWT) for `AssumeRoleWithWebIdentity`.
//!
//! The token's issuer (`iss`) must be an IAM OpenID Connect provider of the role's account;
//! its audience (`aud`) one of that provider's client IDs; its signature one of the
//! provider's published keys (JWKS); and it must be within its validity (`exp`, `nbf`, `iat`,
//! with a small leeway for clock skew). What comes out, [`WebIdentity`], names the provider
//! and carries the claims the trust policy sees (`<provider>:aud`, `:sub`, `:amr`).
//!
//! Keys come from a [`JwksSource`]. Rampart assumes no internet access, so the one provided,
//! [`FileOrLoopbackJwks`], reads a JWKS file, or fetches from an issuer on the loopback
//! interface, and refuses anything else.
//!
//! Never log the token: it is a bearer credential.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rampart_iam::oidc_providers::{self, OidcProviderRecord};
use rampart_store::ReadTx;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::StsError;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds: identity providers and
/// Rampart run on different clocks.
const LEEWAY_SECONDS: i64 = 60;

/// How long a loopback JWKS fetch may take; the caller is waiting on it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// The largest JWKS document read, file or HTTP.
const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// The signature algorithms accepted. Symmetric ones (HS256…) are never accepted: a
/// provider's keys are public, so an HMAC "signed" with one would prove nothing.
const ACCEPTED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// A verified web identity: who the provider says the caller is.
#[derive(Debug, Clone, PartialEq)]
pub struct WebIdentity {
    /// The IAM provider's ARN (`arn:aws:iam::<account>:oidc-provider/<url>`): the session's
    /// federated principal, and what trust policies name as `Principal: {"Federated": …}`.
    pub provider_arn: String,
    /// The provider's URL without scheme (`token.example.com/path`): the prefix of the
    /// condition keys (`token.example.com/path:sub`).
    pub provider_url: String,
    /// The token's issuer, as written in `iss`.
    pub issuer: String,
    /// The `sub` claim.
    pub subject: String,
    /// The audience that matched one of the provider's client IDs.
    pub audience: String,
    /// The `amr` claim's values (authentication methods), if any.
    pub amr: Vec<String>,
    /// Every claim of the token, as JSON.
    pub claims: Map<String, Value>,
    /// When the token expires (`exp`).
    pub expires_at: OffsetDateTime,
}

impl WebIdentity {
    /// The condition keys a web identity session request carries for the trust policy, as
    /// AWS names them: `<provider>:aud`, `<provider>:sub`, and `<provider>:amr` when the
    /// token has one. The audience is also `<provider>:oaud` (the original audience).
    pub fn condition_keys(&self) -> Vec<(String, Vec<String>)> {
        let url = &self.provider_url;
        let mut keys = vec![
            (format!("{url}:aud"), vec![self.audience.clone()]),
            (format!("{url}:oaud"), vec![self.audience.clone()]),
            (format!("{url}:sub"), vec![self.subject.clone()]),
        ];
        if !self.amr.is_empty() {
            keys.push((format!("{url}:amr"), self.amr.clone()));
        }
        keys
    }
}

/// Where a provider's signing keys come from.
pub trait JwksSource: Send + Sync {
    /// The JSON Web Key Set of the provider whose issuer URL (with scheme, as in the token's
    /// `iss`, e.g. `http://127.0.0.1:8080/issuer`) is `provider_url`.
    fn jwks(&self, provider_url: &str) -> Result<JwkSet, StsError>;
}

/// Verifies a web identity token for a role of `account_id` at `now`.
///
/// Errors are AWS's: `InvalidIdentityToken` for a token that is malformed, from an issuer
/// with no IAM provider in the account, for another audience, or badly signed;
/// `ExpiredToken` once `exp` has passed; `IDPRejectedClaim` for a token without a subject;
/// `IDPCommunicationError` when the provider's keys cannot be had.
pub fn verify_web_identity(
    tx: &mut dyn ReadTx,
    account_id: &str,
    token: &str,
    now: OffsetDateTime,
    jwks: &dyn JwksSource,
) -> Result<WebIdentity, StsError> {
    let malformed = || {
        StsError::InvalidIdentityToken(
            "The web identity token provided could not be parsed as a JSON Web Token.".into(),
        )
    };
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
    if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
        return Err(StsError::InvalidIdentityToken(format!(
            "Unsupported signing algorithm {:?}: the token must be signed with RS256, RS384, \
             RS512, PS256, PS384, PS512, ES256 or ES384.",
            header.alg
        )));
    }
    // The claims are read unverified only to find which provider's keys verify them; nothing
    // read here is trusted until the signature is checked below.
    let unverified: Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| malformed())?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| StsError::InvalidIdentityToken("Missing a required claim: iss".into()))?
        .to_owned();
    let provider =
        oidc_providers::provider_by_issuer(tx, account_id, &issuer)?.ok_or_else(|| {
            StsError::InvalidIdentityToken(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
    let audience = matching_audience(&unverified, &provider)?;

    let keys = jwks.jwks(&provider.issuer_url())?;
    let claims = verify_signature(token, header.alg, header.kid.as_deref(), &keys)?;

    let expires_at = check_times(&claims, now)?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            StsError::IdpRejectedClaim("The token does not have a subject (sub) claim.".into())
        })?
        .to_owned();
    let amr = match claims.get("amr") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(WebIdentity {
        provider_arn: provider.arn,
        provider_url: provider.url,
        issuer,
        subject,
        audience,
        amr,
        claims,
        expires_at,
    })
}

/// The token's audience that is one of the provider's client IDs. `aud` may be one string
/// or a list; with a list, the first value that is a client ID is the session's audience.
fn matching_audience(
    claims: &Map<String, Value>,
    provider: &OidcProviderRecord,
) -> Result<String, StsError> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    audiences
        .into_iter()
        .find(|aud| provider.client_ids.iter().any(|id| id == aud))
        .map(str::to_owned)
        .ok_or_else(|| StsError::InvalidIdentityToken("Incorrect token audience".into()))
}

/// Whether `jwk` may verify a token signed with `alg`: a signing key (or one that does not
/// say), whose declared algorithm, if any, is `alg`, of the matching key type.
fn key_fits(jwk: &jsonwebtoken::jwk::Jwk, alg: Algorithm) -> bool {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return false;
    }
    if let Some(declared) = jwk.common.key_algorithm
        && key_algorithm_name(declared) != Some(alg)
    {
        return false;
    }
    matches!(
        (&jwk.algorithm, alg),
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512,
        ) | (
            AlgorithmParameters::EllipticCurve(_),
            Algorithm::ES256 | Algorithm::ES384
        )
    )
}

fn key_algorithm_name(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        _ => return None,
    })
}

/// Verifies the signature with the key the header names (`kid`), or with each fitting key
/// when it names none, and returns the claims. Only the signature is checked here: times
/// are checked against the request's clock by [`check_times`].
fn verify_signature(
    token: &str,
    alg: Algorithm,
    kid: Option<&str>,
    keys: &JwkSet,
) -> Result<Map<String, Value>, StsError> {
    let candidates: Vec<_> = keys
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .filter(|k| key_fits(k, alg))
        .collect();
    if candidates.is_empty() {
        return Err(StsError::InvalidIdentityToken(
            "Couldn't find a key in the identity provider's JWKS to verify the token's \
             signature."
                .into(),
        ));
    }
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
            return Ok(data.claims);
        }
    }
    Err(StsError::InvalidIdentityToken(
        "The web identity token's signature could not be verified with the identity \
         provider's keys."
            .into(),
    ))
}

/// A NumericDate claim (seconds since the epoch; JSON number, integer or not).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, StsError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                // A fractional NumericDate is allowed by RFC 7519; whole seconds suffice.
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a finite time in seconds fits i64; saturating is the intent"
                )]
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| invalid_claim(name)),
        Some(_) => Err(invalid_claim(name)),
    }
}

fn invalid_claim(name: &str) -> StsError {
    StsError::InvalidIdentityToken(format!("The {name} claim is not a valid date."))
}

/// Checks `exp` (required), `nbf` and `iat` against `now`, with [`LEEWAY_SECONDS`].
fn check_times(
    claims: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, StsError> {
    let now_s = now.unix_timestamp();
    let exp = numeric_date(claims, "exp")?
        .ok_or_else(|| StsError::InvalidIdentityToken("Missing a required claim: exp".into()))?;
    if now_s >= exp.saturating_add(LEEWAY_SECONDS) {
        // AWS's text, its missing space included.
        return Err(StsError::ExpiredToken(format!(
            "Token expired: current date/time {now_s} must be before the expiration date/time{exp}"
        )));
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now_s < nbf.saturating_sub(LEEWAY_SECONDS)
    {
        return Err(StsError::InvalidIdentityToken(format!(
            "Token not yet valid: current date/time {now_s} is before the not-before date/time {nbf}"
        )));
    }
    if let Some(iat) = numeric_date(claims, "iat")?
        && now_s < iat.saturating_sub(LEEWAY_SECONDS)
    {
        return Err(StsError::InvalidIdentityToken(format!(
            "Token issued in the future: current date/time {now_s} is before the issue date/time {iat}"
        )));
    }
    OffsetDateTime::from_unix_timestamp(exp).map_err(|_| invalid_claim("exp"))
}

/// Keys from a JWKS file when one exists for the provider, else from the issuer itself when
/// it listens on the loopback interface; anything else is refused, since Rampart assumes no
/// internet access.
///
/// Files are `<dir>/<provider URL without scheme, percent-encoded>.json`, e.g.
/// `token.example.com%2Ftenant.json` for `https://token.example.com/tenant`. A loopback
/// issuer is asked for `<issuer>/.well-known/jwks.json`, then for the `jwks_uri` of its
/// `<issuer>/.well-known/openid-configuration` (which must be on the loopback too).
#[derive(Debug, Clone, Default)]
pub struct FileOrLoopbackJwks {
    dir: Option<PathBuf>,
}

impl FileOrLoopbackJwks {
    /// Reads files from `dir` (if any) before asking a loopback issuer.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// Reads files from the directory `RAMPART_JWKS_DIR` names, if it is set.
    pub fn from_env() -> Self {
        Self::new(std::env::var_os("RAMPART_JWKS_DIR").map(PathBuf::from))
    }

    fn read_file(&self, url_without_scheme: &str) -> Result<Option<JwkSet>, StsError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let name = percent_encoding::utf8_percent_encode(url_without_scheme, FILE_NAME_SET);
        let path = dir.join(format!("{name}.json"));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "JWKS file unreadable");
                return Err(communication_error());
            }
        };
        parse_jwks(&bytes).map(Some)
    }
}

/// Everything but RFC 3986's unreserved characters is encoded, so a URL becomes one safe
/// file name (`/` and `:` included).
const FILE_NAME_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn communication_error() -> StsError {
    StsError::IdpCommunicationError(
        "Couldn't retrieve verification key from your identity provider, please reference \
         AssumeRoleWithWebIdentity documentation for requirements"
            .into(),
    )
}

fn parse_jwks(bytes: &[u8]) -> Result<JwkSet, StsError> {
    serde_json::from_slice(bytes).map_err(|_| communication_error())
}

impl JwksSource for FileOrLoopbackJwks {
    fn jwks(&self, provider_url: &str) -> Result<JwkSet, StsError> {
        let without_scheme = provider_url
            .strip_prefix("https://")
            .or_else(|| provider_url.strip_prefix("http://"))
            .unwrap_or(provider_url);
        if let Some(keys) = self.read_file(without_scheme)? {
            return Ok(keys);
        }
        let base = provider_url.trim_end_matches('/');
        match http_get_loopback(&format!("{base}/.well-known/jwks.json"))? {
            Some(body) => parse_jwks(&body),
            None => {
                let config =
                    http_get_loopback(&format!("{base}/.well-known/openid-configuration"))?
                        .ok_or_else(communication_error)?;
                let config: Value =
                    serde_json::from_slice(&config).map_err(|_| communication_error())?;
                let jwks_uri = config
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or_else(communication_error)?;
                let body = http_get_loopback(jwks_uri)?.ok_or_else(communication_error)?;
                parse_jwks(&body)
            }
        }
    }
}

/// GETs `url` if it is plain http on a loopback address: the body, or `None` for a 404.
/// Anything else (another host, https, a failure) is an IDPCommunicationError.
fn http_get_loopback(url: &str) -> Result<Option<Vec<u8>>, StsError> {
    let url = loopback_url(url).ok_or_else(communication_error)?;
    let url = url.as_str();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .http_status_as_error(false)
        // A redirect could lead off the loopback interface.
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| {
        tracing::warn!(url, error = %e, "JWKS fetch failed");
        communication_error()
    })?;
    match response.status().as_u16() {
        200 => response
            .body_mut()
            .with_config()
            .limit(MAX_JWKS_BYTES)
            .read_to_vec()
            .map(Some)
            .map_err(|_| communication_error()),
        404 => Ok(None),
        status => {
            tracing::warn!(url, status, "JWKS fetch refused");
            Err(communication_error())
        }
    }
}

/// `url` as it is to be fetched, if it is plain http to the loopback interface: a loopback
/// address (127.0.0.0/8, `::1`, or `::ffff:127.0.0.0/104`) or `localhost`, with no user info.
///
/// The URL is read by a real URL parser and the fetch is of its serialized form, so the host
/// checked is the host connected to: a check of the text before an `@` while the client
/// connects to the host after it (`http://127.0.0.1:1@0.0.0.0:4899/`) cannot happen. What
/// parsers read differently is refused outright: user info, any `@`, white space and control
/// characters.
fn loopback_url(url: &str) -> Option<url::Url> {
    if url.contains('@') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let parsed = url::Url::parse(url).ok()?;
    let loopback = match parsed.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    let plain = parsed.scheme() == "http" && parsed.username().is_empty();
    (loopback && plain && parsed.password().is_none()).then_some(parsed)
}

#[cfg(test)]
#[path = "web_identity_tests.rs"]
mod tests;
