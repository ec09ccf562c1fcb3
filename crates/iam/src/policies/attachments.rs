//! Attaching managed policies: `Attach/Detach{User,Group,Role}Policy`,
//! `ListAttached{User,Group,Role}Policies`, `ListEntitiesForPolicy`.
//!
//! An attachment is the policy's ARN in the entity's `attached_policies`; nothing is kept on
//! the policy, so a policy's entities are found by scanning users, groups and roles.

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use super::entity::{Entity, EntityKind};
use super::{Empty, find, path_of_arn, require, scan_all};
use crate::IamError;
use crate::pagination::page_sorted;
use crate::records::{self, GROUPS, GroupRecord, ROLES, RoleRecord, USERS, UserRecord};

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "AttachUserPolicy",
            "iam:AttachUserPolicy",
            attach_user_policy,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "AttachGroupPolicy",
            "iam:AttachGroupPolicy",
            attach_group_policy,
        )
        .resources(crate::resources::named_group),
        Operation::write(
            "AttachRolePolicy",
            "iam:AttachRolePolicy",
            attach_role_policy,
        )
        .resources(crate::resources::named_role),
        Operation::write(
            "DetachUserPolicy",
            "iam:DetachUserPolicy",
            detach_user_policy,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DetachGroupPolicy",
            "iam:DetachGroupPolicy",
            detach_group_policy,
        )
        .resources(crate::resources::named_group),
        Operation::write(
            "DetachRolePolicy",
            "iam:DetachRolePolicy",
            detach_role_policy,
        )
        .resources(crate::resources::named_role),
        Operation::read(
            "ListAttachedUserPolicies",
            "iam:ListAttachedUserPolicies",
            list_attached_user_policies,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListAttachedGroupPolicies",
            "iam:ListAttachedGroupPolicies",
            list_attached_group_policies,
        )
        .resources(crate::resources::named_group),
        Operation::read(
            "ListAttachedRolePolicies",
            "iam:ListAttachedRolePolicies",
            list_attached_role_policies,
        )
        .resources(crate::resources::named_role),
        Operation::read(
            "ListEntitiesForPolicy",
            "iam:ListEntitiesForPolicy",
            list_entities_for_policy,
        )
        .resources(crate::resources::named_policy),
    ]
}

fn attach(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    kind: EntityKind,
    name: &str,
    arn: &str,
) -> Result<Empty, IamError> {
    let account = &env.caller.account_id;
    let mut entity = Entity::load(tx, kind, account, name)?;
    if find(tx, account, arn)?.is_none() {
        return Err(IamError::NoSuchEntity(format!(
            "Policy {arn} does not exist or is not attachable."
        )));
    }
    let attached = entity.attached_policies();
    // Attaching an attached policy again changes nothing and succeeds, as at AWS.
    if attached.iter().any(|a| a == arn) {
        return Ok(Empty {});
    }
    let (quota, quota_name) = kind.attachment_quota();
    if attached.len() >= quota {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for {quota_name}: {quota}"
        )));
    }
    attached.push(arn.to_owned());
    entity.store(tx)?;
    Ok(Empty {})
}

fn detach(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    kind: EntityKind,
    name: &str,
    arn: &str,
) -> Result<Empty, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, name)?;
    let attached = entity.attached_policies();
    let before = attached.len();
    attached.retain(|a| a != arn);
    if attached.len() == before {
        return Err(IamError::NoSuchEntity(format!(
            "Policy {arn} was not found."
        )));
    }
    entity.store(tx)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserPolicyArnInput {
    user_name: String,
    policy_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupPolicyArnInput {
    group_name: String,
    policy_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RolePolicyArnInput {
    role_name: String,
    policy_arn: String,
}

fn attach_user_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UserPolicyArnInput,
) -> Result<Empty, IamError> {
    attach(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        &input.policy_arn,
    )
}

fn attach_group_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GroupPolicyArnInput,
) -> Result<Empty, IamError> {
    attach(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        &input.policy_arn,
    )
}

fn attach_role_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RolePolicyArnInput,
) -> Result<Empty, IamError> {
    attach(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        &input.policy_arn,
    )
}

fn detach_user_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UserPolicyArnInput,
) -> Result<Empty, IamError> {
    detach(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        &input.policy_arn,
    )
}

