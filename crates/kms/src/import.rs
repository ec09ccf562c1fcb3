//! Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial.
//!
//! A key created with `Origin` `EXTERNAL` has no material until its owner imports some,
//! wrapped under an RSA public key that GetParametersForImport hands out with an import
//! token. The token is the wrapping private key, the wrapping algorithm and the token's
//! expiry, sealed under the root key and bound to the key's ARN: Rampart keeps no state
//! between the two calls, and a token works for its own key only.
//!
//! Once imported, the same material (never another) may be imported again, to bring it back
//! after DeleteImportedKeyMaterial or its expiry, or to change its expiry. Material whose
//! `ValidTo` has passed is gone at once everywhere (`KeyRecord::at`).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    PrivateDecryptingKey,
};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair};
use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::KmsError;
use crate::keys::load_for_write;
use crate::material;
use crate::records::{self, Imported, KeyRecord, KeyState, Origin};
use crate::resolve::{self, find_own_key};
use crate::spec::KeySpec;

/// How long a public key and its import token may be used.
const TOKEN_LIFETIME: Duration = Duration::hours(24);
/// The furthest `ValidTo` an import may set.
const MAX_VALID_FOR: Duration = Duration::days(365);
/// The import token's format version (its first byte).
const TOKEN_VERSION: u8 = 1;

const EXPIRES: &str = "KEY_MATERIAL_EXPIRES";
const DOES_NOT_EXPIRE: &str = "KEY_MATERIAL_DOES_NOT_EXPIRE";

/// The wrapping algorithms KMS offers (RSAES_PKCS1_V1_5 no longer, SM2PKE in China only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapping {
    /// The material itself, RSAES-OAEP with SHA-1.
    OaepSha1,
    /// The material itself, RSAES-OAEP with SHA-256.
    OaepSha256,
    /// An AES-256 key wrapped with RSAES-OAEP (SHA-1), then the material wrapped with it by
    /// AES Key Wrap with Padding (RFC 5649).
    RsaAesSha1,
    /// The same with RSAES-OAEP (SHA-256).
    RsaAesSha256,
}

impl Wrapping {
    const ALL: [(Self, &'static str); 4] = [
        (Self::OaepSha1, "RSAES_OAEP_SHA_1"),
        (Self::OaepSha256, "RSAES_OAEP_SHA_256"),
        (Self::RsaAesSha1, "RSA_AES_KEY_WRAP_SHA_1"),
        (Self::RsaAesSha256, "RSA_AES_KEY_WRAP_SHA_256"),
    ];

    fn parse(name: &str) -> Result<Self, KmsError> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(w, _)| *w)
            .ok_or_else(|| match name {
                "RSAES_PKCS1_V1_5" => KmsError::Validation(
                    "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256."
                        .to_owned(),
                ),
                other => KmsError::Validation(format!(
                    "WrappingAlgorithm {other} is not supported in this Region."
                )),
            })
    }

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(w, _)| *w == self)
            .map_or("", |(_, n)| n)
    }

    fn code(self) -> u8 {
        match self {
            Self::OaepSha1 => 1,
            Self::OaepSha256 => 2,
            Self::RsaAesSha1 => 3,
            Self::RsaAesSha256 => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().map(|(w, _)| *w).find(|w| w.code() == code)
    }

    fn oaep(self) -> &'static OaepAlgorithm {
        match self {
            Self::OaepSha1 | Self::RsaAesSha1 => &OAEP_SHA1_MGF1SHA1,
            Self::OaepSha256 | Self::RsaAesSha256 => &OAEP_SHA256_MGF1SHA256,
        }
    }
}

/// `ExpirationModel` for material that expires at `valid_to` (or never).
pub(crate) fn expiration_model(valid_to: Option<OffsetDateTime>) -> &'static str {
    if valid_to.is_some() {
        EXPIRES
    } else {
        DOES_NOT_EXPIRE
    }
}

/// The refusal of an import operation (or a rotation) on a key whose origin does not allow it.
pub(crate) fn origin_not_valid(key: &KeyRecord) -> KmsError {
    KmsError::UnsupportedOperation(format!(
        "{} origin is {} which is not valid for this operation.",
        key.arn,
        key.origin.as_str()
    ))
}

fn require_external(key: &KeyRecord) -> Result<(), KmsError> {
    if key.origin != Origin::External {
        return Err(origin_not_valid(key));
    }
    resolve::require_not_pending_deletion(key)
}

fn token_context(key_arn: &str) -> Vec<u8> {
    format!("rampart-kms-import-token:{key_arn}").into_bytes()
}

