//! Set-up for the spine's own tests: running a service's handler as a given caller, with the
//! spine's calls to other services, outside the request path (authorization of the operation
//! itself is not under test where these are used).
#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use rampart_service::{AwsError, Caller, Handler, Value};
use rampart_store::StoreError;
use time::OffsetDateTime;

use crate::calls::{Calling, CallsOf};
use crate::pipeline::{self, Party};
use crate::state::AppState;

/// Runs `service`'s `operation` as `caller` in `region` at `now`, with the spine's calls to
/// other services (what a request's handler gets), and writes what those calls recorded.
pub(crate) async fn as_caller(
    state: &Arc<AppState>,
    caller: Caller,
    (region, now): (&'static str, OffsetDateTime),
    (service, operation): (&'static str, &'static str),
    input: Value,
) -> Result<Value, AwsError> {
    let state = Arc::clone(state);
    state
        .store
        .clone()
        .write_with(move |tx| {
            let party = Party {
                caller: caller.clone(),
                session: None,
                inherited: None,
                federation: None,
                condition_keys: Vec::new(),
            };
            // A request ID of its own, as every request has (KMS derives key IDs from it).
            let request_id = pipeline::new_id();
            let calls = CallsOf::new(
                &state,
                Calling {
                    party: Some(&party),
                    service,
                    region,
                    request_id: &request_id,
                    now,
                    source_ip: "192.0.2.1",
                    user_agent: "test-support",
                },
            );
            let mut env = pipeline::env(&state, &caller, region, &request_id, now);
            env.calls = &calls;
            let handler = &state
                .registry
                .get(service)
                .unwrap()
                .operation(operation)
                .unwrap()
                .handler;
            let output = match handler {
                Handler::Write(handler) => handler(&env, tx, input),
                Handler::Read(handler) => handler(&env, tx, input),
            };
            calls.into_recorded(output.is_ok(), None).write(tx)?;
            Ok::<_, StoreError>(output)
        })
        .await
        .unwrap()
}

/// [`as_caller`] as `account`'s root user, for set-up that must succeed.
pub(crate) async fn as_root(
    state: &Arc<AppState>,
    account: &str,
    at: (&'static str, OffsetDateTime),
    call: (&'static str, &'static str),
    input: Value,
) -> Value {
    as_caller(state, Caller::root(account, "AKIAROOT"), at, call, input)
        .await
        .unwrap()
}
