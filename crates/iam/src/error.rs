//! IAM's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_store::StoreError;

/// An IAM operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// The caller's account is in no organization.
    #[error("{0}")]
    OrganizationNotFound(String),
    /// The organization has only consolidated billing.
    #[error("{0}")]
    OrganizationNotInAllFeaturesMode(String),
    /// Trusted access for IAM is not enabled in the organization.
    #[error("{0}")]
    ServiceAccessNotEnabled(String),
    /// The caller's account neither manages the organization nor administers IAM for it.
    #[error("{0}")]
    AccountNotManagementOrDelegatedAdministrator(String),
    /// Only the management account may do this.
    #[error("{0}")]
    CallerIsNotManagementAccount(String),
    /// The entity does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// An entity with that name already exists.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// The entity still has subordinate entities (keys, policies, members, …).
    #[error("{0}")]
    DeleteConflict(String),
    /// A quota would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The policy document is not valid.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// A parameter's value is not acceptable.
    #[error("{0}")]
    InvalidInput(String),
    /// The request is malformed in a way AWS reports as `ValidationError` (e.g. an OpenID
    /// Connect provider URL without a scheme).
    #[error("{0}")]
    Validation(String),
    /// The password does not satisfy the account password policy.
    #[error("{0}")]
    PasswordPolicyViolation(String),
    /// The MFA codes are wrong.
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    /// The policy cannot be attached (e.g. an AWS managed policy meant for services only).
    #[error("{0}")]
    PolicyNotAttachable(String),
    /// The entity is managed by AWS and cannot be changed.
    #[error("{0}")]
    UnmodifiableEntity(String),
    /// The credential report was never generated.
    #[error("{0}")]
    ReportNotPresent(String),
    /// The credential report is still being generated.
    #[error("{0}")]
    ReportInProgress(String),
    /// The entity is being changed by another request; retry shortly.
    #[error("{0}")]
    EntityTemporarilyUnmodifiable(String),
    /// The operation is not available to this kind of principal (e.g. `ChangePassword` by root).
    #[error("{0}")]
    InvalidUserType(String),
    /// The certificate is not a well-formed X.509 certificate in PEM.
    #[error("{0}")]
    MalformedCertificate(String),
    /// The certificate is well-formed but not acceptable.
    #[error("{0}")]
    InvalidCertificate(String),
    /// The same certificate is already uploaded.
    #[error("{0}")]
    DuplicateCertificate(String),
    /// The private key does not match the certificate's public key.
    #[error("{0}")]
    KeyPairMismatch(String),
    /// The SSH public key is not valid (unsupported type, too short, corrupt).
    #[error("{0}")]
    InvalidPublicKey(String),
    /// The SSH public key is in neither OpenSSH nor PEM format.
    #[error("{0}")]
    UnrecognizedPublicKeyEncoding(String),
    /// The user already has this SSH public key.
    #[error("{0}")]
    DuplicateSshPublicKey(String),
    /// The service does not support service-specific credentials.
    #[error("{0}")]
    NotSupportedService(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl IamError {
    /// `NoSuchEntity` with AWS's usual wording: "The user with name bob cannot be found."
    pub fn no_such(kind: &str, name: &str) -> Self {
        IamError::NoSuchEntity(format!("The {kind} with name {name} cannot be found."))
    }

    /// `EntityAlreadyExists` with AWS's usual wording: "User with name bob already exists."
    pub fn already_exists(kind: &str, name: &str) -> Self {
        IamError::EntityAlreadyExists(format!("{kind} with name {name} already exists."))
    }
}

impl From<IamError> for AwsError {
    fn from(e: IamError) -> Self {
        let (code, status) = match &e {
            IamError::OrganizationNotFound(_) => ("OrganizationNotFoundException", 400),
            IamError::OrganizationNotInAllFeaturesMode(_) => {
                ("OrganizationNotInAllFeaturesModeException", 400)
            }
            IamError::ServiceAccessNotEnabled(_) => ("ServiceAccessNotEnabledException", 400),
            IamError::AccountNotManagementOrDelegatedAdministrator(_) => {
                ("AccountNotManagementOrDelegatedAdministratorException", 400)
            }
            IamError::CallerIsNotManagementAccount(_) => {
                ("CallerIsNotManagementAccountException", 400)
            }
            IamError::NoSuchEntity(_) => ("NoSuchEntity", 404),
            IamError::EntityAlreadyExists(_) => ("EntityAlreadyExists", 409),
            IamError::DeleteConflict(_) => ("DeleteConflict", 409),
            IamError::LimitExceeded(_) => ("LimitExceeded", 409),
            IamError::MalformedPolicyDocument(_) => ("MalformedPolicyDocument", 400),
            IamError::InvalidInput(_) => ("InvalidInput", 400),
            IamError::Validation(_) => ("ValidationError", 400),
            IamError::PasswordPolicyViolation(_) => ("PasswordPolicyViolation", 400),
            IamError::InvalidAuthenticationCode(_) => ("InvalidAuthenticationCode", 403),
            IamError::PolicyNotAttachable(_) => ("PolicyNotAttachable", 400),
            IamError::UnmodifiableEntity(_) => ("UnmodifiableEntity", 400),
            IamError::ReportNotPresent(_) => ("ReportNotPresent", 410),
            IamError::ReportInProgress(_) => ("ReportInProgress", 404),
            IamError::EntityTemporarilyUnmodifiable(_) => ("EntityTemporarilyUnmodifiable", 409),
            IamError::InvalidUserType(_) => ("InvalidUserType", 400),
            IamError::MalformedCertificate(_) => ("MalformedCertificate", 400),
            IamError::InvalidCertificate(_) => ("InvalidCertificate", 400),
            IamError::DuplicateCertificate(_) => ("DuplicateCertificate", 409),
            IamError::KeyPairMismatch(_) => ("KeyPairMismatch", 400),
            IamError::InvalidPublicKey(_) => ("InvalidPublicKey", 400),
            IamError::UnrecognizedPublicKeyEncoding(_) => ("UnrecognizedPublicKeyEncoding", 400),
            IamError::DuplicateSshPublicKey(_) => ("DuplicateSSHPublicKey", 400),
            IamError::NotSupportedService(_) => ("NotSupportedService", 404),
            IamError::Store(store) => {
                tracing::error!(error = %store, "IAM store failure");
                return AwsError::new(
                    "ServiceFailure",
                    500,
                    "The request processing has failed because of an unknown error, exception or failure.",
                );
            }
        };
        AwsError::new(code, status, e.to_string())
    }
}
