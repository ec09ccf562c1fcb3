//! Parameter Store's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_store::StoreError;

/// What AWS answers for an existing parameter put without `Overwrite`.
pub(crate) const ALREADY_EXISTS: &str = "The parameter already exists. To overwrite this value, \
     set the overwrite option in the request to true.";

/// A Parameter Store operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    /// The request breaks a rule the API model cannot express.
    #[error("{0}")]
    Validation(String),
    /// No such parameter (AWS answers it without a message).
    #[error("parameter not found")]
    ParameterNotFound,
    /// The parameter exists and the request did not ask to overwrite it.
    #[error("{ALREADY_EXISTS}")]
    ParameterAlreadyExists,
    /// The parameter has no such version.
    #[error("{0}")]
    ParameterVersionNotFound(String),
    /// A version would carry more than ten labels.
    #[error("{0}")]
    ParameterVersionLabelLimitExceeded(String),
    /// The oldest of 100 versions carries a label, so no new version can be made.
    #[error("{0}")]
    ParameterMaxVersionLimitExceeded(String),
    /// The account's quota of parameters of a tier is reached.
    #[error("{0}")]
    ParameterLimitExceeded(String),
    /// The name has more than fifteen levels.
    #[error("{0}")]
    HierarchyLevelLimitExceeded(String),
    /// An overwrite changes the parameter's type.
    #[error("{0}")]
    HierarchyTypeMismatch(String),
    /// `AllowedPattern` is not a regular expression Parameter Store accepts.
    #[error("{0}")]
    InvalidAllowedPattern(String),
    /// The value does not match the parameter's `AllowedPattern`.
    #[error("{0}")]
    ParameterPatternMismatch(String),
    /// The type cannot be used with the request's data type.
    #[error("{0}")]
    UnsupportedParameterType(String),
    /// KMS could not use the key (it does not exist, is disabled, …): KMS's own error inside.
    #[error("{0}")]
    InvalidKeyId(String),
    /// Access denied: a reserved name, or KMS refusing the caller (its error inside).
    #[error("{0}")]
    AccessDenied(String),
    /// More than ten parameter policies.
    #[error("{0}")]
    PoliciesLimitExceeded(String),
    /// A parameter policy of a type Parameter Store does not have.
    #[error("{0}")]
    InvalidPolicyType(String),
    /// A parameter policy's attribute is missing or not valid.
    #[error("{0}")]
    InvalidPolicyAttribute(String),
    /// Parameter policies that contradict each other.
    #[error("{0}")]
    IncompatiblePolicy(String),
    /// A filter key that is not valid here.
    #[error("{0}")]
    InvalidFilterKey(String),
    /// A filter option that is not valid for its key.
    #[error("{0}")]
    InvalidFilterOption(String),
    /// A filter value that is missing or not valid.
    #[error("{0}")]
    InvalidFilterValue(String),
    /// A pagination token Rampart never issued.
    #[error("{0}")]
    InvalidNextToken(String),
    /// No resource of that type has that ID.
    #[error("invalid resource id")]
    InvalidResourceId,
    /// The resource type cannot be tagged this way.
    #[error("invalid resource type")]
    InvalidResourceType,
    /// The resource would carry more tags than its quota.
    #[error("too many tags")]
    TooManyTags,
    /// No such service setting.
    #[error("{0}")]
    ServiceSettingNotFound(String),
    /// Another error KMS answered, passed on as Parameter Store passes it (throttling).
    #[error("{}", .0.message)]
    Kms(AwsError),
    /// Something AWS does that Rampart does not.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl From<SsmError> for AwsError {
    fn from(e: SsmError) -> Self {
        let code = match &e {
            SsmError::Validation(_) => "ValidationException",
            SsmError::ParameterNotFound => "ParameterNotFound",
            SsmError::ParameterAlreadyExists => "ParameterAlreadyExists",
            SsmError::ParameterVersionNotFound(_) => "ParameterVersionNotFound",
            SsmError::ParameterVersionLabelLimitExceeded(_) => "ParameterVersionLabelLimitExceeded",
            SsmError::ParameterMaxVersionLimitExceeded(_) => "ParameterMaxVersionLimitExceeded",
            SsmError::ParameterLimitExceeded(_) => "ParameterLimitExceeded",
            SsmError::HierarchyLevelLimitExceeded(_) => "HierarchyLevelLimitExceededException",
            SsmError::HierarchyTypeMismatch(_) => "HierarchyTypeMismatchException",
            SsmError::InvalidAllowedPattern(_) => "InvalidAllowedPatternException",
            SsmError::ParameterPatternMismatch(_) => "ParameterPatternMismatchException",
            SsmError::UnsupportedParameterType(_) => "UnsupportedParameterType",
            SsmError::InvalidKeyId(_) => "InvalidKeyId",
            SsmError::AccessDenied(_) => "AccessDeniedException",
            SsmError::PoliciesLimitExceeded(_) => "PoliciesLimitExceededException",
            SsmError::InvalidPolicyType(_) => "InvalidPolicyTypeException",
            SsmError::InvalidPolicyAttribute(_) => "InvalidPolicyAttributeException",
            SsmError::IncompatiblePolicy(_) => "IncompatiblePolicyException",
            SsmError::InvalidFilterKey(_) => "InvalidFilterKey",
            SsmError::InvalidFilterOption(_) => "InvalidFilterOption",
            SsmError::InvalidFilterValue(_) => "InvalidFilterValue",
            SsmError::InvalidNextToken(_) => "InvalidNextToken",
            SsmError::InvalidResourceId => "InvalidResourceId",
            SsmError::InvalidResourceType => "InvalidResourceType",
            SsmError::TooManyTags => "TooManyTagsError",
            SsmError::ServiceSettingNotFound(_) => "ServiceSettingNotFound",
            SsmError::Kms(error) => return error.clone(),
            SsmError::NotImplemented(message) => {
                return AwsError::new("NotImplemented", 501, message.clone());
            }
            SsmError::Store(error) => {
                tracing::error!(error = %error, "parameter store: store failure");
                return AwsError::new(
                    "InternalServerError",
                    500,
                    "An error occurred on the server side.",
                );
            }
        };
        let message = match e {
            SsmError::ParameterNotFound
            | SsmError::InvalidResourceId
            | SsmError::InvalidResourceType
            | SsmError::TooManyTags => String::new(),
            other => other.to_string(),
        };
        AwsError::new(code, 400, message)
    }
}

impl From<rampart_service::paging::PageError> for SsmError {
    fn from(e: rampart_service::paging::PageError) -> Self {
        match e {
            rampart_service::paging::PageError::InvalidToken => {
                SsmError::InvalidNextToken("The specified token isn't valid.".to_owned())
            }
            rampart_service::paging::PageError::Store(e) => SsmError::Store(e),
        }
    }
}
