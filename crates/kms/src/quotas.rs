//! Request-rate quotas for the cryptographic operations, per account and region, shared by
//! the operations as AWS shares them, answering ThrottlingException when exceeded.
//!
//! AWS's defaults (requests per second): symmetric cryptographic operations (Encrypt,
//! Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom, GenerateMac, VerifyMac) 5,500 —
//! AWS's lowest regional default; RSA keys' operations 500; ECC keys' operations 300.
//! Each can be set with an environment variable read at first use:
//! `RAMPART_KMS_SYMMETRIC_RPS`, `RAMPART_KMS_RSA_RPS`, `RAMPART_KMS_ECC_RPS`.
//!
//! The buckets are the server's rate table (`Env::rate_limits`): the quota is per Rampart
//! server, and a reset of its state empties them.

use std::sync::OnceLock;

use rampart_service::Env;

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

/// Counts one cryptographic request of the caller's account in the request's region, in the
/// server's rate table, answering AWS's ThrottlingException when the quota is spent.
pub(crate) fn charge(env: &Env<'_>, class: QuotaClass) -> Result<(), KmsError> {
    let rate = class.rate();
    if env.rate_limits.take(
        &env.caller.account_id,
        env.region,
        class.name(),
        rate,
        env.now,
    ) {
        Ok(())
    } else {
        Err(KmsError::Throttling(format!(
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls. ({} request rate quota: {rate} per second)",
            class.name()
        )))
    }
}
