//! The keys that sign digest files, as CloudTrail keeps them: one RSA-2048 key pair per region
//! at a time (SHA256withRSA signatures), each valid for a stated window. A key is replaced when
//! its window ends (the deliverer makes the next one when it next signs) or on demand
//! (`rampart admin rotate-trail-keys`, which ends the current window now); a replaced key stays
//! listed by ListPublicKeys for its window, so digests it signed stay verifiable.
//!
//! The private half is sealed under the root key before it reaches the store, as every secret
//! at rest; the public half is the DER `RSAPublicKey` (PKCS #1) that AWS's validator loads, and
//! its fingerprint is the hex MD5 of those bytes (32 hex digits, the form of AWS's
//! `digestPublicKeyFingerprint`).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use md5::{Digest as _, Md5};
use rampart_crypto::RootKey;
use rampart_store::{ReadTx, StoreError, WriteTx, put_json, scan_json};
use serde::{Deserialize, Serialize};

/// Where the key pairs are kept: `<region>/<validity start, 20 digits>`, so a region's keys
/// scan in the order they were made.
pub const SIGNING_KEYS_NS: &str = "cloudtrail/digest-signing-keys";

/// The signature algorithm of digest files, as AWS names it (digest field and metadata).
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// How many keys a region scan reads at once.
const SCAN_PAGE: usize = 256;

/// One region's signing key pair and its validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    /// The region whose digests it signs.
    pub region: String,
    /// Hex MD5 of [`Self::public_key`]'s DER bytes.
    pub fingerprint: String,
    /// The DER `RSAPublicKey` (PKCS #1), base64.
    pub public_key: String,
    /// The PKCS #8 private key sealed under the root key, base64.
    pub sealed_private_key: String,
    /// First second of validity (Unix seconds).
    pub validity_start: i64,
    /// End of validity (Unix seconds, exclusive).
    pub validity_end: i64,
}

/// Why a signing key could not be made, opened or used.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// aws-lc refused to make, open or use the key, or the sealed key did not open.
    #[error("the digest signing key is unusable")]
    Unusable,
}

impl SigningKey {
    fn store_key(&self) -> String {
        format!("{}/{:020}", self.region, self.validity_start.max(0))
    }

    /// Whether the key signs at `at`.
    pub fn valid_at(&self, at: i64) -> bool {
        self.validity_start <= at && at < self.validity_end
    }

    /// The raw DER `RSAPublicKey`.
    pub fn public_der(&self) -> Result<Vec<u8>, SigningKeyError> {
        data_encoding::BASE64
            .decode(self.public_key.as_bytes())
            .map_err(|_| SigningKeyError::Unusable)
    }

    /// Signs `message` with SHA256withRSA (RSASSA-PKCS1-v1_5 with SHA-256, deterministic: the
    /// same digest signed again gives the same bytes); the signature in hex, as AWS keeps it.
    pub fn sign(&self, root_key: &RootKey, message: &[u8]) -> Result<String, SigningKeyError> {
        let sealed = data_encoding::BASE64
            .decode(self.sealed_private_key.as_bytes())
            .map_err(|_| SigningKeyError::Unusable)?;
        let pkcs8 = root_key
            .open(&sealed, &context(&self.region, self.validity_start))
            .map_err(|_| SigningKeyError::Unusable)?;
        let pair = RsaKeyPair::from_pkcs8(pkcs8.expose()).map_err(|_| SigningKeyError::Unusable)?;
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )
        .map_err(|_| SigningKeyError::Unusable)?;
        Ok(data_encoding::HEXLOWER.encode(&signature))
    }
}

/// Binds a sealed private key to its purpose, region and window.
fn context(region: &str, validity_start: i64) -> Vec<u8> {
    format!("rampart cloudtrail digest signing key|{region}|{validity_start}").into_bytes()
}

/// Hex MD5 of a DER public key: the fingerprint digests and ListPublicKeys show.
pub fn fingerprint(public_der: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Md5::digest(public_der))
}

/// A new key pair for `region`, valid from `start` for `period` seconds (not yet stored).
pub fn generate(
    root_key: &RootKey,
    region: &str,
    start: i64,
    period: i64,
) -> Result<SigningKey, SigningKeyError> {
    let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| SigningKeyError::Unusable)?;
    let pkcs8 = pair.as_der().map_err(|_| SigningKeyError::Unusable)?;
    let public = pair.public_key().as_ref().to_vec();
    let sealed = root_key.seal(pkcs8.as_ref(), &context(region, start));
    Ok(SigningKey {
        region: region.to_owned(),
        fingerprint: fingerprint(&public),
        public_key: data_encoding::BASE64.encode(&public),
        sealed_private_key: data_encoding::BASE64.encode(&sealed),
        validity_start: start,
        validity_end: start.saturating_add(period.max(1)),
    })
}

