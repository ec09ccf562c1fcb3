//! Log events: PutLogEvents with AWS's batch rules, GetLogEvents with its forward and
//! backward tokens, FilterLogEvents with the filter-pattern language.
//!
//! Reads are bounded: a call examines at most [`SCAN_BUDGET`] events and answers at most
//! 10,000 events or 1 MB, handing out a token where it stopped, as AWS's pages may also come
//! back short. A stream's events are kept in the order they were put and answered in that
//! order, which is timestamp order within each batch (the batch rules) and across batches
//! when a stream's writer sends them in order, as the CloudWatch agent does.

use rampart_service::Env;
use rampart_service::paging::PageSize;
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::names;
use crate::pattern::FilterPattern;
use crate::records::{self, EVENTS, EventRecord, STREAMS, StreamRecord};

/// What AWS counts for each event on top of its message's bytes.
const EVENT_OVERHEAD: usize = 26;
/// The largest event, its overhead included.
const MAX_EVENT_BYTES: usize = 256 * 1024;
/// The largest batch, each event's overhead included.
const MAX_BATCH_BYTES: usize = 1_048_576;
/// A batch spans at most this (milliseconds).
const MAX_SPAN_MS: i64 = 24 * 3_600_000;
/// Events more than this in the past are too old (milliseconds).
const TOO_OLD_MS: i64 = 14 * 86_400_000;
/// Events more than this in the future are too new (milliseconds).
const TOO_NEW_MS: i64 = 2 * 3_600_000;
/// The most events (and bytes) one read answers.
const EVENTS_PAGE: PageSize = PageSize::new(10_000, 10_000);
const MAX_READ_BYTES: usize = 1_048_576;
/// The most events one read examines, and the most bytes of messages.
const SCAN_BUDGET: u64 = 10_000;
const SCAN_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InputLogEvent {
    timestamp: i64,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEventsInput {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputLogEvent>,
    /// Accepted and ignored, as AWS now does.
    #[serde(rename = "sequenceToken")]
    _sequence_token: Option<String>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RejectedLogEventsInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    too_new_log_event_start_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    too_old_log_event_end_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired_log_event_end_index: Option<usize>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEventsOutput {
    /// Still answered for clients that pass it back, though AWS now ignores it.
    next_sequence_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_log_events_info: Option<RejectedLogEventsInfo>,
}

/// Checks the batch as a whole (sizes, order, span): any failure refuses every event.
fn check_batch(events: &[InputLogEvent]) -> Result<(), LogsError> {
    let mut total = 0usize;
    for event in events {
        let size = event.message.len() + EVENT_OVERHEAD;
        if size > MAX_EVENT_BYTES {
            return Err(LogsError::invalid(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(LogsError::invalid(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events
        .windows(2)
        .any(|w| matches!(w, [a, b] if b.timestamp < a.timestamp))
    {
        return Err(LogsError::invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    if let (Some(first), Some(last)) = (events.first(), events.last())
        && last.timestamp - first.timestamp > MAX_SPAN_MS
    {
        return Err(LogsError::invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    Ok(())
}

pub(crate) fn put_log_events(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutLogEventsInput,
) -> Result<PutLogEventsOutput, LogsError> {
    let mut group = records::existing_group(env, tx, &input.log_group_name)?;
    let mut stream =
        records::existing_stream(env, tx, &input.log_group_name, &input.log_stream_name)?;
    check_batch(&input.log_events)?;
    let now = records::now_ms(env);
    let too_old = now - TOO_OLD_MS;
    let expired = group
        .retention_days
        .map(|days| now - i64::from(days) * 86_400_000);
    let mut rejected = RejectedLogEventsInfo::default();
    let mut metrics = crate::metric_filters::MetricEmission::of_group(env, tx, &group)?;
    for (index, event) in input.log_events.into_iter().enumerate() {
        // Events are in order: the too old and expired ones come first, the too new last.
        if event.timestamp < too_old {
            rejected.too_old_log_event_end_index = Some(index + 1);
            continue;
        }
        if expired.is_some_and(|cutoff| event.timestamp < cutoff) {
            rejected.expired_log_event_end_index = Some(index + 1);
            continue;
        }
        if event.timestamp > now + TOO_NEW_MS {
            rejected.too_new_log_event_start_index.get_or_insert(index);
            continue;
        }
        metrics.observe(event.timestamp, &event.message);
        let bytes = event.message.len() as u64;
        let key = names::event_key(env, &input.log_group_name, &stream.name, stream.events);
        records::put_event(
            tx,
            &key,
            &EventRecord {
                timestamp: event.timestamp,
                ingestion: now,
                message: event.message,
            },
        )?;
        stream.events += 1;
        stream.stored_bytes += bytes;
        group.stored_bytes += bytes;
        stream.first_event = Some(
            stream
                .first_event
                .map_or(event.timestamp, |t| t.min(event.timestamp)),
        );
        stream.last_event = Some(
            stream
                .last_event
                .map_or(event.timestamp, |t| t.max(event.timestamp)),
        );
        stream.last_ingestion = Some(now);
    }
    records::put_stream(env, tx, &input.log_group_name, &stream)?;
    records::put_group(env, tx, &group)?;
    metrics.emit(env, tx)?;
    Ok(PutLogEventsOutput {
        next_sequence_token: sequence_token(stream.events),
        rejected_log_events_info: (rejected != RejectedLogEventsInfo::default())
            .then_some(rejected),
    })
}

/// A sequence token in AWS's form (digits), from the stream's event count.
pub(crate) fn sequence_token(events: u64) -> String {
    format!("{events:056}")
}

/// The events of a stream at positions `from..to`, with their positions.
fn read_positions(
    tx: &mut (impl ReadTx + ?Sized),
    stream_prefix: &str,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, EventRecord)>, LogsError> {
    if from >= to {
        return Ok(Vec::new());
    }
    let after = from
        .checked_sub(1)
        .map(|p| format!("{stream_prefix}{p:016}"));
    let limit = usize::try_from(to - from).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for (key, bytes) in tx.scan(EVENTS, stream_prefix, after.as_deref(), limit)? {
        let position = key
            .strip_prefix(stream_prefix)
            .and_then(|p| p.parse::<u64>().ok())
            .ok_or_else(|| {
                LogsError::Store(rampart_store::StoreError::Internal(format!(
                    "logs/events/{key}: malformed key"
                )))
            })?;
        out.push((position, records::decode(EVENTS, &key, &bytes)?));
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputLogEvent {
    timestamp: i64,
    message: String,
    ingestion_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEventsOutput {
    events: Vec<OutputLogEvent>,
    next_forward_token: String,
    next_backward_token: String,
}

/// A GetLogEvents token: `f/<position>` reads forward from the position, `b/<position>`
/// backward from just before it.
fn parse_token(token: &str, events: u64) -> Result<(bool, u64), LogsError> {
    let invalid = || LogsError::invalid("The specified nextToken is invalid.");
    let (forward, digits) = match token.split_at_checked(2) {
        Some(("f/", digits)) => (true, digits),
        Some(("b/", digits)) => (false, digits),
        _ => return Err(invalid()),
    };
    let position: u64 = digits.parse().map_err(|_| invalid())?;
    if position > events {
        return Err(invalid());
    }
    Ok((forward, position))
}

fn token(forward: bool, position: u64) -> String {
    format!("{}/{position:056}", if forward { "f" } else { "b" })
}

pub(crate) fn get_log_events(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetLogEventsInput,
) -> Result<GetLogEventsOutput, LogsError> {
    let group = records::named_group(
        env,
        tx,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    let stream = records::existing_stream(env, tx, &group, &input.log_stream_name)?;
    let prefix = format!("{}:", names::stream_key(env, &group, &stream.name));
    let (forward, start) = match input.next_token.as_deref() {
        Some(t) => parse_token(t, stream.events)?,
        None if input.start_from_head.unwrap_or(false) => (true, 0),
        None => (false, stream.events),
    };
    let limit = EVENTS_PAGE.of(input.limit);
    let in_range = |e: &EventRecord| {
        input.start_time.is_none_or(|s| e.timestamp >= s)
            && input.end_time.is_none_or(|end| e.timestamp < end)
    };
    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut examined = 0usize;
    // The window examined: positions low..high.
    let (low, high);
    if forward {
        let stop = stream.events.min(start.saturating_add(SCAN_BUDGET));
        let mut at = start;
        'read: while at < stop {
            let to = stop.min(at + 1000);
            for (position, event) in read_positions(tx, &prefix, at, to)? {
                if events.len() == limit
                    || bytes + event.message.len() > MAX_READ_BYTES
                    || examined > SCAN_BYTES
                {
                    at = position;
                    break 'read;
                }
                examined += event.message.len();
                at = position + 1;
                if in_range(&event) {
                    bytes += event.message.len();
                    events.push(event);
                }
            }
            at = at.max(to);
        }
        (low, high) = (start, at);
    } else {
        let stop = start.saturating_sub(SCAN_BUDGET);
        let mut at = start;
        'read: while at > stop {
            let from = stop.max(at.saturating_sub(1000));
            for (position, event) in read_positions(tx, &prefix, from, at)?.into_iter().rev() {
                if events.len() == limit
                    || bytes + event.message.len() > MAX_READ_BYTES
                    || examined > SCAN_BYTES
                {
                    at = position + 1;
                    break 'read;
                }
                examined += event.message.len();
                at = position;
                if in_range(&event) {
                    bytes += event.message.len();
                    events.push(event);
                }
            }
            at = at.min(from);
        }
        events.reverse();
        (low, high) = (at, start);
    }
    Ok(GetLogEventsOutput {
        events: events
            .into_iter()
            .map(|e| OutputLogEvent {
                timestamp: e.timestamp,
                message: e.message,
                ingestion_time: e.ingestion,
            })
            .collect(),
        next_forward_token: token(true, high),
        next_backward_token: token(false, low),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilteredLogEvent {
    log_stream_name: String,
    timestamp: i64,
    message: String,
    ingestion_time: i64,
    event_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchedLogStream {
    log_stream_name: String,
    searched_completely: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterLogEventsOutput {
    events: Vec<FilteredLogEvent>,
    searched_log_streams: Vec<SearchedLogStream>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// A FilterLogEvents token: the stream and position the next page starts at.
fn filter_token(stream: &str, position: u64) -> String {
    data_encoding::BASE64URL_NOPAD.encode(format!("{position}/{stream}").as_bytes())
}

fn parse_filter_token(token: &str) -> Result<(String, u64), LogsError> {
    let invalid = || LogsError::invalid("The specified nextToken is invalid.");
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(token.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (position, stream) = text.split_once('/').ok_or_else(invalid)?;
    Ok((stream.to_owned(), position.parse().map_err(|_| invalid())?))
}

/// Parses a pattern from a request, refusing it as AWS does.
pub(crate) fn pattern(text: &str) -> Result<FilterPattern, LogsError> {
    FilterPattern::parse(text)
        .map_err(|e| LogsError::invalid(format!("Invalid filter pattern: {e}")))
}

pub(crate) fn filter_log_events(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: FilterLogEventsInput,
) -> Result<FilterLogEventsOutput, LogsError> {
    let group = records::named_group(
        env,
        tx,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(LogsError::invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive.",
        ));
    }
    let pattern = pattern(input.filter_pattern.as_deref().unwrap_or_default())?;
    let limit = EVENTS_PAGE.of(input.limit);
    let under = names::under_group(env, &group);
    let mut streams: Vec<StreamRecord> = match &input.log_stream_names {
        Some(wanted) => {
            let mut found = Vec::new();
            for name in wanted {
                if let Ok(stream) = records::existing_stream(env, tx, &group, name) {
                    found.push(stream);
                }
            }
            found.sort_by(|a, b| a.name.cmp(&b.name));
            found.dedup_by(|a, b| a.name == b.name);
            found
        }
        None => {
            let prefix = format!(
                "{under}{}",
                input.log_stream_name_prefix.as_deref().unwrap_or_default()
            );
            records::scan_all(tx, STREAMS, &prefix)?
                .into_iter()
                .map(|(key, bytes)| records::decode(STREAMS, &key, &bytes))
                .collect::<Result<_, _>>()?
        }
    };
    let (mut position, resume) = match input.next_token.as_deref() {
        Some(token) => {
            let (stream, position) = parse_filter_token(token)?;
            (position, Some(stream))
        }
        None => (0, None),
    };
    if let Some(resume) = &resume {
        let at = streams
            .iter()
            .position(|s| &s.name == resume)
            .ok_or_else(|| LogsError::invalid("The specified nextToken is invalid."))?;
        streams.drain(..at);
    }
    let in_range = |e: &EventRecord| {
        input.start_time.is_none_or(|s| e.timestamp >= s)
            && input.end_time.is_none_or(|end| e.timestamp <= end)
    };
    let mut events = Vec::new();
    let mut searched = Vec::new();
    let mut bytes = 0usize;
    let mut examined = 0usize;
    let mut budget = SCAN_BUDGET;
    let mut next = None;
    'streams: for stream in &streams {
        let prefix = format!("{under}{}:", stream.name);
        while position < stream.events {
            if budget == 0 {
                next = Some(filter_token(&stream.name, position));
                break 'streams;
            }
            let to = stream.events.min(position + budget.min(1000));
            for (at, event) in read_positions(tx, &prefix, position, to)? {
                if events.len() == limit
                    || bytes + event.message.len() > MAX_READ_BYTES
                    || examined > SCAN_BYTES
                {
                    next = Some(filter_token(&stream.name, at));
                    break 'streams;
                }
                position = at + 1;
                budget -= 1;
                examined += event.message.len();
                if in_range(&event) && pattern.matches(&event.message).is_some() {
                    bytes += event.message.len();
                    events.push(FilteredLogEvent {
                        log_stream_name: stream.name.clone(),
                        timestamp: event.timestamp,
                        event_id: format!("{at:020}/{}", stream.name),
                        message: event.message,
                        ingestion_time: event.ingestion,
                    });
                }
            }
            position = position.max(to);
        }
        searched.push(SearchedLogStream {
            log_stream_name: stream.name.clone(),
            searched_completely: true,
        });
        position = 0;
    }
    Ok(FilterLogEventsOutput {
        events,
        searched_log_streams: searched,
        next_token: next,
    })
}
