//! Fuzz the awsJson decoder and the model validation behind it: arbitrary bytes as the JSON
//! body of every operation of the JSON services Rampart serves or models (KMS, CloudTrail,
//! Organizations, SSM, Secrets Manager, …). Decoding may fail; it must never panic, and
//! whatever it accepts must redact and encode without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::{
    JsonVersion, Protocol, ServiceModel, decode_json, encode_json_response, redact_input,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some((&op_selector, body)) = rest.split_first() else { return };
    let json: Vec<&ServiceModel> = rampart_wire::all_services()
        .filter(|m| m.serves(Protocol::Json(JsonVersion::V1_1)))
        .collect();
    let Some(service) = json.get(usize::from(selector) % json.len().max(1)) else { return };
    let count = service.operations().count();
    let Some(op) = service.operations().nth(usize::from(op_selector) % count.max(1)) else { return };
    if let Ok(input) = decode_json(service, op, body) {
        let _ = redact_input(op, &input);
        let _ = encode_json_response(service, op, &input);
    }
});
