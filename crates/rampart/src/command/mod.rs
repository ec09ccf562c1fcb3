//! One file per subcommand.

pub mod admin;
pub mod policy;
pub mod serve;
pub mod trail;
