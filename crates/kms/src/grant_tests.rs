//! What grants allow, decided as the authorize step decides: the targets KMS names for a
//! request, their key policy with the caller's grants folded in, evaluated by the policy
//! engine. A grantee's CreateGrant covers only child grants within its grant; RetireGrant
//! retires only the grant that allows it; constraints bind only operations that take an
//! encryption context.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use rampart_policy::{
    Context, EvaluationInput, EvaluationMode, Policy, PolicySet, Principal, Request,
};
use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{AuthorizationTarget, Caller, PrincipalKind, Value};
use serde_json::json;

use crate::authorization;
use crate::error::KmsError;
use crate::grant_policy::ChildGrant;
use crate::grants;
use crate::records::{GrantConstraints, GrantRecord};
use crate::tests::{create, w};

type Lookup = fn(
    &rampart_service::Env<'_>,
    &mut dyn rampart_store::ReadTx,
    &Value,
) -> Result<Vec<AuthorizationTarget>, rampart_service::AwsError>;

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn as_user(t: &mut TestEnv, name: &str) {
    t.caller = Caller {
        account_id: ACCOUNT.into(),
        arn: user(name),
        principal_id: format!("AIDA{}", name.to_uppercase()),
        kind: PrincipalKind::IamUser,
        user_name: Some(name.into()),
        access_key_id: "AKIAEXAMPLE".into(),
    };
}

fn as_root(t: &mut TestEnv) {
    t.act_as(ACCOUNT);
}

/// Whether the caller may make the request: every target KMS names must allow `action`,
/// with `identity` as the caller's identity policy (none: no identity policy).
fn allowed(
    t: &TestEnv,
    lookup: Lookup,
    action: &str,
    input: Value,
    identity: Option<&str>,
) -> bool {
    let caller = t.caller.clone();
    t.read_infallible(|env, tx| {
        let targets = lookup(env, tx, &input).unwrap();
        let request_keys = authorization::condition_keys(env, &input);
        targets.iter().all(|target| {
            let policy = target.resource_policy.as_ref().expect("a key policy");
            let resource = PolicySet::single("key policy", &Policy::parse(&policy.document).unwrap());
            let identity = match (caller.kind, identity) {
                (PrincipalKind::Root, _) => Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
                (_, identity) => identity,
            }
            .map(|doc| PolicySet::single("identity", &Policy::parse(doc).unwrap()))
            .unwrap_or_default();
            let mut context = Context::new();
            let resource_keys = &target.resources[0].condition_keys;
            for (key, values) in resource_keys
                .iter()
                .chain(&request_keys)
                .chain(&target.condition_keys)
            {
                context.insert_multi(key, values.iter().map(String::as_str));
            }
            let request = Request::new(
                Principal::parse(&caller.arn).unwrap(),
                target.action.unwrap_or(action),
                &target.resources[0].arn,
            )
            .with_resource_account(&policy.account_id)
            .with_context(context);
            let input = EvaluationInput {
                identity_policies: Some(&identity),
                resource_policy: Some(&resource),
                mode: EvaluationMode::ResourcePolicyMustAllow,
                ..EvaluationInput::default()
            };
            rampart_policy::evaluate(&request, &input).is_allowed()
        })
    })
}

/// A grant on `key` made by the account's root user; its ID.
fn grant(t: &mut TestEnv, key: &str, grant: Value) -> String {
    as_root(t);
    let mut input = json!({"KeyId": key});
    input
        .as_object_mut()
        .unwrap()
        .extend(grant.as_object().unwrap().clone());
    let out = w(t, grants::create_grant, input).unwrap();
    out["GrantId"].as_str().unwrap().to_owned()
}

fn may_create_grant(t: &TestEnv, key: &str, child: Value, identity: Option<&str>) -> bool {
    let mut input = json!({"KeyId": key, "GranteePrincipal": user("mallory")});
    input
        .as_object_mut()
        .unwrap()
        .extend(child.as_object().unwrap().clone());
    allowed(
        t,
        authorization::create_grant_targets,
        "kms:CreateGrant",
        input,
        identity,
    )
}

