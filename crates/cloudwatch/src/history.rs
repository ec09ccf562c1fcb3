//! Alarm history, as AWS writes it (ConfigurationUpdate, StateUpdate, Action items with their
//! `HistoryData` JSON), and DescribeAlarmHistory.
//!
//! Items are kept in `cloudwatch/alarm-history` under
//! `<account>:<region>:<epoch ms, 15 digits>:<sequence in that ms>`, so that a scan finds them in time order;
//! they outlive their alarm, as AWS keeps a deleted alarm's history.

use rampart_service::Env;
use rampart_service::paging::{self, PageSize};
use rampart_store::{ReadTx, StoreError, WriteTx, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::alarms::{AlarmRecord, millis};
use crate::error::CloudWatchError;
use crate::evaluator::aws_millis;
use crate::records;

pub(crate) const HISTORY: &str = "cloudwatch/alarm-history";

/// DescribeAlarmHistory answers 100 items a page unless asked for fewer.
const HISTORY_PAGE: PageSize = PageSize::new(100, 100);

/// The kinds of history item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum HistoryKind {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl HistoryKind {
    fn name(self) -> &'static str {
        match self {
            Self::ConfigurationUpdate => "ConfigurationUpdate",
            Self::StateUpdate => "StateUpdate",
            Self::Action => "Action",
        }
    }
}

/// One history item as kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HistoryRecord {
    pub(crate) alarm_name: String,
    pub(crate) kind: HistoryKind,
    /// Epoch milliseconds.
    pub(crate) timestamp: i64,
    pub(crate) summary: String,
    pub(crate) data: String,
}

/// Writes a history item of `alarm`, at the handler's time.
pub(crate) fn record(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    alarm: &AlarmRecord,
    kind: HistoryKind,
    summary: &str,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    let now = millis(env);
    // Items of the same millisecond (one transition and its actions) keep their order: a
    // sequence number after the time (writes are serialized, so counting is safe).
    let at = format!("{}:{}:{now:015}:", alarm.account, alarm.region);
    let mut sequence = 0usize;
    let mut after: Option<String> = None;
    loop {
        let batch = tx.scan(HISTORY, &at, after.as_deref(), 1000)?;
        sequence += batch.len();
        match batch.last() {
            Some((key, _)) if batch.len() == 1000 => after = Some(key.clone()),
            _ => break,
        }
    }
    let key = format!("{at}{sequence:09}");
    let item = HistoryRecord {
        alarm_name: alarm.name.clone(),
        kind,
        timestamp: now,
        summary: summary.to_owned(),
        data: data.to_string(),
    };
    put_json(tx, HISTORY, &key, &item)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmHistoryInput {
    alarm_name: Option<String>,
    alarm_contributor_id: Option<String>,
    alarm_types: Option<Vec<String>>,
    history_item_type: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
    scan_by: Option<String>,
}

/// A history item as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AlarmHistoryItem {
    alarm_name: String,
    alarm_type: &'static str,
    timestamp: String,
    history_item_type: &'static str,
    history_summary: String,
    history_data: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmHistoryOutput {
    alarm_history_items: Vec<AlarmHistoryItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn parse_date(value: &str, member: &str) -> Result<i64, CloudWatchError> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
        .map_err(|_| CloudWatchError::invalid(format!("The parameter {member} is invalid.")))
}

pub(crate) fn describe_alarm_history(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeAlarmHistoryInput,
) -> Result<DescribeAlarmHistoryOutput, CloudWatchError> {
    if input.alarm_contributor_id.is_some() {
        return Err(CloudWatchError::NotImplemented(
            "Rampart does not serve alarm contributors (AlarmContributorId) yet".to_owned(),
        ));
    }
    let kind = match input.history_item_type.as_deref() {
        None => None,
        Some("ConfigurationUpdate") => Some(HistoryKind::ConfigurationUpdate),
        Some("StateUpdate") => Some(HistoryKind::StateUpdate),
        Some("Action") => Some(HistoryKind::Action),
        Some(other) => {
            return Err(CloudWatchError::invalid(format!(
                "The value {other} for parameter HistoryItemType is invalid."
            )));
        }
    };
    let descending = match input.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(CloudWatchError::invalid(format!(
                "The value {other} for parameter ScanBy is invalid."
            )));
        }
    };
    let start = input
        .start_date
        .as_deref()
        .map(|d| parse_date(d, "StartDate"))
        .transpose()?;
    let end = input
        .end_date
        .as_deref()
        .map(|d| parse_date(d, "EndDate"))
        .transpose()?;
    let types = input.alarm_types.unwrap_or_default();
    if !types.is_empty() && !types.iter().any(|t| t == "MetricAlarm") {
        return Ok(DescribeAlarmHistoryOutput {
            alarm_history_items: Vec::new(),
            next_token: None,
        });
    }
    let prefix = format!("{}:{}:", env.caller.account_id, env.region);
    let mut items: Vec<HistoryRecord> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = tx.scan(HISTORY, &prefix, after.as_deref(), 1000)?;
        let done = batch.len() < 1000;
        for (key, bytes) in &batch {
            let item: HistoryRecord = records::decode(HISTORY, key, bytes)?;
            let keep = input
                .alarm_name
                .as_ref()
                .is_none_or(|n| *n == item.alarm_name)
                && kind.is_none_or(|k| k == item.kind)
                && start.is_none_or(|s| item.timestamp >= s)
                && end.is_none_or(|e| item.timestamp <= e);
            if keep {
                items.push(item);
            }
        }
        match batch.last() {
            Some((key, _)) if !done => after = Some(key.clone()),
            _ => break,
        }
    }
    if descending {
        items.reverse();
    }
    let page = paging::page_by_index(
        items,
        input.next_token.as_deref(),
        HISTORY_PAGE.of(input.max_records),
    )
    .map_err(|e| match e {
        paging::PageError::InvalidToken => {
            CloudWatchError::InvalidNextToken("The NextToken is invalid.".to_owned())
        }
        paging::PageError::Store(e) => CloudWatchError::Store(e),
    })?;
    Ok(DescribeAlarmHistoryOutput {
        alarm_history_items: page
            .items
            .into_iter()
            .map(|item| AlarmHistoryItem {
                timestamp: OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(item.timestamp) * 1_000_000,
                )
                .map(aws_millis)
                .unwrap_or_default(),
                alarm_name: item.alarm_name,
                alarm_type: "MetricAlarm",
                history_item_type: item.kind.name(),
                history_summary: item.summary,
                history_data: item.data,
            })
            .collect(),
        next_token: page.next,
    })
}
