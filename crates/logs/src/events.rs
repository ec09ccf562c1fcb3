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
/// Events read ahead per stream in a FilterLogEvents merge.
const FILTER_CHUNK: usize = 100;

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
        let stream_key = names::stream_key(env, &input.log_group_name, &stream.name);
        records::put_event(
            tx,
            &stream_key,
            stream.events,
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

/// A place in a stream's time order: before every event at or after (`ts`, `seq`), after
/// every event before it. Events sort by timestamp, then by the order they were put (`seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Boundary {
    pub(crate) ts: i64,
    pub(crate) seq: u64,
}

impl Boundary {
    pub(crate) const START: Self = Self { ts: 0, seq: 0 };
    pub(crate) const END: Self = Self {
        ts: records::MAX_TS,
        seq: 0,
    };

    /// The boundary at the start of timestamp `ts`.
    pub(crate) fn at(ts: i64) -> Self {
        Self {
            ts: ts.clamp(0, records::MAX_TS),
            seq: 0,
        }
    }

    /// The boundary just after the event at (`ts`, `seq`).
    fn after(ts: i64, seq: u64) -> Self {
        match seq.checked_add(1) {
            Some(seq) => Self { ts, seq },
            None => Self::at(ts.saturating_add(1)),
        }
    }
}

/// One stored event with its place.
pub(crate) struct Stored {
    pub(crate) ts: i64,
    pub(crate) seq: u64,
    pub(crate) event: EventRecord,
}

/// Up to `limit` events of the stream under `stream_key` at or after `from`, in time order.
pub(crate) fn read_forward(
    tx: &mut (impl ReadTx + ?Sized),
    stream_key: &str,
    from: Boundary,
    limit: usize,
) -> Result<Vec<Stored>, LogsError> {
    let prefix = format!("{stream_key}:");
    // `scan` starts after a key: the last key that can sort before `from`.
    let after = match (from.seq.checked_sub(1), from.ts.checked_sub(1)) {
        (Some(seq), _) => Some(records::event_key_of(stream_key, from.ts, seq)),
        (None, Some(ts)) if ts >= 0 => Some(records::event_key_of(stream_key, ts, u64::MAX)),
        _ => None,
    };
    let mut out = Vec::new();
    for (key, bytes) in tx.scan(EVENTS, &prefix, after.as_deref(), limit)? {
        let (ts, seq) = records::parse_event_key(&key, &prefix)?;
        out.push(Stored {
            ts,
            seq,
            event: records::decode(EVENTS, &key, &bytes)?,
        });
    }
    Ok(out)
}

