//! AWS Key Management Service, with real cryptography.
//!
//! Operations are declared in [`Kms::new`]; each lives in the file of its family:
//! `keys.rs` (CreateKey … CancelKeyDeletion), `import.rs` (imported key material), `aliases.rs`, `tags.rs`, `policy.rs` (key
//! policies), `authorization.rs` (what the authorize step needs: the keys a request is about,
//! their key policies with grants folded in, condition keys), `crypto_symmetric.rs` (Encrypt,
//! Decrypt, ReEncrypt, data keys, GenerateRandom), `asymmetric.rs` (Sign, Verify, GetPublicKey, data key pairs, RSA-OAEP),
//! `mac.rs`, `grants.rs` (with `grant_policy.rs`: what grants add to a key policy per
//! request), `rotation.rs`, `quotas.rs`. `blob.rs` defines the ciphertext
//! format; `material.rs` makes and seals key material. Other services (CloudTrail encrypting
//! its log files) call KMS's operations through the spine, as AWS's services do.
//!
//! Key material never leaves Rampart except where AWS returns it (a data key's plaintext, a
//! public key); it is sealed under the root key in the store, and never logged.
#![deny(missing_docs)]

mod aliases;
mod asymmetric;
mod authorization;
pub mod blob;
mod crypto_symmetric;
mod error;
mod events;
mod grant_policy;
mod grants;
mod import;
mod key_agreement;
mod keys;
pub mod last_usage;
mod mac;
mod managed;
mod material;
mod multi_region;
mod pagination;
mod policy;
mod quotas;
mod records;
mod resolve;
mod rotation;
mod scheduled;
mod spec;
mod tags;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(test)]
mod authorization_tests;
#[cfg(test)]
mod grant_dry_run_tests;
#[cfg(test)]
mod grant_tests;
#[cfg(test)]
mod import_tests;
#[cfg(test)]
mod tests;

pub use error::KmsError;
pub use last_usage::KeyUse;

use rampart_service::{AfterSuccess, CompletedCall, EventResource, Operation, Operations, Service};

/// The KMS service: its operations, for the registry.
pub struct Kms {
    operations: Operations,
    /// What services call through the spine and no client can (managed.rs).
    internal: Operations,
    /// Automatic rotations and deletions at their time, for the scheduler (scheduled.rs).
    timers: scheduled::KeyTimers,
}

/// An operation on one key: authorized on the key (an alias resolved to it), against its key
/// policy with the caller's grants, with KMS's condition keys.
fn on_key(op: Operation) -> Operation {
    op.authorization_targets(authorization::key_targets)
        .condition_keys(authorization::condition_keys)
}

