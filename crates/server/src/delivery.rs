//! The deliverer: a background task that turns the journal into each logging trail's log
//! files (gzip JSON `{"Records":[…]}` in AWS's key layout, in the trail's bucket: a directory
//! standing for it, or the bucket of an S3-compatible store, trail_storage.rs) and, with log
//! file validation on, digest files per region, signed SHA256withRSA with the region's key
//! (rampart_cloudtrail::signing_keys), each chaining to the region's previous digest.
//!
//! Exactly once across crashes: before writing files the deliverer records the journal range
//! it is delivering (`pending`); file names and contents are a pure function of that range, so
//! after a crash the same files are written again over any partial ones (the same keys, the
//! same bytes), and only then is the position advanced. Digests likewise: the round's end time
//! is recorded first (`pending_digest`), and a cut round is finished with it, before anything
//! else, giving the same keys and bytes (PKCS #1 v1.5 signatures are deterministic). A restart
//! neither loses nor repeats an event or a file.
//!
//! A round works from a snapshot of the trails, so a trail can be deleted (and made again
//! under its name) while it is delivered: its progress is written only if the trail is still
//! the same trail (`save_delivery_state` checks in the write's transaction), and the round
//! stops for it otherwise, so a deleted trail's position, digest chain and undigested files
//! never outlive it or pass to a new trail of its name.
//!
//! A trail with a KMS key gets its log files encrypted (rampart_cloudtrail::encryption): a
//! fresh data key per file, so a redone file's bytes differ while its plaintext, which its
//! digest hashes, does not. When KMS refuses (key disabled, policy changed), the round fails
//! for that trail alone, GetTrailStatus shows why (`LatestDeliveryError`), and the same range
//! is delivered once the key is usable again: nothing is lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rampart_cloudtrail::encryption::{
    EncryptLogError, data_key_call, log_file_context, seal_log_file,
};
use rampart_cloudtrail::files::{self, Digest, DigestLogFile};
use rampart_cloudtrail::signing_keys::{self, SigningKey, SigningKeyError};
use rampart_cloudtrail::{
    DeliveryState, DigestLink, TrailRecord, all_trails, delivery_state, save_delivery_state,
};
use rampart_crypto::RootKey;
use rampart_service::aws_timestamp;
use rampart_store::{Store, StoreError};
use serde_json::Value;
use time::OffsetDateTime;

use crate::calls::call_as_service;
use crate::state::AppState;
use crate::trail_storage::{Encoding, S3Endpoint, StorageError, TrailStorage};

/// AWS delivers about every five minutes.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
/// AWS writes digests hourly.
const DEFAULT_DIGEST_INTERVAL: Duration = Duration::from_secs(3600);
/// How long a digest signing key signs before the next one replaces it (AWS states no
/// period; it rotates its regional keys from time to time and lists each for its window).
const DEFAULT_KEY_ROTATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// LookupEvents' window, and so the journal's.
const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
/// Journal entries read per batch.
const BATCH: usize = 5000;

/// The lease a node holds to deliver trails and apply journal retention when several nodes
/// share one store ([`rampart_store::Store::take_lease`]).
pub const DELIVERY_LEASE: &str = "trail-delivery";

/// Where and how often to deliver.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Where the files go: bucket directories, or an S3-compatible store.
    pub storage: TrailStorage,
    /// Time between deliveries.
    pub interval: Duration,
    /// Time between digest files.
    pub digest_interval: Duration,
    /// How long each digest signing key signs.
    pub key_rotation: Duration,
    /// How long the journal keeps events (LookupEvents' 90 days): older ones go once every
    /// trail has delivered them (`Store::remove_journal_before`).
    pub retention: Duration,
}

impl DeliveryConfig {
    /// Bucket directories under `<data-dir>/buckets` (or `RAMPART_BUCKETS_DIR`), or the
    /// buckets of the S3-compatible `s3` endpoint when given; every 5 minutes, digests hourly,
    /// signing keys replaced every 30 days, events kept 90 days; overridden by
    /// `RAMPART_TRAIL_DELIVERY_SECONDS`, `RAMPART_TRAIL_DIGEST_SECONDS`,
    /// `RAMPART_TRAIL_KEY_ROTATION_SECONDS` and `RAMPART_JOURNAL_RETENTION_DAYS`.
    /// `RAMPART_TRAIL_TEST_HALT_AFTER_OBJECTS` stops delivery dead after that many objects, for
    /// crash tests.
    pub fn from_env(data_dir: &Path, s3: Option<S3Endpoint>) -> Self {
        let seconds = |name: &str, default: Duration| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .map_or(default, Duration::from_secs_f64)
        };
        let storage = match s3 {
            Some(endpoint) => TrailStorage::s3(endpoint),
            None => TrailStorage::directory(
                std::env::var_os("RAMPART_BUCKETS_DIR")
                    .map_or_else(|| data_dir.join("buckets"), PathBuf::from),
            ),
        };
        let halt_after = std::env::var("RAMPART_TRAIL_TEST_HALT_AFTER_OBJECTS")
            .ok()
            .and_then(|v| v.parse().ok());
        Self {
            storage: storage.halting_after(halt_after),
            interval: seconds("RAMPART_TRAIL_DELIVERY_SECONDS", DEFAULT_INTERVAL),
            digest_interval: seconds("RAMPART_TRAIL_DIGEST_SECONDS", DEFAULT_DIGEST_INTERVAL),
            key_rotation: seconds("RAMPART_TRAIL_KEY_ROTATION_SECONDS", DEFAULT_KEY_ROTATION),
            retention: std::env::var("RAMPART_JOURNAL_RETENTION_DAYS")
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|days| *days > 0.0)
                .map_or(DEFAULT_RETENTION, |days| {
                    Duration::from_secs_f64(days * 24.0 * 3600.0)
                }),
        }
    }
}

