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
            (
                Self::SignatureDoesNotMatch
                | Self::CredentialScope { .. }
                | Self::SignatureExpired { .. }
                | Self::SignatureNotYetCurrent { .. },
                ErrorFlavor::Query,
            ) => "SignatureDoesNotMatch",
            (
                Self::SignatureDoesNotMatch
                | Self::CredentialScope { .. }
                | Self::SignatureExpired { .. }
                | Self::SignatureNotYetCurrent { .. },
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
                | Self::SignatureNotYetCurrent { .. },
                ErrorFlavor::Query,
            ) => 403,
        }
    }

    /// The server's answer when the credential names a region it does not serve.
    pub fn wrong_region(region: &str) -> Self {
        // AWS's message ends with a space; kept for fidelity.
        Self::CredentialScope {
            message: format!("Credential should be scoped to a valid region, not '{region}'. "),
        }
    }

    /// The server's answer when the credential names another service.
    pub fn wrong_service(expected: &str) -> Self {
        Self::CredentialScope {
            message: format!("Credential should be scoped to correct service: '{expected}'. "),
        }
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::IncompleteSignature {
            message: message.into(),
        }
    }
}
