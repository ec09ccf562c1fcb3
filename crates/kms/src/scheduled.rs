//! Work KMS does when it falls due, run by the server's scheduler as `kms.amazonaws.com`
//! ([`rampart_service::Timers`]), so that its service events are written at their time: a
//! key's automatic rotation (RotateKey) and the end of its deletion window (DeleteKey).
//!
//! KMS's state needs no scheduler (rotation and deletion are lazy: see rotation.rs and
//! keys.rs); the timers only bring the due change into the key's record then. Every save of
//! a key sets the timers its record asks for ([`schedule`]); a timer that finds the key no
//! longer due (rotation disabled, deletion cancelled, rotated or purged already by a request)
//! does nothing, so none needs removing.

use rampart_service::timers::{due_work, earliest_due, timer_key};
use rampart_service::{AwsError, DueWork, Env, Timers};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::records::{self, KeyRecord, KeyState};
use crate::{resolve, rotation};

/// The timers, by due time: `<due>|<account>|<region>|<key id>|<kind>`.
pub(crate) const DUE: &str = "kms/due";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Kind {
    Rotation,
    Deletion,
}

#[derive(Debug, Serialize, Deserialize)]
struct TimerRecord {
    key_id: String,
    kind: Kind,
}

fn timer(key: &KeyRecord, due: OffsetDateTime, kind: Kind) -> String {
    let name = match kind {
        Kind::Rotation => "rotation",
        Kind::Deletion => "deletion",
    };
    timer_key(
        due,
        &format!("{}|{}|{}|{name}", key.account_id, key.region, key.key_id),
    )
}

/// Sets the timers `key`'s record asks for: its next automatic rotation, the end of its
/// deletion window.
pub(crate) fn schedule(
    tx: &mut (impl WriteTx + ?Sized),
    key: &KeyRecord,
) -> Result<(), StoreError> {
    let mut put = |due: OffsetDateTime, kind: Kind| {
        let doc = TimerRecord {
            key_id: key.key_id.clone(),
            kind,
        };
        put_json(tx, DUE, &timer(key, due, kind), &doc)
    };
    if let (true, Some(next)) = (key.rotation.enabled, key.rotation.next_rotation) {
        put(next, Kind::Rotation)?;
    }
    if let (KeyState::PendingDeletion, Some(date)) = (&key.state, key.deletion_date) {
        put(date, Kind::Deletion)?;
    }
    Ok(())
}

/// KMS's timers, for the scheduler.
#[derive(Debug, Default)]
pub(crate) struct KeyTimers;

impl Timers for KeyTimers {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        due_work(tx, DUE, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, DUE)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        let Some(doc) = get_json::<TimerRecord>(tx, DUE, &work.key).map_err(store_error)? else {
            return Ok(());
        };
        // The delete claims the item: of two nodes' transactions that both found it, only
        // the one whose delete removed the row (the other's waits for it, then finds none)
        // applies it.
        if !tx.delete(DUE, &work.key).map_err(store_error)? {
            return Ok(());
        }
        let Some(mut key) =
            records::load_key(tx, &work.account, &work.region, &doc.key_id).map_err(store_error)?
        else {
            return Ok(());
        };
        match doc.kind {
            Kind::Rotation => {
                if key.is_deleted(env.now) {
                    return Ok(());
                }
                let before = key.materials.len();
                rotation::materialize(env, &mut key).map_err(AwsError::from)?;
                if key.materials.len() > before {
                    records::save_key(tx, &key).map_err(store_error)?;
                }
            }
            Kind::Deletion => {
                let this_window = key
                    .deletion_date
                    .is_some_and(|date| timer(&key, date, Kind::Deletion) == work.key);
                if this_window && key.is_deleted(env.now) {
                    resolve::purge_key(tx, env, &key).map_err(AwsError::from)?;
                }
            }
        }
        Ok(())
    }
}

fn store_error(e: StoreError) -> AwsError {
    tracing::error!(error = %e, "KMS's scheduled work could not read or write the store");
    AwsError::new("KMSInternalException", 500, "KMS's scheduled work failed")
}