/// Why a delivery round failed (it is retried next round).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A file could not be made.
    #[error("making {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be stored.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// The signing key could not be made or opened.
    #[error("{0}")]
    Key(#[from] SigningKeyError),
    /// KMS would not encrypt a log file with the trail's key.
    #[error("encrypting a log file: {0}")]
    Encryption(#[from] EncryptLogError),
}

impl DeliveryError {
    /// What GetTrailStatus shows as `LatestDeliveryError`: the error S3 would have answered.
    fn delivery_error(&self) -> String {
        match self {
            Self::Encryption(e) => e.code.clone(),
            Self::Storage(StorageError::S3 { source, .. }) => match source.as_ref() {
                object_store::Error::NotFound { .. } => "NoSuchBucket".to_owned(),
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => "AccessDenied".to_owned(),
                _ => "InternalError".to_owned(),
            },
            Self::Store(_) | Self::Io { .. } | Self::Storage(_) | Self::Key(_) => {
                "InternalError".to_owned()
            }
        }
    }
}

/// The running deliverer.
pub struct Deliverer {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Deliverer {
    /// Stops the deliverer once its current round (if any) is done.
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the deliverer on a thread of its own, so that compressing and writing files never
/// takes a worker from the requests.
pub fn spawn(app: Arc<AppState>, config: DeliveryConfig) -> std::io::Result<Deliverer> {
    // I/O for the S3-compatible endpoint's connections.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()?;
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rampart-trail-deliverer".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut ticker = tokio::time::interval(config.interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {}
                        // Dropping the sender (or sending) stops the loop between rounds.
                        _ = &mut stopped => return,
                    }
                    let now = OffsetDateTime::now_utc();
                    if let Err(e) = deliver_once(&app, &config, now).await {
                        tracing::warn!(error = %e, "trail delivery failed; retrying next round");
                    }
                }
            });
        })?;
    Ok(Deliverer {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// The key that signs `region`'s digests at `at`: the stored one valid then, else a new one
/// valid from `at` for the rotation period (the first one stored wins).
async fn signing_key(
    app: &Arc<AppState>,
    config: &DeliveryConfig,
    region: &str,
    at: i64,
) -> Result<SigningKey, DeliveryError> {
    if let Some(key) = app
        .store
        .read_with(|tx| signing_keys::key_at(tx, region, at))
        .map_err(|e: StoreError| e)?
    {
        return Ok(key);
    }
    let period = i64::try_from(config.key_rotation.as_secs()).unwrap_or(i64::MAX);
    let fresh = signing_keys::generate(&app.root_key, region, at, period)?;
    let key = app
        .store
        .write_with(move |tx| signing_keys::install(tx, fresh))
        .await?;
    Ok(key)
}

/// Replaces the digest signing key of every region that has one (and of `regions`) now: the
/// current keys end their windows, new ones sign from now on (`rampart admin
/// rotate-trail-keys`). Returns the new keys.
pub async fn rotate_signing_keys(
    store: &Arc<dyn Store>,
    root_key: &RootKey,
    regions: &[String],
    now: OffsetDateTime,
    period: Duration,
) -> Result<Vec<SigningKey>, DeliveryError> {
    let mut all = store
        .read_with(|tx| signing_keys::regions(tx))
        .map_err(|e: StoreError| e)?;
    all.extend(regions.iter().cloned());
    all.sort();
    all.dedup();
    let period = i64::try_from(period.as_secs()).unwrap_or(i64::MAX);
    let mut rotated = Vec::new();
    for region in all {
        let fresh = signing_keys::generate(root_key, &region, now.unix_timestamp(), period)?;
        let key = store
            .write_with(move |tx| signing_keys::rotate(tx, fresh))
            .await?;
        rotated.push(key);
    }
    Ok(rotated)
}

/// One delivery round for every trail; returns the number of log files written. A trail
/// whose delivery fails keeps its undelivered range for the next round, with the failure in
/// its status; the other trails are delivered regardless.
pub async fn deliver_once(
    app: &Arc<AppState>,
    config: &DeliveryConfig,
    now: OffsetDateTime,
) -> Result<usize, DeliveryError> {
    let store = &app.store;
    // One node at a time delivers (and applies retention), the one holding the lease;
    // every other asks again each round, so it takes over within a round of the holder's death.
    if !store.take_lease(DELIVERY_LEASE)? {
        return Ok(0);
    }
    app.catch_up_with_store();
    let trails = store.read_with(all_trails).map_err(|e: StoreError| e)?;
    let mut written = 0;
    for trail in trails {
        // A trail that never logged has nothing to deliver yet.
        if trail.start_logging_time.is_none() {
            continue;
        }
        match deliver_trail(app, config, &trail, now).await {
            Ok(files) => written += files,
            Err(e) => {
                tracing::warn!(trail = %trail.arn(), error = %e, "trail delivery failed; retrying next round");
                record_failure(store, &trail, &e, now).await?;
            }
        }
    }
    retain(store, config, now)?;
    Ok(written)
}

/// Removes the journal's events older than the retention window that every trail has
/// delivered. A trail that never logged delivers nothing from before its start, so it holds
/// nothing back; trails made after the snapshot below start later still.
fn retain(
    store: &Arc<dyn Store>,
    config: &DeliveryConfig,
    now: OffsetDateTime,
) -> Result<(), DeliveryError> {
    let window = i64::try_from(config.retention.as_secs()).unwrap_or(i64::MAX);
    let before_time = now.unix_timestamp().saturating_sub(window);
    let up_to = store
        .read_with(|tx| {
            let mut up_to = u64::MAX;
            for trail in all_trails(tx)? {
                if trail.start_logging_time.is_some() {
                    up_to = up_to.min(delivery_state(tx, &trail)?.position);
                }
            }
            Ok::<_, StoreError>(up_to)
        })
        .map_err(|e: StoreError| e)?;
    store.remove_journal_before(before_time, up_to)?;
    Ok(())
}

/// Notes a failed delivery attempt in the trail's status (its progress is left as it was).
async fn record_failure(
    store: &Arc<dyn Store>,
    trail: &TrailRecord,
    error: &DeliveryError,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut state = store.read_with(|tx| delivery_state(tx, trail))?;
    state.latest_delivery_attempt_time = Some(now.unix_timestamp());
    state.latest_delivery_error = Some(error.delivery_error());
    save(store, trail, &state).await?;
    Ok(())
}

async fn deliver_trail(
    app: &Arc<AppState>,
    config: &DeliveryConfig,
    trail: &TrailRecord,
    now: OffsetDateTime,
) -> Result<usize, DeliveryError> {
    let store = &app.store;
    let mut state = store
        .read_with(|tx| delivery_state(tx, trail))
        .map_err(|e: StoreError| e)?;
    // A digest round a crash cut short is finished first, before new log files join the
    // undigested ones, so it is redone with the same content.
    if let Some(at) = state.pending_digest
        && !write_digests(app, config, trail, &mut state, at).await?
    {
        return Ok(0);
    }
    let mut written = 0;
    loop {
        let (from, to) = match state.pending {
            Some(range) => range,
            None => {
                let position = state.position;
                let batch = store
                    .read_with(|tx| tx.journal_after(position, BATCH))
                    .map_err(|e: StoreError| e)?;
                let Some(last) = batch.last() else { break };
                let range = (position, last.seq);
                state.pending = Some(range);
                if !save(store, trail, &state).await? {
                    return Ok(written);
                }
                range
            }
        };
        let files = render(store, trail, from, to)?;
        for file in &files {
            let (stored, encoding) = match &trail.kms_key_id {
                None => (file.gz.clone(), Encoding::GzipJson),
                Some(key_arn) => (encrypt(app, trail, key_arn, file).await?, Encoding::Opaque),
            };
            config
                .storage
                .put(&trail.s3_bucket_name, &file.key, stored, encoding, &[])
                .await?;
            state.undigested.push((
                file.key.clone(),
                file.sha256.clone(),
                file.oldest,
                file.newest,
            ));
        }
        written += files.len();
        state.position = to;
        state.pending = None;
        if !files.is_empty() {
            state.latest_delivery_time = Some(now.unix_timestamp());
            state.latest_delivery_attempt_time = Some(now.unix_timestamp());
            state.latest_delivery_attempt_succeeded = Some(now.unix_timestamp());
            state.latest_delivery_error = None;
        }
        if !save(store, trail, &state).await? {
            return Ok(written);
        }
        if to - from < BATCH as u64 {
            break;
        }
    }
    if trail.log_file_validation_enabled {
        let period_start = *state
            .digest_period_start
            .get_or_insert(now.unix_timestamp());
        // A digest's key names its end to the second: never two in one second, or the second
        // would replace the first.
        let due = now.unix_timestamp() - period_start
            >= i64::try_from(config.digest_interval.as_secs()).unwrap_or(i64::MAX)
            && state
                .latest_digest_time
                .is_none_or(|last| now.unix_timestamp() > last);
        if due {
            state.pending_digest = Some(now.unix_timestamp());
            if !save(store, trail, &state).await? {
                return Ok(written);
            }
            write_digests(app, config, trail, &mut state, now.unix_timestamp()).await?;
        } else {
            save(store, trail, &state).await?;
        }
    }
    Ok(written)
}

/// `file` encrypted as S3 stores an SSE-KMS object CloudTrail writes: its data key from a
/// GenerateDataKey call CloudTrail makes through the spine (authorized by the key's policy and
/// journaled in the key's account), via S3 on its behalf.
async fn encrypt(
    app: &Arc<AppState>,
    trail: &TrailRecord,
    key_arn: &str,
    file: &LogFile,
) -> Result<Vec<u8>, EncryptLogError> {
    let context = log_file_context(trail, &file.key);
    let trail_arn = trail.arn();
    let via = format!("s3.{}.amazonaws.com", trail.home_region);
    let call = data_key_call(key_arn, &context, &trail_arn, &trail.account_id, Some(&via));
    let generated = call_as_service(app, "cloudtrail", &trail.home_region, call)
        .await
        .map_err(|e| EncryptLogError::of_kms(&e))?;
    seal_log_file(&generated, context, app.entropy.as_ref(), &file.gz)
}

/// Stores `trail`'s progress unless the trail is gone (deleted, or deleted and made again)
/// since the round's snapshot, or this node no longer holds the delivery lease; whether it
/// did. A round stops delivering a trail whose progress it could not store.
async fn save(
    store: &Arc<dyn Store>,
    trail: &TrailRecord,
    state: &DeliveryState,
) -> Result<bool, StoreError> {
    let (trail, state) = (trail.clone(), state.clone());
    // The progress is stored only while this node still holds the lease (checked in the
    // same transaction), so a node that lost it cannot move a trail's cursor; files it wrote
    // meanwhile are named by their range, and the holder writes the same ones again.
    let saved = store
        .write_with(move |tx| {
            if !tx.hold_lease(DELIVERY_LEASE)? {
                return Ok(false);
            }
            save_delivery_state(tx, &trail, &state)
        })
        .await?;
    if !saved {
        tracing::debug!(
            "trail deleted during its delivery, or another node took delivery over; this \
             round's progress is dropped"
        );
    }
    Ok(saved)
}

/// One rendered log file.
struct LogFile {
    key: String,
    gz: Vec<u8>,
    sha256: String,
    oldest: i64,
    newest: i64,
}

/// The trail's files for journal range (`from`, `to`]: one per region, named and filled
/// deterministically from the range (so a redo after a crash writes the same files).
fn render(
    store: &Arc<dyn Store>,
    trail: &TrailRecord,
    from: u64,
    to: u64,
) -> Result<Vec<LogFile>, DeliveryError> {
    let limit = usize::try_from(to - from).unwrap_or(usize::MAX);
    let entries = store
        .read_with(|tx| tx.journal_after(from, limit))
        .map_err(|e: StoreError| e)?;
    let mut by_region: std::collections::BTreeMap<String, Vec<(i64, &[u8])>> = Default::default();
    for entry in entries.iter().filter(|e| e.seq <= to) {
        // Only the fields that select the event are parsed; the event itself is copied into
        // the file byte for byte (it is JSON the audit step wrote), which keeps the
        // deliverer's CPU cost per event small.
        let Ok(head) = serde_json::from_slice::<EventHead<'_>>(&entry.event) else {
            continue;
        };
        let time = head.time().unwrap_or(0);
        if !logging_at(trail, time) || !trail.selects(&head.as_value()) {
            continue;
        }
        let region = head
            .aws_region
            .as_deref()
            .unwrap_or(&trail.home_region)
            .to_owned();
        by_region
            .entry(region)
            .or_default()
            .push((time, entry.event.as_slice()));
    }
    let id_base = format!("{}|", trail.arn());
    log_files(
        trail.s3_key_prefix.as_deref(),
        &trail.account_id,
        &id_base,
        from,
        to,
        by_region,
    )
}

/// One log file per region of `account`'s events of journal range (`from`, `to`], each
/// `(time, event)`: `{"Records":[…]}` gzipped, under AWS's key. `id_base` makes the file's
/// unique part differ between their writers (a trail, an export).
fn log_files(
    prefix: Option<&str>,
    account: &str,
    id_base: &str,
    from: u64,
    to: u64,
    by_region: std::collections::BTreeMap<String, Vec<(i64, &[u8])>>,
) -> Result<Vec<LogFile>, DeliveryError> {
    let mut files = Vec::new();
    for (region, events) in by_region {
        let oldest = events.iter().map(|(t, _)| *t).min().unwrap_or(0);
        let newest = events.iter().map(|(t, _)| *t).max().unwrap_or(0);
        let mut json =
            Vec::with_capacity(events.iter().map(|(_, e)| e.len() + 1).sum::<usize>() + 16);
        json.extend_from_slice(b"{\"Records\":[");
        for (n, (_, event)) in events.iter().enumerate() {
            if n > 0 {
                json.push(b',');
            }
            json.extend_from_slice(event);
        }
        json.extend_from_slice(b"]}");
        // AWS's 16-character unique part, derived from the range instead of drawn at random.
        let id_source = format!("{id_base}{region}|{from}|{to}");
        let id: String = files::sha256_hex(id_source.as_bytes())
            .chars()
            .take(16)
            .collect();
        let at = OffsetDateTime::from_unix_timestamp(newest).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let key = files::log_file_key(prefix, account, &region, at, &id);
        let gz = files::gzip(&json).map_err(|source| DeliveryError::Io {
            path: key.clone(),
            source,
        })?;
        files.push(LogFile {
            key,
            gz,
            sha256: files::sha256_hex(&json),
            oldest,
            newest,
        });
    }
    Ok(files)
}

/// `rampart trail export`: every account's events whose time is in `[from, to]` (seconds
/// since the epoch), as the CloudTrail log files a trail of that account logging every event
/// would have been delivered, passed to `write` as (key, gzip bytes); returns how many files.
/// Events of callers never authenticated belong to no account and are left out (LookupEvents
/// shows them to none either). Reads the journal in delivery's batches, so memory stays
/// bounded whatever the range.
pub fn export(
    store: &Arc<dyn Store>,
    from: i64,
    to: i64,
    mut write: impl FnMut(&str, &[u8]) -> Result<(), DeliveryError>,
) -> Result<usize, DeliveryError> {
    let mut position = 0;
    let mut written = 0;
    loop {
        let batch = store
            .read_with(|tx| tx.journal_after(position, BATCH))
            .map_err(|e: StoreError| e)?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        type ByRegion<'e> = std::collections::BTreeMap<String, Vec<(i64, &'e [u8])>>;
        let mut by_account: std::collections::BTreeMap<String, ByRegion<'_>> = Default::default();
        for entry in &batch {
            let Ok(head) = serde_json::from_slice::<EventHead<'_>>(&entry.event) else {
                continue;
            };
            let (Some(account), Some(region), Some(time)) =
                (&head.recipient_account_id, &head.aws_region, head.time())
            else {
                continue;
            };
            if time < from || time > to {
                continue;
            }
            let region = region.to_string();
            by_account
                .entry(account.to_string())
                .or_default()
                .entry(region)
                .or_default()
                .push((time, entry.event.as_slice()));
        }
        for (account, by_region) in by_account {
            for file in log_files(None, &account, "export|", position, last, by_region)? {
                write(&file.key, &file.gz)?;
                written += 1;
            }
        }
        position = last;
        if batch.len() < BATCH {
            break;
        }
    }
    Ok(written)
}

