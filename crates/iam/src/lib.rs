//! AWS Identity and Access Management: accounts, identities, credentials and policies.
//!
//! The request spine authenticates against the credentials kept here and authorizes with the
//! policies kept here. Each family of operations has its own file, named after the resource
//! (`users.rs` holds `CreateUser`); [`records`] holds what the families share.
#![deny(missing_docs)]

pub mod access_advisor;
pub mod access_keys;
pub mod account;
mod account_settings;
pub mod authorization;
mod boundaries;
mod credential_report;
pub mod directory;
mod error;
mod events;
mod groups;
pub mod ids;
mod inline_policies;
mod instance_profiles;
pub mod login_profiles;
pub mod managed_policies;
pub mod mfa;
mod mfa_device_details;
pub mod oidc_providers;
pub mod pagination;
pub mod password_policy;
pub mod policies;
pub mod records;
mod request_keys;
mod resources;
mod roles;
pub mod root_access;
pub mod saml_providers;
mod server_certificates;
mod service_credentials;
mod service_linked_roles;
mod signing_certificates;
mod simulate;
mod ssh_public_keys;
pub mod tags;
mod users;

pub use directory::IamDirectory;
pub use error::IamError;
pub use resources::role_by_arn;

use rampart_service::{EventResource, Operation, Operations, Service};

/// The IAM service: its operations, for the registry.
pub struct Iam {
    operations: Operations,
}

impl Iam {
    /// IAM with every operation Rampart implements.
    pub fn new() -> Self {
        let mut operations = Vec::new();
        // One line per family; each family's file declares its operations.
        operations.extend(users::operations());
        operations.extend(groups::operations());
        operations.extend(roles::operations());
        operations.extend(instance_profiles::operations());
        operations.extend(access_keys::operations());
        operations.extend(policies::operations());
        operations.extend(inline_policies::operations());
        operations.extend(boundaries::operations());
        operations.extend(login_profiles::operations());
        operations.extend(password_policy::operations());
        operations.extend(mfa::operations());
        operations.extend(account_settings::operations());
        operations.extend(credential_report::operations());
        operations.extend(simulate::operations());
        operations.extend(access_advisor::operations());
        operations.extend(oidc_providers::operations());
        operations.extend(saml_providers::operations());
        operations.extend(ssh_public_keys::operations());
        operations.extend(signing_certificates::operations());
        operations.extend(service_credentials::operations());
        operations.extend(server_certificates::operations());
        operations.extend(service_linked_roles::operations());
        operations.extend(mfa_device_details::operations());
        operations.extend(root_access::operations());
        // IAM's request keys (iam:PolicyARN, iam:PermissionsBoundary, …) come from input
        // members; the spine keeps each only for the actions AWS lists it for.
        for operation in &mut operations {
            operation
                .condition_keys
                .get_or_insert(request_keys::condition_keys);
        }
        Self {
            operations: Operations::new(operations),
        }
    }
}

impl Default for Iam {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Iam {
    fn name(&self) -> &'static str {
        "iam"
    }

    fn event_source(&self) -> &'static str {
        "iam.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn event_style(&self) -> rampart_service::EventStyle {
        events::EVENT_STYLE
    }

    fn event_shaper(&self) -> Option<rampart_service::EventShaper> {
        Some(events::shape_event)
    }

    fn global(&self) -> bool {
        true
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let (kind, id) = parts.resource.split_once('/')?;
        // A path comes between the type and the name: the name is the last segment.
        let last = id.rsplit('/').next().unwrap_or(id);
        let (kind, name) = match kind {
            "user" => ("AWS::IAM::User", last),
            "role" => ("AWS::IAM::Role", last),
            "group" => ("AWS::IAM::Group", last),
            "instance-profile" => ("AWS::IAM::InstanceProfile", last),
            "policy" => ("AWS::IAM::Policy", arn),
            "mfa" => ("AWS::IAM::MFADevice", arn),
            "oidc-provider" => ("AWS::IAM::OIDCProvider", arn),
            "saml-provider" => ("AWS::IAM::SAMLProvider", arn),
            _ => return None,
        };
        (!name.is_empty()).then_some(EventResource {
            kind,
            name,
            account: parts.account,
        })
    }
}
