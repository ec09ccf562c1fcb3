//! What IAM keeps, one record per entity. Families read and write each other's records (a
//! group's members are users, a policy's attachments are on users, groups and roles), so the
//! records and their keys live here, and each family's operations live in their own file.
//!
//! Keys are `<account>/<lower-cased name>`: IAM names are unique without regard to case
//! ("bob" and "Bob" cannot both exist), while the record keeps the name as given.

use std::collections::BTreeMap;

use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;

/// Namespace of users.
pub const USERS: &str = "iam.user";
/// Namespace of groups.
pub const GROUPS: &str = "iam.group";
/// Namespace of roles.
pub const ROLES: &str = "iam.role";
/// Namespace of customer managed policies.
pub const POLICIES: &str = "iam.policy";

/// The key of the entity `name` of `account`.
pub fn key(account_id: &str, name: &str) -> String {
    format!("{account_id}/{}", name.to_ascii_lowercase())
}

/// The prefix of every key of `account`.
pub fn account_prefix(account_id: &str) -> String {
    format!("{account_id}/")
}

/// A tag, as IAM's API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value (may be empty).
    pub value: String,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub user_name: String,
    /// `AIDA…`.
    pub user_id: String,
    /// The path, `/` by default.
    pub path: String,
    /// `arn:aws:iam::<account>:user<path><name>`.
    pub arn: String,
    /// When it was made (AWS timestamp).
    pub create_date: String,
    /// When its password was last used to sign in.
    #[serde(default)]
    pub password_last_used: Option<String>,
    /// The ARN of the managed policy bounding its permissions.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// ARNs of the managed policies attached to it, in attachment order.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Its inline policies: name → document (the JSON text as given, URL-decoded).
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Names of the groups it belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub group_name: String,
    /// `AGPA…`.
    pub group_id: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::<account>:group<path><name>`.
    pub arn: String,
    /// When it was made.
    pub create_date: String,
    /// ARNs of the attached managed policies.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Names of its member users.
    #[serde(default)]
    pub members: Vec<String>,
}

/// When and where a role was last used.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleLastUsed {
    /// When.
    pub last_used_date: String,
    /// In which region.
    pub region: String,
}

/// A role.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub role_name: String,
    /// `AROA…`.
    pub role_id: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::<account>:role<path><name>`.
    pub arn: String,
    /// When it was made.
    pub create_date: String,
    /// The trust policy (JSON text as given, URL-decoded).
    pub assume_role_policy_document: String,
    /// The users and roles the trust policy names, bound to their unique IDs when it was set.
    #[serde(
        default,
        skip_serializing_if = "rampart_service::PrincipalIds::is_empty"
    )]
    pub trust_principal_ids: rampart_service::PrincipalIds,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Longest session, in seconds (3600 by default).
    pub max_session_duration: i64,
    /// The permissions boundary's policy ARN.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// ARNs of the attached managed policies.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Last use.
    #[serde(default)]
    pub role_last_used: Option<RoleLastUsed>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyVersionRecord {
    /// `v1`, `v2`, …
    pub version_id: String,
    /// The document (JSON text as given, URL-decoded).
    pub document: String,
    /// When it was made.
    pub create_date: String,
}

/// A customer managed policy (AWS managed policies are built in: see `managed_policies`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub policy_name: String,
    /// `ANPA…`.
    pub policy_id: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::<account>:policy<path><name>`.
    pub arn: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was made.
    pub create_date: String,
    /// When its default version last changed.
    pub update_date: String,
    /// The default version's ID.
    pub default_version_id: String,
    /// Its versions (at most 5), oldest first.
    pub versions: Vec<PolicyVersionRecord>,
    /// The number the next version gets.
    pub next_version: u32,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl PolicyRecord {
    /// The default version's document.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version_id)
            .map(|v| v.document.as_str())
    }
}

/// The user `name` of `account`, or NoSuchEntity.
pub fn user(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    name: &str,
) -> Result<UserRecord, IamError> {
    get_json(tx, USERS, &key(account_id, name))?.ok_or_else(|| IamError::no_such("user", name))
}

/// Stores `user`.
pub fn put_user(tx: &mut (impl WriteTx + ?Sized), user: &UserRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        USERS,
        &key(&user.account_id, &user.user_name),
        user,
    )?)
}

/// The group `name` of `account`, or NoSuchEntity.
pub fn group(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    name: &str,
) -> Result<GroupRecord, IamError> {
    get_json(tx, GROUPS, &key(account_id, name))?.ok_or_else(|| IamError::no_such("group", name))
}

/// Stores `group`.
pub fn put_group(tx: &mut (impl WriteTx + ?Sized), group: &GroupRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        GROUPS,
        &key(&group.account_id, &group.group_name),
        group,
    )?)
}

/// The role `name` of `account`, or NoSuchEntity.
pub fn role(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    name: &str,
) -> Result<RoleRecord, IamError> {
    get_json(tx, ROLES, &key(account_id, name))?.ok_or_else(|| IamError::no_such("role", name))
}

/// Stores `role`.
pub fn put_role(tx: &mut (impl WriteTx + ?Sized), role: &RoleRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        ROLES,
        &key(&role.account_id, &role.role_name),
        role,
    )?)
}

/// The customer managed policy `name` of `account`, if it exists.
pub fn policy_by_name(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    name: &str,
) -> Result<Option<PolicyRecord>, IamError> {
    Ok(get_json(tx, POLICIES, &key(account_id, name))?)
}

/// Stores `policy`.
pub fn put_policy(tx: &mut (impl WriteTx + ?Sized), policy: &PolicyRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        POLICIES,
        &key(&policy.account_id, &policy.policy_name),
        policy,
    )?)
}

/// The ARN of an IAM entity: `arn:aws:iam::<account>:<kind><path><name>`.
pub fn arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:{kind}{path}{name}")
}
