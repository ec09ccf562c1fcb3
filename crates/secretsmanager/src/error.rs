//! Secrets Manager's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_store::StoreError;

/// What AWS answers for a secret it cannot find, whatever names it.
pub(crate) const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";
/// What AWS answers for an operation on a secret scheduled for deletion.
pub(crate) const MARKED_FOR_DELETION: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";

/// A Secrets Manager operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No such secret, version or label.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A parameter is not valid for this request.
    #[error("{0}")]
    InvalidParameter(String),
    /// The request is not valid for the secret's state (scheduled for deletion, …).
    #[error("{0}")]
    InvalidRequest(String),
    /// The secret or version exists already.
    #[error("{0}")]
    ResourceExists(String),
    /// A quota is reached.
    #[error("{0}")]
    LimitExceeded(String),
    /// A resource policy that is not valid.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// A resource policy that grants public access, refused by `BlockPublicPolicy`.
    #[error("{0}")]
    PublicPolicy(String),
    /// KMS could not encrypt the value.
    #[error("{0}")]
    EncryptionFailure(String),
    /// KMS could not decrypt the value.
    #[error("{0}")]
    DecryptionFailure(String),
    /// KMS refused the caller.
    #[error("{0}")]
    AccessDenied(String),
    /// A pagination token Rampart never issued.
    #[error("{0}")]
    InvalidNextToken(String),
    /// Another error KMS answered, passed on as it came.
    #[error("{}", .0.message)]
    Kms(AwsError),
    /// The failure of one of Secrets Manager's own operations called through the spine
    /// (BatchGetSecretValue's GetSecretValue), passed on as it came.
    #[error("{}", .0.message)]
    Call(AwsError),
    /// Something AWS does that Rampart does not.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl SecretsError {
    /// The secret is not there (or not the caller's to know of).
    pub(crate) fn not_found() -> Self {
        Self::ResourceNotFound(NOT_FOUND.to_owned())
    }

    /// The secret is scheduled for deletion.
    pub(crate) fn marked_for_deletion() -> Self {
        Self::InvalidRequest(MARKED_FOR_DELETION.to_owned())
    }
}

impl From<SecretsError> for AwsError {
    fn from(e: SecretsError) -> Self {
        let code = match &e {
            SecretsError::ResourceNotFound(_) => "ResourceNotFoundException",
            SecretsError::InvalidParameter(_) => "InvalidParameterException",
            SecretsError::InvalidRequest(_) => "InvalidRequestException",
            SecretsError::ResourceExists(_) => "ResourceExistsException",
            SecretsError::LimitExceeded(_) => "LimitExceededException",
            SecretsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            SecretsError::PublicPolicy(_) => "PublicPolicyException",
            SecretsError::EncryptionFailure(_) => "EncryptionFailure",
            SecretsError::DecryptionFailure(_) => "DecryptionFailure",
            SecretsError::AccessDenied(_) => "AccessDeniedException",
            SecretsError::InvalidNextToken(_) => "InvalidNextTokenException",
            SecretsError::Kms(error) | SecretsError::Call(error) => return error.clone(),
            SecretsError::NotImplemented(message) => {
                return AwsError::new("NotImplemented", 501, message.clone());
            }
            SecretsError::Store(error) => {
                tracing::error!(error = %error, "secrets manager: store failure");
                return AwsError::new(
                    "InternalServiceError",
                    500,
                    "An error occurred on the server side.",
                );
            }
        };
        AwsError::new(code, 400, e.to_string())
    }
}

impl From<rampart_service::paging::PageError> for SecretsError {
    fn from(e: rampart_service::paging::PageError) -> Self {
        match e {
            rampart_service::paging::PageError::InvalidToken => {
                SecretsError::InvalidNextToken("The NextToken value is invalid.".to_owned())
            }
            rampart_service::paging::PageError::Store(e) => SecretsError::Store(e),
        }
    }
}
