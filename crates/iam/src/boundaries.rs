//! Permissions boundaries: `Put/DeleteUserPermissionsBoundary`,
//! `Put/DeleteRolePermissionsBoundary`.
//!
//! A boundary is the ARN of a managed policy (AWS managed, or customer managed in the same
//! account) kept on the user or role; authorization evaluates that policy's default version.

use rampart_service::{Env, Operation};
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::policies::require_boundary_policy;
use crate::records;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "PutUserPermissionsBoundary",
            "iam:PutUserPermissionsBoundary",
            put_user_permissions_boundary,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary",
            delete_user_permissions_boundary,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "PutRolePermissionsBoundary",
            "iam:PutRolePermissionsBoundary",
            put_role_permissions_boundary,
        )
        .resources(crate::resources::named_role),
        Operation::write(
            "DeleteRolePermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary",
            delete_role_permissions_boundary,
        )
        .resources(crate::resources::named_role),
    ]
}

#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutUserPermissionsBoundaryInput {
    user_name: String,
    permissions_boundary: String,
}

fn put_user_permissions_boundary(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutUserPermissionsBoundaryInput,
) -> Result<Empty, IamError> {
    let account = &env.caller.account_id;
    let mut user = records::user(tx, account, &input.user_name)?;
    require_boundary_policy(tx, account, &input.permissions_boundary)?;
    user.permissions_boundary = Some(input.permissions_boundary);
    records::put_user(tx, &user)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteUserPermissionsBoundaryInput {
    user_name: String,
}

/// Removing a boundary that is not set succeeds, as at AWS: the user ends without one either
/// way.
fn delete_user_permissions_boundary(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteUserPermissionsBoundaryInput,
) -> Result<Empty, IamError> {
    let mut user = records::user(tx, &env.caller.account_id, &input.user_name)?;
    if user.permissions_boundary.take().is_some() {
        records::put_user(tx, &user)?;
    }
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRolePermissionsBoundaryInput {
    role_name: String,
    permissions_boundary: String,
}

fn put_role_permissions_boundary(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutRolePermissionsBoundaryInput,
) -> Result<Empty, IamError> {
    let account = &env.caller.account_id;
    let mut role = records::role(tx, account, &input.role_name)?;
    require_boundary_policy(tx, account, &input.permissions_boundary)?;
    role.permissions_boundary = Some(input.permissions_boundary);
    records::put_role(tx, &role)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRolePermissionsBoundaryInput {
    role_name: String,
}

fn delete_role_permissions_boundary(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteRolePermissionsBoundaryInput,
) -> Result<Empty, IamError> {
    let mut role = records::role(tx, &env.caller.account_id, &input.role_name)?;
    if role.permissions_boundary.take().is_some() {
        records::put_role(tx, &role)?;
    }
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::tests::{arn_of, create, user};
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn put(t: &TestEnv, arn: &str) -> Result<Empty, IamError> {
        let input = PutUserPermissionsBoundaryInput {
            user_name: "bob".into(),
            permissions_boundary: arn.into(),
        };
        t.write(move |env, tx| put_user_permissions_boundary(env, tx, input))
    }

    fn boundary(t: &TestEnv) -> Option<String> {
        t.read(|_, tx| records::user(tx, ACCOUNT, "bob"))
            .unwrap()
            .permissions_boundary
    }

    #[test]
    fn boundaries_are_put_replaced_and_deleted() {
        let t = TestEnv::new();
        user(&t, "bob");
        let arn = create(&t, "bound", None).arn;
        put(&t, &arn).unwrap();
        assert_eq!(boundary(&t), Some(arn));
        put(&t, "arn:aws:iam::aws:policy/PowerUserAccess").unwrap();
        assert_eq!(
            boundary(&t).as_deref(),
            Some("arn:aws:iam::aws:policy/PowerUserAccess")
        );
        for _ in 0..2 {
            let input = DeleteUserPermissionsBoundaryInput {
                user_name: "bob".into(),
            };
            t.write(move |env, tx| delete_user_permissions_boundary(env, tx, input))
                .unwrap();
            assert_eq!(boundary(&t), None);
        }
    }

    #[test]
    fn a_boundary_must_be_an_existing_managed_policy_of_the_account() {
        let t = TestEnv::new();
        user(&t, "bob");
        let missing = arn_of("missing");
        assert!(matches!(put(&t, &missing), Err(IamError::NoSuchEntity(m))
            if m == format!("Scope ARN: {missing} does not exist or is not attachable.")));
        // Another account's policy, even if it existed, is not usable here.
        assert!(matches!(
            put(&t, "arn:aws:iam::999999999999:policy/bound"),
            Err(IamError::NoSuchEntity(_))
        ));
        assert_eq!(boundary(&t), None);
        let input = PutUserPermissionsBoundaryInput {
            user_name: "nobody".into(),
            permissions_boundary: "arn:aws:iam::aws:policy/PowerUserAccess".into(),
        };
        assert!(matches!(
            t.write(move |env, tx| put_user_permissions_boundary(env, tx, input)),
            Err(IamError::NoSuchEntity(m)) if m == "The user with name nobody cannot be found."
        ));
    }

    #[test]
    fn roles_take_and_lose_boundaries_too() {
        let t = TestEnv::new();
        let role = records::RoleRecord {
            account_id: ACCOUNT.into(),
            role_name: "svc".into(),
            role_id: "AROAEXAMPLE".into(),
            path: "/".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/svc"),
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
        t.write(move |_, tx| records::put_role(tx, &role)).unwrap();
        let role_boundary = |t: &TestEnv| {
            t.read(|_, tx| records::role(tx, ACCOUNT, "SVC"))
                .unwrap()
                .permissions_boundary
        };
        let input = PutRolePermissionsBoundaryInput {
            role_name: "svc".into(),
            permissions_boundary: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        };
        t.write(move |env, tx| put_role_permissions_boundary(env, tx, input))
            .unwrap();
        assert_eq!(
            role_boundary(&t).as_deref(),
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
        let input = PutRolePermissionsBoundaryInput {
            role_name: "svc".into(),
            permissions_boundary: "arn:aws:iam::aws:policy/NotARealPolicy".into(),
        };
        assert!(matches!(
            t.write(move |env, tx| put_role_permissions_boundary(env, tx, input)),
            Err(IamError::NoSuchEntity(_))
        ));
        let input = DeleteRolePermissionsBoundaryInput {
            role_name: "svc".into(),
        };
        t.write(move |env, tx| delete_role_permissions_boundary(env, tx, input))
            .unwrap();
        assert_eq!(role_boundary(&t), None);
    }
}
