//! Where trail files go: a directory standing for each bucket (the default), or the trail's
//! bucket in an S3-compatible store (`--trail-s3-endpoint`), through the `object_store` crate.
//!
//! Both take an object as CloudTrail stores it: its key, its bytes and its user metadata (a
//! digest's `x-amz-meta-signature` and `x-amz-meta-signature-algorithm`). A directory keeps the
//! metadata in `<key>.metadata.json` beside the object. Every write replaces the object whole,
//! so the deliverer's redo after a crash writes the same key again rather than a second object.
//!
//! In S3-compatible storage an object also gets the content headers CloudTrail gives its files
//! (`Content-Type: application/json`, `Content-Encoding: gzip`); a directory has no headers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{Attribute, AttributeValue, Attributes, ObjectStore, PutOptions, PutPayload};
use rampart_cloudtrail::files::METADATA_SUFFIX;

/// How an object's bytes are encoded, which its `Content-Type` and `Content-Encoding` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Gzip JSON, as CloudTrail writes log and digest files: `application/json`, `gzip`.
    GzipJson,
    /// Bytes an HTTP client must not decode (a log file in Rampart's SSE-KMS envelope, which is
    /// not gzip): no content headers.
    Opaque,
}

/// The `Content-Type` and `Content-Encoding` of CloudTrail's gzip JSON files.
const JSON_CONTENT_TYPE: &str = "application/json";
const GZIP_CONTENT_ENCODING: &str = "gzip";

/// An S3-compatible endpoint and the credentials Rampart writes there with.
#[derive(Clone)]
pub struct S3Endpoint {
    /// The endpoint URL, e.g. `http://127.0.0.1:9000`.
    pub url: String,
    /// Its region (S3 signs requests for one).
    pub region: String,
    /// Access key ID.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Endpoint {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Endpoint")
            .field("url", &self.url)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Why an object could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file of a bucket directory could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The S3-compatible store refused or failed.
    #[error("storing s3://{bucket}/{key}: {source}")]
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The cause.
        source: Box<object_store::Error>,
    },
}

/// The trail files' destination, shared by the deliverer's rounds.
#[derive(Debug, Clone)]
pub struct TrailStorage {
    target: Target,
    /// Objects stored by this process (for the crash test's stop point).
    stored: Arc<AtomicUsize>,
    /// A test's stop point: after this many objects the deliverer stops dead, as a crash would
    /// leave it, before recording its progress (`RAMPART_TRAIL_TEST_HALT_AFTER_OBJECTS`).
    halt_after: Option<usize>,
}

#[derive(Debug, Clone)]
enum Target {
    Directory(PathBuf),
    S3 {
        endpoint: S3Endpoint,
        clients: Clients,
    },
}

/// One S3 client per bucket, kept for its connection pool.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<String, Arc<AmazonS3>>>>);

impl std::fmt::Debug for Clients {
    // A client's own Debug shows its credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clients")
    }
}

impl TrailStorage {
    /// Files in `<dir>/<bucket>/<key>`.
    pub fn directory(dir: PathBuf) -> Self {
        Self {
            target: Target::Directory(dir),
            stored: Arc::default(),
            halt_after: None,
        }
    }

    /// Objects in the buckets of an S3-compatible store.
    pub fn s3(endpoint: S3Endpoint) -> Self {
        Self {
            target: Target::S3 {
                endpoint,
                clients: Clients::default(),
            },
            stored: Arc::default(),
            halt_after: None,
        }
    }

    /// The same storage, halting the deliverer after `objects` objects (tests only).
    pub fn halting_after(mut self, objects: Option<usize>) -> Self {
        self.halt_after = objects;
        self
    }

    /// The bucket directory of `bucket`, when files go to directories.
    pub fn bucket_dir(&self, bucket: &str) -> Option<PathBuf> {
        match &self.target {
            Target::Directory(dir) => Some(dir.join(bucket)),
            Target::S3 { .. } => None,
        }
    }

