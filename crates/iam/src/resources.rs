//! The resources IAM's operations touch, as the authorize step needs them: each entity's ARN
//! with its path, its tags (`aws:ResourceTag/*`), and for users and roles the keys IAM adds
//! (`iam:ResourceTag/*`, the current `iam:PermissionsBoundary`).
//!
//! An entity that exists is named by its stored ARN, so a Deny on `role/admin/*` matches
//! `role/admin/Protected` whatever the request spells. One that does not exist (yet) is named
//! as the request names it: with the path the request gives (`CreateUser`'s `Path`), else `/`.
//! Only the caller's own account is read: another account's entity is named, never looked up.

use rampart_service::{AwsError, Env, Resource, Value};
use rampart_store::ReadTx;

use crate::records::{self, Tag};
use crate::{IamError, policies};

/// The input member `name`, if it is a string.
pub(crate) fn member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// An entity with its tags.
pub(crate) fn tagged(arn: impl Into<String>, tags: &[Tag]) -> Resource {
    Resource::named(arn).with_tags(tags.iter().map(|t| (t.key.clone(), t.value.clone())))
}

/// A user or a role: its tags under both `aws:ResourceTag/*` and `iam:ResourceTag/*`, and the
/// boundary it has now (`iam:PermissionsBoundary` for the actions that change what it may do).
fn principal(arn: &str, tags: &[Tag], boundary: Option<&str>) -> Resource {
    let mut resource = tagged(arn, tags);
    for tag in tags {
        resource = resource.with_key(
            format!("iam:ResourceTag/{}", tag.key),
            vec![tag.value.clone()],
        );
    }
    if let Some(boundary) = boundary {
        resource = resource.with_key("iam:PermissionsBoundary", vec![boundary.to_owned()]);
    }
    resource
}

/// Reads an entity, treating "no such entity" as absent.
fn optional<T>(found: Result<T, IamError>) -> Result<Option<T>, AwsError> {
    match found {
        Ok(found) => Ok(Some(found)),
        Err(IamError::NoSuchEntity(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The user `name` of the caller's account.
pub(crate) fn user(env: &Env<'_>, tx: &mut dyn ReadTx, name: &str) -> Result<Resource, AwsError> {
    let account = &env.caller.account_id;
    Ok(match optional(records::user(tx, account, name))? {
        Some(user) => principal(&user.arn, &user.tags, user.permissions_boundary.as_deref()),
        None => Resource::named(records::arn(account, "user", "/", name)),
    })
}

/// The role `name` of the caller's account.
pub(crate) fn role(env: &Env<'_>, tx: &mut dyn ReadTx, name: &str) -> Result<Resource, AwsError> {
    let account = &env.caller.account_id;
    Ok(match optional(records::role(tx, account, name))? {
        Some(role) => principal(&role.arn, &role.tags, role.permissions_boundary.as_deref()),
        None => Resource::named(records::arn(account, "role", "/", name)),
    })
}

/// The group `name` of the caller's account (groups carry no tags).
pub(crate) fn group(env: &Env<'_>, tx: &mut dyn ReadTx, name: &str) -> Result<Resource, AwsError> {
    let account = &env.caller.account_id;
    Ok(match optional(records::group(tx, account, name))? {
        Some(group) => Resource::named(group.arn),
        None => Resource::named(records::arn(account, "group", "/", name)),
    })
}

/// The managed policy `arn`: an AWS managed one (no tags) or one of the caller's account.
pub(crate) fn policy(env: &Env<'_>, tx: &mut dyn ReadTx, arn: &str) -> Result<Resource, AwsError> {
    Ok(match policies::find(tx, &env.caller.account_id, arn)? {
        Some(policies::ManagedPolicy::Customer(policy)) => tagged(arn, &policy.tags),
        _ => Resource::named(arn),
    })
}

/// The ARN a `Create…` request names for the entity it makes: its name under the path the
/// request gives, else `/`.
pub(crate) fn new_entity(env: &Env<'_>, input: &Value, kind: &str, name_member: &str) -> Resource {
    let path = member(input, "Path").unwrap_or("/");
    let name = member(input, name_member).unwrap_or_default();
    Resource::named(records::arn(&env.caller.account_id, kind, path, name))
}

/// The entity the input's `name_member` names, read with `lookup` and described with
/// `describe`; one that does not exist is named as the request names it, under `/`.
pub(crate) fn by_name<T>(
    env: &Env<'_>,
    input: &Value,
    name_member: &str,
    kind: &str,
    lookup: impl FnOnce(&str, &str) -> Result<T, IamError>,
    describe: impl FnOnce(T) -> Resource,
) -> Result<Vec<Resource>, AwsError> {
    let account = &env.caller.account_id;
    let Some(name) = member(input, name_member) else {
        return Ok(vec![Resource::any()]);
    };
    Ok(vec![match optional(lookup(account, name))? {
        Some(found) => describe(found),
        None => Resource::named(records::arn(account, kind, "/", name)),
    }])
}

/// `current` (the entity an `Update…` request names) and, when the request renames or moves
/// it (`NewUserName`, `NewPath`), what it becomes: AWS authorizes the change on both.
pub(crate) fn with_renamed(
    env: &Env<'_>,
    input: &Value,
    kind: &str,
    new_name_member: &str,
    mut current: Vec<Resource>,
) -> Vec<Resource> {
    if let Some(new) = current
        .first()
        .and_then(|entity| renamed(env, input, kind, entity, new_name_member))
    {
        current.push(new);
    }
    current
}

/// What an `Update…` request renames or moves the entity to; `None` when it changes neither.
fn renamed(
    env: &Env<'_>,
    input: &Value,
    kind: &str,
    current: &Resource,
    new_name_member: &str,
) -> Option<Resource> {
    let new_name = member(input, new_name_member);
    let new_path = member(input, "NewPath");
    if new_name.is_none() && new_path.is_none() {
        return None;
    }
    let prefix = format!("arn:aws:iam::{}:{kind}", env.caller.account_id);
    let (path, name) = current
        .arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.rsplit_once('/'))
        .map_or(("/", ""), |(path, name)| (path, name));
    let path = new_path.map_or_else(|| format!("{path}/"), str::to_owned);
    Some(Resource::named(records::arn(
        &env.caller.account_id,
        kind,
        &path,
        new_name.unwrap_or(name),
    )))
}

/// The user `UserName` names, or the calling user when it names none (a user managing its own
/// keys, password or devices); another caller naming no user is named itself.
pub(crate) fn user_or_caller(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let name = member(input, "UserName").or(env.caller.user_name.as_deref());
    Ok(vec![match name {
        Some(name) => user(env, tx, name)?,
        None => Resource::named(env.caller.arn.clone()),
    }])
}

/// The role `RoleName` names.
pub(crate) fn named_role(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![match member(input, "RoleName") {
        Some(name) => role(env, tx, name)?,
        None => Resource::any(),
    }])
}

/// The group `GroupName` names.
pub(crate) fn named_group(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![match member(input, "GroupName") {
        Some(name) => group(env, tx, name)?,
        None => Resource::any(),
    }])
}

/// The managed policy `PolicyArn` names.
pub(crate) fn named_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![match member(input, "PolicyArn") {
        Some(arn) => policy(env, tx, arn)?,
        None => Resource::any(),
    }])
}

