//! The root key: AES-256-GCM sealing of everything secret that Rampart stores.

use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::secret::{SecretBytes, random_bytes};

/// The first byte of every sealed value, so the format can change without ambiguity.
const SEALED_FORMAT_V1: u8 = 1;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Errors from loading the root key or opening sealed values.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    /// The key file could not be read or written.
    #[error("root key file `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key text is not 32 bytes of base64.
    #[error("the root key must be 32 bytes encoded as base64")]
    Malformed,
    /// A sealed value failed authentication: wrong key, wrong context or tampered bytes.
    #[error("sealed value could not be opened: wrong root key, wrong context or tampered data")]
    Open,
}

/// The key that seals secrets at rest. Its bytes never leave this type.
pub struct RootKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

impl RootKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self::from_secret(&SecretBytes::new(random_bytes(KEY_LEN)))
            .unwrap_or_else(|_| aes_gcm_invariant_broken())
    }

    /// A key from its base64 text (as kept in the key file or the environment).
    pub fn from_base64(text: &str) -> Result<Self, RootKeyError> {
        let bytes = data_encoding::BASE64
            .decode(text.trim().as_bytes())
            .map_err(|_| RootKeyError::Malformed)?;
        Self::from_secret(&SecretBytes::new(bytes))
    }

    fn from_secret(bytes: &SecretBytes) -> Result<Self, RootKeyError> {
        if bytes.expose().len() != KEY_LEN {
            return Err(RootKeyError::Malformed);
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes.expose()).map_err(|_| RootKeyError::Malformed)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Loads the key from `path`, creating it (mode 0600) with a fresh random key if absent.
    /// Returns the key and whether it was created now.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), RootKeyError> {
        let io = |source| RootKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_base64(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let raw = SecretBytes::new(random_bytes(KEY_LEN));
                let text = zeroize::Zeroizing::new(data_encoding::BASE64.encode(raw.expose()));
                write_private_file(path, text.as_bytes()).map_err(io)?;
                Ok((Self::from_secret(&raw)?, true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts `plaintext`, binding it to `context` (for example the record it belongs to),
    /// so a sealed value cannot be moved to another record unnoticed.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(SEALED_FORMAT_V1);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        // Sealing with a valid key and a buffer we own cannot fail in aws-lc; the only error
        // it reports is a plaintext beyond AES-GCM's 64 GiB limit, far above any record.
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut body,
            )
            .is_err()
        {
            aes_gcm_invariant_broken();
        }
        out.extend_from_slice(&body);
        out
    }

    /// Decrypts a value made by [`RootKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<SecretBytes, RootKeyError> {
        let (&format, rest) = sealed.split_first().ok_or(RootKeyError::Open)?;
        if format != SEALED_FORMAT_V1 || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(RootKeyError::Open);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| RootKeyError::Open)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| RootKeyError::Open)?;
        let plain = plain.to_vec();
        zeroize::Zeroize::zeroize(&mut body);
        Ok(SecretBytes::new(plain))
    }
}

#[expect(
    clippy::panic,
    reason = "states an impossibility: aws-lc refusing a 32-byte key or a small buffer"
)]
fn aes_gcm_invariant_broken() -> ! {
    panic!("AES-256-GCM refused a valid key or buffer")
}

/// Writes a file readable by its owner only, failing if it already exists.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let key = RootKey::generate();
        let sealed = key.seal(b"secret", b"ctx");
        assert_eq!(key.open(&sealed, b"ctx").unwrap().expose(), b"secret");
    }

    #[test]
    fn wrong_context_wrong_key_and_tampering_are_refused() {
        let key = RootKey::generate();
        let sealed = key.seal(b"secret", b"ctx");
        assert!(key.open(&sealed, b"other").is_err());
        assert!(RootKey::generate().open(&sealed, b"ctx").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(&tampered, b"ctx").is_err());
        assert!(key.open(&[], b"ctx").is_err());
        assert!(key.open(&sealed[..10], b"ctx").is_err());
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let key = RootKey::generate();
        assert_ne!(key.seal(b"x", b"c"), key.seal(b"x", b"c"));
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let (key, created) = RootKey::load_or_create(&path).unwrap();
        assert!(created);
        let sealed = key.seal(b"v", b"c");
        let (again, created) = RootKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.open(&sealed, b"c").unwrap().expose(), b"v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(matches!(
            RootKey::from_base64("not base64!"),
            Err(RootKeyError::Malformed)
        ));
        assert!(matches!(
            RootKey::from_base64("AAAA"),
            Err(RootKeyError::Malformed)
        ));
    }
}
