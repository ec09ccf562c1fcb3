//! Fuzzes SigV4 parsing and canonicalization with arbitrary header and
//! query text: `parse` must never panic, and neither must `verify` on
//! whatever `parse` accepts.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Input: Authorization value, x-amz-date value, path-and-query, body,
    // separated by 0xFF (which occurs in none of them as valid text).
    let mut fields = data.split(|&b| b == 0xff);
    let authorization = fields.next().unwrap_or_default();
    let date = fields.next().unwrap_or_default();
    let path_and_query = fields.next().unwrap_or_default();
    let body = fields.next().unwrap_or_default();

    let mut builder = http::Request::builder().method("POST").header("host", "sts.localhost");
    if let Ok(pq) = std::str::from_utf8(path_and_query)
        && let Ok(uri) = http::Uri::try_from(format!("http://sts.localhost/{pq}"))
    {
        builder = builder.uri(uri);
    }
    if !authorization.is_empty()
        && let Ok(v) = http::HeaderValue::from_bytes(authorization)
    {
        builder = builder.header("authorization", v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(date) {
        builder = builder.header("x-amz-date", v);
    }
    let Ok(request) = builder.body(()) else { return };
    let (parts, ()) = request.into_parts();
    let Ok(signed) = rampart_sigv4::parse(&parts) else { return };
    let cache = rampart_sigv4::SigningKeyCache::new(16);
    let now = UNIX_EPOCH + Duration::from_secs(1_795_516_200);
    let _ = signed.verify(&parts, body, b"secret", now, &cache);
});
