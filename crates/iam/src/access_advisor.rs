//! The access advisor: `GenerateServiceLastAccessedDetails` and
//! `GetServiceLastAccessedDetails`, answered from the calls Rampart really served. The audit
//! step records, for each authenticated call by an IAM user or role, when it last reached
//! each service ([`record_access`]).

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
    service: String,
    date: String,
    region: String,
}

/// Records that `entity_arn` (an IAM user or role of `account_id`) reached `service`.
pub fn record_access(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
    service: &str,
    region: &str,
    date: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let access = LastAccess {
        entity_arn: entity_arn.to_owned(),
        service: service.to_owned(),
        date: aws_timestamp(date),
        region: region.to_owned(),
    };
    put_json(
        tx,
        LAST_ACCESSED,
        &format!("{account_id}/{entity_arn}/{service}"),
        &access,
    )
}

fn accesses_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    entity_arn: &str,
) -> Result<Vec<LastAccess>, StoreError> {
    Ok(scan_json(
        tx,
        LAST_ACCESSED,
        &format!("{account_id}/{entity_arn}/"),
        None,
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, a)| a)
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

/// The entities of `account` whose calls count for `arn`, and the policies that grant it
/// services. `arn` names an entity of `account` (the caller's) or an AWS managed policy;
/// another account's entity is never read, and answers as one that does not exist.
fn subject(
    tx: &mut dyn WriteTx,
    account: &str,
    arn: &str,
) -> Result<(Vec<String>, Vec<NamedDocument>), IamError> {
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
            Ok((vec![user.arn], policies.identity))
        }
        "role" => {
            let role: RoleRecord = records::role(tx, account, name)?;
            let policies = authorization::role_policies(tx, account, name)?;
            Ok((vec![role.arn], policies.identity))
        }
        "group" => {
            let group: GroupRecord = records::group(tx, account, name)?;
            let policies = authorization::group_policies(tx, account, name)?;
            let mut members = Vec::new();
            for member in &group.members {
                members.push(records::user(tx, account, member)?.arn);
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
                    entities.push(u.arn);
                }
            }
            for (_, r) in scan_json::<RoleRecord>(tx, ROLES, &prefix, None, usize::MAX)? {
                if attached(&r.attached_policies) {
                    entities.push(r.arn);
                }
            }
            for (_, g) in scan_json::<GroupRecord>(tx, GROUPS, &prefix, None, usize::MAX)? {
                if attached(&g.attached_policies) {
                    for member in &g.members {
                        entities.push(records::user(tx, account, member)?.arn);
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
        for access in accesses_of(tx, &account, entity)? {
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
        entities,
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

/// The user or role an ARN of the report names, as `EntityInfo`; `None` once it is deleted.
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
        Ok(user.map(|u| EntityInfo {
            arn: u.arn,
            name: u.user_name,
            kind: "USER",
            id: u.user_id,
            path: u.path,
        }))
    } else if resource.starts_with("role/") {
        let role: Option<RoleRecord> = get_json(tx, ROLES, &records::key(account, name))?;
        Ok(role.map(|r| EntityInfo {
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
            &format!("{account}/{arn}/{}", input.service_namespace),
        )?;
        details.push(EntityDetails {
            entity_info: info,
            last_authenticated: access.map(|a| a.date),
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
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    #[test]
    fn the_report_lists_allowed_services_with_their_last_access() {
        let t = TestEnv::new();
        t.write(|env, tx| {
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/bob");
            let mut user = UserRecord {
                account_id: ACCOUNT.into(),
                user_name: "bob".into(),
                user_id: "AIDAEXAMPLE".into(),
                path: "/".into(),
                arn: arn.clone(),
                create_date: aws_timestamp(env.now),
                password_last_used: None,
                permissions_boundary: None,
                tags: Vec::new(),
                attached_policies: Vec::new(),
                inline_policies: Default::default(),
                groups: Vec::new(),
            };
            user.inline_policies.insert(
                "p".into(),
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","kms:*"],"Resource":"*"}]}"#.into(),
            );
            records::put_user(tx, &user)?;
            record_access(tx, ACCOUNT, &arn, "iam", "us-east-1", env.now)?;
            Ok::<_, IamError>(())
        })
        .unwrap();
        let input = GenerateInput {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/bob"),
            granularity: None,
        };
        let job = t.write(move |env, tx| generate(env, tx, input)).unwrap();
        assert_eq!(job.job_id.len(), 36);
        let input = GetDetailsInput {
            job_id: job.job_id,
            max_items: None,
            marker: None,
        };
        let report = t.read(|env, tx| get_details(env, tx, input)).unwrap();
        let namespaces: Vec<_> = report
            .services_last_accessed
            .iter()
            .map(|s| s.service_namespace.as_str())
            .collect();
        assert_eq!(namespaces, ["iam", "kms"]);
        assert_eq!(
            report.services_last_accessed[0]
                .last_authenticated
                .as_deref(),
            Some("2026-11-24T12:00:00Z")
        );
        assert_eq!(
            report.services_last_accessed[0].total_authenticated_entities,
            1
        );
        assert!(
            report.services_last_accessed[1]
                .last_authenticated
                .is_none()
        );
    }

    fn bob_with_policy(t: &TestEnv) {
        t.write(|env, tx| {
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/bob");
            let mut user = UserRecord {
                account_id: ACCOUNT.into(),
                user_name: "bob".into(),
                user_id: "AIDAEXAMPLE".into(),
                path: "/".into(),
                arn: arn.clone(),
                create_date: aws_timestamp(env.now),
                password_last_used: None,
                permissions_boundary: None,
                tags: Vec::new(),
                attached_policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                inline_policies: Default::default(),
                groups: Vec::new(),
            };
            user.inline_policies.insert(
                "keys".into(),
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#.into(),
            );
            records::put_user(tx, &user)?;
            record_access(tx, ACCOUNT, &arn, "iam", "us-east-1", env.now)?;
            Ok::<_, IamError>(())
        })
        .unwrap();
    }

    #[test]
    fn policies_granting_a_namespace_are_listed_per_namespace() {
        let t = TestEnv::new();
        bob_with_policy(&t);
        let input = ListPoliciesGrantingInput {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/bob"),
            service_namespaces: vec!["kms".into(), "nosuchservice".into()],
            marker: None,
        };
        let out = t
            .read(move |env, tx| list_policies_granting_service_access(env, tx, input))
            .unwrap();
        let kms = &out.policies_granting_service_access[0];
        assert_eq!(kms.service_namespace, "kms");
        let names: Vec<_> = kms
            .policies
            .iter()
            .map(|p| p.policy_name.as_str())
            .collect();
        assert!(names.contains(&"keys"), "{names:?}");
        let inline = kms
            .policies
            .iter()
            .find(|p| p.policy_name == "keys")
            .unwrap();
        assert_eq!(inline.policy_type, "INLINE");
        assert_eq!(inline.entity_type, Some("USER"));
        assert!(out.policies_granting_service_access[1].policies.is_empty());
        let input = ListPoliciesGrantingInput {
            arn: "arn:aws:s3:::bucket".into(),
            service_namespaces: vec!["kms".into()],
            marker: None,
        };
        assert!(matches!(
            t.read(move |env, tx| list_policies_granting_service_access(env, tx, input)),
            Err(IamError::InvalidInput(_))
        ));
    }

    #[test]
    fn entities_of_a_report_with_their_last_access_to_one_service() {
        let t = TestEnv::new();
        bob_with_policy(&t);
        let input = GenerateInput {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/bob"),
            granularity: None,
        };
        let job = t
            .write(move |env, tx| generate(env, tx, input))
            .unwrap()
            .job_id;
        let details = |namespace: &str| {
            let input = GetDetailsWithEntitiesInput {
                job_id: job.clone(),
                service_namespace: namespace.into(),
                max_items: None,
                marker: None,
            };
            t.read(move |env, tx| get_details_with_entities(env, tx, input))
                .unwrap()
        };
        let iam = details("iam");
        assert_eq!(iam.entity_details_list.len(), 1);
        assert_eq!(iam.entity_details_list[0].entity_info.name, "bob");
        assert_eq!(iam.entity_details_list[0].entity_info.kind, "USER");
        assert_eq!(
            iam.entity_details_list[0].last_authenticated.as_deref(),
            Some("2026-11-24T12:00:00Z")
        );
        assert!(
            details("kms").entity_details_list[0]
                .last_authenticated
                .is_none()
        );
    }

    /// The report and the lookup for an ARN, as `account`'s root user sees them.
    fn generate_as(t: &mut TestEnv, account: &str, arn: &str) -> Result<GenerateOutput, IamError> {
        t.act_as(account);
        let input = GenerateInput {
            arn: arn.to_owned(),
            granularity: None,
        };
        t.write(move |env, tx| generate(env, tx, input))
    }

    #[test]
    fn another_accounts_entities_are_refused_as_if_they_did_not_exist() {
        let mut t = TestEnv::new();
        bob_with_policy(&t);
        let other = "999988887777";
        let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
        let ghost = format!("arn:aws:iam::{ACCOUNT}:user/ghost");
        // The authorize step refuses the request: a policy of bob's account that allows
        // nothing, without reading the store (the same for bob and for no one).
        t.act_as(other);
        for arn in [&bob, &ghost] {
            let policy = t
                .with_env(|env| crate::simulate::other_account_policy(env, arn))
                .expect("a resource policy for another account's entity");
            assert_eq!(policy.account_id, ACCOUNT);
            assert!(policy.must_allow);
            assert!(!policy.document.contains("Allow"));
        }
        // Without it, the handler still answers as for an entity that does not exist.
        let refused = |arn: &str, t: &mut TestEnv| match generate_as(t, other, arn) {
            Err(IamError::NoSuchEntity(m)) => m,
            unexpected => panic!("{unexpected:?}"),
        };
        assert_eq!(
            refused(&bob, &mut t),
            "The user with name bob cannot be found."
        );
        assert_eq!(
            refused(&ghost, &mut t),
            "The user with name ghost cannot be found."
        );
        let policy = format!("arn:aws:iam::{ACCOUNT}:policy/anything");
        assert_eq!(
            refused(&policy, &mut t),
            format!("Policy {policy} does not exist or is not attachable.")
        );
        // Listing the policies that grant bob a service is refused alike.
        t.act_as(other);
        let input = ListPoliciesGrantingInput {
            arn: bob.clone(),
            service_namespaces: vec!["kms".into()],
            marker: None,
        };
        assert!(matches!(
            t.read(move |env, tx| list_policies_granting_service_access(env, tx, input)),
            Err(IamError::InvalidInput(_))
        ));
        // Bob's own account gets its report.
        assert!(generate_as(&mut t, ACCOUNT, &bob).is_ok());
        assert!(
            t.with_env(|env| crate::simulate::other_account_policy(env, &bob))
                .is_none()
        );
    }

    #[test]
    fn an_aws_managed_policy_reports_on_the_callers_entities() {
        let mut t = TestEnv::new();
        bob_with_policy(&t);
        let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        // Every account may name an AWS managed policy.
        assert!(
            t.with_env(|env| crate::simulate::other_account_policy(env, aws))
                .is_none()
        );
        let job = generate_as(&mut t, ACCOUNT, aws).unwrap().job_id;
        let input = GetDetailsWithEntitiesInput {
            job_id: job,
            service_namespace: "iam".into(),
            max_items: None,
            marker: None,
        };
        let details = t
            .read(move |env, tx| get_details_with_entities(env, tx, input))
            .unwrap();
        let entities: Vec<_> = details
            .entity_details_list
            .iter()
            .map(|d| d.entity_info.name.as_str())
            .collect();
        assert_eq!(entities, ["bob"]);
        // Another account's report on the same policy counts only its own entities.
        let job = generate_as(&mut t, "999988887777", aws).unwrap().job_id;
        let input = GetDetailsWithEntitiesInput {
            job_id: job,
            service_namespace: "iam".into(),
            max_items: None,
            marker: None,
        };
        let details = t
            .read(move |env, tx| get_details_with_entities(env, tx, input))
            .unwrap();
        assert!(details.entity_details_list.is_empty());
    }
}
