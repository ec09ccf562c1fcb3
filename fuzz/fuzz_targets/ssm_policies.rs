//! Fuzzes Parameter Store's parameter-policy parser (the `Policies` text of PutParameter):
//! any text must be answered with policies or a typed error, never a panic; policies that
//! parse are at most ten, fall due at times that do not overflow, and parse again from their
//! kept texts (as the scheduler reads them back) to the same policies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_ssm::policies::{self, MAX_POLICIES};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = datetime!(2026-11-24 12:00:00 UTC);
    let Ok(parsed) = policies::parse(text, now) else {
        return;
    };
    assert!(parsed.len() <= MAX_POLICIES);
    let _ = policies::due_times(&parsed, now);
    let texts: Vec<&str> = parsed.iter().map(|p| p.text.as_str()).collect();
    let again = policies::parse(&format!("[{}]", texts.join(",")), time::OffsetDateTime::UNIX_EPOCH)
        .expect("kept policies parse again");
    assert_eq!(again, parsed);
});