/// GetParametersForImport's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersForImportInput {
    key_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
}

/// GetParametersForImport's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersForImportOutput {
    key_id: String,
    import_token: String,
    public_key: String,
    parameters_valid_to: String,
}

/// GetParametersForImport: a fresh RSA wrapping key pair; the public half in the clear, the
/// private half inside the import token.
pub(crate) fn get_parameters_for_import(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetParametersForImportInput,
) -> Result<GetParametersForImportOutput, KmsError> {
    let key = find_own_key(tx, env, &input.key_id)?;
    require_external(&key)?;
    let wrapping = Wrapping::parse(&input.wrapping_algorithm)?;
    let size = match input.wrapping_key_spec.as_str() {
        "RSA_2048" => KeySize::Rsa2048,
        "RSA_3072" => KeySize::Rsa3072,
        "RSA_4096" => KeySize::Rsa4096,
        other => {
            return Err(KmsError::Validation(format!(
                "WrappingKeySpec {other} is not supported in this Region."
            )));
        }
    };
    // An RSA private key is larger than RSAES-OAEP can carry.
    if matches!(KeySpec::parse(&key.key_spec)?, KeySpec::Rsa(_))
        && matches!(wrapping, Wrapping::OaepSha1 | Wrapping::OaepSha256)
    {
        return Err(KmsError::Validation(format!(
            "{} cannot be used to import RSA key material: use an RSA_AES_KEY_WRAP wrapping algorithm.",
            wrapping.name()
        )));
    }
    let keygen_failed = || {
        tracing::error!("wrapping key generation failed in aws-lc");
        KmsError::Internal
    };
    let private = PrivateDecryptingKey::generate(size).map_err(|_| keygen_failed())?;
    let public = private.public_key().as_der().map_err(|_| keygen_failed())?;
    let private_der = private.as_der().map_err(|_| keygen_failed())?;
    let valid_to = env.now + TOKEN_LIFETIME;
    let mut token = Zeroizing::new(Vec::with_capacity(10 + private_der.as_ref().len()));
    token.push(TOKEN_VERSION);
    token.push(wrapping.code());
    token.extend_from_slice(&valid_to.unix_timestamp().to_be_bytes());
    token.extend_from_slice(private_der.as_ref());
    let sealed = env.root_key.seal(&token, &token_context(&key.arn));
    Ok(GetParametersForImportOutput {
        key_id: key.arn,
        import_token: data_encoding::BASE64.encode(&sealed),
        public_key: data_encoding::BASE64.encode(public.as_ref()),
        parameters_valid_to: aws_timestamp(valid_to),
    })
}

/// ImportKeyMaterial's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportKeyMaterialInput {
    key_id: String,
    import_token: String,
    encrypted_key_material: String,
    valid_to: Option<String>,
    expiration_model: Option<String>,
    import_type: Option<String>,
    key_material_id: Option<String>,
    key_material_description: Option<String>,
}

/// ImportKeyMaterial's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportKeyMaterialOutput {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// ImportKeyMaterial: unwraps the material with the token's private key, checks it fits the
/// key (and is the material imported before, if any), and makes the key usable.
pub(crate) fn import_key_material(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ImportKeyMaterialInput,
) -> Result<ImportKeyMaterialOutput, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    require_external(&key)?;
    if input.import_type.as_deref() == Some("NEW_KEY_MATERIAL")
        || input.key_material_description.is_some()
    {
        return Err(KmsError::UnsupportedOperation(
            "Rampart does not support importing new key material for rotation yet (see docs/COVERAGE.md)"
                .to_owned(),
        ));
    }
    let valid_to = expiry(
        env,
        input.expiration_model.as_deref(),
        input.valid_to.as_deref(),
    )?;
    let (wrapping, private) = open_token(env, &key, &input.import_token)?;
    let wrapped = data_encoding::BASE64
        .decode(input.encrypted_key_material.as_bytes())
        .map_err(|_| KmsError::Validation("EncryptedKeyMaterial is not valid base64".to_owned()))?;
    let secret = unwrap_material(wrapping, private, &wrapped)?;
    let spec = KeySpec::parse(&key.key_spec)?;
    let public_key = check_material(&key, spec, &secret)?;
    let material_id = material_id(&key, &secret);
    if let Some(expected) = &input.key_material_id
        && !rampart_crypto::constant_time_eq(expected.as_bytes(), material_id.as_bytes())
    {
        return Err(KmsError::IncorrectKeyMaterial(format!(
            "The key material does not have the key material ID {expected}."
        )));
    }
    if let Some(previous) = &key.imported
        && !rampart_crypto::constant_time_eq(
            previous.material_id.as_bytes(),
            material_id.as_bytes(),
        )
    {
        return Err(KmsError::IncorrectKeyMaterial(format!(
            "The key material is not the key material previously imported into {}.",
            key.arn
        )));
    }
    if key.materials.is_empty() {
        key.materials.push(material::seal(
            env,
            &key.arn,
            material_id.clone(),
            &secret,
            env.now,
            None,
        ));
        key.public_key = public_key.map(|p| data_encoding::BASE64.encode(&p));
    }
    if key.state == KeyState::PendingImport {
        key.state = KeyState::Enabled;
    }
    key.imported = Some(Imported {
        material_id: material_id.clone(),
        valid_to,
    });
    records::save_key(tx, &key)?;
    Ok(ImportKeyMaterialOutput {
        // AWS names the material of symmetric encryption keys only.
        key_material_id: (spec == KeySpec::Symmetric).then_some(material_id),
        key_id: key.arn,
    })
}

