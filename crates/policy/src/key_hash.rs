//! A small, fast hasher for the short string keys of the hot path (condition
//! key names, action names). SipHash, std's default, costs more than the rest
//! of a lookup for keys this short.
//!
//! FNV-1a is not resistant to deliberate collisions; that is acceptable here
//! because the maps are small and bounded (one request's context, one
//! policy set's action names), so a collision costs a few comparisons, never
//! unbounded work.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by short strings, hashed with [`KeyHasher`].
pub(crate) type KeyMap<V> = HashMap<Box<str>, V, BuildHasherDefault<KeyHasher>>;
