//! KMS's errors, one variant per AWS error code, mapped to the wire in one place.
//!
//! Messages never carry key material, plaintext or data keys: only ARNs, names and the
//! caller's own parameters.

use rampart_service::AwsError;
use rampart_store::StoreError;

/// A KMS operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// The key, alias or grant does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The key is disabled.
    #[error("{0}")]
    Disabled(String),
    /// The key's state does not allow the operation (e.g. pending deletion).
    #[error("{0}")]
    InvalidState(String),
    /// The ciphertext is not valid for this key and context (or was tampered with).
    #[error("{0}")]
    InvalidCiphertext(String),
    /// The ciphertext was encrypted under another key than the one named.
    #[error("{0}")]
    IncorrectKey(String),
    /// Imported key material is not acceptable for the key, or is not the material imported
    /// before.
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    /// The import token was not issued for this key by GetParametersForImport.
    #[error("{0}")]
    InvalidImportToken(String),
    /// The import token's 24 hours have passed.
    #[error("{0}")]
    ExpiredImportToken(String),
    /// The key's usage does not allow the operation or the algorithm.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// The signature does not verify.
    #[error("{0}")]
    InvalidSignature(String),
    /// The MAC does not verify.
    #[error("{0}")]
    InvalidMac(String),
    /// An alias with that name exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The alias name is not acceptable.
    #[error("{0}")]
    InvalidAliasName(String),
    /// The ARN is not a KMS ARN.
    #[error("{0}")]
    InvalidArn(String),
    /// The pagination marker is not one Rampart issued.
    #[error("{0}")]
    InvalidMarker(String),
    /// The grant token is not one Rampart issued.
    #[error("{0}")]
    InvalidGrantToken(String),
    /// The grant id does not name a grant of the key.
    #[error("{0}")]
    InvalidGrantId(String),
    /// The key policy is not valid.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// A tag is not acceptable.
    #[error("{0}")]
    Tag(String),
    /// A quota would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The operation is not supported for this key.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// A parameter's value is not acceptable.
    #[error("{0}")]
    Validation(String),
    /// The request rate quota is exceeded; retry later.
    #[error("{0}")]
    Throttling(String),
    /// DryRun was set and the request would have succeeded.
    #[error("{0}")]
    DryRun(String),
    /// Stored key material could not be opened; details are logged, never returned.
    #[error("key material could not be opened")]
    Internal,
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl From<KmsError> for AwsError {
    fn from(e: KmsError) -> Self {
        let (code, status) = match &e {
            KmsError::NotFound(_) => ("NotFoundException", 400),
            KmsError::Disabled(_) => ("DisabledException", 400),
            KmsError::InvalidState(_) => ("KMSInvalidStateException", 400),
            KmsError::InvalidCiphertext(_) => ("InvalidCiphertextException", 400),
            KmsError::IncorrectKey(_) => ("IncorrectKeyException", 400),
            KmsError::IncorrectKeyMaterial(_) => ("IncorrectKeyMaterialException", 400),
            KmsError::InvalidImportToken(_) => ("InvalidImportTokenException", 400),
            KmsError::ExpiredImportToken(_) => ("ExpiredImportTokenException", 400),
            KmsError::InvalidKeyUsage(_) => ("InvalidKeyUsageException", 400),
            KmsError::InvalidSignature(_) => ("KMSInvalidSignatureException", 400),
            KmsError::InvalidMac(_) => ("KMSInvalidMacException", 400),
            KmsError::AlreadyExists(_) => ("AlreadyExistsException", 400),
            KmsError::InvalidAliasName(_) => ("InvalidAliasNameException", 400),
            KmsError::InvalidArn(_) => ("InvalidArnException", 400),
            KmsError::InvalidMarker(_) => ("InvalidMarkerException", 400),
            KmsError::InvalidGrantToken(_) => ("InvalidGrantTokenException", 400),
            KmsError::InvalidGrantId(_) => ("InvalidGrantIdException", 400),
            KmsError::MalformedPolicyDocument(_) => ("MalformedPolicyDocumentException", 400),
            KmsError::Tag(_) => ("TagException", 400),
            KmsError::LimitExceeded(_) => ("LimitExceededException", 400),
            KmsError::UnsupportedOperation(_) => ("UnsupportedOperationException", 400),
            KmsError::Validation(_) => ("ValidationException", 400),
            KmsError::Throttling(_) => ("ThrottlingException", 400),
            KmsError::DryRun(_) => ("DryRunOperationException", 412),
            KmsError::Internal => {
                tracing::error!("KMS key material could not be opened with the root key");
                return AwsError::new(
                    "KMSInternalException",
                    500,
                    "The request processing has failed because of an unknown error, exception or failure.",
                );
            }
            KmsError::Store(store) => {
                tracing::error!(error = %store, "KMS store failure");
                return AwsError::new(
                    "KMSInternalException",
                    500,
                    "The request processing has failed because of an unknown error, exception or failure.",
                );
            }
        };
        AwsError::new(code, status, e.to_string())
    }
}
