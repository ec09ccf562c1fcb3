//! One audit log record's payload: the event, the attributes a lookup searches by, and the
//! protocol's flags (docs/ARCHITECTURE.md, "The audit log and the protocol that keeps state
//! and its event atomic").
//!
//! ```text
//! flags: u8 | present: u8 | event_time: i64 LE | read_only: u8
//! account, event_id, event_name, event_source, username, access_key_id: text each
//! resources: u32 LE count, then (type, name) texts | the event's bytes, to the end
//! text: u32 LE length (u32::MAX for none) | UTF-8 bytes
//! ```
//!
//! A compact binary form rather than JSON: encoding sits on every call's path, and the
//! attributes are copied out of the event already (`JournalAppend`), so the log stores them
//! beside it and neither the index nor a lookup parses events.

use crate::JournalAppend;

/// The event's state transaction must commit for the event to count: recovery voids a
/// record with this flag after the last applied sequence number.
const DEPENDS: u8 = 1;
/// Not an event: a number the table journal of an old data directory never used (a gap in
/// its numbering), kept so that migrated events keep their numbers. Readers skip it.
const FILLER: u8 = 2;

/// `present`: which optional numbers the record has (rows migrated from the oldest schema
/// may lack them).
const HAS_TIME: u8 = 1;
const HAS_READ_ONLY: u8 = 2;

const NONE: u32 = u32::MAX;

/// A record read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogEvent {
    pub(crate) depends: bool,
    pub(crate) filler: bool,
    pub(crate) event_time: Option<i64>,
    pub(crate) read_only: Option<bool>,
    pub(crate) account: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) event_name: Option<String>,
    pub(crate) event_source: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) resources: Vec<(String, String)>,
    pub(crate) event: Vec<u8>,
}

impl LogEvent {
    /// The event numbered `seq` as a whole-store copy reads it.
    pub(crate) fn into_record(self, seq: u64) -> crate::JournalRecord {
        crate::JournalRecord {
            seq,
            event: self.event,
            event_time: self.event_time.unwrap_or(0),
            account: self.account,
            event_id: self.event_id,
            event_name: self.event_name,
            event_source: self.event_source,
            username: self.username,
            access_key_id: self.access_key_id,
            read_only: self.read_only.unwrap_or(false),
            resources: self.resources,
        }
        .normalized()
    }
}

/// Encodes a fresh append into `out` (cleared first).
pub(crate) fn encode_append(out: &mut Vec<u8>, entry: &JournalAppend<'_>, depends: bool) {
    encode(
        out,
        &Fields {
            flags: if depends { DEPENDS } else { 0 },
            event_time: Some(entry.event_time),
            read_only: Some(entry.read_only),
            texts: [
                entry.account,
                Some(entry.event_id),
                Some(entry.event_name),
                Some(entry.event_source),
                entry.username,
                entry.access_key_id,
            ],
            resources: entry.resources,
            event: entry.event,
        },
    );
}

/// Encodes an event migrated from the table journal (committed long ago: no flag).
pub(crate) fn encode_migrated(out: &mut Vec<u8>, event: &LogEvent) {
    encode(
        out,
        &Fields {
            flags: 0,
            event_time: event.event_time,
            read_only: event.read_only,
            texts: [
                event.account.as_deref(),
                event.event_id.as_deref(),
                event.event_name.as_deref(),
                event.event_source.as_deref(),
                event.username.as_deref(),
                event.access_key_id.as_deref(),
            ],
            resources: &event.resources,
            event: &event.event,
        },
    );
}

/// A number held by no event (see [`FILLER`]).
pub(crate) fn encode_filler(out: &mut Vec<u8>) {
    out.clear();
    out.push(FILLER);
}

struct Fields<'a> {
    flags: u8,
    event_time: Option<i64>,
    read_only: Option<bool>,
    texts: [Option<&'a str>; 6],
    resources: &'a [(String, String)],
    event: &'a [u8],
}

