//! One file per subcommand.

pub mod admin;
mod kms_client;
pub mod migrate;
pub mod policy;
pub mod serve;
pub mod store;
pub mod trail;
