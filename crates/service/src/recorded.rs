//! What a service adjusts in its CloudTrail events beyond the generic rules.
//!
//! The spine writes `requestParameters` and `responseElements` from the API model alone
//! (sensitive members hidden, binary members left out, members named and timestamps written
//! as the service's [`EventStyle`] says). Where AWS records a call differently — a default
//! it writes although the caller left it out, a member it leaves out, `null` where a response
//! exists — the service says so in its [`EventShaper`], per operation, beside its handlers.

use rampart_wire::Value;
use serde_json::Map;

pub use rampart_wire::{EventStyle, MemberNaming, TimestampStyle};

/// A service's per-operation adjustments to its events (see the module docs).
pub type EventShaper = fn(&mut RecordedCall);

/// The parts of a call's event a service may adjust, already in CloudTrail's naming.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedCall {
    /// The operation (`eventName`).
    pub operation: String,
    /// Whether the call succeeded.
    pub succeeded: bool,
    /// `requestParameters`; `None` is written as `null`.
    pub request_parameters: Option<Value>,
    /// `responseElements` of a successful call; `None` is written as `null`.
    pub response_elements: Option<Value>,
    /// `additionalEventData`; left out of the event when empty.
    pub additional_event_data: Map<String, Value>,
}

impl RecordedCall {
    /// Sets request parameter `name` to `value` when the caller left it out (AWS records
    /// some defaults, such as KMS's `encryptionAlgorithm`).
    pub fn default_parameter(&mut self, name: &str, value: Value) {
        let parameters = self
            .request_parameters
            .get_or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = parameters {
            map.entry(name.to_owned()).or_insert(value);
        }
    }

    /// Leaves the member at `path` (member names, outermost first) out of
    /// `responseElements`, as AWS leaves out secrets it never records.
    pub fn omit_response_member(&mut self, path: &[&str]) {
        if let Some(response) = &mut self.response_elements {
            omit(response, path);
        }
    }

    /// Writes CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS` in place of the request member at
    /// `path`, for a secret the model does not mark sensitive (SNS's confirmation token).
    pub fn hide_request_member(&mut self, path: &[&str]) {
        if let Some(value) = self
            .request_parameters
            .as_mut()
            .and_then(|v| path.iter().try_fold(v, |v, name| v.get_mut(*name)))
        {
            *value = Value::String(rampart_wire::REDACTED.to_owned());
        }
    }

    /// The value of the response member at `path`, if any.
    pub fn response_member(&self, path: &[&str]) -> Option<&Value> {
        path.iter()
            .try_fold(self.response_elements.as_ref()?, |v, name| v.get(name))
    }
}

fn omit(value: &mut Value, path: &[&str]) {
    match (value, path) {
        (Value::Object(map), [last]) => {
            map.remove(*last);
        }
        (Value::Object(map), [first, rest @ ..]) => {
            if let Some(inner) = map.get_mut(*first) {
                omit(inner, rest);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_fill_only_what_was_left_out_and_omissions_reach_any_depth() {
        let mut call = RecordedCall {
            request_parameters: Some(
                json!({"keyId": "k", "encryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
            ),
            response_elements: Some(
                json!({"credentials": {"accessKeyId": "A", "secretAccessKey": "s"}}),
            ),
            ..RecordedCall::default()
        };
        call.default_parameter("encryptionAlgorithm", json!("SYMMETRIC_DEFAULT"));
        call.default_parameter("grantTokens", json!([]));
        assert_eq!(
            call.request_parameters,
            Some(
                json!({"keyId": "k", "encryptionAlgorithm": "RSAES_OAEP_SHA_1", "grantTokens": []})
            )
        );
        call.omit_response_member(&["credentials", "secretAccessKey"]);
        call.omit_response_member(&["missing", "x"]);
        assert_eq!(
            call.response_elements,
            Some(json!({"credentials": {"accessKeyId": "A"}}))
        );
        assert_eq!(
            call.response_member(&["credentials", "accessKeyId"]),
            Some(&json!("A"))
        );
        let mut empty = RecordedCall::default();
        empty.default_parameter("a", json!(1));
        assert_eq!(empty.request_parameters, Some(json!({"a": 1})));
    }
}
