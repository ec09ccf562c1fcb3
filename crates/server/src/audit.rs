//! Audit: every call becomes a CloudTrail-format event, appended to the journal in the same
//! transaction as the call's changes (the full CloudTrail service builds on this journal).

use rampart_service::{Caller, PrincipalKind, aws_timestamp};
use rampart_wire::{AwsError, Value};
use serde::Serialize;
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

/// One CloudTrail event, serialized straight from borrowed fields (no intermediate JSON
/// maps). Fields are declared in sorted order, the order the event's former
/// `serde_json::Map` (a `BTreeMap`) wrote them in, so events stay byte-for-byte the same.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    aws_region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    event_category: &'static str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    event_name: &'a str,
    event_source: &'a str,
    event_time: String,
    event_type: &'static str,
    event_version: &'static str,
    management_event: bool,
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_account_id: Option<&'a str>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    /// `None` is written as `null`, as CloudTrail does.
    request_parameters: Option<&'a Value>,
    response_elements: Option<&'a Value>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    user_identity: UserIdentity<'a>,
}

/// The event's `userIdentity`, fields in sorted order like [`Event`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
}

impl CallRecord {
    /// The event for this call, given its outcome (the output with sensitive members
    /// hidden, or the error).
    pub(crate) fn event(&self, outcome: Result<Option<&Value>, &AwsError>) -> Vec<u8> {
        let error = outcome.err();
        let response_elements = match outcome {
            Ok(output) if !self.read_only => non_empty(output),
            _ => None,
        };
        let event = Event {
            aws_region: &self.region,
            error_code: error.map(|e| e.code.as_ref()),
            error_message: error.map(|e| e.message.as_ref()),
            event_category: "Management",
            event_id: &self.event_id,
            event_name: &self.event_name,
            event_source: &self.event_source,
            event_time: aws_timestamp(self.event_time),
            event_type: "AwsApiCall",
            event_version: EVENT_VERSION,
            management_event: true,
            read_only: self.read_only,
            recipient_account_id: self.caller.as_ref().map(|c| c.account_id.as_str()),
            request_id: &self.request_id,
            request_parameters: non_empty(self.request_parameters.as_ref()),
            response_elements,
            source_ip_address: &self.source_ip,
            user_agent: &self.user_agent,
            user_identity: self.user_identity(),
        };
        serde_json::to_vec(&event).unwrap_or_default()
    }

    fn user_identity(&self) -> UserIdentity<'_> {
        match &self.caller {
            Some(caller) => UserIdentity {
                access_key_id: Some(&caller.access_key_id),
                account_id: Some(&caller.account_id),
                arn: Some(&caller.arn),
                principal_id: Some(&caller.principal_id),
                kind: match caller.kind {
                    PrincipalKind::Root => "Root",
                    PrincipalKind::IamUser => "IAMUser",
                    PrincipalKind::AssumedRole => "AssumedRole",
                    PrincipalKind::FederatedUser => "FederatedUser",
                },
                user_name: caller.user_name.as_deref(),
            },
            // Authentication failed: only the claimed key is known.
            None => UserIdentity {
                access_key_id: self.access_key_id.as_deref(),
                account_id: None,
                arn: None,
                principal_id: None,
                kind: "Unknown",
                user_name: None,
            },
        }
    }
}

/// CloudTrail writes `null` rather than an empty object.
fn non_empty(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !matches!(v, Value::Object(map) if map.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

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

    /// The event as it was built before [`Event`]: through `serde_json::Map`. The struct must
    /// write the very same bytes.
    fn map_event(record: &CallRecord, outcome: Result<Option<&Value>, &AwsError>) -> Vec<u8> {
        let non_empty = |v: Option<&Value>| non_empty(v).cloned().unwrap_or(Value::Null);
        let mut event = Map::new();
        event.insert("eventVersion".into(), json!(EVENT_VERSION));
        let identity = match &record.caller {
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
            None => match &record.access_key_id {
                Some(key) => json!({ "type": "Unknown", "accessKeyId": key }),
                None => json!({ "type": "Unknown" }),
            },
        };
        event.insert("userIdentity".into(), identity);
        event.insert("eventTime".into(), json!(aws_timestamp(record.event_time)));
        event.insert("eventSource".into(), json!(record.event_source));
        event.insert("eventName".into(), json!(record.event_name));
        event.insert("awsRegion".into(), json!(record.region));
        event.insert("sourceIPAddress".into(), json!(record.source_ip));
        event.insert("userAgent".into(), json!(record.user_agent));
        if let Err(error) = outcome {
            event.insert("errorCode".into(), json!(error.code));
            event.insert("errorMessage".into(), json!(error.message));
        }
        event.insert(
            "requestParameters".into(),
            non_empty(record.request_parameters.as_ref()),
        );
        let response = match outcome {
            Ok(output) if !record.read_only => non_empty(output),
            _ => Value::Null,
        };
        event.insert("responseElements".into(), response);
        event.insert("requestID".into(), json!(record.request_id));
        event.insert("eventID".into(), json!(record.event_id));
        event.insert("readOnly".into(), json!(record.read_only));
        event.insert("eventType".into(), json!("AwsApiCall"));
        event.insert("managementEvent".into(), json!(true));
        if let Some(caller) = &record.caller {
            event.insert("recipientAccountId".into(), json!(caller.account_id));
        }
        event.insert("eventCategory".into(), json!("Management"));
        serde_json::to_vec(&Value::Object(event)).unwrap()
    }

    #[test]
    fn events_are_byte_for_byte_what_the_map_built() {
        let user = Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            principal_id: "AIDAEXAMPLE".into(),
            kind: PrincipalKind::IamUser,
            user_name: Some("alice".into()),
            access_key_id: "AKIAALICE".into(),
        };
        let output =
            json!({"User": {"UserName": "bob", "Tags": [{"Key": "k", "Value": "v\"\u{e9}"}]}});
        let empty = json!({});
        let error = AwsError::new("AccessDenied", 403, "User: x is not \"authorized\"");
        let mut records = Vec::new();
        for caller in [
            Some(user),
            Some(Caller::root("123456789012", "AKIAX")),
            None,
        ] {
            for access_key_id in [Some("AKIAX".to_owned()), None] {
                for read_only in [true, false] {
                    for params in [None, Some(json!({})), Some(json!({"UserName": "bob"}))] {
                        let mut r = record();
                        r.caller = caller.clone();
                        r.access_key_id = access_key_id.clone();
                        r.read_only = read_only;
                        r.request_parameters = params;
                        r.user_agent = "aws-cli/2 \u{1f600} \"quoted\"".into();
                        records.push(r);
                    }
                }
            }
        }
        for r in &records {
            for outcome in [Ok(None), Ok(Some(&output)), Ok(Some(&empty)), Err(&error)] {
                assert_eq!(
                    String::from_utf8(r.event(outcome)).unwrap(),
                    String::from_utf8(map_event(r, outcome)).unwrap()
                );
            }
        }
    }
}
