//! Fuzzes what `rampart trail validate` reads from a bucket it does not trust: a ListPublicKeys
//! answer (`--public-keys`) and a digest file with its signature. Any bytes must give keys or a
//! typed error, a digest or nothing, and a signature check that answers, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_cloudtrail::files::{self, Digest};

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input: the keys' answer, then the digest (its signature in
    // its last 64 bytes, hex or not).
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (keys, digest) = rest.split_at(usize::from(split).min(rest.len()));
    let keys = files::public_keys_from_list(keys).unwrap_or_default();
    let (content, signature) = digest.split_at(digest.len().saturating_sub(64));
    let raw = files::gunzip(content).unwrap_or_else(|_| content.to_vec());
    let Ok(parsed) = serde_json::from_slice::<Digest>(&raw) else {
        return;
    };
    let hash = files::sha256_hex(&raw);
    let signature = String::from_utf8_lossy(signature);
    for key in keys.values() {
        let _ = files::signature_verifies(key, &parsed, &hash, &signature);
    }
});
