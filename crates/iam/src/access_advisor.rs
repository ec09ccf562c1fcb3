//! The access advisor: `GenerateServiceLastAccessedDetails` and
//! `GetServiceLastAccessedDetails`, answered from the calls Rampart really served. The audit
//! step records, for each authenticated call by an IAM user or role, when it last reached
//! each service ([`record_access`]).
//!
//! A record is one entity's: it is read back only for the entity whose ARN it names exactly
//! (the key `<account>/<ARN>/<service>` of user `bob` is also a prefix of the keys of the users
//! at path `/bob/`) and whose unique ID made the calls, and IAM forgets it when it deletes
//! the entity ([`forget_entity`]). An entity made again under the same ARN starts with no
//! history, as AWS's reports are per entity.

use std::collections::BTreeMap;

use rampart_policy::{Effect, Policy};
use rampart_service::{AwsError, Env, Operation, ResourcePolicy, Value, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::authorization::{self, NamedDocument};
use crate::pagination::page_by_index;
use crate::records::{self, GROUPS, GroupRecord, ROLES, RoleRecord, USERS, UserRecord};

/// Namespace of last-access records: `<account>/<entity ARN>/<service namespace>`.
const LAST_ACCESSED: &str = "iam.last-accessed";
/// Namespace of generated reports, keyed by job ID.
const JOBS: &str = "iam.access-advisor-job";

/// The services Rampart serves, by namespace, with the names AWS's access advisor uses.
const SERVICES: &[(&str, &str)] = &[
    ("acm", "AWS Certificate Manager"),
    ("cloudtrail", "AWS CloudTrail"),
    ("cognito-idp", "Amazon Cognito User Pools"),
    ("iam", "AWS Identity and Access Management"),
    ("kms", "AWS Key Management Service"),
    ("logs", "Amazon CloudWatch Logs"),
    ("organizations", "AWS Organizations"),
    ("secretsmanager", "AWS Secrets Manager"),
    ("ssm", "AWS Systems Manager"),
    ("sts", "AWS Security Token Service"),
    ("wafv2", "AWS WAF"),
];

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "GenerateServiceLastAccessedDetails",
            "iam:GenerateServiceLastAccessedDetails",
            generate,
        )
        .resources(crate::resources::entity_in_arn)
        .resource_policy(arn_owner)
        .partial("ACTION_LEVEL granularity reports services only"),
        Operation::read(
            "GetServiceLastAccessedDetails",
            "iam:GetServiceLastAccessedDetails",
            get_details,
        ),
        Operation::read(
            "GetServiceLastAccessedDetailsWithEntities",
            "iam:GetServiceLastAccessedDetailsWithEntities",
            get_details_with_entities,
        ),
        Operation::read(
            "ListPoliciesGrantingServiceAccess",
            "iam:ListPoliciesGrantingServiceAccess",
            list_policies_granting_service_access,
        )
        .resources(crate::resources::entity_in_arn)
        .resource_policy(arn_owner),
    ]
}

/// The resource policy of the entity `Arn` names: another account's entity is refused by the
/// authorize step (see [`crate::simulate::other_account_policy`]).
fn arn_owner(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let arn = input.get("Arn").and_then(Value::as_str).unwrap_or_default();
    Ok(crate::simulate::other_account_policy(env, arn))
}

/// One entity's last access to one service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LastAccess {
    entity_arn: String,
    /// The unique ID (`AIDA…`, `AROA…`) of the entity that made the calls, so that another
    /// entity that later holds the ARN (made again, or renamed to it) does not inherit them.
    /// Records from before it was kept have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entity_id: Option<String>,
    service: String,
    date: String,
    region: String,
}

impl LastAccess {
    /// Whether this is a record of the entity `arn` whose unique ID is `id`.
    fn is_of(&self, arn: &str, id: &str) -> bool {
        self.entity_arn == arn && self.entity_id.as_deref().is_none_or(|own| own == id)
    }
}

