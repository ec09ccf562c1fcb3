//! AWS Signature Version 4 verification (Authorization header and presigned query).
//!
//! Pure: no I/O, no async, no clock of its own. The server calls [`parse`]
//! on the request head, looks up the secret of
//! [`SignedRequest::access_key_id`] itself (answering
//! [`SigV4Error::InvalidClientTokenId`] when it is unknown, and
//! [`SigV4Error::wrong_region`] / [`SigV4Error::wrong_service`] for a scope
//! it does not serve), then calls [`SignedRequest::verify`] with the body,
//! the secret, the current time and a shared [`SigningKeyCache`].
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use rampart_sigv4::{parse, ErrorFlavor, SigV4Error, SigningKeyCache};
//!
//! let (parts, ()) = http::Request::get("http://sts.localhost/").body(()).unwrap().into_parts();
//! let err = parse(&parts).unwrap_err();
//! assert_eq!(err, SigV4Error::MissingAuthenticationToken);
//! assert_eq!(err.code(ErrorFlavor::Json), "MissingAuthenticationTokenException");
//! assert_eq!(err.http_status(ErrorFlavor::Query), 403);
//! ```
#![deny(missing_docs)]

mod cache;
mod canonical;
pub mod constants;
mod error;
mod parse;
mod time;
mod verify;

pub use cache::SigningKeyCache;
pub use error::{ErrorFlavor, SigV4Error};
pub use parse::{AuthKind, SignedRequest, parse};
pub use verify::VerifiedRequest;