fn detach_group_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GroupPolicyArnInput,
) -> Result<Empty, IamError> {
    detach(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        &input.policy_arn,
    )
}

fn detach_role_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RolePolicyArnInput,
) -> Result<Empty, IamError> {
    detach(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        &input.policy_arn,
    )
}

/// An attachment as the List operations show it (the model's `AttachedPolicy`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachedPolicy {
    policy_name: String,
    policy_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAttachedPoliciesOutput {
    attached_policies: Vec<AttachedPolicy>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_attached(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    kind: EntityKind,
    name: &str,
    page: ListPage,
) -> Result<ListAttachedPoliciesOutput, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, name)?;
    let prefix = page.path_prefix.as_deref().unwrap_or("/");
    // The name and path are in the ARN, so no lookup is needed.
    let mut items: Vec<(String, AttachedPolicy)> = entity
        .attached_policies()
        .iter()
        .filter(|arn| path_of_arn(arn).starts_with(prefix))
        .map(|arn| {
            let name = arn.rsplit('/').next().unwrap_or_default().to_owned();
            (
                arn.clone(),
                AttachedPolicy {
                    policy_name: name,
                    policy_arn: arn.clone(),
                },
            )
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let page = page_sorted(items, page.marker.as_deref(), page.max_items)?;
    Ok(ListAttachedPoliciesOutput {
        is_truncated: page.is_truncated(),
        attached_policies: page.items,
        marker: page.next,
    })
}

/// The paging members every list input has.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPage {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAttachedUserPoliciesInput {
    user_name: String,
    #[serde(flatten)]
    page: ListPage,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAttachedGroupPoliciesInput {
    group_name: String,
    #[serde(flatten)]
    page: ListPage,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAttachedRolePoliciesInput {
    role_name: String,
    #[serde(flatten)]
    page: ListPage,
}

fn list_attached_user_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAttachedUserPoliciesInput,
) -> Result<ListAttachedPoliciesOutput, IamError> {
    list_attached(env, tx, EntityKind::User, &input.user_name, input.page)
}

fn list_attached_group_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAttachedGroupPoliciesInput,
) -> Result<ListAttachedPoliciesOutput, IamError> {
    list_attached(env, tx, EntityKind::Group, &input.group_name, input.page)
}

