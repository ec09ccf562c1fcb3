//! Instance profiles and the role they carry: `CreateInstanceProfile`, `GetInstanceProfile`,
//! `ListInstanceProfiles`, `DeleteInstanceProfile`, `AddRoleToInstanceProfile`,
//! `RemoveRoleFromInstanceProfile`, `ListInstanceProfilesForRole`, and their tags.
//!
//! A profile names its role; roles do not name their profiles (AWS allows one role per
//! profile, and a role is never renamed), so the profiles of a role are found by a scan of the
//! account's profiles.

use crate::resources;
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::ids::{IdPrefix, unique_id};
use crate::pagination::page;
use crate::records::{self, ROLES, RoleRecord, Tag};
use crate::roles::Role;
use crate::{IamError, tags};

/// Namespace of instance profiles, keyed `<account>/<lower-cased name>`.
pub const NAMESPACE: &str = "iam.instance-profile";

/// IAM's quota of roles per instance profile.
pub const MAX_ROLES_PER_PROFILE: usize = 1;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateInstanceProfile",
            "iam:CreateInstanceProfile",
            create_instance_profile,
        )
        .resources(new_profile_resource),
        Operation::read(
            "GetInstanceProfile",
            "iam:GetInstanceProfile",
            get_instance_profile,
        )
        .resources(profile_resource),
        Operation::read(
            "ListInstanceProfiles",
            "iam:ListInstanceProfiles",
            list_instance_profiles,
        ),
        Operation::write(
            "DeleteInstanceProfile",
            "iam:DeleteInstanceProfile",
            delete_instance_profile,
        )
        .resources(profile_resource),
        Operation::write(
            "AddRoleToInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            add_role_to_instance_profile,
        )
        .resources(profile_resource),
        Operation::write(
            "RemoveRoleFromInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
            remove_role_from_instance_profile,
        )
        .resources(profile_resource),
        Operation::read(
            "ListInstanceProfilesForRole",
            "iam:ListInstanceProfilesForRole",
            list_instance_profiles_for_role,
        )
        .resources(crate::resources::named_role),
        Operation::write(
            "TagInstanceProfile",
            "iam:TagInstanceProfile",
            tag_instance_profile,
        )
        .resources(profile_resource),
        Operation::write(
            "UntagInstanceProfile",
            "iam:UntagInstanceProfile",
            untag_instance_profile,
        )
        .resources(profile_resource),
        Operation::read(
            "ListInstanceProfileTags",
            "iam:ListInstanceProfileTags",
            list_instance_profile_tags,
        )
        .resources(profile_resource),
    ]
}

/// The instance profile the input names, with its path and tags when it exists.
fn profile_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    resources::by_name(
        env,
        input,
        "InstanceProfileName",
        "instance-profile",
        |account, name| profile(tx, account, name),
        |profile| resources::tagged(profile.arn, &profile.tags),
    )
}

/// The instance profile CreateInstanceProfile makes, under the path it asks for.
fn new_profile_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![resources::new_entity(
        env,
        input,
        "instance-profile",
        "InstanceProfileName",
    )])
}

