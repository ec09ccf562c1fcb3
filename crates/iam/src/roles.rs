//! Roles: `CreateRole`, `GetRole`, `ListRoles`, `UpdateRole`, `UpdateRoleDescription`,
//! `UpdateAssumeRolePolicy`, `DeleteRole`, and their tags (`TagRole`, `UntagRole`,
//! `ListRoleTags`). Service-linked roles are not implemented.
//!
//! The trust policy is kept as given (JSON text) and returned URL-encoded, as AWS does.

use crate::resources;
use rampart_policy::{Policy, PolicyKind};
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp, principal_ids};
use rampart_store::{ReadTx, WriteTx, get_json};
use serde::{Deserialize, Serialize};

use crate::directory::IamDirectory;
use crate::ids::{IdPrefix, unique_id};
use crate::pagination::page;
use crate::records::{self, ROLES, RoleRecord, Tag};
use crate::{IamError, instance_profiles, policies, tags};

/// AWS's default longest session for a role, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// IAM's default quota on the size of a trust policy, in characters without whitespace.
pub const MAX_TRUST_POLICY_SIZE: usize = 2048;

/// What is not implemented, for docs/COVERAGE.md.
const NO_SIGNIN_DURATION: &str = "MaxSigninSessionDuration is refused";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("CreateRole", "iam:CreateRole", create_role)
            .resources(new_role_resource)
            .partial(NO_SIGNIN_DURATION),
        Operation::read("GetRole", "iam:GetRole", get_role).resources(crate::resources::named_role),
        Operation::read("ListRoles", "iam:ListRoles", list_roles),
        Operation::write("UpdateRole", "iam:UpdateRole", update_role)
            .resources(crate::resources::named_role)
            .partial(NO_SIGNIN_DURATION),
        Operation::write(
            "UpdateRoleDescription",
            "iam:UpdateRoleDescription",
            update_role_description,
        )
        .resources(crate::resources::named_role),
        Operation::write(
            "UpdateAssumeRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            update_assume_role_policy,
        )
        .resources(crate::resources::named_role),
        Operation::write("DeleteRole", "iam:DeleteRole", delete_role)
            .resources(crate::resources::named_role),
        Operation::write("TagRole", "iam:TagRole", tag_role)
            .resources(crate::resources::named_role),
        Operation::write("UntagRole", "iam:UntagRole", untag_role)
            .resources(crate::resources::named_role),
        Operation::read("ListRoleTags", "iam:ListRoleTags", list_role_tags)
            .resources(crate::resources::named_role),
    ]
}

/// The role `CreateRole` is about to make, with its path.
fn new_role_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![resources::new_entity(env, input, "role", "RoleName")])
}

/// When a role was last used, as `GetRole` shows it: an empty structure for a role never
/// used, as AWS answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleLastUsedView {
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

/// A role as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Role {
    path: String,
    role_name: String,
    role_id: String,
    arn: String,
    create_date: String,
    /// URL-encoded, as AWS returns documents.
    assume_role_policy_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    max_session_duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary: Option<tags::PermissionsBoundary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_last_used: Option<RoleLastUsedView>,
}

impl Role {
    /// The full view (GetRole, UpdateRoleDescription): tags, boundary and last use.
    pub(crate) fn full(role: &RoleRecord) -> Self {
        Self {
            role_last_used: Some(RoleLastUsedView {
                last_used_date: role
                    .role_last_used
                    .as_ref()
                    .map(|u| u.last_used_date.clone()),
                region: role.role_last_used.as_ref().map(|u| u.region.clone()),
            }),
            ..Self::created(role)
        }
    }

    /// The view CreateRole answers: what was just set (tags, boundary), no last use yet.
    fn created(role: &RoleRecord) -> Self {
        Self {
            permissions_boundary: role
                .permissions_boundary
                .clone()
                .map(tags::PermissionsBoundary::policy),
            tags: role.tags.clone(),
            ..Self::listed(role)
        }
    }

    /// The view lists give: AWS's ListRoles (and instance profiles' role lists) omit
    /// `PermissionsBoundary`, `RoleLastUsed` and `Tags`.
    pub(crate) fn listed(role: &RoleRecord) -> Self {
        Self {
            path: role.path.clone(),
            role_name: role.role_name.clone(),
            role_id: role.role_id.clone(),
            arn: role.arn.clone(),
            create_date: role.create_date.clone(),
            assume_role_policy_document: policies::encode_document(
                &role.assume_role_policy_document,
            ),
            description: role.description.clone(),
            max_session_duration: role.max_session_duration,
            permissions_boundary: None,
            tags: Vec::new(),
            role_last_used: None,
        }
    }
}

