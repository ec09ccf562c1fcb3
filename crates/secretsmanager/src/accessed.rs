//! LastAccessedDate: the day each version was last read, noted after a successful
//! GetSecretValue (BatchGetSecretValue's included: it reads each secret by a GetSecretValue
//! call through the spine), in the transaction of its event. AWS keeps the date
//! only (midnight UTC), so a version's record is written at most once a day.

use rampart_service::{AfterSuccess, CompletedCall, EventResource, Value};
use rampart_store::{StoreError, WriteTx};
use time::{OffsetDateTime, Time, UtcOffset};

use crate::records;

/// A version a call returned: the secret's ARN, its name and the version's ID.
struct Read {
    arn: String,
    name: String,
    version: String,
}

fn read_of(value: &Value) -> Option<Read> {
    let member = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    Some(Read {
        arn: member("ARN")?,
        name: member("Name")?,
        version: member("VersionId")?,
    })
}

/// The work of noting what a successful read returned, if `call` is one.
pub(crate) fn after_read(call: &CompletedCall<'_>) -> Option<AfterSuccess> {
    // BatchGetSecretValue reads each secret by a GetSecretValue call of its own, which notes it.
    if call.operation != "GetSecretValue" {
        return None;
    }
    let read = read_of(call.output)?;
    let day = call
        .time
        .to_offset(UtcOffset::UTC)
        .replace_time(Time::MIDNIGHT);
    Some(Box::new(move |tx| note(tx, &read, day)))
}

fn note(tx: &mut dyn WriteTx, read: &Read, day: OffsetDateTime) -> Result<(), StoreError> {
    let Some(parts) = EventResource::parts(&read.arn) else {
        return Ok(());
    };
    let Some(mut record) = records::load(tx, parts.account, parts.region, &read.name)? else {
        return Ok(());
    };
    // The secret read, not one made since under its name.
    if record.arn != read.arn {
        return Ok(());
    }
    let Some(version) = record.versions.iter_mut().find(|v| v.id == read.version) else {
        return Ok(());
    };
    if version.last_accessed == Some(day) {
        return Ok(());
    }
    version.last_accessed = Some(day);
    records::save(tx, &record)
}
