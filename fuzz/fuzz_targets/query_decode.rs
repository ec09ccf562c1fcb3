//! Fuzz the awsQuery form decoder: arbitrary bytes as a form body, against every operation
//! of the Query services (IAM, STS). Decoding may fail; it must never panic, and whatever
//! it accepts must redact and encode without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::{ServiceModel, decode_query, encode_query_response, redact_input};

/// Split a form body into pairs the way the server does before calling the decoder
/// (`+` and percent escapes decoded; invalid UTF-8 replaced).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut kv = part.splitn(2, |&b| b == b'=');
            let key = kv.next().unwrap_or_default();
            let value = kv.next().unwrap_or_default();
            (unescape(key), unescape(value))
        })
        .collect()
}

fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(decoded) => {
                        out.push(decoded);
                        rest = tail.get(2..).unwrap_or_default();
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let prefix = if selector & 1 == 0 { "iam" } else { "sts" };
    let Some(service) = ServiceModel::by_endpoint_prefix(prefix) else { return };
    let count = service.operations().count();
    let Some(op) = service.operations().nth(usize::from(selector >> 1) % count.max(1)) else { return };
    let params = form_pairs(body);
    if let Ok(input) = decode_query(service, op, &params) {
        let _ = redact_input(op, &input);
        let _ = encode_query_response(service, op, &input, "fuzz");
    }
});