/// Checks a trust policy: the grammar and the rules of trust policies (a `Principal` is
/// required, no `Resource`), with the engine's AWS wording, then IAM's size quota.
fn check_trust_policy(document: &str) -> Result<(), IamError> {
    Policy::parse_as(document, PolicyKind::Trust)
        // `aws_message` is AWS's own text; the Display form adds a JSON path AWS never sends.
        .map_err(|e| IamError::MalformedPolicyDocument(e.aws_message().to_owned()))?;
    if policies::document_size(document) > MAX_TRUST_POLICY_SIZE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY_SIZE}"
        )));
    }
    Ok(())
}

/// Binds the users and roles `document` names to their unique IDs, as IAM does when it saves
/// a trust policy; a principal that names no existing user or role is refused with AWS's text.
fn bind_trust_principals(
    tx: &mut dyn ReadTx,
    document: &str,
) -> Result<rampart_service::PrincipalIds, IamError> {
    principal_ids::bind(&IamDirectory, tx, document).map_err(|e| match e {
        principal_ids::BindError::InvalidPrincipal(value) => IamError::MalformedPolicyDocument(
            format!("Invalid principal in policy: \"AWS\":\"{value}\""),
        ),
        principal_ids::BindError::Store(e) => e.into(),
    })
}

/// `role` with its trust policy as IAM shows it: a named user or role deleted since shows as
/// its unique ID, one renamed or moved under its new ARN.
pub(crate) fn with_trust_shown(
    tx: &mut dyn ReadTx,
    mut role: RoleRecord,
) -> Result<RoleRecord, IamError> {
    if !role.trust_principal_ids.is_empty() {
        let shown = principal_ids::shown(
            &IamDirectory,
            tx,
            &role.assume_role_policy_document,
            &role.trust_principal_ids,
        )?;
        if let std::borrow::Cow::Owned(shown) = shown {
            role.assume_role_policy_document = shown;
        }
    }
    Ok(role)
}

