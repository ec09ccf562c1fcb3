//! Access keys: the long-term credentials requests are signed with (`CreateAccessKey`,
//! `ListAccessKeys`, `UpdateAccessKey`, `DeleteAccessKey`, `GetAccessKeyLastUsed`), and what
//! the server needs to authenticate with them ([`get`], [`principal_of`], [`record_use`]).
//!
//! A key belongs to an IAM user or to the account's root user. The secret is sealed under the
//! root key as soon as it is made and is shown once, in `CreateAccessKey`'s response.

use std::fmt;

use rampart_crypto::{RootKey, RootKeyError, SecretBytes};
use rampart_service::{AwsError, Caller, Env, Operation, PrincipalKind, Resource, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::IamError;
use crate::ids::{self, IdPrefix};
use crate::records::{self, USERS, UserRecord};

/// IAM's quota of access keys per user (the root user has the same quota).
pub const MAX_KEYS_PER_USER: usize = 2;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("CreateAccessKey", "iam:CreateAccessKey", create_access_key)
            .resources(crate::resources::user_or_caller),
        Operation::read("ListAccessKeys", "iam:ListAccessKeys", list_access_keys)
            .resources(crate::resources::user_or_caller),
        Operation::write("UpdateAccessKey", "iam:UpdateAccessKey", update_access_key)
            .resources(crate::resources::user_or_caller),
        Operation::write("DeleteAccessKey", "iam:DeleteAccessKey", delete_access_key)
            .resources(crate::resources::user_or_caller),
        Operation::read(
            "GetAccessKeyLastUsed",
            "iam:GetAccessKeyLastUsed",
            get_access_key_last_used,
        )
        .resources(key_owner),
    ]
}

/// GetAccessKeyLastUsed names only the key: it is authorized on the user who owns it. A key
/// of another account, or of no one, names nothing the caller's account holds.
fn key_owner(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let owner = match crate::resources::member(input, "AccessKeyId") {
        Some(id) => get(tx, id).map_err(IamError::from)?,
        None => None,
    };
    Ok(vec![match owner {
        Some(key) if key.account_id == env.caller.account_id => match &key.user_name {
            Some(user) => crate::resources::user(env, tx, user)?,
            None => Resource::named(format!("arn:aws:iam::{}:root", key.account_id)),
        },
        _ => Resource::any(),
    }])
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

/// When, with which service and in which region a key was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyLastUsed {
    /// When (AWS timestamp).
    pub date: String,
    /// The service's endpoint prefix, e.g. `iam`, `sts`.
    pub service_name: String,
    /// The region the request was signed for.
    pub region: String,
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
    /// Its last use; `None` until a request signed with it is accepted.
    #[serde(default)]
    pub last_used: Option<KeyLastUsed>,
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
            last_used: None,
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

/// Namespace indexing root users' keys: `<account>/<access key id>` → key ID.
pub const BY_ROOT: &str = "iam.root-access-key";

fn user_index_key(account_id: &str, user_name: &str, access_key_id: &str) -> String {
    format!(
        "{}/{access_key_id}",
        crate::records::key(account_id, user_name)
    )
}

fn root_index_key(account_id: &str, access_key_id: &str) -> String {
    format!("{account_id}/{access_key_id}")
}

/// The access key with ID `access_key_id`, if it exists.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
    get_json(tx, NAMESPACE, access_key_id)
}

/// Stores `record` (and indexes it under its user, or its account's root user).
pub fn put(tx: &mut (impl WriteTx + ?Sized), record: &AccessKeyRecord) -> Result<(), StoreError> {
    match &record.user_name {
        Some(user) => {
            let index = user_index_key(&record.account_id, user, &record.access_key_id);
            tx.put(BY_USER, &index, record.access_key_id.as_bytes())?;
        }
        None => {
            let index = root_index_key(&record.account_id, &record.access_key_id);
            tx.put(BY_ROOT, &index, record.access_key_id.as_bytes())?;
        }
    }
    put_json(tx, NAMESPACE, &record.access_key_id, record)
}

/// Removes `record` and its index entry.
pub fn delete(
    tx: &mut (impl WriteTx + ?Sized),
    record: &AccessKeyRecord,
) -> Result<(), StoreError> {
    let (ns, index) = match &record.user_name {
        Some(user) => (
            BY_USER,
            user_index_key(&record.account_id, user, &record.access_key_id),
        ),
        None => (
            BY_ROOT,
            root_index_key(&record.account_id, &record.access_key_id),
        ),
    };
    tx.delete(ns, &index)?;
    tx.delete(NAMESPACE, &record.access_key_id)?;
    Ok(())
}

