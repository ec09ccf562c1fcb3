//! SNS's handlers on a real store with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod publish;
mod subscriptions;
mod tags;
mod topics;

use std::sync::Arc;

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Service, Value};

use crate::Sns;

pub(crate) fn sns() -> Arc<dyn Service> {
    Arc::new(Sns::new())
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

/// Creates the topic `name` and answers its ARN.
pub(crate) fn topic(env: &TestEnv, service: &Arc<dyn Service>, name: &str) -> String {
    let created = ok(
        env,
        service,
        "CreateTopic",
        serde_json::json!({"Name": name}),
    );
    created["TopicArn"].as_str().unwrap().to_owned()
}