/// Up to `limit` events of the stream under `stream_key` before `before`, newest first
/// (through the stream's descending index).
fn read_backward(
    tx: &mut (impl ReadTx + ?Sized),
    stream_key: &str,
    before: Boundary,
    limit: usize,
) -> Result<Vec<Stored>, LogsError> {
    let prefix = format!("{stream_key}:");
    // The descending key of `before` itself sorts just before every event under it.
    let after = records::desc_key_of(stream_key, before.ts, before.seq);
    let mut out = Vec::new();
    for (key, _) in tx.scan(records::EVENTS_DESC, &prefix, Some(&after), limit)? {
        let (ts, seq) = records::parse_desc_key(&key, &prefix)?;
        let forward = records::event_key_of(stream_key, ts, seq);
        let Some(bytes) = tx.get(EVENTS, &forward)? else {
            continue;
        };
        out.push(Stored {
            ts,
            seq,
            event: records::decode(EVENTS, &forward, &bytes)?,
        });
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

/// A GetLogEvents token: `f/<timestamp>/<seq>` reads forward from that boundary, `b/…`
/// backward from it.
fn parse_token(token: &str) -> Result<(bool, Boundary), LogsError> {
    let invalid = || LogsError::invalid("The specified nextToken is invalid.");
    let (forward, rest) = match token.split_at_checked(2) {
        Some(("f/", rest)) => (true, rest),
        Some(("b/", rest)) => (false, rest),
        _ => return Err(invalid()),
    };
    let (ts, seq) = rest.split_once('/').ok_or_else(invalid)?;
    let ts: i64 = ts.parse().map_err(|_| invalid())?;
    let seq: u64 = seq.parse().map_err(|_| invalid())?;
    if !(0..=records::MAX_TS).contains(&ts) {
        return Err(invalid());
    }
    Ok((forward, Boundary { ts, seq }))
}

fn token(forward: bool, at: Boundary) -> String {
    format!(
        "{}/{:015}/{:020}",
        if forward { "f" } else { "b" },
        at.ts,
        at.seq
    )
}

/// The earliest timestamp a read may answer: the request's start, and the group's retention
/// (events past it are gone for readers at once; the sweep removes them from storage).
pub(crate) fn earliest(env: &Env<'_>, retention_days: Option<i32>, start: Option<i64>) -> i64 {
    let kept = retention_days.map_or(0, |days| {
        records::now_ms(env).saturating_sub(i64::from(days).saturating_mul(86_400_000))
    });
    start.unwrap_or(0).max(kept)
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
    let retention = records::existing_group(env, tx, &group)?.retention_days;
    let stream = records::existing_stream(env, tx, &group, &input.log_stream_name)?;
    let stream_key = names::stream_key(env, &group, &stream.name);
    let earliest = earliest(env, retention, input.start_time);
    let end = input.end_time.unwrap_or(i64::MAX);
    let (forward, start) = match input.next_token.as_deref() {
        Some(t) => parse_token(t)?,
        None if input.start_from_head.unwrap_or(false) => (true, Boundary::at(earliest)),
        None => (false, input.end_time.map_or(Boundary::END, Boundary::at)),
    };
    // Nothing before the earliest time is answered forward, nor at or past the end backward.
    let start = if forward {
        start.max(Boundary::at(earliest))
    } else {
        input
            .end_time
            .map_or(start, |end| start.min(Boundary::at(end)))
    };
    let limit = EVENTS_PAGE.of(input.limit);
    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut examined = 0u64;
    // Where the page ends in the direction read.
    let mut reached = start;
    'read: while examined < SCAN_BUDGET {
        let chunk = if forward {
            read_forward(tx, &stream_key, reached, 1000)?
        } else {
            read_backward(tx, &stream_key, reached, 1000)?
        };
        let done = chunk.len() < 1000;
        for stored in chunk {
            let past = if forward {
                stored.ts >= end
            } else {
                stored.ts < earliest
            };
            if past
                || events.len() == limit
                || bytes + stored.event.message.len() > MAX_READ_BYTES
                || examined >= SCAN_BUDGET
            {
                break 'read;
            }
            examined += 1;
            reached = if forward {
                Boundary::after(stored.ts, stored.seq)
            } else {
                Boundary {
                    ts: stored.ts,
                    seq: stored.seq,
                }
            };
            // Events before the start (forward) or at or past the end (backward) are passed
            // over, within the budget.
            if stored.ts >= earliest && stored.ts < end {
                bytes += stored.event.message.len();
                events.push(stored);
            }
        }
        if done {
            break;
        }
    }
    if !forward {
        events.reverse();
    }
    // The page's own span: forward from after its last event, backward from its first.
    let (low, high) = match (events.first(), events.last()) {
        (Some(first), Some(last)) => (
            Boundary {
                ts: first.ts,
                seq: first.seq,
            },
            Boundary::after(last.ts, last.seq),
        ),
        _ if forward => (start, reached),
        // No event before `start`: reading forward from the earliest time finds the events
        // put later, whatever their timestamps.
        _ => (reached, Boundary::at(earliest).min(start)),
    };
    Ok(GetLogEventsOutput {
        events: events
            .into_iter()
            .map(|e| OutputLogEvent {
                timestamp: e.event.timestamp,
                message: e.event.message,
                ingestion_time: e.event.ingestion,
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

/// A FilterLogEvents token: the place the next page starts, in the order across streams.
fn filter_token(at: Boundary, stream: &str) -> String {
    data_encoding::BASE64URL_NOPAD.encode(format!("{}/{}/{stream}", at.ts, at.seq).as_bytes())
}

fn parse_filter_token(token: &str) -> Result<(Boundary, String), LogsError> {
    let invalid = || LogsError::invalid("The specified nextToken is invalid.");
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(token.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '/');
    let (Some(ts), Some(seq), Some(stream)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let ts: i64 = ts.parse().map_err(|_| invalid())?;
    let seq: u64 = seq.parse().map_err(|_| invalid())?;
    if !(0..=records::MAX_TS).contains(&ts) {
        return Err(invalid());
    }
    Ok((Boundary { ts, seq }, stream.to_owned()))
}

/// One stream's place in a FilterLogEvents merge, with the events read ahead.
struct StreamCursor {
    key: String,
    /// Where the next read starts.
    from: Boundary,
    buffer: std::collections::VecDeque<Stored>,
    /// Whether the stream has nothing left before the end time.
    exhausted: bool,
}

impl StreamCursor {
    /// The place of the stream's next event before `end` (inclusive), reading ahead a chunk
    /// when the buffer is empty.
    fn peek(
        &mut self,
        tx: &mut (impl ReadTx + ?Sized),
        end: i64,
    ) -> Result<Option<(i64, u64)>, LogsError> {
        if self.buffer.is_empty() && !self.exhausted {
            let chunk = read_forward(tx, &self.key, self.from, FILTER_CHUNK)?;
            self.exhausted = chunk.len() < FILTER_CHUNK;
            for stored in chunk {
                if stored.ts > end {
                    self.exhausted = true;
                    break;
                }
                self.buffer.push_back(stored);
            }
        }
        Ok(self.buffer.front().map(|s| (s.ts, s.seq)))
    }
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
    let streams: Vec<StreamRecord> = match &input.log_stream_names {
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
    let retention = records::existing_group(env, tx, &group)?.retention_days;
    let earliest = earliest(env, retention, input.start_time);
    let end = input.end_time.unwrap_or(i64::MAX);
    // Where the page starts in the order across streams: (timestamp, stream, seq).
    let resume = match input.next_token.as_deref() {
        Some(token) => Some(parse_filter_token(token)?),
        None => None,
    };
    let mut cursors = Vec::with_capacity(streams.len());
    for stream in &streams {
        let from = match &resume {
            None => Boundary::at(earliest),
            Some((at, name)) => match stream.name.as_str().cmp(name.as_str()) {
                // Its events at the token's timestamp were answered already.
                std::cmp::Ordering::Less => Boundary::at(at.ts.saturating_add(1)),
                std::cmp::Ordering::Equal => *at,
                std::cmp::Ordering::Greater => Boundary::at(at.ts),
            }
            .max(Boundary::at(earliest)),
        };
        cursors.push(StreamCursor {
            key: names::stream_key(env, &group, &stream.name),
            from,
            buffer: std::collections::VecDeque::new(),
            exhausted: false,
        });
    }
    // A k-way merge of the streams, each read in time order a chunk at a time.
    let mut heads = std::collections::BinaryHeap::new();
    for (index, cursor) in cursors.iter_mut().enumerate() {
        if let Some((ts, seq)) = cursor.peek(tx, end)? {
            heads.push(std::cmp::Reverse((ts, index, seq)));
        }
    }
    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut examined = 0u64;
    let mut next = None;
    while let Some(std::cmp::Reverse((ts, index, seq))) = heads.pop() {
        let (Some(cursor), Some(stream)) = (cursors.get_mut(index), streams.get(index)) else {
            break;
        };
        let Some(stored) = cursor.buffer.front() else {
            break;
        };
        if events.len() == limit
            || bytes + stored.event.message.len() > MAX_READ_BYTES
            || examined >= SCAN_BUDGET
        {
            next = Some(filter_token(Boundary { ts, seq }, &stream.name));
            break;
        }
        let Some(stored) = cursor.buffer.pop_front() else {
            break;
        };
        examined += 1;
        if pattern.matches(&stored.event.message).is_some() {
            bytes += stored.event.message.len();
            events.push(FilteredLogEvent {
                log_stream_name: stream.name.clone(),
                timestamp: stored.event.timestamp,
                event_id: format!("{:015}{:020}{index:06}", stored.ts, stored.seq),
                message: stored.event.message,
                ingestion_time: stored.event.ingestion,
            });
        }
        cursor.from = Boundary::after(stored.ts, stored.seq);
        if let Some((ts, seq)) = cursor.peek(tx, end)? {
            heads.push(std::cmp::Reverse((ts, index, seq)));
        }
    }
    let searched = streams
        .iter()
        .zip(&cursors)
        .map(|(stream, cursor)| SearchedLogStream {
            log_stream_name: stream.name.clone(),
            searched_completely: cursor.exhausted && cursor.buffer.is_empty(),
        })
        .collect();
    Ok(FilterLogEventsOutput {
        events,
        searched_log_streams: searched,
        next_token: next,
    })
}

/// Whether `token` is a GetLogEvents or FilterLogEvents token the handlers accept; an
/// accepted one reads back the same after being written again (for the fuzz target).
pub(crate) fn token_round_trips(token: &str) -> bool {
    let read = parse_token(token).is_ok_and(|(forward, at)| {
        parse_token(&self::token(forward, at)).is_ok_and(|again| again == (forward, at))
    });
    let filter = parse_filter_token(token).is_ok_and(|(at, stream)| {
        parse_filter_token(&filter_token(at, &stream))
            .is_ok_and(|(again, name)| again == at && name == stream)
    });
    read || filter || (parse_token(token).is_err() && parse_filter_token(token).is_err())
}
