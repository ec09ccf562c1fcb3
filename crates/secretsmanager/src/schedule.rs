//! Rotation schedules as Secrets Manager reads them (`RotationRules`): `AutomaticallyAfterDays`,
//! or a `ScheduleExpression` — `rate(N hours)` (at least 4) or `rate(N days)` (1 to 1000), whose
//! windows start at midnight UTC, or `cron(Minutes Hours Day-of-month Month Day-of-week Year)`
//! in UTC — and a `Duration` window (`3h`) that must end within its UTC day.
//!
//! Hand-written: AWS's cron is its own dialect (minutes first, a year field, day-of-week 1 =
//! Sunday, `?`, `L`, `W`, `#`); the cron crates speak Unix's five fields or Quartz's
//! seconds-first fields over chrono, and translating between them would be as long as this
//! parser and still need every AWS rule checked here. Parsing untrusted text is bounded: an
//! expression is at most 256 characters, each field's values come from small fixed ranges.

use time::{Date, Duration, Month, OffsetDateTime, Time, Weekday};

/// The longest expression read.
const MAX_EXPRESSION: usize = 256;
/// Years a cron expression may name.
const YEARS: (u32, u32) = (1970, 2199);

/// Why a schedule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

fn bad(what: impl Into<String>) -> ScheduleError {
    ScheduleError(what.into())
}

/// One field's allowed values, as a bit set (bit `v` set when `v` is allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Values(u128);

impl Values {
    fn has(self, v: u32) -> bool {
        v < 128 && self.0 & (1u128 << v) != 0
    }
}

/// The day-of-month field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MonthDays {
    Any,
    Days(Values),
    /// `L` or `L-n`: n days before the last.
    Last(u32),
    /// `nW`: the weekday nearest day n.
    NearestWeekday(u32),
    /// `LW`: the last weekday.
    LastWeekday,
}

/// The day-of-week field (1 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq)]
enum WeekDays {
    Any,
    Days(Values),
    /// `nL`: the last day n of the month.
    Last(u32),
    /// `n#k`: the k-th day n of the month.
    Nth(u32, u32),
}

/// A parsed `cron()` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Values,
    hours: Values,
    month_days: MonthDays,
    months: Values,
    week_days: WeekDays,
    /// Years as offsets from 1970 (bit sets hold 128 values; 1970–2199 needs 230, so two).
    years: (Values, Values),
    /// Whether the hours field names more than one hour (a schedule in hours).
    hourly: bool,
}

/// A rotation schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every so many hours, windows from midnight.
    Hours(u32),
    /// Every so many days, windows at midnight.
    Days(u32),
    /// A `cron()` expression.
    Cron(Box<Cron>),
}

/// A schedule and the length of its rotation window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSchedule {
    /// When windows open.
    pub schedule: Schedule,
    /// How long each stays open.
    pub window: Duration,
}

fn number(text: &str, what: &str) -> Result<u32, ScheduleError> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("{what}: `{text}` is not a number")));
    }
    text.parse().map_err(|_| bad(format!("{what}: `{text}`")))
}

