//! Timestamps: the canonical form is an RFC 3339 string in UTC ending in `Z`.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parse the forms clients send (RFC 3339 / ISO 8601 with or without offset or fraction, a
/// bare date, or epoch seconds as a string) into the canonical form.
pub(crate) fn parse_text(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(canonical(t));
    }
    // ISO 8601 without an offset is taken as UTC, as AWS does.
    let with_zone = format!("{text}Z");
    if let Ok(t) = OffsetDateTime::parse(&with_zone, &Rfc3339) {
        return Some(canonical(t));
    }
    if text.len() == 10
        && let Ok(t) = OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339)
    {
        return Some(canonical(t));
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc2822) {
        return Some(canonical(t));
    }
    text.parse::<f64>().ok().and_then(from_epoch)
}

/// Epoch seconds (possibly fractional, as awsJson sends them) into the canonical form.
pub(crate) fn from_epoch(seconds: f64) -> Option<String> {
    if !seconds.is_finite() {
        return None;
    }
    // Whole milliseconds: clients send at most millisecond precision, and f64 cannot carry
    // nanoseconds of present-day dates exactly.
    let millis = (seconds * 1000.0).round();
    if millis.abs() > 253_402_300_799_000.0 {
        return None; // beyond year 9999
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked just above")]
    let nanos = i128::from(millis as i64) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .map(canonical)
}

/// `2026-11-24T15:23:48Z`, with a fraction only when there is one.
pub(crate) fn canonical(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let (date, time) = (t.date(), t.time());
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let nanos = time.nanosecond();
    if nanos == 0 {
        format!("{base}Z")
    } else if nanos % 1_000_000 == 0 {
        format!("{base}.{:03}Z", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{base}.{:06}Z", nanos / 1_000)
    } else {
        format!("{base}.{nanos:09}Z")
    }
}

fn parse_canonical(canonical: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(canonical, &Rfc3339).ok().or_else(|| {
        PrimitiveDateTime::parse(canonical, &Rfc3339)
            .ok()
            .map(PrimitiveDateTime::assume_utc)
    })
}

/// Epoch seconds for awsJson output: an integer when whole, else with milliseconds.
pub(crate) fn to_epoch(canonical: &str) -> Option<serde_json::Value> {
    let t = parse_canonical(canonical)?;
    let seconds = t.unix_timestamp();
    let millis = t.millisecond();
    if millis == 0 {
        Some(serde_json::Value::from(seconds))
    } else {
        #[expect(
            clippy::cast_precision_loss,
            reason = "present-day epoch seconds fit in 2^53"
        )]
        let value = seconds as f64 + f64::from(millis) / 1000.0;
        serde_json::Number::from_f64(value).map(serde_json::Value::Number)
    }
}

/// `Tue, 24 Nov 2026 15:23:48 GMT`, for shapes with `timestampFormat: rfc822`.
pub(crate) fn to_rfc822(canonical: &str) -> Option<String> {
    let t = parse_canonical(canonical)?;
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_forms() {
        assert_eq!(
            parse_text("2026-11-24T15:23:48Z").unwrap(),
            "2026-11-24T15:23:48Z"
        );
        assert_eq!(
            parse_text("2026-11-24T15:23:48.120Z").unwrap(),
            "2026-11-24T15:23:48.120Z"
        );
        assert_eq!(
            parse_text("2026-11-24T17:23:48+02:00").unwrap(),
            "2026-11-24T15:23:48Z"
        );
        assert_eq!(
            parse_text("2026-11-24T15:23:48").unwrap(),
            "2026-11-24T15:23:48Z"
        );
        assert_eq!(parse_text("2026-11-24").unwrap(), "2026-11-24T00:00:00Z");
        assert_eq!(parse_text("1795533828").unwrap(), "2026-11-24T15:23:48Z");
        assert!(parse_text("yesterday").is_none());
        assert!(parse_text("2026-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn epoch_round_trip() {
        assert_eq!(from_epoch(1_795_533_828.0).unwrap(), "2026-11-24T15:23:48Z");
        assert_eq!(
            from_epoch(1_795_533_828.5).unwrap(),
            "2026-11-24T15:23:48.500Z"
        );
        assert!(from_epoch(f64::NAN).is_none());
        assert!(from_epoch(1e300).is_none());
        assert_eq!(
            to_epoch("2026-11-24T15:23:48Z").unwrap(),
            serde_json::json!(1_795_533_828)
        );
        assert_eq!(
            to_epoch("2026-11-24T15:23:48.500Z").unwrap(),
            serde_json::json!(1_795_533_828.5)
        );
        assert_eq!(
            to_rfc822("2026-11-24T15:23:48Z").unwrap(),
            "Tue, 24 Nov 2026 15:23:48 GMT"
        );
    }
}
