//! The access advisor's reports, from records made as the audit step makes them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

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

/// Calls the IAM operation `name` as the account's root user.
fn iam(t: &TestEnv, name: &'static str, input: serde_json::Value) -> serde_json::Value {
    use rampart_service::{Handler, Service};
    t.write(move |env, tx| {
        let iam = crate::Iam::new();
        let out = match &iam.operation(name).unwrap().handler {
            Handler::Write(f) => f(env, tx, input),
            Handler::Read(f) => f(env, tx, input),
        };
        Ok::<_, StoreError>(out.unwrap_or_else(|e| panic!("{name}: {} {}", e.code, e.message)))
    })
    .unwrap()
}

const KMS_AND_IAM: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","kms:*"],"Resource":"*"}]}"#;

/// A user allowed IAM and KMS; its ARN.
fn user(t: &TestEnv, name: &str, path: &str) -> String {
    let made = iam(
        t,
        "CreateUser",
        serde_json::json!({"UserName": name, "Path": path}),
    );
    iam(
        t,
        "PutUserPolicy",
        serde_json::json!({"UserName": name, "PolicyName": "p", "PolicyDocument": KMS_AND_IAM}),
    );
    made["User"]["Arn"].as_str().unwrap().to_owned()
}

fn access(t: &TestEnv, arn: &str, service: &'static str) {
    let arn = arn.to_owned();
    t.write(move |env, tx| record_access(tx, ACCOUNT, &arn, service, "us-east-1", env.now))
        .unwrap();
}

/// When the report on `arn` says each of IAM and KMS was last reached.
fn last_accessed(t: &TestEnv, arn: &str) -> (Option<String>, Option<String>) {
    let input = GenerateInput {
        arn: arn.to_owned(),
        granularity: None,
    };
    let job = t.write(move |env, tx| generate(env, tx, input)).unwrap();
    let input = GetDetailsInput {
        job_id: job.job_id,
        max_items: None,
        marker: None,
    };
    let report = t.read(|env, tx| get_details(env, tx, input)).unwrap();
    let of = |namespace: &str| {
        report
            .services_last_accessed
            .iter()
            .find(|s| s.service_namespace == namespace)
            .unwrap()
            .last_authenticated
            .clone()
    };
    (of("iam"), of("kms"))
}

/// The access records kept for the account, by key.
fn records_kept(t: &TestEnv) -> Vec<String> {
    t.read(|_, tx| {
        scan_json::<LastAccess>(tx, LAST_ACCESSED, &format!("{ACCOUNT}/"), None, usize::MAX)
            .map(|found| found.into_iter().map(|(key, _)| key).collect())
    })
    .unwrap()
}

#[test]
fn a_user_is_not_credited_with_the_calls_of_users_under_its_name_as_a_path() {
    let t = TestEnv::new();
    let bob = user(&t, "bob", "/");
    // x's ARN is `…:user/bob/x`: its records' keys start with bob's prefix.
    let x = user(&t, "x", "/bob/");
    access(&t, &x, "kms");
    access(&t, &bob, "iam");
    let (iam_used, kms_used) = last_accessed(&t, &bob);
    assert!(iam_used.is_some());
    assert_eq!(kms_used, None, "x's KMS call reported as bob's");
    // x's own report has its call.
    assert_eq!(
        last_accessed(&t, &x),
        (None, Some("2026-11-24T12:00:00Z".into()))
    );
    // The per-entity view of bob's report agrees.
    let input = GenerateInput {
        arn: bob.clone(),
        granularity: None,
    };
    let job = t.write(move |env, tx| generate(env, tx, input)).unwrap();
    let input = GetDetailsWithEntitiesInput {
        job_id: job.job_id,
        service_namespace: "kms".into(),
        max_items: None,
        marker: None,
    };
    let details = t
        .read(move |env, tx| get_details_with_entities(env, tx, input))
        .unwrap();
    assert_eq!(details.entity_details_list.len(), 1);
    assert_eq!(details.entity_details_list[0].entity_info.arn, bob);
    assert_eq!(details.entity_details_list[0].last_authenticated, None);
}

