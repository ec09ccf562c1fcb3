//! Authenticate: the SigV4 signature against the access key's secret, then the principal; or,
//! for the few operations AWS serves unsigned (`AssumeRoleWithWebIdentity`,
//! `AssumeRoleWithSAML`), the identity provider's token or assertion in the input, verified by
//! the operation's own authenticator.
//!
//! An access key's record, principal and unsealed secret are cached between requests (one
//! store read and one AES-GCM open per key and write generation, not per request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use http::request::Parts;
use rampart_crypto::{RootKey, SecretBytes};
use rampart_iam::access_keys::{self, AccessKeyStatus};
use rampart_iam::records::{self, UserRecord};
use rampart_service::{Caller, Federation, InputAuthenticator, PrincipalKind, Value};
use rampart_sigv4::{ErrorFlavor, SigV4Error, SignedRequest};
use rampart_store::{StoreError, get_json};
use rampart_sts::{Session, SessionError};
use rampart_wire::{AwsError, Protocol, ServiceModel};

use crate::audit::CallRecord;
use crate::state::{AppState, Generation};

const X_AMZ_TARGET: &str = "x-amz-target";
const CONTENT_TYPE: &str = "content-type";
const CONTENT_ENCODING: &str = "content-encoding";

/// The flavour of authentication error codes a protocol uses.
pub(crate) fn flavor(protocol: Protocol) -> ErrorFlavor {
    match protocol {
        Protocol::Query => ErrorFlavor::Query,
        Protocol::Json(_) | Protocol::RpcV2Cbor => ErrorFlavor::Json,
    }
}

pub(crate) fn sigv4_error(e: &SigV4Error, protocol: Protocol) -> AwsError {
    let flavor = flavor(protocol);
    AwsError::new(e.code(flavor), e.http_status(flavor), e.to_string())
}

fn store_error(e: &StoreError) -> AwsError {
    tracing::error!(error = %e, "store failure during authentication");
    internal_failure()
}

/// Access keys kept; the cache is emptied when it grows past this.
const MAX_CACHED_CREDENTIALS: usize = 10_000;

/// What authentication needs about one access key, read and unsealed once per write
/// generation instead of once per request.
struct Credential {
    /// The write generation this was read at.
    generation: u64,
    status: AccessKeyStatus,
    /// The principal the key belongs to; `None` when its user is gone (deleted users have no
    /// keys, so only by corruption).
    caller: Option<Caller>,
    /// The unsealed secret access key: zeroed when the entry is dropped, never logged.
    secret: SecretBytes,
}

/// Access key id → its status, principal and secret, tagged with the write generation they
/// were read at. Every committed write bumps the generation (see [`AppState::state_changed`]),
/// so a deleted or deactivated key, or a deleted user, is seen by the very next request. Only
/// keys that exist are kept: an unknown id is looked up every time, so made-up ids cannot
/// fill the cache.
pub(crate) struct CredentialCache {
    generation: Arc<Generation>,
    entries: Mutex<HashMap<String, Arc<Credential>>>,
}

impl CredentialCache {
    /// An empty cache whose entries are stale once `generation` moves on.
    pub(crate) fn new(generation: Arc<Generation>) -> Self {
        Self {
            generation,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        let generation = self.generation.current();
        let entries = self.entries.lock().ok()?;
        entries
            .get(access_key_id)
            .filter(|hit| hit.generation == generation)
            .cloned()
    }

    fn insert(&self, access_key_id: &str, credential: Arc<Credential>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHED_CREDENTIALS {
                entries.clear();
            }
            entries.insert(access_key_id.to_owned(), credential);
        }
    }
}

fn internal_failure() -> AwsError {
    AwsError::new(
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error.",
    )
}