impl Kms {
    /// KMS with every operation Rampart implements.
    pub fn new() -> Self {
        use Operation as Op;
        Self {
            operations: Operations::new(vec![
                // Keys.
                Op::write("CreateKey", "kms:CreateKey", keys::create_key)
                    .authorization_targets(authorization::create_key_targets)
                    .condition_keys(authorization::create_key_condition_keys)
                    .partial("no custom key stores, multi-Region keys with imported material, or SM2/ML-DSA/Ed25519/ML-KEM specs"),
                on_key(Op::read("DescribeKey", "kms:DescribeKey", keys::describe_key)),
                on_key(Op::read("GetKeyLastUsage", "kms:GetKeyLastUsage", last_usage::get_key_last_usage)),
                Op::read("ListKeys", "kms:ListKeys", keys::list_keys)
                    .condition_keys(authorization::condition_keys),
                on_key(Op::write("UpdateKeyDescription", "kms:UpdateKeyDescription", keys::update_key_description)),
                on_key(Op::write("EnableKey", "kms:EnableKey", keys::enable_key)),
                on_key(Op::write("DisableKey", "kms:DisableKey", keys::disable_key)),
                on_key(Op::write("ScheduleKeyDeletion", "kms:ScheduleKeyDeletion", keys::schedule_key_deletion)),
                on_key(Op::write("CancelKeyDeletion", "kms:CancelKeyDeletion", keys::cancel_key_deletion)),
                // Multi-Region keys.
                on_key(Op::write("ReplicateKey", "kms:ReplicateKey", multi_region::replicate_key))
                    .partial("authorized as kms:ReplicateKey on the primary key only (AWS also checks kms:CreateKey in the replica Region); the replica is Enabled at once"),
                on_key(Op::write(
                    "UpdatePrimaryRegion",
                    "kms:UpdatePrimaryRegion",
                    multi_region::update_primary_region,
                )),
                // Imported key material.
                on_key(Op::read(
                    "GetParametersForImport",
                    "kms:GetParametersForImport",
                    import::get_parameters_for_import,
                )),
                on_key(Op::write("ImportKeyMaterial", "kms:ImportKeyMaterial", import::import_key_material))
                    .partial("no NEW_KEY_MATERIAL imports (rotating imported material) or key material descriptions"),
                on_key(Op::write(
                    "DeleteImportedKeyMaterial",
                    "kms:DeleteImportedKeyMaterial",
                    import::delete_imported_key_material,
                )),
                // Aliases.
                on_key(Op::write("CreateAlias", "kms:CreateAlias", aliases::create_alias))
                    .authorization_targets(authorization::create_alias_targets),
                on_key(Op::write("UpdateAlias", "kms:UpdateAlias", aliases::update_alias))
                    .authorization_targets(authorization::update_alias_targets),
                on_key(Op::write("DeleteAlias", "kms:DeleteAlias", aliases::delete_alias))
                    .authorization_targets(authorization::delete_alias_targets),
                Op::read("ListAliases", "kms:ListAliases", aliases::list_aliases)
                    .condition_keys(authorization::condition_keys),
                // Tags.
                on_key(Op::write("TagResource", "kms:TagResource", tags::tag_resource)),
                on_key(Op::write("UntagResource", "kms:UntagResource", tags::untag_resource)),
                on_key(Op::read("ListResourceTags", "kms:ListResourceTags", tags::list_resource_tags)),
                // Key policies.
                on_key(Op::read("GetKeyPolicy", "kms:GetKeyPolicy", policy::get_key_policy)),
                on_key(Op::write("PutKeyPolicy", "kms:PutKeyPolicy", policy::put_key_policy))
                    .authorization_targets(authorization::put_key_policy_targets),
                on_key(Op::read("ListKeyPolicies", "kms:ListKeyPolicies", policy::list_key_policies)),
                // Symmetric cryptography.
                on_key(Op::read("Encrypt", "kms:Encrypt", crypto_symmetric::encrypt)),
                on_key(Op::read("Decrypt", "kms:Decrypt", crypto_symmetric::decrypt)),
                on_key(Op::read("ReEncrypt", "kms:ReEncryptFrom", crypto_symmetric::re_encrypt))
                    .authorization_targets(authorization::re_encrypt_targets),
                on_key(Op::read("GenerateDataKey", "kms:GenerateDataKey", crypto_symmetric::generate_data_key)),
                on_key(Op::read(
                    "GenerateDataKeyWithoutPlaintext",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    crypto_symmetric::generate_data_key_without_plaintext,
                )),
                Op::read("GenerateRandom", "kms:GenerateRandom", crypto_symmetric::generate_random)
                    .condition_keys(authorization::condition_keys),
                // Asymmetric cryptography and HMAC.
                on_key(Op::read("Sign", "kms:Sign", asymmetric::sign)),
                on_key(Op::read("Verify", "kms:Verify", asymmetric::verify)),
                on_key(Op::read("GetPublicKey", "kms:GetPublicKey", asymmetric::get_public_key)),
                on_key(Op::read(
                    "GenerateDataKeyPair",
                    "kms:GenerateDataKeyPair",
                    asymmetric::generate_data_key_pair,
                )),
                on_key(Op::read(
                    "GenerateDataKeyPairWithoutPlaintext",
                    "kms:GenerateDataKeyPairWithoutPlaintext",
                    asymmetric::generate_data_key_pair_without_plaintext,
                )),
                on_key(Op::read(
                    "DeriveSharedSecret",
                    "kms:DeriveSharedSecret",
                    key_agreement::derive_shared_secret,
                )),
                on_key(Op::read("GenerateMac", "kms:GenerateMac", mac::generate_mac)),
                on_key(Op::read("VerifyMac", "kms:VerifyMac", mac::verify_mac)),
                // Grants.
                Op::write("CreateGrant", "kms:CreateGrant", grants::create_grant)
                    .authorization_targets(authorization::create_grant_targets)
                    .condition_keys(authorization::condition_keys),
                on_key(Op::read("ListGrants", "kms:ListGrants", grants::list_grants)),
                Op::read("ListRetirableGrants", "kms:ListRetirableGrants", grants::list_retirable_grants)
                    .resource_policy(grants::retiring_principal_owner)
                    .condition_keys(authorization::condition_keys),
                Op::write("RetireGrant", "kms:RetireGrant", grants::retire_grant)
                    .authorization_targets(authorization::retire_grant_targets)
                    .condition_keys(authorization::condition_keys),
                on_key(Op::write("RevokeGrant", "kms:RevokeGrant", grants::revoke_grant)),
                // Rotation.
                on_key(Op::write("EnableKeyRotation", "kms:EnableKeyRotation", rotation::enable_key_rotation)),
                on_key(Op::write("DisableKeyRotation", "kms:DisableKeyRotation", rotation::disable_key_rotation)),
                on_key(Op::read("GetKeyRotationStatus", "kms:GetKeyRotationStatus", rotation::get_key_rotation_status)),
                on_key(Op::write("RotateKeyOnDemand", "kms:RotateKeyOnDemand", rotation::rotate_key_on_demand)),
                on_key(Op::read("ListKeyRotations", "kms:ListKeyRotations", rotation::list_key_rotations)),
            ]),
            internal: Operations::new(managed::operations()),
            timers: scheduled::KeyTimers,
        }
    }
}