/// The keys of `entity_arn`'s records start with this (and so do those of the entities under
/// the path it ends with: a record's own ARN decides whose it is).
fn entity_prefix(account_id: &str, entity_arn: &str) -> String {
    format!("{account_id}/{entity_arn}/")
}

/// The unique ID of the user or role of `account_id` whose ARN is `entity_arn`, if there is
/// one now.
fn entity_id(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
) -> Result<Option<String>, StoreError> {
    let Some((_, resource)) = entity_arn.rsplit_once(':') else {
        return Ok(None);
    };
    let name = resource.rsplit('/').next().unwrap_or_default();
    let key = records::key(account_id, name);
    if resource.starts_with("user/") {
        let user: Option<UserRecord> = get_json(tx, USERS, &key)?;
        Ok(user.filter(|u| u.arn == entity_arn).map(|u| u.user_id))
    } else if resource.starts_with("role/") {
        let role: Option<RoleRecord> = get_json(tx, ROLES, &key)?;
        Ok(role.filter(|r| r.arn == entity_arn).map(|r| r.role_id))
    } else {
        Ok(None)
    }
}

/// Records that `entity_arn` (an IAM user or role of `account_id`) reached `service`. A call
/// whose entity is gone by the time it is recorded (deleted in the same transaction) leaves
/// nothing behind.
pub fn record_access(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
    service: &str,
    region: &str,
    date: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let Some(id) = entity_id(tx, account_id, entity_arn)? else {
        return Ok(());
    };
    let access = LastAccess {
        entity_arn: entity_arn.to_owned(),
        entity_id: Some(id),
        service: service.to_owned(),
        date: aws_timestamp(date),
        region: region.to_owned(),
    };
    put_json(
        tx,
        LAST_ACCESSED,
        &format!("{}{service}", entity_prefix(account_id, entity_arn)),
        &access,
    )
}

/// Forgets every call of the entity `entity_arn` names. IAM calls it in the transaction that
/// deletes the entity, so that one made again under the same ARN starts with no history.
pub(crate) fn forget_entity(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
) -> Result<(), StoreError> {
    let prefix = entity_prefix(account_id, entity_arn);
    let found: Vec<(String, LastAccess)> = scan_json(tx, LAST_ACCESSED, &prefix, None, usize::MAX)?;
    for (key, access) in found {
        if access.entity_arn == entity_arn {
            tx.delete(LAST_ACCESSED, &key)?;
        }
    }
    Ok(())
}

/// Moves the calls of the entity `old_arn` names to `new_arn`, its ARN once renamed or moved.
pub(crate) fn move_entity(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    old_arn: &str,
    new_arn: &str,
) -> Result<(), StoreError> {
    if old_arn == new_arn {
        return Ok(());
    }
    let prefix = entity_prefix(account_id, old_arn);
    let found: Vec<(String, LastAccess)> = scan_json(tx, LAST_ACCESSED, &prefix, None, usize::MAX)?;
    for (key, mut access) in found {
        if access.entity_arn != old_arn {
            continue;
        }
        tx.delete(LAST_ACCESSED, &key)?;
        access.entity_arn = new_arn.to_owned();
        let moved = format!("{}{}", entity_prefix(account_id, new_arn), access.service);
        put_json(tx, LAST_ACCESSED, &moved, &access)?;
    }
    Ok(())
}

/// The calls of the entity whose ARN is `entity_arn` and unique ID `entity_id`.
fn accesses_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
    entity_id: &str,
) -> Result<Vec<LastAccess>, StoreError> {
    Ok(scan_json(
        tx,
        LAST_ACCESSED,
        &entity_prefix(account_id, entity_arn),
        None,
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, a): (String, LastAccess)| a)
    .filter(|a| a.is_of(entity_arn, entity_id))
    .collect())
}

/// A service as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceLastAccessed {
    service_name: String,
    service_namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authenticated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authenticated_entity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authenticated_region: Option<String>,
    total_authenticated_entities: i64,
}

