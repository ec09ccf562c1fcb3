//! How many failed unauthenticated calls the journal records: enough for detection, never
//! enough to fill the disk.
//!
//! A call that fails before anyone is authenticated (a bad or missing signature, an unknown
//! key, a refused web identity token) costs its sender nothing, so each source gets a token
//! bucket:
//!
//! - a source is an IPv4 address, or an IPv6 /64 (one host commonly holds a whole /64, so
//!   keying by full IPv6 addresses would hand a sprayer 2^64 fresh buckets);
//! - its first [`SOURCE_BURST`] failures are recorded one event each; after that, one per
//!   [`SOURCE_REFILL`] (ten a minute);
//! - every source together is held to [`GLOBAL_BURST`] events, then one per
//!   [`GLOBAL_REFILL`] (sixty a minute), however many sources there are;
//! - a failure that finds no token is counted, not recorded: the source's next recorded
//!   event carries the count in `additionalEventData.unrecordedAuthenticationFailures`, and
//!   the first such failure of a run is logged (a warning naming the source);
//! - at most [`MAX_SOURCES`] sources are tracked: when the table is full, sources whose
//!   bucket has refilled and that owe no count are forgotten, and so are sources silent for
//!   [`FORGET_AFTER`] whatever they owe (the counts dropped are logged); this sweep runs at
//!   most once a second. If nothing can be forgotten, new sources share one overflow bucket.
//!   Memory stays bounded under spraying.
//!
//! Events of such calls are small (see `audit.rs`: at most 1 KB of user agent and of message,
//! no header or credential material beyond the claimed access key ID): about 3 KB, so the
//! journal grows by at most about 60 × 3 KB a minute under any flood, and 10 × 3 KB a minute
//! from any one source. A refused web identity or SAML call also records its input, redacted
//! and bounded by the API model's lengths.
//! Authenticated callers' failed calls are not throttled: each is recorded, as AWS does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rampart_wire::AwsError;

use crate::audit::{AuditEvent, CallRecord};
use crate::state::AppState;

/// Events a source may have recorded in a row.
const SOURCE_BURST: f64 = 10.0;
/// The time a source's bucket takes to gain one event back.
const SOURCE_REFILL: Duration = Duration::from_secs(6);
/// Events every source together may have recorded in a row.
const GLOBAL_BURST: f64 = 60.0;
/// The time the shared bucket takes to gain one event back.
const GLOBAL_REFILL: Duration = Duration::from_secs(1);
/// Sources tracked at once.
const MAX_SOURCES: usize = 4096;
/// A source silent this long is forgotten when the table is full, even if it owes a count.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// The least time between two sweeps of a full table.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Whether a failed unauthenticated call gets its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Record it, noting how many failures from its source went unrecorded before it.
    Record {
        /// Failures counted but not recorded since the source's previous recorded one.
        unrecorded_before: u64,
    },
    /// Count it only.
    Count,
}

/// Where failures are counted: a tracked source, or the overflow shared by the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
}

impl Source {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(u32::from(v4)),
                None => Self::V6(u64::try_from(u128::from(v6) >> 64).unwrap_or(u64::MAX)),
            },
        }
    }
}

/// A token bucket that also counts the failures it turned away.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    unrecorded: u64,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Self {
            tokens: burst,
            updated: now,
            unrecorded: 0,
        }
    }

    fn refill(&mut self, burst: f64, every: Duration, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated);
        self.tokens = (self.tokens + elapsed.as_secs_f64() / every.as_secs_f64()).min(burst);
        self.updated = now;
    }

    /// Whether the bucket can be forgotten: it is back to full and owes no count (nothing
    /// is lost), or it has been silent for [`FORGET_AFTER`].
    fn is_forgettable(&self, burst: f64, every: Duration, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated);
        let tokens = self.tokens + elapsed.as_secs_f64() / every.as_secs_f64();
        (self.unrecorded == 0 && tokens >= burst) || elapsed >= FORGET_AFTER
    }
}

struct Buckets {
    sources: HashMap<Source, Bucket>,
    overflow: Bucket,
    global: Bucket,
    last_sweep: Option<Instant>,
}

