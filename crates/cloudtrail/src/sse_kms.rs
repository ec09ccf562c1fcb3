//! Log files encrypted with a KMS key, as S3 keeps an SSE-KMS object — in a bucket directory,
//! which has no object metadata, so the file carries what S3 would keep beside it.
//!
//! Envelope encryption, as SSE-KMS does it: a fresh 256-bit data key per file from KMS
//! GenerateDataKey (encryption context `aws:cloudtrail:arn` = the trail's ARN and `aws:s3:arn`
//! = the object's ARN), the gzip file encrypted with it under AES-256-GCM, and the data key
//! kept only encrypted, beside the ciphertext. Reading the file takes KMS Decrypt of that data
//! key with that context, so only principals the key's policy lets decrypt can read it, and
//! each read is a KMS call in the trail. The format (docs/TRAIL-FILES.md):
//!
//! ```text
//! RAMPART-SSE-KMS/1\n
//! {"algorithm":"AES_256_GCM","encryptedDataKey":"<base64>","encryptionContext":{…},"iv":"<base64>","kmsKeyArn":"arn:aws:kms:…"}\n
//! <AES-256-GCM ciphertext of the gzip file><16-byte tag>
//! ```
//!
//! The additional authenticated data is everything before the ciphertext (both lines, as
//! stored), so the header cannot be changed without the file failing to decrypt.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

/// The first line of an encrypted file.
pub const MAGIC: &[u8] = b"RAMPART-SSE-KMS/1\n";
/// The only algorithm.
pub const ALGORITHM: &str = "AES_256_GCM";

/// What an encrypted file says about its encryption (S3's object metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// The data key, encrypted by KMS: a ciphertext blob for KMS Decrypt (base64).
    pub encrypted_data_key: String,
    /// The encryption context the data key was encrypted under.
    pub encryption_context: BTreeMap<String, String>,
    /// The 12-byte GCM nonce (base64).
    pub iv: String,
    /// The KMS key that encrypted the data key.
    pub kms_key_arn: String,
}

/// Why an encrypted file could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseKmsError {
    /// The file does not have the format's shape.
    #[error("not a Rampart SSE-KMS file")]
    Format,
    /// The data key is not a 256-bit key.
    #[error("the data key is not 32 bytes")]
    DataKey,
    /// The ciphertext, its tag or the header was changed, or the data key is not this file's.
    #[error("the file does not decrypt: it was modified, or the data key is not its own")]
    Authentication,
}

/// Whether `bytes` are an encrypted file (rather than a plain gzip file).
pub fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn aead(data_key: &[u8]) -> Result<LessSafeKey, SseKmsError> {
    UnboundKey::new(&AES_256_GCM, data_key)
        .map(LessSafeKey::new)
        .map_err(|_| SseKmsError::DataKey)
}

/// Encrypts `gz` (a log file) with `data_key`, whose KMS-encrypted copy and context `header`
/// records; `iv` must never repeat for one data key (each file has its own data key).
pub fn seal(
    header: &Header,
    data_key: &[u8],
    iv: [u8; NONCE_LEN],
    gz: &[u8],
) -> Result<Vec<u8>, SseKmsError> {
    let key = aead(data_key)?;
    let line = serde_json::to_vec(header).map_err(|_| SseKmsError::Format)?;
    let mut out = Vec::with_capacity(MAGIC.len() + line.len() + 1 + gz.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&line);
    out.push(b'\n');
    let aad_len = out.len();
    out.extend_from_slice(gz);
    let (aad, body) = out.split_at_mut(aad_len);
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(&*aad), body)
        .map_err(|_| SseKmsError::Authentication)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Reads an encrypted file's header, without decrypting anything.
pub fn header(bytes: &[u8]) -> Result<Header, SseKmsError> {
    let (header, _) = split(bytes)?;
    Ok(header)
}

/// Splits an encrypted file into its header and the length of its authenticated prefix.
fn split(bytes: &[u8]) -> Result<(Header, usize), SseKmsError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(SseKmsError::Format)?;
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(SseKmsError::Format)?;
    let line = rest.get(..end).ok_or(SseKmsError::Format)?;
    let header: Header = serde_json::from_slice(line).map_err(|_| SseKmsError::Format)?;
    if header.algorithm != ALGORITHM {
        return Err(SseKmsError::Format);
    }
    Ok((header, MAGIC.len() + end + 1))
}

/// Decrypts an encrypted file with its data key (the plaintext of its `encryptedDataKey`),
/// returning the gzip file.
pub fn open(bytes: &[u8], data_key: &[u8]) -> Result<Vec<u8>, SseKmsError> {
    let (header, aad_len) = split(bytes)?;
    let iv: [u8; NONCE_LEN] = data_encoding::BASE64
        .decode(header.iv.as_bytes())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(SseKmsError::Format)?;
    let key = aead(data_key)?;
    let (aad, body) = bytes.split_at_checked(aad_len).ok_or(SseKmsError::Format)?;
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut body)
        .map_err(|_| SseKmsError::Authentication)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    fn header() -> Header {
        Header {
            algorithm: ALGORITHM.to_owned(),
            encrypted_data_key: "AQID".to_owned(),
            encryption_context: BTreeMap::from([(
                "aws:cloudtrail:arn".to_owned(),
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/t".to_owned(),
            )]),
            iv: data_encoding::BASE64.encode(&[7u8; 12]),
            kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/k".to_owned(),
        }
    }

    #[test]
    fn a_sealed_file_opens_with_its_data_key_only_and_untouched() {
        let key = [9u8; 32];
        let sealed = seal(&header(), &key, [7u8; 12], b"gzip bytes").unwrap();
        assert!(is_encrypted(&sealed) && !is_encrypted(b"\x1f\x8b"));
        assert_eq!(super::header(&sealed).unwrap(), header());
        assert_eq!(open(&sealed, &key).unwrap(), b"gzip bytes");
        assert!(!sealed.windows(10).any(|w| w == b"gzip bytes"));
        assert_eq!(open(&sealed, &[8u8; 32]), Err(SseKmsError::Authentication));
        // A flipped ciphertext bit, or a changed header, fails authentication.
        let mut flipped = sealed.clone();
        let last = flipped.len() - 20;
        flipped[last] ^= 1;
        assert_eq!(open(&flipped, &key), Err(SseKmsError::Authentication));
        let text = String::from_utf8_lossy(&sealed).replace("trail/t", "trail/u");
        let relabelled = [
            text.as_bytes()
                .split(|&b| b == b'\n')
                .take(2)
                .collect::<Vec<_>>()
                .join(&b'\n'),
            b"\n".to_vec(),
            sealed[sealed.len() - 26..].to_vec(),
        ]
        .concat();
        assert!(open(&relabelled, &key).is_err());
        assert_eq!(open(b"not encrypted", &key), Err(SseKmsError::Format));
    }
}
