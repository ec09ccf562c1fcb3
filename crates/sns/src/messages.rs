//! The messages SNS delivers, as AWS documents them: the JSON body of a `Notification`, a
//! `SubscriptionConfirmation` and an `UnsubscribeConfirmation`, the string each is signed
//! over, and the `x-amz-sns-*` headers of an HTTP/S delivery.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::SnsError;
use crate::signing::SigningKey;

/// What every message names: where its certificate and unsubscribe link are served.
pub(crate) struct Links<'a> {
    /// Rampart's endpoint, e.g. `http://127.0.0.1:4599`.
    pub(crate) base_url: &'a str,
    pub(crate) key: &'a SigningKey,
    /// `1` or `2`.
    pub(crate) signature_version: &'a str,
}

/// A message attribute as a Notification carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Attribute {
    #[serde(rename = "Type")]
    pub(crate) data_type: String,
    #[serde(rename = "Value")]
    pub(crate) value: String,
}

/// AWS's timestamp in messages: UTC with milliseconds.
pub(crate) fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The string a message is signed over: the named fields, each as its name, a newline, its
/// value, a newline, in this order, fields the message lacks left out.
pub(crate) fn string_to_sign(message: &Map<String, Value>, fields: &[&str]) -> String {
    let mut out = String::new();
    for field in fields {
        if let Some(value) = message.get(*field).and_then(Value::as_str) {
            out.push_str(field);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        }
    }
    out
}

/// The fields a Notification is signed over.
pub(crate) const NOTIFICATION_FIELDS: &[&str] = &[
    "Message",
    "MessageId",
    "Subject",
    "Timestamp",
    "TopicArn",
    "Type",
];
/// The fields a SubscriptionConfirmation or UnsubscribeConfirmation is signed over.
pub(crate) const CONFIRMATION_FIELDS: &[&str] = &[
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
];

fn signed(
    links: &Links<'_>,
    mut message: Map<String, Value>,
    fields: &[&str],
) -> Result<Map<String, Value>, SnsError> {
    let signature = links
        .key
        .sign(links.signature_version, &string_to_sign(&message, fields))?;
    message.insert(
        "SignatureVersion".to_owned(),
        json!(links.signature_version),
    );
    message.insert("Signature".to_owned(), json!(signature));
    message.insert(
        "SigningCertURL".to_owned(),
        json!(format!(
            "{}/_rampart/sns/{}",
            links.base_url,
            links.key.certificate_file()
        )),
    );
    Ok(message)
}

fn query_escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The link that confirms a subscription: ConfirmSubscription on Rampart's endpoint.
pub(crate) fn subscribe_url(base_url: &str, topic_arn: &str, token: &str) -> String {
    format!(
        "{base_url}/?Action=ConfirmSubscription&TopicArn={}&Token={}",
        query_escape(topic_arn),
        query_escape(token)
    )
}

/// The link that ends a subscription.
pub(crate) fn unsubscribe_url(base_url: &str, subscription_arn: &str) -> String {
    format!(
        "{base_url}/?Action=Unsubscribe&SubscriptionArn={}",
        query_escape(subscription_arn)
    )
}

/// A signed SubscriptionConfirmation (or UnsubscribeConfirmation, `kind`).
pub(crate) fn confirmation(
    links: &Links<'_>,
    kind: &str,
    message_id: &str,
    topic_arn: &str,
    token: &str,
    at: time::OffsetDateTime,
) -> Result<Map<String, Value>, SnsError> {
    let text = if kind == "SubscriptionConfirmation" {
        format!(
            "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
        )
    } else {
        format!(
            "You have chosen to deactivate subscription {topic_arn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
        )
    };
    let mut message = Map::new();
    message.insert("Type".to_owned(), json!(kind));
    message.insert("MessageId".to_owned(), json!(message_id));
    message.insert("Token".to_owned(), json!(token));
    message.insert("TopicArn".to_owned(), json!(topic_arn));
    message.insert("Message".to_owned(), json!(text));
    message.insert(
        "SubscribeURL".to_owned(),
        json!(subscribe_url(links.base_url, topic_arn, token)),
    );
    message.insert("Timestamp".to_owned(), json!(timestamp(at)));
    signed(links, message, CONFIRMATION_FIELDS)
}

/// What one Publish sends, before it is addressed to a subscription.
pub(crate) struct Published<'a> {
    pub(crate) message_id: &'a str,
    pub(crate) topic_arn: &'a str,
    pub(crate) subject: Option<&'a str>,
    pub(crate) message: &'a str,
    pub(crate) at: time::OffsetDateTime,
    pub(crate) attributes: &'a BTreeMap<String, Attribute>,
}

/// A signed Notification for the subscription `subscription_arn`.
pub(crate) fn notification(
    links: &Links<'_>,
    published: &Published<'_>,
    subscription_arn: &str,
) -> Result<Map<String, Value>, SnsError> {
    let mut message = Map::new();
    message.insert("Type".to_owned(), json!("Notification"));
    message.insert("MessageId".to_owned(), json!(published.message_id));
    message.insert("TopicArn".to_owned(), json!(published.topic_arn));
    if let Some(subject) = published.subject {
        message.insert("Subject".to_owned(), json!(subject));
    }
    message.insert("Message".to_owned(), json!(published.message));
    message.insert("Timestamp".to_owned(), json!(timestamp(published.at)));
    let mut message = signed(links, message, NOTIFICATION_FIELDS)?;
    message.insert(
        "UnsubscribeURL".to_owned(),
        json!(unsubscribe_url(links.base_url, subscription_arn)),
    );
    if !published.attributes.is_empty() {
        message.insert(
            "MessageAttributes".to_owned(),
            serde_json::to_value(published.attributes).unwrap_or_default(),
        );
    }
    Ok(message)
}

/// The headers of an HTTP/S delivery of `message` to `subscription_arn` (none for a
/// confirmation, which has no subscription yet).
pub(crate) fn headers(
    kind: &str,
    message_id: &str,
    topic_arn: &str,
    subscription_arn: Option<&str>,
    raw: bool,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("x-amz-sns-message-type".to_owned(), kind.to_owned()),
        ("x-amz-sns-message-id".to_owned(), message_id.to_owned()),
        ("x-amz-sns-topic-arn".to_owned(), topic_arn.to_owned()),
    ];
    if let Some(arn) = subscription_arn {
        headers.push(("x-amz-sns-subscription-arn".to_owned(), arn.to_owned()));
    }
    if raw {
        headers.push(("x-amz-sns-rawdelivery".to_owned(), "true".to_owned()));
    }
    headers.push((
        "content-type".to_owned(),
        "text/plain; charset=UTF-8".to_owned(),
    ));
    headers.push((
        "user-agent".to_owned(),
        "Amazon Simple Notification Service Agent".to_owned(),
    ));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_to_sign_follows_aws_order_and_leaves_out_what_is_missing() {
        let message = json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t",
                             "Message": "hello", "Timestamp": "2026-11-24T12:00:00.000Z"});
        let text = string_to_sign(message.as_object().unwrap(), NOTIFICATION_FIELDS);
        assert_eq!(
            text,
            "Message\nhello\nMessageId\nm\nTimestamp\n2026-11-24T12:00:00.000Z\nTopicArn\nt\nType\nNotification\n"
        );
        assert_eq!(
            timestamp(time::macros::datetime!(2026-11-24 12:00:00.123 UTC)),
            "2026-11-24T12:00:00.123Z"
        );
    }
}
