//! Fuzzes SNS's subscription filter policies: the bytes before the first NUL are the policy
//! (untrusted JSON from SetSubscriptionAttributes), the rest an attribute value matched as a
//! String, a Number and a String.Array. Parsing answers a policy or a typed error (size, keys
//! and combinations bounded), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (policy, value) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(policy), Ok(value)) = (std::str::from_utf8(policy), std::str::from_utf8(value)) else {
        return;
    };
    rampart_sns::filter_policy::fuzz_filter_policy(policy, value);
});