#[test]
fn a_user_made_again_starts_with_no_history() {
    let t = TestEnv::new();
    let bob = user(&t, "bob", "/");
    access(&t, &bob, "kms");
    assert!(last_accessed(&t, &bob).1.is_some());
    iam(
        &t,
        "DeleteUserPolicy",
        serde_json::json!({"UserName": "bob", "PolicyName": "p"}),
    );
    iam(&t, "DeleteUser", serde_json::json!({"UserName": "bob"}));
    // Deleting bob deleted his records, in the same transaction.
    assert!(records_kept(&t).is_empty(), "{:?}", records_kept(&t));
    let again = user(&t, "bob", "/");
    assert_eq!(again, bob);
    assert_eq!(last_accessed(&t, &bob), (None, None));
    // The new bob's own calls count.
    access(&t, &bob, "iam");
    assert!(last_accessed(&t, &bob).0.is_some());
}

#[test]
fn a_renamed_user_keeps_its_history_and_a_new_user_of_its_old_name_has_none() {
    let t = TestEnv::new();
    let bob = user(&t, "bob", "/");
    access(&t, &bob, "kms");
    iam(
        &t,
        "UpdateUser",
        serde_json::json!({"UserName": "bob", "NewUserName": "carol", "NewPath": "/team/"}),
    );
    // The history follows the user to its new name and path, as AWS keeps it by entity.
    let carol = bob.replace("user/bob", "user/team/carol");
    assert!(last_accessed(&t, &carol).1.is_some());
    // Another user now holds bob's ARN; the records made by the first bob are not its.
    assert_eq!(user(&t, "bob", "/"), bob);
    assert_eq!(last_accessed(&t, &bob), (None, None));
}

#[test]
fn deleting_a_role_forgets_its_calls() {
    let t = TestEnv::new();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = |t: &TestEnv| {
        iam(
            t,
            "CreateRole",
            serde_json::json!({"RoleName": "worker", "AssumeRolePolicyDocument": trust}),
        )["Role"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let arn = role(&t);
    access(&t, &arn, "kms");
    assert_eq!(records_kept(&t).len(), 1);
    iam(&t, "DeleteRole", serde_json::json!({"RoleName": "worker"}));
    assert!(records_kept(&t).is_empty());
    // A service-linked role's deletion forgets them too.
    let linked = iam(
        &t,
        "CreateServiceLinkedRole",
        serde_json::json!({"AWSServiceName": "autoscaling.amazonaws.com"}),
    );
    let linked_arn = linked["Role"]["Arn"].as_str().unwrap().to_owned();
    access(&t, &linked_arn, "kms");
    assert_eq!(records_kept(&t).len(), 1);
    iam(
        &t,
        "DeleteServiceLinkedRole",
        serde_json::json!({"RoleName": linked["Role"]["RoleName"]}),
    );
    assert!(records_kept(&t).is_empty());
}

#[test]
fn deleting_one_user_keeps_the_records_of_users_under_its_name_as_a_path() {
    let t = TestEnv::new();
    let bob = user(&t, "bob", "/");
    let x = user(&t, "x", "/bob/");
    access(&t, &bob, "kms");
    access(&t, &x, "kms");
    iam(
        &t,
        "DeleteUserPolicy",
        serde_json::json!({"UserName": "bob", "PolicyName": "p"}),
    );
    iam(&t, "DeleteUser", serde_json::json!({"UserName": "bob"}));
    assert_eq!(records_kept(&t), [format!("{ACCOUNT}/{x}/kms")]);
    assert!(last_accessed(&t, &x).1.is_some());
}

#[test]
fn a_call_of_an_entity_that_is_gone_records_nothing() {
    let t = TestEnv::new();
    access(&t, &format!("arn:aws:iam::{ACCOUNT}:user/nobody"), "kms");
    assert!(records_kept(&t).is_empty());
}
