//! Inline policies of users, groups and roles: `Put*Policy`, `Get*Policy`, `Delete*Policy`,
//! `List*Policies`.
//!
//! An inline policy lives in its entity's record (`inline_policies`: name → document as
//! given). IAM bounds the aggregate size of one entity's inline documents, whitespace not
//! counted: 2,048 characters for a user, 5,120 for a group, 10,240 for a role.

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::pagination::page_sorted;
use crate::policies::entity::{Entity, EntityKind};
use crate::policies::{check_identity_document, document_size, encode_document};

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write("PutUserPolicy", "iam:PutUserPolicy", put_user_policy)
            .resources(crate::resources::user_or_caller),
        Operation::write("PutGroupPolicy", "iam:PutGroupPolicy", put_group_policy)
            .resources(crate::resources::named_group),
        Operation::write("PutRolePolicy", "iam:PutRolePolicy", put_role_policy)
            .resources(crate::resources::named_role),
        Operation::read("GetUserPolicy", "iam:GetUserPolicy", get_user_policy)
            .resources(crate::resources::user_or_caller),
        Operation::read("GetGroupPolicy", "iam:GetGroupPolicy", get_group_policy)
            .resources(crate::resources::named_group),
        Operation::read("GetRolePolicy", "iam:GetRolePolicy", get_role_policy)
            .resources(crate::resources::named_role),
        Operation::write(
            "DeleteUserPolicy",
            "iam:DeleteUserPolicy",
            delete_user_policy,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteGroupPolicy",
            "iam:DeleteGroupPolicy",
            delete_group_policy,
        )
        .resources(crate::resources::named_group),
        Operation::write(
            "DeleteRolePolicy",
            "iam:DeleteRolePolicy",
            delete_role_policy,
        )
        .resources(crate::resources::named_role),
        Operation::read(
            "ListUserPolicies",
            "iam:ListUserPolicies",
            list_user_policies,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListGroupPolicies",
            "iam:ListGroupPolicies",
            list_group_policies,
        )
        .resources(crate::resources::named_group),
        Operation::read(
            "ListRolePolicies",
            "iam:ListRolePolicies",
            list_role_policies,
        )
        .resources(crate::resources::named_role),
    ]
}

#[derive(Debug, Serialize)]
struct Empty {}

/// The name of an inline policy is unique within its entity without regard to case, as IAM's
/// names are; the first spelling is kept.
fn existing_name(entity: &mut Entity, name: &str) -> Option<String> {
    entity
        .inline_policies()
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

fn no_such_policy(kind: EntityKind, name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        kind.word()
    ))
}

fn put(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    kind: EntityKind,
    entity_name: &str,
    policy_name: &str,
    document: String,
) -> Result<Empty, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, entity_name)?;
    check_identity_document(&document)?;
    let key = existing_name(&mut entity, policy_name).unwrap_or_else(|| policy_name.to_owned());
    // The quota is on the aggregate: the other documents plus this one (replacing its old text).
    let others: usize = entity
        .inline_policies()
        .iter()
        .filter(|(name, _)| **name != key)
        .map(|(_, doc)| document_size(doc))
        .sum();
    let quota = kind.inline_size_quota();
    if others.saturating_add(document_size(&document)) > quota {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {} {}",
            kind.word(),
            entity.name()
        )));
    }
    entity.inline_policies().insert(key, document);
    entity.store(tx)?;
    Ok(Empty {})
}

/// An inline policy as Get*Policy returns it; the entity member differs by kind.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetInlinePolicyOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_name: Option<String>,
    policy_name: String,
    /// URL-encoded, as AWS returns it.
    policy_document: String,
}

fn get(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    kind: EntityKind,
    entity_name: &str,
    policy_name: &str,
) -> Result<GetInlinePolicyOutput, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, entity_name)?;
    let key =
        existing_name(&mut entity, policy_name).ok_or_else(|| no_such_policy(kind, policy_name))?;
    let document = entity
        .inline_policies()
        .get(&key)
        .map(|d| encode_document(d))
        .ok_or_else(|| no_such_policy(kind, policy_name))?;
    let name = Some(entity.name().to_owned());
    let (user_name, group_name, role_name) = match kind {
        EntityKind::User => (name, None, None),
        EntityKind::Group => (None, name, None),
        EntityKind::Role => (None, None, name),
    };
    Ok(GetInlinePolicyOutput {
        user_name,
        group_name,
        role_name,
        policy_name: key,
        policy_document: document,
    })
}

