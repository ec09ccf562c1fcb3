//! Trail files as AWS lays them out in a bucket: gzip JSON log files, hourly digest files that
//! list each log file's SHA-256 and chain to the previous digest, their signatures, and the
//! offline check of the whole chain (`rampart trail validate`).
//!
//! S3 keeps a digest's signature in the object's metadata; a directory has none, so the
//! signature sits beside the digest in `<digest key>.sig` (hex), standing for that metadata.
//!
//! A trail with a KMS key has its log files encrypted (sse_kms.rs); digests are not, as AWS
//! encrypts them with S3-managed keys only. Digests hash a log file's uncompressed plaintext,
//! which is what S3 returns for an SSE-KMS object and what `aws cloudtrail validate-logs`
//! hashes, so reading an encrypted file to check it takes KMS Decrypt of its data key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::sse_kms;

/// The signing algorithm digests name.
pub const SIGNATURE_ALGORITHM: &str = "Ed25519";

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

/// `[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<region>_<YYYYMMDDTHHmmssZ>.json.gz`.
pub fn digest_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    trail: &str,
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
        "{}AWSLogs/{account}/CloudTrail-Digest/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail-Digest_{region}_{trail}_{region}_{stamp}.json.gz",
        prefix_path(prefix)
    )
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

/// A digest file's content, in AWS's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// The trail's account.
    pub aws_account_id: String,
    /// Start of the period covered.
    pub digest_start_time: String,
    /// End of the period covered.
    pub digest_end_time: String,
    /// The bucket of this digest.
    pub digest_s3_bucket: String,
    /// This digest's key.
    pub digest_s3_object: String,
    /// The previous digest's bucket (`null` for the first).
    pub previous_digest_s3_bucket: Option<String>,
    /// The previous digest's key (`null` for the first).
    pub previous_digest_s3_object: Option<String>,
    /// SHA-256 (hex) of the previous digest's uncompressed content.
    pub previous_digest_hash_value: Option<String>,
    /// Always `SHA-256` when there is a previous digest.
    pub previous_digest_hash_algorithm: Option<String>,
    /// The previous digest's signature (hex).
    pub previous_digest_signature: Option<String>,
    /// SHA-256 (hex) of the public key that verifies this digest.
    pub digest_public_key_fingerprint: String,
    /// The signature algorithm.
    pub digest_signature_algorithm: String,
    /// The log files delivered in the period.
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

/// Checks the trail files under `dir` (a bucket directory) against `public_key` (the raw
/// Ed25519 public key Rampart serves): every digest's signature, the chain of digests, every
/// listed log file's hash (encrypted files decrypted with data keys from `keys`), and that no
/// unlisted log file sits in a digested period. Only digests whose end time falls in
/// [`start`, `end`] (RFC 3339, compared as text) are checked.
pub fn validate(
    dir: &Path,
    public_key: &[u8],
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
    let verifier = UnparsedPublicKey::new(&ED25519, public_key);
    let fingerprint = sha256_hex(public_key);
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
        let signature = std::fs::read_to_string(format!("{}.sig", path.display()))
            .ok()
            .map(|s| s.trim().to_owned());
        let ok = match (&parsed, &signature) {
            (Some((digest, hash)), Some(sig)) => {
                digest.digest_s3_object == *key
                    && digest.digest_public_key_fingerprint == fingerprint
                    && data_encoding::HEXLOWER
                        .decode(sig.as_bytes())
                        .is_ok_and(|raw| {
                            verifier
                                .verify(string_to_sign(digest, hash).as_bytes(), &raw)
                                .is_ok()
                        })
            }
            _ => false,
        };
        match (ok, parsed, signature) {
            (true, Some((digest, hash)), Some(sig)) => {
                verified.insert(key.clone(), (digest, hash, sig));
            }
            _ => report.findings.push(Finding::DigestInvalid(key.clone())),
        }
    }
    let in_range = |d: &Digest| {
        start.is_none_or(|s| d.digest_end_time.as_str() >= s)
            && end.is_none_or(|e| d.digest_end_time.as_str() <= e)
    };
    let mut listed = BTreeSet::new();
    let mut newest_end: Option<String> = None;
    for (key, (digest, _, _)) in &verified {
        for file in &digest.log_files {
            listed.insert(file.s3_object.clone());
        }
        if newest_end
            .as_ref()
            .is_none_or(|n| digest.digest_end_time > *n)
        {
            newest_end = Some(digest.digest_end_time.clone());
        }
        if !in_range(digest) {
            continue;
        }
        // The chain: the previous digest must exist, and be the one this digest signed over.
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
                    false
                }
            },
            _ => true,
        };
        if !chain_ok {
            if digests.contains_key(digest.previous_digest_s3_object.as_deref().unwrap_or("")) {
                report.findings.push(Finding::DigestInvalid(key.clone()));
            }
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
    // A log file named for a time the newest digest already covers, yet listed nowhere, was
    // put there by someone else.
    if let Some(newest_end) = newest_end {
        for key in logs.difference(&listed) {
            if file_time(key).is_some_and(|t| t.as_str() < newest_end.as_str()) {
                report.findings.push(Finding::LogInserted(key.clone()));
            }
        }
    }
    Ok(report)
}

/// The `YYYY-MM-DDTHH:MM` of a log file's name (its `_YYYYMMDDTHHmmZ_` part), as RFC 3339
/// text for comparisons with digest times.
fn file_time(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let stamp = name
        .split('_')
        .find(|p| p.len() == 14 && p.ends_with('Z') && p.contains('T'))?;
    let (date, time) = stamp.split_once('T')?;
    Some(format!(
        "{}-{}-{}T{}:{}:00Z",
        date.get(0..4)?,
        date.get(4..6)?,
        date.get(6..8)?,
        time.get(0..2)?,
        time.get(2..4)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_aws_layout() {
        let t = time::macros::datetime!(2026-11-24 12:05:09 UTC);
        assert_eq!(
            log_file_key(Some("p/"), "123456789012", "us-east-1", t, "abc"),
            "p/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/123456789012_CloudTrail_us-east-1_20261124T1205Z_abc.json.gz"
        );
        assert_eq!(
            digest_key(None, "123456789012", "us-east-1", "main", t),
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/24/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20261124T120509Z.json.gz"
        );
        assert_eq!(
            file_time("x/123456789012_CloudTrail_us-east-1_20261124T1205Z_abc.json.gz").as_deref(),
            Some("2026-11-24T12:05:00Z")
        );
    }

    #[test]
    fn gzip_round_trips() {
        assert_eq!(
            gunzip(&gzip(b"{\"Records\":[]}").unwrap()).unwrap(),
            b"{\"Records\":[]}"
        );
    }
}