fn indexed(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    prefix: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let mut keys = Vec::new();
    for (_, id) in tx.scan(ns, prefix, None, usize::MAX)? {
        let id = String::from_utf8_lossy(&id).into_owned();
        if let Some(record) = get(tx, &id)? {
            keys.push(record);
        }
    }
    // Oldest first, as IAM lists them; the ID breaks ties within one second.
    keys.sort_by(|a, b| {
        (&a.create_date, &a.access_key_id).cmp(&(&b.create_date, &b.access_key_id))
    });
    Ok(keys)
}

/// The keys of the IAM user `user_name`, oldest first.
pub fn of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let prefix = format!("{}/", crate::records::key(account_id, user_name));
    indexed(tx, BY_USER, &prefix)
}

/// The keys of the root user of `account_id`, oldest first.
pub fn of_root(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    indexed(tx, BY_ROOT, &format!("{account_id}/"))
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

/// Who a key authenticates, as the server needs it to build the request's principal.
#[derive(Debug, Clone)]
pub enum KeyPrincipal {
    /// The account's root user.
    Root(Caller),
    /// An IAM user, with its record (tags for `aws:PrincipalTag/*`, policies, groups,
    /// permissions boundary).
    User(Caller, Box<UserRecord>),
}

impl KeyPrincipal {
    /// The caller a request signed with the key acts as.
    pub fn caller(&self) -> &Caller {
        match self {
            KeyPrincipal::Root(caller) | KeyPrincipal::User(caller, _) => caller,
        }
    }

    /// The IAM user, when the key is a user's.
    pub fn user(&self) -> Option<&UserRecord> {
        match self {
            KeyPrincipal::Root(_) => None,
            KeyPrincipal::User(_, user) => Some(user),
        }
    }
}

/// The principal `record` authenticates: the root user of its account, or its IAM user
/// (ARN with the user's path, `AIDA…` unique ID as `aws:userid`). `None` when the user no
/// longer exists, which `DeleteUser` prevents while the user has keys; the server should then
/// refuse the key as unknown. The key's status is not checked here: the server refuses
/// inactive keys after verifying the signature.
pub fn principal_of(
    tx: &mut (impl ReadTx + ?Sized),
    record: &AccessKeyRecord,
) -> Result<Option<KeyPrincipal>, StoreError> {
    let Some(user_name) = &record.user_name else {
        return Ok(Some(KeyPrincipal::Root(Caller::root(
            &record.account_id,
            &record.access_key_id,
        ))));
    };
    let user: Option<UserRecord> =
        get_json(tx, USERS, &records::key(&record.account_id, user_name))?;
    Ok(user.map(|user| {
        let caller = Caller {
            account_id: user.account_id.clone(),
            arn: user.arn.clone(),
            principal_id: user.user_id.clone(),
            kind: PrincipalKind::IamUser,
            user_name: Some(user.user_name.clone()),
            access_key_id: record.access_key_id.clone(),
        };
        KeyPrincipal::User(caller, Box::new(user))
    }))
}

/// Records that a request signed with `access_key_id` was accepted at `date`, for `service`
/// (its endpoint prefix, e.g. `sts`) in `region` (`GetAccessKeyLastUsed`, the credential
/// report). Call it in a write transaction after authentication succeeds; a key that no
/// longer exists is ignored, and nothing is written when the stored value is already the
/// same (several requests within one second to one service and region).
pub fn record_use(
    tx: &mut (impl WriteTx + ?Sized),
    access_key_id: &str,
    date: OffsetDateTime,
    service: &str,
    region: &str,
) -> Result<(), StoreError> {
    let Some(mut record) = get(tx, access_key_id)? else {
        return Ok(());
    };
    let used = KeyLastUsed {
        date: aws_timestamp(date),
        service_name: service.to_owned(),
        region: region.to_owned(),
    };
    if record.last_used.as_ref() == Some(&used) {
        return Ok(());
    }
    record.last_used = Some(used);
    // Only the document changes: the owner, hence the index entry, stays the same.
    put_json(tx, NAMESPACE, &record.access_key_id, &record)
}

/// Whose keys an operation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// The account's root user.
    Root,
    /// The IAM user of that name, as stored (case preserved).
    User(String),
}