/// The credential of `access_key_id`, from the cache when it is current, else from the store
/// (then cached); `None` when no such key exists.
fn credential(state: &AppState, access_key_id: &str) -> Result<Option<Arc<Credential>>, AwsError> {
    if let Some(hit) = state.credentials.fresh(access_key_id) {
        return Ok(Some(hit));
    }
    // Read before the store: a write landing in between leaves this entry marked stale rather
    // than a stale entry marked fresh.
    let generation = state.generation.current();
    let (record, user) = state
        .store
        .read_with(|tx| {
            let Some(record) = access_keys::get(tx, access_key_id)? else {
                return Ok((None, None));
            };
            let user = match &record.user_name {
                Some(name) => get_json::<UserRecord>(
                    tx,
                    records::USERS,
                    &records::key(&record.account_id, name),
                )?,
                None => None,
            };
            Ok::<_, StoreError>((Some(record), user))
        })
        .map_err(|e| store_error(&e))?;
    let Some(record) = record else {
        return Ok(None);
    };
    let secret = record.secret(&state.root_key).map_err(|e| {
        tracing::error!(error = %e, "an access key's secret could not be unsealed");
        internal_failure()
    })?;
    let caller = match (&record.user_name, user) {
        (None, _) => Some(Caller::root(&record.account_id, access_key_id)),
        (Some(_), Some(user)) => Some(Caller {
            account_id: user.account_id,
            arn: user.arn,
            principal_id: user.user_id,
            kind: PrincipalKind::IamUser,
            user_name: Some(user.user_name),
            access_key_id: access_key_id.to_owned(),
        }),
        (Some(_), None) => None,
    };
    let credential = Arc::new(Credential {
        generation,
        status: record.status,
        caller,
        secret,
    });
    state
        .credentials
        .insert(access_key_id, Arc::clone(&credential));
    Ok(Some(credential))
}

/// Who signed a request: the principal, and the session when the key is temporary.
pub(crate) struct Authenticated {
    pub(crate) caller: Caller,
    pub(crate) session: Option<Arc<Session>>,
}

/// Verifies `signed` for a request to `model` and returns who signed it.
pub(crate) fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    signed: &SignedRequest,
    model: &ServiceModel,
    protocol: Protocol,
) -> Result<Authenticated, AwsError> {
    let refuse = |e: SigV4Error| sigv4_error(&e, protocol);
    if signed.service() != model.signing_name() {
        return Err(refuse(SigV4Error::wrong_service(model.signing_name())));
    }
    require_selecting_headers_signed(parts, signed, protocol).map_err(refuse)?;
    let access_key_id = signed.access_key_id();
    if let Some(token) = signed.security_token() {
        return authenticate_session(state, parts, body, signed, token, protocol);
    }
    // A request with a session token went to authenticate_session above: this is a
    // long-term key's.
    let credential = credential(state, access_key_id)?
        .ok_or_else(|| refuse(SigV4Error::InvalidClientTokenId))?;
    signed
        .verify(
            parts,
            body,
            credential.secret.expose(),
            SystemTime::now(),
            &state.signing_keys,
        )
        .map_err(refuse)?;
    // Checked after the signature, so an inactive key's status is told only to its holder.
    if credential.status == AccessKeyStatus::Inactive {
        return Err(AwsError::new(
            "AccessDenied",
            403,
            format!("The access key {access_key_id} is inactive."),
        ));
    }
    let caller = credential
        .caller
        .clone()
        .ok_or_else(|| refuse(SigV4Error::InvalidClientTokenId))?;
    Ok(Authenticated {
        caller,
        session: None,
    })
}

/// The headers that select the operation or decide how its input is read must be signed
/// when present, or a relay could swap them under a valid signature (a KMS `ListKeys` replayed
/// as `CreateKey`): `X-Amz-Target` names the JSON protocols' operation, and `Content-Type`
/// decides whether a Query request's body is read as its form parameters. botocore and the
/// AWS SDK for Rust sign both; a presigned Query GET carries `Action` in its signed query
/// string and sends neither.
fn require_selecting_headers_signed(
    parts: &Parts,
    signed: &SignedRequest,
    protocol: Protocol,
) -> Result<(), SigV4Error> {
    // `Content-Encoding` decides whether the body is read inflated (gzip), in every protocol.
    signed.require_signed(parts, CONTENT_ENCODING, "Content-Encoding")?;
    match protocol {
        Protocol::Json(_) => signed.require_signed(parts, X_AMZ_TARGET, "X-Amz-Target"),
        Protocol::Query => signed.require_signed(parts, CONTENT_TYPE, "Content-Type"),
        // The path names the operation, and the canonical request always covers it.
        Protocol::RpcV2Cbor => Ok(()),
    }
}

