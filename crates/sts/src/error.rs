//! STS's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_iam::IamError;
use rampart_service::AwsError;
use rampart_store::StoreError;

/// An STS operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum StsError {
    /// The caller may not do this (e.g. root assuming a role, a wrong MFA code).
    #[error("{0}")]
    AccessDenied(String),
    /// A parameter's value is not acceptable.
    #[error("{0}")]
    Validation(String),
    /// A session policy is not valid.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// Session policies and tags are too large.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// The encoded authorization message cannot be decoded.
    #[error("{0}")]
    InvalidAuthorizationMessage(String),
    /// The web identity token or SAML assertion is not valid (signature, audience, issuer,
    /// form).
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// The web identity token or SAML assertion has expired.
    #[error("{0}")]
    ExpiredToken(String),
    /// The identity provider's token or assertion carries a claim STS refuses.
    #[error("{0}")]
    IdpRejectedClaim(String),
    /// The identity provider's keys could not be obtained.
    #[error("{0}")]
    IdpCommunicationError(String),
    /// An IAM lookup failed.
    #[error(transparent)]
    Iam(#[from] IamError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<StsError> for AwsError {
    fn from(e: StsError) -> Self {
        let (code, status) = match &e {
            StsError::AccessDenied(_) => ("AccessDenied", 403),
            StsError::Validation(_) => ("ValidationError", 400),
            StsError::MalformedPolicyDocument(_) => ("MalformedPolicyDocument", 400),
            StsError::PackedPolicyTooLarge(_) => ("PackedPolicyTooLarge", 400),
            StsError::InvalidAuthorizationMessage(_) => {
                ("InvalidAuthorizationMessageException", 400)
            }
            StsError::InvalidIdentityToken(_) => ("InvalidIdentityToken", 400),
            StsError::ExpiredToken(_) => ("ExpiredTokenException", 400),
            StsError::IdpRejectedClaim(_) => ("IDPRejectedClaim", 403),
            StsError::IdpCommunicationError(_) => ("IDPCommunicationError", 400),
            StsError::Iam(_) | StsError::Store(_) => {
                tracing::error!(error = %e, "STS could not read IAM state");
                return AwsError::new(
                    "InternalFailure",
                    500,
                    "The request processing has failed because of an unknown error.",
                );
            }
        };
        AwsError::new(code, status, e.to_string())
    }
}
