//! Everything a handler needs from outside, passed in so handlers run without a server and
//! with a fixed clock in tests.

use rampart_crypto::RootKey;
use time::OffsetDateTime;

use crate::{Caller, Directory, Federation, Inheritance, RateLimits, ServiceCalls};

/// A source of random bytes for identifiers and secrets.
pub trait Entropy: Send + Sync {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]);
}

/// The operating system's cryptographically secure generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, out: &mut [u8]) {
        out.copy_from_slice(&rampart_crypto::random_bytes(out.len()));
    }
}

/// The request's surroundings, as a handler sees them.
pub struct Env<'a> {
    /// The authenticated caller.
    pub caller: &'a Caller,
    /// The region the request was signed for.
    pub region: &'a str,
    /// This request's ID (also in the response and the audit event).
    pub request_id: &'a str,
    /// The time the request is handled at.
    pub now: OffsetDateTime,
    /// The key that seals secrets at rest.
    pub root_key: &'a RootKey,
    /// Randomness for identifiers and secrets.
    pub entropy: &'a dyn Entropy,
    /// For calls signed with temporary credentials: what the calling session passes on to
    /// sessions it makes (transitive tags, source identity).
    pub inherited: Option<&'a Inheritance>,
    /// For calls authenticated by an identity provider's token or assertion: what it vouched
    /// for.
    pub federation: Option<&'a Federation>,
    /// The server's request-rate quotas.
    pub rate_limits: &'a RateLimits,
    /// Runs the handler's calls to other services, through the spine.
    pub calls: &'a dyn ServiceCalls,
    /// The accounts Rampart serves: principals' unique IDs, accounts' organizations.
    pub directory: &'a dyn Directory,
}

impl Env<'_> {
    /// `len` random bytes.
    pub fn random(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.entropy.fill(&mut out);
        out
    }
}
