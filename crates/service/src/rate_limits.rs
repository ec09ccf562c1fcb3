//! Request-rate quotas, per account, region and quota: one table per server, emptied when the
//! server's state is reset. A service names its quota and its rate; the table counts.
//!
//! A token bucket per (account, region, quota) holds one second's worth of requests and
//! refills continuously, so a burst up to the quota passes and a retry after backoff
//! succeeds.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

/// One bucket: tokens left, and when it was last refilled.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

/// The server's request-rate buckets.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<(String, String, &'static str), Bucket>>,
}

impl RateLimits {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request of `account` in `region` against `quota`, allowed `rate` requests
    /// per second; `false` when the quota is spent.
    pub fn take(
        &self,
        account: &str,
        region: &str,
        quota: &'static str,
        rate: f64,
        now: OffsetDateTime,
    ) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; do not throttle because of it.
            return true;
        };
        let bucket = buckets
            .entry((account.to_owned(), region.to_owned(), quota))
            .or_insert(Bucket {
                tokens: rate,
                at: now,
            });
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = bucket.at.max(now);
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }

    /// Forgets every bucket (the server's state was reset).
    pub fn clear(&self) {
        if let Ok(mut buckets) = self.buckets.lock() {
            buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn bursts_to_the_quota_then_throttles_then_refills_and_clears() {
        let limits = RateLimits::new();
        let t0 = datetime!(2026-11-24 12:00:00 UTC);
        for _ in 0..3 {
            assert!(limits.take("a", "us-east-1", "q", 3.0, t0));
        }
        assert!(!limits.take("a", "us-east-1", "q", 3.0, t0));
        // Other accounts, regions and quotas have their own buckets.
        assert!(limits.take("b", "us-east-1", "q", 3.0, t0));
        assert!(limits.take("a", "eu-west-1", "q", 3.0, t0));
        assert!(limits.take("a", "us-east-1", "other", 3.0, t0));
        assert!(limits.take("a", "us-east-1", "q", 3.0, t0 + Duration::milliseconds(400)));
        assert!(!limits.take("a", "us-east-1", "q", 3.0, t0 + Duration::milliseconds(400)));
        limits.clear();
        assert!(limits.take("a", "us-east-1", "q", 3.0, t0 + Duration::milliseconds(400)));
    }
}