    /// Stores `bytes` as `bucket`/`key` with user `metadata` (names without `x-amz-meta-`).
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        encoding: Encoding,
        metadata: &[(&'static str, String)],
    ) -> Result<(), StorageError> {
        match &self.target {
            Target::Directory(dir) => {
                let path = dir.join(bucket).join(key);
                if !metadata.is_empty() {
                    // The metadata first: a digest without its signature would read as forged.
                    let map: serde_json::Map<String, serde_json::Value> = metadata
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                        .collect();
                    let json = serde_json::Value::Object(map).to_string();
                    write_file(
                        &PathBuf::from(format!("{}{METADATA_SUFFIX}", path.display())),
                        json.as_bytes(),
                    )?;
                }
                write_file(&path, &bytes)?;
            }
            Target::S3 { endpoint, clients } => {
                let s3_error = |source| StorageError::S3 {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    source: Box::new(source),
                };
                let client = client(endpoint, clients, bucket).map_err(s3_error)?;
                let location = object_store::path::Path::parse(key)
                    .map_err(|e| s3_error(object_store::Error::from(e)))?;
                let options = PutOptions {
                    attributes: attributes(encoding, metadata),
                    ..PutOptions::default()
                };
                client
                    .put_opts(&location, PutPayload::from(bytes), options)
                    .await
                    .map_err(s3_error)?;
            }
        }
        self.stored_one().await;
        Ok(())
    }

    /// Counts a stored object; at the test's stop point, never returns.
    async fn stored_one(&self) {
        let count = self.stored.fetch_add(1, Ordering::SeqCst) + 1;
        if self.halt_after.is_some_and(|n| count >= n) {
            tracing::warn!(
                objects = count,
                "RAMPART_TRAIL_TEST_HALT_AFTER_OBJECTS reached: trail delivery halts here"
            );
            std::future::pending::<()>().await;
        }
    }
}

/// An object's S3 attributes: the content headers of its encoding and its user metadata.
fn attributes(encoding: Encoding, metadata: &[(&'static str, String)]) -> Attributes {
    let content = match encoding {
        Encoding::GzipJson => vec![
            (Attribute::ContentType, JSON_CONTENT_TYPE),
            (Attribute::ContentEncoding, GZIP_CONTENT_ENCODING),
        ],
        Encoding::Opaque => Vec::new(),
    };
    content
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::from(v)))
        .chain(metadata.iter().map(|(k, v)| {
            (
                Attribute::Metadata((*k).into()),
                AttributeValue::from(v.clone()),
            )
        }))
        .collect()
}

/// The client of `bucket`.
fn client(
    endpoint: &S3Endpoint,
    clients: &Clients,
    bucket: &str,
) -> Result<Arc<AmazonS3>, object_store::Error> {
    let mut clients = clients
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(client) = clients.get(bucket) {
        return Ok(Arc::clone(client));
    }
    let client = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&endpoint.url)
            .with_region(&endpoint.region)
            .with_bucket_name(bucket)
            .with_access_key_id(&endpoint.access_key_id)
            .with_secret_access_key(&endpoint.secret_access_key)
            // Local S3-compatible servers answer plain HTTP and path-style requests.
            .with_allow_http(endpoint.url.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()?,
    );
    clients.insert(bucket.to_owned(), Arc::clone(&client));
    Ok(client)
}

/// Writes `bytes` to `path` whole: into a temporary file, synced, then renamed, so a reader
/// never sees half a file and a crash leaves either nothing or the file. Owner-only, as the data
/// directory: trail files (and exports and decrypted copies of them) hold audit events.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let io = |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        // Trail files hold every account's events: owner-only, like the data directory.
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(parent).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, reason = "tests")]

    use super::*;

    #[test]
    fn gzip_json_objects_say_so_and_envelopes_do_not() {
        let signed = [("signature", "ab".to_owned())];
        let digest = attributes(Encoding::GzipJson, &signed);
        assert_eq!(
            digest.get(&Attribute::ContentType).map(AsRef::as_ref),
            Some("application/json")
        );
        assert_eq!(
            digest.get(&Attribute::ContentEncoding).map(AsRef::as_ref),
            Some("gzip")
        );
        assert_eq!(
            digest
                .get(&Attribute::Metadata("signature".into()))
                .map(AsRef::as_ref),
            Some("ab")
        );
        // An SSE-KMS envelope is not gzip: a client told so would fail to decode it.
        let envelope = attributes(Encoding::Opaque, &[]);
        assert!(envelope.get(&Attribute::ContentEncoding).is_none());
        assert!(envelope.get(&Attribute::ContentType).is_none());
    }

    #[test]
    fn no_secret_in_debug_output() {
        let storage = TrailStorage::s3(S3Endpoint {
            url: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMIsecret".into(),
        });
        // With a bucket's client made (as after a first delivery).
        if let Target::S3 { endpoint, clients } = &storage.target {
            assert!(client(endpoint, clients, "trail-bucket").is_ok());
        }
        let shown = format!("{storage:?}");
        assert!(shown.contains("AKIDEXAMPLE") && !shown.contains("wJalrXUtnFEMIsecret"));
    }
}
