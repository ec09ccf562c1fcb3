//! CloudTrail's errors, one variant per AWS error code, mapped to the wire in one place.

use rampart_service::AwsError;
use rampart_store::StoreError;

/// A CloudTrail operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum CloudTrailError {
    /// No trail of that name or ARN in the caller's account.
    #[error("{0}")]
    TrailNotFound(String),
    /// A trail with that name exists.
    #[error("{0}")]
    TrailAlreadyExists(String),
    /// The trail name breaks CloudTrail's naming rules.
    #[error("{0}")]
    InvalidTrailName(String),
    /// The ARN is not a trail ARN.
    #[error("{0}")]
    ArnInvalid(String),
    /// The bucket name breaks S3's naming rules.
    #[error("{0}")]
    InvalidS3BucketName(String),
    /// The key prefix is not acceptable.
    #[error("{0}")]
    InvalidS3Prefix(String),
    /// The account already has the most trails a region allows.
    #[error("{0}")]
    MaximumNumberOfTrailsExceeded(String),
    /// A parameter's value is not acceptable (or not supported by Rampart yet).
    #[error("{0}")]
    InvalidParameter(String),
    /// Parameters that cannot be given together, or one that needs another.
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// The event selectors are not acceptable.
    #[error("{0}")]
    InvalidEventSelectors(String),
    /// The lookup attributes are not acceptable.
    #[error("{0}")]
    InvalidLookupAttributes(String),
    /// The time range is empty or reversed.
    #[error("{0}")]
    InvalidTimeRange(String),
    /// The pagination token is not one Rampart issued.
    #[error("{0}")]
    InvalidNextToken(String),
    /// Organization trails need AWS Organizations.
    #[error("{0}")]
    OrganizationsNotInUse(String),
    /// `KmsKeyId` is not a key ID, key ARN, alias name or alias ARN.
    #[error("{0}")]
    InvalidKmsKeyId(String),
    /// The KMS key does not exist, or not in the trail's region.
    #[error("{0}")]
    KmsKeyNotFound(String),
    /// The KMS key's policy does not let CloudTrail encrypt with it.
    #[error("{0}")]
    InsufficientEncryptionPolicy(String),
    /// The KMS key cannot encrypt the trail's files (disabled, pending deletion, not a
    /// symmetric encryption key). AWS's KmsKeyDisabledException is "no longer in use".
    #[error("{0}")]
    Kms(String),
    /// No trail has the ARN a tagging call names.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A tag key or value breaks the tag rules.
    #[error("{0}")]
    InvalidTagParameter(String),
    /// The trail would have more tags than AWS allows.
    #[error("{0}")]
    TagsLimitExceeded(String),
    /// A pagination token Rampart never issued.
    #[error("{0}")]
    InvalidToken(String),
    /// The trail has no Insights selectors.
    #[error("{0}")]
    InsightNotEnabled(String),
    /// The Insights selectors are not acceptable.
    #[error("{0}")]
    InvalidInsightSelectors(String),
    /// A change to a trail made outside its home region.
    #[error("{0}")]
    InvalidHomeRegion(String),
    /// The CloudWatch Logs group ARN is malformed, names no group, or the role may not
    /// deliver to it.
    #[error("{0}")]
    InvalidCloudWatchLogsLogGroupArn(String),
    /// The CloudWatch Logs role ARN is malformed, or CloudTrail may not assume the role.
    #[error("{0}")]
    InvalidCloudWatchLogsRoleArn(String),
    /// CloudWatch Logs could not be reached to check the delivery.
    #[error("{0}")]
    CloudWatchLogsDeliveryUnavailable(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl From<CloudTrailError> for AwsError {
    fn from(e: CloudTrailError) -> Self {
        let code = match &e {
            CloudTrailError::TrailNotFound(_) => "TrailNotFoundException",
            CloudTrailError::TrailAlreadyExists(_) => "TrailAlreadyExistsException",
            CloudTrailError::InvalidTrailName(_) => "InvalidTrailNameException",
            CloudTrailError::ArnInvalid(_) => "CloudTrailARNInvalidException",
            CloudTrailError::InvalidS3BucketName(_) => "InvalidS3BucketNameException",
            CloudTrailError::InvalidS3Prefix(_) => "InvalidS3PrefixException",
            CloudTrailError::MaximumNumberOfTrailsExceeded(_) => {
                "MaximumNumberOfTrailsExceededException"
            }
            CloudTrailError::InvalidParameter(_) => "InvalidParameterException",
            CloudTrailError::InvalidParameterCombination(_) => {
                "InvalidParameterCombinationException"
            }
            CloudTrailError::InvalidEventSelectors(_) => "InvalidEventSelectorsException",
            CloudTrailError::InvalidLookupAttributes(_) => "InvalidLookupAttributesException",
            CloudTrailError::InvalidTimeRange(_) => "InvalidTimeRangeException",
            CloudTrailError::InvalidNextToken(_) => "InvalidNextTokenException",
            CloudTrailError::OrganizationsNotInUse(_) => "OrganizationsNotInUseException",
            CloudTrailError::InvalidKmsKeyId(_) => "InvalidKmsKeyIdException",
            CloudTrailError::KmsKeyNotFound(_) => "KmsKeyNotFoundException",
            CloudTrailError::InsufficientEncryptionPolicy(_) => {
                "InsufficientEncryptionPolicyException"
            }
            CloudTrailError::Kms(_) => "KmsException",
            CloudTrailError::ResourceNotFound(_) => "ResourceNotFoundException",
            CloudTrailError::InvalidTagParameter(_) => "InvalidTagParameterException",
            CloudTrailError::TagsLimitExceeded(_) => "TagsLimitExceededException",
            CloudTrailError::InvalidToken(_) => "InvalidTokenException",
            CloudTrailError::InsightNotEnabled(_) => "InsightNotEnabledException",
            CloudTrailError::InvalidInsightSelectors(_) => "InvalidInsightSelectorsException",
            CloudTrailError::InvalidHomeRegion(_) => "InvalidHomeRegionException",
            CloudTrailError::InvalidCloudWatchLogsLogGroupArn(_) => {
                "InvalidCloudWatchLogsLogGroupArnException"
            }
            CloudTrailError::InvalidCloudWatchLogsRoleArn(_) => {
                "InvalidCloudWatchLogsRoleArnException"
            }
            CloudTrailError::CloudWatchLogsDeliveryUnavailable(_) => {
                "CloudWatchLogsDeliveryUnavailableException"
            }
            CloudTrailError::Store(store) => {
                tracing::error!(error = %store, "CloudTrail store failure");
                return AwsError::new(
                    "InternalFailure",
                    500,
                    "The request processing has failed because of an unknown error.",
                );
            }
        };
        AwsError::new(code, 400, e.to_string())
    }
}
