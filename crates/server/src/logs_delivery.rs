//! The CloudWatch Logs deliverer: a background task that sends every event a trail logs
//! (the same selection as its S3 delivery: account, regions, event selectors, logging
//! window) to the trail's log group, in the stream `<account>_CloudTrail_<region>`, within
//! seconds of the call, each log event's message the event's CloudTrail JSON record and its
//! timestamp the event's `eventTime`.
//!
//! The calls are CloudTrail's, made through the spine as the trail's role
//! (`CallPrincipal::Principal`, in a session named after the stream), so the role's
//! permissions, guardrails (SCPs) included, are evaluated at each delivery, as AWS does: a
//! role that loses its permission makes delivery fail, GetTrailStatus shows why
//! (`LatestCloudWatchLogsDeliveryError`), and delivery resumes where it stopped once fixed.
//!
//! Exactly once, in order: a journal batch's PutLogEvents calls and the trail's cursor
//! (`LogsDeliveryState::position`) commit in one write transaction, so a batch is either
//! delivered and passed, or neither, across crashes and restarts.
//!
//! No feedback loop: the spine records the deliverer's own CloudWatch Logs calls (events of
//! `logs.amazonaws.com` invoked by `cloudtrail.amazonaws.com`), and the S3 delivery carries
//! them; sending them to the group too would make every delivery a new event to deliver,
//! forever, so they are never sent to CloudWatch Logs.

use std::sync::Arc;
use std::time::Duration;

use rampart_cloudtrail::cloudwatch_logs::{
    LogsDeliveryState, LogsTarget, assume_role_call, assumed_role, logs_call, logs_delivery_state,
    save_logs_delivery_state, stream_name,
};
use rampart_cloudtrail::encryption::SERVICE_PRINCIPAL;
use rampart_cloudtrail::{TrailRecord, all_trails};
use rampart_service::{AwsError, ServiceCalls};
use rampart_store::{StoreError, WriteTx};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::calls::{Calling, CallsOf};
use crate::pipeline;
use crate::state::AppState;

/// CloudTrail sends to CloudWatch Logs within seconds; Rampart looks every five.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// A failing trail waits the interval doubled per failure in a row, up to 2^6 intervals (5
/// min 20 s by default), so a role without permission is not refused (and recorded) at every
/// round.
const MAX_BACKOFF_DOUBLINGS: u32 = 6;
/// Journal entries read per transaction.
const BATCH: usize = 2000;
/// PutLogEvents' batch rules: events per call, bytes per call (each event's message plus 26
/// bytes), the largest event, and the longest span of one call (milliseconds).
const MAX_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const MAX_EVENT_BYTES: usize = 256 * 1024;
const MAX_SPAN_MS: i64 = 24 * 3_600_000;

/// How long CloudTrail's session of the delivery role lasts (AssumeRole's default).
const DEFAULT_SESSION: Duration = Duration::from_secs(3600);

/// How often to deliver.
#[derive(Debug, Clone)]
pub struct LogsDeliveryConfig {
    /// Time between rounds.
    pub interval: Duration,
    /// How long a session of the delivery role is used before CloudTrail assumes it again.
    pub session: Duration,
}

impl LogsDeliveryConfig {
    /// Every 5 seconds, or every `RAMPART_TRAIL_LOGS_DELIVERY_SECONDS`; the role assumed
    /// again every hour, or every `RAMPART_TRAIL_LOGS_SESSION_SECONDS` (for tests).
    pub fn from_env() -> Self {
        let seconds = |name: &str, default: Duration| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .map_or(default, Duration::from_secs_f64)
        };
        Self {
            interval: seconds("RAMPART_TRAIL_LOGS_DELIVERY_SECONDS", DEFAULT_INTERVAL),
            session: seconds("RAMPART_TRAIL_LOGS_SESSION_SECONDS", DEFAULT_SESSION),
        }
    }
}

