//! How CloudTrail records IAM's calls beyond what the API model gives (see
//! `rampart_service::recorded`), from the IAM User Guide's example events
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html>).

use rampart_service::RecordedCall;
use rampart_service::recorded::{EventStyle, MemberNaming, TimestampStyle};

/// IAM's events lower each member's first letter (`sAMLMetadataDocument`) and write dates
/// in `responseElements` as `Aug 1, 2024 1:37:41 PM`.
pub(crate) const EVENT_STYLE: EventStyle = EventStyle {
    naming: MemberNaming::LowerFirst,
    response_timestamps: TimestampStyle::MediumDateTime,
};

/// A new access key is recorded without its secret access key.
pub(crate) fn shape_event(call: &mut RecordedCall) {
    if call.operation == "CreateAccessKey" {
        call.omit_response_member(&["accessKey", "secretAccessKey"]);
    }
}
