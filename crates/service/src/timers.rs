//! Work a service does by itself when it falls due, with no request to start it: Parameter
//! Store's parameter policies (a parameter's expiration and its notifications), Secrets
//! Manager's scheduled rotations. The server's scheduler asks every service that has
//! [`Timers`] what is due and runs each item through the spine's store, as the service's own
//! principal; the spine names no service.
//!
//! What is due lives in the store, so it survives restarts. Each item runs in one write
//! transaction: the service finds the item still due there and marks it done in the same
//! transaction as the work, so an item runs exactly once however often the scheduler asks
//! and whenever the server stops. Time is passed in, so tests use a fixed clock.

use rampart_store::{ReadTx, Store, StoreError, WriteTx};
use rampart_wire::AwsError;
use time::OffsetDateTime;

use crate::Env;

/// One item of work that falls due, as its service names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWork {
    /// The service's own key for the item (what [`Timers::run`] finds it by).
    pub key: String,
    /// The account the work acts in: its `Env`'s caller is the service's principal acting
    /// for this account.
    pub account: String,
    /// The region the work acts in.
    pub region: String,
    /// When it falls due.
    pub due: OffsetDateTime,
}

/// A service's timed work, read from the store.
pub trait Timers: Send + Sync {
    /// Up to `limit` items due at or before `now`, earliest first, read on a snapshot.
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError>;

    /// When the earliest item falls due, due already or not, if there is one: the scheduler
    /// sleeps no longer than until then.
    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError>;

    /// Runs `work` in `tx`, with `env` (the service's principal in the work's account and
    /// region, at the scheduler's time; `env.calls` runs calls to other services, which are
    /// journaled with the work). It must find `work` still due in `tx` and mark it done there
    /// (an item found done already is no error: nothing is left to do). An error undoes the
    /// work's writes; the item stays due and is tried again on a later round.
    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError>;

    /// The part of `work` that must run outside any transaction, just before [`Timers::run`]:
    /// a call out of the process that may call back into Rampart (a Secrets Manager rotation
    /// function), whose writes would wait for the writer a transaction holds. It reads what it
    /// needs from `store` and keeps its outcome for `run`, which finds the item still due and
    /// finishes it (a `run` that finds no outcome, after a restart, leaves the item due: both
    /// parts are tried again). None by default.
    fn run_outside(&self, store: &dyn Store, work: &DueWork) {
        let _ = (store, work);
    }
}

/// The key of an item in a timer index: its due time first, so that a scan in key order
/// finds the earliest items first (whole seconds since the epoch, rounded up so that an item
/// never runs before its time, zero-padded; times before the epoch sort first as 0), then
/// `rest`, which names the item.
pub fn timer_key(due: OffsetDateTime, rest: &str) -> String {
    let mut seconds = u64::try_from(due.unix_timestamp()).unwrap_or(0);
    if due.unix_timestamp() >= 0 && due.nanosecond() > 0 {
        seconds = seconds.saturating_add(1);
    }
    format!("{seconds:012}|{rest}")
}

/// The due time and the rest of a key made by [`timer_key`].
pub fn parse_timer_key(key: &str) -> Option<(OffsetDateTime, &str)> {
    let (seconds, rest) = key.split_once('|')?;
    let seconds: i64 = seconds.parse().ok()?;
    Some((OffsetDateTime::from_unix_timestamp(seconds).ok()?, rest))
}

/// The items of the timer index `ns` due at or before `now`, earliest first, at most `limit`:
/// their keys and documents.
pub fn scan_due(
    tx: &mut dyn ReadTx,
    ns: &str,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut due = tx.scan(ns, "", None, limit)?;
    due.retain(|(key, _)| parse_timer_key(key).is_some_and(|(at, _)| at <= now));
    Ok(due)
}

/// The items of the timer index `ns` due at or before `now`, earliest first, at most `limit`,
/// for a service whose keys' rest begins `<account>|<region>|` (the account and region the
/// work acts in); keys of another form are skipped.
pub fn due_work(
    tx: &mut dyn ReadTx,
    ns: &str,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<DueWork>, StoreError> {
    let mut due = Vec::new();
    for (key, _) in scan_due(tx, ns, now, limit)? {
        let Some((at, rest)) = parse_timer_key(&key) else {
            continue;
        };
        let mut parts = rest.split('|');
        let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
            continue;
        };
        due.push(DueWork {
            account: account.to_owned(),
            region: region.to_owned(),
            due: at,
            key: key.clone(),
        });
    }
    Ok(due)
}

/// When the earliest item of the timer index `ns` falls due.
pub fn earliest_due(tx: &mut dyn ReadTx, ns: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(tx
        .scan(ns, "", None, 1)?
        .first()
        .and_then(|(key, _)| parse_timer_key(key))
        .map(|(at, _)| at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_keys_sort_by_due_time_and_parse_back() {
        let early = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        let late = time::macros::datetime!(2031-01-01 00:00:00 UTC);
        let a = timer_key(early, "z|item");
        let b = timer_key(late, "a|item");
        assert!(a < b);
        assert_eq!(parse_timer_key(&a), Some((early, "z|item")));
        // A fraction of a second rounds up: the item is never found due early.
        let fraction = timer_key(early + time::Duration::milliseconds(1), "x");
        assert_eq!(
            parse_timer_key(&fraction).map(|(at, _)| at),
            Some(early + time::Duration::seconds(1))
        );
        // Before the epoch: due at once.
        let old = timer_key(time::macros::datetime!(1960-01-01 00:00:00 UTC), "x");
        assert_eq!(
            parse_timer_key(&old).map(|(at, _)| at.unix_timestamp()),
            Some(0)
        );
        assert_eq!(parse_timer_key("no separator"), None);
    }
}
