//! Managed policies: `CreatePolicy`, `GetPolicy`, `DeletePolicy`, `ListPolicies` and the policy
//! tags here; versions in [`versions`], attachments in [`attachments`]. Also the lookups by
//! ARN that other families (boundaries, authorization) share, and the document rules every
//! policy family applies (validation, size, URL-encoding on output).
//!
//! A managed policy is either customer managed (a [`PolicyRecord`] in the store) or AWS managed
//! (built in: [`managed_policies`]). Attachments live on the users, groups and roles that
//! carry them, so a policy's attachment and boundary counts are computed by scanning them.

pub(crate) mod attachments;
pub(crate) mod entity;
mod versions;

use std::collections::HashMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rampart_policy::{Policy, PolicyKind};
use rampart_service::{AwsError, Env, Operation, Resource, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, scan_json};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::managed_policies::{self, AwsManagedPolicy};
use crate::pagination::page_sorted;
use crate::records::{
    self, GROUPS, GroupRecord, POLICIES, PolicyRecord, PolicyVersionRecord, ROLES, RoleRecord, Tag,
    USERS, UserRecord,
};
use crate::tags;

/// IAM's quota on a managed policy document, in characters not counting whitespace.
pub const MAX_MANAGED_POLICY_SIZE: usize = 6144;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    let mut operations = vec![
        Operation::write("CreatePolicy", "iam:CreatePolicy", create_policy)
            .resources(new_policy_resource),
        Operation::read("GetPolicy", "iam:GetPolicy", get_policy)
            .resources(crate::resources::named_policy),
        Operation::write("DeletePolicy", "iam:DeletePolicy", delete_policy)
            .resources(crate::resources::named_policy),
        Operation::read("ListPolicies", "iam:ListPolicies", list_policies),
        Operation::write("TagPolicy", "iam:TagPolicy", tag_policy)
            .resources(crate::resources::named_policy),
        Operation::write("UntagPolicy", "iam:UntagPolicy", untag_policy)
            .resources(crate::resources::named_policy),
        Operation::read("ListPolicyTags", "iam:ListPolicyTags", list_policy_tags)
            .resources(crate::resources::named_policy),
    ];
    operations.extend(versions::operations());
    operations.extend(attachments::operations());
    operations
}

/// The policy `CreatePolicy` is about to make.
fn new_policy_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![crate::resources::new_entity(
        env,
        input,
        "policy",
        "PolicyName",
    )])
}
// ---------------------------------------------------------------------------------------------
// Documents: the rules every policy family shares.

/// What AWS leaves unencoded in policy documents it returns: RFC 3986's unreserved characters.
const DOCUMENT_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A policy document as IAM's responses carry it: URL-encoded (the CLI and SDKs decode it).
pub fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE_SET).to_string()
}

/// Checks that `document` is an identity policy IAM accepts, with the engine's AWS wording.
pub fn check_identity_document(document: &str) -> Result<(), IamError> {
    Policy::parse_as(document, PolicyKind::Identity)
        .map(|_| ())
        // The engine's `aws_message` is AWS's own text ("Syntax errors in policy.", "Policy
        // document should not specify a principal."); its Display adds a JSON path and a line,
        // which AWS never sends.
        .map_err(|e| IamError::MalformedPolicyDocument(e.aws_message().to_owned()))
}

/// The size IAM counts against its policy quotas: characters, whitespace excluded.
pub fn document_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Checks a managed policy document: valid and within [`MAX_MANAGED_POLICY_SIZE`].
fn check_managed_document(document: &str) -> Result<(), IamError> {
    check_identity_document(document)?;
    if document_size(document) > MAX_MANAGED_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_SIZE}"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lookups.

/// A managed policy of either kind.
#[derive(Debug, Clone)]
pub(crate) enum ManagedPolicy {
    /// Built in.
    Aws(&'static AwsManagedPolicy),
    /// In the store.
    Customer(Box<PolicyRecord>),
}

impl ManagedPolicy {
    pub(crate) fn arn(&self) -> &str {
        match self {
            Self::Aws(p) => p.arn,
            Self::Customer(p) => &p.arn,
        }
    }

    fn path(&self) -> &str {
        match self {
            Self::Aws(p) => p.path,
            Self::Customer(p) => &p.path,
        }
    }

    fn default_version_id(&self) -> &str {
        match self {
            Self::Aws(p) => p.default_version_id,
            Self::Customer(p) => &p.default_version_id,
        }
    }

    /// Its versions, oldest first. Rampart knows one version of each AWS managed policy.
    pub(crate) fn versions(&self) -> Vec<PolicyVersionRecord> {
        match self {
            Self::Aws(p) => vec![PolicyVersionRecord {
                version_id: p.default_version_id.to_owned(),
                document: p.document.to_owned(),
                create_date: p.update_date.to_owned(),
            }],
            Self::Customer(p) => p.versions.clone(),
        }
    }

