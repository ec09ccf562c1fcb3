//! SNS's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_service::paging::PageError;
use rampart_store::StoreError;

/// What AWS answers for a topic it cannot find.
pub(crate) const NO_TOPIC: &str = "Topic does not exist";

/// An SNS operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum SnsError {
    /// A parameter is not valid (AWS's texts begin `Invalid parameter: `).
    #[error("{0}")]
    InvalidParameter(String),
    /// A parameter's value is not valid (code `ParameterValueInvalid`).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// The caller may not act on the resource (a subscription of another account's).
    #[error("{0}")]
    Authorization(String),
    /// No such topic or subscription.
    #[error("{0}")]
    NotFound(String),
    /// No such resource to tag.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A resource would carry more tags than AWS allows.
    #[error("{0}")]
    TagLimitExceeded(String),
    /// The account has as many topics as AWS allows.
    #[error("{0}")]
    TopicLimitExceeded(String),
    /// A batch is refused as a whole: the code AWS names (`TooManyEntriesInBatchRequest`, …).
    #[error("{1}")]
    Batch(&'static str, String),
    /// Something AWS does that Rampart does not.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl SnsError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidParameter(message.into())
    }

    pub(crate) fn no_topic() -> Self {
        Self::NotFound(NO_TOPIC.to_owned())
    }
}

impl From<SnsError> for AwsError {
    fn from(e: SnsError) -> Self {
        let (code, status) = match &e {
            SnsError::InvalidParameter(_) => ("InvalidParameter", 400),
            SnsError::InvalidParameterValue(_) => ("ParameterValueInvalid", 400),
            SnsError::Authorization(_) => ("AuthorizationError", 403),
            SnsError::NotFound(_) => ("NotFound", 404),
            SnsError::ResourceNotFound(_) => ("ResourceNotFound", 404),
            SnsError::TagLimitExceeded(_) => ("TagLimitExceeded", 400),
            SnsError::TopicLimitExceeded(_) => ("TopicLimitExceeded", 403),
            SnsError::NotImplemented(_) => ("NotImplemented", 501),
            SnsError::Batch(code, _) => (*code, 400),
            SnsError::Store(error) => {
                tracing::error!(error = %error, "sns: store failure");
                return AwsError::new("InternalError", 500, "Internal Error");
            }
        };
        AwsError::new(code, status, e.to_string())
    }
}

impl From<PageError> for SnsError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::InvalidToken => SnsError::invalid("Invalid parameter: NextToken"),
            PageError::Store(e) => SnsError::Store(e),
        }
    }
}
