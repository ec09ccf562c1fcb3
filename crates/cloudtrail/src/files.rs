//! Trail files as AWS lays them out in a bucket: gzip JSON log files, hourly digest files per
//! region that list each log file's SHA-256 and chain to that region's previous digest, their
//! SHA256withRSA signatures, and the offline check of the whole chain (`rampart trail
//! validate`).
//!
//! S3 keeps a digest's signature and algorithm in the object's user metadata
//! (`x-amz-meta-signature`, `x-amz-meta-signature-algorithm`); a directory has none, so they sit
//! beside the digest in `<digest key>.metadata.json`, `{"signature": …, "signature-algorithm":
//! …}`, the metadata as S3 returns it.
//!
//! A trail with a KMS key has its log files encrypted (sse_kms.rs); digests are not, as AWS
//! encrypts them with S3-managed keys only. Digests hash a log file's uncompressed plaintext,
//! which is what S3 returns for an SSE-KMS object and what `aws cloudtrail validate-logs`
//! hashes, so reading an encrypted file to check it takes KMS Decrypt of its data key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::sse_kms;

pub use crate::signing_keys::SIGNATURE_ALGORITHM;

/// The user metadata names (after `x-amz-meta-`) of a digest's signature and algorithm.
pub const SIGNATURE_METADATA: &str = "signature";
/// See [`SIGNATURE_METADATA`].
pub const SIGNATURE_ALGORITHM_METADATA: &str = "signature-algorithm";
/// What a bucket directory keeps beside a digest for its object metadata.
pub const METADATA_SUFFIX: &str = ".metadata.json";

/// A digest object's metadata: its signature (hex) and the algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestMetadata {
    /// The signature, hex.
    pub signature: String,
    /// `SHA256withRSA`.
    #[serde(rename = "signature-algorithm")]
    pub signature_algorithm: String,
}

/// `[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`.
pub fn log_file_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    time: time::OffsetDateTime,
    id: &str,
) -> String {
    let (y, m, d) = (time.year(), u8::from(time.month()), time.day());
    let stamp = format!("{y:04}{m:02}{d:02}T{:02}{:02}Z", time.hour(), time.minute());
    format!(
        "{}AWSLogs/{account}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail_{region}_{stamp}_{id}.json.gz",
        prefix_path(prefix)
    )
}

/// `[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHmmssZ>.json.gz`:
/// `region` is the region whose log files the digest lists, `home_region` the trail's.
pub fn digest_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    trail: &str,
    home_region: &str,
    time: time::OffsetDateTime,
) -> String {
    let (y, m, d) = (time.year(), u8::from(time.month()), time.day());
    let stamp = format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        time.hour(),
        time.minute(),
        time.second()
    );
    format!(
        "{}AWSLogs/{account}/CloudTrail-Digest/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{stamp}.json.gz",
        prefix_path(prefix)
    )
}

/// The region of a log file, from its key (`…/CloudTrail/<region>/…`).
pub fn log_file_region(key: &str) -> Option<&str> {
    let (_, rest) = key.split_once("/CloudTrail/")?;
    rest.split('/').next().filter(|r| !r.is_empty())
}

fn prefix_path(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{}/", p.trim_end_matches('/')),
        _ => String::new(),
    }
}

/// Gzip-compresses `bytes` (fast level: the deliverer runs beside the requests on few cores).
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Decompresses a gzip file.
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(digest(&SHA256, bytes).as_ref())
}

/// One log file a digest covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestLogFile {
    /// The bucket.
    pub s3_bucket: String,
    /// The object key.
    pub s3_object: String,
    /// SHA-256 (hex) of the uncompressed file.
    pub hash_value: String,
    /// Always `SHA-256`.
    pub hash_algorithm: String,
    /// The file's newest event time.
    pub newest_event_time: String,
    /// The file's oldest event time.
    pub oldest_event_time: String,
}