/// The owner the input names, or the caller itself. AWS answers a caller that is neither an
/// IAM user nor the root user (a role session) with this message; its code there is
/// `ValidationError`, which IAM's error set here does not have, so it answers `InvalidInput`.
fn owner(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    user_name: Option<&str>,
) -> Result<Owner, IamError> {
    let name = match (user_name, env.caller.kind) {
        (Some(name), _) => name.to_owned(),
        (None, PrincipalKind::Root) => return Ok(Owner::Root),
        (None, PrincipalKind::IamUser) => env.caller.user_name.clone().ok_or_else(non_user)?,
        (None, _) => return Err(non_user()),
    };
    let user = records::user(tx, &env.caller.account_id, &name)?;
    Ok(Owner::User(user.user_name))
}

fn non_user() -> IamError {
    IamError::InvalidInput("Must specify userName when calling with non-User credentials".into())
}

fn keys_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    owner: &Owner,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    match owner {
        Owner::Root => of_root(tx, account_id),
        Owner::User(name) => of_user(tx, account_id, name),
    }
}

fn not_found(access_key_id: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The Access Key with id {access_key_id} cannot be found."
    ))
}

/// The key `access_key_id` of `owner`; another owner's key is as unknown as a missing one.
fn key_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    owner: &Owner,
    access_key_id: &str,
) -> Result<AccessKeyRecord, IamError> {
    get(tx, access_key_id)?
        .filter(|k| k.account_id == account_id && owns(owner, k))
        .ok_or_else(|| not_found(access_key_id))
}

fn owns(owner: &Owner, key: &AccessKeyRecord) -> bool {
    match (owner, &key.user_name) {
        (Owner::Root, None) => true,
        (Owner::User(name), Some(key_user)) => name.eq_ignore_ascii_case(key_user),
        _ => false,
    }
}

/// A secret access key on its way to the caller: serialized for the response, never shown
/// by `Debug` (so it cannot reach a log line by accident).
struct ShownOnce(String);

impl Serialize for ShownOnce {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// A new key with its secret (the model's `AccessKey`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessKey {
    /// Omitted for the root user's keys, which belong to no IAM user.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    access_key_id: String,
    status: AccessKeyStatus,
    secret_access_key: ShownOnce,
    create_date: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAccessKeyInput {
    user_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAccessKeyOutput {
    access_key: AccessKey,
}

fn create_access_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateAccessKeyInput,
) -> Result<CreateAccessKeyOutput, IamError> {
    let account = env.caller.account_id.clone();
    let owner = owner(env, tx, input.user_name.as_deref())?;
    if keys_of(tx, &account, &owner)?.len() >= MAX_KEYS_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
        )));
    }
    // INVARIANT: account IDs are 12 digits (bootstrap checks them); the key ID encodes it.
    let account_number: u64 = account
        .parse()
        .map_err(|_| StoreError::Internal(format!("account ID `{account}` is not a number")))?;
    let access_key_id = loop {
        let id = ids::access_key_id(IdPrefix::AccessKey, account_number, env.entropy);
        // 80 random bits make a collision unlikely, but a key ID must never be reused.
        if get(tx, &id)?.is_none() {
            break id;
        }
    };
    let secret = ids::secret_access_key(env.entropy);
    let user_name = match owner {
        Owner::Root => None,
        Owner::User(name) => Some(name),
    };
    let record = AccessKeyRecord::new(
        access_key_id,
        account,
        user_name,
        &SecretBytes::from(secret.clone()),
        env.root_key,
        aws_timestamp(env.now),
    );
    put(tx, &record)?;
    Ok(CreateAccessKeyOutput {
        access_key: AccessKey {
            user_name: record.user_name,
            access_key_id: record.access_key_id,
            status: record.status,
            secret_access_key: ShownOnce(secret),
            create_date: record.create_date,
        },
    })
}