/// `rate(N unit)`.
fn rate(inner: &str) -> Result<Schedule, ScheduleError> {
    let mut parts = inner.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("a rate expression is rate(value unit)"));
    };
    let n = number(n, "rate")?;
    match unit {
        "hour" | "hours" if (4..=23).contains(&n) => Ok(Schedule::Hours(n)),
        "hour" | "hours" => Err(bad(
            "a rate in hours must be between 4 and 23 hours; use days for longer",
        )),
        "day" | "days" if (1..=1000).contains(&n) => Ok(Schedule::Days(n)),
        "day" | "days" => Err(bad("a rate in days must be between 1 and 1000 days")),
        other => Err(bad(format!(
            "`{other}` is not a rate unit: use hours or days"
        ))),
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A value of a field, by number or (months, days of the week) by name.
fn value(text: &str, names: &[&str], offset: u32, what: &str) -> Result<u32, ScheduleError> {
    let upper = text.to_ascii_uppercase();
    if let Some(at) = names.iter().position(|n| *n == upper) {
        return Ok(u32::try_from(at).unwrap_or(0) + offset);
    }
    number(text, what)
}

/// A plain field: `*`, values, ranges, steps, lists, within `min..=max`.
fn field(
    text: &str,
    min: u32,
    max: u32,
    names: &[&str],
    what: &str,
) -> Result<Values, ScheduleError> {
    let mut set = 0u128;
    if text.is_empty() {
        return Err(bad(format!("{what}: empty")));
    }
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, number(step, what)?),
            None => (part, 0),
        };
        if step == 0 && part.contains('/') {
            return Err(bad(format!("{what}: a step of 0")));
        }
        let (from, to) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, min, what)?, value(b, names, min, what)?)
        } else {
            let v = value(range, names, min, what)?;
            (v, if step > 0 { max } else { v })
        };
        if from < min || to > max || from > to {
            return Err(bad(format!("{what}: `{part}` is outside {min}-{max}")));
        }
        let step = step.max(1);
        let mut v = from;
        while v <= to {
            set |= 1u128 << (v - min);
            v = v.saturating_add(step);
        }
    }
    // Bits are offsets from `min`; shift back to values.
    Ok(Values(set << min))
}

fn month_days(text: &str) -> Result<MonthDays, ScheduleError> {
    let what = "day-of-month";
    match text {
        "?" => Ok(MonthDays::Any),
        "L" => Ok(MonthDays::Last(0)),
        "LW" => Ok(MonthDays::LastWeekday),
        _ => {
            if let Some(n) = text.strip_prefix("L-") {
                let n = number(n, what)?;
                if n > 30 {
                    return Err(bad(format!("{what}: L-{n}")));
                }
                return Ok(MonthDays::Last(n));
            }
            if let Some(n) = text.strip_suffix('W') {
                let n = number(n, what)?;
                if !(1..=31).contains(&n) {
                    return Err(bad(format!("{what}: {n}W")));
                }
                return Ok(MonthDays::NearestWeekday(n));
            }
            field(text, 1, 31, &[], what).map(MonthDays::Days)
        }
    }
}

fn week_days(text: &str) -> Result<WeekDays, ScheduleError> {
    let what = "day-of-week";
    if text == "?" {
        return Ok(WeekDays::Any);
    }
    if text == "L" {
        return Ok(WeekDays::Days(Values(1 << 7)));
    }
    if let Some(day) = text.strip_suffix('L') {
        let day = value(day, &DAYS, 1, what)?;
        if !(1..=7).contains(&day) {
            return Err(bad(format!("{what}: {text}")));
        }
        return Ok(WeekDays::Last(day));
    }
    if let Some((day, nth)) = text.split_once('#') {
        let day = value(day, &DAYS, 1, what)?;
        let nth = number(nth, what)?;
        if !(1..=7).contains(&day) || !(1..=5).contains(&nth) {
            return Err(bad(format!("{what}: {text}")));
        }
        return Ok(WeekDays::Nth(day, nth));
    }
    field(text, 1, 7, &DAYS, what).map(WeekDays::Days)
}

fn years(text: &str) -> Result<(Values, Values), ScheduleError> {
    let what = "year";
    if text == "*" {
        return Ok((Values(u128::MAX), Values(u128::MAX)));
    }
    let mut low = 0u128;
    let mut high = 0u128;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, number(step, what)?.max(1)),
            None => (part, 1),
        };
        let (from, to) = if range == "*" {
            YEARS
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a, what)?, number(b, what)?)
        } else {
            let y = number(range, what)?;
            (y, if part.contains('/') { YEARS.1 } else { y })
        };
        if from < YEARS.0 || to > YEARS.1 || from > to {
            return Err(bad(format!("{what}: `{part}` is outside 1970-2199")));
        }
        let mut y = from;
        while y <= to {
            let offset = y - YEARS.0;
            if offset < 128 {
                low |= 1u128 << offset;
            } else {
                high |= 1u128 << (offset - 128);
            }
            y = y.saturating_add(step);
        }
    }
    Ok((Values(low), Values(high)))
}

