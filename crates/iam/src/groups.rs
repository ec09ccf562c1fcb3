//! Groups and membership: `CreateGroup`, `GetGroup`, `ListGroups`, `UpdateGroup`,
//! `DeleteGroup`, `AddUserToGroup`, `RemoveUserFromGroup`, `ListGroupsForUser`.
//!
//! Membership is kept on both sides, the group's `members` and the user's `groups`, always
//! changed together in one transaction: authorization reads a user's groups from the user,
//! `GetGroup` reads the members from the group.

use crate::resources;
use rampart_service::{AwsError, Env, Operation, Resource, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::pagination::{Page, page, page_sorted};
use crate::records::{self, GROUPS, GroupRecord};
use crate::users::User;

/// IAM's quota of groups a user may belong to.
pub const MAX_GROUPS_PER_USER: usize = 10;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("CreateGroup", "iam:CreateGroup", create_group).resources(new_group),
        Operation::read("GetGroup", "iam:GetGroup", get_group)
            .resources(crate::resources::named_group),
        Operation::read("ListGroups", "iam:ListGroups", list_groups),
        Operation::write("UpdateGroup", "iam:UpdateGroup", update_group).resources(renamed_group),
        Operation::write("DeleteGroup", "iam:DeleteGroup", delete_group)
            .resources(crate::resources::named_group),
        Operation::write("AddUserToGroup", "iam:AddUserToGroup", add_user_to_group)
            .resources(crate::resources::named_group),
        Operation::write(
            "RemoveUserFromGroup",
            "iam:RemoveUserFromGroup",
            remove_user_from_group,
        )
        .resources(crate::resources::named_group),
        Operation::read(
            "ListGroupsForUser",
            "iam:ListGroupsForUser",
            list_groups_for_user,
        )
        .resources(crate::resources::user_or_caller),
    ]
}

/// The group CreateGroup makes, under the path it asks for.
fn new_group(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![resources::new_entity(
        env,
        input,
        "group",
        "GroupName",
    )])
}

/// UpdateGroup is authorized on the group and on what it becomes (a new name or path).
fn renamed_group(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let current = resources::named_group(env, tx, input)?;
    Ok(resources::with_renamed(
        env,
        input,
        "group",
        "NewGroupName",
        current,
    ))
}

/// A group as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Group {
    path: String,
    group_name: String,
    group_id: String,
    arn: String,
    create_date: String,
}

impl Group {
    fn of(group: &GroupRecord) -> Self {
        Self {
            path: group.path.clone(),
            group_name: group.group_name.clone(),
            group_id: group.group_id.clone(),
            arn: group.arn.clone(),
            create_date: group.create_date.clone(),
        }
    }
}