/// A digest file's content: AWS's fields, in the order AWS writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// The trail's account.
    pub aws_account_id: String,
    /// Start of the period covered.
    pub digest_start_time: String,
    /// End of the period covered (the time in the digest's key).
    pub digest_end_time: String,
    /// The bucket of this digest.
    pub digest_s3_bucket: String,
    /// This digest's key.
    pub digest_s3_object: String,
    /// Hex fingerprint of the public key that verifies this digest.
    pub digest_public_key_fingerprint: String,
    /// `SHA256withRSA`.
    pub digest_signature_algorithm: String,
    /// The newest event time of the listed log files (`null` when none).
    pub newest_event_time: Option<String>,
    /// The oldest event time of the listed log files (`null` when none).
    pub oldest_event_time: Option<String>,
    /// The previous digest's bucket (`null` for the first of a chain).
    pub previous_digest_s3_bucket: Option<String>,
    /// The previous digest's key (`null` for the first).
    pub previous_digest_s3_object: Option<String>,
    /// SHA-256 (hex) of the previous digest's uncompressed content.
    pub previous_digest_hash_value: Option<String>,
    /// `SHA-256` when there is a previous digest.
    pub previous_digest_hash_algorithm: Option<String>,
    /// The previous digest's signature (hex).
    pub previous_digest_signature: Option<String>,
    /// The log files of the region delivered in the period.
    pub log_files: Vec<DigestLogFile>,
}

/// What a digest's signature covers, as AWS defines it: end time, bucket/key, the hash of the
/// digest's uncompressed content, and the previous signature, one per line.
pub fn string_to_sign(digest: &Digest, content_hash: &str) -> String {
    format!(
        "{}\n{}/{}\n{content_hash}\n{}",
        digest.digest_end_time,
        digest.digest_s3_bucket,
        digest.digest_s3_object,
        digest
            .previous_digest_signature
            .as_deref()
            .unwrap_or("null")
    )
}

/// One finding of a validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A digest's signature does not verify (the digest was modified or forged).
    DigestInvalid(String),
    /// A digest whose content names another key than the one it sits at: copied, moved or
    /// swapped with another digest (files out of order).
    DigestMoved(String),
    /// A digest the chain names is missing.
    DigestMissing(String),
    /// A log file's hash differs from its digest's.
    LogModified(String),
    /// A log file a digest lists is missing.
    LogDeleted(String),
    /// A log file no digest lists, within the digested period.
    LogInserted(String),
    /// An encrypted log file whose data key KMS would not decrypt for the reader (no key to
    /// ask, no permission, key disabled): it could not be checked.
    LogUnreadable(String, String),
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DigestInvalid(k) => {
                write!(f, "Digest file {k} INVALID: signature verification failed")
            }
            Self::DigestMoved(k) => write!(
                f,
                "Digest file {k} INVALID: has been moved from its original location"
            ),
            Self::DigestMissing(k) => write!(f, "Digest file {k} INVALID: not found"),
            Self::LogModified(k) => write!(f, "Log file {k} INVALID: hash value doesn't match"),
            Self::LogDeleted(k) => write!(f, "Log file {k} INVALID: not found"),
            Self::LogInserted(k) => {
                write!(f, "Log file {k} INVALID: not listed in any digest file")
            }
            Self::LogUnreadable(k, why) => {
                write!(f, "Log file {k} INVALID: cannot be decrypted: {why}")
            }
        }
    }
}

/// What a validation found.
#[derive(Debug, Default)]
pub struct Report {
    /// Digest files whose signature and chain verified.
    pub valid_digests: usize,
    /// Log files whose hash matched.
    pub valid_logs: usize,
    /// Everything wrong, by file.
    pub findings: Vec<Finding>,
}

/// A read or parse failure of the directory itself (not a finding about a file).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where the data keys of encrypted log files come from (KMS Decrypt, for the reader).
pub trait DataKeys {
    /// The plaintext of the data key an encrypted file's header holds.
    fn data_key(&mut self, header: &sse_kms::Header) -> Result<Zeroizing<Vec<u8>>, DataKeyError>;
}