impl Default for Kms {
    fn default() -> Self {
        Self::new()
    }
}

impl Service for Kms {
    fn name(&self) -> &'static str {
        "kms"
    }

    fn event_source(&self) -> &'static str {
        "kms.amazonaws.com"
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    fn internal_operation(&self, name: &str) -> Option<&Operation> {
        self.internal.get(name)
    }

    fn event_style(&self) -> rampart_service::EventStyle {
        events::EVENT_STYLE
    }

    fn event_shaper(&self) -> Option<rampart_service::EventShaper> {
        Some(events::shape_event)
    }

    fn guarded_by_resource_control_policies(&self) -> bool {
        true
    }

    /// A key used from another account is recorded in the key's account too.
    fn records_in_resource_owner_accounts(&self) -> bool {
        true
    }

    fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let (kind, id) = parts.resource.split_once('/')?;
        let kind = match kind {
            "key" => "AWS::KMS::Key",
            "alias" => "AWS::KMS::Alias",
            _ => return None,
        };
        (!id.is_empty()).then_some(EventResource {
            kind,
            name: arn,
            account: parts.account,
        })
    }

    /// `kms:ViaService`: a call a service makes on a principal's behalf names it.
    fn via_service_keys(&self, via: &str) -> Vec<(String, Vec<String>)> {
        vec![("kms:ViaService".to_owned(), vec![via.to_owned()])]
    }

    /// A key's last cryptographic use is written with the event that records it, naming the
    /// event as the key owner's trail has it.
    fn after_success(&self, call: &CompletedCall<'_>) -> Option<AfterSuccess> {
        let key_use = last_usage::KeyUse::of_call(
            call.operation,
            call.resources,
            call.time,
            call.request_id,
            call.event_id_in,
        )?;
        Some(Box::new(move |tx| key_use.record(tx)))
    }

    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }

    fn timers(&self) -> Option<&dyn rampart_service::Timers> {
        Some(&self.timers)
    }
}
