//! Fuzzes what SNS parses of a Publish beyond the wire: a `MessageStructure` `json` body and a
//! topic's or subscription's `DeliveryPolicy` (its retry delays computed for every retry).
//! Each answers a value or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    rampart_sns::publish::fuzz_message_structure(text);
    rampart_sns::delivery_policy::fuzz_delivery_policy(text);
});