#[test]
fn a_grantee_cannot_grant_more_than_its_grant() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "Operations": ["Encrypt", "CreateGrant"]}),
    );
    as_user(&mut t, "alice");
    // The attack: a grant of Encrypt and CreateGrant used to grant Decrypt.
    for escalation in [
        json!(["Decrypt"]),
        json!(["Encrypt", "Decrypt"]),
        json!(["ReEncryptFrom"]),
    ] {
        assert!(
            !may_create_grant(&t, &key, json!({"Operations": escalation}), None),
            "{escalation}"
        );
    }
    // Within the grant: some or all of its operations.
    for within in [
        json!(["Encrypt"]),
        json!(["Encrypt", "CreateGrant"]),
        json!(["CreateGrant"]),
    ] {
        assert!(
            may_create_grant(&t, &key, json!({"Operations": within}), None),
            "{within}"
        );
    }
    // Someone the grant does not name gets nothing from it.
    as_user(&mut t, "bob");
    assert!(!may_create_grant(
        &t,
        &key,
        json!({"Operations": ["Encrypt"]}),
        None
    ));
    // A principal a policy allows CreateGrant is not narrowed by grants: the key policy
    // delegates to the account, whose IAM policy allows it.
    as_user(&mut t, "alice");
    let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*"}]}"#;
    assert!(may_create_grant(
        &t,
        &key,
        json!({"Operations": ["Decrypt"]}),
        Some(admin)
    ));
}

#[test]
fn a_child_grant_keeps_its_parents_constraints() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    grant(
        &mut t,
        &key,
        json!({
            "GranteePrincipal": user("alice"), "Operations": ["Decrypt", "CreateGrant"],
            "Constraints": {"EncryptionContextSubset": {"dept": "IT"}}
        }),
    );
    as_user(&mut t, "alice");
    let child = |constraints: Value| {
        let mut c = json!({"Operations": ["Decrypt"]});
        if !constraints.is_null() {
            c["Constraints"] = constraints;
        }
        may_create_grant(&t, &key, c, None)
    };
    // Looser: no constraint, or another pair instead of the parent's.
    assert!(!child(Value::Null));
    assert!(!child(json!({"EncryptionContextSubset": {"team": "x"}})));
    assert!(!child(json!({"EncryptionContextSubset": {"dept": "HR"}})));
    assert!(!child(json!({"EncryptionContextEquals": {"team": "x"}})));
    // As strict or stricter: the same pairs, more pairs, or Equals with them.
    assert!(child(json!({"EncryptionContextSubset": {"dept": "IT"}})));
    assert!(child(
        json!({"EncryptionContextSubset": {"dept": "IT", "team": "x"}})
    ));
    assert!(child(json!({"EncryptionContextEquals": {"Dept": "IT"}})));
}

fn parent(operations: &[&str], constraints: Option<Value>) -> GrantRecord {
    GrantRecord {
        grant_id: "g".into(),
        key_id: "k".into(),
        key_arn: "arn".into(),
        name: None,
        created: time::OffsetDateTime::UNIX_EPOCH,
        grantee_principal: user("alice"),
        retiring_principal: None,
        issuing_account: format!("arn:aws:iam::{ACCOUNT}:root"),
        operations: operations.iter().map(|o| (*o).to_owned()).collect(),
        constraints: constraints.map(|c| serde_json::from_value::<GrantConstraints>(c).unwrap()),
    }
}

fn child(operations: &[&str], constraints: Option<Value>) -> ChildGrant {
    let mut input = json!({"Operations": operations});
    if let Some(c) = constraints {
        input["Constraints"] = c;
    }
    ChildGrant::of_request(&input)
}

#[test]
fn equals_constraints_admit_only_the_same_pairs() {
    let equals = Some(json!({"EncryptionContextEquals": {"dept": "IT"}}));
    let exact = parent(&["Decrypt", "CreateGrant"], equals.clone());
    assert!(child(&["Decrypt"], equals).is_within(&exact));
    for looser in [
        None,
        Some(json!({"EncryptionContextSubset": {"dept": "IT"}})),
        Some(json!({"EncryptionContextEquals": {"dept": "IT", "team": "x"}})),
        Some(json!({"EncryptionContextEquals": {}})),
        Some(json!("not constraints")),
    ] {
        assert!(
            !child(&["Decrypt"], looser.clone()).is_within(&exact),
            "{looser:?}"
        );
    }
    // An empty Subset constrains nothing, so anything is as strict.
    let open = parent(&["Decrypt"], Some(json!({"EncryptionContextSubset": {}})));
    assert!(child(&["Decrypt"], None).is_within(&open));
    assert!(!child(&["Encrypt"], None).is_within(&open));
}

