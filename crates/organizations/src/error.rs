//! Organizations' errors, one variant per AWS error code, mapped to the wire in one place.
//!
//! Messages are the sentences AWS's API reference gives for each exception (and, where a
//! real response has been quoted publicly, that response's text).

use rampart_service::AwsError;
use rampart_store::StoreError;

/// Why a limit stops an operation: `ConstraintViolationException`'s `Reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// More policies of one type on one target than AWS allows.
    MaxPolicyTypeAttachments,
    /// Detaching the last SCP of a target.
    MinPolicyTypeAttachments,
    /// A policy document over the size limit.
    PolicyContentLimit,
    /// More policies of one type in the organization than AWS allows.
    PolicyNumberLimit,
    /// An OU deeper than five levels below the root.
    OuDepthLimit,
    /// More OUs than AWS allows.
    OuNumberLimit,
    /// More accounts than the organization's quota.
    AccountNumberLimit,
    /// Closing the management account.
    CannotCloseManagementAccount,
    /// Closing more accounts within 30 days than AWS allows.
    CloseAccountQuota,
    /// More tags than a resource may have.
    MaxTagLimit,
    /// Trusted access in an organization without all features.
    AllFeaturesRequired,
    /// Registering the management account as a delegated administrator.
    CannotRegisterManagementAsDelegatedAdministrator,
    /// Registering a closed account as a delegated administrator.
    CannotRegisterSuspendedAsDelegatedAdministrator,
    /// Registering a delegated administrator for a service without trusted access.
    ServiceAccessNotEnabled,
    /// Removing an account that is a delegated administrator.
    CannotRemoveDelegatedAdministrator,
}

impl Constraint {
    fn reason_and_message(self) -> (&'static str, &'static str) {
        match self {
            Constraint::MaxPolicyTypeAttachments => (
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to exceed the number of policies of a certain type that can be attached to an entity at one time.",
            ),
            Constraint::MinPolicyTypeAttachments => (
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required.",
            ),
            Constraint::PolicyContentLimit => (
                "POLICY_CONTENT_LIMIT_EXCEEDED",
                "You have exceeded the maximum policy size.",
            ),
            Constraint::PolicyNumberLimit => (
                "POLICY_NUMBER_LIMIT_EXCEEDED",
                "You attempted to exceed the number of policies that you can have in an organization.",
            ),
            Constraint::OuDepthLimit => (
                "OU_DEPTH_LIMIT_EXCEEDED",
                "You attempted to create an OU tree that is too many levels deep.",
            ),
            Constraint::OuNumberLimit => (
                "OU_NUMBER_LIMIT_EXCEEDED",
                "You attempted to exceed the number of OUs that you can have in an organization.",
            ),
            Constraint::AccountNumberLimit => (
                "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
                "You attempted to exceed the limit on the number of accounts in an organization.",
            ),
            Constraint::CannotCloseManagementAccount => (
                "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
                "You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization.",
            ),
            Constraint::CloseAccountQuota => (
                "CLOSE_ACCOUNT_QUOTA_EXCEEDED",
                "You have exceeded close account quota for the past 30 days.",
            ),
            Constraint::MaxTagLimit => (
                "MAX_TAG_LIMIT_EXCEEDED",
                "You have exceeded the number of tags allowed on this resource.",
            ),
            Constraint::AllFeaturesRequired => (
                "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
                "You attempted to perform an operation that requires the organization to be configured to support all features. An organization that supports only consolidated billing features can't perform this operation.",
            ),
            Constraint::CannotRegisterManagementAsDelegatedAdministrator => (
                "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
                "You attempted to register the management account of the organization as a delegated administrator for an AWS service integrated with Organizations. You can designate only a member account as a delegated administrator.",
            ),
            Constraint::CannotRegisterSuspendedAsDelegatedAdministrator => (
                "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
                "You cannot register a suspended account as a delegated administrator.",
            ),
            Constraint::ServiceAccessNotEnabled => (
                "SERVICE_ACCESS_NOT_ENABLED",
                "You attempted to register a delegated administrator before you enabled service access. Call the EnableAWSServiceAccess API first.",
            ),
            Constraint::CannotRemoveDelegatedAdministrator => (
                "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG",
                "You attempted to remove an account that is registered as a delegated administrator for a service integrated with your organization. To complete this operation, you must first deregister this account as a delegated administrator.",
            ),
        }
    }
}

