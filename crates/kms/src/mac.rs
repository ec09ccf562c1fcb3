//! HMAC keys: GenerateMac and VerifyMac.

use aws_lc_rs::hmac;
use rampart_service::Env;
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::crypto_symmetric::{decode, dry_run, encode, spec_of, usable_key};
use crate::error::KmsError;
use crate::grants::check_tokens;
use crate::material;
use crate::records::KeyRecord;
use crate::spec::GENERATE_VERIFY_MAC;

/// GenerateMac's and VerifyMac's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MacInput {
    message: String,
    key_id: String,
    mac_algorithm: String,
    mac: Option<String>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

fn mac_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &MacInput,
    operation: &str,
) -> Result<(KeyRecord, hmac::Key), KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    let (key, _) = usable_key(env, tx, &input.key_id, GENERATE_VERIFY_MAC, operation)?;
    let spec = spec_of(&key)?;
    let algorithm = match input.mac_algorithm.as_str() {
        a if !spec.mac_algorithms().contains(&a) => {
            return Err(KmsError::InvalidKeyUsage(format!(
                "{} key spec {} does not support MAC algorithm {a}.",
                key.arn, key.key_spec
            )));
        }
        "HMAC_SHA_224" => hmac::HMAC_SHA224,
        "HMAC_SHA_256" => hmac::HMAC_SHA256,
        "HMAC_SHA_384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let m = key.materials.last().ok_or(KmsError::Internal)?;
    let secret = material::open(env, &key, m)?;
    let hkey = hmac::Key::new(algorithm, secret.expose());
    Ok((key, hkey))
}

/// GenerateMac's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateMacOutput {
    mac: String,
    mac_algorithm: String,
    key_id: String,
}

/// GenerateMac.
pub(crate) fn generate_mac(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: MacInput,
) -> Result<GenerateMacOutput, KmsError> {
    let (key, hkey) = mac_key(env, tx, &input, "GenerateMac")?;
    let message = decode(&input.message)?;
    let tag = hmac::sign(&hkey, &message);
    dry_run(input.dry_run)?;
    Ok(GenerateMacOutput {
        mac: encode(tag.as_ref()),
        mac_algorithm: input.mac_algorithm,
        key_id: key.arn,
    })
}

/// VerifyMac's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyMacOutput {
    key_id: String,
    mac_valid: bool,
    mac_algorithm: String,
}

/// VerifyMac: a MAC that does not verify is a KMSInvalidMacException (constant-time check).
pub(crate) fn verify_mac(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: MacInput,
) -> Result<VerifyMacOutput, KmsError> {
    let (key, hkey) = mac_key(env, tx, &input, "VerifyMac")?;
    let message = decode(&input.message)?;
    let mac = decode(input.mac.as_deref().unwrap_or_default())?;
    if hmac::verify(&hkey, &message, &mac).is_err() {
        return Err(KmsError::InvalidMac(String::new()));
    }
    dry_run(input.dry_run)?;
    Ok(VerifyMacOutput {
        key_id: key.arn,
        mac_valid: true,
        mac_algorithm: input.mac_algorithm,
    })
}