    fn tags(&self) -> Vec<Tag> {
        match self {
            Self::Aws(_) => Vec::new(),
            Self::Customer(p) => p.tags.clone(),
        }
    }

    /// The full view (GetPolicy, CreatePolicy).
    fn view(&self, usage: Usage) -> PolicyView {
        let (description, tags) = match self {
            Self::Aws(p) => (Some(p.description.to_owned()), Vec::new()),
            Self::Customer(p) => (p.description.clone(), p.tags.clone()),
        };
        PolicyView {
            description,
            tags,
            ..self.listed(usage)
        }
    }

    /// The view ListPolicies gives: AWS's list operations omit the description and tags.
    fn listed(&self, usage: Usage) -> PolicyView {
        let (name, id, create_date, update_date) = match self {
            Self::Aws(p) => (p.name, p.policy_id, p.create_date, p.update_date),
            Self::Customer(p) => (
                p.policy_name.as_str(),
                p.policy_id.as_str(),
                p.create_date.as_str(),
                p.update_date.as_str(),
            ),
        };
        PolicyView {
            policy_name: name.to_owned(),
            policy_id: id.to_owned(),
            arn: self.arn().to_owned(),
            path: self.path().to_owned(),
            default_version_id: self.default_version_id().to_owned(),
            attachment_count: usage.attachments,
            permissions_boundary_usage_count: usage.boundaries,
            is_attachable: true,
            description: None,
            create_date: create_date.to_owned(),
            update_date: update_date.to_owned(),
            tags: Vec::new(),
        }
    }
}

/// The managed policy `arn` as seen from `account_id`: an AWS managed policy, or one of the
/// account's own (another account's policies are invisible, as at AWS).
pub(crate) fn find(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<Option<ManagedPolicy>, IamError> {
    if let Some(aws) = managed_policies::get(arn) {
        return Ok(Some(ManagedPolicy::Aws(aws)));
    }
    match parse_policy_arn(arn) {
        Some((account, name)) if account == account_id => {
            Ok(records::policy_by_name(tx, account, name)?
                .filter(|p| p.arn == arn)
                .map(|p| ManagedPolicy::Customer(Box::new(p))))
        }
        _ => Ok(None),
    }
}

/// AWS's NoSuchEntity for a policy ARN that names nothing (GetPolicy, ListPolicyVersions, …).
pub(crate) fn not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} was not found."))
}

/// The managed policy `arn`, or AWS's NoSuchEntity.
pub(crate) fn require(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<ManagedPolicy, IamError> {
    find(tx, account_id, arn)?.ok_or_else(|| not_found(arn))
}

/// Why a change to a managed policy failed: IAM's errors, or AccessDenied for a policy outside
/// the caller's account (AWS managed policies included), which IAM refuses whoever asks, root
/// too. `IamError` has no AccessDenied because authorization owns that code elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum ManagedPolicyError {
    /// One of IAM's errors.
    #[error(transparent)]
    Iam(#[from] IamError),
    /// The policy belongs to AWS or to another account.
    #[error("{0}")]
    AccessDenied(String),
}

impl From<StoreError> for ManagedPolicyError {
    fn from(e: StoreError) -> Self {
        Self::Iam(IamError::Store(e))
    }
}

impl From<ManagedPolicyError> for AwsError {
    fn from(e: ManagedPolicyError) -> Self {
        match e {
            ManagedPolicyError::Iam(e) => e.into(),
            ManagedPolicyError::AccessDenied(message) => {
                AwsError::new("AccessDenied", 403, message)
            }
        }
    }
}

/// The customer managed policy `arn` of the caller's account, to change it. A policy outside
/// the account answers AccessDenied with `outside` (AWS's words for the operation, such as
/// "Cannot delete policies outside your own account.").
pub(crate) fn require_own(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
    outside: &str,
) -> Result<PolicyRecord, ManagedPolicyError> {
    let Some((account, name)) = parse_policy_arn(arn) else {
        return Err(not_found(arn).into());
    };
    if account != account_id {
        return Err(ManagedPolicyError::AccessDenied(outside.to_owned()));
    }
    Ok(records::policy_by_name(tx, account, name)?
        .filter(|p| p.arn == arn)
        .ok_or_else(|| not_found(arn))?)
}

/// Every document of `ns` under `prefix`.
pub(crate) fn scan_all<T: DeserializeOwned>(
    tx: &mut (impl ReadTx + ?Sized),
    ns: &str,
    prefix: &str,
) -> Result<Vec<T>, IamError> {
    const BATCH: usize = 256;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = scan_json::<T>(tx, ns, prefix, after.as_deref(), BATCH)?;
        let done = batch.len() < BATCH;
        for (key, item) in batch {
            out.push(item);
            after = Some(key);
        }
        if done {
            return Ok(out);
        }
    }
}

