//! How CloudWatch Logs' resources are kept, each in a namespace of the store's documents:
//!
//! - `logs/groups`, `<account>:<region>:<group>` → [`GroupRecord`];
//! - `logs/streams`, `<account>:<region>:<group>:<stream>` → [`StreamRecord`];
//! - `logs/events`, `<account>:<region>:<group>:<stream>:<timestamp>:<seq>` → [`EventRecord`],
//!   the stream's events in time order, then the order they were put (`seq`, 0, 1, …), so a
//!   page from any place is one bounded scan, and the oldest events (retention) come first;
//! - `logs/events-desc`, the same keys with both parts inverted → nothing: the stream newest
//!   first, for GetLogEvents' backward reads (the store scans forward only);
//! - `logs/metric-filters`, `<account>:<region>:<group>:<filter>` → [`MetricFilterRecord`].

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::names;

pub(crate) const GROUPS: &str = "logs/groups";
pub(crate) const STREAMS: &str = "logs/streams";
pub(crate) const EVENTS: &str = "logs/events";
pub(crate) const EVENTS_DESC: &str = "logs/events-desc";
pub(crate) const METRIC_FILTERS: &str = "logs/metric-filters";

/// A log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    pub(crate) name: String,
    /// Milliseconds since the epoch.
    pub(crate) created: i64,
    pub(crate) retention_days: Option<i32>,
    pub(crate) tags: BTreeMap<String, String>,
    /// How many metric filters it has.
    pub(crate) metric_filters: usize,
    /// The bytes of every event kept (each message's UTF-8 length).
    pub(crate) stored_bytes: u64,
    /// The key of the group's retention sweep in `logs/retention-sweeps`, while it has a
    /// retention (retention.rs).
    #[serde(default)]
    pub(crate) retention_sweep: Option<String>,
}

/// A log stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StreamRecord {
    pub(crate) name: String,
    pub(crate) created: i64,
    pub(crate) first_event: Option<i64>,
    pub(crate) last_event: Option<i64>,
    pub(crate) last_ingestion: Option<i64>,
    /// How many events it holds: the position the next event takes.
    pub(crate) events: u64,
    pub(crate) stored_bytes: u64,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EventRecord {
    #[serde(rename = "t")]
    pub(crate) timestamp: i64,
    #[serde(rename = "i")]
    pub(crate) ingestion: i64,
    #[serde(rename = "m")]
    pub(crate) message: String,
}

/// A metric transformation, as PutMetricFilter gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Transformation {
    pub(crate) metric_name: String,
    pub(crate) metric_namespace: String,
    pub(crate) metric_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dimensions: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unit: Option<String>,
}

/// A metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MetricFilterRecord {
    pub(crate) name: String,
    pub(crate) group: String,
    pub(crate) pattern: String,
    pub(crate) transformations: Vec<Transformation>,
    pub(crate) created: i64,
}

/// The time of `env` in milliseconds since the epoch.
pub(crate) fn now_ms(env: &Env<'_>) -> i64 {
    i64::try_from(env.now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn group(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    name: &str,
) -> Result<Option<GroupRecord>, StoreError> {
    get_json(tx, GROUPS, &names::group_key(env, name))
}

/// The group `name`, or AWS's ResourceNotFoundException.
pub(crate) fn existing_group(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    name: &str,
) -> Result<GroupRecord, LogsError> {
    group(env, tx, name)?.ok_or_else(LogsError::no_group)
}

/// The existing group a request names by `logGroupName` or `logGroupIdentifier`.
pub(crate) fn named_group(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    name: Option<&str>,
    identifier: Option<&str>,
) -> Result<String, LogsError> {
    let group = names::group_named(env, name, identifier)?;
    existing_group(env, tx, &group)?;
    Ok(group)
}

pub(crate) fn put_group(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    record: &GroupRecord,
) -> Result<(), StoreError> {
    put_json(tx, GROUPS, &names::group_key(env, &record.name), record)
}

/// The stream `stream` of `group`, or AWS's ResourceNotFoundException.
pub(crate) fn existing_stream(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    group: &str,
    stream: &str,
) -> Result<StreamRecord, LogsError> {
    get_json(tx, STREAMS, &names::stream_key(env, group, stream))?.ok_or_else(LogsError::no_stream)
}

pub(crate) fn put_stream(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    group: &str,
    record: &StreamRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        STREAMS,
        &names::stream_key(env, group, &record.name),
        record,
    )
}

/// Every document of `ns` under `prefix`, read in batches.
pub(crate) fn scan_all(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    prefix: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let after = out.last().map(|(key, _)| key.clone());
        let batch = tx.scan(ns, prefix, after.as_deref(), 1000)?;
        let done = batch.len() < 1000;
        out.extend(batch);
        if done {
            return Ok(out);
        }
    }
}