/// The running CloudWatch Logs deliverer.
pub struct LogsDeliverer {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LogsDeliverer {
    /// Stops the deliverer once its current round (if any) is done.
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the deliverer on a thread of its own.
pub fn spawn(app: Arc<AppState>, config: LogsDeliveryConfig) -> std::io::Result<LogsDeliverer> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rampart-trail-logs".into())
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
                    if let Err(e) = deliver_logs_once(&app, &config, now).await {
                        tracing::warn!(error = %e, "CloudWatch Logs delivery failed; retrying next round");
                    }
                }
            });
        })?;
    Ok(LogsDeliverer {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// One round for every trail that delivers to CloudWatch Logs; returns the number of log
/// events sent. A trail whose delivery fails keeps its place, with the failure in its
/// status; the others are delivered regardless.
pub async fn deliver_logs_once(
    app: &Arc<AppState>,
    config: &LogsDeliveryConfig,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let trails = app.store.read_with(all_trails)?;
    let mut sent = 0;
    for trail in trails {
        let Some(target) = trail.cloud_watch_logs.clone() else {
            continue;
        };
        if trail.start_logging_time.is_none() {
            continue;
        }
        sent += deliver_trail(app, config, &trail, &target, now).await?;
    }
    Ok(sent)
}

/// Why a batch was not delivered.
enum Failure {
    /// CloudWatch Logs refused (or the role is gone): shown in the trail's status.
    Refused(AwsError),
    Store(StoreError),
}

async fn deliver_trail(
    app: &Arc<AppState>,
    config: &LogsDeliveryConfig,
    trail: &TrailRecord,
    target: &LogsTarget,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    loop {
        let state = app.store.read_with(|tx| logs_delivery_state(tx, trail))?;
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        if state.retry_after.is_some_and(|after| now_ms < after) {
            return Ok(sent);
        }
        let position = state.position;
        let backoff = config
            .interval
            .saturating_mul(1 << state.failures.min(MAX_BACKOFF_DOUBLINGS));
        let retry_after =
            now_ms.saturating_add(i64::try_from(backoff.as_millis()).unwrap_or(i64::MAX));
        let batch = app
            .store
            .read_with(|tx| tx.journal_after(position, BATCH))
            .map_err(|e: StoreError| e)?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Ok(sent);
        };
        let events = select(trail, target, batch.iter().map(|e| e.event.as_slice()));
        let count = events.len();
        let (shared, trail_now, target_now) = (Arc::clone(app), trail.clone(), target.clone());
        let session_length = i64::try_from(config.session.as_secs()).unwrap_or(i64::MAX);
        let outcome = app
            .store
            .write_with(move |tx| {
                let request_id = pipeline::new_id();
                let calls = CallsOf::new(
                    &shared,
                    Calling {
                        party: None,
                        service: "cloudtrail",
                        region: &trail_now.home_region,
                        request_id: &request_id,
                        now,
                        source_ip: "",
                        user_agent: "",
                    },
                );
                let mut outcome = Ok(true);
                tx.atomically(&mut |tx| {
                    let mut next = state.clone();
                    let sending = Sending {
                        trail: &trail_now,
                        target: &target_now,
                        now: now.unix_timestamp(),
                        session_length,
                    };
                    outcome = put_batch(&calls, tx, &sending, &mut next, &events).and_then(|()| {
                        next.position = last;
                        next.latest_delivery_error = None;
                        next.failures = 0;
                        next.retry_after = None;
                        if !events.is_empty() {
                            next.latest_delivery_time = Some(now.unix_timestamp());
                        }
                        save_logs_delivery_state(tx, &trail_now, &next).map_err(Failure::Store)
                    });
                    matches!(outcome, Ok(true))
                })?;
                calls
                    .into_recorded(matches!(outcome, Ok(true)), None)
                    .write(tx)?;
                match outcome {
                    Ok(saved) => Ok(Ok(saved)),
                    Err(Failure::Store(e)) => Err(e),
                    Err(Failure::Refused(e)) => {
                        // The place is kept; the status says why. A stream deleted meanwhile
                        // is made again next round.
                        let mut failed = state.clone();
                        failed.latest_delivery_error = Some(e.code.to_string());
                        failed.failures = failed.failures.saturating_add(1);
                        failed.retry_after = Some(retry_after);
                        // The next attempt assumes the role again (it may have been made anew).
                        failed.session = None;
                        if e.code == "ResourceNotFoundException" {
                            failed.stream_made_in = None;
                        }
                        save_logs_delivery_state(tx, &trail_now, &failed)?;
                        Ok(Err(e))
                    }
                }
            })
            .await?;
        match outcome {
            Ok(true) => sent += count,
            // The trail is gone (or made again) since the round's snapshot.
            Ok(false) => return Ok(sent),
            Err(e) => {
                tracing::warn!(trail = %trail.arn(), code = %e.code,
                    "CloudWatch Logs delivery refused; retrying next round");
                return Ok(sent);
            }
        }
        if batch.len() < BATCH {
            return Ok(sent);
        }
    }
}

/// The `(timestamp in ms, record)` pairs of `events` the trail sends to CloudWatch Logs, in
/// time order (stable, so journal order within a millisecond).
fn select<'e>(
    trail: &TrailRecord,
    target: &LogsTarget,
    events: impl Iterator<Item = &'e [u8]>,
) -> Vec<(i64, String)> {
    let mut selected = Vec::new();
    for bytes in events {
        let Ok(event) = serde_json::from_slice::<Value>(bytes) else {
            continue;
        };
        let Some(time) = event
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
        else {
            continue;
        };
        let seconds = time.unix_timestamp();
        if seconds < target.since
            || !crate::delivery::logging_at(trail, seconds)
            || !trail.selects(&event)
            || is_own_delivery(&event)
        {
            continue;
        }
        let Ok(record) = String::from_utf8(bytes.to_vec()) else {
            continue;
        };
        // AWS sends no event too large for one log event to CloudWatch Logs (its S3 files
        // carry it).
        if record.len() + EVENT_OVERHEAD > MAX_EVENT_BYTES {
            continue;
        }
        let ms = i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        selected.push((ms, record));
    }
    selected.sort_by_key(|(ms, _)| *ms);
    selected
}