fn list_attached_role_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAttachedRolePoliciesInput,
) -> Result<ListAttachedPoliciesOutput, IamError> {
    list_attached(env, tx, EntityKind::Role, &input.role_name, input.page)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListEntitiesForPolicyInput {
    policy_arn: String,
    entity_filter: Option<String>,
    policy_usage_filter: Option<String>,
    #[serde(flatten)]
    page: ListPage,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyUser {
    user_name: String,
    user_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyGroup {
    group_name: String,
    group_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyRole {
    role_name: String,
    role_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListEntitiesForPolicyOutput {
    policy_groups: Vec<PolicyGroup>,
    policy_users: Vec<PolicyUser>,
    policy_roles: Vec<PolicyRole>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// One entity using the policy, before the page splits them by kind.
enum PolicyEntity {
    User(PolicyUser),
    Group(PolicyGroup),
    Role(PolicyRole),
}

fn list_entities_for_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListEntitiesForPolicyInput,
) -> Result<ListEntitiesForPolicyOutput, IamError> {
    let account = &env.caller.account_id;
    let arn = require(tx, account, &input.policy_arn)?.arn().to_owned();
    let prefix = input.page.path_prefix.as_deref().unwrap_or("/");
    // Without a usage filter both uses count, as AWS documents ("If it is not included, all
    // policies are returned").
    let (as_policy, as_boundary) = match input.policy_usage_filter.as_deref() {
        Some("PermissionsPolicy") => (true, false),
        Some("PermissionsBoundary") => (false, true),
        _ => (true, true),
    };
    // The filter names entity types; the two policy types name none that a policy is attached
    // to, so they select nothing.
    let wants = |kind: &str| input.entity_filter.as_deref().is_none_or(|f| f == kind);
    let uses = |attached: &[String], boundary: Option<&String>| {
        (as_policy && attached.contains(&arn))
            || (as_boundary && boundary.is_some_and(|b| *b == arn))
    };
    let account_prefix = records::account_prefix(account);
    let mut items: Vec<(String, PolicyEntity)> = Vec::new();
    if wants("Group") {
        for g in scan_all::<GroupRecord>(tx, GROUPS, &account_prefix)? {
            if g.path.starts_with(prefix) && uses(&g.attached_policies, None) {
                let key = format!("g/{}", records::key(account, &g.group_name));
                items.push((
                    key,
                    PolicyEntity::Group(PolicyGroup {
                        group_name: g.group_name,
                        group_id: g.group_id,
                    }),
                ));
            }
        }
    }
    if wants("Role") {
        for r in scan_all::<RoleRecord>(tx, ROLES, &account_prefix)? {
            if r.path.starts_with(prefix)
                && uses(&r.attached_policies, r.permissions_boundary.as_ref())
            {
                let key = format!("r/{}", records::key(account, &r.role_name));
                items.push((
                    key,
                    PolicyEntity::Role(PolicyRole {
                        role_name: r.role_name,
                        role_id: r.role_id,
                    }),
                ));
            }
        }
    }
    if wants("User") {
        for u in scan_all::<UserRecord>(tx, USERS, &account_prefix)? {
            if u.path.starts_with(prefix)
                && uses(&u.attached_policies, u.permissions_boundary.as_ref())
            {
                let key = format!("u/{}", records::key(account, &u.user_name));
                items.push((
                    key,
                    PolicyEntity::User(PolicyUser {
                        user_name: u.user_name,
                        user_id: u.user_id,
                    }),
                ));
            }
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let page = page_sorted(items, input.page.marker.as_deref(), input.page.max_items)?;
    let mut out = ListEntitiesForPolicyOutput {
        policy_groups: Vec::new(),
        policy_users: Vec::new(),
        policy_roles: Vec::new(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    };
    for entity in page.items {
        match entity {
            PolicyEntity::User(u) => out.policy_users.push(u),
            PolicyEntity::Group(g) => out.policy_groups.push(g),
            PolicyEntity::Role(r) => out.policy_roles.push(r),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::tests::{arn_of, create, user};
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn attach_to_user(t: &TestEnv, name: &str, arn: &str) -> Result<Empty, IamError> {
        let input = UserPolicyArnInput {
            user_name: name.into(),
            policy_arn: arn.into(),
        };
        t.write(move |env, tx| attach_user_policy(env, tx, input))
    }

    fn role(t: &TestEnv, name: &str) {
        let record = RoleRecord {
            account_id: ACCOUNT.into(),
            role_name: name.into(),
            role_id: "AROAEXAMPLE".into(),
            path: "/svc/".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/svc/{name}"),
            create_date: "2026-11-24T12:00:00Z".into(),
            assume_role_policy_document: "{}".into(),
            trust_principal_ids: Default::default(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: Vec::new(),
            attached_policies: Vec::new(),
            inline_policies: Default::default(),
            role_last_used: None,
        };
        t.write(move |_, tx| records::put_role(tx, &record))
            .unwrap();
    }

    fn attached(t: &TestEnv, name: &str, prefix: Option<&str>) -> Vec<String> {
        let input = ListAttachedUserPoliciesInput {
            user_name: name.into(),
            page: ListPage {
                path_prefix: prefix.map(str::to_owned),
                ..ListPage::default()
            },
        };
        t.read(move |env, tx| list_attached_user_policies(env, tx, input))
            .unwrap()
            .attached_policies
            .into_iter()
            .map(|p| p.policy_name)
            .collect()
    }

    #[test]
    fn attach_is_idempotent_and_detach_requires_an_attachment() {
        let t = TestEnv::new();
        user(&t, "bob");
        let arn = create(&t, "p", Some("/team/")).arn;
        attach_to_user(&t, "bob", &arn).unwrap();
        attach_to_user(&t, "bob", &arn).unwrap();
        attach_to_user(&t, "bob", "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
        assert_eq!(attached(&t, "bob", None), ["p", "ReadOnlyAccess"]);
        assert_eq!(attached(&t, "bob", Some("/team/")), ["p"]);
        let detach_input = |arn: &str| UserPolicyArnInput {
            user_name: "bob".into(),
            policy_arn: arn.into(),
        };
        let input = detach_input(&arn);
        t.write(move |env, tx| detach_user_policy(env, tx, input))
            .unwrap();
        let input = detach_input(&arn);
        let err = t
            .write(move |env, tx| detach_user_policy(env, tx, input))
            .unwrap_err();
        assert!(
            matches!(err, IamError::NoSuchEntity(m) if m == format!("Policy {arn} was not found."))
        );
        let missing = arn_of("nope");
        assert!(matches!(attach_to_user(&t, "bob", &missing),
            Err(IamError::NoSuchEntity(m))
                if m == format!("Policy {missing} does not exist or is not attachable.")));
        assert!(matches!(attach_to_user(&t, "alice", &arn),
            Err(IamError::NoSuchEntity(m)) if m == "The user with name alice cannot be found."));
    }

    #[test]
    fn at_most_ten_policies_per_identity() {
        let t = TestEnv::new();
        user(&t, "bob");
        for i in 0..10 {
            let arn = create(&t, &format!("p{i}"), None).arn;
            attach_to_user(&t, "bob", &arn).unwrap();
        }
        let err = attach_to_user(&t, "bob", "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap_err();
        assert!(
            matches!(err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for PoliciesPerUser: 10")
        );
        role(&t, "r");
        for i in 0..10 {
            let input = RolePolicyArnInput {
                role_name: "r".into(),
                policy_arn: arn_of(&format!("p{i}")),
            };
            t.write(move |env, tx| attach_role_policy(env, tx, input))
                .unwrap();
        }
        let input = RolePolicyArnInput {
            role_name: "r".into(),
            policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        };
        let err = t
            .write(move |env, tx| attach_role_policy(env, tx, input))
            .unwrap_err();
        assert!(
            matches!(err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for PoliciesPerRole: 10")
        );
    }

    #[test]
    fn entities_for_policy_by_kind_use_and_path() {
        let t = TestEnv::new();
        let arn = create(&t, "p", None).arn;
        user(&t, "bob");
        user(&t, "carol");
        role(&t, "r");
        attach_to_user(&t, "bob", &arn).unwrap();
        let input = RolePolicyArnInput {
            role_name: "r".into(),
            policy_arn: arn.clone(),
        };
        t.write(move |env, tx| attach_role_policy(env, tx, input))
            .unwrap();
        let boundary = arn.clone();
        t.write(move |_, tx| {
            let mut carol = records::user(tx, ACCOUNT, "carol")?;
            carol.permissions_boundary = Some(boundary);
            records::put_user(tx, &carol)
        })
        .unwrap();
        let list = |entity: Option<&str>,
                    usage: Option<&str>,
                    prefix: Option<&str>,
                    max: Option<i64>,
                    marker: Option<String>| {
            let input = ListEntitiesForPolicyInput {
                policy_arn: arn.clone(),
                entity_filter: entity.map(str::to_owned),
                policy_usage_filter: usage.map(str::to_owned),
                page: ListPage {
                    path_prefix: prefix.map(str::to_owned),
                    marker,
                    max_items: max,
                },
            };
            t.read(move |env, tx| list_entities_for_policy(env, tx, input))
                .unwrap()
        };
        let users = |out: &ListEntitiesForPolicyOutput| -> Vec<String> {
            out.policy_users
                .iter()
                .map(|u| u.user_name.clone())
                .collect()
        };
        let all = list(None, None, None, None, None);
        assert_eq!(users(&all), ["bob", "carol"]);
        assert_eq!(all.policy_roles.len(), 1);
        assert!(all.policy_groups.is_empty());
        assert_eq!(
            users(&list(None, Some("PermissionsPolicy"), None, None, None)),
            ["bob"]
        );
        assert_eq!(
            users(&list(None, Some("PermissionsBoundary"), None, None, None)),
            ["carol"]
        );
        let roles_only = list(Some("Role"), None, None, None, None);
        assert!(roles_only.policy_users.is_empty());
        assert_eq!(roles_only.policy_roles.len(), 1);
        let under_svc = list(None, None, Some("/svc/"), None, None);
        assert!(under_svc.policy_users.is_empty());
        assert_eq!(under_svc.policy_roles.len(), 1);
        let first = list(None, None, None, Some(2), None);
        assert!(first.is_truncated);
        assert_eq!(first.policy_roles.len() + first.policy_users.len(), 2);
        let second = list(None, None, None, Some(2), first.marker);
        assert!(!second.is_truncated);
        assert_eq!(users(&second), ["carol"]);
    }
}