/// One page of items already in memory (a group's members, a user's groups), in
/// case-insensitive name order. The marker is the last name returned, encoded, so the next
/// page continues after it even if members change in between.
pub(crate) fn page_by_name<T>(
    items: Vec<(String, T)>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>, IamError> {
    let items = items
        .into_iter()
        .map(|(name, item)| (name.to_ascii_lowercase(), item))
        .collect();
    page_sorted(items, marker, max_items)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateGroupInput {
    group_name: String,
    path: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupOutput {
    group: Group,
}

fn create_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateGroupInput,
) -> Result<GroupOutput, IamError> {
    let account = env.caller.account_id.clone();
    if get_json::<GroupRecord>(tx, GROUPS, &records::key(&account, &input.group_name))?.is_some() {
        return Err(IamError::already_exists("Group", &input.group_name));
    }
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let group = GroupRecord {
        arn: records::arn(&account, "group", &path, &input.group_name),
        account_id: account,
        group_id: unique_id(IdPrefix::Group, env.entropy),
        group_name: input.group_name,
        path,
        create_date: aws_timestamp(env.now),
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        members: Vec::new(),
    };
    records::put_group(tx, &group)?;
    Ok(GroupOutput {
        group: Group::of(&group),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetGroupInput {
    group_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetGroupOutput {
    group: Group,
    users: Vec<User>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn get_group(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetGroupInput,
) -> Result<GetGroupOutput, IamError> {
    let account = &env.caller.account_id;
    let group = records::group(tx, account, &input.group_name)?;
    let mut members = Vec::with_capacity(group.members.len());
    for name in &group.members {
        // INVARIANT: a member exists (DeleteUser refuses users still in a group); a missing
        // one would be skipped rather than fail the whole listing.
        if let Some(user) = get_json(tx, records::USERS, &records::key(account, name))? {
            members.push((name.clone(), user));
        }
    }
    let page = page_by_name(members, input.marker.as_deref(), input.max_items)?;
    Ok(GetGroupOutput {
        group: Group::of(&group),
        // GetGroup lists members as ListUsers does: without tags or boundary.
        users: page.items.iter().map(User::listed).collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupsInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupsOutput {
    groups: Vec<Group>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_groups(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListGroupsInput,
) -> Result<ListGroupsOutput, IamError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".to_owned());
    let page = page::<GroupRecord>(
        tx,
        GROUPS,
        &records::account_prefix(&env.caller.account_id),
        input.marker.as_deref(),
        input.max_items,
        |g| g.path.starts_with(&prefix),
    )?;
    Ok(ListGroupsOutput {
        is_truncated: page.is_truncated(),
        groups: page.items.iter().map(Group::of).collect(),
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateGroupInput {
    group_name: String,
    new_path: Option<String>,
    new_group_name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Empty {}

fn update_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateGroupInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut group = records::group(tx, &account, &input.group_name)?;
    let old_key = records::key(&account, &group.group_name);
    if let Some(new_name) = &input.new_group_name {
        let new_key = records::key(&account, new_name);
        if new_key != old_key && get_json::<GroupRecord>(tx, GROUPS, &new_key)?.is_some() {
            return Err(IamError::already_exists("Group", new_name));
        }
        // Members name their groups; they must follow the rename in this transaction.
        for member in &group.members {
            let mut user = records::user(tx, &account, member)?;
            for name in &mut user.groups {
                if name.eq_ignore_ascii_case(&group.group_name) {
                    name.clone_from(new_name);
                }
            }
            records::put_user(tx, &user)?;
        }
        group.group_name.clone_from(new_name);
    }
    if let Some(path) = input.new_path {
        group.path = path;
    }
    group.arn = records::arn(&account, "group", &group.path, &group.group_name);
    tx.delete(GROUPS, &old_key)?;
    records::put_group(tx, &group)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteGroupInput {
    group_name: String,
}

fn delete_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteGroupInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let group = records::group(tx, &account, &input.group_name)?;
    let conflict = |what: &str| {
        Err(IamError::DeleteConflict(format!(
            "Cannot delete entity, must {what} first."
        )))
    };
    if !group.members.is_empty() {
        return conflict("remove users from group");
    }
    if !group.attached_policies.is_empty() {
        return conflict("detach all policies");
    }
    if !group.inline_policies.is_empty() {
        return conflict("delete policies");
    }
    tx.delete(GROUPS, &records::key(&account, &group.group_name))?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembershipInput {
    group_name: String,
    user_name: String,
}

fn add_user_to_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: MembershipInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut group = records::group(tx, &account, &input.group_name)?;
    let mut user = records::user(tx, &account, &input.user_name)?;
    if user
        .groups
        .iter()
        .any(|g| g.eq_ignore_ascii_case(&group.group_name))
    {
        // Adding a member again changes nothing, and AWS answers it with success.
        return Ok(Empty {});
    }
    if user.groups.len() >= MAX_GROUPS_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
        )));
    }
    user.groups.push(group.group_name.clone());
    group.members.push(user.user_name.clone());
    records::put_user(tx, &user)?;
    records::put_group(tx, &group)?;
    Ok(Empty {})
}

fn remove_user_from_group(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: MembershipInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut group = records::group(tx, &account, &input.group_name)?;
    let mut user = records::user(tx, &account, &input.user_name)?;
    let before = user.groups.len();
    user.groups
        .retain(|g| !g.eq_ignore_ascii_case(&group.group_name));
    if user.groups.len() == before {
        // The user exists but is not a member: AWS answers as for a missing user.
        return Err(IamError::no_such("user", &input.user_name));
    }
    group
        .members
        .retain(|m| !m.eq_ignore_ascii_case(&user.user_name));
    records::put_user(tx, &user)?;
    records::put_group(tx, &group)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupsForUserInput {
    user_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_groups_for_user(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListGroupsForUserInput,
) -> Result<ListGroupsOutput, IamError> {
    let account = &env.caller.account_id;
    let user = records::user(tx, account, &input.user_name)?;
    let mut groups = Vec::with_capacity(user.groups.len());
    for name in &user.groups {
        if let Some(group) = get_json::<GroupRecord>(tx, GROUPS, &records::key(account, name))? {
            groups.push((name.clone(), group));
        }
    }
    let page = page_by_name(groups, input.marker.as_deref(), input.max_items)?;
    Ok(ListGroupsOutput {
        groups: page.items.iter().map(Group::of).collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::UserRecord;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn add_user(t: &TestEnv, name: &str) {
        let user = UserRecord {
            account_id: ACCOUNT.into(),
            user_name: name.into(),
            user_id: format!("AIDA{}", name.to_ascii_uppercase()),
            path: "/".into(),
            arn: records::arn(ACCOUNT, "user", "/", name),
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

    fn create(t: &TestEnv, name: &str, path: Option<&str>) -> Result<GroupOutput, IamError> {
        let input = CreateGroupInput {
            group_name: name.into(),
            path: path.map(str::to_owned),
        };
        t.write(move |env, tx| create_group(env, tx, input))
    }

    fn add(t: &TestEnv, group: &str, user: &str) -> Result<Empty, IamError> {
        let input = MembershipInput {
            group_name: group.into(),
            user_name: user.into(),
        };
        t.write(move |env, tx| add_user_to_group(env, tx, input))
    }

    fn remove(t: &TestEnv, group: &str, user: &str) -> Result<Empty, IamError> {
        let input = MembershipInput {
            group_name: group.into(),
            user_name: user.into(),
        };
        t.write(move |env, tx| remove_user_from_group(env, tx, input))
    }

    fn members(t: &TestEnv, group: &str) -> Vec<String> {
        let input = GetGroupInput {
            group_name: group.into(),
            marker: None,
            max_items: None,
        };
        let out = t.read(move |env, tx| get_group(env, tx, input)).unwrap();
        serde_json::to_value(&out.users)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["UserName"].as_str().unwrap().to_owned())
            .collect()
    }

    fn groups_of(t: &TestEnv, user: &str) -> Vec<String> {
        let input = ListGroupsForUserInput {
            user_name: user.into(),
            marker: None,
            max_items: None,
        };
        let out = t
            .read(move |env, tx| list_groups_for_user(env, tx, input))
            .unwrap();
        out.groups.into_iter().map(|g| g.group_name).collect()
    }

    #[test]
    fn a_group_has_an_agpa_id_an_arn_with_its_path_and_a_unique_name() {
        let t = TestEnv::new();
        let group = create(&t, "Admins", Some("/ops/")).unwrap().group;
        assert!(group.group_id.starts_with("AGPA"));
        assert_eq!(group.group_id.len(), 21);
        assert_eq!(
            group.arn,
            format!("arn:aws:iam::{ACCOUNT}:group/ops/Admins")
        );
        let err = create(&t, "admins", None).unwrap_err();
        assert!(
            matches!(&err, IamError::EntityAlreadyExists(m) if m == "Group with name admins already exists."),
            "{err:?}"
        );
    }

    #[test]
    fn membership_is_kept_on_both_records() {
        let t = TestEnv::new();
        create(&t, "admins", None).unwrap();
        add_user(&t, "bob");
        add_user(&t, "alice");
        add(&t, "admins", "bob").unwrap();
        add(&t, "ADMINS", "Alice").unwrap();
        add(&t, "admins", "bob").unwrap();
        assert_eq!(members(&t, "admins"), ["alice", "bob"]);
        assert_eq!(groups_of(&t, "bob"), ["admins"]);
        let bob = t.read(|_, tx| records::user(tx, ACCOUNT, "bob")).unwrap();
        assert_eq!(bob.groups, ["admins"], "added once");

        remove(&t, "admins", "bob").unwrap();
        assert_eq!(members(&t, "admins"), ["alice"]);
        assert!(groups_of(&t, "bob").is_empty());
        let err = remove(&t, "admins", "bob").unwrap_err();
        assert!(matches!(err, IamError::NoSuchEntity(_)), "{err:?}");
        assert!(matches!(
            add(&t, "admins", "ghost"),
            Err(IamError::NoSuchEntity(_))
        ));
        let err = add(&t, "ghosts", "bob").unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == "The group with name ghosts cannot be found."),
            "{err:?}"
        );
    }

    #[test]
    fn a_user_belongs_to_at_most_ten_groups() {
        let t = TestEnv::new();
        add_user(&t, "bob");
        for i in 0..10 {
            create(&t, &format!("g{i}"), None).unwrap();
            add(&t, &format!("g{i}"), "bob").unwrap();
        }
        create(&t, "g10", None).unwrap();
        let err = add(&t, "g10", "bob").unwrap_err();
        assert!(
            matches!(&err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for GroupsPerUser: 10"),
            "{err:?}"
        );
        assert!(members(&t, "g10").is_empty(), "nothing half-done");
    }

    #[test]
    fn a_group_with_members_or_policies_cannot_be_deleted() {
        let t = TestEnv::new();
        create(&t, "admins", None).unwrap();
        add_user(&t, "bob");
        add(&t, "admins", "bob").unwrap();
        let delete = |t: &TestEnv| {
            let input = DeleteGroupInput {
                group_name: "admins".into(),
            };
            t.write(move |env, tx| delete_group(env, tx, input))
        };
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must remove users from group first."),
            "{err:?}"
        );
        remove(&t, "admins", "bob").unwrap();
        t.write(|_, tx| {
            let mut group = records::group(tx, ACCOUNT, "admins")?;
            group
                .attached_policies
                .push("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
            records::put_group(tx, &group)
        })
        .unwrap();
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must detach all policies first."),
            "{err:?}"
        );
        t.write(|_, tx| {
            let mut group = records::group(tx, ACCOUNT, "admins")?;
            group.attached_policies.clear();
            group.inline_policies.insert("p".into(), "{}".into());
            records::put_group(tx, &group)
        })
        .unwrap();
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must delete policies first."),
            "{err:?}"
        );
        t.write(|_, tx| {
            let mut group = records::group(tx, ACCOUNT, "admins")?;
            group.inline_policies.clear();
            records::put_group(tx, &group)
        })
        .unwrap();
        delete(&t).unwrap();
        assert!(matches!(
            t.read(|_, tx| records::group(tx, ACCOUNT, "admins")),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn renaming_a_group_renames_it_in_its_members() {
        let t = TestEnv::new();
        create(&t, "admins", None).unwrap();
        create(&t, "taken", None).unwrap();
        add_user(&t, "bob");
        add(&t, "admins", "bob").unwrap();
        let rename = |t: &TestEnv, to: &str, path: Option<&str>| {
            let input = UpdateGroupInput {
                group_name: "admins".into(),
                new_group_name: Some(to.into()),
                new_path: path.map(str::to_owned),
            };
            t.write(move |env, tx| update_group(env, tx, input))
        };
        assert!(matches!(
            rename(&t, "TAKEN", None),
            Err(IamError::EntityAlreadyExists(_))
        ));
        rename(&t, "operators", Some("/ops/")).unwrap();
        assert_eq!(groups_of(&t, "bob"), ["operators"]);
        assert_eq!(members(&t, "operators"), ["bob"]);
        let group = t
            .read(|_, tx| records::group(tx, ACCOUNT, "operators"))
            .unwrap();
        assert_eq!(
            group.arn,
            format!("arn:aws:iam::{ACCOUNT}:group/ops/operators")
        );
        assert!(matches!(
            t.read(|_, tx| records::group(tx, ACCOUNT, "admins")),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn lists_filter_by_path_and_page() {
        let t = TestEnv::new();
        create(&t, "a", Some("/ops/")).unwrap();
        create(&t, "b", Some("/ops/eu/")).unwrap();
        create(&t, "c", None).unwrap();
        let list = |prefix: Option<&str>, marker: Option<String>, max: Option<i64>| {
            let input = ListGroupsInput {
                path_prefix: prefix.map(str::to_owned),
                marker,
                max_items: max,
            };
            t.read(move |env, tx| list_groups(env, tx, input)).unwrap()
        };
        let names = |out: &ListGroupsOutput| {
            out.groups
                .iter()
                .map(|g| g.group_name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&list(Some("/ops/"), None, None)), ["a", "b"]);
        let first = list(None, None, Some(2));
        assert!(first.is_truncated);
        assert_eq!(names(&first), ["a", "b"]);
        let second = list(None, first.marker, Some(2));
        assert!(!second.is_truncated);
        assert_eq!(names(&second), ["c"]);
    }

    #[test]
    fn members_page_by_name() {
        let items: Vec<(String, u32)> = vec![("b".into(), 2), ("C".into(), 3), ("a".into(), 1)];
        let first = page_by_name(items.clone(), None, Some(2)).unwrap();
        assert_eq!(first.items, [1, 2]);
        let second = page_by_name(items.clone(), first.next.as_deref(), Some(2)).unwrap();
        assert_eq!(second.items, [3]);
        assert_eq!(second.next, None);
        assert!(page_by_name(items, Some("%%%"), None).is_err());
    }
}