/// `cron(…)`.
fn cron(inner: &str) -> Result<Schedule, ScheduleError> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = fields.as_slice() else {
        return Err(bad(
            "a cron expression has six fields: minutes hours day-of-month month day-of-week year",
        ));
    };
    let month_days = month_days(dom)?;
    let week_days = week_days(dow)?;
    match (&month_days, &week_days) {
        (MonthDays::Any, WeekDays::Any) => {
            return Err(bad("only one of day-of-month and day-of-week may be ?"));
        }
        (MonthDays::Any, _) | (_, WeekDays::Any) => {}
        _ => return Err(bad("one of day-of-month and day-of-week must be ?")),
    }
    let hourly = hours.contains(['*', ',', '-', '/']);
    Ok(Schedule::Cron(Box::new(Cron {
        minutes: field(minutes, 0, 59, &[], "minutes")?,
        hours: field(hours, 0, 23, &[], "hours")?,
        month_days,
        months: field(month, 1, 12, &MONTHS, "month")?,
        week_days,
        years: years(year)?,
        hourly,
    })))
}

/// Parses a `ScheduleExpression`.
pub fn parse(expression: &str) -> Result<Schedule, ScheduleError> {
    if expression.len() > MAX_EXPRESSION {
        return Err(bad("the schedule expression is too long"));
    }
    let expression = expression.trim();
    if let Some(inner) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return rate(inner);
    }
    if let Some(inner) = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return cron(inner);
    }
    Err(bad("a schedule expression is rate(…) or cron(…)"))
}

/// Parses a `Duration` (`1h` to `24h`).
pub fn parse_window(text: &str) -> Result<Duration, ScheduleError> {
    let hours = text
        .strip_suffix('h')
        .ok_or_else(|| bad("a rotation window is a number of hours, such as 3h"))
        .and_then(|n| number(n, "duration"))?;
    if !(1..=24).contains(&hours) {
        return Err(bad("a rotation window is between 1h and 24h"));
    }
    Ok(Duration::hours(i64::from(hours)))
}

impl Schedule {
    /// The default window: an hour for a schedule in hours, the rest of the day otherwise.
    fn default_window(&self, start: OffsetDateTime) -> Duration {
        let hourly = match self {
            Schedule::Hours(_) => true,
            Schedule::Days(_) => false,
            Schedule::Cron(c) => c.hourly,
        };
        if hourly {
            Duration::hours(1)
        } else {
            let midnight = start.replace_time(Time::MIDNIGHT) + Duration::days(1);
            midnight - start
        }
    }

    /// When the first window after `after` opens; for a rate in days, counted from `last`
    /// (the last rotation), else from `after`.
    pub fn next_window(
        &self,
        after: OffsetDateTime,
        last: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        match self {
            Schedule::Days(n) => {
                let from = last.unwrap_or(after);
                let start = from.replace_time(Time::MIDNIGHT) + Duration::days(i64::from(*n));
                // Overdue (the last rotation was long ago): due at once.
                Some(start.max(after))
            }
            Schedule::Hours(n) => {
                let midnight = after.replace_time(Time::MIDNIGHT);
                let mut start = midnight;
                while start <= after {
                    start += Duration::hours(i64::from(*n));
                    if start.date() != midnight.date() {
                        return Some(midnight + Duration::days(1));
                    }
                }
                Some(start)
            }
            Schedule::Cron(c) => c.next_after(after),
        }
    }
}

