//! Fuzzes Parameter Store's `AllowedPattern` (a regular expression from the request) and its
//! matching: the bytes before the first NUL are the pattern, the rest the value. Compiling
//! must answer a pattern or a typed error, never a panic or a runaway program (sizes and
//! nesting are bounded), and matching is linear in the value whatever the pattern.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_ssm::pattern;

fuzz_target!(|data: &[u8]| {
    let (pattern, value) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(pattern), Ok(value)) = (std::str::from_utf8(pattern), std::str::from_utf8(value))
    else {
        return;
    };
    if let Ok(compiled) = pattern::compile(pattern) {
        let first = compiled.matches(value);
        assert_eq!(first, compiled.matches(value));
    }
});
