//! Audit: every call becomes a CloudTrail-format event, appended to the journal in the same
//! transaction as the call's changes (the full CloudTrail service builds on this journal).

use rampart_service::{Caller, PrincipalKind, aws_timestamp};
use rampart_wire::{AwsError, Value};
use serde_json::{Map, json};
use time::OffsetDateTime;

/// CloudTrail's record format version that these events follow.
const EVENT_VERSION: &str = "1.11";

/// What the audit step knows about a call, gathered along the spine.
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    pub(crate) request_id: String,
    pub(crate) event_id: String,
    pub(crate) event_time: OffsetDateTime,
    pub(crate) event_source: String,
    pub(crate) event_name: String,
    pub(crate) region: String,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
    /// The key that signed the request, even when authentication then failed.
    pub(crate) access_key_id: Option<String>,
    pub(crate) caller: Option<Caller>,
    /// The input with sensitive members hidden.
    pub(crate) request_parameters: Option<Value>,
    pub(crate) read_only: bool,
    /// Usage to record with the event (key last used, service last accessed).
    pub(crate) usage: Option<crate::usage::Usage>,
}

impl CallRecord {
    /// The event for this call, given its outcome (the output with sensitive members
    /// hidden, or the error).
    pub(crate) fn event(&self, outcome: Result<Option<&Value>, &AwsError>) -> Vec<u8> {
        let mut event = Map::new();
        event.insert("eventVersion".into(), json!(EVENT_VERSION));
        event.insert("userIdentity".into(), self.user_identity());
        event.insert("eventTime".into(), json!(aws_timestamp(self.event_time)));
        event.insert("eventSource".into(), json!(self.event_source));
        event.insert("eventName".into(), json!(self.event_name));
        event.insert("awsRegion".into(), json!(self.region));
        event.insert("sourceIPAddress".into(), json!(self.source_ip));
        event.insert("userAgent".into(), json!(self.user_agent));
        if let Err(error) = outcome {
            event.insert("errorCode".into(), json!(error.code));
            event.insert("errorMessage".into(), json!(error.message));
        }
        event.insert(
            "requestParameters".into(),
            non_empty(self.request_parameters.as_ref()),
        );
        let response = match outcome {
            Ok(output) if !self.read_only => non_empty(output),
            _ => Value::Null,
        };
        event.insert("responseElements".into(), response);
        event.insert("requestID".into(), json!(self.request_id));
        event.insert("eventID".into(), json!(self.event_id));
        event.insert("readOnly".into(), json!(self.read_only));
        event.insert("eventType".into(), json!("AwsApiCall"));
        event.insert("managementEvent".into(), json!(true));
        if let Some(caller) = &self.caller {
            event.insert("recipientAccountId".into(), json!(caller.account_id));
        }
        event.insert("eventCategory".into(), json!("Management"));
        serde_json::to_vec(&Value::Object(event)).unwrap_or_default()
    }

    fn user_identity(&self) -> Value {
        match &self.caller {
            Some(caller) => {
                let kind = match caller.kind {
                    PrincipalKind::Root => "Root",
                    PrincipalKind::IamUser => "IAMUser",
                    PrincipalKind::AssumedRole => "AssumedRole",
                    PrincipalKind::FederatedUser => "FederatedUser",
                };
                let mut identity = json!({
                    "type": kind,
                    "principalId": caller.principal_id,
                    "arn": caller.arn,
                    "accountId": caller.account_id,
                    "accessKeyId": caller.access_key_id,
                });
                if let (Some(name), Some(map)) = (&caller.user_name, identity.as_object_mut()) {
                    map.insert("userName".into(), json!(name));
                }
                identity
            }
            // Authentication failed: only the claimed key is known.
            None => match &self.access_key_id {
                Some(key) => json!({ "type": "Unknown", "accessKeyId": key }),
                None => json!({ "type": "Unknown" }),
            },
        }
    }
}

/// CloudTrail writes `null` rather than an empty object.
fn non_empty(value: Option<&Value>) -> Value {
    match value {
        Some(Value::Object(map)) if map.is_empty() => Value::Null,
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> CallRecord {
        CallRecord {
            request_id: "r".into(),
            event_id: "e".into(),
            event_time: time::macros::datetime!(2026-11-24 12:00:00 UTC),
            event_source: "iam.amazonaws.com".into(),
            event_name: "CreateAccessKey".into(),
            region: "us-east-1".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            access_key_id: Some("AKIAX".into()),
            caller: Some(Caller::root("123456789012", "AKIAX")),
            request_parameters: Some(json!({})),
            read_only: false,
            usage: None,
        }
    }

    #[test]
    fn a_successful_write_records_its_response_and_identity() {
        let output = json!({"AccessKey": {"AccessKeyId": "AKIAY"}});
        let event: Value = serde_json::from_slice(&record().event(Ok(Some(&output)))).unwrap();
        assert_eq!(event["userIdentity"]["type"], "Root");
        assert_eq!(
            event["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(event["eventTime"], "2026-11-24T12:00:00Z");
        assert_eq!(event["requestParameters"], Value::Null);
        assert_eq!(event["responseElements"], output);
        assert_eq!(event["recipientAccountId"], "123456789012");
        assert!(event.get("errorCode").is_none());
    }

    #[test]
    fn a_failed_call_records_its_error_and_no_response() {
        let mut record = record();
        record.caller = None;
        let error = AwsError::new("SignatureDoesNotMatch", 403, "nope");
        let event: Value = serde_json::from_slice(&record.event(Err(&error))).unwrap();
        assert_eq!(event["errorCode"], "SignatureDoesNotMatch");
        assert_eq!(event["errorMessage"], "nope");
        assert_eq!(event["responseElements"], Value::Null);
        assert_eq!(event["userIdentity"]["accessKeyId"], "AKIAX");
    }
}
