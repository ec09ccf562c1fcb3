//! Delivery policies for HTTP/S endpoints: what a topic's `DeliveryPolicy` may say, and the
//! retry policy in effect (AWS's default where the topic sets none: 3 retries, 20 seconds
//! apart, linear).
//!
//! The document is untrusted JSON from the caller; it is parsed into typed values with
//! bounds AWS documents (minDelayTarget ≥ 1, maxDelayTarget ≤ 3600, numRetries ≤ 100).

use serde::{Deserialize, Serialize};

use crate::error::SnsError;

/// The most retries AWS allows a delivery policy.
const MAX_RETRIES: u32 = 100;
/// The longest delay AWS allows between retries, in seconds.
const MAX_DELAY: u32 = 3600;

/// A healthy-retry policy: how delivery to an HTTP/S endpoint is retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Seconds before the first delayed retry.
    pub min_delay_target: u32,
    /// The longest delay between retries, in seconds.
    pub max_delay_target: u32,
    /// Retries in all (immediate, pre-backoff, backoff and post-backoff).
    pub num_retries: u32,
    /// Retries at the longest delay after the backoff phase.
    #[serde(default)]
    pub num_max_delay_retries: u32,
    /// Retries with no delay, first.
    #[serde(default)]
    pub num_no_delay_retries: u32,
    /// Retries at the shortest delay before the backoff phase.
    #[serde(default)]
    pub num_min_delay_retries: u32,
    /// `linear`, `arithmetic`, `geometric` or `exponential`.
    #[serde(default = "linear")]
    pub backoff_function: String,
}

fn linear() -> String {
    "linear".to_owned()
}

