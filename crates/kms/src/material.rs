//! Key material: made by a cryptographically secure generator, sealed under the root key
//! before it reaches the store, opened only for the operation that needs it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use rampart_crypto::SecretBytes;
use rampart_service::Env;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::KmsError;
use crate::records::{KeyRecord, Material, material_context};
use crate::spec::{Curve, KeySpec};

/// Freshly generated secret material and, for asymmetric specs, its public key (DER SPKI).
pub(crate) struct NewMaterial {
    pub(crate) secret: Zeroizing<Vec<u8>>,
    pub(crate) public_key: Option<Vec<u8>>,
}

/// The ECDSA signing algorithm of a curve (ASN.1 DER signatures, as KMS returns them).
pub(crate) fn ecdsa_signing(curve: Curve) -> &'static signature::EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        Curve::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
    }
}

fn keygen_failed() -> KmsError {
    tracing::error!("key generation failed in aws-lc");
    KmsError::Internal
}

/// Generates material for `spec`. Symmetric and HMAC keys take their bytes from the
/// request's entropy source (the OS generator in the server); RSA and EC keys from aws-lc's
/// own generator, itself seeded by the OS.
pub(crate) fn generate(env: &Env<'_>, spec: KeySpec) -> Result<NewMaterial, KmsError> {
    match spec {
        KeySpec::Symmetric => Ok(NewMaterial {
            secret: Zeroizing::new(env.random(32)),
            public_key: None,
        }),
        KeySpec::Hmac(bits) => Ok(NewMaterial {
            secret: Zeroizing::new(env.random((bits / 8) as usize)),
            public_key: None,
        }),
        KeySpec::Rsa(bits) => {
            let size = match bits {
                2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
                3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
                _ => aws_lc_rs::rsa::KeySize::Rsa4096,
            };
            let pair = signature::RsaKeyPair::generate(size).map_err(|_| keygen_failed())?;
            let private = pair.as_der().map_err(|_| keygen_failed())?;
            let public = pair.public_key().as_der().map_err(|_| keygen_failed())?;
            Ok(NewMaterial {
                secret: Zeroizing::new(private.as_ref().to_vec()),
                public_key: Some(public.as_ref().to_vec()),
            })
        }
        KeySpec::Ecc(curve) => {
            let pair = EcdsaKeyPair::generate(ecdsa_signing(curve)).map_err(|_| keygen_failed())?;
            let private = pair.to_pkcs8v1().map_err(|_| keygen_failed())?;
            let public = pair.public_key().as_der().map_err(|_| keygen_failed())?;
            Ok(NewMaterial {
                secret: Zeroizing::new(private.as_ref().to_vec()),
                public_key: Some(public.as_ref().to_vec()),
            })
        }
    }
}

/// A new material id: 64 lowercase hex digits, as AWS's `KeyMaterialId`.
pub(crate) fn new_material_id(env: &Env<'_>) -> String {
    data_encoding::HEXLOWER.encode(&env.random(32))
}

/// Seals `secret` as material `id` of the key `key_arn`.
pub(crate) fn seal(
    env: &Env<'_>,
    key_arn: &str,
    id: String,
    secret: &[u8],
    created: OffsetDateTime,
    rotation_type: Option<&str>,
) -> Material {
    let sealed = env.root_key.seal(secret, &material_context(key_arn, &id));
    Material {
        id,
        sealed: data_encoding::BASE64.encode(&sealed),
        created,
        rotation_type: rotation_type.map(str::to_owned),
    }
}

/// Opens a stored material of `key`.
pub(crate) fn open(
    env: &Env<'_>,
    key: &KeyRecord,
    material: &Material,
) -> Result<SecretBytes, KmsError> {
    let sealed = data_encoding::BASE64
        .decode(material.sealed.as_bytes())
        .map_err(|_| KmsError::Internal)?;
    env.root_key
        .open(&sealed, &material_context(&key.arn, &material.id))
        .map_err(|_| KmsError::Internal)
}

/// The key's current material (the newest), opened, with its id. Scheduled rotations that
/// are due but not yet written are taken into account (rotation.rs).
pub(crate) fn current(env: &Env<'_>, key: &KeyRecord) -> Result<(String, SecretBytes), KmsError> {
    if let Some(derived) = crate::rotation::due_materials(env, key)?.pop() {
        return Ok(derived);
    }
    let material = key.materials.last().ok_or(KmsError::Internal)?;
    Ok((material.id.clone(), open(env, key, material)?))
}

/// The key's material `id` (current or older), opened; `None` if the key has no such
/// material.
pub(crate) fn by_id(
    env: &Env<'_>,
    key: &KeyRecord,
    id: &str,
) -> Result<Option<SecretBytes>, KmsError> {
    if let Some(material) = key.materials.iter().find(|m| m.id == id) {
        return open(env, key, material).map(Some);
    }
    Ok(crate::rotation::due_materials(env, key)?
        .into_iter()
        .find(|(derived_id, _)| derived_id == id)
        .map(|(_, secret)| secret))
}
