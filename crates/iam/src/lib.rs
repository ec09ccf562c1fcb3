//! AWS Identity and Access Management: accounts, identities, credentials and policies.
//!
//! The request spine authenticates against the credentials kept here; the IAM API's
//! operations (users, groups, roles, policies, …) build on the same records.
#![deny(missing_docs)]

pub mod access_keys;
pub mod account;
pub mod ids;
