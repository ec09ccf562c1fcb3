//! CloudWatch Logs' handlers on a real store with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod events;
mod groups;
mod metric_filters;

use std::sync::Arc;

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Service, Value};

use crate::Logs;

pub(crate) fn logs() -> Arc<dyn Service> {
    Arc::new(Logs::new())
}

/// Calls `operation`, expecting success.
pub(crate) fn ok(
    env: &TestEnv,
    service: &Arc<dyn Service>,
    operation: &str,
    input: Value,
) -> Value {
    env.call(service, operation, input)
        .unwrap_or_else(|e| panic!("{operation}: {} {}", e.code, e.message))
}

/// Calls `operation`, expecting the error `code`.
pub(crate) fn fails(
    env: &TestEnv,
    service: &Arc<dyn Service>,
    operation: &str,
    input: Value,
    code: &str,
) -> AwsError {
    let e = env.call(service, operation, input).unwrap_err();
    assert_eq!(e.code, code, "{operation}: {}", e.message);
    e
}
