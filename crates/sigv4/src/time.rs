//! The two date formats SigV4 meets, without a date crate: ISO 8601 basic
//! (`20261124T103000Z`, what is signed) and IMF-fixdate (`Tue, 24 Nov 2026
//! 10:30:00 GMT`, the HTTP `Date` header). All times are UTC unix seconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds of a `SystemTime`; times before 1970 are negative.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// `SystemTime` of unix seconds (used for values parsed from requests, which are ≥ 1970).
pub(crate) fn system_time(secs: i64) -> SystemTime {
    let magnitude = std::time::Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian), after
// Howard Hinnant's public-domain `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn unix_from_parts(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && d >= 1
        && d <= days_in_month(y, mo)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..60).contains(&s);
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// Parses `YYYYMMDDTHHMMSSZ` strictly.
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    unix_from_parts(
        digits(b.get(0..4)?)?,
        digits(b.get(4..6)?)?,
        digits(b.get(6..8)?)?,
        digits(b.get(9..11)?)?,
        digits(b.get(11..13)?)?,
        digits(b.get(13..15)?)?,
    )
}

/// Parses an IMF-fixdate (`Tue, 24 Nov 2026 10:30:00 GMT`), the HTTP date format.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = s.split_once(", ")?;
    let mut it = rest.split(' ');
    let day = digits(it.next()?.as_bytes())?;
    let month_name = it.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year = digits(it.next()?.as_bytes())?;
    let mut hms = it.next()?.split(':');
    let h = digits(hms.next()?.as_bytes())?;
    let mi = digits(hms.next()?.as_bytes())?;
    let sec = digits(hms.next()?.as_bytes())?;
    if hms.next().is_some() || it.next()? != "GMT" || it.next().is_some() {
        return None;
    }
    unix_from_parts(year, i64::try_from(month).ok()? + 1, day, h, mi, sec)
}

/// Formats unix seconds as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let t = parse_amz_date("20261124T103000Z").unwrap();
        assert_eq!(t, 1_795_516_200);
        assert_eq!(format_amz_date(t), "20261124T103000Z");
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(
            parse_amz_date("20240229T235959Z")
                .map(format_amz_date)
                .as_deref(),
            Some("20240229T235959Z")
        );
    }

    #[test]
    fn rejects_malformed_amz_dates() {
        for bad in [
            "",
            "20261124T103000",
            "20261124 103000Z",
            "20261324T103000Z",
            "20230229T000000Z",
            "2026112AT103000Z",
            "20261124T246000Z",
            "+0261124T103000Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            parse_http_date("Tue, 24 Nov 2026 10:30:00 GMT"),
            parse_amz_date("20261124T103000Z")
        );
        assert_eq!(parse_http_date("Tue, 24 Nov 2026 10:30:00 UTC"), None);
        assert_eq!(parse_http_date("24 Nov 2026 10:30:00 GMT"), None);
    }
}
