//! How parameters are kept.
//!
//! - `ssm/parameters`, `<account>:<region>:<key>` → a [`ParameterRecord`]: the latest version
//!   in full (so GetParameter reads one document), the labels, tags, policies and timers;
//! - `ssm/versions`, `<account>:<region>:<key>#<version, 19 digits>` → every kept version
//!   (the latest included), oldest first in key order;
//! - `ssm/counts`, `<account>:<region>` → how many parameters of each tier, for the quotas.
//!
//! Keys sort so that a path's parameters are one range of `ssm/parameters` (`/` and `#` never
//! occur in a name's characters in a way that mixes ranges: names hold letters, digits,
//! `_ . - /` only). A SecureString value is only ever kept as KMS ciphertext.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::names::parameter_arn;

/// Parameters, by account, region and key.
pub(crate) const PARAMETERS: &str = "ssm/parameters";
/// Every kept version of every parameter.
pub(crate) const VERSIONS: &str = "ssm/versions";
/// Parameters per tier, per account and region.
const COUNTS: &str = "ssm/counts";

/// At most this many versions of a parameter are kept.
pub(crate) const MAX_VERSIONS: i64 = 100;

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ParameterType {
    String,
    StringList,
    SecureString,
}

impl ParameterType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::StringList => "StringList",
            Self::SecureString => "SecureString",
        }
    }
}

/// A parameter's tier (`Intelligent-Tiering` is a request for one of these, never a tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Tier {
    Standard,
    Advanced,
}

impl Tier {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "Standard",
            Self::Advanced => "Advanced",
        }
    }
}

/// A version's value as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum StoredValue {
    /// A String or StringList value, as given.
    Plain { value: String },
    /// A standard SecureString: KMS `Encrypt`'s ciphertext blob (base64).
    Kms { ciphertext: String },
    /// An advanced SecureString: a data key from KMS `GenerateDataKey`, kept as its ciphertext
    /// blob (base64), and the value sealed under it with AES-256-GCM (base64 of nonce,
    /// ciphertext and tag).
    Envelope { data_key: String, sealed: String },
}

/// One parameter policy as kept: its text as the request gave it, its type, and whether it has
/// done its work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyRecord {
    pub(crate) text: String,
    pub(crate) policy_type: String,
    /// `Pending` or `Finished`.
    pub(crate) status: String,
}

/// One version of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VersionRecord {
    pub(crate) version: i64,
    pub(crate) parameter_type: ParameterType,
    pub(crate) value: StoredValue,
    /// The KMS key a SecureString version was encrypted with, as the request named it.
    pub(crate) key_id: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) allowed_pattern: Option<String>,
    pub(crate) data_type: String,
    pub(crate) tier: Tier,
    pub(crate) policies: Vec<PolicyRecord>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) last_modified: OffsetDateTime,
    /// The ARN of the principal that made the version.
    pub(crate) last_modified_user: String,
}

/// A parameter: its latest version, and what belongs to the parameter rather than a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParameterRecord {
    /// The name it was created with.
    pub(crate) name: String,
    pub(crate) current: VersionRecord,
    /// The oldest version still kept.
    pub(crate) oldest_version: i64,
    /// Label → the version that carries it.
    pub(crate) labels: BTreeMap<String, i64>,
    pub(crate) tags: Vec<(String, String)>,
    /// The keys of the parameter's pending timers (policies.rs).
    pub(crate) timers: Vec<String>,
}

impl ParameterRecord {
    /// The labels version `version` carries, in name order.
    pub(crate) fn labels_of(&self, version: i64) -> Vec<String> {
        self.labels
            .iter()
            .filter(|(_, v)| **v == version)
            .map(|(label, _)| label.clone())
            .collect()
    }
}

/// The document key of a parameter of `env`'s account and region.
pub(crate) fn parameter_key(env: &Env<'_>, key: &str) -> String {
    format!("{}:{}:{key}", env.caller.account_id, env.region)
}

/// The prefix of `env`'s account's and region's parameter keys.
pub(crate) fn scope_prefix(env: &Env<'_>) -> String {
    format!("{}:{}:", env.caller.account_id, env.region)
}

fn version_key(parameter_key: &str, version: i64) -> String {
    format!("{parameter_key}#{version:019}")
}

/// The ARN of a parameter kept under the document key `doc_key`.
pub(crate) fn arn_of_doc(doc_key: &str) -> Option<String> {
    let mut parts = doc_key.splitn(3, ':');
    let (account, region, key) = (parts.next()?, parts.next()?, parts.next()?);
    Some(parameter_arn(region, account, key))
}

