//! Encoded authorization messages: the details of a denial, sealed so that only a principal
//! of the same account allowed `sts:DecodeAuthorizationMessage` can read them.

use rampart_crypto::RootKey;
use rampart_service::{Env, Operation};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::StsError;

pub(crate) fn operation() -> Operation {
    Operation::read(
        "DecodeAuthorizationMessage",
        "sts:DecodeAuthorizationMessage",
        decode_authorization_message,
    )
}

fn seal_context(account_id: &str) -> Vec<u8> {
    format!("sts.authorization-message/{account_id}").into_bytes()
}

/// Seals `details` (AWS's decoded-message JSON: `allowed`, `explicitDeny`,
/// `matchedStatements`, `failures`, `context`) for `account_id`.
pub fn encode_authorization_message(
    root_key: &RootKey,
    account_id: &str,
    details: &serde_json::Value,
) -> String {
    let plain = details.to_string();
    data_encoding::BASE64URL_NOPAD
        .encode(&root_key.seal(plain.as_bytes(), &seal_context(account_id)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecodeInput {
    encoded_message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecodeOutput {
    decoded_message: String,
}

fn decode_authorization_message(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: DecodeInput,
) -> Result<DecodeOutput, StsError> {
    let invalid = || StsError::InvalidAuthorizationMessage("Invalid encoded message.".into());
    let sealed = data_encoding::BASE64URL_NOPAD
        .decode(input.encoded_message.trim().as_bytes())
        .map_err(|_| invalid())?;
    let plain = env
        .root_key
        .open(&sealed, &seal_context(&env.caller.account_id))
        .map_err(|_| invalid())?;
    let decoded_message = String::from_utf8(plain.expose().to_vec()).map_err(|_| invalid())?;
    Ok(DecodeOutput { decoded_message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::{Caller, OsEntropy};

    #[test]
    fn a_message_decodes_in_its_account_only() {
        let key = RootKey::generate();
        let details = serde_json::json!({"allowed": false, "explicitDeny": true});
        let encoded = encode_authorization_message(&key, "111122223333", &details);
        let decode = |account: &str| {
            let caller = Caller::root(account, "AKIA");
            let env = Env {
                caller: &caller,
                region: "us-east-1",
                request_id: "r",
                now: time::OffsetDateTime::UNIX_EPOCH,
                root_key: &key,
                entropy: &OsEntropy,
                inherited: None,
                federation: None,
                rate_limits: &rampart_service::RateLimits::new(),
                calls: &rampart_service::NoServiceCalls,
                directory: &rampart_service::NoDirectory,
            };
            struct NoReads;
            impl ReadTx for NoReads {
                fn get(
                    &mut self,
                    _: &str,
                    _: &str,
                ) -> Result<Option<Vec<u8>>, rampart_store::StoreError> {
                    Ok(None)
                }
                fn scan(
                    &mut self,
                    _: &str,
                    _: &str,
                    _: Option<&str>,
                    _: usize,
                ) -> Result<Vec<(String, Vec<u8>)>, rampart_store::StoreError> {
                    Ok(Vec::new())
                }
                fn journal_after(
                    &mut self,
                    _: u64,
                    _: usize,
                ) -> Result<Vec<rampart_store::JournalEntry>, rampart_store::StoreError>
                {
                    Ok(Vec::new())
                }
            }
            decode_authorization_message(
                &env,
                &mut NoReads,
                DecodeInput {
                    encoded_message: encoded.clone(),
                },
            )
        };
        let decoded: serde_json::Value =
            serde_json::from_str(&decode("111122223333").unwrap().decoded_message).unwrap();
        assert_eq!(decoded, details);
        assert!(matches!(
            decode("999988887777"),
            Err(StsError::InvalidAuthorizationMessage(_))
        ));
    }
}
