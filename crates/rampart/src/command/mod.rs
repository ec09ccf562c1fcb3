//! One file per subcommand.

pub mod policy;
pub mod serve;