/// The parameter kept under `key` in `env`'s account and region.
pub(crate) fn load(
    tx: &mut dyn ReadTx,
    env: &Env<'_>,
    key: &str,
) -> Result<Option<ParameterRecord>, StoreError> {
    get_json(tx, PARAMETERS, &parameter_key(env, key))
}

/// A parameter's tags, read without building the rest of its record (the authorize step's
/// lookup, on every call).
#[derive(Deserialize)]
struct TagsOnly {
    tags: Vec<(String, String)>,
}

/// The tags of the parameter kept under `key`, if there is one.
pub(crate) fn load_tags(
    tx: &mut dyn ReadTx,
    env: &Env<'_>,
    key: &str,
) -> Result<Option<Vec<(String, String)>>, StoreError> {
    Ok(get_json::<TagsOnly>(tx, PARAMETERS, &parameter_key(env, key))?.map(|t| t.tags))
}

/// Saves a parameter (not its versions).
pub(crate) fn save(
    tx: &mut dyn WriteTx,
    doc_key: &str,
    record: &ParameterRecord,
) -> Result<(), StoreError> {
    put_json(tx, PARAMETERS, doc_key, record)
}

/// Version `version` of the parameter kept under `doc_key`.
pub(crate) fn load_version(
    tx: &mut dyn ReadTx,
    doc_key: &str,
    version: i64,
) -> Result<Option<VersionRecord>, StoreError> {
    get_json(tx, VERSIONS, &version_key(doc_key, version))
}

/// Keeps a version.
pub(crate) fn save_version(
    tx: &mut dyn WriteTx,
    doc_key: &str,
    version: &VersionRecord,
) -> Result<(), StoreError> {
    put_json(
        tx,
        VERSIONS,
        &version_key(doc_key, version.version),
        version,
    )
}

/// Drops a version.
pub(crate) fn delete_version(
    tx: &mut dyn WriteTx,
    doc_key: &str,
    version: i64,
) -> Result<(), StoreError> {
    tx.delete(VERSIONS, &version_key(doc_key, version))
        .map(|_| ())
}

/// Up to `limit` kept versions of the parameter under `doc_key` after version `after`,
/// oldest first.
pub(crate) fn versions(
    tx: &mut dyn ReadTx,
    doc_key: &str,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<VersionRecord>, StoreError> {
    let prefix = format!("{doc_key}#");
    let after = after.map(|v| version_key(doc_key, v));
    rampart_store::scan_json(tx, VERSIONS, &prefix, after.as_deref(), limit)
        .map(|found| found.into_iter().map(|(_, v)| v).collect())
}

/// Parameters per tier in one account and region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counts {
    pub(crate) standard: u64,
    pub(crate) advanced: u64,
}

impl Counts {
    fn of(&mut self, tier: Tier) -> &mut u64 {
        match tier {
            Tier::Standard => &mut self.standard,
            Tier::Advanced => &mut self.advanced,
        }
    }
}

/// How many parameters of each tier `env`'s account has in its region.
pub(crate) fn counts(tx: &mut dyn ReadTx, env: &Env<'_>) -> Result<Counts, StoreError> {
    Ok(get_json(tx, COUNTS, &counts_key(env))?.unwrap_or_default())
}

fn counts_key(env: &Env<'_>) -> String {
    format!("{}:{}", env.caller.account_id, env.region)
}

/// Counts a parameter that leaves tier `from` (`None`: a new one) for `to` (`None`: deleted).
pub(crate) fn count_move(
    tx: &mut dyn WriteTx,
    env: &Env<'_>,
    from: Option<Tier>,
    to: Option<Tier>,
) -> Result<(), StoreError> {
    if from == to {
        return Ok(());
    }
    let mut counts = counts(tx, env)?;
    if let Some(from) = from {
        let n = counts.of(from);
        *n = n.saturating_sub(1);
    }
    if let Some(to) = to {
        let n = counts.of(to);
        *n = n.saturating_add(1);
    }
    put_json(tx, COUNTS, &counts_key(env), &counts)
}

/// Removes a parameter, all its versions and its count. (Its timers are the caller's to
/// remove: policies.rs.)
pub(crate) fn remove(
    tx: &mut dyn WriteTx,
    env: &Env<'_>,
    doc_key: &str,
    record: &ParameterRecord,
) -> Result<(), StoreError> {
    for version in record.oldest_version..=record.current.version {
        delete_version(tx, doc_key, version)?;
    }
    tx.delete(PARAMETERS, doc_key)?;
    count_move(tx, env, Some(record.current.tier), None)
}