/// Decides, per source, which failed unauthenticated calls are recorded (see the module
/// documentation for the policy).
pub(crate) struct FailureThrottle {
    buckets: Mutex<Buckets>,
}

impl Default for FailureThrottle {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            buckets: Mutex::new(Buckets {
                sources: HashMap::new(),
                overflow: Bucket::full(SOURCE_BURST, now),
                global: Bucket::full(GLOBAL_BURST, now),
                last_sweep: None,
            }),
        }
    }
}

impl FailureThrottle {
    /// Whether a failed unauthenticated call from `ip` is recorded now.
    pub(crate) fn admit(&self, ip: IpAddr) -> Admission {
        self.admit_at(ip, Instant::now())
    }

    fn admit_at(&self, ip: IpAddr, now: Instant) -> Admission {
        // A poisoned lock means a panic elsewhere mid-update; the counts are advisory, so
        // record the event rather than lose it.
        let Ok(mut guard) = self.buckets.lock() else {
            return Admission::Record {
                unrecorded_before: 0,
            };
        };
        let buckets = &mut *guard;
        let source = Source::of(ip);
        if !buckets.sources.contains_key(&source) && buckets.sources.len() >= MAX_SOURCES {
            sweep(buckets, now);
        }
        let tracked = buckets.sources.len() < MAX_SOURCES || buckets.sources.contains_key(&source);
        let bucket = if tracked {
            buckets
                .sources
                .entry(source)
                .or_insert_with(|| Bucket::full(SOURCE_BURST, now))
        } else {
            &mut buckets.overflow
        };
        bucket.refill(SOURCE_BURST, SOURCE_REFILL, now);
        buckets.global.refill(GLOBAL_BURST, GLOBAL_REFILL, now);
        if bucket.tokens >= 1.0 && buckets.global.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            buckets.global.tokens -= 1.0;
            return Admission::Record {
                unrecorded_before: std::mem::take(&mut bucket.unrecorded),
            };
        }
        bucket.unrecorded = bucket.unrecorded.saturating_add(1);
        if bucket.unrecorded == 1 {
            tracing::warn!(
                source = %ip,
                shared = !tracked,
                "failed unauthenticated calls from this source are now counted, not each recorded"
            );
        }
        Admission::Count
    }
}

/// The event of a call that failed with `error`; `None` for a failed unauthenticated call
/// that its source's bucket leaves counted but unrecorded.
pub(crate) fn failure_event(
    state: &AppState,
    record: &CallRecord,
    error: &AwsError,
) -> Option<AuditEvent> {
    if record.caller.is_some() {
        return Some(record.event(Err(error)));
    }
    // The record's source is the TCP peer's address, so it always parses.
    let Ok(ip) = record.source_ip.parse::<IpAddr>() else {
        return Some(record.event(Err(error)));
    };
    match state.unauthenticated_failures.admit(ip) {
        Admission::Record { unrecorded_before } => {
            Some(record.event_noting(Err(error), unrecorded_before))
        }
        Admission::Count => None,
    }
}

