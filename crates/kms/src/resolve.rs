//! Naming a key: key id, key ARN, alias name or alias ARN all identify a key wherever a
//! `KeyId` is accepted; and the key states each kind of operation requires.

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx, get_json_memo};
use time::OffsetDateTime;

use crate::error::KmsError;
use crate::records::{self, ALIASES, AliasRecord, GRANTS, KEYS, KeyRecord, KeyState};

/// What a `KeyId` parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key, by account, region and id.
    Key {
        account: String,
        region: String,
        key_id: String,
    },
    /// An alias, by account, region and name (`alias/…`).
    Alias {
        account: String,
        region: String,
        name: String,
    },
}

impl KeyRef {
    /// Reads a `KeyId` as AWS does: an ARN names its own account and region; a bare key id
    /// or alias name is the caller's, in the request's region.
    pub(crate) fn parse(env: &Env<'_>, text: &str) -> Self {
        if let Some(rest) = text.strip_prefix("arn:")
            && let [_partition, "kms", region, account, resource] =
                rest.splitn(5, ':').collect::<Vec<_>>().as_slice()
        {
            if let Some(key_id) = resource.strip_prefix("key/") {
                return Self::Key {
                    account: (*account).to_owned(),
                    region: (*region).to_owned(),
                    key_id: key_id.to_owned(),
                };
            }
            if resource.starts_with("alias/") {
                return Self::Alias {
                    account: (*account).to_owned(),
                    region: (*region).to_owned(),
                    name: (*resource).to_owned(),
                };
            }
        }
        if text.starts_with("alias/") {
            return Self::Alias {
                account: env.caller.account_id.clone(),
                region: env.region.to_owned(),
                name: text.to_owned(),
            };
        }
        Self::Key {
            account: env.caller.account_id.clone(),
            region: env.region.to_owned(),
            key_id: text.to_owned(),
        }
    }

    /// The ARN the reference names (a key's or an alias's), for authorization.
    pub(crate) fn arn(&self) -> String {
        match self {
            Self::Key {
                account,
                region,
                key_id,
            } => records::key_arn(region, account, key_id),
            Self::Alias {
                account,
                region,
                name,
            } => records::alias_arn(region, account, name),
        }
    }
}

fn key_not_found(arn: &str) -> KmsError {
    KmsError::NotFound(format!("Key '{arn}' does not exist"))
}

/// The key `key_id` names, if it exists and its deletion date has not come. Keys live in
/// the request's region: an ARN of another region names nothing here.
pub(crate) fn find_key(
    tx: &mut (impl ReadTx + ?Sized),
    env: &Env<'_>,
    key_id: &str,
) -> Result<KeyRecord, KmsError> {
    let reference = KeyRef::parse(env, key_id);
    let (account, region, id) = match &reference {
        KeyRef::Key {
            account,
            region,
            key_id,
        } => (account.clone(), region.clone(), key_id.clone()),
        KeyRef::Alias {
            account,
            region,
            name,
        } => {
            let alias: Option<AliasRecord> =
                get_json_memo(tx, ALIASES, &records::alias_doc(account, region, name))?;
            let Some(alias) = alias else {
                return Err(KmsError::NotFound(format!(
                    "Alias {} is not found.",
                    reference.arn()
                )));
            };
            (account.clone(), region.clone(), alias.target_key_id)
        }
    };
    if region != env.region {
        return Err(key_not_found(&records::key_arn(&region, &account, &id)));
    }
    match records::load_key(tx, &account, &region, &id)? {
        Some(key) if !key.is_deleted(env.now) => {
            let key = crate::multi_region::settle(tx, key.at(env.now), env.now)?;
            if key.is_deleted(env.now) {
                return Err(key_not_found(&key.arn));
            }
            Ok(key)
        }
        _ => Err(key_not_found(&records::key_arn(&region, &account, &id))),
    }
}

/// Management operations (aliases, tags, descriptions, rotation settings) may only act on
/// keys of the caller's own account, as AWS's "Cross-account use: No" says.
pub(crate) fn find_own_key(
    tx: &mut (impl ReadTx + ?Sized),
    env: &Env<'_>,
    key_id: &str,
) -> Result<KeyRecord, KmsError> {
    let key = find_key(tx, env, key_id)?;
    if key.account_id != env.caller.account_id {
        return Err(key_not_found(&key.arn));
    }
    Ok(key)
}

