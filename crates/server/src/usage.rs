//! Usage tracking fed by real calls: an access key's last use (`GetAccessKeyLastUsed`, the
//! credential report) and an IAM entity's last access per service (the access advisor). It
//! is written in the same transaction as the call's audit event; an in-memory throttle
//! keeps it to one write per key, service and region a minute, so a busy key does not turn
//! every read into two writes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rampart_service::{Caller, PrincipalKind};
use rampart_store::{StoreError, WriteTx};
use time::OffsetDateTime;

/// How stale a recorded last use may be.
const RECORD_EVERY: Duration = Duration::from_secs(60);
/// Entries kept before the throttle forgets everything (and records afresh).
const MAX_ENTRIES: usize = 100_000;

/// One call's usage, to record with its event.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    access_key_id: String,
    account_id: String,
    /// The IAM user (or, later, role) the access advisor tracks; `None` for root.
    entity_arn: Option<String>,
    service: String,
    region: String,
    at: OffsetDateTime,
}

impl Usage {
    /// Writes the usage.
    pub(crate) fn record(&self, tx: &mut dyn WriteTx) -> Result<(), StoreError> {
        rampart_iam::access_keys::record_use(
            tx,
            &self.access_key_id,
            self.at,
            &self.service,
            &self.region,
        )?;
        if let Some(arn) = &self.entity_arn {
            rampart_iam::access_advisor::record_access(
                tx,
                &self.account_id,
                arn,
                &self.service,
                &self.region,
                self.at,
            )?;
        }
        Ok(())
    }
}

/// Remembers when each key's use was last recorded.
#[derive(Default)]
pub(crate) struct UsageThrottle {
    recorded: Mutex<HashMap<String, Instant>>,
}

impl UsageThrottle {
    /// The usage to record for this call, or `None` when it was recorded less than a minute
    /// ago.
    pub(crate) fn due(
        &self,
        caller: &Caller,
        service: &str,
        region: &str,
        at: OffsetDateTime,
    ) -> Option<Usage> {
        let key = format!("{}/{service}/{region}", caller.access_key_id);
        let now = Instant::now();
        let mut recorded = self.recorded.lock().ok()?;
        if recorded
            .get(&key)
            .is_some_and(|last| now.duration_since(*last) < RECORD_EVERY)
        {
            return None;
        }
        if recorded.len() >= MAX_ENTRIES {
            recorded.clear();
        }
        recorded.insert(key, now);
        Some(Usage {
            access_key_id: caller.access_key_id.clone(),
            account_id: caller.account_id.clone(),
            entity_arn: (caller.kind == PrincipalKind::IamUser).then(|| caller.arn.clone()),
            service: service.to_owned(),
            region: region.to_owned(),
            at,
        })
    }

    /// Forgets everything (after a reset, the records are gone too).
    pub(crate) fn clear(&self) {
        if let Ok(mut recorded) = self.recorded.lock() {
            recorded.clear();
        }
    }
}
