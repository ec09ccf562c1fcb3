//! CloudWatch's handlers on a real store with a fixed clock (2026-11-24T12:00:00Z).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod alarms;
mod internal;
mod metrics;
mod statistics;

use std::sync::Arc;

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Service, Value};

use crate::CloudWatch;

pub(crate) fn cloudwatch() -> Arc<dyn Service> {
    Arc::new(CloudWatch::new())
}

/// Calls `operation`, expecting success.
pub(crate) fn ok(env: &TestEnv, operation: &str, input: Value) -> Value {
    env.call(&cloudwatch(), operation, input)
        .unwrap_or_else(|e| panic!("{operation}: {} {}", e.code, e.message))
}

/// Calls `operation`, expecting the error `code`.
pub(crate) fn fails(env: &TestEnv, operation: &str, input: Value, code: &str) -> AwsError {
    let e = env.call(&cloudwatch(), operation, input).unwrap_err();
    assert_eq!(e.code, code, "{operation}: {}", e.message);
    e
}