/// Removes every document of `ns` under `prefix`.
pub(crate) fn delete_all(
    tx: &mut (impl WriteTx + ?Sized),
    ns: &str,
    prefix: &str,
) -> Result<(), StoreError> {
    loop {
        let batch = tx.scan(ns, prefix, None, 1000)?;
        if batch.is_empty() {
            return Ok(());
        }
        for (key, _) in batch {
            tx.delete(ns, &key)?;
        }
    }
}

/// Decodes a document written by this crate.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    ns: &str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Internal(format!("{ns}/{key}: malformed record: {e}")))
}

/// The largest timestamp kept in a key (milliseconds; the year 33658). Later ones are kept
/// as this: PutLogEvents refuses events more than two hours ahead anyway.
pub(crate) const MAX_TS: i64 = 999_999_999_999_999;

/// The key of the event put `seq`-th at `ts` in the stream under `stream_key`: timestamp
/// first, so a stream reads in time order, then the put order.
pub(crate) fn event_key_of(stream_key: &str, ts: i64, seq: u64) -> String {
    format!("{stream_key}:{:015}:{seq:020}", ts.clamp(0, MAX_TS))
}

/// The same event's key in the descending index: both parts inverted, so a forward scan
/// reads the stream newest first.
pub(crate) fn desc_key_of(stream_key: &str, ts: i64, seq: u64) -> String {
    format!(
        "{stream_key}:{:015}:{:020}",
        MAX_TS - ts.clamp(0, MAX_TS),
        u64::MAX - seq
    )
}

fn malformed(ns: &str, key: &str) -> StoreError {
    StoreError::Internal(format!("{ns}/{key}: malformed key"))
}

fn parse_parts(ns: &str, key: &str, prefix: &str) -> Result<(i64, u64), StoreError> {
    key.strip_prefix(prefix)
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(ts, seq)| Some((ts.parse::<i64>().ok()?, seq.parse::<u64>().ok()?)))
        .ok_or_else(|| malformed(ns, key))
}

/// The (timestamp, seq) of an event key under `prefix` (the stream's key and `:`).
pub(crate) fn parse_event_key(key: &str, prefix: &str) -> Result<(i64, u64), StoreError> {
    parse_parts(EVENTS, key, prefix)
}

/// The (timestamp, seq) of a descending index key under `prefix`.
pub(crate) fn parse_desc_key(key: &str, prefix: &str) -> Result<(i64, u64), StoreError> {
    let (ts, seq) = parse_parts(EVENTS_DESC, key, prefix)?;
    Ok((MAX_TS - ts, u64::MAX - seq))
}

/// Keeps `event`, the stream's `seq`-th, in both orders.
pub(crate) fn put_event(
    tx: &mut (impl WriteTx + ?Sized),
    stream_key: &str,
    seq: u64,
    event: &EventRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        EVENTS,
        &event_key_of(stream_key, event.timestamp, seq),
        event,
    )?;
    tx.put(
        EVENTS_DESC,
        &desc_key_of(stream_key, event.timestamp, seq),
        b"",
    )
}

/// Removes the event at (`ts`, `seq`) of the stream under `stream_key` from both orders.
pub(crate) fn delete_event(
    tx: &mut (impl WriteTx + ?Sized),
    stream_key: &str,
    ts: i64,
    seq: u64,
) -> Result<(), StoreError> {
    tx.delete(EVENTS, &event_key_of(stream_key, ts, seq))?;
    tx.delete(EVENTS_DESC, &desc_key_of(stream_key, ts, seq))?;
    Ok(())
}

/// Where finished upgrades of the stored events are noted.
const UPGRADES: &str = "logs/upgrades";
/// Events moved from session 9's keys (`<stream key>:<position>`, in put order) to the
/// time-ordered keys and the descending index.
const TIME_ORDERED_KEYS: &str = "time-ordered-event-keys";

/// Moves every event still under its put-order key (`<account>:<region>:<group>:<stream>:
/// <position>`: names hold no `:`) to its time-ordered keys, its position becoming its `seq`
/// (the stream's `events` count went on from there). Noted when done, so later starts skip it.
pub(crate) fn upgrade_event_keys(tx: &mut dyn WriteTx) -> Result<u64, StoreError> {
    if tx.get(UPGRADES, TIME_ORDERED_KEYS)?.is_some() {
        return Ok(0);
    }
    let mut moved = 0;
    let mut after: Option<String> = None;
    loop {
        let page = tx.scan(EVENTS, "", after.as_deref(), 1_000)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (key, bytes) in page {
            if key.matches(':').count() != 4 {
                continue;
            }
            let Some((stream_key, position)) = key.rsplit_once(':') else {
                continue;
            };
            let Ok(seq) = position.parse::<u64>() else {
                continue;
            };
            let event: EventRecord = decode(EVENTS, &key, &bytes)?;
            tx.delete(EVENTS, &key)?;
            put_event(tx, stream_key, seq, &event)?;
            moved += 1;
        }
    }
    tx.put(UPGRADES, TIME_ORDERED_KEYS, b"{}")?;
    Ok(moved)
}
