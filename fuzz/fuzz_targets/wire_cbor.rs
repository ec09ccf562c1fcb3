//! Fuzz the Smithy RPC v2 CBOR decoder and the model validation behind it: arbitrary bytes as
//! the CBOR body of every operation of every model that serves the protocol (CloudWatch).
//! Decoding may fail; it must never panic, and whatever it accepts must redact and encode
//! (as CBOR and as JSON) without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::{
    Protocol, ServiceModel, decode_cbor, encode_cbor_response, encode_json_response, redact_input,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some((&op_selector, body)) = rest.split_first() else { return };
    let cbor: Vec<&ServiceModel> = rampart_wire::all_services()
        .filter(|m| m.serves(Protocol::RpcV2Cbor))
        .collect();
    let Some(service) = cbor.get(usize::from(selector) % cbor.len().max(1)) else { return };
    let count = service.operations().count();
    let Some(op) = service.operations().nth(usize::from(op_selector) % count.max(1)) else { return };
    if let Ok(input) = decode_cbor(service, op, body) {
        let _ = redact_input(op, &input);
        let _ = encode_cbor_response(service, op, &input);
        let _ = encode_json_response(service, op, &input);
    }
});