fn encode(out: &mut Vec<u8>, fields: &Fields<'_>) {
    out.clear();
    let present = if fields.event_time.is_some() {
        HAS_TIME
    } else {
        0
    } | if fields.read_only.is_some() {
        HAS_READ_ONLY
    } else {
        0
    };
    out.push(fields.flags);
    out.push(present);
    out.extend_from_slice(&fields.event_time.unwrap_or(0).to_le_bytes());
    out.push(u8::from(fields.read_only.unwrap_or(false)));
    for text in fields.texts {
        put_text(out, text);
    }
    put_len(out, fields.resources.len());
    for (kind, name) in fields.resources {
        put_text(out, Some(kind));
        put_text(out, Some(name));
    }
    out.extend_from_slice(fields.event);
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Records are bounded far below 4 GiB (the log's maximum record size), so every length
    // fits; saturating keeps a decoder's view consistent (it then finds the record too short).
    out.extend_from_slice(&u32::try_from(len).unwrap_or(NONE - 1).to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => {
            put_len(out, text.len());
            out.extend_from_slice(text.as_bytes());
        }
        None => out.extend_from_slice(&NONE.to_le_bytes()),
    }
}

/// Whether a payload carries the *depends* flag, without decoding the rest.
pub(crate) fn depends(payload: &[u8]) -> bool {
    payload.first().is_some_and(|flags| flags & DEPENDS != 0)
}

/// Decodes a payload; `None` when it is not one this module wrote.
pub(crate) fn decode(payload: &[u8]) -> Option<LogEvent> {
    let (&flags, rest) = payload.split_first()?;
    if flags & FILLER != 0 {
        return Some(LogEvent {
            filler: true,
            ..LogEvent::default()
        });
    }
    let mut input = Input(rest);
    let present = input.byte()?;
    let event_time = i64::from_le_bytes(input.take(8)?.try_into().ok()?);
    let read_only = input.byte()? != 0;
    // Fields are evaluated in the order written, which is the order encoded.
    Some(LogEvent {
        depends: flags & DEPENDS != 0,
        filler: false,
        event_time: (present & HAS_TIME != 0).then_some(event_time),
        read_only: (present & HAS_READ_ONLY != 0).then_some(read_only),
        account: input.text()?,
        event_id: input.text()?,
        event_name: input.text()?,
        event_source: input.text()?,
        username: input.text()?,
        access_key_id: input.text()?,
        resources: input.resources()?,
        event: input.0.to_vec(),
    })
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn raw_len(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.raw_len()?).ok()
    }

    fn resources(&mut self) -> Option<Vec<(String, String)>> {
        let count = self.len()?;
        let mut resources = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            resources.push((self.text()??, self.text()??));
        }
        Some(resources)
    }

    /// `Some(None)` for an absent text, `None` for a malformed one.
    fn text(&mut self) -> Option<Option<String>> {
        let len = self.raw_len()?;
        if len == NONE {
            return Some(None);
        }
        let bytes = self.take(usize::try_from(len).ok()?)?;
        Some(Some(String::from_utf8(bytes.to_vec()).ok()?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn an_append_reads_back_whole() {
        let resources = [("AWS::IAM::User".to_owned(), "bob".to_owned())];
        let entry = JournalAppend {
            event: b"{\"eventName\":\"CreateUser\"}",
            event_time: 1_700_000_000,
            account: Some("123456789012"),
            event_id: "id-1",
            event_name: "CreateUser",
            event_source: "iam.amazonaws.com",
            username: None,
            access_key_id: Some("AKIAEXAMPLE"),
            read_only: false,
            resources: &resources,
        };
        let mut out = Vec::new();
        encode_append(&mut out, &entry, true);
        assert!(depends(&out));
        let event = decode(&out).unwrap();
        assert!(event.depends && !event.filler);
        assert_eq!(event.event_time, Some(1_700_000_000));
        assert_eq!(event.read_only, Some(false));
        assert_eq!(event.account.as_deref(), Some("123456789012"));
        assert_eq!(event.username, None);
        assert_eq!(event.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(event.resources, resources);
        assert_eq!(event.event, entry.event);
        encode_append(&mut out, &entry, false);
        assert!(!depends(&out));
        let mut again = Vec::new();
        encode_migrated(&mut again, &decode(&out).unwrap());
        assert_eq!(again, out, "a migrated event encodes as it was appended");
    }

    #[test]
    fn fillers_and_garbage_are_told_apart() {
        let mut out = Vec::new();
        encode_filler(&mut out);
        assert!(decode(&out).unwrap().filler);
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[0, 1, 2]), None, "a truncated record");
    }
}
