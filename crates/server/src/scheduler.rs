//! The scheduler: one background thread that runs the work services schedule for themselves
//! ([`rampart_service::Timers`]: Parameter Store's parameter policies, Secrets Manager's
//! scheduled rotations). It names no service: it asks every registered service for its due
//! work.
//!
//! Each item runs in a write transaction of its own (after the part of it that calls out of the
//! process, [`rampart_service::Timers::run_outside`], with none open), through the spine's
//! store, with an `Env`
//! whose caller is the service's principal (`ssm.amazonaws.com`) in the item's account and
//! region. Calls the work makes to other services go through the spine (authorized as AWS
//! authorizes a service principal, journaled with the work). The service marks the item done
//! in the same transaction, so an item runs exactly once across rounds and restarts; work that
//! fails is undone and tried again on a later round.
//!
//! The thread wakes when the earliest item falls due, and at least every
//! [`SchedulerConfig::interval`] (`RAMPART_SCHEDULER_SECONDS`), for items added meanwhile.

use std::sync::Arc;
use std::time::Duration;

use rampart_service::{AwsError, Caller, DueWork, Service};
use rampart_store::StoreError;
use time::OffsetDateTime;

use crate::calls::{Calling, CallsOf};
use crate::pipeline;
use crate::state::AppState;

/// How often the scheduler looks for due work when nothing falls due sooner.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The least it sleeps between rounds, so that an item found due again at once (written
/// while the round ran) cannot make it spin.
const MIN_WAIT: Duration = Duration::from_millis(100);
/// Items read per service per round.
const BATCH: usize = 100;

/// The lease a node holds to run scheduled work when several nodes share one store
/// ([`rampart_store::Store::take_lease`]): one node at a time runs it.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// How often to look for due work.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// The longest time between rounds.
    pub interval: Duration,
}

impl SchedulerConfig {
    /// Every 5 seconds, or every `RAMPART_SCHEDULER_SECONDS` (for tests).
    pub fn from_env() -> Self {
        let interval = std::env::var("RAMPART_SCHEDULER_SECONDS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .map_or(DEFAULT_INTERVAL, Duration::from_secs_f64);
        Self { interval }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Items that ran.
    pub ran: usize,
    /// Items whose work failed (undone; tried again later).
    pub failed: usize,
    /// Whether more items may be due than one round reads.
    pub more: bool,
    /// When the earliest item left falls due.
    pub next_due: Option<OffsetDateTime>,
}

/// The running scheduler.
pub struct Scheduler {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scheduler {
    /// Stops the scheduler once its current round (if any) is done.
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the scheduler on a thread of its own.
pub fn spawn(app: Arc<AppState>, config: SchedulerConfig) -> std::io::Result<Scheduler> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rampart-scheduler".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    let now = OffsetDateTime::now_utc();
                    let wait = match run_due(&app, now).await {
                        Ok(round) => wait_after(&round, now, config.interval),
                        Err(e) => {
                            tracing::warn!(error = %e, "scheduled work could not be read; retrying");
                            config.interval
                        }
                    };
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        // Dropping the sender (or sending) stops the loop between rounds.
                        _ = &mut stopped => return,
                    }
                }
            });
        })?;
    Ok(Scheduler {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// How long to sleep after `round`: until the earliest item falls due, within the interval;
/// a full interval after failures, which are not retried at once.
fn wait_after(round: &Round, now: OffsetDateTime, interval: Duration) -> Duration {
    if round.failed > 0 {
        return interval;
    }
    if round.more {
        return MIN_WAIT;
    }
    let until_due = round
        .next_due
        .map(|due| Duration::try_from(due - now).unwrap_or(Duration::ZERO));
    until_due.map_or(interval, |d| d.clamp(MIN_WAIT, interval.max(MIN_WAIT)))
}

/// Runs every service's work due at `now`: one round.
pub async fn run_due(app: &Arc<AppState>, now: OffsetDateTime) -> Result<Round, StoreError> {
    let mut round = Round::default();
    // Another node runs the work while it holds the lease; this one asks again each round
    // (every interval at most), so it takes over within an interval of the holder's death.
    if !app.store.take_lease(SCHEDULER_LEASE)? {
        return Ok(round);
    }
    app.catch_up_with_store();
    let mut names: Vec<&'static str> = app.registry.names().collect();
    names.sort_unstable();
    for name in names {
        let Some(service) = app.registry.get(name).cloned() else {
            continue;
        };
        let Some(timers) = service.timers() else {
            continue;
        };
        let due = app.store.read_with(|tx| timers.due(tx, now, BATCH))?;
        round.more |= due.len() >= BATCH;
        for work in due {
            let key = work.key.clone();
            // Calls out of the process first, with no transaction open (they may call back).
            timers.run_outside(app.store.as_ref(), &work);
            match run_one(app, &service, work, now).await {
                Ok(Ok(())) => round.ran += 1,
                Ok(Err(e)) => {
                    round.failed += 1;
                    tracing::warn!(service = name, item = %key, code = %e.code, message = %e.message,
                        "scheduled work failed; it stays due");
                }
                Err(e) => {
                    round.failed += 1;
                    tracing::warn!(service = name, item = %key, error = %e,
                        "scheduled work could not be committed; it stays due");
                }
            }
        }
        let next = app.store.read_with(|tx| timers.next_due(tx))?;
        round.next_due = match (round.next_due, next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    if round.failed > 0 {
        round.more = false;
    }
    Ok(round)
}

/// Runs one item in a write transaction of its own, as the service's principal; the events
/// of the calls it made are written in the same transaction, whether the work succeeded or
/// was undone.
async fn run_one(
    app: &Arc<AppState>,
    service: &Arc<dyn Service>,
    work: DueWork,
    now: OffsetDateTime,
) -> Result<Result<(), AwsError>, StoreError> {
    let shared = Arc::clone(app);
    let owner = Arc::clone(service);
    let outcome = app
        .store
        .write_with(move |tx| {
            let Some(timers) = owner.timers() else {
                return Ok(Ok(()));
            };
            // Checked in the work's own transaction: work this node began before losing the
            // lease to another node is never committed beside the other node's.
            if !tx.hold_lease(SCHEDULER_LEASE)? {
                return Ok(Err(AwsError::new(
                    "LeaseLost",
                    500,
                    "another node runs the scheduled work now",
                )));
            }
            let request_id = pipeline::new_id();
            let principal = format!("{}.amazonaws.com", owner.name());
            let caller = Caller::service(&principal, &work.account);
            let calls = CallsOf::new(
                &shared,
                Calling {
                    party: None,
                    service: owner.name(),
                    region: &work.region,
                    request_id: &request_id,
                    now,
                    source_ip: "",
                    user_agent: "",
                },
            );
            let mut outcome = None;
            {
                let mut env = pipeline::env(&shared, &caller, &work.region, &request_id, now);
                env.calls = &calls;
                tx.atomically(&mut |tx| {
                    let result = timers.run(&env, tx, &work);
                    let ok = result.is_ok();
                    outcome = Some(result);
                    ok
                })?;
            }
            let outcome = outcome.unwrap_or(Ok(()));
            calls.into_recorded(outcome.is_ok(), None).write(tx)?;
            Ok::<_, StoreError>(outcome)
        })
        .await?;
    if outcome.is_ok() {
        // As after a request's write: caches derived from stored state are stale now.
        app.service_state_changed(service.changes_guardrails());
    }
    Ok(outcome)
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