fn delete(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    kind: EntityKind,
    entity_name: &str,
    policy_name: &str,
) -> Result<Empty, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, entity_name)?;
    let key =
        existing_name(&mut entity, policy_name).ok_or_else(|| no_such_policy(kind, policy_name))?;
    entity.inline_policies().remove(&key);
    entity.store(tx)?;
    Ok(Empty {})
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListInlinePoliciesOutput {
    policy_names: Vec<String>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    kind: EntityKind,
    entity_name: &str,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<ListInlinePoliciesOutput, IamError> {
    let mut entity = Entity::load(tx, kind, &env.caller.account_id, entity_name)?;
    // The map's order is the names' order, which is what the marker needs.
    let items: Vec<(String, String)> = entity
        .inline_policies()
        .keys()
        .map(|name| (name.clone(), name.clone()))
        .collect();
    let page = page_sorted(items, marker, max_items)?;
    Ok(ListInlinePoliciesOutput {
        is_truncated: page.is_truncated(),
        policy_names: page.items,
        marker: page.next,
    })
}

// The typed inputs and thin handlers, one per operation: the model names the entity member
// differently for each kind.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutUserPolicyInput {
    user_name: String,
    policy_name: String,
    policy_document: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutGroupPolicyInput {
    group_name: String,
    policy_name: String,
    policy_document: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRolePolicyInput {
    role_name: String,
    policy_name: String,
    policy_document: String,
}

fn put_user_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutUserPolicyInput,
) -> Result<Empty, IamError> {
    put(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        &input.policy_name,
        input.policy_document,
    )
}

fn put_group_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutGroupPolicyInput,
) -> Result<Empty, IamError> {
    put(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        &input.policy_name,
        input.policy_document,
    )
}

fn put_role_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutRolePolicyInput,
) -> Result<Empty, IamError> {
    put(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        &input.policy_name,
        input.policy_document,
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserPolicyInput {
    user_name: String,
    policy_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupPolicyInput {
    group_name: String,
    policy_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RolePolicyInput {
    role_name: String,
    policy_name: String,
}

fn get_user_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: UserPolicyInput,
) -> Result<GetInlinePolicyOutput, IamError> {
    get(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        &input.policy_name,
    )
}

fn get_group_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GroupPolicyInput,
) -> Result<GetInlinePolicyOutput, IamError> {
    get(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        &input.policy_name,
    )
}

fn get_role_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: RolePolicyInput,
) -> Result<GetInlinePolicyOutput, IamError> {
    get(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        &input.policy_name,
    )
}

fn delete_user_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UserPolicyInput,
) -> Result<Empty, IamError> {
    delete(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        &input.policy_name,
    )
}

fn delete_group_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: GroupPolicyInput,
) -> Result<Empty, IamError> {
    delete(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        &input.policy_name,
    )
}