/// Every key of `region`, oldest first.
pub fn region_keys(
    tx: &mut (impl ReadTx + ?Sized),
    region: &str,
) -> Result<Vec<SigningKey>, StoreError> {
    let prefix = format!("{region}/");
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: Vec<(String, SigningKey)> =
            scan_json(tx, SIGNING_KEYS_NS, &prefix, after.as_deref(), SCAN_PAGE)?;
        let full = page.len() == SCAN_PAGE;
        after = page.last().map(|(k, _)| k.clone());
        keys.extend(page.into_iter().map(|(_, key)| key));
        if !full {
            return Ok(keys);
        }
    }
}

/// The keys of `region` whose window overlaps [`start`, `end`], oldest first: what
/// ListPublicKeys answers.
pub fn keys_overlapping(
    tx: &mut (impl ReadTx + ?Sized),
    region: &str,
    start: i64,
    end: i64,
) -> Result<Vec<SigningKey>, StoreError> {
    Ok(region_keys(tx, region)?
        .into_iter()
        .filter(|k| k.validity_start <= end && k.validity_end > start)
        .collect())
}

/// The key that signs `region`'s digests at `at`, if one is stored.
pub fn key_at(
    tx: &mut (impl ReadTx + ?Sized),
    region: &str,
    at: i64,
) -> Result<Option<SigningKey>, StoreError> {
    Ok(region_keys(tx, region)?
        .into_iter()
        .rev()
        .find(|k| k.valid_at(at)))
}

/// Stores `fresh` as `region`'s key unless one valid at its start is already stored (writes
/// are serialized: the first key stored wins, whoever made it); the key in force.
pub fn install(
    tx: &mut (impl WriteTx + ?Sized),
    fresh: SigningKey,
) -> Result<SigningKey, StoreError> {
    if let Some(existing) = key_at(tx, &fresh.region, fresh.validity_start)? {
        return Ok(existing);
    }
    put_json(tx, SIGNING_KEYS_NS, &fresh.store_key(), &fresh)?;
    Ok(fresh)
}

/// Replaces `region`'s key now: the key in force (if any) ends its window at `fresh`'s start,
/// and `fresh` takes over. The old key stays listed for the window it had.
pub fn rotate(
    tx: &mut (impl WriteTx + ?Sized),
    fresh: SigningKey,
) -> Result<SigningKey, StoreError> {
    if let Some(mut current) = key_at(tx, &fresh.region, fresh.validity_start)? {
        current.validity_end = fresh.validity_start;
        put_json(tx, SIGNING_KEYS_NS, &current.store_key(), &current)?;
    }
    put_json(tx, SIGNING_KEYS_NS, &fresh.store_key(), &fresh)?;
    Ok(fresh)
}

/// Every region that has a signing key.
pub fn regions(tx: &mut (impl ReadTx + ?Sized)) -> Result<Vec<String>, StoreError> {
    let mut regions: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = tx.scan(SIGNING_KEYS_NS, "", after.as_deref(), SCAN_PAGE)?;
        let full = page.len() == SCAN_PAGE;
        after = page.last().map(|(k, _)| k.clone());
        for (key, _) in page {
            if let Some((region, _)) = key.split_once('/')
                && regions.last().map(String::as_str) != Some(region)
            {
                regions.push(region.to_owned());
            }
        }
        if !full {
            return Ok(regions);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    #[test]
    fn signatures_verify_with_the_pkcs1_public_key_and_repeat() {
        let root = RootKey::generate();
        let key = generate(&root, "us-east-1", 1_000, 3_600).unwrap();
        assert_eq!(key.fingerprint.len(), 32);
        assert!(key.valid_at(1_000) && key.valid_at(4_599) && !key.valid_at(4_600));
        let der = key.public_der().unwrap();
        assert_eq!(key.fingerprint, fingerprint(&der));
        // DER RSAPublicKey: a SEQUENCE of modulus and exponent, no algorithm identifier.
        assert_eq!(der.first(), Some(&0x30));
        let signature = key.sign(&root, b"to sign").unwrap();
        assert_eq!(signature.len(), 512, "2048-bit signature in hex");
        let raw = data_encoding::HEXLOWER
            .decode(signature.as_bytes())
            .unwrap();
        let verifier = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der);
        verifier.verify(b"to sign", &raw).unwrap();
        assert!(verifier.verify(b"to sigN", &raw).is_err());
        // PKCS #1 v1.5 is deterministic: a digest signed again after a crash is the same file.
        assert_eq!(key.sign(&root, b"to sign").unwrap(), signature);
        // Another root key cannot open the private half.
        assert!(key.sign(&RootKey::generate(), b"to sign").is_err());
    }
}
