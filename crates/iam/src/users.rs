//! Users: `CreateUser`, `GetUser`, `ListUsers`, `UpdateUser`, `DeleteUser`, and their tags.

use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json};
use serde::{Deserialize, Serialize};

use crate::ids::{IdPrefix, unique_id};
use crate::pagination::page;
use crate::records::{self, Tag, USERS, UserRecord};
use crate::resources::{self, user_or_caller};
use crate::tags;
use crate::{IamError, policies};

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("CreateUser", "iam:CreateUser", create_user).resources(new_user),
        Operation::read("GetUser", "iam:GetUser", get_user).resources(user_or_caller),
        Operation::read("ListUsers", "iam:ListUsers", list_users).resources(users_under_path),
        Operation::write("UpdateUser", "iam:UpdateUser", update_user).resources(renamed_user),
        Operation::write("DeleteUser", "iam:DeleteUser", delete_user).resources(user_or_caller),
        Operation::write("TagUser", "iam:TagUser", tag_user).resources(user_or_caller),
        Operation::write("UntagUser", "iam:UntagUser", untag_user).resources(user_or_caller),
        Operation::read("ListUserTags", "iam:ListUserTags", list_user_tags)
            .resources(user_or_caller),
    ]
}

/// The user CreateUser makes, under the path it asks for.
fn new_user(env: &Env<'_>, _: &mut dyn ReadTx, input: &Value) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![resources::new_entity(env, input, "user", "UserName")])
}

/// UpdateUser is authorized on the user and on what it becomes (a new name or path), as AWS
/// requires permission on both.
fn renamed_user(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let current = user_or_caller(env, tx, input)?;
    Ok(resources::with_renamed(
        env,
        input,
        "user",
        "NewUserName",
        current,
    ))
}

/// ListUsers is authorized on the path it lists, as AWS names it in its AccessDenied text
/// (`…:user/` for the whole account).
fn users_under_path(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let path = resources::member(input, "PathPrefix").unwrap_or("/");
    Ok(vec![Resource::named(format!(
        "arn:aws:iam::{}:user{path}",
        env.caller.account_id
    ))])
}

/// A user as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    path: String,
    user_name: String,
    user_id: String,
    arn: String,
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_last_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary: Option<tags::PermissionsBoundary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

impl User {
    /// The full view (GetUser, CreateUser).
    pub(crate) fn full(user: &UserRecord) -> Self {
        Self {
            permissions_boundary: user
                .permissions_boundary
                .clone()
                .map(tags::PermissionsBoundary::policy),
            tags: user.tags.clone(),
            ..Self::listed(user)
        }
    }