#[test]
fn constraints_bind_only_operations_with_an_encryption_context() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    grant(
        &mut t,
        &key,
        json!({
            "GranteePrincipal": user("alice"), "Operations": ["Encrypt", "DescribeKey"],
            "Constraints": {"EncryptionContextEquals": {"dept": "IT"}}
        }),
    );
    as_user(&mut t, "alice");
    let may =
        |action: &str, input: Value| allowed(&t, authorization::key_targets, action, input, None);
    assert!(may("kms:DescribeKey", json!({"KeyId": key})));
    assert!(!may("kms:Encrypt", json!({"KeyId": key})));
    assert!(!may(
        "kms:Encrypt",
        json!({"KeyId": key, "EncryptionContext": {"dept": "HR"}})
    ));
    assert!(!may(
        "kms:Encrypt",
        json!({"KeyId": key, "EncryptionContext": {"dept": "IT", "more": "x"}})
    ));
    assert!(may(
        "kms:Encrypt",
        json!({"KeyId": key, "EncryptionContext": {"dept": "IT"}})
    ));
    // Nothing the grant does not name.
    assert!(!may(
        "kms:Decrypt",
        json!({"KeyId": key, "EncryptionContext": {"dept": "IT"}})
    ));
}

fn may_retire(t: &TestEnv, key: &str, grant_id: &str, identity: Option<&str>) -> bool {
    allowed(
        t,
        authorization::retire_grant_targets,
        "kms:RetireGrant",
        json!({"KeyId": key, "GrantId": grant_id}),
        identity,
    )
}

#[test]
fn a_grant_is_retired_by_its_own_principals_and_accounts() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    let carols = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "RetiringPrincipal": user("carol"), "Operations": ["Decrypt"]}),
    );
    let daves = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("dave"), "Operations": ["Encrypt"]}),
    );
    let eves = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("eve"), "Operations": ["Encrypt", "RetireGrant"]}),
    );
    // The retiring principal of one grant retires that grant, not another.
    as_user(&mut t, "carol");
    assert!(may_retire(&t, &key, &carols, None));
    assert!(!may_retire(&t, &key, &daves, None));
    // A grantee retires its grant only when the grant allows RetireGrant, and only that one.
    as_user(&mut t, "dave");
    assert!(!may_retire(&t, &key, &daves, None));
    as_user(&mut t, "eve");
    assert!(may_retire(&t, &key, &eves, None));
    assert!(!may_retire(&t, &key, &carols, None));
    // The account (its root user, or an IAM principal its policies allow) retires any of its
    // grants; a grant that does not exist is left to the handler (NotFoundException).
    let retire = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:RetireGrant","Resource":"*"}]}"#;
    as_user(&mut t, "admin");
    assert!(!may_retire(&t, &key, &daves, None));
    assert!(may_retire(&t, &key, &daves, Some(retire)));
    as_root(&mut t);
    assert!(may_retire(&t, &key, &daves, None));
    assert!(may_retire(&t, &key, &"0".repeat(64), None));
}

#[test]
fn a_retiring_account_delegates_to_its_iam_policies() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}");
    let other = "999988887777";
    let id = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "Operations": ["Decrypt"],
               "RetiringPrincipal": format!("arn:aws:iam::{other}:root")}),
    );
    let others = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "Operations": ["Encrypt"]}),
    );
    t.caller = Caller {
        account_id: other.into(),
        arn: format!("arn:aws:iam::{other}:user/ops"),
        principal_id: "AIDAOPS".into(),
        kind: PrincipalKind::IamUser,
        user_name: Some("ops".into()),
        access_key_id: "AKIAOPS".into(),
    };
    let retire = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:RetireGrant","Resource":"*"}]}"#;
    // The retiring account's IAM policies decide for its principals.
    assert!(!may_retire(&t, &key_arn, &id, None));
    assert!(may_retire(&t, &key_arn, &id, Some(retire)));
    // Another grant on the key is not that account's to retire.
    assert!(!may_retire(&t, &key_arn, &others, Some(retire)));
}

