//! Calls that Rampart's own services make to KMS, never through the HTTP API: CloudTrail
//! checking that it may use a trail's key (CreateTrail, UpdateTrail), and the trail deliverer
//! asking for a data key for each log file, as S3 does for CloudTrail under SSE-KMS.
//!
//! Such a call has no IAM caller: its principal is the service's (`cloudtrail.amazonaws.com`),
//! which only a key policy can allow, as AWS evaluates service principals. It does not pass
//! through the request spine, so KMS authorizes it here, against the key policy, with the
//! condition keys AWS documents for it: `aws:SourceArn` and `aws:SourceAccount` (the resource
//! the service acts for), `kms:EncryptionContext:*`, and `kms:ViaService` when one service
//! calls on another's behalf (S3 writing CloudTrail's object: `s3.<region>.amazonaws.com`).

use std::collections::BTreeMap;

use rampart_crypto::RootKey;
use rampart_policy::{
    Context, EvaluationInput, EvaluationMode, Policy, PolicySet, Principal, Request,
};
use rampart_service::{Caller, Entropy, Env, aws_timestamp};
use rampart_store::{ReadTx, StoreError};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::crypto_symmetric::{encrypt_symmetric, spec_of};
use crate::error::KmsError;
use crate::records::KeyRecord;
use crate::resolve::{find_key, require_enabled};
use crate::spec::{ENCRYPT_DECRYPT, KeySpec};

/// Who makes a service call, and for what.
#[derive(Debug, Clone)]
pub struct ServiceCall<'a> {
    /// The calling service's principal, e.g. `cloudtrail.amazonaws.com`.
    pub service: &'a str,
    /// The service that makes the call on `service`'s behalf, as `kms:ViaService` names it
    /// (`s3.us-east-1.amazonaws.com`); `None` when `service` calls by itself.
    pub via_service: Option<String>,
    /// The resource the service acts for (`aws:SourceArn`), e.g. a trail's ARN.
    pub source_arn: &'a str,
    /// That resource's account (`aws:SourceAccount`); bare key IDs and alias names are
    /// looked up in it.
    pub source_account: &'a str,
    /// The region the call is made in (keys are regional).
    pub region: &'a str,
    /// When the call is made.
    pub now: OffsetDateTime,
}

/// A data key: its plaintext (zeroed when dropped) and its encrypted copy, a ciphertext blob
/// that KMS Decrypt opens with the same encryption context.
pub struct DataKey {
    /// The ARN of the key that encrypted it.
    pub key_arn: String,
    /// The 32-byte AES key.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The encrypted data key.
    pub ciphertext_blob: Vec<u8>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("key_arn", &self.key_arn)
            .finish_non_exhaustive()
    }
}

/// Why a service call failed, as KMS would answer it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceCallError {
    /// No such key (or one of another region).
    #[error("{0}")]
    NotFound(String),
    /// The key is disabled.
    #[error("{0}")]
    Disabled(String),
    /// The key is pending deletion.
    #[error("{0}")]
    InvalidState(String),
    /// The key cannot make data keys (not a symmetric encryption key).
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// The key policy does not allow the service.
    #[error("{0}")]
    AccessDenied(String),
    /// Rampart failed; details are logged.
    #[error("internal failure")]
    Internal,
}

impl ServiceCallError {
    /// KMS's error code for it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::Disabled(_) => "DisabledException",
            Self::InvalidState(_) => "KMSInvalidStateException",
            Self::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::Internal => "KMSInternalException",
        }
    }
}

impl From<KmsError> for ServiceCallError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::NotFound(m) => Self::NotFound(m),
            KmsError::Disabled(m) => Self::Disabled(m),
            KmsError::InvalidState(m) => Self::InvalidState(m),
            KmsError::InvalidKeyUsage(m) => Self::InvalidKeyUsage(m),
            other => {
                tracing::error!(error = %other, "KMS service call failed");
                Self::Internal
            }
        }
    }
}

impl From<StoreError> for ServiceCallError {
    fn from(e: StoreError) -> Self {
        KmsError::from(e).into()
    }
}

