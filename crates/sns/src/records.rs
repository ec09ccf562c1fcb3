//! How SNS's resources are kept, each in a namespace of the store's documents:
//!
//! - `sns/topics`, `<account>:<region>:<name>` → [`TopicRecord`].

use rampart_service::PrincipalIds;
use rampart_service::tagging::Tag;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::SnsError;
use crate::names::TopicName;

pub(crate) const TOPICS: &str = "sns/topics";

/// A tag, as SNS spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TopicTag {
    pub(crate) key: String,
    pub(crate) value: String,
}

impl Tag for TopicTag {
    fn key(&self) -> &str {
        &self.key
    }

    fn value(&self) -> Option<&str> {
        Some(&self.value)
    }
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TopicRecord {
    pub(crate) name: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) display_name: String,
    /// The topic policy: AWS writes a default one at creation.
    pub(crate) policy: String,
    /// The users and roles the policy names, bound when it was saved.
    #[serde(default)]
    pub(crate) policy_principal_ids: PrincipalIds,
    pub(crate) delivery_policy: Option<String>,
    pub(crate) kms_master_key_id: Option<String>,
    /// `1` (SHA1withRSA) unless set to `2` (SHA256withRSA).
    pub(crate) signature_version: Option<String>,
    pub(crate) tracing_config: Option<String>,
    pub(crate) tags: Vec<TopicTag>,
    /// Seconds since the epoch.
    pub(crate) created: i64,
}

impl TopicRecord {
    pub(crate) fn topic(&self) -> TopicName {
        TopicName {
            region: self.region.clone(),
            account: self.account.clone(),
            name: self.name.clone(),
        }
    }

    pub(crate) fn arn(&self) -> String {
        self.topic().arn()
    }
}

pub(crate) fn topic(
    tx: &mut (impl ReadTx + ?Sized),
    name: &TopicName,
) -> Result<Option<TopicRecord>, StoreError> {
    get_json(tx, TOPICS, &name.key())
}

/// The topic `name`, or AWS's NotFound.
pub(crate) fn existing_topic(
    tx: &mut (impl ReadTx + ?Sized),
    name: &TopicName,
) -> Result<TopicRecord, SnsError> {
    topic(tx, name)?.ok_or_else(SnsError::no_topic)
}

pub(crate) fn put_topic(
    tx: &mut (impl WriteTx + ?Sized),
    record: &TopicRecord,
) -> Result<(), StoreError> {
    put_json(tx, TOPICS, &record.topic().key(), record)
}

/// Decodes a document written by this crate.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    ns: &str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Internal(format!("{ns}/{key}: malformed record: {e}")))
}
