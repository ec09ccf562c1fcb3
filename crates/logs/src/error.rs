//! CloudWatch Logs' errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_service::paging::PageError;
use rampart_store::StoreError;

/// What AWS answers for a log group it cannot find.
pub(crate) const NO_GROUP: &str = "The specified log group does not exist.";
/// What AWS answers for a log stream it cannot find.
pub(crate) const NO_STREAM: &str = "The specified log stream does not exist.";

/// A CloudWatch Logs operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// No such log group, stream or metric filter.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The log group, stream or filter exists already.
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// A parameter is not valid.
    #[error("{0}")]
    InvalidParameter(String),
    /// A quota is reached.
    #[error("{0}")]
    LimitExceeded(String),
    /// Something AWS does that Rampart does not.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
    /// CloudWatch could not store a metric filter's datapoints (its store failed); the
    /// events are not stored either. Details are logged, never returned.
    #[error("metric filter datapoints could not be stored")]
    MetricEmission(AwsError),
}

impl LogsError {
    pub(crate) fn no_group() -> Self {
        Self::ResourceNotFound(NO_GROUP.to_owned())
    }

    pub(crate) fn no_stream() -> Self {
        Self::ResourceNotFound(NO_STREAM.to_owned())
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidParameter(message.into())
    }
}

impl From<LogsError> for AwsError {
    fn from(e: LogsError) -> Self {
        let code = match &e {
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::LimitExceeded(_) => "LimitExceededException",
            LogsError::NotImplemented(message) => {
                return AwsError::new("NotImplemented", 501, message.clone());
            }
            LogsError::MetricEmission(error) => {
                tracing::error!(code = %error.code, error = %error.message, "logs: metric filter datapoints not stored");
                return AwsError::new(
                    "ServiceUnavailableException",
                    500,
                    "The service cannot complete the request.",
                );
            }
            LogsError::Store(error) => {
                tracing::error!(error = %error, "logs: store failure");
                return AwsError::new(
                    "ServiceUnavailableException",
                    500,
                    "The service cannot complete the request.",
                );
            }
        };
        AwsError::new(code, 400, e.to_string())
    }
}

impl From<PageError> for LogsError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => LogsError::invalid("The specified nextToken is invalid."),
            PageError::Store(e) => LogsError::Store(e),
        }
    }
}