/// The fields of an event that decide whether and where a trail delivers it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventHead<'a> {
    #[serde(borrow, default)]
    recipient_account_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    event_source: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    event_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    aws_region: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    event_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    read_only: Option<bool>,
}

impl EventHead<'_> {
    /// `eventTime`, in seconds since the epoch.
    fn time(&self) -> Option<i64> {
        self.event_time
            .as_deref()
            .and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(OffsetDateTime::unix_timestamp)
    }

    /// The selecting fields as the JSON object [`TrailRecord::selects`] reads.
    fn as_value(&self) -> Value {
        serde_json::json!({
            "recipientAccountId": self.recipient_account_id,
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": self.aws_region,
            "readOnly": self.read_only,
        })
    }
}

/// Whether the trail was logging at `time`: after its last start, and before its stop if it
/// is stopped (StopLogging's own event comes before the stop time, so it is delivered).
pub(crate) fn logging_at(trail: &TrailRecord, time: i64) -> bool {
    let started = trail.start_logging_time.is_some_and(|s| time >= s);
    let not_stopped = trail.is_logging || trail.stop_logging_time.is_some_and(|s| time <= s);
    started && not_stopped
}

/// The regions that get a digest this round: the trail's home region, every region with a
/// chain, and every region with undigested files (AWS keeps a chain per region the trail logs,
/// and delivers a region's digest even when no log file came in the period).
fn digest_regions(trail: &TrailRecord, state: &DeliveryState) -> Vec<String> {
    let mut regions: Vec<String> = std::iter::once(trail.home_region.clone())
        .chain(state.digest_chains.keys().cloned())
        .chain(
            state
                .undigested
                .iter()
                .filter_map(|(key, ..)| files::log_file_region(key).map(str::to_owned)),
        )
        .collect();
    regions.sort();
    regions.dedup();
    regions
}