impl RotationSchedule {
    /// A schedule from `RotationRules`: `ScheduleExpression`, else `AutomaticallyAfterDays`.
    pub fn from_rules(
        after_days: Option<i64>,
        expression: Option<&str>,
        duration: Option<&str>,
    ) -> Result<Self, ScheduleError> {
        let schedule = match (after_days, expression) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
                ));
            }
            (Some(days), None) => {
                let days = u32::try_from(days)
                    .ok()
                    .filter(|d| (1..=1000).contains(d))
                    .ok_or_else(|| bad("AutomaticallyAfterDays must be between 1 and 1000."))?;
                Schedule::Days(days)
            }
            (None, Some(expression)) => parse(expression)?,
            (None, None) => return Err(bad("The rotation rules name no schedule.")),
        };
        let window = match duration {
            Some(text) => parse_window(text)?,
            None => Duration::ZERO,
        };
        Ok(Self { schedule, window })
    }

    /// When the next rotation falls due after `after` (`last`: the last rotation): the
    /// opening of the next window. Rampart rotates when a window opens, which is within it.
    pub fn next_rotation(
        &self,
        after: OffsetDateTime,
        last: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        let start = self.schedule.next_window(after, last)?;
        // A window must end within its day; checked when the rules are given.
        let _ = self.window_of(start);
        Some(start)
    }

    /// The window that opens at `start`.
    pub fn window_of(&self, start: OffsetDateTime) -> Duration {
        if self.window == Duration::ZERO {
            self.schedule.default_window(start)
        } else {
            self.window
        }
    }

    /// Checks that a window opening at `start` ends within its UTC day.
    pub fn check_window(&self, start: OffsetDateTime) -> Result<(), ScheduleError> {
        let end = start + self.window_of(start);
        let next_day = start.replace_time(Time::MIDNIGHT) + Duration::days(1);
        if end > next_day {
            return Err(bad(
                "The rotation window must not extend into the next UTC day.",
            ));
        }
        Ok(())
    }
}

fn last_day(year: i32, month: Month) -> u8 {
    month.length(year)
}

/// The weekday nearest day `n` of the month, not leaving the month.
fn nearest_weekday(year: i32, month: Month, n: u8) -> Option<u8> {
    let last = last_day(year, month);
    let n = n.min(last);
    let date = Date::from_calendar_date(year, month, n).ok()?;
    Some(match date.weekday() {
        Weekday::Saturday if n > 1 => n - 1,
        Weekday::Saturday => n + 2,
        Weekday::Sunday if n < last => n + 1,
        Weekday::Sunday => n - 2,
        _ => n,
    })
}

/// Day of the week as AWS numbers it: 1 = Sunday.
fn aws_weekday(date: Date) -> u32 {
    u32::from(date.weekday().number_days_from_sunday()) + 1
}

impl Cron {
    fn year_ok(&self, year: i32) -> bool {
        let Ok(year) = u32::try_from(year) else {
            return false;
        };
        if !(YEARS.0..=YEARS.1).contains(&year) {
            return false;
        }
        let offset = year - YEARS.0;
        if offset < 128 {
            self.years.0.has(offset)
        } else {
            self.years.1.has(offset - 128)
        }
    }

    fn day_ok(&self, date: Date) -> bool {
        let (year, month, day) = (date.year(), date.month(), date.day());
        if !self.year_ok(year) || !self.months.has(u32::from(u8::from(month))) {
            return false;
        }
        let last = last_day(year, month);
        let dom = match &self.month_days {
            MonthDays::Any => true,
            MonthDays::Days(set) => set.has(u32::from(day)),
            MonthDays::Last(n) => u32::from(last).checked_sub(*n) == Some(u32::from(day)),
            MonthDays::NearestWeekday(n) => {
                nearest_weekday(year, month, u8::try_from(*n).unwrap_or(31)) == Some(day)
            }
            MonthDays::LastWeekday => nearest_weekday(year, month, last) == Some(day),
        };
        let dow = match &self.week_days {
            WeekDays::Any => true,
            WeekDays::Days(set) => set.has(aws_weekday(date)),
            WeekDays::Last(d) => aws_weekday(date) == *d && day + 7 > last,
            WeekDays::Nth(d, k) => aws_weekday(date) == *d && u32::from(day - 1) / 7 + 1 == *k,
        };
        dom && dow
    }

