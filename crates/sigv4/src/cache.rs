//! Derived signing keys, cached so that steady-state verification costs one
//! HMAC over the string to sign instead of five.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::constants::{SCOPE_TERMINATOR, SECRET_PREFIX};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // INVARIANT: HMAC accepts keys of any length, so `new_from_slice` cannot fail;
    // the fallback keeps the function total without a panic path.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
pub(crate) fn derive_signing_key(
    secret: &[u8],
    date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(SECRET_PREFIX.len() + secret.len());
    k_secret.extend_from_slice(SECRET_PREFIX.as_bytes());
    k_secret.extend_from_slice(secret);
    let k_date = hmac_sha256(&k_secret, date.as_bytes());
    // Wipe the prefixed copy of the secret rather than leave it to the allocator.
    k_secret.iter_mut().for_each(|b| *b = 0);
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, SCOPE_TERMINATOR.as_bytes())
}

const SHARDS: usize = 8;

struct Entry {
    /// SHA-256 of the secret the key was derived from: a lookup with another
    /// secret for the same access key id (a key re-created after a reset)
    /// must not reuse this key, or a wrong secret would verify.
    secret_fingerprint: [u8; 32],
    key: [u8; 32],
}

/// A bounded, thread-safe cache of derived signing keys keyed by
/// (access key id, date, region, service).
///
/// Each of a few shards is a `Mutex<HashMap>` that is emptied when it
/// reaches its share of the capacity: a signing key lives one day, so an
/// occasional refill costs four HMACs per active key, and no eviction order
/// needs to be kept.
pub struct SigningKeyCache {
    shards: [Mutex<HashMap<Box<str>, Entry>>; SHARDS],
    per_shard_capacity: usize,
}

impl std::fmt::Debug for SigningKeyCache {
    // Keys are secrets; only the shape is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("capacity", &(self.per_shard_capacity * SHARDS))
            .finish_non_exhaustive()
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl SigningKeyCache {
    /// A cache holding at most about `capacity` keys (at least one per shard).
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            per_shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// A cache that never keeps a key: every verification derives it.
    pub fn disabled() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            per_shard_capacity: 0,
        }
    }

    /// Forgets every key (after credentials change, for example).
    pub fn clear(&self) {
        for shard in &self.shards {
            lock(shard).clear();
        }
    }

    /// Forgets the keys of one access key id (after it is deleted or deactivated).
    pub fn invalidate(&self, access_key_id: &str) {
        let prefix = format!("{access_key_id}\0");
        for shard in &self.shards {
            lock(shard).retain(|k, _| !k.starts_with(&prefix));
        }
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The signing key for this scope, derived from `secret` unless cached.
    pub(crate) fn signing_key(
        &self,
        access_key_id: &str,
        secret: &[u8],
        date: &str,
        region: &str,
        service: &str,
    ) -> [u8; 32] {
        if self.per_shard_capacity == 0 {
            return derive_signing_key(secret, date, region, service);
        }
        let fingerprint: [u8; 32] = Sha256::digest(secret).into();
        // NUL cannot occur in a parsed credential, so the key is unambiguous.
        let cache_key = format!("{access_key_id}\0{date}\0{region}\0{service}");
        let shard = self.shard(&cache_key);
        if let Some(entry) = lock(shard).get(cache_key.as_str())
            && bool::from(entry.secret_fingerprint.ct_eq(&fingerprint))
        {
            return entry.key;
        }
        // Derived outside the lock so other verifications are not held up.
        let key = derive_signing_key(secret, date, region, service);
        let mut map = lock(shard);
        if map.len() >= self.per_shard_capacity {
            map.clear();
        }
        map.insert(
            cache_key.into_boxed_str(),
            Entry {
                secret_fingerprint: fingerprint,
                key,
            },
        );
        key
    }

    fn shard(&self, cache_key: &str) -> &Mutex<HashMap<Box<str>, Entry>> {
        let mut h = DefaultHasher::new();
        cache_key.hash(&mut h);
        let index = usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0);
        self.shards.get(index).unwrap_or(&self.shards[0])
    }
}

/// Locks a shard; a panic in another thread while holding it cannot leave
/// the map inconsistent (inserts and clears are single calls), so a poisoned
/// lock is simply taken over.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_signing_key() {
        // AWS's documented example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
        // 20150830/us-east-1/iam.
        let key = derive_signing_key(
            b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn stays_bounded_and_forgets_on_request() {
        let cache = SigningKeyCache::new(16);
        for i in 0..1000 {
            let akid = format!("AKID{i}");
            let cached = cache.signing_key(&akid, b"s", "20261124", "us-east-1", "sts");
            assert_eq!(
                cached,
                derive_signing_key(b"s", "20261124", "us-east-1", "sts")
            );
            assert!(cache.len() <= 16, "{}", cache.len());
        }
        cache.signing_key("AKIDX", b"s", "20261124", "us-east-1", "sts");
        cache.invalidate("AKIDX");
        assert!(
            lock_all_keys(&cache)
                .iter()
                .all(|k| !k.starts_with("AKIDX\0"))
        );
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn another_secret_for_the_same_key_id_is_not_served_from_cache() {
        let cache = SigningKeyCache::default();
        let a = cache.signing_key("AKID", b"one", "20261124", "us-east-1", "sts");
        let b = cache.signing_key("AKID", b"two", "20261124", "us-east-1", "sts");
        assert_ne!(a, b);
        assert_eq!(
            b,
            derive_signing_key(b"two", "20261124", "us-east-1", "sts")
        );
    }

    fn lock_all_keys(cache: &SigningKeyCache) -> Vec<String> {
        cache
            .shards
            .iter()
            .flat_map(|s| lock(s).keys().map(|k| k.to_string()).collect::<Vec<_>>())
            .collect()
    }
}
