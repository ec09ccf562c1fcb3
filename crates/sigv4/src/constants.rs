//! Protocol strings of Signature Version 4, named once.
//!
//! Header names are lowercase because `http` stores them that way; query
//! parameter names keep AWS's spelling because query names are case-sensitive.

/// The only algorithm Rampart accepts (SigV4A, `AWS4-ECDSA-P256-SHA256`, is not served).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Last element of every credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";
/// Prefix of the secret when deriving `kDate`.
pub const SECRET_PREFIX: &str = "AWS4";

/// Header carrying header-based authentication.
pub const AUTHORIZATION: &str = "authorization";
/// Request time, ISO 8601 basic format (`20261124T103000Z`).
pub const X_AMZ_DATE: &str = "x-amz-date";
/// Fallback request time when `x-amz-date` is absent.
pub const DATE: &str = "date";
/// Host header; always part of the signature.
pub const HOST: &str = "host";
/// Session token of temporary credentials (header form).
pub const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
/// Hex SHA-256 of the payload, or `UNSIGNED-PAYLOAD` (header form).
pub const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";

/// Authorization header parameter: `AKID/date/region/service/aws4_request`.
pub const PARAM_CREDENTIAL: &str = "Credential";
/// Authorization header parameter: `host;x-amz-date;...`.
pub const PARAM_SIGNED_HEADERS: &str = "SignedHeaders";
/// Authorization header parameter: hex HMAC-SHA256.
pub const PARAM_SIGNATURE: &str = "Signature";

/// Presigned query parameter: the algorithm.
pub const Q_ALGORITHM: &str = "X-Amz-Algorithm";
/// Presigned query parameter: the credential scope.
pub const Q_CREDENTIAL: &str = "X-Amz-Credential";
/// Presigned query parameter: the request time.
pub const Q_DATE: &str = "X-Amz-Date";
/// Presigned query parameter: validity in seconds from `X-Amz-Date`.
pub const Q_EXPIRES: &str = "X-Amz-Expires";
/// Presigned query parameter: the signed header names.
pub const Q_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
/// Presigned query parameter: the signature; excluded from the canonical query string.
pub const Q_SIGNATURE: &str = "X-Amz-Signature";
/// Presigned query parameter: session token of temporary credentials.
pub const Q_SECURITY_TOKEN: &str = "X-Amz-Security-Token";
/// Presigned query parameter: payload hash (S3-style presigners send it).
pub const Q_CONTENT_SHA256: &str = "X-Amz-Content-Sha256";

/// Payload hash placeholder for a payload that is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Service name whose canonical URI is neither normalized nor encoded twice.
pub const SERVICE_S3: &str = "s3";

/// Allowed difference between the request time and the server's clock, both ways.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;
/// Smallest `X-Amz-Expires`.
pub const MIN_PRESIGNED_EXPIRES_SECS: i64 = 1;
/// Largest `X-Amz-Expires`: seven days, the lifetime of a derived signing key.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 604_800;
