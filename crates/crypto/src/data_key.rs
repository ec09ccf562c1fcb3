//! Sealing under a data key that KMS made (envelope encryption, as Parameter Store's advanced
//! parameters and Secrets Manager's secrets use it): AES-256-GCM under the plaintext data key,
//! bound to `aad` (what the value belongs to), as nonce ‖ ciphertext ‖ tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

/// The length of the nonce that begins a sealed value.
pub const DATA_KEY_NONCE_LEN: usize = NONCE_LEN;

/// Why a value cannot be sealed or opened under a data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DataKeyError {
    /// The key is not 32 bytes, or the nonce not 12.
    #[error("the data key or nonce is not of AES-256-GCM's length")]
    Length,
    /// The sealed value failed authentication: wrong key, other `aad`, or tampered bytes.
    #[error("the sealed value does not open under this data key")]
    Unopenable,
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, DataKeyError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| DataKeyError::Length)
}

/// Seals `plaintext` under `key` with `nonce` (which must never repeat under one key), bound
/// to `aad`.
pub fn seal_with_data_key(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, DataKeyError> {
    let key = aead_key(key)?;
    let nonce_value = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DataKeyError::Length)?;
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce_value, Aad::from(aad), &mut body)
        .map_err(|_| DataKeyError::Length)?;
    let mut out = Vec::with_capacity(nonce.len() + body.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens what [`seal_with_data_key`] sealed under `key` for `aad`.
pub fn open_with_data_key(
    key: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DataKeyError> {
    let key = aead_key(key)?;
    if sealed.len() < NONCE_LEN {
        return Err(DataKeyError::Unopenable);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DataKeyError::Unopenable)?;
    let mut body = Zeroizing::new(body.to_vec());
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| DataKeyError::Unopenable)?;
    Ok(Zeroizing::new(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_aad() {
        let key = [7u8; 32];
        let nonce = [1u8; NONCE_LEN];
        let sealed = seal_with_data_key(&key, &nonce, b"arn:a", b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            open_with_data_key(&key, b"arn:a", &sealed)
                .unwrap()
                .as_slice(),
            b"hunter2"
        );
        assert!(open_with_data_key(&key, b"arn:b", &sealed).is_err());
        assert!(open_with_data_key(&[8u8; 32], b"arn:a", &sealed).is_err());
        assert!(open_with_data_key(&key, b"arn:a", &sealed[..5]).is_err());
        assert_eq!(
            seal_with_data_key(&[1u8; 5], &nonce, b"a", b"x"),
            Err(DataKeyError::Length)
        );
    }
}
