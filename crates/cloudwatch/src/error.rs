//! CloudWatch's errors, one variant per AWS error code, mapped to the wire in one place.
//! CloudWatch is `awsQueryCompatible`: these are the Query codes, which JSON and CBOR clients
//! read from `x-amzn-query-error`.

use rampart_service::AwsError;
use rampart_service::paging::PageError;
use rampart_store::StoreError;

/// A CloudWatch operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    /// A parameter's value is not valid (`InvalidParameterValue`).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// Parameters that cannot go together, or one of a pair missing
    /// (`InvalidParameterCombination`).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// A required parameter is missing (`MissingParameter`).
    #[error("{0}")]
    MissingParameter(String),
    /// A value AWS's own request checks refuse (`ValidationError`), beyond the model's.
    #[error("{0}")]
    Validation(String),
    /// GetMetricData's `NextToken` is not one it handed out (`InvalidNextToken`).
    #[error("{0}")]
    InvalidNextToken(String),
    /// The alarm named does not exist (`ResourceNotFound`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The resource an ARN names does not exist (`ResourceNotFoundException`, the tagging
    /// operations' code).
    #[error("{0}")]
    ResourceNotFoundException(String),
    /// A tagging operation's parameter is not valid (`InvalidParameterValueException`).
    #[error("{0}")]
    InvalidParameterValueException(String),
    /// SetAlarmState's `StateReasonData` is not JSON (`InvalidFormat`).
    #[error("{0}")]
    InvalidFormat(String),
    /// A quota is reached (`LimitExceeded`).
    #[error("{0}")]
    LimitExceeded(String),
    /// Something AWS does that Rampart does not.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl CloudWatchError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidParameterValue(message.into())
    }

    pub(crate) fn combination(message: impl Into<String>) -> Self {
        Self::InvalidParameterCombination(message.into())
    }
}

impl From<CloudWatchError> for AwsError {
    fn from(e: CloudWatchError) -> Self {
        let code = match &e {
            CloudWatchError::InvalidParameterValue(_) => "InvalidParameterValue",
            CloudWatchError::InvalidParameterCombination(_) => "InvalidParameterCombination",
            CloudWatchError::MissingParameter(_) => "MissingParameter",
            CloudWatchError::InvalidNextToken(_) => "InvalidNextToken",
            CloudWatchError::Validation(_) => "ValidationError",
            CloudWatchError::InvalidParameterValueException(_) => "InvalidParameterValueException",
            CloudWatchError::InvalidFormat(_) => "InvalidFormat",
            CloudWatchError::LimitExceeded(_) => "LimitExceeded",
            CloudWatchError::ResourceNotFound(message) => {
                return AwsError::new("ResourceNotFound", 404, message.clone());
            }
            CloudWatchError::ResourceNotFoundException(message) => {
                return AwsError::new("ResourceNotFoundException", 404, message.clone());
            }
            CloudWatchError::NotImplemented(message) => {
                return AwsError::new("NotImplemented", 501, message.clone());
            }
            CloudWatchError::Store(error) => {
                tracing::error!(error = %error, "cloudwatch: store failure");
                return AwsError::new(
                    "InternalServiceError",
                    500,
                    "The request processing has failed because of an unknown error, exception or failure.",
                );
            }
        };
        AwsError::new(code, 400, e.to_string())
    }
}

impl From<PageError> for CloudWatchError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => CloudWatchError::invalid("The NextToken is invalid."),
            PageError::Store(e) => CloudWatchError::Store(e),
        }
    }
}