/// A generated report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    account_id: String,
    job_type: String,
    created: String,
    services: Vec<ServiceLastAccessed>,
    /// The ARNs of the entities whose calls the report counts (reports made before this
    /// field existed have none).
    #[serde(default)]
    entities: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateInput {
    arn: String,
    granularity: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateOutput {
    job_id: String,
}

/// The service namespaces the documents allow some action of (`*` allows them all).
fn allowed_services(documents: &[NamedDocument]) -> Vec<&'static str> {
    let mut allowed = Vec::new();
    for named in documents {
        let Ok(policy) = Policy::parse(&named.document) else {
            continue;
        };
        for statement in policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            let Some((negated, actions)) = &statement.action else {
                continue;
            };
            for (namespace, _) in SERVICES {
                let named_here = actions.values.iter().any(|a| {
                    a == "*"
                        || a.split_once(':')
                            .is_some_and(|(p, _)| p.eq_ignore_ascii_case(namespace))
                });
                // NotAction allows every service it does not name in full.
                let grants = if *negated {
                    !actions.values.iter().any(|a| a == "*")
                } else {
                    named_here
                };
                if grants && !allowed.contains(namespace) {
                    allowed.push(*namespace);
                }
            }
        }
    }
    allowed.sort_unstable();
    allowed
}

/// A user or role whose calls a report counts.
struct Counted {
    arn: String,
    /// Its unique ID: only its own calls count, not those of an earlier holder of its ARN.
    id: String,
}

impl Counted {
    fn user(user: UserRecord) -> Self {
        Self {
            arn: user.arn,
            id: user.user_id,
        }
    }
}

/// The entities of `account` whose calls count for `arn`, and the policies that grant it
/// services. `arn` names an entity of `account` (the caller's) or an AWS managed policy;
/// another account's entity is never read, and answers as one that does not exist.
fn subject(
    tx: &mut dyn WriteTx,
    account: &str,
    arn: &str,
) -> Result<(Vec<Counted>, Vec<NamedDocument>), IamError> {
    let invalid = || IamError::InvalidInput(format!("Invalid ARN {arn}."));
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(invalid)?;
    let (owner, resource) = rest.split_once(':').ok_or_else(invalid)?;
    let (kind, path_and_name) = resource.split_once('/').ok_or_else(invalid)?;
    let name = path_and_name.rsplit('/').next().ok_or_else(invalid)?;
    let no_policy =
        || IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."));
    let shared = kind == "policy" && owner == "aws";
    if owner != account && !shared {
        return Err(match kind {
            "user" | "role" | "group" => IamError::no_such(kind, name),
            "policy" => no_policy(),
            _ => invalid(),
        });
    }
    match kind {
        "user" => {
            let user: UserRecord = records::user(tx, account, name)?;
            let policies = authorization::user_policies(tx, account, name)?;
            Ok((vec![Counted::user(user)], policies.identity))
        }
        "role" => {
            let role: RoleRecord = records::role(tx, account, name)?;
            let policies = authorization::role_policies(tx, account, name)?;
            let counted = Counted {
                arn: role.arn,
                id: role.role_id,
            };
            Ok((vec![counted], policies.identity))
        }
        "group" => {
            let group: GroupRecord = records::group(tx, account, name)?;
            let policies = authorization::group_policies(tx, account, name)?;
            let mut members = Vec::new();
            for member in &group.members {
                members.push(Counted::user(records::user(tx, account, member)?));
            }
            Ok((members, policies.identity))
        }
        "policy" => {
            let document = crate::policies::default_document(tx, arn)?.ok_or_else(no_policy)?;
            // An AWS managed policy counts the caller's account's entities it is attached to.
            let mut entities = Vec::new();
            let prefix = records::account_prefix(account);
            let attached = |list: &[String]| list.iter().any(|a| a == arn);
            for (_, u) in scan_json::<UserRecord>(tx, USERS, &prefix, None, usize::MAX)? {
                if attached(&u.attached_policies) {
                    entities.push(Counted::user(u));
                }
            }
            for (_, r) in scan_json::<RoleRecord>(tx, ROLES, &prefix, None, usize::MAX)? {
                if attached(&r.attached_policies) {
                    entities.push(Counted {
                        arn: r.arn,
                        id: r.role_id,
                    });
                }
            }
            for (_, g) in scan_json::<GroupRecord>(tx, GROUPS, &prefix, None, usize::MAX)? {
                if attached(&g.attached_policies) {
                    for member in &g.members {
                        entities.push(Counted::user(records::user(tx, account, member)?));
                    }
                }
            }
            let named = NamedDocument {
                id: arn.to_owned(),
                source: authorization::PolicySource::UserManaged,
                document,
            };
            Ok((entities, vec![named]))
        }
        _ => Err(invalid()),
    }
}