/// Writes the digest of every region ending at `at` (the round recorded in
/// `state.pending_digest`), then records the new chain links and clears the round; whether the
/// trail still exists.
async fn write_digests(
    app: &Arc<AppState>,
    config: &DeliveryConfig,
    trail: &TrailRecord,
    state: &mut DeliveryState,
    at: i64,
) -> Result<bool, DeliveryError> {
    let mut links = Vec::new();
    for region in digest_regions(trail, state) {
        let key = signing_key(app, config, &region, at).await?;
        let link = write_digest(app, config, trail, state, &region, &key, at).await?;
        links.push((region, link));
    }
    state.digest_chains.extend(links);
    state.undigested.clear();
    state.digest_period_start = Some(at);
    state.latest_digest_time = Some(at);
    state.pending_digest = None;
    Ok(save(&app.store, trail, state).await?)
}

/// Writes `region`'s digest ending at `at`, signed with `key`; the link the next one names.
async fn write_digest(
    app: &Arc<AppState>,
    config: &DeliveryConfig,
    trail: &TrailRecord,
    state: &DeliveryState,
    region: &str,
    key: &SigningKey,
    at: i64,
) -> Result<DigestLink, DeliveryError> {
    let time = OffsetDateTime::from_unix_timestamp(at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let stamp = |t: i64| aws_timestamp(OffsetDateTime::from_unix_timestamp(t).unwrap_or(time));
    let bucket = trail.s3_bucket_name.clone();
    let object = files::digest_key(
        trail.s3_key_prefix.as_deref(),
        &trail.account_id,
        region,
        &trail.name,
        &trail.home_region,
        time,
    );
    let previous = state.digest_chains.get(region);
    let log_files: Vec<&(String, String, i64, i64)> = state
        .undigested
        .iter()
        .filter(|(key, ..)| files::log_file_region(key) == Some(region))
        .collect();
    let digest = Digest {
        aws_account_id: trail.account_id.clone(),
        digest_start_time: stamp(state.digest_period_start.unwrap_or(at)),
        digest_end_time: aws_timestamp(time),
        digest_s3_bucket: bucket.clone(),
        digest_s3_object: object.clone(),
        digest_public_key_fingerprint: key.fingerprint.clone(),
        digest_signature_algorithm: files::SIGNATURE_ALGORITHM.to_owned(),
        newest_event_time: log_files.iter().map(|f| f.3).max().map(stamp),
        oldest_event_time: log_files.iter().map(|f| f.2).min().map(stamp),
        previous_digest_s3_bucket: previous.map(|_| bucket.clone()),
        previous_digest_s3_object: previous.map(|p| p.key.clone()),
        previous_digest_hash_value: previous.map(|p| p.hash.clone()),
        previous_digest_hash_algorithm: previous.map(|_| "SHA-256".to_owned()),
        previous_digest_signature: previous.map(|p| p.signature.clone()),
        log_files: log_files
            .iter()
            .map(|(key, hash, oldest, newest)| DigestLogFile {
                s3_bucket: bucket.clone(),
                s3_object: key.clone(),
                hash_value: hash.clone(),
                hash_algorithm: "SHA-256".to_owned(),
                newest_event_time: stamp(*newest),
                oldest_event_time: stamp(*oldest),
            })
            .collect(),
    };
    let raw = serde_json::to_vec(&digest).map_err(|e| DeliveryError::Io {
        path: object.clone(),
        source: e.into(),
    })?;
    let hash = files::sha256_hex(&raw);
    let signature = key.sign(
        &app.root_key,
        files::string_to_sign(&digest, &hash).as_bytes(),
    )?;
    let gz = files::gzip(&raw).map_err(|source| DeliveryError::Io {
        path: object.clone(),
        source,
    })?;
    let metadata = [
        (files::SIGNATURE_METADATA, signature.clone()),
        (
            files::SIGNATURE_ALGORITHM_METADATA,
            files::SIGNATURE_ALGORITHM.to_owned(),
        ),
    ];
    config
        .storage
        .put(&bucket, &object, gz, Encoding::GzipJson, &metadata)
        .await?;
    Ok(DigestLink {
        key: object,
        signature,
        hash,
    })
}

#[cfg(test)]
mod tests {
    //! The deliverer's progress against trails deleted, and made again, while it works.
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        reason = "tests"
    )]

    use rampart_service::{Caller, Handler, Value};
    use rampart_store::JournalAppend;
    use serde_json::json;

    use super::*;
    use crate::pipeline;

    const ACCOUNT: &str = "123456789012";
    const TRAIL: &str = "audit";

    fn t0() -> OffsetDateTime {
        time::macros::datetime!(2026-11-24 12:00:00 UTC)
    }

    /// Runs a CloudTrail operation's handler as the account's root user at `now`.
    async fn cloudtrail(
        app: &Arc<AppState>,
        operation: &'static str,
        input: Value,
        now: OffsetDateTime,
    ) -> Value {
        let state = Arc::clone(app);
        app.store
            .clone()
            .write_with(move |tx| {
                let caller = Caller::root(ACCOUNT, "AKIAROOT");
                let env = pipeline::env(&state, &caller, "us-east-1", "r", now);
                let service = state.registry.get("cloudtrail").unwrap();
                let out = match &service.operation(operation).unwrap().handler {
                    Handler::Write(h) => h(&env, tx, input),
                    Handler::Read(h) => h(&env, tx, input),
                };
                Ok::<_, StoreError>(
                    out.unwrap_or_else(|e| panic!("{operation}: {} {}", e.code, e.message)),
                )
            })
            .await
            .unwrap()
    }

    /// A trail named `TRAIL`, logging from `t0` on, with digests.
    async fn make_trail(app: &Arc<AppState>) -> TrailRecord {
        let input = json!({"Name": TRAIL, "S3BucketName": "audit-bucket",
                           "EnableLogFileValidation": true});
        cloudtrail(app, "CreateTrail", input, t0()).await;
        cloudtrail(app, "StartLogging", json!({"Name": TRAIL}), t0()).await;
        snapshot(app)
    }

    /// The trail as a round's snapshot holds it.
    fn snapshot(app: &Arc<AppState>) -> TrailRecord {
        let trails = app.store.read_with(all_trails).unwrap();
        trails.into_iter().find(|t| t.name == TRAIL).unwrap()
    }

    /// Appends a management event of the account to the journal, `seconds` after `t0`.
    async fn event(app: &Arc<AppState>, seconds: i64) {
        let at = t0() + time::Duration::seconds(seconds);
        let id = format!("event-{seconds}");
        let body = json!({"eventVersion": "1.11", "eventTime": aws_timestamp(at),
                          "eventSource": "iam.amazonaws.com", "eventName": "ListUsers",
                          "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT,
                          "readOnly": true, "eventID": id})
        .to_string();
        app.store
            .write_with(move |tx| {
                tx.append_journal(&JournalAppend {
                    event: body.as_bytes(),
                    event_time: at.unix_timestamp(),
                    account: Some(ACCOUNT),
                    event_id: &id,
                    event_name: "ListUsers",
                    event_source: "iam.amazonaws.com",
                    username: Some("root"),
                    access_key_id: Some("AKIAROOT"),
                    read_only: true,
                    resources: &[],
                })
            })
            .await
            .unwrap();
    }

    fn config(dir: &tempfile::TempDir) -> DeliveryConfig {
        DeliveryConfig {
            storage: TrailStorage::directory(dir.path().join("buckets")),
            interval: Duration::from_secs(1),
            // Every round writes a digest.
            digest_interval: Duration::ZERO,
            key_rotation: Duration::from_secs(3600),
            retention: DEFAULT_RETENTION,
        }
    }

    /// The delivery state stored for the trail's name, whoever's it is.
    fn stored_state(app: &Arc<AppState>) -> Option<DeliveryState> {
        app.store
            .read_with(|tx| {
                rampart_store::get_json(
                    tx,
                    rampart_cloudtrail::DELIVERY_NS,
                    &format!("{ACCOUNT}/{TRAIL}"),
                )
            })
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_round_that_outlives_its_trail_writes_no_state_back() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let trail = make_trail(&app).await;
        event(&app, 10).await;
        // The round took its snapshot; the trail is deleted before it writes anything.
        cloudtrail(&app, "DeleteTrail", json!({"Name": TRAIL}), t0()).await;
        let now = t0() + time::Duration::minutes(5);
        let written = deliver_trail(&app, &config(&dir), &trail, now)
            .await
            .unwrap();
        assert_eq!(written, 0);
        assert_eq!(stored_state(&app), None);
        // Its failure path does not write it back either.
        let failure = DeliveryError::Key(SigningKeyError::Unusable);
        record_failure(&app.store, &trail, &failure, now)
            .await
            .unwrap();
        assert_eq!(stored_state(&app), None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_trail_made_again_under_a_deleted_ones_name_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let config = config(&dir);
        let old = make_trail(&app).await;
        event(&app, 10).await;
        let now = t0() + time::Duration::minutes(5);
        // The legitimate path: a living trail's round keeps its progress.
        assert_eq!(deliver_once(&app, &config, now).await.unwrap(), 1);
        let delivered = stored_state(&app).unwrap();
        assert!(delivered.position > 0);
        assert!(delivered.digest_chains.contains_key("us-east-1"));
        assert_eq!(delivered.trail_id, old.trail_id);
        assert!(!old.trail_id.is_empty());
        let status = cloudtrail(&app, "GetTrailStatus", json!({"Name": TRAIL}), now).await;
        assert!(status.get("LatestDeliveryTime").is_some(), "{status}");
        // A round still holding the old trail is under way while it is deleted and made
        // again; its last write comes after.
        cloudtrail(&app, "DeleteTrail", json!({"Name": TRAIL}), now).await;
        let new = make_trail(&app).await;
        assert_ne!(new.trail_id, old.trail_id);
        let mut late = delivered.clone();
        late.undigested
            .push(("stale.json.gz".into(), "00".into(), 0, 0));
        assert!(!save(&app.store, &old, &late).await.unwrap());
        assert_eq!(stored_state(&app), None);
        // A state left under the name by another trail (as before trails had IDs) is not
        // the new trail's either.
        app.store
            .write_with(move |tx| {
                rampart_store::put_json(
                    tx,
                    rampart_cloudtrail::DELIVERY_NS,
                    &format!("{ACCOUNT}/{TRAIL}"),
                    &late,
                )
            })
            .await
            .unwrap();
        let seen = app.store.read_with(|tx| delivery_state(tx, &new)).unwrap();
        assert_eq!(
            seen,
            DeliveryState {
                trail_id: new.trail_id.clone(),
                ..DeliveryState::default()
            }
        );
        let status = cloudtrail(&app, "GetTrailStatus", json!({"Name": TRAIL}), now).await;
        for inherited in [
            "LatestDeliveryTime",
            "LatestDigestDeliveryTime",
            "LatestDeliveryAttemptTime",
        ] {
            assert!(status.get(inherited).is_none(), "{inherited} in {status}");
        }
        // The new trail's first round starts its own digest chain.
        let later = now + time::Duration::minutes(5);
        deliver_once(&app, &config, later).await.unwrap();
        let own = stored_state(&app).unwrap();
        assert_eq!(own.trail_id, new.trail_id);
        assert!(own.undigested.is_empty());
        let first_digest = own.digest_chains["us-east-1"].key.clone();
        let bucket = config.storage.bucket_dir("audit-bucket").unwrap();
        let gz = std::fs::read(bucket.join(&first_digest)).unwrap();
        let digest: Value = serde_json::from_slice(&files::gunzip(&gz).unwrap()).unwrap();
        assert!(digest["previousDigestS3Object"].is_null(), "{digest}");
    }

    /// The keys ListPublicKeys would serve for us-east-1, as the offline validator takes them.
    fn public_keys(app: &Arc<AppState>) -> files::PublicKeys {
        app.store
            .read_with(|tx| signing_keys::region_keys(tx, "us-east-1"))
            .unwrap()
            .into_iter()
            .map(|k| (k.fingerprint.clone(), k.public_der().unwrap()))
            .collect()
    }

    /// The offline validator's report on `bucket` with the listed keys; no finding expected.
    fn validate_clean(app: &Arc<AppState>, bucket: &Path) -> files::Report {
        let report = files::validate(
            bucket,
            &public_keys(app),
            None,
            None,
            &mut files::NoDataKeys,
        )
        .unwrap();
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        report
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn digests_verify_and_a_cut_digest_round_is_redone_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let config = config(&dir);
        let trail = make_trail(&app).await;
        event(&app, 10).await;
        let first = t0() + time::Duration::minutes(5);
        deliver_once(&app, &config, first).await.unwrap();
        let bucket = config.storage.bucket_dir("audit-bucket").unwrap();
        let report = validate_clean(&app, &bucket);
        assert_eq!((report.valid_digests, report.valid_logs), (1, 1));

        // A round that delivered its log file and recorded its digest time, then crashed
        // while writing the digest: the redo writes the same key with the same bytes.
        event(&app, 400).await;
        let second = first + time::Duration::minutes(5);
        let slow = DeliveryConfig {
            digest_interval: Duration::from_secs(3600),
            ..config.clone()
        };
        deliver_once(&app, &slow, second).await.unwrap();
        let mut cut = stored_state(&app).unwrap();
        assert_eq!(cut.undigested.len(), 1);
        cut.pending_digest = Some(second.unix_timestamp());
        let mut redo = cut.clone();
        assert!(
            write_digests(&app, &config, &trail, &mut cut, second.unix_timestamp())
                .await
                .unwrap()
        );
        let link = cut.digest_chains["us-east-1"].clone();
        let bytes = std::fs::read(bucket.join(&link.key)).unwrap();
        let metadata =
            std::fs::read(bucket.join(format!("{}{}", link.key, files::METADATA_SUFFIX))).unwrap();
        assert!(
            write_digests(&app, &config, &trail, &mut redo, second.unix_timestamp())
                .await
                .unwrap()
        );
        assert_eq!(redo.digest_chains["us-east-1"], link);
        assert_eq!(std::fs::read(bucket.join(&link.key)).unwrap(), bytes);
        assert_eq!(
            std::fs::read(bucket.join(format!("{}{}", link.key, files::METADATA_SUFFIX))).unwrap(),
            metadata
        );
        let digest: Digest = serde_json::from_slice(&files::gunzip(&bytes).unwrap()).unwrap();
        assert_eq!(digest.log_files.len(), 1);
        assert!(digest.previous_digest_signature.is_some());
        let report = validate_clean(&app, &bucket);
        assert_eq!((report.valid_digests, report.valid_logs), (2, 2));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn swapped_digests_are_reported_moved_as_aws_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let config = config(&dir);
        make_trail(&app).await;
        let mut chain = Vec::new();
        for round in 1..=3 {
            event(&app, 300 * round - 200).await;
            deliver_once(&app, &config, t0() + time::Duration::minutes(5 * round))
                .await
                .unwrap();
            chain.push(
                stored_state(&app).unwrap().digest_chains["us-east-1"]
                    .key
                    .clone(),
            );
        }
        let bucket = config.storage.bucket_dir("audit-bucket").unwrap();
        let report = validate_clean(&app, &bucket);
        assert_eq!((report.valid_digests, report.valid_logs), (3, 3));
        // The first two digests trade places, each with its metadata: out of order.
        let (a, b) = (bucket.join(&chain[0]), bucket.join(&chain[1]));
        let meta = |p: &Path| PathBuf::from(format!("{}{}", p.display(), files::METADATA_SUFFIX));
        for (from, to) in [(&a, &b), (&meta(&a), &meta(&b))] {
            let (x, y) = (std::fs::read(from).unwrap(), std::fs::read(to).unwrap());
            std::fs::write(from, y).unwrap();
            std::fs::write(to, x).unwrap();
        }
        let report = files::validate(
            &bucket,
            &public_keys(&app),
            None,
            None,
            &mut files::NoDataKeys,
        )
        .unwrap();
        assert_eq!(
            report.findings[..2],
            [
                files::Finding::DigestMoved(chain[0].clone()),
                files::Finding::DigestMoved(chain[1].clone()),
            ]
        );
        // Their log files, which no valid digest lists any more, are named too (a finding of
        // Rampart's own: AWS's validator checks only the files valid digests list).
        assert_eq!(report.findings.len(), 4, "{:?}", report.findings);
        assert!(
            report.findings[2..]
                .iter()
                .all(|f| matches!(f, files::Finding::LogInserted(_)))
        );
        assert_eq!(
            report.findings[0].to_string(),
            format!(
                "Digest file {} INVALID: has been moved from its original location",
                chain[0]
            )
        );
        // The newest digest is still valid, as it is to AWS's validator.
        assert_eq!((report.valid_digests, report.valid_logs), (1, 1));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn two_rounds_in_one_second_write_one_digest() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let config = config(&dir);
        make_trail(&app).await;
        event(&app, 10).await;
        let now = t0() + time::Duration::minutes(5);
        deliver_once(&app, &config, now).await.unwrap();
        let first = stored_state(&app).unwrap().digest_chains["us-east-1"].clone();
        event(&app, 20).await;
        deliver_once(&app, &config, now).await.unwrap();
        let state = stored_state(&app).unwrap();
        // The same second's digest key is not written again; the new file waits for the next.
        assert_eq!(state.digest_chains["us-east-1"], first);
        assert_eq!(state.undigested.len(), 1);
        let later = now + time::Duration::seconds(1);
        deliver_once(&app, &config, later).await.unwrap();
        let state = stored_state(&app).unwrap();
        assert!(state.undigested.is_empty());
        let bucket = config.storage.bucket_dir("audit-bucket").unwrap();
        let report = validate_clean(&app, &bucket);
        assert_eq!((report.valid_digests, report.valid_logs), (2, 2));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotated_key_signs_what_follows_and_the_old_one_stays_listed() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::for_tests(&dir);
        let config = config(&dir);
        make_trail(&app).await;
        event(&app, 10).await;
        let first = t0() + time::Duration::minutes(5);
        deliver_once(&app, &config, first).await.unwrap();
        let old = public_keys(&app);
        assert_eq!(old.len(), 1);
        let rotation = first + time::Duration::minutes(1);
        let rotated = rotate_signing_keys(
            &app.store,
            &app.root_key,
            &[],
            rotation,
            config.key_rotation,
        )
        .await
        .unwrap();
        assert_eq!(rotated.len(), 1);
        event(&app, 500).await;
        deliver_once(&app, &config, first + time::Duration::minutes(10))
            .await
            .unwrap();
        // Both keys are listed for the period; each window ends where the next begins.
        let listed = app
            .store
            .read_with(|tx| {
                signing_keys::keys_overlapping(
                    tx,
                    "us-east-1",
                    t0().unix_timestamp(),
                    (first + time::Duration::minutes(10)).unix_timestamp(),
                )
            })
            .unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].validity_end, rotation.unix_timestamp());
        assert_eq!(listed[1].validity_start, rotation.unix_timestamp());
        let bucket = config.storage.bucket_dir("audit-bucket").unwrap();
        let report = validate_clean(&app, &bucket);
        assert_eq!(report.valid_digests, 2);
        // With the old key alone, the digest the new key signed does not verify.
        let report = files::validate(&bucket, &old, None, None, &mut files::NoDataKeys).unwrap();
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    }

    /// Retention, on a clock the test moves: nothing goes before every trail delivered it,
    /// nor before it is older than the window; then the old segments go, and delivery and
    /// lookups carry on from the first event kept.
    #[tokio::test(flavor = "multi_thread")]
    async fn retention_waits_for_delivery_and_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let tiny = rampart_store::SqliteOptions {
            // A dozen events per segment.
            segment_bytes: 4 << 10,
            ..rampart_store::SqliteOptions::small()
        };
        let app = AppState::for_tests_with(&dir, &tiny);
        let config = config(&dir);
        make_trail(&app).await;
        for second in 1..=100 {
            event(&app, second).await;
        }
        let first_kept = |app: &Arc<AppState>| {
            app.store
                .read_with(|tx| tx.journal_after(0, 1))
                .map_err(|e: StoreError| e)
                .unwrap()[0]
                .seq
        };
        let start = first_kept(&app);
        let days = |n: i64| t0() + time::Duration::days(n);
        // Old enough, but the trail has delivered nothing.
        retain(&app.store, &config, days(100)).unwrap();
        assert_eq!(first_kept(&app), start);
        // Delivered, but younger than 90 days.
        assert!(
            deliver_once(&app, &config, t0() + time::Duration::minutes(5))
                .await
                .unwrap()
                > 0
        );
        retain(&app.store, &config, days(89)).unwrap();
        assert_eq!(first_kept(&app), start);
        // Both: the old segments go (never the last), with a round's retention.
        event(&app, 100 * 24 * 3600).await;
        deliver_once(&app, &config, days(100)).await.unwrap();
        let kept = first_kept(&app);
        assert!(kept > start + 50, "{kept}");
        let last = app.store.health().journal_seq;
        let hits = app
            .store
            .read_with(|tx| {
                tx.journal_lookup(&rampart_store::JournalQuery {
                    account: ACCOUNT.into(),
                    attribute: None,
                    start_time: 0,
                    end_time: i64::MAX,
                    before: None,
                    limit: 1000,
                })
            })
            .map_err(|e: StoreError| e)
            .unwrap();
        assert!(hits.iter().all(|hit| hit.entry.seq >= kept));
        assert_eq!(hits.len() as u64, last - kept + 1);
    }
}
