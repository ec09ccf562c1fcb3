//! Log streams: CreateLogStream, DeleteLogStream, DescribeLogStreams.

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::error::LogsError;
use crate::names;
use crate::records::{self, EVENTS, STREAMS, StreamRecord};

/// DescribeLogStreams' page: 50 unless asked for fewer.
const PAGE: PageSize = PageSize::new(50, 50);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamInput {
    log_group_name: String,
    log_stream_name: String,
}

pub(crate) fn create_log_stream(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: StreamInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    records::existing_group(env, tx, &input.log_group_name)?;
    let key = names::stream_key(env, &input.log_group_name, &input.log_stream_name);
    if tx.get(STREAMS, &key)?.is_some() {
        return Err(LogsError::ResourceAlreadyExists(
            "The specified log stream already exists".to_owned(),
        ));
    }
    let record = StreamRecord {
        name: input.log_stream_name,
        created: records::now_ms(env),
        first_event: None,
        last_event: None,
        last_ingestion: None,
        events: 0,
        stored_bytes: 0,
    };
    records::put_stream(env, tx, &input.log_group_name, &record)?;
    Ok(serde_json::Map::new())
}

/// Removes the stream and its events.
pub(crate) fn delete_log_stream(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: StreamInput,
) -> Result<serde_json::Map<String, serde_json::Value>, LogsError> {
    let mut group = records::existing_group(env, tx, &input.log_group_name)?;
    let stream = records::existing_stream(env, tx, &input.log_group_name, &input.log_stream_name)?;
    let key = names::stream_key(env, &input.log_group_name, &input.log_stream_name);
    records::delete_all(tx, EVENTS, &format!("{key}:"))?;
    records::delete_all(tx, records::EVENTS_DESC, &format!("{key}:"))?;
    tx.delete(STREAMS, &key)?;
    group.stored_bytes = group.stored_bytes.saturating_sub(stream.stored_bytes);
    records::put_group(env, tx, &group)?;
    Ok(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// A stream as DescribeLogStreams shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogStream {
    log_stream_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_ingestion_time: Option<i64>,
    /// Deprecated by AWS, which ignores it; answered for clients that still read it.
    upload_sequence_token: String,
    arn: String,
    stored_bytes: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreamsOutput {
    log_streams: Vec<LogStream>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// Streams in name order are read a page at a time; ordered by last event time, every stream
/// of the group is read and sorted (AWS keeps an index for it; a group's streams are few next
/// to its events).
pub(crate) fn describe_log_streams(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeLogStreamsInput,
) -> Result<DescribeLogStreamsOutput, LogsError> {
    let group = records::named_group(
        env,
        tx,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    let by_time = match input.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(LogsError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )));
        }
    };
    if by_time && input.log_stream_name_prefix.is_some() {
        return Err(LogsError::invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let descending = input.descending.unwrap_or(false);
    let size = PAGE.of(input.limit);
    let prefix = format!(
        "{}{}",
        names::under_group(env, &group),
        input.log_stream_name_prefix.as_deref().unwrap_or_default()
    );
    let page = if by_time || descending {
        let mut all: Vec<StreamRecord> = records::scan_all(tx, STREAMS, &prefix)?
            .into_iter()
            .map(|(key, bytes)| records::decode(STREAMS, &key, &bytes))
            .collect::<Result<_, _>>()?;
        if by_time {
            all.sort_by_key(|s| (s.last_event.unwrap_or(s.created), s.name.clone()));
        }
        if descending {
            all.reverse();
        }
        paging::page_by_index(all, input.next_token.as_deref(), size)?
    } else {
        paging::scan_page(
            tx,
            STREAMS,
            &prefix,
            input.next_token.as_deref(),
            size,
            |_, key, bytes| {
                records::decode::<StreamRecord>(STREAMS, key, bytes)
                    .map(Some)
                    .map_err(LogsError::from)
            },
        )?
    };
    Ok(DescribeLogStreamsOutput {
        log_streams: page
            .items
            .into_iter()
            .map(|s| LogStream {
                arn: names::stream_arn(env.region, &env.caller.account_id, &group, &s.name),
                creation_time: s.created,
                first_event_timestamp: s.first_event,
                last_event_timestamp: s.last_event,
                last_ingestion_time: s.last_ingestion,
                stored_bytes: s.stored_bytes,
                upload_sequence_token: crate::events::sequence_token(s.events),
                log_stream_name: s.name,
            })
            .collect(),
        next_token: page.next,
    })
}