fn generate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GenerateInput,
) -> Result<GenerateOutput, IamError> {
    let account = env.caller.account_id.clone();
    let (entities, documents) = subject(tx, &account, &input.arn)?;
    let mut latest: BTreeMap<String, (LastAccess, i64)> = BTreeMap::new();
    for entity in &entities {
        for access in accesses_of(tx, &account, &entity.arn, &entity.id)? {
            let entry = latest
                .entry(access.service.clone())
                .or_insert((access.clone(), 0));
            entry.1 += 1;
            if access.date > entry.0.date {
                entry.0 = access;
            }
        }
    }
    let services = allowed_services(&documents)
        .into_iter()
        .map(|namespace| {
            let name = SERVICES
                .iter()
                .find(|(n, _)| *n == namespace)
                .map_or(namespace, |(_, name)| name);
            let used = latest.get(namespace);
            ServiceLastAccessed {
                service_name: name.to_owned(),
                service_namespace: namespace.to_owned(),
                last_authenticated: used.map(|(a, _)| a.date.clone()),
                last_authenticated_entity: used.map(|(a, _)| a.entity_arn.clone()),
                last_authenticated_region: used.map(|(a, _)| a.region.clone()),
                total_authenticated_entities: used.map_or(0, |(_, n)| *n),
            }
        })
        .collect();
    // The report is computed at once from what is recorded, and kept under its job ID.
    let job_id = job_id(env);
    let job = Job {
        account_id: account,
        job_type: input
            .granularity
            .unwrap_or_else(|| "SERVICE_LEVEL".to_owned()),
        created: aws_timestamp(env.now),
        services,
        entities: entities.into_iter().map(|e| e.arn).collect(),
    };
    put_json(tx, JOBS, &job_id, &job)?;
    Ok(GenerateOutput { job_id })
}

