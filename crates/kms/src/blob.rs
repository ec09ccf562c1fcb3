//! Rampart's ciphertext blob for symmetric keys.
//!
//! ```text
//! version (1 = 0x01) | account id (12 ASCII digits) | key id (36 ASCII) |
//! material id (32 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes)
//! ```
//!
//! The blob names its key (so Decrypt needs no KeyId, across accounts too) and the material
//! version (so Decrypt works after rotation). The additional authenticated data is the
//! header (everything before the nonce) followed by the canonical encryption context, so a
//! changed header, another context or another key all fail authentication alike.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::error::KmsError;

const VERSION: u8 = 1;
const ACCOUNT_LEN: usize = 12;
const KEY_ID_LEN: usize = 36;
const MATERIAL_ID_LEN: usize = 32;
const HEADER_LEN: usize = 1 + ACCOUNT_LEN + KEY_ID_LEN + MATERIAL_ID_LEN;
const TAG_LEN: usize = 16;

/// Whom a blob says encrypted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    /// The key's account.
    pub account_id: String,
    /// The key's id.
    pub key_id: String,
    /// 64 hex digits.
    pub material_id: String,
}

/// AWS answers a blob it cannot use with an InvalidCiphertextException without a message.
fn invalid() -> KmsError {
    KmsError::InvalidCiphertext(String::new())
}

/// The encryption context as bytes: pairs sorted by key, each key and value prefixed by its
/// length (u16, big-endian), so no two contexts encode alike.
pub fn canonical_context(context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in context {
        for part in [k, v] {
            let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

fn header_bytes(header: &BlobHeader) -> Result<Vec<u8>, KmsError> {
    let material = data_encoding::HEXLOWER
        .decode(header.material_id.as_bytes())
        .map_err(|_| KmsError::Internal)?;
    if header.account_id.len() != ACCOUNT_LEN
        || header.key_id.len() != KEY_ID_LEN
        || material.len() != MATERIAL_ID_LEN
    {
        return Err(KmsError::Internal);
    }
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.push(VERSION);
    out.extend_from_slice(header.account_id.as_bytes());
    out.extend_from_slice(header.key_id.as_bytes());
    out.extend_from_slice(&material);
    Ok(out)
}

fn aead_key(secret: &[u8]) -> Result<LessSafeKey, KmsError> {
    UnboundKey::new(&AES_256_GCM, secret)
        .map(LessSafeKey::new)
        .map_err(|_| KmsError::Internal)
}

/// Encrypts `plaintext` under `secret` (a 32-byte AES key) into a blob.
pub fn seal(
    header: &BlobHeader,
    secret: &[u8],
    nonce: [u8; NONCE_LEN],
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = aead_key(secret)?;
    let mut out = header_bytes(header)?;
    let mut aad = out.clone();
    aad.extend_from_slice(&canonical_context(context));
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| KmsError::Internal)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads a blob's header without decrypting it.
pub fn parse_header(blob: &[u8]) -> Result<BlobHeader, KmsError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(invalid());
    }
    let (&version, rest) = blob.split_first().ok_or_else(invalid)?;
    if version != VERSION {
        return Err(invalid());
    }
    let (account, rest) = rest.split_at(ACCOUNT_LEN);
    let (key_id, rest) = rest.split_at(KEY_ID_LEN);
    let (material, _) = rest.split_at(MATERIAL_ID_LEN);
    let text = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .filter(|s| s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
            .map(str::to_owned)
            .ok_or_else(invalid)
    };
    Ok(BlobHeader {
        account_id: text(account)?,
        key_id: text(key_id)?,
        material_id: data_encoding::HEXLOWER.encode(material),
    })
}

/// Decrypts a blob with `secret`, the material its header names.
pub fn open(
    blob: &[u8],
    secret: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(invalid());
    }
    let (header, rest) = blob.split_at(HEADER_LEN);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid())?;
    let mut aad = header.to_vec();
    aad.extend_from_slice(&canonical_context(context));
    let key = aead_key(secret)?;
    let mut body = Zeroizing::new(body.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| invalid())?
        .len();
    // Decrypted in place: dropping the tag leaves the plaintext, in the one buffer that is
    // zeroed when dropped (a second copy would cost as much again to zero).
    body.truncate(plain_len);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> BlobHeader {
        BlobHeader {
            account_id: "123456789012".into(),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            material_id: "ab".repeat(32),
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn round_trip_and_header() {
        let secret = [7u8; 32];
        let c = ctx(&[("purpose", "test")]);
        let blob = seal(&header(), &secret, [1; 12], &c, b"hello").unwrap();
        assert_eq!(blob.len(), HEADER_LEN + 12 + 5 + 16);
        assert_eq!(parse_header(&blob).unwrap(), header());
        assert_eq!(open(&blob, &secret, &c).unwrap().as_slice(), b"hello");
    }

    #[test]
    fn wrong_context_key_or_tampering_fail() {
        let secret = [7u8; 32];
        let c = ctx(&[("a", "b")]);
        let blob = seal(&header(), &secret, [1; 12], &c, b"hello").unwrap();
        assert!(open(&blob, &secret, &ctx(&[("a", "c")])).is_err());
        assert!(open(&blob, &secret, &BTreeMap::new()).is_err());
        assert!(open(&blob, &[8u8; 32], &c).is_err());
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 1;
            assert!(open(&t, &secret, &c).is_err(), "byte {i}");
        }
        assert!(parse_header(&blob[..20]).is_err());
    }

    #[test]
    fn context_encoding_is_unambiguous() {
        assert_ne!(
            canonical_context(&ctx(&[("ab", "c")])),
            canonical_context(&ctx(&[("a", "bc")]))
        );
    }
}
