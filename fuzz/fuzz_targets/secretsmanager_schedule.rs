//! Fuzzes Secrets Manager's rotation schedule parser (`ScheduleExpression` and `Duration` of
//! RotateSecret's `RotationRules`): any text must be answered with a schedule or a typed error,
//! never a panic; a schedule that parses names a next rotation strictly after the time asked
//! (or none, past the last year a cron expression may name), and its window is one to
//! twenty-four hours.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_secretsmanager::schedule::RotationSchedule;
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, duration) = match text.split_once('\n') {
        Some((e, d)) => (e, Some(d)),
        None => (text, None),
    };
    let Ok(rules) = RotationSchedule::from_rules(None, Some(expression), duration) else {
        return;
    };
    let now = datetime!(2026-11-24 12:34:56 UTC);
    if let Some(next) = rules.next_rotation(now, None) {
        assert!(next > now);
        let window = rules.window_of(next);
        assert!(window > time::Duration::ZERO && window <= time::Duration::hours(24));
        let _ = rules.check_window(next);
    }
});