impl Default for RetryPolicy {
    /// AWS's default for HTTP/S.
    fn default() -> Self {
        Self {
            min_delay_target: 20,
            max_delay_target: 20,
            num_retries: 3,
            num_max_delay_retries: 0,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            backoff_function: linear(),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 for the first), in seconds: no-delay retries,
    /// then minimum-delay ones, then the backoff phase from the minimum to the maximum, then
    /// maximum-delay ones.
    pub fn delay_before(&self, retry: u32) -> u32 {
        if retry <= self.num_no_delay_retries {
            return 0;
        }
        let after_no_delay = retry - self.num_no_delay_retries;
        if after_no_delay <= self.num_min_delay_retries {
            return self.min_delay_target;
        }
        let backoff_retries = self
            .num_retries
            .saturating_sub(self.num_no_delay_retries)
            .saturating_sub(self.num_min_delay_retries)
            .saturating_sub(self.num_max_delay_retries);
        let step = after_no_delay - self.num_min_delay_retries;
        if step > backoff_retries || backoff_retries <= 1 {
            return if step > backoff_retries {
                self.max_delay_target
            } else {
                self.min_delay_target
            };
        }
        let (min, max) = (
            f64::from(self.min_delay_target),
            f64::from(self.max_delay_target),
        );
        // Position along the backoff phase, 0 at its first retry and 1 at its last.
        let x = f64::from(step - 1) / f64::from(backoff_retries - 1);
        let fraction = match self.backoff_function.as_str() {
            "arithmetic" => x * x,
            "geometric" => x.powi(3),
            "exponential" => {
                if min > 0.0 {
                    ((max / min).powf(x) * min - min) / (max - min).max(1.0)
                } else {
                    x
                }
            }
            _ => x,
        };
        let delay = min + (max - min) * fraction.clamp(0.0, 1.0);
        // INVARIANT: delay lies between min and max, both u32.
        delay.round().clamp(min, max) as u32
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header_content_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_healthy_retry_policy: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disable_subscription_overrides: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_throttle_policy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_request_policy: Option<RequestPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct DeliveryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http: Option<HttpPolicy>,
}

fn invalid(reason: impl std::fmt::Display) -> SnsError {
    SnsError::invalid(format!("Invalid parameter: DeliveryPolicy: {reason}"))
}

fn parse(document: &str) -> Result<DeliveryPolicy, SnsError> {
    let policy: DeliveryPolicy = serde_json::from_str(document).map_err(invalid)?;
    if let Some(retry) = policy
        .http
        .as_ref()
        .and_then(|h| h.default_healthy_retry_policy.as_ref())
    {
        check_retry(retry)?;
    }
    Ok(policy)
}

fn check_retry(retry: &RetryPolicy) -> Result<(), SnsError> {
    if retry.min_delay_target < 1 || retry.min_delay_target > retry.max_delay_target {
        return Err(invalid(
            "minDelayTarget must be at least 1 and at most maxDelayTarget",
        ));
    }
    if retry.max_delay_target > MAX_DELAY {
        return Err(invalid("maxDelayTarget must be at most 3600"));
    }
    if retry.num_retries > MAX_RETRIES {
        return Err(invalid("numRetries must be at most 100"));
    }
    let phases = retry
        .num_no_delay_retries
        .saturating_add(retry.num_min_delay_retries)
        .saturating_add(retry.num_max_delay_retries);
    if phases > retry.num_retries {
        return Err(invalid(
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries",
        ));
    }
    if !["linear", "arithmetic", "geometric", "exponential"]
        .contains(&retry.backoff_function.as_str())
    {
        return Err(invalid(
            "backoffFunction must be one of linear, arithmetic, geometric, exponential",
        ));
    }
    Ok(())
}

/// Refuses a delivery policy AWS would refuse.
pub(crate) fn check(document: &str) -> Result<(), SnsError> {
    parse(document).map(|_| ())
}

/// The retry policy in effect for HTTP/S deliveries of a topic with `document`.
pub fn retry_policy(document: Option<&str>) -> RetryPolicy {
    document
        .and_then(|d| parse(d).ok())
        .and_then(|p| p.http)
        .and_then(|h| h.default_healthy_retry_policy)
        .unwrap_or_default()
}

/// The `EffectiveDeliveryPolicy` GetTopicAttributes shows: the topic's policy over AWS's
/// default.
pub(crate) fn effective(document: Option<&str>) -> String {
    let Some(policy) = document.and_then(|d| parse(d).ok()) else {
        return crate::topics::DEFAULT_EFFECTIVE_DELIVERY_POLICY.to_owned();
    };
    let http = policy.http.unwrap_or_default();
    let merged = HttpPolicy {
        default_healthy_retry_policy: Some(http.default_healthy_retry_policy.unwrap_or_default()),
        disable_subscription_overrides: Some(http.disable_subscription_overrides.unwrap_or(false)),
        default_throttle_policy: http.default_throttle_policy,
        default_request_policy: Some(http.default_request_policy.unwrap_or(RequestPolicy {
            header_content_type: Some("text/plain; charset=UTF-8".to_owned()),
        })),
    };
    serde_json::to_string(&DeliveryPolicy { http: Some(merged) })
        .unwrap_or_else(|_| crate::topics::DEFAULT_EFFECTIVE_DELIVERY_POLICY.to_owned())
}

/// Parses an untrusted delivery policy, for the fuzz target: never panics.
pub fn fuzz_delivery_policy(document: &str) {
    if let Ok(policy) = parse(document)
        && let Some(retry) = policy.http.and_then(|h| h.default_healthy_retry_policy)
    {
        for n in 0..=retry.num_retries.min(MAX_RETRIES) {
            let _ = retry.delay_before(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_default_is_three_retries_twenty_seconds_apart() {
        let policy = retry_policy(None);
        assert_eq!(policy.num_retries, 3);
        assert_eq!(
            (1..=3).map(|n| policy.delay_before(n)).collect::<Vec<_>>(),
            [20, 20, 20]
        );
    }

    #[test]
    fn a_policy_is_checked_and_overrides_the_default() {
        let doc = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":4,"numRetries":4,"numNoDelayRetries":1,"backoffFunction":"linear"}}}"#;
        check(doc).unwrap();
        let policy = retry_policy(Some(doc));
        assert_eq!(
            (1..=4).map(|n| policy.delay_before(n)).collect::<Vec<_>>(),
            [0, 1, 3, 4]
        );
        assert!(effective(Some(doc)).contains(r#""numRetries":4"#));
        for bad in [
            "not json",
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":4,"numRetries":1}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":4000,"numRetries":1}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":4,"numRetries":101}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":4,"numRetries":1,"backoffFunction":"random"}}}"#,
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