/// The expiry an import asks for: `None` for material that does not expire.
fn expiry(
    env: &Env<'_>,
    model: Option<&str>,
    valid_to: Option<&str>,
) -> Result<Option<OffsetDateTime>, KmsError> {
    match (model.unwrap_or(EXPIRES), valid_to) {
        (DOES_NOT_EXPIRE, None) => Ok(None),
        (DOES_NOT_EXPIRE, Some(_)) => Err(KmsError::Validation(
            "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
                .to_owned(),
        )),
        (_, None) => Err(KmsError::Validation(
            "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".to_owned(),
        )),
        (_, Some(text)) => {
            let at = OffsetDateTime::parse(text, &Rfc3339)
                .map_err(|_| KmsError::Validation(format!("ValidTo '{text}' is not a date")))?;
            if at <= env.now || at > env.now + MAX_VALID_FOR {
                return Err(KmsError::Validation(
                    "ValidTo must be in the future and at most 365 days from now".to_owned(),
                ));
            }
            Ok(Some(at))
        }
    }
}

/// The wrapping algorithm and private key an import token carries, once its seal, its key
/// and its expiry are checked.
fn open_token(
    env: &Env<'_>,
    key: &KeyRecord,
    token: &str,
) -> Result<(Wrapping, PrivateDecryptingKey), KmsError> {
    let invalid = || {
        KmsError::InvalidImportToken(format!(
            "The import token is not valid for {}: use an import token GetParametersForImport returned for this KMS key.",
            key.arn
        ))
    };
    let sealed = data_encoding::BASE64
        .decode(token.as_bytes())
        .map_err(|_| invalid())?;
    let opened = env
        .root_key
        .open(&sealed, &token_context(&key.arn))
        .map_err(|_| invalid())?;
    let bytes = opened.expose();
    let (Some(&TOKEN_VERSION), Some(&code), Some(time), Some(der)) = (
        bytes.first(),
        bytes.get(1),
        bytes.get(2..10),
        bytes.get(10..),
    ) else {
        return Err(invalid());
    };
    let wrapping = Wrapping::from_code(code).ok_or_else(invalid)?;
    let seconds = i64::from_be_bytes(time.try_into().map_err(|_| invalid())?);
    let valid_to = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| invalid())?;
    if valid_to <= env.now {
        return Err(KmsError::ExpiredImportToken(format!(
            "The import token expired at {}: call GetParametersForImport for a new one.",
            aws_timestamp(valid_to)
        )));
    }
    let private = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| invalid())?;
    Ok((wrapping, private))
}

