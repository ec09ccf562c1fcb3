//! Fuzzes CloudWatch Logs' filter-pattern parser and matcher: the bytes before the first NUL
//! are the pattern, the rest a log message. Parsing answers a pattern or a typed error, never a
//! panic (length and nesting are bounded), and matching is deterministic and the same whether
//! the message is parsed by the pattern or once for many patterns (metric filters).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_logs::pattern::FilterPattern;

fuzz_target!(|data: &[u8]| {
    let (pattern, message) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(pattern), Ok(message)) = (std::str::from_utf8(pattern), std::str::from_utf8(message))
    else {
        return;
    };
    if let Ok(parsed) = FilterPattern::parse(pattern) {
        let first = parsed.matches(message);
        assert_eq!(first, parsed.matches(message));
        let json: Option<serde_json::Value> = serde_json::from_str(message).ok();
        assert_eq!(first, parsed.matches_parsed(message, json.as_ref()));
        if let Some(found) = first {
            let _ = found.value("$.a");
            let _ = found.value("$a");
        }
    }
});
