//! AWS Security Token Service.
//!
//! Operations are declared in [`Sts::new`]; each lives in the file of its resource family
//! (`identity.rs` holds `GetCallerIdentity` and `GetAccessKeyInfo`).
//!
//! Feature `saml` (on by default): verification of SAML assertions for `AssumeRoleWithSAML`
//! with libxmlsec1 (see [`saml`]); without it, [`saml::verify_saml`] refuses every assertion.
#![deny(missing_docs)]

mod assume_role;
mod assume_role_with_saml;
mod assume_role_with_web_identity;
mod assume_root;
mod credentials;
mod decode;
mod error;
mod events;
#[cfg(test)]
mod federation_token_tests;
mod identity;
mod mfa;
#[cfg(test)]
mod provider_testing;
pub mod saml;
#[cfg(feature = "saml")]
mod saml_screen;
pub mod session;
mod session_token;
pub mod web_identity;

pub use decode::encode_authorization_message;
pub use error::StsError;
pub use session::{Session, SessionError};

use rampart_service::{Operation, Operations, Service};

/// The STS service: its operations, for the registry.
pub struct Sts {
    operations: Operations,
}

impl Sts {
    /// STS with every operation Rampart implements.
    pub fn new() -> Self {
        Self {
            operations: Operations::new(
                vec![
                    Operation::read(
                        "GetCallerIdentity",
                        "sts:GetCallerIdentity",
                        identity::get_caller_identity,
                    )
                    // AWS: "No permissions are required to perform this operation."
                    .always_allowed(),
                    Operation::read(
                        "GetAccessKeyInfo",
                        "sts:GetAccessKeyInfo",
                        identity::get_access_key_info,
                    ),
                    assume_role::operation(),
                    assume_role_with_web_identity::operation(),
                    assume_role_with_saml::operation(),
                    assume_root::operation(),
                    decode::operation(),
                ]
                .into_iter()
                .chain(session_token::operations())
                .collect(),
            ),
        }
    }
}

impl Default for Sts {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Sts {
    fn name(&self) -> &'static str {
        "sts"
    }

    fn event_source(&self) -> &'static str {
        "sts.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn event_style(&self) -> rampart_service::EventStyle {
        events::EVENT_STYLE
    }

    fn event_shaper(&self) -> Option<rampart_service::EventShaper> {
        Some(events::shape_event)
    }

    fn guarded_by_resource_control_policies(&self) -> bool {
        true
    }

    /// A role assumed from another account is recorded in the role's account too.
    fn records_in_resource_owner_accounts(&self) -> bool {
        true
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }
}