/// The material `wrapped` carries, unwrapped as `wrapping` says.
fn unwrap_material(
    wrapping: Wrapping,
    private: PrivateDecryptingKey,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let undecryptable = || {
        KmsError::InvalidCiphertext(format!(
            "The EncryptedKeyMaterial could not be decrypted with the import token's wrapping key and {}.",
            wrapping.name()
        ))
    };
    let private = OaepPrivateDecryptingKey::new(private).map_err(|_| KmsError::Internal)?;
    let rsa_len = private.key_size_bytes();
    let (rsa_part, aes_part) = match wrapping {
        Wrapping::OaepSha1 | Wrapping::OaepSha256 => (wrapped, None),
        Wrapping::RsaAesSha1 | Wrapping::RsaAesSha256 => {
            let (head, tail) = wrapped
                .split_at_checked(rsa_len)
                .ok_or_else(undecryptable)?;
            (head, Some(tail))
        }
    };
    let mut first = Zeroizing::new(vec![0u8; private.min_output_size()]);
    let len = private
        .decrypt(wrapping.oaep(), rsa_part, &mut first, None)
        .map_err(|_| undecryptable())?
        .len();
    first.truncate(len);
    let Some(aes_part) = aes_part else {
        return Ok(first);
    };
    let kek = AesKek::new(&AES_256, &first).map_err(|_| undecryptable())?;
    let mut out = Zeroizing::new(vec![0u8; aes_part.len()]);
    let len = kek
        .unwrap_with_padding(aes_part, &mut out)
        .map_err(|_| undecryptable())?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Checks that `secret` is material for a key of `spec`: its size, or for asymmetric keys a
/// PKCS#8 private key of the key's kind. Returns the public key (DER SPKI) of asymmetric
/// material.
fn check_material(
    key: &KeyRecord,
    spec: KeySpec,
    secret: &[u8],
) -> Result<Option<Vec<u8>>, KmsError> {
    let incorrect = |what: String| {
        KmsError::IncorrectKeyMaterial(format!(
            "The key material is not valid for {} (KeySpec {}): {what}",
            key.arn, key.key_spec
        ))
    };
    match spec {
        KeySpec::Symmetric if secret.len() == 32 => Ok(None),
        KeySpec::Symmetric => Err(incorrect("it must be 256 bits (32 bytes)".to_owned())),
        KeySpec::Hmac(bits) => {
            let min = (bits / 8) as usize;
            let max = if bits <= 256 { 64 } else { 128 };
            if (min..=max).contains(&secret.len()) {
                Ok(None)
            } else {
                Err(incorrect(format!("it must be {min} to {max} bytes")))
            }
        }
        KeySpec::Rsa(bits) => {
            let pair = RsaKeyPair::from_pkcs8(secret)
                .map_err(|_| incorrect("it is not an RSA private key in PKCS #8 DER".to_owned()))?;
            if pair.public_modulus_len() * 8 != bits as usize {
                return Err(incorrect(format!("the RSA modulus must be {bits} bits")));
            }
            let public = pair.public_key().as_der().map_err(|_| KmsError::Internal)?;
            Ok(Some(public.as_ref().to_vec()))
        }
        KeySpec::Ecc(curve) => {
            let pair =
                EcdsaKeyPair::from_pkcs8(material::ecdsa_signing(curve), secret).map_err(|_| {
                    incorrect(
                        "it is not a private key of the key's curve in PKCS #8 DER".to_owned(),
                    )
                })?;
            let public = pair.public_key().as_der().map_err(|_| KmsError::Internal)?;
            Ok(Some(public.as_ref().to_vec()))
        }
    }
}

/// The id of `secret` as `key`'s material: the same material always gets the same id for
/// the same key, as AWS derives it from both. An HMAC keyed by the material, so the id gives
/// nothing of it away.
fn material_id(key: &KeyRecord, secret: &[u8]) -> String {
    let mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        format!("rampart-kms-imported-material-id:{}", key.key_id).as_bytes(),
    );
    data_encoding::HEXLOWER.encode(mac.as_ref())
}

/// DeleteImportedKeyMaterial's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteImportedKeyMaterialInput {
    key_id: String,
    key_material_id: Option<String>,
}

/// DeleteImportedKeyMaterial's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteImportedKeyMaterialOutput {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// DeleteImportedKeyMaterial: the key keeps its identity, policy and the id of its
/// material, and waits for the same material to be imported again.
pub(crate) fn delete_imported_key_material(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteImportedKeyMaterialInput,
) -> Result<DeleteImportedKeyMaterialOutput, KmsError> {
    let mut key = load_for_write(env, tx, &input.key_id)?;
    require_external(&key)?;
    let material_id = key.imported.as_ref().map(|i| i.material_id.clone());
    if let Some(requested) = &input.key_material_id
        && material_id.as_ref() != Some(requested)
    {
        return Err(KmsError::NotFound(format!(
            "Key material {requested} does not exist for {}",
            key.arn
        )));
    }
    key.materials.clear();
    key.state = KeyState::PendingImport;
    records::save_key(tx, &key)?;
    let symmetric = KeySpec::parse(&key.key_spec)? == KeySpec::Symmetric;
    Ok(DeleteImportedKeyMaterialOutput {
        key_id: key.arn,
        key_material_id: material_id.filter(|_| symmetric),
    })
}