/// Cryptographic operations need an enabled key.
pub(crate) fn require_enabled(key: &KeyRecord) -> Result<(), KmsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(KmsError::Disabled(format!("{} is disabled.", key.arn))),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Err(pending_deletion(key)),
        KeyState::PendingImport => Err(pending_import(key)),
    }
}

pub(crate) fn pending_import(key: &KeyRecord) -> KmsError {
    KmsError::InvalidState(format!("{} is pending import.", key.arn))
}

/// Changes to a key (other than cancelling its deletion) are refused while it is pending
/// deletion.
pub(crate) fn require_not_pending_deletion(key: &KeyRecord) -> Result<(), KmsError> {
    if matches!(
        key.state,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
    ) {
        return Err(pending_deletion(key));
    }
    Ok(())
}

pub(crate) fn pending_deletion(key: &KeyRecord) -> KmsError {
    let what = match key.state {
        KeyState::PendingReplicaDeletion => "pending replica deletion",
        _ => "pending deletion",
    };
    KmsError::InvalidState(format!("{} is {what}.", key.arn))
}

/// The key's usage must be `usage` for `operation`.
pub(crate) fn require_usage(key: &KeyRecord, usage: &str, operation: &str) -> Result<(), KmsError> {
    if key.key_usage != usage {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for {operation}.",
            key.arn, key.key_usage
        )));
    }
    Ok(())
}

/// Deletes the keys of the caller's account and region whose deletion date has come, with
/// their aliases and grants. Called by successful writes (CreateKey, ScheduleKeyDeletion):
/// a failed request's writes are rolled back, so a purge must ride on one that succeeds.
pub(crate) fn purge_deleted(tx: &mut dyn WriteTx, env: &Env<'_>) -> Result<(), KmsError> {
    let prefix = format!("{}/{}/", env.caller.account_id, env.region);
    let mut after: Option<String> = None;
    let mut gone = Vec::new();
    loop {
        let page: Vec<(String, KeyRecord)> =
            rampart_store::scan_json(tx, KEYS, &prefix, after.as_deref(), 500)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        gone.extend(page.into_iter().filter(|(_, k)| k.is_deleted(env.now)));
    }
    for (_, key) in gone {
        purge_key(tx, env, &key)?;
    }
    Ok(())
}

/// Deletes `key`, whose deletion date has come, with its aliases and grants, and records
/// KMS's `DeleteKey` service event: whichever comes first, a request's purge or the
/// scheduler's at the date, deletes it, once.
pub(crate) fn purge_key(
    tx: &mut dyn WriteTx,
    env: &Env<'_>,
    key: &KeyRecord,
) -> Result<(), KmsError> {
    let doc = key.store_key();
    tx.delete(KEYS, &doc)?;
    tx.delete(crate::last_usage::LAST_USES, &doc)?;
    crate::multi_region::forget(tx, key)?;
    let prefix = format!("{}/{}/", key.account_id, key.region);
    let aliases: Vec<(String, AliasRecord)> =
        rampart_store::scan_json(tx, ALIASES, &prefix, None, usize::MAX)?;
    for (alias_doc, alias) in &aliases {
        if alias.target_key_id == key.key_id {
            tx.delete(ALIASES, alias_doc)?;
        }
    }
    let grants_prefix = records::grants_prefix(&key.account_id, &key.region, &key.key_id);
    for (grant_doc, _) in tx.scan(GRANTS, &grants_prefix, None, usize::MAX)? {
        tx.delete(GRANTS, &grant_doc)?;
    }
    crate::events::deleted(env, key);
    Ok(())
}

/// Whether an alias's key is gone (deleted or past its deletion date).
pub(crate) fn alias_target_live(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    region: &str,
    alias: &AliasRecord,
    now: OffsetDateTime,
) -> Result<bool, KmsError> {
    Ok(
        records::load_key(tx, account, region, &alias.target_key_id)?
            .is_some_and(|k| !k.is_deleted(now)),
    )
}
