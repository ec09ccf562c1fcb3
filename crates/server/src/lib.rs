//! Rampart's request spine.
//!
//! ```text
//! HTTP ─► route ─► authenticate ─► decode ─► authorize ─► handle ─► audit ─► encode
//! ```
//!
//! Each step lives in its own module; [`pipeline`] runs them in order for every AWS request.
//! Service crates only declare operations and handle them (see `rampart-service`).
#![deny(missing_docs)]

mod audit;
mod authn;
mod authz;
mod calls;
#[cfg(test)]
mod conformance_tests;
mod content_encoding;
pub mod delivery;
mod directory;
mod failure_throttle;
mod http;
pub mod logs_delivery;
mod pipeline;
mod registry;
mod route;
pub mod scheduler;
mod state;
#[cfg(test)]
mod test_support;
pub mod trail_storage;
mod usage;

pub use calls::call_as_service;
pub use http::{router, serve};
pub use registry::Registry;
pub use state::{AppState, ServerConfig};
