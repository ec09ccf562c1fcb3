//! AWS wire protocols (awsQuery, awsJson, Smithy RPC v2 CBOR) driven by AWS's published API
//! models.
//!
//! The models are botocore's `service-2.json` files for the services Rampart serves, vendored
//! in `models/` (see its README) and embedded in the binary. Nothing is generated from them:
//! this crate interprets them at run time.
//!
//! Between the wire and the handlers sits a [`Value`] tree whose object keys are the model's
//! member names (`{"UserName": "bob", "Tags": [{"Key": "k", "Value": "v"}]}`), which handlers
//! convert to and from their typed structs with serde. Inside it:
//! - timestamps are RFC 3339 strings in UTC ending in `Z` (`"2026-11-24T15:23:48Z"`);
//! - blobs are standard base64 strings;
//! - numbers are JSON numbers, booleans JSON booleans, maps JSON objects, lists arrays.
//!
//! Requests: [`decode_query`], [`decode_json`] and [`decode_cbor`] read the wire format into
//! that tree and validate it against the model, answering AWS's own validation errors.
//! Responses: [`encode_query_response`], [`encode_json_response`], [`encode_cbor_response`]
//! and the error encoders. A model may list several protocols (CloudWatch: RPC v2 CBOR,
//! awsJson1.0 and Query, `awsQueryCompatible`): [`ServiceModel::serves`] says which. For the audit
//! trail, [`record_input`] and [`record_output`] hide `sensitive` members and name members as
//! CloudTrail writes them ([`EventStyle`]); [`redact_input`] and [`redact_output`] only hide.
//!
//! An output member the model does not name cannot be sent: the encoders leave it out and
//! log a warning, and [`check_output`] reports it as an error, for tests and debug builds to
//! fail on. [`ModelShape`] walks a model's shapes, for tests that hold Rust types against it.
//!
//! No input makes this crate panic, and nesting is bounded ([`MAX_DEPTH`]).

#![deny(missing_docs)]

mod cbor;
mod error;
mod json;
mod model;
mod model_shape;
mod output_check;
mod pattern;
mod query_decode;
mod raw;
mod redact;
mod sample;
mod shape;
mod timestamp;
mod validate;
mod xml_encode;

#[cfg(test)]
mod coverage_tests;

pub use serde_json::Value;

pub use cbor::{
    CBOR_CONTENT_TYPE, RPC_V2_CBOR, SMITHY_PROTOCOL_HEADER, decode_cbor, encode_cbor_error,
    encode_cbor_response,
};
pub use error::{AwsError, ModelError, OutputMismatchError, SERIALIZATION_EXCEPTION};
pub use json::{decode_json, encode_json_error, encode_json_error_as, encode_json_response};
pub use model::{JsonVersion, ModeledError, OperationModel, Protocol, ServiceModel, all_services};
pub use model_shape::{ModelShape, ShapeType};
pub use output_check::check_output;
pub use query_decode::decode_query;
pub use redact::{
    EventStyle, MemberNaming, REDACTED, TimestampStyle, record_input, record_output, redact_input,
    redact_output,
};
pub use sample::sample_input;
pub use xml_encode::{encode_query_error, encode_query_response};

/// The deepest nesting of structures, lists and maps read from or written to the wire.
/// Models are finite but recursive (WAFv2 statements nest), and input is untrusted.
pub const MAX_DEPTH: usize = 64;

/// `UserName` → `userName`: how AWS names members in validation messages.
pub(crate) fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
