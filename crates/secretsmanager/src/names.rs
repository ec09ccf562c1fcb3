//! Secret names and ARNs, as AWS makes and reads them.
//!
//! A secret's ARN is `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`:
//! the suffix, random, tells a secret from an earlier one of the same name. A request names a
//! secret by its name, its full ARN, or a partial ARN (the ARN without the suffix); an ARN may
//! name a secret of another account, which its resource policy decides who may use.

use aws_lc_rs::digest::{SHA256, digest};
use rampart_service::Env;
use rampart_store::{ReadTx, StoreError};

use crate::error::SecretsError;
use crate::records::{self, SecretRecord};

/// The characters of an ARN's suffix.
const SUFFIX_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// The length of an ARN's suffix, after its hyphen.
const SUFFIX_LEN: usize = 6;

/// Where a request's `SecretId` points: the account, region and name to look in, and, for a
/// full ARN, the ARN the secret must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretRef {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) name: String,
    /// How the secret's ARN must be: equal to a full ARN, or a partial ARN and its suffix.
    pub(crate) arn: ArnMatch,
}

/// How a found secret's ARN must match what the request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnMatch {
    /// Named by name: any.
    Any,
    /// Named by full ARN: exactly this.
    Exact(String),
    /// Named by partial ARN: this, a hyphen and the suffix.
    Partial(String),
}

impl SecretRef {
    fn accepts(&self, record: &SecretRecord) -> bool {
        match &self.arn {
            ArnMatch::Any => true,
            ArnMatch::Exact(arn) => record.arn == *arn,
            ArnMatch::Partial(prefix) => record
                .arn
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.len() == SUFFIX_LEN + 1 && rest.starts_with('-')),
        }
    }
}

/// The ARN a secret `name` of `account` in `region` gets, with `suffix`.
pub(crate) fn secret_arn(region: &str, account: &str, name: &str, suffix: &str) -> String {
    format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}")
}

/// The ARN a request names a secret it cannot find by: as given when an ARN, else the name's
/// ARN without a suffix.
pub(crate) fn named_arn(env: &Env<'_>, given: &str) -> String {
    if given.starts_with("arn:") {
        return given.to_owned();
    }
    format!(
        "arn:aws:secretsmanager:{}:{}:secret:{given}",
        env.region, env.caller.account_id
    )
}

/// The suffix of a secret created by this request: derived from the request's ID, so that the
/// authorize step names the same ARN the handler gives the secret.
pub(crate) fn new_suffix(env: &Env<'_>, name: &str) -> String {
    let hash = digest(&SHA256, format!("{}|{name}", env.request_id).as_bytes());
    hash.as_ref()
        .iter()
        .take(SUFFIX_LEN)
        .map(|b| {
            let at = usize::from(*b) % SUFFIX_ALPHABET.len();
            char::from(SUFFIX_ALPHABET.get(at).copied().unwrap_or(b'a'))
        })
        .collect()
}

/// The ways `given` may name a secret, most specific first.
pub(crate) fn candidates(env: &Env<'_>, given: &str) -> Vec<SecretRef> {
    let Some(rest) = given.strip_prefix("arn:") else {
        return vec![SecretRef {
            account: env.caller.account_id.clone(),
            region: env.region.to_owned(),
            name: given.to_owned(),
            arn: ArnMatch::Any,
        }];
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_partition, service, region, account, resource] = parts.as_slice() else {
        return Vec::new();
    };
    let Some(name) = resource.strip_prefix("secret:") else {
        return Vec::new();
    };
    if *service != "secretsmanager" || name.is_empty() {
        return Vec::new();
    }
    let at = |name: &str, arn: ArnMatch| SecretRef {
        account: (*account).to_owned(),
        region: (*region).to_owned(),
        name: name.to_owned(),
        arn,
    };
    let mut found = Vec::new();
    if let Some(cut) = name.len().checked_sub(SUFFIX_LEN + 1)
        && name.as_bytes().get(cut) == Some(&b'-')
        && let Some(base) = name.get(..cut)
        && !base.is_empty()
    {
        found.push(at(base, ArnMatch::Exact(given.to_owned())));
    }
    found.push(at(name, ArnMatch::Partial(given.to_owned())));
    found
}

/// The secret `given` names, scheduled for deletion or not.
pub(crate) fn find(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    given: &str,
) -> Result<Option<SecretRecord>, StoreError> {
    for candidate in candidates(env, given) {
        if let Some(record) =
            records::load(tx, &candidate.account, &candidate.region, &candidate.name)?
            && candidate.accepts(&record)
        {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The secret `given` names, or AWS's ResourceNotFoundException.
pub(crate) fn existing(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    given: &str,
) -> Result<SecretRecord, SecretsError> {
    find(env, tx, given)?.ok_or_else(SecretsError::not_found)
}

/// The secret `given` names, which must not be scheduled for deletion.
pub(crate) fn live(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    given: &str,
) -> Result<SecretRecord, SecretsError> {
    let record = existing(env, tx, given)?;
    if record.deleted.is_some() {
        return Err(SecretsError::marked_for_deletion());
    }
    Ok(record)
}

/// Checks a new secret's name as AWS does: ASCII letters, digits and `/_+=.@-`.
pub(crate) fn check_name(name: &str) -> Result<(), SecretsError> {
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b));
    if !valid {
        return Err(SecretsError::InvalidParameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the \
             following: -/_+=.@!"
                .to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;
    use rampart_service::testing::TestEnv;

    #[test]
    fn full_and_partial_arns_name_the_same_secret() {
        let env = TestEnv::new();
        env.with_env(|env| {
            let full = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/pw-AbC123";
            let found = candidates(env, full);
            assert_eq!(found.len(), 2);
            assert_eq!(found[0].name, "db/pw");
            assert_eq!(found[0].arn, ArnMatch::Exact(full.to_owned()));
            assert_eq!(found[1].name, "db/pw-AbC123");
            let partial = candidates(
                env,
                "arn:aws:secretsmanager:eu-west-1:210987654321:secret:db",
            );
            assert_eq!(partial.len(), 1);
            assert_eq!(
                (partial[0].account.as_str(), partial[0].region.as_str()),
                ("210987654321", "eu-west-1")
            );
            assert!(candidates(env, "arn:aws:ssm:us-east-1:1:parameter/x").is_empty());
            assert_eq!(candidates(env, "plain")[0].arn, ArnMatch::Any);
            let suffix = new_suffix(env, "db/pw");
            assert_eq!(suffix.len(), SUFFIX_LEN);
            assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(suffix, new_suffix(env, "db/pw"));
        });
    }

    #[test]
    fn names_hold_letters_digits_and_six_symbols() {
        assert!(check_name("prod/db_password+x=y.z@w-1").is_ok());
        assert!(check_name("bad name").is_err());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(513)).is_err());
    }
}
