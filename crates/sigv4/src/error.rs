//! AWS's authentication errors, with the codes of both protocol families.
//!
//! CAUTION: the codes, statuses and messages are what SDKs and users see on
//! the wire; changing one changes Rampart's observable behaviour.

/// Which protocol family names the error: AWS's Query services (STS, IAM)
/// and JSON services (KMS, Secrets Manager, ...) use different codes for the
/// same failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFlavor {
    /// awsQuery: `<ErrorResponse><Error><Code>`.
    Query,
    /// awsJson1.0/1.1: `"__type"`.
    Json,
}

/// Why a request failed authentication. `Display` is AWS's message.
///
/// Messages never contain a secret, a derived key, the expected signature,
/// the canonical request or the string to sign (AWS returns the last two for
/// some services; Rampart does not, since they help forge signatures).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The signature's parts are missing or malformed; the message says which.
    #[error("{message}")]
    IncompleteSignature {
        /// AWS's wording of what is missing.
        message: String,
    },

    /// The access key id is unknown. The server raises it after `parse`,
    /// when it cannot find the key.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,

    /// The signature does not verify (wrong secret, tampered request, or an
    /// `x-amz-content-sha256` that does not match the body).
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,

    /// The credential scope is wrong: terminator, date, region or service.
    #[error("{message}")]
    CredentialScope {
        /// AWS's wording, e.g. `Credential should be scoped to a valid region, not 'x'. `
        message: String,
    },

    /// A header-signed request (or one signed in the query without
    /// `X-Amz-Expires`) is more than 15 minutes older than the server's clock.
    #[error("Signature expired: {signed} is now earlier than {earliest} ({now} - 15 min.)")]
    SignatureExpired {
        /// Request time, `YYYYMMDDTHHMMSSZ`.
        signed: String,
        /// Earliest accepted request time.
        earliest: String,
        /// Server time.
        now: String,
    },

    /// The request time is more than 15 minutes after the server's clock.
    #[error("Signature not yet current: {signed} is still later than {latest} ({now} + 15 min.)")]
    SignatureNotYetCurrent {
        /// Request time, `YYYYMMDDTHHMMSSZ`.
        signed: String,
        /// Latest accepted request time.
        latest: String,
        /// Server time.
        now: String,
    },

    /// A presigned URL is past `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired.")]
    RequestExpired,

    /// The request carries a header that decides which operation runs or how its input is
    /// read (`X-Amz-Target`, `Content-Type`), but the signature does not cover it: whoever
    /// relays the request could change it. Worded as AWS words the same refusal for `Host`.
    #[error("'{header}' must be a 'SignedHeader' in the AWS Authorization.")]
    UnsignedHeader {
        /// The header's name as AWS spells it, e.g. `X-Amz-Target`.
        header: &'static str,
    },
}

impl SigV4Error {
    /// AWS's error code in the given protocol family.
    pub fn code(&self, flavor: ErrorFlavor) -> &'static str {
        match (self, flavor) {
            (Self::MissingAuthenticationToken, ErrorFlavor::Query) => "MissingAuthenticationToken",
            (Self::MissingAuthenticationToken, ErrorFlavor::Json) => {
                "MissingAuthenticationTokenException"
            }
            (Self::IncompleteSignature { .. }, ErrorFlavor::Query) => "IncompleteSignature",
            (Self::IncompleteSignature { .. }, ErrorFlavor::Json) => "IncompleteSignatureException",
            (Self::InvalidClientTokenId, ErrorFlavor::Query) => "InvalidClientTokenId",
            (Self::InvalidClientTokenId, ErrorFlavor::Json) => "UnrecognizedClientException",
            // AWS answers clock and scope failures with the signature error code
            // (STS: "SignatureDoesNotMatch: Signature expired: ...";
            // KMS/DynamoDB: "InvalidSignatureException: Signature expired: ...").
            // AWS answers a `Host` left out of SignedHeaders with the signature error code
            // (`InvalidSignatureException: 'Host' must be a 'SignedHeader' ...`); so does
            // Rampart for every header it requires signed.
            (
                Self::SignatureDoesNotMatch
                | Self::CredentialScope { .. }
                | Self::SignatureExpired { .. }
                | Self::SignatureNotYetCurrent { .. }
                | Self::UnsignedHeader { .. },
                ErrorFlavor::Query,
            ) => "SignatureDoesNotMatch",
            (
                Self::SignatureDoesNotMatch
                | Self::CredentialScope { .. }
                | Self::SignatureExpired { .. }
                | Self::SignatureNotYetCurrent { .. }
                | Self::UnsignedHeader { .. },
                ErrorFlavor::Json,
            ) => "InvalidSignatureException",
            // AWS's common errors list RequestExpired for both families.
            (Self::RequestExpired, ErrorFlavor::Query | ErrorFlavor::Json) => "RequestExpired",
        }
    }

    /// HTTP status AWS answers with in the given protocol family.
    ///
    /// Query services answer authentication failures with 403 and malformed
    /// signatures with 400; JSON services answer 400 for all of them.
    pub fn http_status(&self, flavor: ErrorFlavor) -> u16 {
        match (self, flavor) {
            (Self::IncompleteSignature { .. } | Self::RequestExpired, _) => 400,
            (_, ErrorFlavor::Json) => 400,
            (
                Self::MissingAuthenticationToken
                | Self::InvalidClientTokenId
                | Self::SignatureDoesNotMatch
                | Self::CredentialScope { .. }
                | Self::SignatureExpired { .. }
                | Self::SignatureNotYetCurrent { .. }
                | Self::UnsignedHeader { .. },
                ErrorFlavor::Query,
            ) => 403,
        }
    }

    /// The server's answer when the credential names a region it does not serve.
    pub fn wrong_region(region: &str) -> Self {
        // AWS's message ends with a space; kept for fidelity.
        Self::CredentialScope {
            message: format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                quoted(region)
            ),
        }
    }

    /// The server's answer when the credential names another service.
    pub fn wrong_service(expected: &str) -> Self {
        Self::CredentialScope {
            message: format!("Credential should be scoped to correct service: '{expected}'. "),
        }
    }

    /// The server's answer when `header` is on the request but not in its SignedHeaders.
    pub fn unsigned_header(header: &'static str) -> Self {
        Self::UnsignedHeader { header }
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::IncompleteSignature {
            message: message.into(),
        }
    }
}

/// The longest part of a request value (the `Authorization` header, a date, a credential, a
/// region) that an error message quotes, in bytes. AWS quotes the whole value; a prefix keeps
/// its wording while bounding what a request can make its answer and audit event carry.
pub const MAX_QUOTED_BYTES: usize = 256;

/// `value`, or its first [`MAX_QUOTED_BYTES`] bytes (cut at a character boundary) followed by
/// `...` when it is longer.
pub(crate) fn quoted(value: &str) -> std::borrow::Cow<'_, str> {
    if value.len() <= MAX_QUOTED_BYTES {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut end = MAX_QUOTED_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}...", value.get(..end).unwrap_or_default()))
}
