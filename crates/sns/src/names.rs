//! Topic ARNs, names and store keys.
//!
//! A topic is kept under `<account>:<region>:<name>`; a name holds only letters, digits, `-`
//! and `_` (AWS's rule), so no key reaches into another topic's. A topic is found by the
//! account and region of the ARN a request gives, so that another account's topic is that
//! account's (its policy decides whether the caller may use it).

use crate::error::SnsError;

/// The most characters a topic name has.
const MAX_NAME: usize = 256;

/// A topic as an ARN names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicName {
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) name: String,
}

impl TopicName {
    /// `arn:aws:sns:<region>:<account>:<name>`.
    pub(crate) fn arn(&self) -> String {
        topic_arn(&self.region, &self.account, &self.name)
    }

    /// Its store key.
    pub(crate) fn key(&self) -> String {
        format!("{}:{}:{}", self.account, self.region, self.name)
    }
}

/// `arn:aws:sns:<region>:<account>:<name>`.
pub(crate) fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// The prefix of every topic of `account` in `region`.
pub(crate) fn topics_prefix(account: &str, region: &str) -> String {
    format!("{account}:{region}:")
}

/// Whether `name` is a topic name AWS accepts for a standard topic.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The topic an ARN names, or `None` for a value that is no topic ARN.
pub(crate) fn parse_topic_arn(arn: &str) -> Option<TopicName> {
    let rest = arn.strip_prefix("arn:aws:sns:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (account_ok && region_ok && (valid_name(name) || fifo_name(name))).then(|| TopicName {
        region: region.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

/// Whether `name` is the name of a FIFO topic (`.fifo` suffix).
pub(crate) fn fifo_name(name: &str) -> bool {
    name.strip_suffix(".fifo").is_some_and(valid_name)
}

/// The topic a request's `TopicArn` names, or AWS's `Invalid parameter: TopicArn`.
pub(crate) fn topic_of(arn: &str) -> Result<TopicName, SnsError> {
    parse_topic_arn(arn).ok_or_else(|| SnsError::invalid("Invalid parameter: TopicArn"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_parse_and_refuse_what_is_no_topic() {
        let t = parse_topic_arn("arn:aws:sns:us-east-1:123456789012:alarms").unwrap();
        assert_eq!(t.key(), "123456789012:us-east-1:alarms");
        assert_eq!(t.arn(), "arn:aws:sns:us-east-1:123456789012:alarms");
        for bad in [
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:12345:alarms",
            "arn:aws:sns:us-east-1:123456789012:a:b",
            "arn:aws:sqs:us-east-1:123456789012:alarms",
            "arn:aws:sns::123456789012:alarms",
            "alarms",
        ] {
            assert_eq!(parse_topic_arn(bad), None, "{bad}");
        }
        assert!(valid_name(&"a".repeat(256)));
        assert!(!valid_name(&"a".repeat(257)));
        assert!(!valid_name("has space"));
        assert!(fifo_name("orders.fifo"));
    }
}
