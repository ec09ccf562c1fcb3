//! Access keys: the long-term credentials requests are signed with.

use rampart_crypto::{RootKey, RootKeyError, SecretBytes};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

/// The operations of this family (`CreateAccessKey`, `ListAccessKeys`, `UpdateAccessKey`,
/// `DeleteAccessKey`, `GetAccessKeyLastUsed`).
pub(crate) fn operations() -> Vec<rampart_service::Operation> {
    Vec::new()
}

/// The store namespace of access keys, keyed by access key ID.
pub const NAMESPACE: &str = "iam.access-key";

/// Whether a key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    /// Requests signed with it are accepted.
    Active,
    /// Requests signed with it are refused.
    Inactive,
}

/// An access key as stored: the secret is sealed under the root key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyRecord {
    /// The key's ID (`AKIA…`).
    pub access_key_id: String,
    /// The owning account.
    pub account_id: String,
    /// The owning IAM user; `None` for the account's root user.
    pub user_name: Option<String>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// When it was made (AWS timestamp).
    pub create_date: String,
    /// The secret access key sealed under the root key (base64).
    sealed_secret: String,
}

fn seal_context(access_key_id: &str) -> Vec<u8> {
    format!("{NAMESPACE}/{access_key_id}").into_bytes()
}

impl AccessKeyRecord {
    /// A new active key whose secret is sealed under `root_key`.
    pub fn new(
        access_key_id: String,
        account_id: String,
        user_name: Option<String>,
        secret: &SecretBytes,
        root_key: &RootKey,
        create_date: String,
    ) -> Self {
        let sealed = root_key.seal(secret.expose(), &seal_context(&access_key_id));
        Self {
            sealed_secret: data_encoding::BASE64.encode(&sealed),
            access_key_id,
            account_id,
            user_name,
            status: AccessKeyStatus::Active,
            create_date,
        }
    }

    /// The secret access key, unsealed.
    pub fn secret(&self, root_key: &RootKey) -> Result<SecretBytes, RootKeyError> {
        let sealed = data_encoding::BASE64
            .decode(self.sealed_secret.as_bytes())
            .map_err(|_| RootKeyError::Open)?;
        root_key.open(&sealed, &seal_context(&self.access_key_id))
    }
}

/// Namespace indexing users' keys: `<account>/<lower-cased user>/<access key id>` → key ID.
pub const BY_USER: &str = "iam.user-access-key";

fn user_index_key(account_id: &str, user_name: &str, access_key_id: &str) -> String {
    format!(
        "{}/{access_key_id}",
        crate::records::key(account_id, user_name)
    )
}

/// The access key with ID `access_key_id`, if it exists.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
    get_json(tx, NAMESPACE, access_key_id)
}

/// Stores `record` (and indexes it under its user).
pub fn put(tx: &mut (impl WriteTx + ?Sized), record: &AccessKeyRecord) -> Result<(), StoreError> {
    if let Some(user) = &record.user_name {
        let index = user_index_key(&record.account_id, user, &record.access_key_id);
        tx.put(BY_USER, &index, record.access_key_id.as_bytes())?;
    }
    put_json(tx, NAMESPACE, &record.access_key_id, record)
}

/// Removes `record` and its index entry.
pub fn delete(
    tx: &mut (impl WriteTx + ?Sized),
    record: &AccessKeyRecord,
) -> Result<(), StoreError> {
    if let Some(user) = &record.user_name {
        tx.delete(
            BY_USER,
            &user_index_key(&record.account_id, user, &record.access_key_id),
        )?;
    }
    tx.delete(NAMESPACE, &record.access_key_id)?;
    Ok(())
}

/// The keys of the IAM user `user_name`, oldest first.
pub fn of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let prefix = format!("{}/", crate::records::key(account_id, user_name));
    let mut keys = Vec::new();
    for (_, id) in tx.scan(BY_USER, &prefix, None, usize::MAX)? {
        let id = String::from_utf8_lossy(&id).into_owned();
        if let Some(record) = get(tx, &id)? {
            keys.push(record);
        }
    }
    keys.sort_by(|a, b| a.create_date.cmp(&b.create_date));
    Ok(keys)
}

/// Moves the keys of `old_name` to `new_name` (UpdateUser renames).
pub fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), StoreError> {
    for mut record in of_user(tx, account_id, old_name)? {
        delete(tx, &record)?;
        record.user_name = Some(new_name.to_owned());
        put(tx, &record)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_sealed_and_bound_to_its_key_id() {
        let root_key = RootKey::generate();
        let secret = SecretBytes::new(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_vec());
        let record = AccessKeyRecord::new(
            "AKIAEXAMPLE".into(),
            "123456789012".into(),
            None,
            &secret,
            &root_key,
            "2026-11-24T00:00:00Z".into(),
        );
        let stored = serde_json::to_string(&record).unwrap();
        assert!(
            !stored.contains("wJalrXUtnFEMI"),
            "the secret is never stored in clear"
        );
        assert_eq!(record.secret(&root_key).unwrap(), secret);
        let mut moved = record.clone();
        moved.access_key_id = "AKIAOTHER".into();
        assert!(moved.secret(&root_key).is_err());
    }
}