/// The user, group, role or managed policy an ARN names (`Arn`, `PolicySourceArn`), described
/// as the name-based namers describe it. Another account's entity is named, never read.
pub(crate) fn entity_by_arn(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    arn: &str,
) -> Result<Resource, AwsError> {
    let own = format!("arn:aws:iam::{}:", env.caller.account_id);
    let Some((kind, path_and_name)) = arn.strip_prefix(&own).and_then(|r| r.split_once('/')) else {
        return Ok(Resource::named(arn));
    };
    let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
    let found = match kind {
        "user" => user(env, tx, name)?,
        "role" => role(env, tx, name)?,
        "group" => group(env, tx, name)?,
        "policy" => policy(env, tx, arn)?,
        _ => Resource::named(arn),
    };
    // A stored entity of that name under another path is not the one the ARN names.
    Ok(if found.arn == arn {
        found
    } else {
        Resource::named(arn)
    })
}

/// The entity the input's `Arn` names.
pub(crate) fn entity_in_arn(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![match member(input, "Arn") {
        Some(arn) => entity_by_arn(env, tx, arn)?,
        None => Resource::any(),
    }])
}

/// The role `arn` names, read in the role's own account (STS's `AssumeRole*` calls name roles
/// of any account, and the role's owner decides with its trust policy and tags). A role stored
/// under another path is not the one the ARN names.
pub fn role_by_arn(tx: &mut dyn ReadTx, arn: &str) -> Result<Resource, AwsError> {
    let Some((account, name)) = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .map(|(account, path_and_name)| {
            (
                account,
                path_and_name.rsplit('/').next().unwrap_or_default(),
            )
        })
    else {
        return Ok(Resource::named(arn));
    };
    Ok(match optional(records::role(tx, account, name))? {
        Some(role) if role.arn == arn => {
            principal(&role.arn, &role.tags, role.permissions_boundary.as_deref())
        }
        _ => Resource::named(arn),
    })
}