/// GenerateDataKey (AES_256) by a service, under `context`: the key must exist, be an
/// enabled symmetric encryption key, and its key policy must allow the service
/// `kms:GenerateDataKey`.
pub fn generate_data_key(
    tx: &mut dyn ReadTx,
    root_key: &RootKey,
    entropy: &dyn Entropy,
    call: &ServiceCall<'_>,
    key_id: &str,
    context: &BTreeMap<String, String>,
) -> Result<DataKey, ServiceCallError> {
    // The key helpers take a request's Env, of which they read the account bare key IDs
    // resolve in, the clock, the root key and the randomness. A service call has no IAM
    // caller: its source account's principal stands in for that one purpose.
    let caller = Caller::root(call.source_account, "");
    // Service calls are counted in no rate table yet: they are Rampart's own, a few per
    // trail file.
    let rate_limits = rampart_service::RateLimits::new();
    let env = Env {
        caller: &caller,
        region: call.region,
        request_id: "",
        now: call.now,
        root_key,
        entropy,
        inherited: None,
        federation: None,
        rate_limits: &rate_limits,
    };
    let key = find_key(tx, &env, key_id)?;
    authorize(tx, call, &key, "kms:GenerateDataKey", context)?;
    require_enabled(&key)?;
    if key.key_usage != ENCRYPT_DECRYPT || spec_of(&key)? != KeySpec::Symmetric {
        return Err(ServiceCallError::InvalidKeyUsage(format!(
            "{} key spec {} is not valid for GenerateDataKey; use a symmetric encryption KMS key.",
            key.arn, key.key_spec
        )));
    }
    let plaintext = Zeroizing::new(env.random(32));
    let (ciphertext_blob, _) = encrypt_symmetric(&env, &key, context, &plaintext)?;
    Ok(DataKey {
        key_arn: key.arn,
        plaintext,
        ciphertext_blob,
    })
}

/// Decides a service principal's `action` on `key` by its key policy alone.
fn authorize(
    tx: &mut dyn ReadTx,
    call: &ServiceCall<'_>,
    key: &KeyRecord,
    action: &str,
    context: &BTreeMap<String, String>,
) -> Result<(), ServiceCallError> {
    let denied = || {
        ServiceCallError::AccessDenied(format!(
            "Service: {} is not authorized to perform: {action} on resource: {} because no \
             resource-based policy allows the {action} action",
            call.service, key.arn
        ))
    };
    // A stored key policy that no longer parses allows nothing.
    let Ok(policy) = Policy::parse(&key.policy) else {
        return Err(denied());
    };
    let policies = PolicySet::single("key policy", &policy);
    let mut request_context = Context::new()
        .with("aws:SourceArn", call.source_arn)
        .with("aws:SourceAccount", call.source_account)
        .with("aws:PrincipalServiceName", call.service)
        .with("aws:PrincipalIsAWSService", "true")
        .with("aws:CurrentTime", aws_timestamp(call.now))
        .with("aws:EpochTime", call.now.unix_timestamp().to_string())
        .with("aws:RequestedRegion", call.region)
        .with_multi(
            "kms:EncryptionContextKeys",
            context.keys().map(String::as_str),
        );
    for (k, v) in context {
        request_context.insert(&format!("kms:EncryptionContext:{k}"), v.as_str());
    }
    if let Some(via) = &call.via_service {
        request_context.insert("kms:ViaService", via.as_str());
    }
    for (name, values) in crate::authorization::key_condition_keys(tx, key)? {
        request_context.insert_multi(&name, values);
    }
    let request = Request::new(Principal::service(call.service), action, &key.arn)
        .with_resource_account(&key.account_id)
        .with_context(request_context);
    let input = EvaluationInput {
        resource_policy: Some(&policies),
        mode: EvaluationMode::ResourcePolicyMustAllow,
        ..EvaluationInput::default()
    };
    if rampart_policy::evaluate(&request, &input).is_allowed() {
        Ok(())
    } else {
        Err(denied())
    }
}