/// Forgets the sources that have nothing to remember, at most once per [`SWEEP_INTERVAL`].
fn sweep(buckets: &mut Buckets, now: Instant) {
    if buckets
        .last_sweep
        .is_some_and(|last| now.saturating_duration_since(last) < SWEEP_INTERVAL)
    {
        return;
    }
    buckets.last_sweep = Some(now);
    let mut dropped: u64 = 0;
    buckets.sources.retain(|_, bucket| {
        let forget = bucket.is_forgettable(SOURCE_BURST, SOURCE_REFILL, now);
        if forget {
            dropped = dropped.saturating_add(bucket.unrecorded);
        }
        !forget
    });
    if dropped > 0 {
        tracing::warn!(
            unrecorded = dropped,
            "forgot silent sources of failed unauthenticated calls, with their unrecorded counts"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(last: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + last))
    }

    fn recorded(admissions: &[Admission]) -> usize {
        admissions
            .iter()
            .filter(|a| matches!(a, Admission::Record { .. }))
            .count()
    }

    #[test]
    fn a_source_gets_its_burst_then_one_event_per_refill_carrying_the_count() {
        let throttle = FailureThrottle::default();
        let start = Instant::now();
        let first: Vec<_> = (0..25).map(|_| throttle.admit_at(v4(1), start)).collect();
        assert_eq!(recorded(&first), 10);
        assert!(first.iter().skip(10).all(|a| *a == Admission::Count));
        // One refill later, one more event, which says how many went unrecorded.
        let later = start + SOURCE_REFILL;
        assert_eq!(
            throttle.admit_at(v4(1), later),
            Admission::Record {
                unrecorded_before: 15
            }
        );
        assert_eq!(throttle.admit_at(v4(1), later), Admission::Count);
        // Another source is not held back by the first one.
        assert_eq!(
            throttle.admit_at(v4(2), later),
            Admission::Record {
                unrecorded_before: 0
            }
        );
    }

    #[test]
    fn every_source_together_is_held_to_the_global_bucket() {
        let throttle = FailureThrottle::default();
        let now = Instant::now();
        let admissions: Vec<_> = (0..1_000).map(|i| throttle.admit_at(v4(i), now)).collect();
        assert_eq!(recorded(&admissions), 60);
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source() {
        let throttle = FailureThrottle::default();
        let now = Instant::now();
        let admissions: Vec<_> = (0..100u128)
            .map(|host| {
                let ip = Ipv6Addr::from((0x2001_0db8_0000_0001u128 << 64) | host);
                throttle.admit_at(IpAddr::V6(ip), now)
            })
            .collect();
        assert_eq!(recorded(&admissions), 10);
        // An IPv4-mapped address is its IPv4 source.
        assert_eq!(
            Source::of("::ffff:10.0.0.1".parse().unwrap()),
            Source::of(v4(1))
        );
    }

    #[test]
    fn the_table_stays_bounded_under_spraying() {
        let throttle = FailureThrottle::default();
        let mut now = Instant::now();
        for round in 0..3u32 {
            for i in 0..(MAX_SOURCES as u32 * 2) {
                throttle.admit_at(v4(round * 1_000_000 + i), now);
            }
            now += Duration::from_secs(3600);
        }
        let buckets = throttle.buckets.lock().unwrap();
        assert!(buckets.sources.len() <= MAX_SOURCES);
        // The sources that could not be tracked were counted in the overflow bucket.
        assert!(buckets.overflow.unrecorded > 0);
    }

    #[test]
    fn idle_sources_are_forgotten_when_the_table_is_full() {
        let throttle = FailureThrottle::default();
        let mut now = Instant::now();
        for i in 0..MAX_SOURCES as u32 {
            throttle.admit_at(v4(i), now);
            // Slowly enough that the shared bucket never runs dry: none owes a count.
            now += GLOBAL_REFILL;
        }
        // A refill after the last one, every bucket is full again and owes nothing, so a new
        // source finds room.
        let later = now + SOURCE_REFILL;
        assert_eq!(
            throttle.admit_at(v4(9_999_999), later),
            Admission::Record {
                unrecorded_before: 0
            }
        );
        assert_eq!(throttle.buckets.lock().unwrap().sources.len(), 1);
    }

    #[test]
    fn sources_that_owe_a_count_are_forgotten_once_silent_long_enough() {
        let start = Instant::now();
        let owing = Bucket {
            tokens: 0.0,
            updated: start,
            unrecorded: 5,
        };
        let mut buckets = Buckets {
            sources: HashMap::from([(Source::of(v4(1)), owing)]),
            overflow: Bucket::full(SOURCE_BURST, start),
            global: Bucket::full(GLOBAL_BURST, start),
            last_sweep: None,
        };
        // Refilled, but it owes a count: kept, so that its next event can carry it.
        sweep(&mut buckets, start + SOURCE_REFILL * 20);
        assert_eq!(buckets.sources.len(), 1);
        // Silent for long enough: forgotten (and the dropped count logged).
        sweep(&mut buckets, start + FORGET_AFTER);
        assert!(buckets.sources.is_empty());
    }
}
