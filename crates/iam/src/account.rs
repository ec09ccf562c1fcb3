//! Accounts and the deployment's bootstrap: the management account, its root user and the
//! root access key made at first start.

use rampart_crypto::{RootKey, SecretBytes};
use rampart_service::Entropy;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::access_keys::{self, AccessKeyRecord};
use crate::ids::{self, IdPrefix};
use crate::records::{self, RoleRecord};

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
    /// No such account.
    #[error("account {0} does not exist")]
    NoSuchAccount(String),
    /// The root user has as many access keys as AWS allows.
    #[error("the root user of account {0} already has {max} access keys", max = access_keys::MAX_KEYS_PER_USER)]
    TooManyKeys(String),
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

/// The account `account_id`, if it exists.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    get_json(tx, NAMESPACE, account_id)
}

/// The managed policy AWS attaches to the role Organizations makes in a new account.
const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// A new account made by AWS Organizations' CreateAccount, with a fresh random ID. As at
/// AWS, its root user has no access key, and a role named `role_name` lets the management
/// account in: it trusts `arn:aws:iam::<management>:root` and has AdministratorAccess
/// attached. Returns the new account's ID.
pub fn create_member_account(
    tx: &mut (impl WriteTx + ?Sized),
    management_account_id: &str,
    role_name: &str,
    entropy: &dyn Entropy,
    now: &str,
) -> Result<String, StoreError> {
    let account_id = loop {
        let candidate = ids::account_id(entropy);
        if get(tx, &candidate)?.is_none() {
            break candidate;
        }
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
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management_account_id}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role = RoleRecord {
        arn: records::arn(&account_id, "role", "/", role_name),
        account_id: account_id.clone(),
        role_name: role_name.to_owned(),
        role_id: ids::unique_id(IdPrefix::Role, entropy),
        path: "/".to_owned(),
        create_date: now.to_owned(),
        assume_role_policy_document: trust,
        trust_principal_ids: Default::default(),
        description: None,
        max_session_duration: crate::roles::DEFAULT_MAX_SESSION_DURATION,
        permissions_boundary: None,
        tags: Vec::new(),
        attached_policies: vec![ADMINISTRATOR_ACCESS.to_owned()],
        inline_policies: Default::default(),
        role_last_used: None,
    };
    put_json(
        tx,
        records::ROLES,
        &records::key(&account_id, role_name),
        &role,
    )?;
    Ok(account_id)
}

/// A new access key for the root user of an existing account (an account Organizations
/// made has none; its owner may make one, as at AWS). Returns the key's ID and its secret,
/// which the caller shows once.
pub fn create_root_access_key(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    root_key: &RootKey,
    entropy: &dyn Entropy,
    now: &str,
) -> Result<(String, SecretBytes), BootstrapError> {
    if get(tx, account_id)?.is_none() {
        return Err(BootstrapError::NoSuchAccount(account_id.to_owned()));
    }
    if access_keys::of_root(tx, account_id)?.len() >= access_keys::MAX_KEYS_PER_USER {
        return Err(BootstrapError::TooManyKeys(account_id.to_owned()));
    }
    let number: u64 = account_id
        .parse()
        .map_err(|_| BootstrapError::InvalidAccountId(account_id.to_owned()))?;
    let access_key_id = ids::access_key_id(IdPrefix::AccessKey, number, entropy);
    let secret = SecretBytes::from(ids::secret_access_key(entropy));
    let record = AccessKeyRecord::new(
        access_key_id.clone(),
        account_id.to_owned(),
        None,
        &secret,
        root_key,
        now.to_owned(),
    );
    access_keys::put(tx, &record)?;
    Ok((access_key_id, secret))
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
