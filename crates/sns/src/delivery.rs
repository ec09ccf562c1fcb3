//! Delivery, off the request path and durable: Subscribe and Publish commit each message to
//! be delivered (its signed body and headers, addressed to one subscription) in the
//! transaction that records their event; the server's scheduler runs this crate's
//! [`Timers`]: each due delivery is POSTed (HTTP) or written to the outbox (email, one file per
//! message under `<data-dir>/outbox/sns/`) outside any transaction, then its outcome is
//! recorded: done, or due again after the delay the topic's delivery policy gives (AWS's
//! default: 3 retries, 20 seconds apart), or dropped once the retries are spent. A delivery
//! interrupted by a restart is tried again: delivery is at least once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rampart_service::timers::{self, DueWork, Timers, timer_key};
use rampart_service::{AwsError, Env};
use rampart_store::{ReadTx, Store, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::SnsSettings;
use crate::delivery_policy::RetryPolicy;
use crate::error::SnsError;

pub(crate) const DELIVERIES: &str = "sns/deliveries";

/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(15);

/// One message to deliver to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeliveryRecord {
    pub(crate) id: String,
    pub(crate) protocol: String,
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// The email subject, for the outbox.
    pub(crate) subject: Option<String>,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    pub(crate) retry: RetryPolicy,
}

/// Queues `record`, due at `now`, in `account`/`region`.
pub(crate) fn enqueue(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    account: &str,
    region: &str,
    record: &DeliveryRecord,
) -> Result<(), StoreError> {
    let key = timer_key(env.now, &format!("{account}|{region}|{}", record.id));
    put_json(tx, DELIVERIES, &key, record)
}

/// The deliveries' timers, with the outcomes of the parts run outside transactions.
pub(crate) struct Deliveries {
    settings: std::sync::Arc<SnsSettings>,
    outcomes: Mutex<HashMap<String, Result<(), String>>>,
}

impl Deliveries {
    pub(crate) fn new(settings: std::sync::Arc<SnsSettings>) -> Self {
        Self {
            settings,
            outcomes: Mutex::new(HashMap::new()),
        }
    }

    fn keep(&self, key: &str, outcome: Result<(), String>) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            outcomes.insert(key.to_owned(), outcome);
        }
    }

    fn take(&self, key: &str) -> Option<Result<(), String>> {
        self.outcomes.lock().ok()?.remove(key)
    }
}

/// POSTs `record` to its HTTP endpoint; any 2xx answer is a delivery.
fn post(record: &DeliveryRecord) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(POST_TIMEOUT))
        .http_status_as_error(false)
        // A redirect could lead past the loopback guard Subscribe applied.
        .max_redirects(0)
        .build()
        .into();
    let mut request = agent.post(record.endpoint.as_str());
    for (name, value) in &record.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .send(record.body.as_str())
        .map_err(|e| format!("the endpoint could not be reached: {e}"))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the endpoint answered HTTP {status}"))
    }
}

/// Writes `record` to the outbox as one file: `<time>-<id>.json` for email-json (the JSON
/// message), `<time>-<id>.eml` for email (headers, a blank line, the text).
fn write_outbox(outbox: &Path, record: &DeliveryRecord, now: OffsetDateTime) -> Result<(), String> {
    std::fs::create_dir_all(outbox).map_err(|e| format!("the outbox cannot be made: {e}"))?;
    let stamp = now.unix_timestamp_nanos();
    let (name, content) = if record.protocol == "email-json" {
        (format!("{stamp}-{}.json", record.id), record.body.clone())
    } else {
        let subject = record
            .subject
            .as_deref()
            .unwrap_or("AWS Notification Message");
        (
            format!("{stamp}-{}.eml", record.id),
            format!(
                "To: {}\r\nFrom: no-reply@sns.amazonaws.com\r\nSubject: {}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{}",
                record.endpoint,
                subject.replace(['\r', '\n'], " "),
                record.body
            ),
        )
    };
    // Written beside, then renamed: a reader never sees half a message.
    let partial = outbox.join(format!(".{name}.partial"));
    std::fs::write(&partial, content).map_err(|e| format!("the outbox cannot be written: {e}"))?;
    std::fs::rename(&partial, outbox.join(name))
        .map_err(|e| format!("the outbox cannot be written: {e}"))
}

impl Timers for Deliveries {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        timers::due_work(tx, DELIVERIES, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        timers::earliest_due(tx, DELIVERIES)
    }

    fn run_outside(&self, store: &dyn Store, work: &DueWork) {
        let Ok(Some(record)) =
            store.read_with(|tx| get_json::<DeliveryRecord>(tx, DELIVERIES, &work.key))
        else {
            return;
        };
        let outcome = match record.protocol.as_str() {
            "http" => post(&record),
            "email" | "email-json" => match &self.settings.outbox {
                Some(outbox) => write_outbox(outbox, &record, OffsetDateTime::now_utc()),
                None => Err("this server has no outbox".to_owned()),
            },
            other => Err(format!("Rampart does not deliver to {other} endpoints")),
        };
        if let Err(why) = &outcome {
            // The endpoint is the subscriber's; the body is never logged.
            tracing::warn!(delivery = %record.id, protocol = %record.protocol, attempt = record.attempts + 1, error = %why, "sns: delivery failed");
        }
        self.keep(&work.key, outcome);
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        let store = |e: StoreError| AwsError::from(SnsError::Store(e));
        let Some(mut record) =
            get_json::<DeliveryRecord>(tx, DELIVERIES, &work.key).map_err(store)?
        else {
            return Ok(());
        };
        let Some(outcome) = self.take(&work.key) else {
            // No outcome (the server restarted between the parts): tried again next round.
            return Ok(());
        };
        tx.delete(DELIVERIES, &work.key).map_err(store)?;
        if outcome.is_ok() {
            return Ok(());
        }
        record.attempts = record.attempts.saturating_add(1);
        if record.attempts > record.retry.num_retries {
            tracing::warn!(delivery = %record.id, attempts = record.attempts, "sns: delivery abandoned after its retries");
            return Ok(());
        }
        let delay = record.retry.delay_before(record.attempts);
        let due = env.now + time::Duration::seconds(i64::from(delay));
        let key = timer_key(
            due,
            &format!("{}|{}|{}", work.account, work.region, record.id),
        );
        put_json(tx, DELIVERIES, &key, &record).map_err(store)?;
        Ok(())
    }
}