/// Why a handshake cannot go ahead: `HandshakeConstraintViolationException`'s `Reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeConstraint {
    /// The organization would have more accounts than its quota.
    AccountNumberLimit,
    /// The invited account is in an organization.
    AlreadyInAnOrganization,
    /// Inviting while all features are being enabled.
    InviteDisabledDuringEnableAllFeatures,
    /// EnableAllFeatures on an organization that has them.
    OrganizationAlreadyHasAllFeatures,
    /// EnableAllFeatures while a request to enable them is pending.
    OrganizationAlreadyPendingAllFeaturesMigration,
}

impl HandshakeConstraint {
    fn reason_and_message(self) -> (&'static str, &'static str) {
        match self {
            HandshakeConstraint::AccountNumberLimit => (
                "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
                "You attempted to exceed the limit on the number of accounts in an organization. Note that deleted and closed accounts still count toward your limit.",
            ),
            HandshakeConstraint::AlreadyInAnOrganization => (
                "ALREADY_IN_AN_ORGANIZATION",
                "The handshake request is invalid because the invited account is already a member of an organization.",
            ),
            HandshakeConstraint::InviteDisabledDuringEnableAllFeatures => (
                "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES",
                "You can't issue new invitations to join an organization while it's in the process of enabling all features. You can resume inviting accounts after you finalize the process when all accounts have agreed to the change.",
            ),
            HandshakeConstraint::OrganizationAlreadyHasAllFeatures => (
                "ORGANIZATION_ALREADY_HAS_ALL_FEATURES",
                "The handshake request is invalid because the organization has already enabled all features.",
            ),
            HandshakeConstraint::OrganizationAlreadyPendingAllFeaturesMigration => (
                "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION",
                "The handshake request is invalid because the organization has already started the process to enable all features.",
            ),
        }
    }
}

/// Why an input is refused beyond what the model checks: `InvalidInputException`'s `Reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidInput {
    /// Changing or deleting a policy AWS manages.
    ImmutablePolicy,
    /// Detaching `RCPFullAWSAccess`.
    NonDetachablePolicy,
    /// A `NextToken` Rampart did not issue.
    InvalidNextToken,
    /// The same tag key twice in one request.
    DuplicateTagKey,
    /// A tag key beginning with `aws:`.
    SystemTag,
    /// A target of the wrong kind for the operation.
    TargetNotSupported,
    /// A handshake party of the wrong kind (or one Rampart cannot reach).
    InvalidPartyTypeTarget,
}

impl InvalidInput {
    fn reason_and_message(self) -> (&'static str, &'static str) {
        match self {
            InvalidInput::ImmutablePolicy => (
                "IMMUTABLE_POLICY",
                "You specified a policy that is managed by AWS and can't be modified.",
            ),
            InvalidInput::NonDetachablePolicy => (
                "NON_DETACHABLE_POLICY",
                "You can't detach this AWS Managed Policy.",
            ),
            InvalidInput::InvalidNextToken => (
                "INVALID_NEXT_TOKEN",
                "You specified an invalid value for the nextToken request parameter.",
            ),
            InvalidInput::DuplicateTagKey => (
                "DUPLICATE_TAG_KEY",
                "Tag keys must be unique among the tags attached to the same entity.",
            ),
            InvalidInput::SystemTag => (
                "INVALID_SYSTEM_TAGS_PARAMETER",
                "You specified a tag key that is a system tag. You can't add, edit, or delete system tag keys because they're reserved for AWS use.",
            ),
            InvalidInput::TargetNotSupported => (
                "TARGET_NOT_SUPPORTED",
                "You can't perform the specified operation on that target entity.",
            ),
            InvalidInput::InvalidPartyTypeTarget => (
                "INVALID_PARTY_TYPE_TARGET",
                "You specified the wrong type of entity (account, organization, or email) as a party.",
            ),
        }
    }
}

