//! Request-rate quotas for the cryptographic operations, per account and region, shared by
//! the operations as AWS shares them, answering ThrottlingException when exceeded.
//!
//! AWS's defaults (requests per second): symmetric cryptographic operations (Encrypt,
//! Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom, GenerateMac, VerifyMac) 5,500 —
//! AWS's lowest regional default; RSA keys' operations 500; ECC keys' operations 300.
//! Each can be set with an environment variable read at first use:
//! `RAMPART_KMS_SYMMETRIC_RPS`, `RAMPART_KMS_RSA_RPS`, `RAMPART_KMS_ECC_RPS`.
//!
//! A token bucket per (account, region, class) holds one second's worth of requests and
//! refills continuously, so a burst up to the quota passes and a retry after backoff
//! succeeds. The buckets live in memory: the quota is per Rampart process.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rampart_service::Env;
use time::OffsetDateTime;

use crate::error::KmsError;

/// The quotas the cryptographic operations count against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum QuotaClass {
    /// Symmetric encryption and HMAC keys, and GenerateRandom.
    Symmetric,
    /// RSA keys.
    Rsa,
    /// Elliptic-curve keys.
    Ecc,
}

impl QuotaClass {
    fn default_rate(self) -> f64 {
        match self {
            Self::Symmetric => 5_500.0,
            Self::Rsa => 500.0,
            Self::Ecc => 300.0,
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Self::Symmetric => "RAMPART_KMS_SYMMETRIC_RPS",
            Self::Rsa => "RAMPART_KMS_RSA_RPS",
            Self::Ecc => "RAMPART_KMS_ECC_RPS",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Symmetric => "Cryptographic operations (symmetric)",
            Self::Rsa => "Cryptographic operations (RSA)",
            Self::Ecc => "Cryptographic operations (ECC)",
        }
    }

    /// The configured rate, read once per process.
    fn rate(self) -> f64 {
        static RATES: OnceLock<[f64; 3]> = OnceLock::new();
        let rates = RATES.get_or_init(|| {
            [Self::Symmetric, Self::Rsa, Self::Ecc].map(|class| {
                std::env::var(class.variable())
                    .ok()
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|r| *r > 0.0)
                    .unwrap_or_else(|| class.default_rate())
            })
        });
        let index = match self {
            Self::Symmetric => 0,
            Self::Rsa => 1,
            Self::Ecc => 2,
        };
        rates
            .get(index)
            .copied()
            .unwrap_or_else(|| self.default_rate())
    }
}

/// One bucket: tokens left, and when it was last refilled.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

/// The buckets, per (account, region, class).
#[derive(Debug, Default)]
pub(crate) struct Quotas {
    buckets: Mutex<HashMap<(String, String, QuotaClass), Bucket>>,
}

impl Quotas {
    /// Takes one request from the bucket, or refuses it.
    pub(crate) fn take(
        &self,
        account: &str,
        region: &str,
        class: QuotaClass,
        rate: f64,
        now: OffsetDateTime,
    ) -> Result<(), KmsError> {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; do not throttle because of it.
            return Ok(());
        };
        let bucket = buckets
            .entry((account.to_owned(), region.to_owned(), class))
            .or_insert(Bucket {
                tokens: rate,
                at: now,
            });
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = bucket.at.max(now);
        if bucket.tokens < 1.0 {
            return Err(KmsError::Throttling(format!(
                "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls. ({} request rate quota: {rate} per second)",
                class.name()
            )));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }
}

fn process_quotas() -> &'static Quotas {
    static QUOTAS: OnceLock<Quotas> = OnceLock::new();
    QUOTAS.get_or_init(Quotas::default)
}

/// Counts one cryptographic request of the caller's account in the request's region.
pub(crate) fn charge(env: &Env<'_>, class: QuotaClass) -> Result<(), KmsError> {
    process_quotas().take(
        &env.caller.account_id,
        env.region,
        class,
        class.rate(),
        env.now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    #[test]
    fn bursts_to_the_quota_then_throttles_then_refills() {
        let q = Quotas::default();
        let t = datetime!(2026-11-24 12:00:00 UTC);
        for _ in 0..5 {
            q.take("1", "r", QuotaClass::Rsa, 5.0, t).unwrap();
        }
        assert!(matches!(
            q.take("1", "r", QuotaClass::Rsa, 5.0, t),
            Err(KmsError::Throttling(_))
        ));
        // Other accounts, regions and classes have their own buckets.
        q.take("2", "r", QuotaClass::Rsa, 5.0, t).unwrap();
        q.take("1", "r", QuotaClass::Ecc, 5.0, t).unwrap();
        // A fifth of a second later, one more request fits.
        q.take(
            "1",
            "r",
            QuotaClass::Rsa,
            5.0,
            t + Duration::milliseconds(200),
        )
        .unwrap();
    }
}