/// Rampart does not keep a role's console sign-in session length yet; refusing it is
/// honest where ignoring it would fake success.
fn refuse_signin_duration(value: Option<i64>) -> Result<(), IamError> {
    match value {
        Some(_) => Err(IamError::InvalidInput(
            "MaxSigninSessionDuration is not supported by Rampart.".into(),
        )),
        None => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRoleInput {
    role_name: String,
    assume_role_policy_document: String,
    path: Option<String>,
    description: Option<String>,
    max_session_duration: Option<i64>,
    max_signin_session_duration: Option<i64>,
    permissions_boundary: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleOutput {
    role: Role,
}

fn create_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateRoleInput,
) -> Result<RoleOutput, IamError> {
    let account = env.caller.account_id.clone();
    if get_json::<RoleRecord>(tx, ROLES, &records::key(&account, &input.role_name))?.is_some() {
        return Err(IamError::already_exists("Role", &input.role_name));
    }
    refuse_signin_duration(input.max_signin_session_duration)?;
    check_trust_policy(&input.assume_role_policy_document)?;
    let trust_principal_ids = bind_trust_principals(tx, &input.assume_role_policy_document)?;
    tags::check_new(&input.tags)?;
    if let Some(boundary) = &input.permissions_boundary {
        policies::require_boundary_policy(tx, &account, boundary)?;
    }
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let role = RoleRecord {
        arn: records::arn(&account, "role", &path, &input.role_name),
        account_id: account,
        role_id: unique_id(IdPrefix::Role, env.entropy),
        role_name: input.role_name,
        path,
        create_date: aws_timestamp(env.now),
        assume_role_policy_document: input.assume_role_policy_document,
        trust_principal_ids,
        description: input.description,
        // The model bounds it to 3600..=43200 before the handler runs.
        max_session_duration: input
            .max_session_duration
            .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
        permissions_boundary: input.permissions_boundary,
        tags: input.tags,
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        role_last_used: None,
    };
    records::put_role(tx, &role)?;
    Ok(RoleOutput {
        role: Role::created(&role),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleNameInput {
    role_name: String,
}

fn get_role(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: RoleNameInput,
) -> Result<RoleOutput, IamError> {
    let role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    Ok(RoleOutput {
        role: Role::full(&with_trust_shown(tx, role)?),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRolesInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListRolesOutput {
    roles: Vec<Role>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_roles(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListRolesInput,
) -> Result<ListRolesOutput, IamError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".to_owned());
    let page = page::<RoleRecord>(
        tx,
        ROLES,
        &records::account_prefix(&env.caller.account_id),
        input.marker.as_deref(),
        input.max_items,
        |r| r.path.starts_with(&prefix),
    )?;
    let is_truncated = page.is_truncated();
    let mut roles = Vec::with_capacity(page.items.len());
    for role in page.items {
        roles.push(Role::listed(&with_trust_shown(tx, role)?));
    }
    Ok(ListRolesOutput {
        is_truncated,
        roles,
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRoleInput {
    role_name: String,
    description: Option<String>,
    max_session_duration: Option<i64>,
    max_signin_session_duration: Option<i64>,
    reset_max_signin_session_duration: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Empty {}

fn update_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateRoleInput,
) -> Result<Empty, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    refuse_signin_duration(input.max_signin_session_duration)?;
    // Resetting what Rampart never keeps leaves the role as it is, which is what was asked.
    let _ = input.reset_max_signin_session_duration;
    if let Some(description) = input.description {
        role.description = Some(description);
    }
    if let Some(duration) = input.max_session_duration {
        role.max_session_duration = duration;
    }
    records::put_role(tx, &role)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRoleDescriptionInput {
    role_name: String,
    description: String,
}

fn update_role_description(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateRoleDescriptionInput,
) -> Result<RoleOutput, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    role.description = Some(input.description);
    records::put_role(tx, &role)?;
    Ok(RoleOutput {
        role: Role::full(&with_trust_shown(tx, role)?),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAssumeRolePolicyInput {
    role_name: String,
    policy_document: String,
}

fn update_assume_role_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateAssumeRolePolicyInput,
) -> Result<Empty, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    check_trust_policy(&input.policy_document)?;
    role.trust_principal_ids = bind_trust_principals(tx, &input.policy_document)?;
    role.assume_role_policy_document = input.policy_document;
    records::put_role(tx, &role)?;
    Ok(Empty {})
}

fn delete_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RoleNameInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let role = records::role(tx, &account, &input.role_name)?;
    let conflict = |what: &str| {
        Err(IamError::DeleteConflict(format!(
            "Cannot delete entity, must {what} first."
        )))
    };
    if instance_profiles::role_is_in_a_profile(tx, &account, &role.role_name)? {
        return conflict("remove roles from instance profile");
    }
    if !role.attached_policies.is_empty() {
        return conflict("detach all policies");
    }
    if !role.inline_policies.is_empty() {
        return conflict("delete policies");
    }
    tx.delete(ROLES, &records::key(&account, &role.role_name))?;
    crate::access_advisor::forget_entity(tx, &account, &role.arn)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRoleInput {
    role_name: String,
    tags: Vec<Tag>,
}

fn tag_role(env: &Env<'_>, tx: &mut dyn WriteTx, input: TagRoleInput) -> Result<Empty, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    tags::merge(&mut role.tags, input.tags)?;
    records::put_role(tx, &role)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagRoleInput {
    role_name: String,
    tag_keys: Vec<String>,
}

fn untag_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagRoleInput,
) -> Result<Empty, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    tags::remove(&mut role.tags, &input.tag_keys);
    records::put_role(tx, &role)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRoleTagsInput {
    role_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_role_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListRoleTagsInput,
) -> Result<tags::TagPage, IamError> {
    let role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    tags::page(role.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    pub(crate) const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn create_input(name: &str) -> CreateRoleInput {
        CreateRoleInput {
            role_name: name.into(),
            assume_role_policy_document: TRUST.into(),
            path: None,
            description: None,
            max_session_duration: None,
            max_signin_session_duration: None,
            permissions_boundary: None,
            tags: Vec::new(),
        }
    }

    pub(crate) fn create(t: &TestEnv, name: &str) -> RoleRecord {
        let input = create_input(name);
        t.write(move |env, tx| create_role(env, tx, input)).unwrap();
        let name = name.to_owned();
        t.read(move |_, tx| records::role(tx, ACCOUNT, &name))
            .unwrap()
    }

    pub(crate) fn delete(t: &TestEnv, name: &str) -> Result<(), IamError> {
        let input = RoleNameInput {
            role_name: name.into(),
        };
        t.write(move |env, tx| delete_role(env, tx, input).map(|_| ()))
    }

    fn try_create(t: &TestEnv, input: CreateRoleInput) -> Result<serde_json::Value, IamError> {
        t.write(move |env, tx| create_role(env, tx, input))
            .map(|out| serde_json::to_value(out).unwrap())
    }

    fn get(t: &TestEnv, name: &str) -> serde_json::Value {
        let input = RoleNameInput {
            role_name: name.into(),
        };
        serde_json::to_value(t.read(move |env, tx| get_role(env, tx, input)).unwrap()).unwrap()
    }

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn a_role_has_an_aroa_id_a_default_session_and_its_trust_policy_url_encoded() {
        let t = TestEnv::new();
        let mut input = create_input("Deploy");
        input.path = Some("/ci/".into());
        input.tags = vec![tag("team", "ops")];
        let out = try_create(&t, input).unwrap();
        let role = &out["Role"];
        assert!(role["RoleId"].as_str().unwrap().starts_with("AROA"));
        assert_eq!(
            role["Arn"],
            format!("arn:aws:iam::{ACCOUNT}:role/ci/Deploy")
        );
        assert_eq!(role["MaxSessionDuration"], 3600);
        assert_eq!(role["Tags"][0]["Key"], "team");
        assert!(role.get("RoleLastUsed").is_none());
        let encoded = role["AssumeRolePolicyDocument"].as_str().unwrap();
        assert!(encoded.starts_with("%7B%22Version%22%3A%222012-10-17%22"));
        let decoded = percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, TRUST);
        assert!(matches!(
            try_create(&t, create_input("deploy")),
            Err(IamError::EntityAlreadyExists(m)) if m == "Role with name deploy already exists."
        ));
    }

    #[test]
    fn the_trust_policy_must_be_a_trust_policy() {
        let t = TestEnv::new();
        let mut input = create_input("r");
        input.assume_role_policy_document =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#
                .into();
        let err = try_create(&t, input).unwrap_err();
        assert!(
            matches!(&err, IamError::MalformedPolicyDocument(m) if m == "Missing required field Principal"),
            "{err:?}"
        );
        let mut input = create_input("r");
        input.assume_role_policy_document = "{not json".into();
        assert!(matches!(
            try_create(&t, input),
            Err(IamError::MalformedPolicyDocument(m)) if m == "Syntax errors in policy."
        ));
        let mut input = create_input("r");
        input.assume_role_policy_document = TRUST.replace(
            "ec2.amazonaws.com",
            &format!("{}.amazonaws.com", "x".repeat(2048)),
        );
        assert!(matches!(
            try_create(&t, input),
            Err(IamError::LimitExceeded(m)) if m == "Cannot exceed quota for ACLSizePerRole: 2048"
        ));
        let mut input = create_input("r");
        input.max_signin_session_duration = Some(7200);
        assert!(matches!(
            try_create(&t, input),
            Err(IamError::InvalidInput(_))
        ));
        assert!(t.read(|_, tx| records::role(tx, ACCOUNT, "r")).is_err());

        create(&t, "ok");
        let input = UpdateAssumeRolePolicyInput {
            role_name: "ok".into(),
            policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
        };
        assert!(matches!(
            t.write(move |env, tx| update_assume_role_policy(env, tx, input)),
            Err(IamError::MalformedPolicyDocument(_))
        ));
    }

    #[test]
    fn a_missing_boundary_policy_is_refused() {
        let t = TestEnv::new();
        let mut input = create_input("r");
        input.permissions_boundary = Some(format!("arn:aws:iam::{ACCOUNT}:policy/nope"));
        assert!(matches!(
            try_create(&t, input),
            Err(IamError::NoSuchEntity(_))
        ));
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/bounds");
        let policy = records::PolicyRecord {
            account_id: ACCOUNT.into(),
            policy_name: "bounds".into(),
            policy_id: "ANPABOUNDS".into(),
            path: "/".into(),
            arn: arn.clone(),
            description: None,
            create_date: "2026-11-24T00:00:00Z".into(),
            update_date: "2026-11-24T00:00:00Z".into(),
            default_version_id: "v1".into(),
            versions: vec![records::PolicyVersionRecord {
                version_id: "v1".into(),
                document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
                create_date: "2026-11-24T00:00:00Z".into(),
            }],
            next_version: 2,
            tags: Vec::new(),
        };
        t.write(move |_, tx| records::put_policy(tx, &policy))
            .unwrap();
        let mut input = create_input("r");
        input.permissions_boundary = Some(arn.clone());
        try_create(&t, input).unwrap();
        let role = get(&t, "r");
        assert_eq!(
            role["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"],
            arn.as_str()
        );
    }

    #[test]
    fn get_shows_everything_and_lists_omit_tags_boundary_and_last_use() {
        let t = TestEnv::new();
        let mut input = create_input("r");
        input.tags = vec![tag("a", "1")];
        input.description = Some("builds".into());
        try_create(&t, input).unwrap();
        let role = get(&t, "r");
        assert_eq!(role["Role"]["Tags"][0]["Value"], "1");
        assert_eq!(role["Role"]["Description"], "builds");
        assert_eq!(role["Role"]["RoleLastUsed"], serde_json::json!({}));
        let input = ListRolesInput {
            path_prefix: None,
            marker: None,
            max_items: None,
        };
        let list = serde_json::to_value(t.read(move |env, tx| list_roles(env, tx, input)).unwrap())
            .unwrap();
        let listed = &list["Roles"][0];
        assert_eq!(listed["RoleName"], "r");
        assert_eq!(listed["Description"], "builds");
        assert!(listed.get("Tags").is_none());
        assert!(listed.get("RoleLastUsed").is_none());
        assert!(listed.get("AssumeRolePolicyDocument").is_some());
    }

    #[test]
    fn updates_change_description_duration_and_trust() {
        let t = TestEnv::new();
        create(&t, "r");
        let input = UpdateRoleInput {
            role_name: "r".into(),
            description: Some("d1".into()),
            max_session_duration: Some(7200),
            max_signin_session_duration: None,
            reset_max_signin_session_duration: None,
        };
        t.write(move |env, tx| update_role(env, tx, input)).unwrap();
        let role = get(&t, "r");
        assert_eq!(role["Role"]["MaxSessionDuration"], 7200);
        assert_eq!(role["Role"]["Description"], "d1");

        let input = UpdateRoleDescriptionInput {
            role_name: "R".into(),
            description: "d2".into(),
        };
        let out = t
            .write(move |env, tx| update_role_description(env, tx, input))
            .unwrap();
        assert_eq!(out.role.description.as_deref(), Some("d2"));

        let trust = TRUST.replace("ec2", "lambda");
        let input = UpdateAssumeRolePolicyInput {
            role_name: "r".into(),
            policy_document: trust.clone(),
        };
        t.write(move |env, tx| update_assume_role_policy(env, tx, input))
            .unwrap();
        let stored = t.read(|_, tx| records::role(tx, ACCOUNT, "r")).unwrap();
        assert_eq!(stored.assume_role_policy_document, trust);
    }

    #[test]
    fn a_role_with_policies_cannot_be_deleted() {
        let t = TestEnv::new();
        create(&t, "r");
        let delete = |t: &TestEnv| {
            let input = RoleNameInput {
                role_name: "r".into(),
            };
            t.write(move |env, tx| delete_role(env, tx, input))
        };
        t.write(|_, tx| {
            let mut role = records::role(tx, ACCOUNT, "r")?;
            role.attached_policies
                .push("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
            role.inline_policies.insert("p".into(), "{}".into());
            records::put_role(tx, &role)
        })
        .unwrap();
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must detach all policies first."),
            "{err:?}"
        );
        t.write(|_, tx| {
            let mut role = records::role(tx, ACCOUNT, "r")?;
            role.attached_policies.clear();
            records::put_role(tx, &role)
        })
        .unwrap();
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::DeleteConflict(m) if m == "Cannot delete entity, must delete policies first."),
            "{err:?}"
        );
        t.write(|_, tx| {
            let mut role = records::role(tx, ACCOUNT, "r")?;
            role.inline_policies.clear();
            records::put_role(tx, &role)
        })
        .unwrap();
        delete(&t).unwrap();
        let err = delete(&t).unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == "The role with name r cannot be found."),
            "{err:?}"
        );
    }

    #[test]
    fn tags_are_added_replaced_removed_and_listed() {
        let t = TestEnv::new();
        create(&t, "r");
        let input = TagRoleInput {
            role_name: "r".into(),
            tags: vec![tag("a", "1"), tag("b", "2")],
        };
        t.write(move |env, tx| tag_role(env, tx, input)).unwrap();
        let input = TagRoleInput {
            role_name: "r".into(),
            tags: vec![tag("A", "3")],
        };
        t.write(move |env, tx| tag_role(env, tx, input)).unwrap();
        let input = UntagRoleInput {
            role_name: "r".into(),
            tag_keys: vec!["b".into()],
        };
        t.write(move |env, tx| untag_role(env, tx, input)).unwrap();
        let input = ListRoleTagsInput {
            role_name: "r".into(),
            marker: None,
            max_items: None,
        };
        let page = serde_json::to_value(
            t.read(move |env, tx| list_role_tags(env, tx, input))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            page["Tags"],
            serde_json::json!([{"Key": "A", "Value": "3"}])
        );
    }
}