/// Why a data key could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataKeyError {
    /// KMS refused the encrypted data key or its encryption context as invalid: the file's
    /// header was changed.
    Rejected,
    /// The key could not be used by this reader (no endpoint, no permission, key disabled).
    Unavailable(String),
}

/// No KMS to ask: encrypted files cannot be read.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDataKeys;

impl DataKeys for NoDataKeys {
    fn data_key(&mut self, header: &sse_kms::Header) -> Result<Zeroizing<Vec<u8>>, DataKeyError> {
        Err(DataKeyError::Unavailable(format!(
            "it is encrypted with KMS key {}; give --endpoint to decrypt it through KMS",
            header.kms_key_arn
        )))
    }
}

/// Why a log file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadLogError {
    /// It is not what was delivered: not gzip, or not decrypting.
    Modified,
    /// It is encrypted and its data key could not be had.
    Unreadable(String),
}

/// A log file's uncompressed content (what its digest hashes): decrypted first when it is
/// encrypted.
pub fn read_log(bytes: &[u8], keys: &mut dyn DataKeys) -> Result<Vec<u8>, ReadLogError> {
    let gz;
    let compressed = if sse_kms::is_encrypted(bytes) {
        let header = sse_kms::header(bytes).map_err(|_| ReadLogError::Modified)?;
        let data_key = keys.data_key(&header).map_err(|e| match e {
            DataKeyError::Rejected => ReadLogError::Modified,
            DataKeyError::Unavailable(why) => ReadLogError::Unreadable(why),
        })?;
        gz = sse_kms::open(bytes, &data_key).map_err(|_| ReadLogError::Modified)?;
        gz.as_slice()
    } else {
        bytes
    };
    gunzip(compressed).map_err(|_| ReadLogError::Modified)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ValidateError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ValidateError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The public keys a validation trusts: fingerprint → DER `RSAPublicKey`.
pub type PublicKeys = BTreeMap<String, Vec<u8>>;

/// Why a list of public keys could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a ListPublicKeys answer: {0}")]
pub struct PublicKeysError(String);

/// The keys of a ListPublicKeys answer (`{"PublicKeyList": [{"Fingerprint", "Value"}, …]}`),
/// as `aws cloudtrail list-public-keys` prints it: `Value` is base64 of the DER key, as the
/// wire carries it. A `Value` encoded once more (as some SDKs print a decoded blob's text) is
/// taken too.
pub fn public_keys_from_list(json: &[u8]) -> Result<PublicKeys, PublicKeysError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        public_key_list: Vec<Entry>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        fingerprint: String,
        value: String,
    }
    let answer: Answer =
        serde_json::from_slice(json).map_err(|e| PublicKeysError(e.to_string()))?;
    let b64 = |text: &[u8]| {
        data_encoding::BASE64
            .decode(text)
            .map_err(|_| PublicKeysError("a Value is not base64".to_owned()))
    };
    let mut keys = PublicKeys::new();
    for entry in answer.public_key_list {
        let once = b64(entry.value.as_bytes())?;
        // A DER key starts with a SEQUENCE tag; base64 text never does.
        let der = if once.first() == Some(&0x30) {
            once
        } else {
            b64(&once)?
        };
        keys.insert(entry.fingerprint, der);
    }
    Ok(keys)
}

/// The metadata stored beside the digest at `path`, if any.
fn digest_metadata(path: &Path) -> Option<DigestMetadata> {
    let bytes = std::fs::read(format!("{}{METADATA_SUFFIX}", path.display())).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether `signature` (hex) is `key`'s SHA256withRSA signature of the string to sign of
/// `digest` whose uncompressed content hashes to `hash`.
pub fn signature_verifies(key: &[u8], digest: &Digest, hash: &str, signature: &str) -> bool {
    let verifier = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key);
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(signature.as_bytes())
        .is_ok_and(|raw| {
            verifier
                .verify(string_to_sign(digest, hash).as_bytes(), &raw)
                .is_ok()
        })
}