/// A job ID in AWS's shape: a UUID (36 characters).
fn job_id(env: &Env<'_>) -> String {
    let b = env.random(16);
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDetailsInput {
    job_id: String,
    max_items: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetDetailsOutput {
    job_status: &'static str,
    job_type: String,
    job_creation_date: String,
    services_last_accessed: Vec<ServiceLastAccessed>,
    job_completion_date: String,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn get_details(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetDetailsInput,
) -> Result<GetDetailsOutput, IamError> {
    let job: Job = get_json(tx, JOBS, &input.job_id)?
        .filter(|j: &Job| j.account_id == env.caller.account_id)
        .ok_or_else(|| IamError::NoSuchEntity(format!("No such job: {}", input.job_id)))?;
    let page = page_by_index(job.services, input.marker.as_deref(), input.max_items)?;
    Ok(GetDetailsOutput {
        job_status: "COMPLETED",
        job_type: job.job_type,
        job_creation_date: job.created.clone(),
        is_truncated: page.is_truncated(),
        services_last_accessed: page.items,
        job_completion_date: job.created,
        marker: page.next,
    })
}

/// Whether an Allow statement of `document` grants some action of `namespace` (`*` and
/// NotAction count, as in [`allowed_services`]).
fn grants_namespace(document: &str, namespace: &str) -> bool {
    let Ok(policy) = Policy::parse(document) else {
        return false;
    };
    policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .any(|statement| {
            let Some((negated, actions)) = &statement.action else {
                return false;
            };
            let names_it = |a: &String| {
                a == "*"
                    || a.split_once(':')
                        .is_some_and(|(p, _)| p.eq_ignore_ascii_case(namespace))
            };
            if *negated {
                !actions.values.iter().any(|a| a == "*")
            } else {
                actions.values.iter().any(names_it)
            }
        })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDetailsWithEntitiesInput {
    job_id: String,
    service_namespace: String,
    max_items: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntityInfo {
    arn: String,
    name: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    id: String,
    path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntityDetails {
    entity_info: EntityInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authenticated: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetDetailsWithEntitiesOutput {
    job_status: &'static str,
    job_creation_date: String,
    job_completion_date: String,
    entity_details_list: Vec<EntityDetails>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// The user or role an ARN of the report names, as `EntityInfo`; `None` once no entity has
/// that ARN (deleted, or moved to another path).
fn entity_info(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    arn: &str,
) -> Result<Option<EntityInfo>, IamError> {
    let Some((_, resource)) = arn.rsplit_once(':') else {
        return Ok(None);
    };
    let name = resource.rsplit('/').next().unwrap_or_default();
    if resource.starts_with("user/") {
        let user: Option<UserRecord> = get_json(tx, USERS, &records::key(account, name))?;
        Ok(user.filter(|u| u.arn == arn).map(|u| EntityInfo {
            arn: u.arn,
            name: u.user_name,
            kind: "USER",
            id: u.user_id,
            path: u.path,
        }))
    } else if resource.starts_with("role/") {
        let role: Option<RoleRecord> = get_json(tx, ROLES, &records::key(account, name))?;
        Ok(role.filter(|r| r.arn == arn).map(|r| EntityInfo {
            arn: r.arn,
            name: r.role_name,
            kind: "ROLE",
            id: r.role_id,
            path: r.path,
        }))
    } else {
        Ok(None)
    }
}

/// The report's entities and when each last reached one service. Entities that never did
/// are listed without `LastAuthenticated`, most recent first after those that did, as AWS
/// sorts them.
fn get_details_with_entities(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetDetailsWithEntitiesInput,
) -> Result<GetDetailsWithEntitiesOutput, IamError> {
    let account = env.caller.account_id.clone();
    let job: Job = get_json(tx, JOBS, &input.job_id)?
        .filter(|j: &Job| j.account_id == account)
        .ok_or_else(|| IamError::NoSuchEntity(format!("No such job: {}", input.job_id)))?;
    let mut details = Vec::new();
    for arn in &job.entities {
        let Some(info) = entity_info(tx, &account, arn)? else {
            continue;
        };
        let access: Option<LastAccess> = get_json(
            tx,
            LAST_ACCESSED,
            &format!(
                "{}{}",
                entity_prefix(&account, arn),
                input.service_namespace
            ),
        )?;
        let last_authenticated = access.filter(|a| a.is_of(arn, &info.id)).map(|a| a.date);
        details.push(EntityDetails {
            entity_info: info,
            last_authenticated,
        });
    }
    details.sort_by(|a, b| b.last_authenticated.cmp(&a.last_authenticated));
    let page = page_by_index(details, input.marker.as_deref(), input.max_items)?;
    Ok(GetDetailsWithEntitiesOutput {
        job_status: "COMPLETED",
        job_creation_date: job.created.clone(),
        job_completion_date: job.created,
        is_truncated: page.is_truncated(),
        entity_details_list: page.items,
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesGrantingInput {
    arn: String,
    service_namespaces: Vec<String>,
    #[expect(
        dead_code,
        reason = "every answer fits one page; the marker is never issued"
    )]
    marker: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyGrantingServiceAccess {
    policy_name: String,
    policy_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesGrantingEntry {
    service_namespace: String,
    policies: Vec<PolicyGrantingServiceAccess>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesGrantingOutput {
    policies_granting_service_access: Vec<ListPoliciesGrantingEntry>,
    is_truncated: bool,
}

/// One candidate policy: how the answer names it, and its document.
struct Candidate {
    view: PolicyGrantingServiceAccess,
    document: String,
}

fn inline_candidates(
    policies: &BTreeMap<String, String>,
    entity_type: &'static str,
    entity_name: &str,
) -> Vec<Candidate> {
    policies
        .iter()
        .map(|(name, document)| Candidate {
            view: PolicyGrantingServiceAccess {
                policy_name: name.clone(),
                policy_type: "INLINE",
                policy_arn: None,
                entity_type: Some(entity_type),
                entity_name: Some(entity_name.to_owned()),
            },
            document: document.clone(),
        })
        .collect()
}

fn managed_candidates(
    tx: &mut (impl ReadTx + ?Sized),
    arns: &[String],
) -> Result<Vec<Candidate>, IamError> {
    let mut out = Vec::new();
    for arn in arns {
        if let Some(document) = crate::policies::default_document(tx, arn)? {
            out.push(Candidate {
                view: PolicyGrantingServiceAccess {
                    policy_name: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
                    policy_type: "MANAGED",
                    policy_arn: Some(arn.clone()),
                    entity_type: None,
                    entity_name: None,
                },
                document,
            });
        }
    }
    Ok(out)
}

fn group_candidates(
    tx: &mut (impl ReadTx + ?Sized),
    group: &GroupRecord,
) -> Result<Vec<Candidate>, IamError> {
    let mut out = inline_candidates(&group.inline_policies, "GROUP", &group.group_name);
    out.extend(managed_candidates(tx, &group.attached_policies)?);
    Ok(out)
}

/// The policies of a user (with its groups'), group or role that allow each namespace.
fn list_policies_granting_service_access(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPoliciesGrantingInput,
) -> Result<ListPoliciesGrantingOutput, IamError> {
    let arn = &input.arn;
    let invalid = || IamError::InvalidInput(format!("Invalid ARN {arn}."));
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(invalid)?;
    let (account, resource) = rest.split_once(':').ok_or_else(invalid)?;
    if account != env.caller.account_id {
        return Err(invalid());
    }
    let (kind, path_and_name) = resource.split_once('/').ok_or_else(invalid)?;
    let name = path_and_name.rsplit('/').next().ok_or_else(invalid)?;
    let candidates = match kind {
        "user" => {
            let user = records::user(tx, account, name)?;
            let mut all = inline_candidates(&user.inline_policies, "USER", &user.user_name);
            all.extend(managed_candidates(tx, &user.attached_policies)?);
            for group_name in &user.groups {
                let group = records::group(tx, account, group_name)?;
                all.extend(group_candidates(tx, &group)?);
            }
            all
        }
        "group" => {
            let group = records::group(tx, account, name)?;
            group_candidates(tx, &group)?
        }
        "role" => {
            let role = records::role(tx, account, name)?;
            let mut all = inline_candidates(&role.inline_policies, "ROLE", &role.role_name);
            all.extend(managed_candidates(tx, &role.attached_policies)?);
            all
        }
        _ => return Err(invalid()),
    };
    let entries = input
        .service_namespaces
        .into_iter()
        .map(|namespace| ListPoliciesGrantingEntry {
            policies: candidates
                .iter()
                .filter(|c| grants_namespace(&c.document, &namespace))
                .map(|c| c.view.clone())
                .collect(),
            service_namespace: namespace,
        })
        .collect();
    Ok(ListPoliciesGrantingOutput {
        policies_granting_service_access: entries,
        is_truncated: false,
    })
}

#[cfg(test)]
#[path = "access_advisor_tests.rs"]
mod tests;
