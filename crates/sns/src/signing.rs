//! SNS's message signatures: a per-deployment RSA key with a self-signed X.509 certificate,
//! made when first needed. The private key is kept sealed under the root key, as other
//! secrets are; the certificate is served unsigned at the `SigningCertURL`
//! (`/_rampart/sns/SimpleNotificationService-<fingerprint>.pem`), where a subscriber fetches it
//! to verify messages as AWS documents.
//!
//! SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, both PKCS#1 v1.5 over the message's
//! string to sign (see `messages.rs`).

use aws_lc_rs::digest;
use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde::{Deserialize, Serialize};

use crate::error::SnsError;

pub(crate) const SIGNING: &str = "sns/signing";
const KEY: &str = "deployment";
/// What the sealed private key is bound to.
const SEAL_CONTEXT: &[u8] = b"rampart sns signing key";

/// The DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-1 (RFC 8017, section 9.2, note 1).
const SHA1_DIGEST_INFO: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// The same for SHA-256.
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SigningRecord {
    certificate_pem: String,
    /// The PKCS#8 private key, sealed under the root key (base64).
    sealed_key: String,
    /// The certificate's SHA-1 fingerprint in hex, naming its file.
    fingerprint: String,
}

/// The deployment's signing key, opened for one request.
pub(crate) struct SigningKey {
    key: RsaPrivateKey,
    fingerprint: String,
}

fn internal(what: impl std::fmt::Display) -> SnsError {
    SnsError::Store(rampart_store::StoreError::Internal(format!(
        "sns signing key: {what}"
    )))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of the certificate's file at the `SigningCertURL`.
pub(crate) fn certificate_file(fingerprint: &str) -> String {
    format!("SimpleNotificationService-{fingerprint}.pem")
}

/// The certificate served at `/_rampart/sns/<file>`, if `file` names it.
pub fn certificate(tx: &mut dyn ReadTx, file: &str) -> Option<String> {
    let record: SigningRecord = get_json(tx, SIGNING, KEY).ok()??;
    (certificate_file(&record.fingerprint) == file).then_some(record.certificate_pem)
}

/// The deployment's signing key, made (and kept sealed) the first time.
pub(crate) fn signing_key(env: &Env<'_>, tx: &mut dyn WriteTx) -> Result<SigningKey, SnsError> {
    let record: SigningRecord = match get_json(tx, SIGNING, KEY)? {
        Some(record) => record,
        None => {
            let record = make_key(env)?;
            put_json(tx, SIGNING, KEY, &record)?;
            record
        }
    };
    let sealed = data_encoding::BASE64
        .decode(record.sealed_key.as_bytes())
        .map_err(internal)?;
    let pkcs8 = env.root_key.open(&sealed, SEAL_CONTEXT).map_err(internal)?;
    let key = RsaPrivateKey::from_pkcs8_der(pkcs8.expose()).map_err(internal)?;
    Ok(SigningKey {
        key,
        fingerprint: record.fingerprint,
    })
}

fn make_key(env: &Env<'_>) -> Result<SigningRecord, SnsError> {
    let key_pair =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .map_err(internal)?;
    let mut params =
        rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_owned()]).map_err(internal)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sns.amazonaws.com");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Rampart");
    params.not_before = env.now - time::Duration::days(1);
    params.not_after = env.now + time::Duration::days(3650);
    let certificate = params.self_signed(&key_pair).map_err(internal)?;
    let fingerprint =
        hex(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, certificate.der()).as_ref());
    let sealed = env.root_key.seal(&key_pair.serialize_der(), SEAL_CONTEXT);
    Ok(SigningRecord {
        certificate_pem: certificate.pem(),
        sealed_key: data_encoding::BASE64.encode(&sealed),
        fingerprint,
    })
}

impl SigningKey {
    /// The certificate's file name at the `SigningCertURL`.
    pub(crate) fn certificate_file(&self) -> String {
        certificate_file(&self.fingerprint)
    }

    /// The base64 signature of `text` for SignatureVersion `version` (`2`: SHA256withRSA,
    /// else SHA1withRSA).
    pub(crate) fn sign(&self, version: &str, text: &str) -> Result<String, SnsError> {
        let (algorithm, prefix) = if version == "2" {
            (&digest::SHA256, SHA256_DIGEST_INFO)
        } else {
            (&digest::SHA1_FOR_LEGACY_USE_ONLY, SHA1_DIGEST_INFO)
        };
        let hashed = digest::digest(algorithm, text.as_bytes());
        let scheme = Pkcs1v15Sign {
            hash_len: Some(hashed.as_ref().len()),
            prefix: prefix.into(),
        };
        let signature = self.key.sign(scheme, hashed.as_ref()).map_err(internal)?;
        Ok(data_encoding::BASE64.encode(&signature))
    }
}
