//! The contract between Rampart's request spine and each AWS service crate.
//!
//! A service crate describes each of its operations once ([`Operation`]): its AWS name, its
//! IAM action, how to name the resources it touches, whether it reads or writes, and its
//! handler. The spine (the server crate) routes, decodes, authenticates, authorizes, runs the
//! handler inside a store transaction, audits and encodes; a handler only does the service's
//! logic on typed input, with everything from outside passed in through [`Env`].
//!
//! What every service does alike lives here once: paging list answers ([`paging`]),
//! checking and merging tags ([`tagging`]), work that falls due by itself ([`Timers`]) and
//! events for EventBridge ([`bus_events`]).
#![deny(missing_docs)]

pub mod bus_events;
mod caller;
mod calls;
mod directory;
mod env;
mod operation;
pub mod paging;
pub mod principal_ids;
mod rate_limits;
pub mod recorded;
mod service;
mod service_events;
pub mod tagging;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timers;

pub use caller::{Caller, Federation, Inheritance, PrincipalKind};
pub use calls::{CallPrincipal, NoServiceCalls, RunAs, ServiceCall, ServiceCalls};
pub use directory::{Directory, NoDirectory, OrganizationFacts, PrincipalLookup, ScpLevels};
pub use env::{Entropy, Env, OsEntropy};
pub use operation::{
    Access, Addressee, Authentication, Authorization, AuthorizationTarget, AuthorizationTargets,
    ConditionKeys, Handler, InputAuthenticator, Operation, Recording, Resource, ResourceNames,
    ResourcePolicy, ResourcePolicyLookup,
};
pub use principal_ids::PrincipalIds;
pub use rampart_wire::{AwsError, Value};
pub use rate_limits::RateLimits;
pub use recorded::{EventShaper, EventStyle, RecordedCall};
pub use service::{AfterSuccess, ArnParts, CompletedCall, EventResource, Operations, Service};
pub use service_events::{ServiceEvent, ServiceEventSource};
pub use timers::{DueWork, Timers};
#[cfg(feature = "reflection")]
pub use {operation::InputFormat, serde_reflection};

/// Formats a time as AWS does in its APIs: RFC 3339 in UTC, seconds precision, `Z`.
pub fn aws_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_seconds_with_z() {
        let t = time::macros::datetime!(2026-11-24 15:23:48.123 +01:00);
        assert_eq!(aws_timestamp(t), "2026-11-24T14:23:48Z");
    }
}
