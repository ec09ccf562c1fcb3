//! AWS's coercions of condition values: numbers, dates, booleans, IP ranges.

use std::net::IpAddr;

/// Parses an integer or decimal (`-12`, `3.5`); no exponents, no `inf`/`NaN`.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !(int_ok && frac_ok) {
        return None;
    }
    text.parse().ok()
}

/// Parses `true`/`false`, case-insensitively.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses a date as AWS accepts in `Date*` conditions: epoch seconds
/// (`1563278400`), an ISO 8601 date (`2019-07-16`), or date and time with an
/// optional fraction and zone (`2019-07-16T12:00:00Z`, `…T12:00+02:00`).
/// Returns milliseconds since the Unix epoch (UTC; no zone means UTC).
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut ymd = date.splitn(3, '-');
    let year: i64 = fixed_digits(ymd.next()?, 4)?;
    let month: i64 = fixed_digits(ymd.next()?, 2)?;
    let day: i64 = fixed_digits(ymd.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if let Some(time) = time {
        let (clock, offset_minutes) = split_zone(time)?;
        let mut hms = clock.splitn(3, ':');
        let hour: i64 = fixed_digits(hms.next()?, 2)?;
        let minute: i64 = fixed_digits(hms.next()?, 2)?;
        let (second, fraction_ms) = match hms.next() {
            None => (0, 0),
            Some(sec) => {
                let (whole, frac) = match sec.split_once('.') {
                    Some((w, f)) => (w, Some(f)),
                    None => (sec, None),
                };
                let second: i64 = fixed_digits(whole, 2)?;
                let fraction_ms = match frac {
                    None => 0,
                    Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                        let padded: String = f.chars().chain("000".chars()).take(3).collect();
                        padded.parse::<i64>().ok()?
                    }
                    Some(_) => return None,
                };
                (second, fraction_ms)
            }
        };
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        millis += ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + fraction_ms;
    }
    Some(millis)
}

/// Splits `12:00:00Z` / `12:00:00+02:00` / `12:00:00` into clock and offset minutes.
fn split_zone(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(at) => {
            let clock = time.get(..at)?;
            let sign = if time.get(at..at + 1)? == "-" { -1 } else { 1 };
            let zone = time.get(at + 1..)?;
            let (h, m) = match zone.split_once(':') {
                Some((h, m)) => (h, m),
                None => (
                    zone.get(..2)?,
                    zone.get(2..).filter(|m| !m.is_empty()).unwrap_or("00"),
                ),
            };
            let hours: i64 = fixed_digits(h, 2)?;
            let minutes: i64 = fixed_digits(m, 2)?;
            Some((clock, sign * (hours * 60 + minutes)))
        }
        None => Some((time, 0)),
    }
}

fn fixed_digits(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An IPv4 or IPv6 network; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    /// IPv4 network address (masked) and prefix length.
    V4(u32, u8),
    /// IPv6 network address (masked) and prefix length.
    V6(u128, u8),
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let prefix: Option<u8> = match prefix {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse().ok()?)
            }
            Some(_) => return None,
            None => None,
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => {
                let len = prefix.unwrap_or(32);
                (len <= 32).then(|| Self::V4(u32::from(v4) & mask32(len), len))
            }
            IpAddr::V6(v6) => {
                let len = prefix.unwrap_or(128);
                (len <= 128).then(|| Self::V6(u128::from(v6) & mask128(len), len))
            }
        }
    }

    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Self::V4(net, len), IpAddr::V4(a)) => u32::from(a) & mask32(*len) == *net,
            (Self::V6(net, len), IpAddr::V6(a)) => u128::from(a) & mask128(*len) == *net,
            (Self::V4(net, len), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| u32::from(v4) & mask32(*len) == *net),
            (Self::V6(..), IpAddr::V4(_)) => false,
        }
    }
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_number("1."), None);
    }

    #[test]
    fn dates() {
        let epoch = parse_date("2019-07-16T12:00:00Z").unwrap();
        assert_eq!(epoch, 1_563_278_400_000);
        assert_eq!(parse_date("1563278400"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T14:00:00+02:00"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T12:00Z"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T12:00:00.500Z"), Some(epoch + 500));
        assert_eq!(parse_date("2019-07-16"), Some(epoch - 12 * 3_600_000));
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2019-07-16T25:00:00Z"), None);
    }

    #[test]
    fn cidrs() {
        let net = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(net.contains("203.0.113.9".parse().unwrap()));
        assert!(!net.contains("203.0.114.1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        let v6 = Cidr::parse("2001:DB8:1234:5678::/64").unwrap();
        assert!(v6.contains("2001:db8:1234:5678::1".parse().unwrap()));
        assert!(!v6.contains("2001:db8:1234:5679::1".parse().unwrap()));
        assert!(
            Cidr::parse("10.0.0.1")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("10.0.0/8"), None);
        assert_eq!(Cidr::parse("10.0.0.0/"), None);
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