#[test]
fn a_key_policy_can_deny_retiring_but_not_allow_it() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    let carols = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "RetiringPrincipal": user("carol"), "Operations": ["Decrypt"]}),
    );
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Frank", "Effect": "Allow", "Principal": {"AWS": user("frank")},
         "Action": "kms:RetireGrant", "Resource": "*"},
        {"Sid": "NotCarol", "Effect": "Deny", "Principal": {"AWS": user("carol")},
         "Action": "kms:RetireGrant", "Resource": "*"}
    ]});
    w(
        &t,
        crate::policy::put_key_policy,
        json!({"KeyId": key, "PolicyName": "default", "Policy": policy.to_string()}),
    )
    .unwrap();
    // AWS: "The kms:RetireGrant permission is not effective in a key policy."
    as_user(&mut t, "frank");
    assert!(!may_retire(&t, &key, &carols, None));
    // Its Deny statements still count.
    as_user(&mut t, "carol");
    assert!(!may_retire(&t, &key, &carols, None));
}

#[test]
fn a_grant_token_of_another_region_retires_nothing() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    let id = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("alice"), "Operations": ["Decrypt"]}),
    );
    let token = t
        .read_infallible(|env, tx| {
            let key = crate::resolve::find_key(tx, env, &key).unwrap();
            let grant: GrantRecord = rampart_store::get_json(
                tx,
                crate::records::GRANTS,
                &format!(
                    "{}{id}",
                    crate::records::grants_prefix(&key.account_id, &key.region, &key.key_id)
                ),
            )
            .unwrap()
            .unwrap();
            grants::issue_token(env, &grant, &key.account_id, "eu-west-1")
        })
        .unwrap();
    let e = w(&t, grants::retire_grant, json!({"GrantToken": token})).unwrap_err();
    assert!(matches!(e, KmsError::InvalidGrantToken(_)), "{e:?}");
    // The grant is still there, and retires by its ID.
    w(
        &t,
        grants::retire_grant,
        json!({"KeyId": key, "GrantId": id}),
    )
    .unwrap();
}

#[test]
fn retirable_grants_are_listed_for_principals_of_the_callers_account_only() {
    let t = TestEnv::new();
    let owner = |principal: &str| {
        t.read_infallible(|env, tx| {
            grants::retiring_principal_owner(env, tx, &json!({"RetiringPrincipal": principal}))
                .unwrap()
        })
    };
    // The caller's own principals: decided by its IAM policies alone.
    assert!(owner(&user("carol")).is_none());
    assert!(owner(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/s")).is_none());
    assert!(owner(ACCOUNT).is_none());
    // Another account's principal: a policy of that account that allows nothing.
    let foreign = owner("arn:aws:iam::999988887777:user/carol").unwrap();
    assert_eq!(foreign.account_id, "999988887777");
    assert!(foreign.must_allow && !foreign.document.contains("Allow"));
    // Text that names no account is refused alike, in the caller's account.
    let nameless = owner("carol").unwrap();
    assert_eq!(nameless.account_id, ACCOUNT);
    assert!(nameless.must_allow);
}

#[test]
fn a_grantee_never_revokes() {
    let mut t = TestEnv::new();
    let key = create(&t, json!({}));
    let id = grant(
        &mut t,
        &key,
        json!({"GranteePrincipal": user("eve"), "RetiringPrincipal": user("eve"),
               "Operations": ["Encrypt", "RetireGrant", "CreateGrant"]}),
    );
    as_user(&mut t, "eve");
    let input = json!({"KeyId": key, "GrantId": id});
    assert!(!allowed(
        &t,
        authorization::key_targets,
        "kms:RevokeGrant",
        input.clone(),
        None
    ));
    assert!(!allowed(
        &t,
        authorization::key_targets,
        "kms:ListGrants",
        input.clone(),
        None
    ));
    assert!(may_retire(&t, &key, &id, None));
}