/// Checks the trail files under `dir` (a bucket directory) against `public_keys` (what
/// ListPublicKeys serves, by fingerprint): every digest's signature with the key its
/// fingerprint names, each region's chain of digests, every listed log file's hash (encrypted
/// files decrypted with data keys from `keys`), and that no unlisted log file sits in a
/// digested period. Only digests whose end time falls in [`start`, `end`] (RFC 3339, compared
/// as text) are checked.
pub fn validate(
    dir: &Path,
    public_keys: &PublicKeys,
    start: Option<&str>,
    end: Option<&str>,
    keys: &mut dyn DataKeys,
) -> Result<Report, ValidateError> {
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    let key_of = |p: &Path| {
        p.strip_prefix(dir)
            .map(|k| k.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default()
    };
    let mut digests = BTreeMap::new();
    let mut logs = BTreeSet::new();
    for path in &paths {
        let key = key_of(path);
        if key.contains("/CloudTrail-Digest/") && key.ends_with(".json.gz") {
            digests.insert(key, path.clone());
        } else if key.contains("/CloudTrail/") && key.ends_with(".json.gz") {
            logs.insert(key);
        }
    }
    let mut report = Report::default();
    // key → (digest, content hash, signature), for digests whose signature verifies.
    let mut verified: BTreeMap<String, (Digest, String, String)> = BTreeMap::new();
    for (key, path) in &digests {
        let parsed = std::fs::read(path)
            .ok()
            .and_then(|gz| gunzip(&gz).ok())
            .and_then(|raw| {
                let digest: Digest = serde_json::from_slice(&raw).ok()?;
                Some((digest, sha256_hex(&raw)))
            });
        let metadata = digest_metadata(path);
        // As AWS's validator, a digest is first checked to be where it says it is.
        if let Some((digest, _)) = &parsed
            && digest.digest_s3_object != *key
        {
            report.findings.push(Finding::DigestMoved(key.clone()));
            continue;
        }
        let ok = match (&parsed, &metadata) {
            (Some((digest, hash)), Some(meta)) => {
                meta.signature_algorithm == SIGNATURE_ALGORITHM
                    && public_keys
                        .get(&digest.digest_public_key_fingerprint)
                        .is_some_and(|public| {
                            signature_verifies(public, digest, hash, &meta.signature)
                        })
            }
            _ => false,
        };
        match (ok, parsed, metadata) {
            (true, Some((digest, hash)), Some(meta)) => {
                verified.insert(key.clone(), (digest, hash, meta.signature));
            }
            _ => report.findings.push(Finding::DigestInvalid(key.clone())),
        }
    }
    let in_range = |d: &Digest| {
        start.is_none_or(|s| d.digest_end_time.as_str() >= s)
            && end.is_none_or(|e| d.digest_end_time.as_str() <= e)
    };
    let mut listed = BTreeSet::new();
    // The start of the newest digest's period.
    let mut newest: Option<(String, String)> = None;
    for (key, (digest, _, _)) in &verified {
        for file in &digest.log_files {
            listed.insert(file.s3_object.clone());
        }
        if newest
            .as_ref()
            .is_none_or(|(end, _)| digest.digest_end_time > *end)
        {
            newest = Some((
                digest.digest_end_time.clone(),
                digest.digest_start_time.clone(),
            ));
        }
        if !in_range(digest) {
            continue;
        }
        // The chain: a verified previous digest must be the one this digest signed over. A
        // previous digest that is missing, or fails its own check, is reported as itself
        // (AWS's validator follows the link and reports the file it finds there, or not).
        let chain_ok = match (
            &digest.previous_digest_s3_object,
            &digest.previous_digest_signature,
        ) {
            (Some(previous), Some(previous_sig)) => match verified.get(previous) {
                Some((_, hash, sig)) => {
                    sig == previous_sig
                        && digest.previous_digest_hash_value.as_deref() == Some(hash.as_str())
                }
                None => {
                    if !digests.contains_key(previous) {
                        report
                            .findings
                            .push(Finding::DigestMissing(previous.clone()));
                    }
                    true
                }
            },
            _ => true,
        };
        if !chain_ok {
            report.findings.push(Finding::DigestInvalid(key.clone()));
            continue;
        }
        report.valid_digests += 1;
        for file in &digest.log_files {
            let path = dir.join(&file.s3_object);
            match std::fs::read(&path) {
                Err(_) => report
                    .findings
                    .push(Finding::LogDeleted(file.s3_object.clone())),
                Ok(bytes) => match read_log(&bytes, keys) {
                    Ok(raw) if sha256_hex(&raw) == file.hash_value => report.valid_logs += 1,
                    Err(ReadLogError::Unreadable(why)) => report
                        .findings
                        .push(Finding::LogUnreadable(file.s3_object.clone(), why)),
                    _ => report
                        .findings
                        .push(Finding::LogModified(file.s3_object.clone())),
                },
            }
        }
    }
    // A log file whose events all precede the newest digest's period (its name gives the
    // minute of its newest event), yet listed nowhere, was put there by someone else. One
    // delivered after the newest digest (events of its period still being delivered) is not
    // counted.
    if let Some((_, newest_start)) = newest {
        for key in logs.difference(&listed) {
            if file_time(key).is_some_and(|t| t.as_str() < newest_start.as_str()) {
                report.findings.push(Finding::LogInserted(key.clone()));
            }
        }
    }
    Ok(report)
}

/// The last second of the minute a log file's name gives (its `_YYYYMMDDTHHmmZ_` part), as
/// RFC 3339 text for comparisons with digest times.
fn file_time(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let stamp = name
        .split('_')
        .find(|p| p.len() == 14 && p.ends_with('Z') && p.contains('T'))?;
    let (date, time) = stamp.split_once('T')?;
    Some(format!(
        "{}-{}-{}T{}:{}:59Z",
        date.get(0..4)?,
        date.get(4..6)?,
        date.get(6..8)?,
        time.get(0..2)?,
        time.get(2..4)?
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn keys_follow_aws_layout() {
        let t = time::macros::datetime!(2026-11-24 12:05:09 UTC);
        assert_eq!(
            log_file_key(Some("p/"), "123456789012", "us-east-1", t, "abc"),
            "p/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/123456789012_CloudTrail_us-east-1_20261124T1205Z_abc.json.gz"
        );
        assert_eq!(
            digest_key(None, "123456789012", "eu-west-1", "main", "us-east-1", t),
            "AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/24/123456789012_CloudTrail-Digest_eu-west-1_main_us-east-1_20261124T120509Z.json.gz"
        );
        assert_eq!(
            log_file_region("p/AWSLogs/1/CloudTrail/eu-west-1/2026/11/24/x.json.gz"),
            Some("eu-west-1")
        );
        assert_eq!(log_file_region("AWSLogs/1/CloudTrail-Digest/x"), None);
        assert_eq!(
            file_time("x/123456789012_CloudTrail_us-east-1_20261124T1205Z_abc.json.gz").as_deref(),
            Some("2026-11-24T12:05:59Z")
        );
    }

    #[test]
    fn gzip_round_trips() {
        assert_eq!(
            gunzip(&gzip(b"{\"Records\":[]}").unwrap()).unwrap(),
            b"{\"Records\":[]}"
        );
    }

    #[test]
    fn public_keys_read_as_the_cli_prints_them() {
        let der = [0x30_u8, 0x82, 0x01, 0x0a, 0x02];
        let once = data_encoding::BASE64.encode(&der);
        let twice = data_encoding::BASE64.encode(once.as_bytes());
        for value in [&once, &twice] {
            let json = format!(r#"{{"PublicKeyList":[{{"Fingerprint":"ab","Value":"{value}"}}]}}"#);
            let keys = public_keys_from_list(json.as_bytes()).unwrap();
            assert_eq!(keys.get("ab").map(Vec::as_slice), Some(der.as_slice()));
        }
        assert!(public_keys_from_list(b"{}").is_err());
        assert!(
            public_keys_from_list(br#"{"PublicKeyList":[{"Fingerprint":"a","Value":"!"}]}"#)
                .is_err()
        );
    }
}
