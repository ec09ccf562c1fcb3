//! Fuzzes CloudWatch Logs' GetLogEvents and FilterLogEvents `nextToken` parsers (callers send
//! them back as they please): a token is refused with a typed error or reads back the same
//! after being written again, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(rampart_logs::pagination_token_round_trips(token));
    }
});
