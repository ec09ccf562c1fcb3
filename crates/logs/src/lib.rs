//! Amazon CloudWatch Logs.
#![deny(missing_docs)]

pub mod pattern;