/// An instance profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceProfileRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub instance_profile_name: String,
    /// `AIPA…`.
    pub instance_profile_id: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::<account>:instance-profile<path><name>`.
    pub arn: String,
    /// When it was made.
    pub create_date: String,
    /// Names of its roles (at most one).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

fn profile(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    name: &str,
) -> Result<InstanceProfileRecord, IamError> {
    get_json(tx, NAMESPACE, &records::key(account_id, name))?
        .ok_or_else(|| IamError::no_such("instance profile", name))
}

fn put_profile(
    tx: &mut (impl WriteTx + ?Sized),
    profile: &InstanceProfileRecord,
) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        NAMESPACE,
        &records::key(&profile.account_id, &profile.instance_profile_name),
        profile,
    )?)
}

fn has_role(profile: &InstanceProfileRecord, role_name: &str) -> bool {
    profile
        .roles
        .iter()
        .any(|r| r.eq_ignore_ascii_case(role_name))
}

/// Whether the role `role_name` of `account_id` is in any instance profile (`DeleteRole`
/// refuses such a role).
pub(crate) fn role_is_in_a_profile(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    role_name: &str,
) -> Result<bool, IamError> {
    let profiles: Vec<(String, InstanceProfileRecord)> = scan_json(
        tx,
        NAMESPACE,
        &records::account_prefix(account_id),
        None,
        usize::MAX,
    )?;
    Ok(profiles.iter().any(|(_, p)| has_role(p, role_name)))
}

/// An instance profile as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceProfile {
    path: String,
    instance_profile_name: String,
    instance_profile_id: String,
    arn: String,
    create_date: String,
    roles: Vec<Role>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

impl InstanceProfile {
    /// The full view (Create, Get): with tags. Roles are shown as ListRoles shows them.
    fn full(tx: &mut dyn ReadTx, p: &InstanceProfileRecord) -> Result<Self, IamError> {
        Ok(Self {
            tags: p.tags.clone(),
            ..Self::listed(tx, p)?
        })
    }

    /// The view lists give: without tags, as AWS's list operations omit them.
    fn listed(tx: &mut dyn ReadTx, p: &InstanceProfileRecord) -> Result<Self, IamError> {
        let mut roles = Vec::with_capacity(p.roles.len());
        for name in &p.roles {
            // INVARIANT: a role in a profile exists (DeleteRole refuses it); a missing one is
            // left out rather than failing the whole answer.
            if let Some(role) =
                get_json::<RoleRecord>(tx, ROLES, &records::key(&p.account_id, name))?
            {
                roles.push(Role::listed(&crate::roles::with_trust_shown(tx, role)?));
            }
        }
        Ok(Self {
            path: p.path.clone(),
            instance_profile_name: p.instance_profile_name.clone(),
            instance_profile_id: p.instance_profile_id.clone(),
            arn: p.arn.clone(),
            create_date: p.create_date.clone(),
            roles,
            tags: Vec::new(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInstanceProfileInput {
    instance_profile_name: String,
    path: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceProfileOutput {
    instance_profile: InstanceProfile,
}

fn create_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateInstanceProfileInput,
) -> Result<InstanceProfileOutput, IamError> {
    let account = env.caller.account_id.clone();
    let key = records::key(&account, &input.instance_profile_name);
    if get_json::<InstanceProfileRecord>(tx, NAMESPACE, &key)?.is_some() {
        return Err(IamError::already_exists(
            "Instance Profile",
            &input.instance_profile_name,
        ));
    }
    tags::check_new(&input.tags)?;
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let profile = InstanceProfileRecord {
        arn: records::arn(
            &account,
            "instance-profile",
            &path,
            &input.instance_profile_name,
        ),
        account_id: account,
        instance_profile_id: unique_id(IdPrefix::InstanceProfile, env.entropy),
        instance_profile_name: input.instance_profile_name,
        path,
        create_date: aws_timestamp(env.now),
        roles: Vec::new(),
        tags: input.tags,
    };
    put_profile(tx, &profile)?;
    Ok(InstanceProfileOutput {
        instance_profile: InstanceProfile::full(tx, &profile)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileNameInput {
    instance_profile_name: String,
}

fn get_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ProfileNameInput,
) -> Result<InstanceProfileOutput, IamError> {
    let p = profile(tx, &env.caller.account_id, &input.instance_profile_name)?;
    Ok(InstanceProfileOutput {
        instance_profile: InstanceProfile::full(tx, &p)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInstanceProfilesInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListInstanceProfilesOutput {
    instance_profiles: Vec<InstanceProfile>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_instance_profiles(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListInstanceProfilesInput,
) -> Result<ListInstanceProfilesOutput, IamError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".to_owned());
    let page = page::<InstanceProfileRecord>(
        tx,
        NAMESPACE,
        &records::account_prefix(&env.caller.account_id),
        input.marker.as_deref(),
        input.max_items,
        |p| p.path.starts_with(&prefix),
    )?;
    let mut profiles = Vec::with_capacity(page.items.len());
    for p in &page.items {
        profiles.push(InstanceProfile::listed(tx, p)?);
    }
    Ok(ListInstanceProfilesOutput {
        is_truncated: page.is_truncated(),
        instance_profiles: profiles,
        marker: page.next,
    })
}

#[derive(Debug, Serialize)]
struct Empty {}

fn delete_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ProfileNameInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let p = profile(tx, &account, &input.instance_profile_name)?;
    if !p.roles.is_empty() {
        return Err(IamError::DeleteConflict(
            "Cannot delete entity, must remove roles from instance profile first.".into(),
        ));
    }
    tx.delete(NAMESPACE, &records::key(&account, &p.instance_profile_name))?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileRoleInput {
    instance_profile_name: String,
    role_name: String,
}

fn add_role_to_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ProfileRoleInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut p = profile(tx, &account, &input.instance_profile_name)?;
    let role = records::role(tx, &account, &input.role_name)?;
    // Also when the role is the one already there: AWS answers LimitExceeded, not success.
    if p.roles.len() >= MAX_ROLES_PER_PROFILE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES_PER_PROFILE}"
        )));
    }
    p.roles.push(role.role_name);
    put_profile(tx, &p)?;
    Ok(Empty {})
}

fn remove_role_from_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ProfileRoleInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut p = profile(tx, &account, &input.instance_profile_name)?;
    let role = records::role(tx, &account, &input.role_name)?;
    if !has_role(&p, &role.role_name) {
        // The role exists but is not in this profile: answered as a missing role.
        return Err(IamError::no_such("role", &input.role_name));
    }
    p.roles.retain(|r| !r.eq_ignore_ascii_case(&role.role_name));
    put_profile(tx, &p)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInstanceProfilesForRoleInput {
    role_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_instance_profiles_for_role(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListInstanceProfilesForRoleInput,
) -> Result<ListInstanceProfilesOutput, IamError> {
    let account = &env.caller.account_id;
    let role = records::role(tx, account, &input.role_name)?;
    let page = page::<InstanceProfileRecord>(
        tx,
        NAMESPACE,
        &records::account_prefix(account),
        input.marker.as_deref(),
        input.max_items,
        |p| has_role(p, &role.role_name),
    )?;
    let mut profiles = Vec::with_capacity(page.items.len());
    for p in &page.items {
        profiles.push(InstanceProfile::listed(tx, p)?);
    }
    Ok(ListInstanceProfilesOutput {
        is_truncated: page.is_truncated(),
        instance_profiles: profiles,
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInstanceProfileInput {
    instance_profile_name: String,
    tags: Vec<Tag>,
}

fn tag_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagInstanceProfileInput,
) -> Result<Empty, IamError> {
    let mut p = profile(tx, &env.caller.account_id, &input.instance_profile_name)?;
    tags::merge(&mut p.tags, input.tags)?;
    put_profile(tx, &p)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagInstanceProfileInput {
    instance_profile_name: String,
    tag_keys: Vec<String>,
}

fn untag_instance_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagInstanceProfileInput,
) -> Result<Empty, IamError> {
    let mut p = profile(tx, &env.caller.account_id, &input.instance_profile_name)?;
    tags::remove(&mut p.tags, &input.tag_keys);
    put_profile(tx, &p)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInstanceProfileTagsInput {
    instance_profile_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_instance_profile_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListInstanceProfileTagsInput,
) -> Result<tags::TagPage, IamError> {
    let p = profile(tx, &env.caller.account_id, &input.instance_profile_name)?;
    tags::page(p.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::tests as roles;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn create(t: &TestEnv, name: &str, path: Option<&str>) -> serde_json::Value {
        let input = CreateInstanceProfileInput {
            instance_profile_name: name.into(),
            path: path.map(str::to_owned),
            tags: vec![Tag {
                key: "env".into(),
                value: "dev".into(),
            }],
        };
        let out = t
            .write(move |env, tx| create_instance_profile(env, tx, input))
            .unwrap();
        serde_json::to_value(out).unwrap()
    }

    fn add(t: &TestEnv, profile: &str, role: &str) -> Result<Empty, IamError> {
        let input = ProfileRoleInput {
            instance_profile_name: profile.into(),
            role_name: role.into(),
        };
        t.write(move |env, tx| add_role_to_instance_profile(env, tx, input))
    }

    fn remove(t: &TestEnv, profile: &str, role: &str) -> Result<Empty, IamError> {
        let input = ProfileRoleInput {
            instance_profile_name: profile.into(),
            role_name: role.into(),
        };
        t.write(move |env, tx| remove_role_from_instance_profile(env, tx, input))
    }

    fn get(t: &TestEnv, name: &str) -> Result<serde_json::Value, IamError> {
        let input = ProfileNameInput {
            instance_profile_name: name.into(),
        };
        t.read(move |env, tx| get_instance_profile(env, tx, input))
            .map(|out| serde_json::to_value(out).unwrap())
    }

    fn delete(t: &TestEnv, name: &str) -> Result<Empty, IamError> {
        let input = ProfileNameInput {
            instance_profile_name: name.into(),
        };
        t.write(move |env, tx| delete_instance_profile(env, tx, input))
    }

    fn for_role(t: &TestEnv, role: &str) -> Vec<String> {
        let input = ListInstanceProfilesForRoleInput {
            role_name: role.into(),
            marker: None,
            max_items: None,
        };
        let out = t
            .read(move |env, tx| list_instance_profiles_for_role(env, tx, input))
            .unwrap();
        out.instance_profiles
            .into_iter()
            .map(|p| p.instance_profile_name)
            .collect()
    }

    #[test]
    fn a_profile_has_an_aipa_id_its_path_and_a_unique_name() {
        let t = TestEnv::new();
        let out = create(&t, "Web", Some("/apps/"));
        let p = &out["InstanceProfile"];
        let id = p["InstanceProfileId"].as_str().unwrap();
        assert!(id.starts_with("AIPA"), "{id}");
        assert_eq!(id.len(), 21);
        assert_eq!(
            p["Arn"],
            format!("arn:aws:iam::{ACCOUNT}:instance-profile/apps/Web")
        );
        assert_eq!(p["Roles"], serde_json::json!([]));
        assert_eq!(p["Tags"][0]["Key"], "env");
        let input = CreateInstanceProfileInput {
            instance_profile_name: "web".into(),
            path: None,
            tags: Vec::new(),
        };
        let err = t
            .write(move |env, tx| create_instance_profile(env, tx, input))
            .unwrap_err();
        assert!(
            matches!(&err, IamError::EntityAlreadyExists(m) if m == "Instance Profile with name web already exists."),
            "{err:?}"
        );
        let err = get(&t, "nope").unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == "The instance profile with name nope cannot be found."),
            "{err:?}"
        );
    }

    #[test]
    fn a_profile_carries_one_role() {
        let t = TestEnv::new();
        create(&t, "web", None);
        roles::create(&t, "web-role");
        roles::create(&t, "other");
        assert!(matches!(
            add(&t, "web", "ghost"),
            Err(IamError::NoSuchEntity(_))
        ));
        add(&t, "web", "WEB-ROLE").unwrap();
        for role in ["web-role", "other"] {
            let err = add(&t, "web", role).unwrap_err();
            assert!(
                matches!(&err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
                "{err:?}"
            );
        }
        let got = get(&t, "web").unwrap();
        let role = &got["InstanceProfile"]["Roles"][0];
        assert_eq!(role["RoleName"], "web-role");
        assert!(role["RoleId"].as_str().unwrap().starts_with("AROA"));
        assert_eq!(for_role(&t, "web-role"), ["web"]);
        assert!(for_role(&t, "other").is_empty());

        assert!(matches!(
            remove(&t, "web", "other"),
            Err(IamError::NoSuchEntity(_))
        ));
        remove(&t, "web", "web-role").unwrap();
        assert_eq!(
            get(&t, "web").unwrap()["InstanceProfile"]["Roles"],
            serde_json::json!([])
        );
        add(&t, "web", "other").unwrap();
    }

    #[test]
    fn a_profile_with_a_role_cannot_be_deleted_nor_can_its_role() {
        let t = TestEnv::new();
        create(&t, "web", None);
        roles::create(&t, "r");
        add(&t, "web", "r").unwrap();
        let err = delete(&t, "web").unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must remove roles from instance profile first."),
            "{err:?}"
        );
        let role_in_profile = t
            .read(|_, tx| role_is_in_a_profile(tx, ACCOUNT, "R"))
            .unwrap();
        assert!(role_in_profile, "DeleteRole's conflict check");
        let err = roles::delete(&t, "r").unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must remove roles from instance profile first."),
            "{err:?}"
        );
        remove(&t, "web", "r").unwrap();
        assert!(
            !t.read(|_, tx| role_is_in_a_profile(tx, ACCOUNT, "r"))
                .unwrap()
        );
        delete(&t, "web").unwrap();
        assert!(matches!(get(&t, "web"), Err(IamError::NoSuchEntity(_))));
    }

    #[test]
    fn lists_filter_by_path_and_omit_tags() {
        let t = TestEnv::new();
        create(&t, "a", Some("/x/"));
        create(&t, "b", None);
        let list = |prefix: Option<&str>| {
            let input = ListInstanceProfilesInput {
                path_prefix: prefix.map(str::to_owned),
                marker: None,
                max_items: None,
            };
            serde_json::to_value(
                t.read(move |env, tx| list_instance_profiles(env, tx, input))
                    .unwrap(),
            )
            .unwrap()
        };
        let all = list(None);
        assert_eq!(all["InstanceProfiles"].as_array().unwrap().len(), 2);
        assert!(all["InstanceProfiles"][0].get("Tags").is_none());
        let x = list(Some("/x/"));
        assert_eq!(x["InstanceProfiles"][0]["InstanceProfileName"], "a");
        assert_eq!(x["InstanceProfiles"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn tags_are_merged_removed_and_listed() {
        let t = TestEnv::new();
        create(&t, "web", None);
        let input = TagInstanceProfileInput {
            instance_profile_name: "web".into(),
            tags: vec![Tag {
                key: "team".into(),
                value: "a".into(),
            }],
        };
        t.write(move |env, tx| tag_instance_profile(env, tx, input))
            .unwrap();
        let input = UntagInstanceProfileInput {
            instance_profile_name: "web".into(),
            tag_keys: vec!["ENV".into()],
        };
        t.write(move |env, tx| untag_instance_profile(env, tx, input))
            .unwrap();
        let input = ListInstanceProfileTagsInput {
            instance_profile_name: "web".into(),
            marker: None,
            max_items: None,
        };
        let page = serde_json::to_value(
            t.read(move |env, tx| list_instance_profile_tags(env, tx, input))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            page["Tags"],
            serde_json::json!([{"Key": "team", "Value": "a"}])
        );
    }
}