    /// The first time strictly after `after` (to the minute) the expression names.
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.to_offset(time::UtcOffset::UTC);
        let mut date = after.date();
        let last_date =
            Date::from_calendar_date(i32::try_from(YEARS.1).ok()?, Month::December, 31).ok()?;
        while date <= last_date {
            if self.day_ok(date) {
                for hour in 0u8..24 {
                    if !self.hours.has(u32::from(hour)) {
                        continue;
                    }
                    for minute in 0u8..60 {
                        if !self.minutes.has(u32::from(minute)) {
                            continue;
                        }
                        let time = Time::from_hms(hour, minute, 0).ok()?;
                        let at = date.with_time(time).assume_utc();
                        if at > after {
                            return Some(at);
                        }
                    }
                }
            }
            date = date.next_day()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use time::macros::datetime;

    fn next(expression: &str, after: OffsetDateTime) -> OffsetDateTime {
        parse(expression).unwrap().next_window(after, None).unwrap()
    }

    #[test]
    fn rates_open_windows_from_midnight() {
        let now = datetime!(2026-11-24 13:30 UTC);
        assert_eq!(next("rate(4 hours)", now), datetime!(2026-11-24 16:00 UTC));
        assert_eq!(next("rate(10 days)", now), datetime!(2026-12-04 00:00 UTC));
        let last = datetime!(2026-11-20 01:00 UTC);
        assert_eq!(
            parse("rate(7 days)").unwrap().next_window(now, Some(last)),
            Some(datetime!(2026-11-27 00:00 UTC))
        );
        assert!(parse("rate(2 hours)").is_err());
        assert!(parse("rate(1001 days)").is_err());
        assert!(parse("rate(1 week)").is_err());
    }

    #[test]
    fn cron_reads_aws_fields() {
        let now = datetime!(2026-11-24 13:30 UTC); // a Tuesday
        assert_eq!(
            next("cron(0 16 1,15 * ? *)", now),
            datetime!(2026-12-01 16:00 UTC)
        );
        assert_eq!(
            next("cron(0 10 ? * MON-FRI *)", now),
            datetime!(2026-11-25 10:00 UTC)
        );
        assert_eq!(
            next("cron(0 8 ? * 6#3 *)", now),
            datetime!(2026-12-18 08:00 UTC)
        );
        assert_eq!(
            next("cron(0 8 ? * 6L *)", now),
            datetime!(2026-11-27 08:00 UTC)
        );
        assert_eq!(
            next("cron(0 0 L * ? *)", now),
            datetime!(2026-11-30 00:00 UTC)
        );
        // 2026-11-28 is a Saturday: the nearest weekday is Friday the 27th.
        assert_eq!(
            next("cron(0 0 28W * ? *)", now),
            datetime!(2026-11-27 00:00 UTC)
        );
        assert_eq!(
            next("cron(0 0 1 JAN ? 2028)", now),
            datetime!(2028-01-01 00:00 UTC)
        );
        assert_eq!(
            next("cron(0 */4 * * ? *)", now),
            datetime!(2026-11-24 16:00 UTC)
        );
        assert_eq!(
            parse("cron(0 0 1 1 ? 1999)")
                .unwrap()
                .next_window(now, None),
            None
        );
        for bad in [
            "cron(0 0 * * * *)",
            "cron(0 0 ? * ? *)",
            "cron(60 0 * * ? *)",
            "cron(0 0 * * ?)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 ? * 8 *)",
            "cron(0 0 1 1 ? 2200)",
            "cron(0/0 0 1 1 ? *)",
            "every day",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_default_and_must_end_within_the_day() {
        let rules = RotationSchedule::from_rules(None, Some("rate(4 hours)"), None).unwrap();
        let start = datetime!(2026-11-24 16:00 UTC);
        assert_eq!(rules.window_of(start), Duration::hours(1));
        let daily = RotationSchedule::from_rules(Some(30), None, None).unwrap();
        assert_eq!(
            daily.window_of(datetime!(2026-11-24 00:00 UTC)),
            Duration::hours(24)
        );
        let late =
            RotationSchedule::from_rules(None, Some("cron(0 22 * * ? *)"), Some("3h")).unwrap();
        assert!(late.check_window(datetime!(2026-11-24 22:00 UTC)).is_err());
        assert!(RotationSchedule::from_rules(Some(1), Some("rate(1 days)"), None).is_err());
        assert!(parse_window("25h").is_err());
        assert!(parse_window("3").is_err());
    }
}