/// How a managed policy is used in an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Users, groups and roles it is attached to.
    pub attachments: i64,
    /// Users and roles it bounds.
    pub boundaries: i64,
}

/// The usage of every managed policy used in `account_id`, by ARN.
pub(crate) fn usage_by_arn(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<HashMap<String, Usage>, IamError> {
    let prefix = records::account_prefix(account_id);
    let mut usage: HashMap<String, Usage> = HashMap::new();
    let mut count = |arns: &[String], boundary: Option<&String>| {
        for arn in arns {
            usage.entry(arn.clone()).or_default().attachments += 1;
        }
        if let Some(arn) = boundary {
            usage.entry(arn.clone()).or_default().boundaries += 1;
        }
    };
    for user in scan_all::<UserRecord>(tx, USERS, &prefix)? {
        count(&user.attached_policies, user.permissions_boundary.as_ref());
    }
    for group in scan_all::<GroupRecord>(tx, GROUPS, &prefix)? {
        count(&group.attached_policies, None);
    }
    for role in scan_all::<RoleRecord>(tx, ROLES, &prefix)? {
        count(&role.attached_policies, role.permissions_boundary.as_ref());
    }
    Ok(usage)
}

fn usage_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<Usage, IamError> {
    Ok(usage_by_arn(tx, account_id)?
        .get(arn)
        .copied()
        .unwrap_or_default())
}

/// The path of a policy ARN: `/team/` in `arn:aws:iam::123456789012:policy/team/Name`.
pub(crate) fn path_of_arn(arn: &str) -> &str {
    let resource = arn.split_once(":policy").map_or("/", |(_, rest)| rest);
    match resource.rfind('/') {
        Some(end) => resource.get(..=end).unwrap_or("/"),
        None => "/",
    }
}

// ---------------------------------------------------------------------------------------------
// Shared with the other families (keep these signatures).

/// The default document of the managed policy `arn` (customer managed in `account_id`, or AWS
/// managed), if it exists.
pub fn default_document(
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<Option<String>, IamError> {
    if let Some(aws) = managed_policies::get(arn) {
        return Ok(Some(aws.document.to_owned()));
    }
    let Some((account_id, name)) = parse_policy_arn(arn) else {
        return Ok(None);
    };
    Ok(records::policy_by_name(tx, account_id, name)?
        .filter(|p| p.arn == arn)
        .and_then(|p| p.default_document().map(str::to_owned)))
}

/// The account and name of `arn:aws:iam::<account>:policy<path><name>`.
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("policy/")?;
    let name = path_and_name.rsplit('/').next()?;
    (!name.is_empty()).then_some((account, name))
}

/// Checks that `arn` names a managed policy usable as a permissions boundary: AWS managed, or
/// customer managed in `account_id`.
pub fn require_boundary_policy(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<(), IamError> {
    match find(tx, account_id, arn)? {
        Some(_) => Ok(()),
        None => Err(IamError::NoSuchEntity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Operations.

/// A managed policy as IAM's API shows it (the model's `Policy` shape).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyView {
    pub(crate) policy_name: String,
    pub(crate) policy_id: String,
    pub(crate) arn: String,
    pub(crate) path: String,
    pub(crate) default_version_id: String,
    pub(crate) attachment_count: i64,
    pub(crate) permissions_boundary_usage_count: i64,
    pub(crate) is_attachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) create_date: String,
    pub(crate) update_date: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyOutput {
    policy: PolicyView,
}

#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePolicyInput {
    policy_name: String,
    path: Option<String>,
    policy_document: String,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

fn create_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreatePolicyInput,
) -> Result<PolicyOutput, IamError> {
    let account = env.caller.account_id.clone();
    tags::check_new(&input.tags)?;
    check_managed_document(&input.policy_document)?;
    if records::policy_by_name(tx, &account, &input.policy_name)?.is_some() {
        return Err(IamError::EntityAlreadyExists(format!(
            "A policy called {} already exists. Duplicate names are not allowed.",
            input.policy_name
        )));
    }
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let now = aws_timestamp(env.now);
    let policy = PolicyRecord {
        arn: records::arn(&account, "policy", &path, &input.policy_name),
        account_id: account,
        policy_id: unique_id(IdPrefix::Policy, env.entropy),
        policy_name: input.policy_name,
        path,
        // AWS keeps an empty description as no description.
        description: input.description.filter(|d| !d.is_empty()),
        create_date: now.clone(),
        update_date: now.clone(),
        default_version_id: "v1".to_owned(),
        versions: vec![PolicyVersionRecord {
            version_id: "v1".to_owned(),
            document: input.policy_document,
            create_date: now,
        }],
        next_version: 2,
        tags: input.tags,
    };
    records::put_policy(tx, &policy)?;
    Ok(PolicyOutput {
        policy: ManagedPolicy::Customer(Box::new(policy)).view(Usage::default()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyArnInput {
    policy_arn: String,
}

fn get_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: PolicyArnInput,
) -> Result<PolicyOutput, IamError> {
    let account = &env.caller.account_id;
    let policy = require(tx, account, &input.policy_arn)?;
    let usage = usage_of(tx, account, policy.arn())?;
    Ok(PolicyOutput {
        policy: policy.view(usage),
    })
}

fn delete_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyArnInput,
) -> Result<Empty, ManagedPolicyError> {
    let account = env.caller.account_id.clone();
    let policy = require_own(
        tx,
        &account,
        &input.policy_arn,
        "Cannot delete policies outside your own account.",
    )?;
    let usage = usage_of(tx, &account, &policy.arn)?;
    // A boundary use blocks deletion as an attachment does (the console says so); AWS answers
    // both with the same DeleteConflict.
    if usage.attachments > 0 || usage.boundaries > 0 {
        return Err(IamError::DeleteConflict(
            "Cannot delete a policy attached to entities.".into(),
        )
        .into());
    }
    if policy.versions.len() > 1 {
        return Err(IamError::DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete \
             the policy's versions. The default version is deleted with the policy."
                .into(),
        )
        .into());
    }
    tx.delete(POLICIES, &records::key(&account, &policy.policy_name))?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesInput {
    scope: Option<String>,
    #[serde(default)]
    only_attached: bool,
    path_prefix: Option<String>,
    policy_usage_filter: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesOutput {
    policies: Vec<PolicyView>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPoliciesInput,
) -> Result<ListPoliciesOutput, IamError> {
    let account = &env.caller.account_id;
    let scope = input.scope.as_deref().unwrap_or("All");
    let prefix = input.path_prefix.as_deref().unwrap_or("/");
    let usage = usage_by_arn(tx, account)?;
    let mut candidates = Vec::new();
    if scope != "Local" {
        candidates.extend(managed_policies::ALL.iter().map(ManagedPolicy::Aws));
    }
    if scope != "AWS" {
        let own: Vec<PolicyRecord> = scan_all(tx, POLICIES, &records::account_prefix(account))?;
        candidates.extend(
            own.into_iter()
                .map(|p| ManagedPolicy::Customer(Box::new(p))),
        );
    }
    let mut items: Vec<(String, PolicyView)> = candidates
        .into_iter()
        .filter_map(|policy| {
            let used = usage.get(policy.arn()).copied().unwrap_or_default();
            // PolicyUsageFilter selects by how a policy is used, as the console's "Used as"
            // column does: attached as a permissions policy, or set as a boundary.
            let wanted = match input.policy_usage_filter.as_deref() {
                Some("PermissionsPolicy") => used.attachments > 0,
                Some("PermissionsBoundary") => used.boundaries > 0,
                _ => true,
            };
            let attached = match input.policy_usage_filter.as_deref() {
                Some("PermissionsBoundary") => used.boundaries > 0,
                _ => used.attachments > 0,
            };
            (policy.path().starts_with(prefix) && wanted && (attached || !input.only_attached))
                .then(|| (policy.arn().to_owned(), policy.listed(used)))
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let page = page_sorted(items, input.marker.as_deref(), input.max_items)?;
    Ok(ListPoliciesOutput {
        is_truncated: page.is_truncated(),
        policies: page.items,
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagPolicyInput {
    policy_arn: String,
    tags: Vec<Tag>,
}

fn tag_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagPolicyInput,
) -> Result<Empty, ManagedPolicyError> {
    let mut policy = require_own(
        tx,
        &env.caller.account_id,
        &input.policy_arn,
        "Cannot tag policies outside your own account.",
    )?;
    tags::merge(&mut policy.tags, input.tags)?;
    records::put_policy(tx, &policy)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagPolicyInput {
    policy_arn: String,
    tag_keys: Vec<String>,
}

fn untag_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagPolicyInput,
) -> Result<Empty, ManagedPolicyError> {
    let mut policy = require_own(
        tx,
        &env.caller.account_id,
        &input.policy_arn,
        "Cannot untag policies outside your own account.",
    )?;
    tags::remove(&mut policy.tags, &input.tag_keys);
    records::put_policy(tx, &policy)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPolicyTagsInput {
    policy_arn: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_policy_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPolicyTagsInput,
) -> Result<tags::TagPage, IamError> {
    let policy = require(tx, &env.caller.account_id, &input.policy_arn)?;
    tags::page(policy.tags(), input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
pub(crate) mod tests;