/// Authenticates a call from its input with the operation's own verifier (a web identity
/// token, a SAML assertion), on a read snapshot, at the call's time.
pub(crate) fn authenticate_input(
    state: &AppState,
    authenticate: InputAuthenticator,
    input: &Value,
    record: &CallRecord,
) -> Result<Federation, AwsError> {
    let verify = || {
        state
            .store
            .read_with(|tx| Ok::<_, StoreError>(authenticate(record.event_time, tx, input)))
            .map_err(|e| store_error(&e))?
    };
    // A provider's keys may be fetched from a loopback issuer meanwhile (up to its timeout):
    // on the multi-threaded runtime the worker hands its other requests over while it waits.
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(verify)
        }
        _ => verify(),
    }
}

/// Temporary credentials: the session token is opened (and so authenticated) with the root
/// key, then the request's signature is checked with the secret it carries. No store read.
fn authenticate_session(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    signed: &SignedRequest,
    token: &str,
    protocol: Protocol,
) -> Result<Authenticated, AwsError> {
    let refuse = |e: SigV4Error| sigv4_error(&e, protocol);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let session = open_session(
        &state.root_key,
        signed.access_key_id(),
        token,
        now,
        protocol,
    )?;
    let secret = session.secret();
    signed
        .verify(
            parts,
            body,
            secret.expose(),
            SystemTime::now(),
            &state.signing_keys,
        )
        .map_err(refuse)?;
    Ok(Authenticated {
        caller: session.caller.clone(),
        session: Some(Arc::new(session)),
    })
}

/// Opens a session token at `now` (Unix seconds), answering as AWS does when it is not
/// Rampart's, was altered, or has expired.
fn open_session(
    root_key: &RootKey,
    access_key_id: &str,
    token: &str,
    now: i64,
    protocol: Protocol,
) -> Result<Session, AwsError> {
    Session::open(root_key, access_key_id, token, now).map_err(|e| session_refusal(&e, protocol))
}