/// A key as lists show it: never its secret (the model's `AccessKeyMetadata`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessKeyMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    access_key_id: String,
    status: AccessKeyStatus,
    create_date: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccessKeysInput {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccessKeysOutput {
    access_key_metadata: Vec<AccessKeyMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_access_keys(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAccessKeysInput,
) -> Result<ListAccessKeysOutput, IamError> {
    let owner = owner(env, tx, input.user_name.as_deref())?;
    let keys = keys_of(tx, &env.caller.account_id, &owner)?;
    // A user has at most two keys, so the page is cut from the whole list; the marker is the
    // ID of the last key returned.
    let start = match &input.marker {
        None => 0,
        Some(marker) => {
            keys.iter()
                .position(|k| &k.access_key_id == marker)
                .ok_or_else(|| IamError::InvalidInput("Invalid Marker.".into()))?
                + 1
        }
    };
    let max = crate::pagination::PAGE_SIZE.of(input.max_items);
    let page: Vec<AccessKeyRecord> = keys.iter().skip(start).take(max).cloned().collect();
    let truncated = start + page.len() < keys.len();
    Ok(ListAccessKeysOutput {
        is_truncated: truncated,
        marker: page
            .last()
            .filter(|_| truncated)
            .map(|k| k.access_key_id.clone()),
        access_key_metadata: page
            .into_iter()
            .map(|k| AccessKeyMetadata {
                user_name: k.user_name,
                access_key_id: k.access_key_id,
                status: k.status,
                create_date: k.create_date,
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAccessKeyInput {
    user_name: Option<String>,
    access_key_id: String,
    /// `Active`, `Inactive` or `Expired` (the model's enum); only the first two can be set.
    status: String,
}

#[derive(Debug, Serialize)]
struct Empty {}

fn update_access_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateAccessKeyInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let owner = owner(env, tx, input.user_name.as_deref())?;
    let mut key = key_of(tx, &account, &owner, &input.access_key_id)?;
    key.status = match input.status.as_str() {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        other => {
            return Err(IamError::InvalidInput(format!(
                "Invalid status {other}: an access key can be made Active or Inactive."
            )));
        }
    };
    put(tx, &key)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAccessKeyInput {
    user_name: Option<String>,
    access_key_id: String,
}

fn delete_access_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteAccessKeyInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let owner = owner(env, tx, input.user_name.as_deref())?;
    let key = key_of(tx, &account, &owner, &input.access_key_id)?;
    delete(tx, &key)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetAccessKeyLastUsedInput {
    access_key_id: String,
}

/// The model's `AccessKeyLastUsed`: "N/A" service and region for a key never used, as AWS.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessKeyLastUsed {
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_date: Option<String>,
    service_name: String,
    region: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetAccessKeyLastUsedOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    access_key_last_used: AccessKeyLastUsed,
}

fn get_access_key_last_used(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetAccessKeyLastUsedInput,
) -> Result<GetAccessKeyLastUsedOutput, IamError> {
    let key = get(tx, &input.access_key_id)?
        .filter(|k| k.account_id == env.caller.account_id)
        .ok_or_else(|| not_found(&input.access_key_id))?;
    let last_used = match key.last_used {
        Some(used) => AccessKeyLastUsed {
            last_used_date: Some(used.date),
            service_name: used.service_name,
            region: used.region,
        },
        None => AccessKeyLastUsed {
            last_used_date: None,
            service_name: "N/A".into(),
            region: "N/A".into(),
        },
    };
    Ok(GetAccessKeyLastUsedOutput {
        user_name: key.user_name,
        access_key_last_used: last_used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};
    use std::sync::Arc;

    fn add_user(t: &TestEnv, name: &str) {
        let user = UserRecord {
            account_id: ACCOUNT.into(),
            user_name: name.into(),
            user_id: format!("AIDA{}", name.to_ascii_uppercase()),
            path: "/team/".into(),
            arn: records::arn(ACCOUNT, "user", "/team/", name),
            create_date: "2026-11-24T00:00:00Z".into(),
            password_last_used: None,
            permissions_boundary: None,
            tags: Vec::new(),
            attached_policies: Vec::new(),
            inline_policies: Default::default(),
            groups: Vec::new(),
        };
        t.write(move |_, tx| records::put_user(tx, &user)).unwrap();
    }

    fn create(t: &TestEnv, user: Option<&str>) -> Result<CreateAccessKeyOutput, IamError> {
        let input = CreateAccessKeyInput {
            user_name: user.map(str::to_owned),
        };
        t.write(move |env, tx| create_access_key(env, tx, input))
    }

    fn list(t: &TestEnv, user: Option<&str>) -> Result<ListAccessKeysOutput, IamError> {
        let input = ListAccessKeysInput {
            user_name: user.map(str::to_owned),
            marker: None,
            max_items: None,
        };
        t.read(move |env, tx| list_access_keys(env, tx, input))
    }

    fn update(t: &TestEnv, user: Option<&str>, id: &str, status: &str) -> Result<Empty, IamError> {
        let input = UpdateAccessKeyInput {
            user_name: user.map(str::to_owned),
            access_key_id: id.into(),
            status: status.into(),
        };
        t.write(move |env, tx| update_access_key(env, tx, input))
    }

    fn last_used(t: &TestEnv, id: &str) -> Result<GetAccessKeyLastUsedOutput, IamError> {
        let input = GetAccessKeyLastUsedInput {
            access_key_id: id.into(),
        };
        t.read(move |env, tx| get_access_key_last_used(env, tx, input))
    }

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

    #[test]
    fn a_new_key_encodes_the_account_and_shows_its_secret_once() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        let created = create(&t, Some("BOB")).unwrap().access_key;
        assert_eq!(created.user_name.as_deref(), Some("bob"), "the stored name");
        assert_eq!(created.access_key_id.len(), 20);
        assert!(created.access_key_id.starts_with("AKIA"));
        assert_eq!(
            ids::account_of_access_key_id(&created.access_key_id),
            Some(123_456_789_012)
        );
        assert_eq!(created.secret_access_key.0.len(), 40);
        assert_eq!(created.status, AccessKeyStatus::Active);
        assert_eq!(created.create_date, "2026-11-24T12:00:00Z");
        assert!(!format!("{created:?}").contains(&created.secret_access_key.0));

        let id = created.access_key_id.clone();
        let record = t.read(move |_, tx| get(tx, &id)).unwrap().unwrap();
        let key = Arc::clone(&t.root_key);
        assert_eq!(
            record.secret(&key).unwrap().expose(),
            created.secret_access_key.0.as_bytes()
        );
        let listed = serde_json::to_string(&list(&t, Some("bob")).unwrap()).unwrap();
        assert!(listed.contains(&created.access_key_id));
        assert!(
            !listed.contains(&created.secret_access_key.0),
            "lists never carry secrets"
        );
    }

    #[test]
    fn a_user_has_at_most_two_keys() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        create(&t, Some("bob")).unwrap();
        create(&t, Some("bob")).unwrap();
        let err = create(&t, Some("bob")).unwrap_err();
        assert!(
            matches!(&err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for AccessKeysPerUser: 2"),
            "{err:?}"
        );
        assert_eq!(list(&t, Some("bob")).unwrap().access_key_metadata.len(), 2);
    }

    #[test]
    fn keys_of_a_missing_user_are_refused() {
        let t = TestEnv::new();
        let err = create(&t, Some("ghost")).unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == "The user with name ghost cannot be found."),
            "{err:?}"
        );
        assert!(matches!(
            list(&t, Some("ghost")),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn without_a_user_name_the_root_user_manages_its_own_keys() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        create(&t, Some("bob")).unwrap();
        let root_key = create(&t, None).unwrap().access_key;
        assert_eq!(root_key.user_name, None);
        let listed = list(&t, None).unwrap().access_key_metadata;
        assert_eq!(listed.len(), 1, "only the root user's keys");
        assert_eq!(
            listed.first().unwrap().access_key_id,
            root_key.access_key_id
        );
        // A user's name does not reach the root user's keys.
        let err = update(&t, Some("bob"), &root_key.access_key_id, "Inactive").unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == &format!("The Access Key with id {} cannot be found.", root_key.access_key_id)),
            "{err:?}"
        );
    }

    #[test]
    fn an_iam_user_manages_its_own_keys_and_a_role_session_must_name_one() {
        let mut t = TestEnv::new();
        add_user(&t, "bob");
        t.caller = Caller {
            account_id: ACCOUNT.into(),
            arn: records::arn(ACCOUNT, "user", "/team/", "bob"),
            principal_id: "AIDABOB".into(),
            kind: PrincipalKind::IamUser,
            user_name: Some("bob".into()),
            access_key_id: "AKIABOB".into(),
        };
        let key = create(&t, None).unwrap().access_key;
        assert_eq!(key.user_name.as_deref(), Some("bob"));
        t.caller.kind = PrincipalKind::AssumedRole;
        t.caller.user_name = None;
        let err = list(&t, None).unwrap_err();
        assert!(
            matches!(&err, IamError::InvalidInput(m) if m.contains("Must specify userName")),
            "{err:?}"
        );
    }

    #[test]
    fn keys_are_deactivated_reactivated_and_deleted() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        let id = create(&t, Some("bob")).unwrap().access_key.access_key_id;
        update(&t, Some("bob"), &id, "Inactive").unwrap();
        let status = |t: &TestEnv| {
            list(t, Some("bob"))
                .unwrap()
                .access_key_metadata
                .first()
                .map(|k| k.status)
        };
        assert_eq!(status(&t), Some(AccessKeyStatus::Inactive));
        assert!(matches!(
            update(&t, Some("bob"), &id, "Expired"),
            Err(IamError::InvalidInput(_))
        ));
        update(&t, Some("bob"), &id, "Active").unwrap();
        assert_eq!(status(&t), Some(AccessKeyStatus::Active));

        let input = DeleteAccessKeyInput {
            user_name: Some("bob".into()),
            access_key_id: id.clone(),
        };
        t.write(move |env, tx| delete_access_key(env, tx, input))
            .unwrap();
        assert_eq!(status(&t), None);
        let gone = id.clone();
        assert!(t.read(move |_, tx| get(tx, &gone)).unwrap().is_none());
        assert!(matches!(last_used(&t, &id), Err(IamError::NoSuchEntity(_))));
    }

    #[test]
    fn lists_page_with_markers() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        create(&t, Some("bob")).unwrap();
        create(&t, Some("bob")).unwrap();
        let page = |marker: Option<String>| {
            let input = ListAccessKeysInput {
                user_name: Some("bob".into()),
                marker,
                max_items: Some(1),
            };
            t.read(move |env, tx| list_access_keys(env, tx, input))
                .unwrap()
        };
        let first = page(None);
        assert!(first.is_truncated);
        let second = page(first.marker.clone());
        assert!(!second.is_truncated);
        assert_eq!(second.marker, None);
        assert_ne!(
            first.access_key_metadata.first().unwrap().access_key_id,
            second.access_key_metadata.first().unwrap().access_key_id
        );
    }

    #[test]
    fn last_use_is_na_until_recorded() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        let id = create(&t, Some("bob")).unwrap().access_key.access_key_id;
        let before = last_used(&t, &id).unwrap();
        assert_eq!(before.user_name.as_deref(), Some("bob"));
        assert_eq!(before.access_key_last_used.service_name, "N/A");
        assert_eq!(before.access_key_last_used.region, "N/A");
        assert_eq!(before.access_key_last_used.last_used_date, None);

        let used = id.clone();
        t.write(move |_, tx| {
            record_use(
                tx,
                &used,
                time::macros::datetime!(2026-11-25 08:30:00 UTC),
                "sts",
                "eu-west-1",
            )
        })
        .unwrap();
        let after = last_used(&t, &id).unwrap().access_key_last_used;
        assert_eq!(
            after.last_used_date.as_deref(),
            Some("2026-11-25T08:30:00Z")
        );
        assert_eq!(after.service_name, "sts");
        assert_eq!(after.region, "eu-west-1");
        // Unknown keys are ignored.
        t.write(|env, tx| record_use(tx, "AKIANOSUCHKEY", env.now, "iam", "us-east-1"))
            .unwrap();
    }

    #[test]
    fn a_users_key_authenticates_that_user() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        let id = create(&t, Some("bob")).unwrap().access_key.access_key_id;
        let principal = t
            .read(move |_, tx| {
                let record = get(tx, &id)?.unwrap();
                principal_of(tx, &record)
            })
            .unwrap()
            .unwrap();
        let caller = principal.caller();
        assert_eq!(caller.kind, PrincipalKind::IamUser);
        assert_eq!(caller.arn, format!("arn:aws:iam::{ACCOUNT}:user/team/bob"));
        assert_eq!(caller.principal_id, "AIDABOB");
        assert_eq!(caller.user_name.as_deref(), Some("bob"));
        assert_eq!(principal.user().map(|u| u.user_name.as_str()), Some("bob"));

        let root = create(&t, None).unwrap().access_key.access_key_id;
        let principal = t
            .read(move |_, tx| {
                let record = get(tx, &root)?.unwrap();
                principal_of(tx, &record)
            })
            .unwrap()
            .unwrap();
        assert!(principal.caller().is_root());
    }

    #[test]
    fn records_without_last_use_still_load() {
        let mut stored = serde_json::to_value(AccessKeyRecord::new(
            "AKIAEXAMPLE".into(),
            ACCOUNT.into(),
            None,
            &SecretBytes::new(b"s".to_vec()),
            &RootKey::generate(),
            "2026-11-24T00:00:00Z".into(),
        ))
        .unwrap();
        stored.as_object_mut().unwrap().remove("lastUsed");
        let record: AccessKeyRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(record.last_used, None);
    }
}
