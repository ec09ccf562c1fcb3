//! AWS Organizations: an organization of accounts under one root, organizational units,
//! and the service control policies (SCPs) and resource control policies (RCPs) that fence
//! them.
//!
//! Operations are declared in [`Organizations::new`], each family in its own file:
//! `organization.rs` (the organization), `units.rs` (roots, OUs, the tree), `accounts.rs`
//! (CreateAccount and the account lifecycle), `policies.rs`, `attachments.rs` (policy types
//! and attachments), `tags.rs`, `delegation.rs` (trusted access and delegated
//! administrators), `handshakes.rs` (invitations, all features), `resource_policy.rs` (the
//! delegation policy). [`guardrails`] is what the request spine's authorize step
//! reads: the SCPs and RCPs that apply to an account and its place in the tree.
//!
//! Only an organization's management account manages it; its members may describe it, and
//! its delegated administrators may also call the read-only operations. An
//! account in no organization may create one. No feature flags.
#![deny(missing_docs)]

mod accounts;
mod attachments;
mod delegation;
mod error;
pub mod guardrails;
mod handshakes;
mod ids;
mod organization;
mod paging;
mod policies;
mod records;
mod resource_policy;
mod resources;
mod tags;
#[cfg(test)]
mod tests;
mod units;

pub use delegation::organization_facts;
pub use error::{Constraint, HandshakeConstraint, InvalidInput, OrganizationsError};
pub use records::Tag;

use rampart_service::{Operation, Operations, Service};

/// The read-only operations a delegation policy may open to members that name no entity.
const DELEGABLE_READS: &[&str] = &[
    "DescribeCreateAccountStatus",
    "ListAccounts",
    "ListAWSServiceAccessForOrganization",
    "ListCreateAccountStatus",
    "ListDelegatedAdministrators",
    "ListPolicies",
    "ListRoots",
];

/// The Organizations service: its operations, for the registry.
pub struct Organizations {
    operations: Operations,
}

impl Organizations {
    /// Organizations with every operation Rampart implements.
    pub fn new() -> Self {
        let mut operations = Vec::new();
        operations.extend(organization::operations());
        operations.extend(units::operations());
        operations.extend(accounts::operations());
        operations.extend(policies::operations());
        operations.extend(attachments::operations());
        operations.extend(tags::operations());
        operations.extend(delegation::operations());
        operations.extend(handshakes::operations());
        operations.extend(resource_policy::operations());
        // Read-only operations that name no entity carry the delegation policy themselves
        // (those that name one get it from their authorization targets).
        for operation in &mut operations {
            if DELEGABLE_READS.contains(&operation.name)
                && operation.authorization_targets.is_none()
            {
                operation.resource_policy = Some(resource_policy::for_reads);
            }
        }
        // organizations:ServicePrincipal and organizations:PolicyType come from input members;
        // the spine keeps each only for the actions AWS lists it for.
        for operation in &mut operations {
            operation
                .condition_keys
                .get_or_insert(resources::request_keys);
        }
        Self {
            operations: Operations::new(operations),
        }
    }
}

impl Default for Organizations {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Organizations {
    fn name(&self) -> &'static str {
        "organizations"
    }

    fn event_source(&self) -> &'static str {
        "organizations.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    /// Organizations' events lower each member's first letter and write response dates as
    /// `Jun 21, 2018 10:06:27 PM` (the Organizations User Guide's CreateAccount example).
    fn event_style(&self) -> rampart_service::EventStyle {
        rampart_service::EventStyle {
            naming: rampart_service::recorded::MemberNaming::LowerFirst,
            response_timestamps: rampart_service::recorded::TimestampStyle::MediumDateTime,
        }
    }

    fn global(&self) -> bool {
        true
    }

    fn changes_guardrails(&self) -> bool {
        true
    }
}
