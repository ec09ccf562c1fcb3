//! LookupEvents: the caller's account's events of the last 90 days, newest first, answered
//! from the journal's indexes.

use rampart_service::paging::PageSize;
use rampart_service::{Env, Value, aws_timestamp};
use rampart_store::{JournalAttribute, JournalHit, JournalQuery, ReadTx};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::CloudTrailError;

/// How far back LookupEvents reaches, as AWS documents.
const LOOKBACK_SECONDS: i64 = 90 * 24 * 3600;
/// AWS's page size when MaxResults is not given, and its maximum.
const PAGE_SIZE: PageSize = PageSize::new(50, 50);

/// LookupEvents' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LookupEventsInput {
    lookup_attributes: Option<Vec<LookupAttribute>>,
    start_time: Option<String>,
    end_time: Option<String>,
    event_category: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// One lookup attribute.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

/// LookupEvents' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LookupEventsOutput {
    events: Vec<EventOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// One event as LookupEvents shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EventOutput {
    event_id: String,
    event_name: String,
    read_only: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: String,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<ResourceOutput>,
    cloud_trail_event: String,
}

/// One resource of an event.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResourceOutput {
    resource_type: String,
    resource_name: String,
}

fn attribute(attribute: &LookupAttribute) -> Result<JournalAttribute, CloudTrailError> {
    let value = attribute.attribute_value.clone();
    Ok(match attribute.attribute_key.as_str() {
        "EventId" => JournalAttribute::EventId(value),
        "EventName" => JournalAttribute::EventName(value),
        "ReadOnly" => match value.as_str() {
            "true" => JournalAttribute::ReadOnly(true),
            "false" => JournalAttribute::ReadOnly(false),
            _ => {
                return Err(CloudTrailError::InvalidLookupAttributes(format!(
                    "The attribute value {value} is not valid for ReadOnly: use true or false."
                )));
            }
        },
        "Username" => JournalAttribute::Username(value),
        "ResourceType" => JournalAttribute::ResourceType(value),
        "ResourceName" => JournalAttribute::ResourceName(value),
        "EventSource" => JournalAttribute::EventSource(value),
        "AccessKeyId" => JournalAttribute::AccessKeyId(value),
        other => {
            return Err(CloudTrailError::InvalidLookupAttributes(format!(
                "The attribute key {other} is not valid."
            )));
        }
    })
}

pub(crate) fn seconds(text: &str) -> Result<i64, CloudTrailError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| CloudTrailError::InvalidTimeRange(format!("Invalid time: {text}")))
}

/// The pagination token: the (event time, sequence) position of the page's last event.
fn encode_token(hit: &JournalHit) -> String {
    format!("{:x}-{:x}", hit.event_time, hit.entry.seq)
}

fn decode_token(token: &str) -> Result<(i64, u64), CloudTrailError> {
    let invalid = || CloudTrailError::InvalidNextToken("Invalid NextToken".to_owned());
    let (time, seq) = token.split_once('-').ok_or_else(invalid)?;
    Ok((
        i64::from_str_radix(time, 16).map_err(|_| invalid())?,
        u64::from_str_radix(seq, 16).map_err(|_| invalid())?,
    ))
}

/// LookupEvents.
pub(crate) fn lookup_events(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: LookupEventsInput,
) -> Result<LookupEventsOutput, CloudTrailError> {
    let attributes = input.lookup_attributes.unwrap_or_default();
    if attributes.len() > 1 {
        return Err(CloudTrailError::InvalidLookupAttributes(
            "You can specify only one lookup attribute.".to_owned(),
        ));
    }
    let attribute = attributes.first().map(attribute).transpose()?;
    // Only management events are recorded: an Insights lookup finds nothing.
    if input.event_category.as_deref() == Some("insight") {
        return Ok(LookupEventsOutput {
            events: Vec::new(),
            next_token: None,
        });
    }
    let now = env.now.unix_timestamp();
    let start_time = input.start_time.as_deref().map(seconds).transpose()?;
    let end_time = input.end_time.as_deref().map(seconds).transpose()?;
    if let (Some(start), Some(end)) = (start_time, end_time)
        && start > end
    {
        return Err(CloudTrailError::InvalidTimeRange(
            "Start time must be before end time.".to_owned(),
        ));
    }
    let before = input.next_token.as_deref().map(decode_token).transpose()?;
    let requested = input
        .max_results
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let limit = PAGE_SIZE.of(requested);
    let query = JournalQuery {
        account: env.caller.account_id.clone(),
        attribute,
        start_time: start_time.unwrap_or(i64::MIN).max(now - LOOKBACK_SECONDS),
        end_time: end_time.unwrap_or(i64::MAX),
        before,
        // One more than the page tells whether another page follows.
        limit: limit + 1,
    };
    let mut hits = tx.journal_lookup(&query)?;
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next_token = if more {
        hits.last().map(encode_token)
    } else {
        None
    };
    Ok(LookupEventsOutput {
        events: hits.iter().filter_map(event_output).collect(),
        next_token,
    })
}

/// The LookupEvents view of a journal entry; entries that are not JSON (never written by the
/// audit step) are skipped.
fn event_output(hit: &JournalHit) -> Option<EventOutput> {
    let event: Value = serde_json::from_slice(&hit.entry.event).ok()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let identity = event.get("userIdentity");
    let field = |name: &str| identity.and_then(|i| i.get(name));
    let username = match text(field("type")).as_deref() {
        Some("Root") => Some("root".to_owned()),
        Some("IAMUser") => text(field("userName")),
        Some("AssumedRole" | "FederatedUser") => {
            text(field("arn")).and_then(|arn| arn.rsplit('/').next().map(str::to_owned))
        }
        _ => None,
    };
    let resources = event
        .get("resources")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    let arn = r.get("ARN").and_then(Value::as_str)?;
                    let kind = r.get("type").and_then(Value::as_str)?;
                    Some(ResourceOutput {
                        resource_type: kind.to_owned(),
                        resource_name: resource_name(kind, arn).to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let time = OffsetDateTime::from_unix_timestamp(hit.event_time).ok()?;
    Some(EventOutput {
        event_id: text(event.get("eventID")).unwrap_or_default(),
        event_name: text(event.get("eventName")).unwrap_or_default(),
        read_only: event
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        access_key_id: text(field("accessKeyId")),
        event_time: aws_timestamp(time),
        event_source: text(event.get("eventSource")).unwrap_or_default(),
        username,
        resources,
        cloud_trail_event: String::from_utf8_lossy(&hit.entry.event).into_owned(),
    })
}

/// The name LookupEvents reports a resource by: IAM's users, roles, groups and instance
/// profiles by name (the last segment of their ARN, after any path), the rest by ARN.
fn resource_name<'a>(kind: &str, arn: &'a str) -> &'a str {
    match kind {
        "AWS::IAM::User" | "AWS::IAM::Role" | "AWS::IAM::Group" | "AWS::IAM::InstanceProfile" => {
            arn.rsplit('/').next().unwrap_or(arn)
        }
        _ => arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let hit = JournalHit {
            entry: rampart_store::JournalEntry {
                seq: 77,
                event: Vec::new(),
            },
            event_time: 1_795_521_600,
        };
        assert_eq!(
            decode_token(&encode_token(&hit)).unwrap(),
            (1_795_521_600, 77)
        );
        assert!(decode_token("nope").is_err());
    }
}
