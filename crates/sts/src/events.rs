//! How CloudTrail records STS's calls beyond what the API model gives (see
//! `rampart_service::recorded`), from the IAM User Guide's example STS events
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html>).

use rampart_service::RecordedCall;
use rampart_service::recorded::{EventStyle, MemberNaming, TimestampStyle};

/// STS's events lower each member's first letter and write `expiration` as
/// `Sep 30, 2026 3:40:11 AM`.
pub(crate) const EVENT_STYLE: EventStyle = EventStyle {
    naming: MemberNaming::LowerFirst,
    response_timestamps: TimestampStyle::MediumDateTime,
};

/// AWS records the credentials a call returns without their secret access key. (It does
/// record the session token; Rampart never does: the spine hides every session token.)
pub(crate) fn shape_event(call: &mut RecordedCall) {
    call.omit_response_member(&["credentials", "secretAccessKey"]);
}