/// Whether `event` is a CloudWatch Logs call CloudTrail made to deliver (see the module doc).
fn is_own_delivery(event: &Value) -> bool {
    event.get("eventSource").and_then(Value::as_str) == Some("logs.amazonaws.com")
        && event
            .pointer("/userIdentity/invokedBy")
            .and_then(Value::as_str)
            == Some(SERVICE_PRINCIPAL)
}

/// What one delivery sends with.
struct Sending<'a> {
    trail: &'a TrailRecord,
    target: &'a LogsTarget,
    /// Unix seconds.
    now: i64,
    /// Seconds a session of the role lasts.
    session_length: i64,
}

/// Sends `events` as the role (assumed again when CloudTrail's session of it has ended),
/// making the stream first if this group has not got it yet, in PutLogEvents calls that keep
/// AWS's batch rules.
fn put_batch(
    calls: &CallsOf<'_>,
    tx: &mut dyn WriteTx,
    sending: &Sending<'_>,
    state: &mut LogsDeliveryState,
    events: &[(i64, String)],
) -> Result<(), Failure> {
    if events.is_empty() {
        return Ok(());
    }
    let (trail, target) = (sending.trail, sending.target);
    let stream = stream_name(trail);
    let role = match &state.session {
        Some((role, until)) if sending.now < *until => role.clone(),
        _ => {
            let role_arn = trail
                .cloud_watch_logs_role_arn
                .as_deref()
                .unwrap_or_default();
            let trail_arn = trail.arn();
            let assumed = calls
                .call_write(
                    tx,
                    assume_role_call(&trail_arn, &trail.account_id, role_arn, &stream),
                )
                .map_err(Failure::Refused)?;
            let role =
                assumed_role(&assumed, &trail.account_id).unwrap_or_else(|| target.role.clone());
            state.session = Some((
                role.clone(),
                sending.now.saturating_add(sending.session_length),
            ));
            role
        }
    };
    if state.stream_made_in.as_deref() != Some(target.group.as_str()) {
        let made = calls.call_write(
            tx,
            logs_call(
                "CreateLogStream",
                json!({"logGroupName": target.group, "logStreamName": stream}),
                &role,
                &stream,
            ),
        );
        match made {
            Ok(_) => {}
            Err(e) if e.code == "ResourceAlreadyExistsException" => {}
            Err(e) => return Err(Failure::Refused(e)),
        }
        state.stream_made_in = Some(target.group.clone());
    }
    for chunk in chunks(events) {
        let log_events: Vec<Value> = chunk
            .iter()
            .map(|(ms, message)| json!({"timestamp": ms, "message": message}))
            .collect();
        calls
            .call_write(
                tx,
                logs_call(
                    "PutLogEvents",
                    json!({"logGroupName": target.group, "logStreamName": stream,
                           "logEvents": log_events}),
                    &role,
                    &stream,
                ),
            )
            .map_err(Failure::Refused)?;
    }
    Ok(())
}

/// `events` (in time order) cut into PutLogEvents batches: at most 10,000 events, 1 MiB with
/// 26 bytes per event, and 24 hours from first to last.
fn chunks(events: &[(i64, String)]) -> Vec<&[(i64, String)]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, (ms, message)) in events.iter().enumerate() {
        let size = message.len() + EVENT_OVERHEAD;
        let first = events.get(start).map_or(*ms, |(t, _)| *t);
        if i > start
            && (i - start >= MAX_EVENTS
                || bytes + size > MAX_BATCH_BYTES
                || ms - first > MAX_SPAN_MS)
        {
            out.extend(events.get(start..i));
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    out.extend(events.get(start..).filter(|rest| !rest.is_empty()));
    out
}

#[cfg(test)]
#[path = "logs_delivery_tests.rs"]
mod tests;