fn session_refusal(e: &SessionError, protocol: Protocol) -> AwsError {
    match e {
        SessionError::Invalid => sigv4_error(&SigV4Error::InvalidClientTokenId, protocol),
        SessionError::Expired => {
            let (code, status) = match protocol {
                Protocol::Query => ("ExpiredToken", 403),
                Protocol::Json(_) | Protocol::RpcV2Cbor => ("ExpiredTokenException", 400),
            };
            AwsError::new(code, status, e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(generation: u64) -> Arc<Credential> {
        Arc::new(Credential {
            generation,
            status: AccessKeyStatus::Active,
            caller: Some(Caller::root("123456789012", "AKIAX")),
            secret: SecretBytes::new(b"secret".to_vec()),
        })
    }

    #[test]
    fn an_entry_is_served_only_in_the_generation_it_was_read_at() {
        let generation = Arc::new(Generation::default());
        let cache = CredentialCache::new(Arc::clone(&generation));
        assert!(cache.fresh("AKIAX").is_none());
        cache.insert("AKIAX", entry(generation.current()));
        assert!(cache.fresh("AKIAX").is_some());
        assert!(cache.fresh("AKIAY").is_none());
        generation.bump();
        assert!(
            cache.fresh("AKIAX").is_none(),
            "a write makes every entry stale"
        );
        // An entry read before a write that landed meanwhile is stale from the start.
        cache.insert("AKIAX", entry(generation.current() - 1));
        assert!(cache.fresh("AKIAX").is_none());
    }

    fn signed_parts(signed_headers: &str, headers: &[(&str, &str)]) -> (Parts, SignedRequest) {
        let mut builder = http::Request::post("http://localhost/")
            .header("x-amz-date", "20261124T103000Z")
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/kms/aws4_request, \
                     SignedHeaders={signed_headers}, Signature=00"
                ),
            );
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let (parts, ()) = builder.body(()).unwrap().into_parts();
        let signed = rampart_sigv4::parse(&parts).unwrap();
        (parts, signed)
    }

    /// Finding 10: a KMS request signed without `X-Amz-Target` was replayed with its target
    /// swapped from ListKeys to CreateKey.
    #[test]
    fn the_operation_selecting_headers_must_be_signed() {
        let json = Protocol::Json(rampart_wire::JsonVersion::V1_1);
        let target = [("x-amz-target", "TrentService.CreateKey")];
        let (parts, signed) = signed_parts("host;x-amz-date", &target);
        let refused = require_selecting_headers_signed(&parts, &signed, json).unwrap_err();
        assert_eq!(refused, SigV4Error::unsigned_header("X-Amz-Target"));
        let (parts, signed) = signed_parts("host;x-amz-date;x-amz-target", &target);
        assert!(require_selecting_headers_signed(&parts, &signed, json).is_ok());

        let form = [("content-type", "application/x-www-form-urlencoded")];
        let (parts, signed) = signed_parts("host;x-amz-date", &form);
        let refused = require_selecting_headers_signed(&parts, &signed, Protocol::Query);
        assert_eq!(refused, Err(SigV4Error::unsigned_header("Content-Type")));
        let (parts, signed) = signed_parts("content-type;host;x-amz-date", &form);
        assert!(require_selecting_headers_signed(&parts, &signed, Protocol::Query).is_ok());
        // A presigned Query GET sends no body and no content type: nothing to require.
        let (parts, signed) = signed_parts("host", &[]);
        assert!(require_selecting_headers_signed(&parts, &signed, Protocol::Query).is_ok());
        // Whether the body is read inflated is the sender's, in every protocol: a relay
        // cannot add or drop `Content-Encoding: gzip` under a valid signature.
        let gzip = [("content-encoding", "gzip")];
        for protocol in [json, Protocol::Query, Protocol::RpcV2Cbor] {
            let (parts, signed) = signed_parts("host;x-amz-date", &gzip);
            let refused = require_selecting_headers_signed(&parts, &signed, protocol);
            assert_eq!(
                refused,
                Err(SigV4Error::unsigned_header("Content-Encoding"))
            );
        }
        let (parts, signed) = signed_parts("content-encoding;host;x-amz-date", &gzip);
        assert!(require_selecting_headers_signed(&parts, &signed, Protocol::RpcV2Cbor).is_ok());
    }

    /// Short-lived credentials, on a fixed clock: usable until their last second, then
    /// refused as AWS refuses them, in either protocol.
    #[test]
    fn a_session_answers_expired_token_once_past() {
        let root_key = RootKey::generate();
        let issued_at = 1_795_521_600;
        // DurationSeconds=900, the shortest AWS allows.
        let session = Session::new(
            Caller::root("123456789012", "ASIAEXAMPLE"),
            "secret".into(),
            issued_at,
            issued_at + 900,
        );
        let token = session.token(&root_key);
        let json = Protocol::Json(rampart_wire::JsonVersion::V1_1);
        let open = |now, protocol| open_session(&root_key, "ASIAEXAMPLE", &token, now, protocol);
        assert!(open(issued_at + 899, Protocol::Query).is_ok());
        let expired = open(issued_at + 900, Protocol::Query).unwrap_err();
        assert_eq!(
            (expired.code.as_ref(), expired.status),
            ("ExpiredToken", 403)
        );
        assert_eq!(
            expired.message,
            "The security token included in the request is expired"
        );
        let expired = open(issued_at + 86_400, json).unwrap_err();
        assert_eq!(
            (expired.code.as_ref(), expired.status),
            ("ExpiredTokenException", 400)
        );
        let moved = open_session(&root_key, "ASIAOTHER", &token, issued_at, Protocol::Query);
        assert_eq!(moved.unwrap_err().code, "InvalidClientTokenId");
    }
}
