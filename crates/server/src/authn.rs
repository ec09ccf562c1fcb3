//! Authenticate: the SigV4 signature against the access key's secret, then the principal.

use std::time::SystemTime;

use http::request::Parts;
use rampart_iam::access_keys::{self, AccessKeyStatus};
use rampart_iam::records::{self, UserRecord};
use rampart_service::{Caller, PrincipalKind};
use rampart_sigv4::{ErrorFlavor, SigV4Error, SignedRequest};
use rampart_store::{StoreError, get_json};
use rampart_wire::{AwsError, Protocol, ServiceModel};

use crate::state::AppState;

/// The flavour of authentication error codes a protocol uses.
pub(crate) fn flavor(protocol: Protocol) -> ErrorFlavor {
    match protocol {
        Protocol::Query => ErrorFlavor::Query,
        Protocol::Json(_) => ErrorFlavor::Json,
    }
}

pub(crate) fn sigv4_error(e: &SigV4Error, protocol: Protocol) -> AwsError {
    let flavor = flavor(protocol);
    AwsError::new(e.code(flavor), e.http_status(flavor), e.to_string())
}

fn store_error(e: &StoreError) -> AwsError {
    tracing::error!(error = %e, "store failure during authentication");
    AwsError::new(
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error.",
    )
}

/// Verifies `signed` for a request to `model` and returns who signed it.
pub(crate) fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    signed: &SignedRequest,
    model: &ServiceModel,
) -> Result<Caller, AwsError> {
    let protocol = model.protocol();
    let refuse = |e: SigV4Error| sigv4_error(&e, protocol);
    if signed.service() != model.signing_name() {
        return Err(refuse(SigV4Error::wrong_service(model.signing_name())));
    }
    let access_key_id = signed.access_key_id();
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
    let record = record.ok_or_else(|| refuse(SigV4Error::InvalidClientTokenId))?;
    // A long-term key never comes with a session token; one that does is forged or misused.
    if signed.security_token().is_some() {
        return Err(refuse(SigV4Error::InvalidClientTokenId));
    }
    let secret = record.secret(&state.root_key).map_err(|e| {
        tracing::error!(error = %e, "an access key's secret could not be unsealed");
        AwsError::new(
            "InternalFailure",
            500,
            "The request processing has failed because of an unknown error.",
        )
    })?;
    signed
        .verify(
            parts,
            body,
            secret.expose(),
            SystemTime::now(),
            &state.signing_keys,
        )
        .map_err(refuse)?;
    // Checked after the signature, so an inactive key's status is told only to its holder.
    if record.status == AccessKeyStatus::Inactive {
        return Err(AwsError::new(
            "AccessDenied",
            403,
            format!("The access key {access_key_id} is inactive."),
        ));
    }
    match (&record.user_name, user) {
        (None, _) => Ok(Caller::root(&record.account_id, access_key_id)),
        (Some(_), Some(user)) => Ok(Caller {
            account_id: user.account_id,
            arn: user.arn,
            principal_id: user.user_id,
            kind: PrincipalKind::IamUser,
            user_name: Some(user.user_name),
            access_key_id: access_key_id.to_owned(),
        }),
        // A key whose user is gone (deleted users have no keys, so only by corruption).
        (Some(_), None) => Err(refuse(SigV4Error::InvalidClientTokenId)),
    }
}