fn delete_role_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RolePolicyInput,
) -> Result<Empty, IamError> {
    delete(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        &input.policy_name,
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUserPoliciesInput {
    user_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupPoliciesInput {
    group_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRolePoliciesInput {
    role_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_user_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListUserPoliciesInput,
) -> Result<ListInlinePoliciesOutput, IamError> {
    list(
        env,
        tx,
        EntityKind::User,
        &input.user_name,
        input.marker.as_deref(),
        input.max_items,
    )
}

fn list_group_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListGroupPoliciesInput,
) -> Result<ListInlinePoliciesOutput, IamError> {
    list(
        env,
        tx,
        EntityKind::Group,
        &input.group_name,
        input.marker.as_deref(),
        input.max_items,
    )
}

fn list_role_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListRolePoliciesInput,
) -> Result<ListInlinePoliciesOutput, IamError> {
    list(
        env,
        tx,
        EntityKind::Role,
        &input.role_name,
        input.marker.as_deref(),
        input.max_items,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::tests::{DOC, user};
    use crate::records::{self, GroupRecord};
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn put_for_user(t: &TestEnv, name: &str, policy: &str, doc: &str) -> Result<Empty, IamError> {
        let input = PutUserPolicyInput {
            user_name: name.into(),
            policy_name: policy.into(),
            policy_document: doc.into(),
        };
        t.write(move |env, tx| put_user_policy(env, tx, input))
    }

    fn names(
        t: &TestEnv,
        user: &str,
        marker: Option<String>,
        max: Option<i64>,
    ) -> ListInlinePoliciesOutput {
        let input = ListUserPoliciesInput {
            user_name: user.into(),
            marker,
            max_items: max,
        };
        t.read(move |env, tx| list_user_policies(env, tx, input))
            .unwrap()
    }

    /// A valid document of exactly `size` characters without whitespace.
    fn doc_of_size(size: usize) -> String {
        let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::"#;
        let tail = r#""}]}"#;
        format!("{base}{}{tail}", "a".repeat(size - base.len() - tail.len()))
    }

    #[test]
    fn put_get_list_delete_round_trip() {
        let t = TestEnv::new();
        user(&t, "bob");
        put_for_user(&t, "bob", "b", DOC).unwrap();
        put_for_user(&t, "bob", "a", DOC).unwrap();
        // Same name in another case replaces, keeping the first spelling.
        put_for_user(&t, "bob", "A", DOC).unwrap();
        let list = names(&t, "bob", None, None);
        assert_eq!(list.policy_names, ["a", "b"]);
        let input = UserPolicyInput {
            user_name: "bob".into(),
            policy_name: "a".into(),
        };
        let got = t
            .read(move |env, tx| get_user_policy(env, tx, input))
            .unwrap();
        assert_eq!(got.user_name.as_deref(), Some("bob"));
        assert!(got.role_name.is_none());
        let decoded = percent_encoding::percent_decode_str(&got.policy_document)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, DOC);
        let first = names(&t, "bob", None, Some(1));
        assert!(first.is_truncated);
        assert_eq!(first.policy_names, ["a"]);
        assert_eq!(names(&t, "bob", first.marker, Some(1)).policy_names, ["b"]);
        let input = UserPolicyInput {
            user_name: "bob".into(),
            policy_name: "a".into(),
        };
        t.write(move |env, tx| delete_user_policy(env, tx, input))
            .unwrap();
        let input = UserPolicyInput {
            user_name: "bob".into(),
            policy_name: "a".into(),
        };
        let err = t
            .write(move |env, tx| delete_user_policy(env, tx, input))
            .unwrap_err();
        assert!(
            matches!(err, IamError::NoSuchEntity(m) if m == "The user policy with name a cannot be found.")
        );
    }

    #[test]
    fn the_aggregate_size_of_a_users_inline_policies_is_bounded() {
        let t = TestEnv::new();
        user(&t, "bob");
        put_for_user(&t, "bob", "one", &doc_of_size(1000)).unwrap();
        put_for_user(&t, "bob", "two", &doc_of_size(1048)).unwrap();
        let err = put_for_user(&t, "bob", "three", &doc_of_size(120)).unwrap_err();
        assert!(matches!(err, IamError::LimitExceeded(m)
            if m == "Maximum policy size of 2048 bytes exceeded for user bob"));
        // Replacing a document counts its new size, not both.
        put_for_user(&t, "bob", "two", &doc_of_size(1000)).unwrap();
        // Whitespace does not count.
        let spaced = doc_of_size(1048).replace(',', ",\n        ");
        put_for_user(&t, "bob", "two", &spaced).unwrap();
    }

    #[test]
    fn malformed_documents_and_missing_entities_are_refused() {
        let t = TestEnv::new();
        user(&t, "bob");
        assert!(matches!(
            put_for_user(&t, "bob", "p", r#"{"Statement": []"#),
            Err(IamError::MalformedPolicyDocument(_))
        ));
        assert!(matches!(
            put_for_user(&t, "nobody", "p", DOC),
            Err(IamError::NoSuchEntity(m)) if m == "The user with name nobody cannot be found."
        ));
    }

    #[test]
    fn groups_have_their_own_quota_and_wording() {
        let t = TestEnv::new();
        let group = GroupRecord {
            account_id: ACCOUNT.into(),
            group_name: "admins".into(),
            group_id: "AGPAEXAMPLE".into(),
            path: "/".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:group/admins"),
            create_date: "2026-11-24T12:00:00Z".into(),
            attached_policies: Vec::new(),
            inline_policies: Default::default(),
            members: Vec::new(),
        };
        t.write(move |_, tx| records::put_group(tx, &group))
            .unwrap();
        let put_group = |name: &str, doc: String| {
            let input = PutGroupPolicyInput {
                group_name: "admins".into(),
                policy_name: name.into(),
                policy_document: doc,
            };
            t.write(move |env, tx| put_group_policy(env, tx, input))
        };
        put_group("big", doc_of_size(5000)).unwrap();
        assert!(matches!(put_group("more", doc_of_size(121)),
            Err(IamError::LimitExceeded(m))
                if m == "Maximum policy size of 5120 bytes exceeded for group admins"));
        let input = GroupPolicyInput {
            group_name: "admins".into(),
            policy_name: "none".into(),
        };
        assert!(matches!(
            t.read(move |env, tx| get_group_policy(env, tx, input)),
            Err(IamError::NoSuchEntity(m)) if m == "The group policy with name none cannot be found."
        ));
    }
}