/// An Organizations operation's failure, as AWS names it.
#[derive(Debug, thiserror::Error)]
pub enum OrganizationsError {
    /// The caller's account is in no organization.
    #[error("Your account is not a member of an organization.")]
    NotInUse,
    /// The caller's account is a member, not the management account.
    #[error("You don't have permissions to access this resource.")]
    AccessDenied,
    /// CreateOrganization from an account already in one.
    #[error("This account is already a member of an organization.")]
    AlreadyInOrganization,
    /// DeleteOrganization while member accounts remain.
    #[error(
        "The organization isn't empty. To delete an organization, you must first remove all accounts except the management account."
    )]
    OrganizationNotEmpty,
    /// No root or OU with that ID.
    #[error("We can't find a root or OU with the ParentId that you specified.")]
    ParentNotFound,
    /// No root with that ID.
    #[error("We can't find a root with the RootId that you specified.")]
    RootNotFound,
    /// No OU with that ID.
    #[error("We can't find an OU with the OrganizationalUnitId that you specified.")]
    OrganizationalUnitNotFound,
    /// DeleteOrganizationalUnit on an OU holding accounts or OUs.
    #[error(
        "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again."
    )]
    OrganizationalUnitNotEmpty,
    /// An OU of that name already exists under the parent.
    #[error("An OU with the same name already exists.")]
    DuplicateOrganizationalUnit,
    /// No OU or account with that ID.
    #[error(
        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."
    )]
    ChildNotFound,
    /// No account with that ID in the organization.
    #[error(
        "We can't find an AWS account with the AccountId that you specified, or the account whose credentials you used to make this request isn't a member of an organization."
    )]
    AccountNotFound,
    /// MoveAccount's source parent is missing.
    #[error("We can't find a source root or OU with the ParentId that you specified.")]
    SourceParentNotFound,
    /// MoveAccount's destination parent is missing.
    #[error(
        "We can't find the destination container (a root or OU) with the ParentId that you specified."
    )]
    DestinationParentNotFound,
    /// MoveAccount to where the account already is.
    #[error("That account is already present in the specified destination.")]
    DuplicateAccount,
    /// No create-account request with that ID.
    #[error(
        "We can't find a create account request with the CreateAccountRequestId that you specified."
    )]
    CreateAccountStatusNotFound,
    /// CloseAccount on a closed account.
    #[error("You attempted to close an account that is already closed.")]
    AccountAlreadyClosed,
    /// RegisterDelegatedAdministrator for an account and service already registered.
    #[error("The specified account is already a delegated administrator for this AWS service.")]
    AccountAlreadyRegistered,
    /// A delegated administrator operation on an account that is none (for the service).
    #[error("The specified account is not a delegated administrator for this AWS service.")]
    AccountNotRegistered,
    /// RemoveAccountFromOrganization on the management account.
    #[error(
        "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account."
    )]
    MasterCannotLeaveOrganization,
    /// No root, OU, account or policy with that ID.
    #[error("We can't find a root, OU, account, or policy with the TargetId that you specified.")]
    TargetNotFound,
    /// No policy with that ID.
    #[error("We can't find a policy with the PolicyId that you specified.")]
    PolicyNotFound,
    /// A policy of that type and name exists.
    #[error("A policy with the same name already exists.")]
    DuplicatePolicy,
    /// DeletePolicy on an attached policy.
    #[error(
        "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation."
    )]
    PolicyInUse,
    /// The document breaks the rules of its policy type (the detail says how).
    #[error(
        "The provided policy document doesn't meet the requirements of the specified policy type. {0}"
    )]
    MalformedPolicyDocument(String),
    /// EnablePolicyType on an enabled type.
    #[error("The specified policy type is already enabled.")]
    PolicyTypeAlreadyEnabled,
    /// Attaching (or disabling) a type that is not enabled.
    #[error(
        "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root."
    )]
    PolicyTypeNotEnabled,
    /// A policy type the organization's feature set does not offer.
    #[error(
        "You can't use the specified policy type with the feature set currently enabled for this organization. For example, you can enable SCPs only after you enable all features in the organization."
    )]
    PolicyTypeNotAvailableForOrganization,
    /// AttachPolicy of an attached policy.
    #[error("The selected policy is already attached to the specified target.")]
    DuplicatePolicyAttachment,
    /// DetachPolicy of a policy that is not attached.
    #[error("The policy isn't attached to the specified target in the specified root.")]
    PolicyNotAttached,
    /// The organization has no delegation policy.
    #[error("We can't find a resource policy request with the parameter that you specified.")]
    ResourcePolicyNotFound,
    /// An open invitation of the organization for the account exists.
    #[error(
        "A handshake with the same action and target already exists. For example, if you invited an account to join your organization, the invited account might already have a pending invitation from this organization. If you intend to resend an invitation to an account, ensure that existing handshakes that might be considered duplicates are canceled or declined."
    )]
    DuplicateHandshake,
    /// No handshake with that ID that the caller is a party of.
    #[error("We can't find a handshake with the HandshakeId that you specified.")]
    HandshakeNotFound,
    /// The handshake's state does not allow the response.
    #[error(
        "You can't perform the operation on the handshake in its current state. For example, you can't cancel a handshake that was already accepted or accept a handshake that was already declined."
    )]
    InvalidHandshakeTransition,
    /// The handshake is already in the state asked for.
    #[error(
        "The specified handshake is already in the requested state. For example, you can't accept a handshake that was already accepted."
    )]
    HandshakeAlreadyInState,
    /// A handshake would break a constraint.
    #[error("{}", .0.reason_and_message().1)]
    HandshakeConstraintViolation(HandshakeConstraint),
    /// A limit stops the operation.
    #[error("{}", .0.reason_and_message().1)]
    ConstraintViolation(Constraint),
    /// The input is refused.
    #[error("{}", .0.reason_and_message().1)]
    InvalidInput(InvalidInput),
    /// Something Rampart does not implement yet; says what.
    #[error("{0}")]
    NotImplemented(String),
    /// The store failed; details are logged, never returned.
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl From<OrganizationsError> for AwsError {
    fn from(e: OrganizationsError) -> Self {
        let code = match &e {
            OrganizationsError::NotInUse => "AWSOrganizationsNotInUseException",
            OrganizationsError::AccessDenied => "AccessDeniedException",
            OrganizationsError::AccountAlreadyRegistered => "AccountAlreadyRegisteredException",
            OrganizationsError::AccountNotRegistered => "AccountNotRegisteredException",
            OrganizationsError::AlreadyInOrganization => "AlreadyInOrganizationException",
            OrganizationsError::OrganizationNotEmpty => "OrganizationNotEmptyException",
            OrganizationsError::ParentNotFound => "ParentNotFoundException",
            OrganizationsError::RootNotFound => "RootNotFoundException",
            OrganizationsError::OrganizationalUnitNotFound => "OrganizationalUnitNotFoundException",
            OrganizationsError::OrganizationalUnitNotEmpty => "OrganizationalUnitNotEmptyException",
            OrganizationsError::DuplicateOrganizationalUnit => {
                "DuplicateOrganizationalUnitException"
            }
            OrganizationsError::ChildNotFound => "ChildNotFoundException",
            OrganizationsError::AccountNotFound => "AccountNotFoundException",
            OrganizationsError::SourceParentNotFound => "SourceParentNotFoundException",
            OrganizationsError::DestinationParentNotFound => "DestinationParentNotFoundException",
            OrganizationsError::DuplicateAccount => "DuplicateAccountException",
            OrganizationsError::CreateAccountStatusNotFound => {
                "CreateAccountStatusNotFoundException"
            }
            OrganizationsError::AccountAlreadyClosed => "AccountAlreadyClosedException",
            OrganizationsError::MasterCannotLeaveOrganization => {
                "MasterCannotLeaveOrganizationException"
            }
            OrganizationsError::TargetNotFound => "TargetNotFoundException",
            OrganizationsError::PolicyNotFound => "PolicyNotFoundException",
            OrganizationsError::DuplicatePolicy => "DuplicatePolicyException",
            OrganizationsError::PolicyInUse => "PolicyInUseException",
            OrganizationsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            OrganizationsError::PolicyTypeAlreadyEnabled => "PolicyTypeAlreadyEnabledException",
            OrganizationsError::PolicyTypeNotEnabled => "PolicyTypeNotEnabledException",
            OrganizationsError::PolicyTypeNotAvailableForOrganization => {
                "PolicyTypeNotAvailableForOrganizationException"
            }
            OrganizationsError::DuplicatePolicyAttachment => "DuplicatePolicyAttachmentException",
            OrganizationsError::PolicyNotAttached => "PolicyNotAttachedException",
            OrganizationsError::ResourcePolicyNotFound => "ResourcePolicyNotFoundException",
            OrganizationsError::DuplicateHandshake => "DuplicateHandshakeException",
            OrganizationsError::HandshakeNotFound => "HandshakeNotFoundException",
            OrganizationsError::InvalidHandshakeTransition => "InvalidHandshakeTransitionException",
            OrganizationsError::HandshakeAlreadyInState => "HandshakeAlreadyInStateException",
            OrganizationsError::HandshakeConstraintViolation(c) => {
                let (reason, message) = c.reason_and_message();
                return AwsError::new("HandshakeConstraintViolationException", 400, message)
                    .with_member("Reason", reason);
            }
            OrganizationsError::ConstraintViolation(c) => {
                let (reason, message) = c.reason_and_message();
                return AwsError::new("ConstraintViolationException", 400, message)
                    .with_member("Reason", reason);
            }
            OrganizationsError::InvalidInput(i) => {
                let (reason, message) = i.reason_and_message();
                return AwsError::new("InvalidInputException", 400, message)
                    .with_member("Reason", reason);
            }
            OrganizationsError::NotImplemented(what) => {
                return AwsError::new("NotImplemented", 501, what.clone());
            }
            OrganizationsError::Store(store) => {
                tracing::error!(error = %store, "Organizations store failure");
                return AwsError::new(
                    "ServiceException",
                    500,
                    "AWS Organizations can't complete your request because of an internal service error. Try again later.",
                );
            }
        };
        AwsError::new(code, 400, e.to_string())
    }
}
