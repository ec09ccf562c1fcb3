//! Accounts and the deployment's bootstrap: the management account, its root user and the
//! root access key made at first start.

use rampart_crypto::{RootKey, SecretBytes};
use rampart_service::Entropy;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::access_keys::{self, AccessKeyRecord};
use crate::ids;

/// The store namespace of accounts, keyed by account ID.
pub const NAMESPACE: &str = "iam.account";
const DEPLOYMENT_NAMESPACE: &str = "rampart";
const DEPLOYMENT_KEY: &str = "deployment";

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    /// The 12-digit account ID.
    pub account_id: String,
    /// When it was made (AWS timestamp).
    pub created: String,
}

/// What the first start decided, kept so later starts and resets reuse it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The management account's ID.
    pub management_account_id: String,
    /// The root user's first access key.
    pub root_access_key_id: String,
}

/// What the operator may fix at first start.
#[derive(Debug, Default)]
pub struct BootstrapRequest {
    /// The management account's ID; random when absent.
    pub account_id: Option<String>,
    /// The root access key (ID, secret); random when absent.
    pub root_access_key: Option<(String, SecretBytes)>,
}

/// Why a bootstrap was refused.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The account ID is not 12 digits.
    #[error("the account ID must be 12 digits, got `{0}`")]
    InvalidAccountId(String),
    /// The given access key ID does not look like one.
    #[error("the root access key ID must be 16 to 128 letters and digits")]
    InvalidAccessKeyId,
    /// The given secret access key is unusable.
    #[error("the root secret access key must be 1 to 128 printable characters")]
    InvalidSecret,
    /// The account exists already.
    #[error("account {0} exists already")]
    AccountExists(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The deployment, if the store has been bootstrapped.
pub fn deployment(tx: &mut (impl ReadTx + ?Sized)) -> Result<Option<Deployment>, StoreError> {
    get_json(tx, DEPLOYMENT_NAMESPACE, DEPLOYMENT_KEY)
}

/// Creates the management account, its root user's access key and the deployment record.
/// Returns the deployment and the root secret, which the caller shows once.
pub fn bootstrap(
    tx: &mut (impl WriteTx + ?Sized),
    request: BootstrapRequest,
    root_key: &RootKey,
    entropy: &dyn Entropy,
    now: &str,
) -> Result<(Deployment, SecretBytes), BootstrapError> {
    let account_id = match request.account_id {
        Some(id) if is_account_id(&id) => id,
        Some(id) => return Err(BootstrapError::InvalidAccountId(id)),
        None => ids::account_id(entropy),
    };
    let account_number: u64 = account_id
        .parse()
        .map_err(|_| BootstrapError::InvalidAccountId(account_id.clone()))?;
    let (access_key_id, secret) = match request.root_access_key {
        Some((id, secret)) => {
            let id_ok =
                (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
            if !id_ok {
                return Err(BootstrapError::InvalidAccessKeyId);
            }
            let s = secret.expose();
            if s.is_empty() || s.len() > 128 || !s.iter().all(|b| b.is_ascii_graphic()) {
                return Err(BootstrapError::InvalidSecret);
            }
            (id, secret)
        }
        None => (
            ids::access_key_id(ids::IdPrefix::AccessKey, account_number, entropy),
            SecretBytes::from(ids::secret_access_key(entropy)),
        ),
    };
    put_json(
        tx,
        NAMESPACE,
        &account_id,
        &AccountRecord {
            account_id: account_id.clone(),
            created: now.to_owned(),
        },
    )?;
    let record = AccessKeyRecord::new(
        access_key_id.clone(),
        account_id.clone(),
        None,
        &secret,
        root_key,
        now.to_owned(),
    );
    access_keys::put(tx, &record)?;
    let deployment = Deployment {
        management_account_id: account_id,
        root_access_key_id: access_key_id,
    };
    put_json(tx, DEPLOYMENT_NAMESPACE, DEPLOYMENT_KEY, &deployment)?;
    Ok((deployment, secret))
}

/// A new account with a root access key, besides the management account (for cross-account
/// work before Organizations creates accounts). Returns the account ID, the root access key
/// ID and its secret, which the caller shows once.
pub fn create_account(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: Option<String>,
    root_key: &RootKey,
    entropy: &dyn Entropy,
    now: &str,
) -> Result<(String, String, SecretBytes), BootstrapError> {
    let account_id = match account_id {
        Some(id) if is_account_id(&id) => id,
        Some(id) => return Err(BootstrapError::InvalidAccountId(id)),
        None => ids::account_id(entropy),
    };
    if get_json::<AccountRecord>(tx, NAMESPACE, &account_id)?.is_some() {
        return Err(BootstrapError::AccountExists(account_id));
    }
    let number: u64 = account_id
        .parse()
        .map_err(|_| BootstrapError::InvalidAccountId(account_id.clone()))?;
    let access_key_id = ids::access_key_id(ids::IdPrefix::AccessKey, number, entropy);
    let secret = SecretBytes::from(ids::secret_access_key(entropy));
    put_json(
        tx,
        NAMESPACE,
        &account_id,
        &AccountRecord {
            account_id: account_id.clone(),
            created: now.to_owned(),
        },
    )?;
    let record = AccessKeyRecord::new(
        access_key_id.clone(),
        account_id.clone(),
        None,
        &secret,
        root_key,
        now.to_owned(),
    );
    access_keys::put(tx, &record)?;
    Ok((account_id, access_key_id, secret))
}

/// Returns all state to what bootstrap made: the same management account and the same root
/// access key, everything else gone.
pub fn reset_to_bootstrap(tx: &mut (impl WriteTx + ?Sized)) -> Result<(), StoreError> {
    let Some(deployment) = deployment(tx)? else {
        return Ok(());
    };
    let account: Option<AccountRecord> =
        get_json(tx, NAMESPACE, &deployment.management_account_id)?;
    let root_key = access_keys::get(tx, &deployment.root_access_key_id)?;
    tx.clear_documents()?;
    put_json(tx, DEPLOYMENT_NAMESPACE, DEPLOYMENT_KEY, &deployment)?;
    if let Some(account) = account {
        put_json(tx, NAMESPACE, &account.account_id, &account)?;
    }
    if let Some(mut key) = root_key {
        key.status = access_keys::AccessKeyStatus::Active;
        access_keys::put(tx, &key)?;
    }
    Ok(())
}

/// Every account, in ID order.
pub fn list(tx: &mut (impl ReadTx + ?Sized)) -> Result<Vec<AccountRecord>, StoreError> {
    Ok(scan_json(tx, NAMESPACE, "", None, usize::MAX)?
        .into_iter()
        .map(|(_, a)| a)
        .collect())
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}