    /// The view lists give: IAM's list operations omit tags and the boundary.
    pub(crate) fn listed(user: &UserRecord) -> Self {
        Self {
            path: user.path.clone(),
            user_name: user.user_name.clone(),
            user_id: user.user_id.clone(),
            arn: user.arn.clone(),
            create_date: user.create_date.clone(),
            password_last_used: user.password_last_used.clone(),
            permissions_boundary: None,
            tags: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateUserInput {
    user_name: String,
    path: Option<String>,
    permissions_boundary: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserOutput {
    user: User,
}

fn create_user(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateUserInput,
) -> Result<UserOutput, IamError> {
    let account = env.caller.account_id.clone();
    if get_json::<UserRecord>(tx, USERS, &records::key(&account, &input.user_name))?.is_some() {
        return Err(IamError::already_exists("User", &input.user_name));
    }
    tags::check_new(&input.tags)?;
    if let Some(boundary) = &input.permissions_boundary {
        policies::require_boundary_policy(tx, &account, boundary)?;
    }
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let user = UserRecord {
        arn: records::arn(&account, "user", &path, &input.user_name),
        account_id: account,
        user_id: unique_id(IdPrefix::User, env.entropy),
        user_name: input.user_name,
        path,
        create_date: aws_timestamp(env.now),
        password_last_used: None,
        permissions_boundary: input.permissions_boundary,
        tags: input.tags,
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        groups: Vec::new(),
    };
    records::put_user(tx, &user)?;
    Ok(UserOutput {
        user: User::full(&user),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetUserInput {
    user_name: Option<String>,
}

fn get_user(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetUserInput,
) -> Result<UserOutput, IamError> {
    let name = match (input.user_name, &env.caller.user_name) {
        (Some(name), _) => name,
        (None, Some(own)) => own.clone(),
        // The root user has no IAM user record; AWS answers with the account's identity.
        (None, None) => {
            return Ok(UserOutput {
                user: User {
                    path: "/".into(),
                    user_name: String::new(),
                    user_id: env.caller.account_id.clone(),
                    arn: env.caller.arn.clone(),
                    create_date: root_create_date(env, tx)?,
                    password_last_used: None,
                    permissions_boundary: None,
                    tags: Vec::new(),
                },
            });
        }
    };
    let user = records::user(tx, &env.caller.account_id, &name)?;
    Ok(UserOutput {
        user: User::full(&user),
    })
}

fn root_create_date(env: &Env<'_>, tx: &mut dyn ReadTx) -> Result<String, IamError> {
    let account: Option<crate::account::AccountRecord> =
        get_json(tx, crate::account::NAMESPACE, &env.caller.account_id)?;
    Ok(account
        .map(|a| a.created)
        .unwrap_or_else(|| aws_timestamp(env.now)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersOutput {
    users: Vec<User>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_users(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListUsersInput,
) -> Result<ListUsersOutput, IamError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".to_owned());
    let page = page::<UserRecord>(
        tx,
        USERS,
        &records::account_prefix(&env.caller.account_id),
        input.marker.as_deref(),
        input.max_items,
        |u| u.path.starts_with(&prefix),
    )?;
    Ok(ListUsersOutput {
        is_truncated: page.is_truncated(),
        users: page.items.iter().map(User::listed).collect(),
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateUserInput {
    user_name: String,
    new_path: Option<String>,
    new_user_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

fn update_user(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateUserInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut user = records::user(tx, &account, &input.user_name)?;
    let old_key = records::key(&account, &user.user_name);
    if let Some(new_name) = &input.new_user_name {
        let new_key = records::key(&account, new_name);
        if new_key != old_key && get_json::<UserRecord>(tx, USERS, &new_key)?.is_some() {
            return Err(IamError::already_exists("User", new_name));
        }
        rename_in_groups(tx, &account, &user, new_name)?;
        crate::access_keys::rename_owner(tx, &account, &user.user_name, new_name)?;
        crate::login_profiles::rename_owner(tx, &account, &user.user_name, new_name)?;
        crate::mfa::rename_owner(tx, &account, &user.user_name, new_name)?;
        crate::ssh_public_keys::rename_owner(tx, &account, &user.user_name, new_name)?;
        crate::signing_certificates::rename_owner(tx, &account, &user.user_name, new_name)?;
        crate::service_credentials::rename_owner(tx, &account, &user.user_name, new_name)?;
        user.user_name.clone_from(new_name);
    }
    if let Some(path) = input.new_path {
        user.path = path;
    }
    let old_arn = std::mem::replace(
        &mut user.arn,
        records::arn(&account, "user", &user.path, &user.user_name),
    );
    // The user's access history follows it to its new name or path.
    crate::access_advisor::move_entity(tx, &account, &old_arn, &user.arn)?;
    tx.delete(USERS, &old_key)?;
    records::put_user(tx, &user)?;
    Ok(Empty {})
}

fn rename_in_groups(
    tx: &mut dyn WriteTx,
    account: &str,
    user: &UserRecord,
    new_name: &str,
) -> Result<(), IamError> {
    for group_name in &user.groups {
        let mut group = records::group(tx, account, group_name)?;
        for member in &mut group.members {
            if member.eq_ignore_ascii_case(&user.user_name) {
                *member = new_name.to_owned();
            }
        }
        records::put_group(tx, &group)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteUserInput {
    user_name: String,
}

fn delete_user(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteUserInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let user = records::user(tx, &account, &input.user_name)?;
    let conflict = |what: &str| {
        Err(IamError::DeleteConflict(format!(
            "Cannot delete entity, must {what} first."
        )))
    };
    if !crate::access_keys::of_user(tx, &account, &user.user_name)?.is_empty() {
        return conflict("delete access keys");
    }
    if crate::login_profiles::exists(tx, &account, &user.user_name)? {
        return conflict("delete login profile");
    }
    if crate::mfa::user_has_devices(tx, &account, &user.user_name)? {
        return conflict("delete MFA device");
    }
    if !crate::signing_certificates::of_user(tx, &account, &user.user_name)?.is_empty() {
        return conflict("delete signing certificates");
    }
    if !crate::ssh_public_keys::of_user(tx, &account, &user.user_name)?.is_empty() {
        return conflict("delete SSH public keys");
    }
    if !crate::service_credentials::of_user(tx, &account, &user.user_name)?.is_empty() {
        return conflict("delete service specific credentials");
    }
    if !user.groups.is_empty() {
        return conflict("remove users from group");
    }
    if !user.attached_policies.is_empty() {
        return conflict("detach all policies");
    }
    if !user.inline_policies.is_empty() {
        return conflict("delete policies");
    }
    tx.delete(USERS, &records::key(&account, &user.user_name))?;
    crate::access_advisor::forget_entity(tx, &account, &user.arn)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagUserInput {
    user_name: String,
    tags: Vec<Tag>,
}

fn tag_user(env: &Env<'_>, tx: &mut dyn WriteTx, input: TagUserInput) -> Result<Empty, IamError> {
    let mut user = records::user(tx, &env.caller.account_id, &input.user_name)?;
    tags::merge(&mut user.tags, input.tags)?;
    records::put_user(tx, &user)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagUserInput {
    user_name: String,
    tag_keys: Vec<String>,
}

fn untag_user(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagUserInput,
) -> Result<Empty, IamError> {
    let mut user = records::user(tx, &env.caller.account_id, &input.user_name)?;
    tags::remove(&mut user.tags, &input.tag_keys);
    records::put_user(tx, &user)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserTagsInput {
    user_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_user_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListUserTagsInput,
) -> Result<tags::TagPage, IamError> {
    let user = records::user(tx, &env.caller.account_id, &input.user_name)?;
    tags::page(user.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn create(t: &TestEnv, name: &str) -> Result<UserOutput, IamError> {
        let input = CreateUserInput {
            user_name: name.into(),
            path: None,
            permissions_boundary: None,
            tags: Vec::new(),
        };
        t.write(move |env, tx| create_user(env, tx, input))
    }

    #[test]
    fn names_are_unique_without_regard_to_case() {
        let t = TestEnv::new();
        let bob = create(&t, "bob").unwrap();
        assert_eq!(bob.user.arn, format!("arn:aws:iam::{ACCOUNT}:user/bob"));
        assert!(bob.user.user_id.starts_with("AIDA"));
        assert!(matches!(
            create(&t, "BOB"),
            Err(IamError::EntityAlreadyExists(_))
        ));
    }

    #[test]
    fn lists_page_with_markers() {
        let t = TestEnv::new();
        for name in ["a", "b", "c"] {
            create(&t, name).unwrap();
        }
        let list = |marker: Option<String>| {
            let input = ListUsersInput {
                path_prefix: None,
                marker,
                max_items: Some(2),
            };
            t.read(move |env, tx| list_users(env, tx, input)).unwrap()
        };
        let first = list(None);
        assert!(first.is_truncated);
        assert_eq!(first.users.len(), 2);
        let second = list(first.marker);
        assert!(!second.is_truncated);
        assert_eq!(
            second
                .users
                .iter()
                .map(|u| u.user_name.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn a_user_in_a_group_cannot_be_deleted() {
        let t = TestEnv::new();
        create(&t, "bob").unwrap();
        t.write(|_, tx| {
            let mut user = records::user(tx, ACCOUNT, "bob")?;
            user.groups.push("admins".into());
            records::put_user(tx, &user)
        })
        .unwrap();
        let input = DeleteUserInput {
            user_name: "bob".into(),
        };
        let err = t
            .write(move |env, tx| delete_user(env, tx, input))
            .unwrap_err();
        assert!(
            matches!(err, IamError::DeleteConflict(m) if m.contains("remove users from group"))
        );
    }
}
