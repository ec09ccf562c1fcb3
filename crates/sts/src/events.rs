//! How CloudTrail records STS's calls beyond what the API model gives (see
//! `rampart_service::recorded`), from the IAM User Guide's example STS events
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html>).

use rampart_service::recorded::{EventStyle, MemberNaming, TimestampStyle};
use rampart_service::{RecordedCall, Recording};

/// STS's events lower each member's first letter and write `expiration` as
/// `Sep 30, 2026 3:40:11 AM`.
pub(crate) const EVENT_STYLE: EventStyle = EventStyle {
    naming: MemberNaming::LowerFirst,
    response_timestamps: TimestampStyle::MediumDateTime,
};

/// How AWS records AssumeRole (an event AWS delivered) and AssumeRoot (the IAM User Guide's
/// "Track privileged tasks in CloudTrail"): `readOnly: true`, yet with the credentials they
/// returned in `responseElements`. (AssumeRoleWithSAML, AssumeRoleWithWebIdentity and
/// GetSessionToken record their responses too, as the changes they are here; no event AWS
/// delivered was found to show their `readOnly`.)
pub(crate) const ISSUES_SESSION: Recording = Recording {
    read_only: true,
    response: true,
};

/// How AWS records GetFederationToken (an event AWS delivered): `readOnly: false`, with the
/// credentials, `federatedUser` and `packedPolicySize` in `responseElements`.
pub(crate) const ISSUES_FEDERATION_TOKEN: Recording = Recording {
    read_only: false,
    response: true,
};

/// AWS records the credentials a call returns without their secret access key. (It does
/// record the session token; Rampart never does: the spine hides every session token.)
pub(crate) fn shape_event(call: &mut RecordedCall) {
    call.omit_response_member(&["credentials", "secretAccessKey"]);
}
