//! Tests of `CreatePolicy`, `GetPolicy`, `DeletePolicy`, `ListPolicies`, the policy tags and
//! the shared document rules; helpers the other policy families' tests use.

use super::*;
use rampart_service::testing::{ACCOUNT, TestEnv};

pub(crate) const DOC: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}"#;

pub(crate) fn create(t: &TestEnv, name: &str, path: Option<&str>) -> PolicyView {
    let input = CreatePolicyInput {
        policy_name: name.into(),
        path: path.map(str::to_owned),
        policy_document: DOC.into(),
        description: Some("d".into()),
        tags: Vec::new(),
    };
    t.write(move |env, tx| create_policy(env, tx, input))
        .unwrap()
        .policy
}

pub(crate) fn arn_of(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

fn get(t: &TestEnv, arn: &str) -> Result<PolicyView, IamError> {
    let input = PolicyArnInput {
        policy_arn: arn.into(),
    };
    t.read(move |env, tx| get_policy(env, tx, input))
        .map(|o| o.policy)
}

fn delete(t: &TestEnv, arn: &str) -> Result<Empty, ManagedPolicyError> {
    let input = PolicyArnInput {
        policy_arn: arn.into(),
    };
    t.write(move |env, tx| delete_policy(env, tx, input))
}

fn list(t: &TestEnv, input: ListPoliciesInput) -> ListPoliciesOutput {
    t.read(move |env, tx| list_policies(env, tx, input))
        .unwrap()
}

fn list_input() -> ListPoliciesInput {
    ListPoliciesInput {
        scope: None,
        only_attached: false,
        path_prefix: None,
        policy_usage_filter: None,
        marker: None,
        max_items: None,
    }
}

pub(crate) fn user(t: &TestEnv, name: &str) {
    let record = UserRecord {
        account_id: ACCOUNT.into(),
        user_name: name.into(),
        user_id: "AIDAEXAMPLE".into(),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        create_date: "2026-11-24T12:00:00Z".into(),
        password_last_used: None,
        permissions_boundary: None,
        tags: Vec::new(),
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        groups: Vec::new(),
    };
    t.write(move |_, tx| records::put_user(tx, &record))
        .unwrap();
}

#[test]
fn created_policies_have_aws_arns_ids_and_a_first_version() {
    let t = TestEnv::new();
    let policy = create(&t, "ReadIam", Some("/team/"));
    assert_eq!(
        policy.arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/team/ReadIam")
    );
    assert!(policy.policy_id.starts_with("ANPA"));
    assert_eq!(policy.default_version_id, "v1");
    assert_eq!(policy.create_date, "2026-11-24T12:00:00Z");
    let got = get(&t, &policy.arn).unwrap();
    assert_eq!(got.policy_id, policy.policy_id);
    assert_eq!(got.description.as_deref(), Some("d"));
    // The same name under another path, or in another case, is still the same name.
    let input = CreatePolicyInput {
        policy_name: "readiam".into(),
        path: None,
        policy_document: DOC.into(),
        description: None,
        tags: Vec::new(),
    };
    let err = t
        .write(move |env, tx| create_policy(env, tx, input))
        .unwrap_err();
    assert!(matches!(err, IamError::EntityAlreadyExists(m)
        if m == "A policy called readiam already exists. Duplicate names are not allowed."));
    // The ARN must match the path too.
    assert!(
        matches!(get(&t, &arn_of("ReadIam")), Err(IamError::NoSuchEntity(m))
        if m == format!("Policy {} was not found.", arn_of("ReadIam")))
    );
}

#[test]
fn malformed_and_oversized_documents_are_refused() {
    let t = TestEnv::new();
    let create_with = |doc: String| {
        let input = CreatePolicyInput {
            policy_name: "p".into(),
            path: None,
            policy_document: doc,
            description: None,
            tags: Vec::new(),
        };
        t.write(move |env, tx| create_policy(env, tx, input))
    };
    assert!(matches!(create_with("{not json".into()),
        Err(IamError::MalformedPolicyDocument(m)) if m == "Syntax errors in policy."));
    let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    assert!(matches!(
        create_with(with_principal.into()),
        Err(IamError::MalformedPolicyDocument(_))
    ));
    // 6,144 characters without whitespace: the padding is in a Sid-less resource ARN.
    let big = |n: usize| {
        let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::"#;
        let tail = r#""}]}"#;
        format!("{base}{}{tail}", "a".repeat(n - base.len() - tail.len()))
    };
    assert!(matches!(create_with(big(6145)),
        Err(IamError::LimitExceeded(m)) if m == "Cannot exceed quota for PolicySize: 6144"));
    // Whitespace does not count.
    let spaced = big(6144).replace(',', " ,\n   ");
    assert!(create_with(spaced).is_ok());
}

#[test]
fn attached_policies_cannot_be_deleted_and_aws_policies_never() {
    let t = TestEnv::new();
    let policy = create(&t, "p", None);
    user(&t, "bob");
    let arn = policy.arn.clone();
    t.write(move |_, tx| {
        let mut bob = records::user(tx, ACCOUNT, "bob")?;
        bob.attached_policies.push(arn);
        records::put_user(tx, &bob)
    })
    .unwrap();
    assert_eq!(get(&t, &policy.arn).unwrap().attachment_count, 1);
    assert!(matches!(delete(&t, &policy.arn),
        Err(ManagedPolicyError::Iam(IamError::DeleteConflict(m)))
            if m == "Cannot delete a policy attached to entities."));
    t.write(|_, tx| {
        let mut bob = records::user(tx, ACCOUNT, "bob")?;
        bob.attached_policies.clear();
        bob.permissions_boundary = Some(arn_of("p"));
        records::put_user(tx, &bob)
    })
    .unwrap();
    let got = get(&t, &policy.arn).unwrap();
    assert_eq!(
        (got.attachment_count, got.permissions_boundary_usage_count),
        (0, 1)
    );
    assert!(matches!(
        delete(&t, &policy.arn),
        Err(ManagedPolicyError::Iam(IamError::DeleteConflict(_)))
    ));
    t.write(|_, tx| {
        let mut bob = records::user(tx, ACCOUNT, "bob")?;
        bob.permissions_boundary = None;
        records::put_user(tx, &bob)
    })
    .unwrap();
    delete(&t, &policy.arn).unwrap();
    assert!(matches!(
        get(&t, &policy.arn),
        Err(IamError::NoSuchEntity(_))
    ));
    assert!(
        matches!(delete(&t, "arn:aws:iam::aws:policy/AdministratorAccess"),
        Err(ManagedPolicyError::AccessDenied(m))
            if m == "Cannot delete policies outside your own account.")
    );
}

#[test]
fn list_policies_filters_by_scope_path_and_use_and_pages() {
    let t = TestEnv::new();
    create(&t, "a", None);
    create(&t, "b", Some("/team/"));
    create(&t, "c", None);
    user(&t, "bob");
    t.write(|_, tx| {
        let mut bob = records::user(tx, ACCOUNT, "bob")?;
        bob.attached_policies.push(arn_of("a"));
        bob.attached_policies
            .push("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
        bob.permissions_boundary = Some(arn_of("c"));
        records::put_user(tx, &bob)
    })
    .unwrap();
    let names = |out: &ListPoliciesOutput| -> Vec<String> {
        out.policies.iter().map(|p| p.policy_name.clone()).collect()
    };
    let local = list(
        &t,
        ListPoliciesInput {
            scope: Some("Local".into()),
            ..list_input()
        },
    );
    assert_eq!(names(&local), ["a", "c", "b"]);
    let aws = list(
        &t,
        ListPoliciesInput {
            scope: Some("AWS".into()),
            ..list_input()
        },
    );
    assert_eq!(aws.policies.len(), managed_policies::ALL.len());
    assert!(aws.policies.iter().all(|p| p.description.is_none()));
    let all = list(&t, list_input());
    assert_eq!(all.policies.len(), managed_policies::ALL.len() + 3);
    let team = list(
        &t,
        ListPoliciesInput {
            path_prefix: Some("/team/".into()),
            ..list_input()
        },
    );
    assert_eq!(names(&team), ["b"]);
    let job = list(
        &t,
        ListPoliciesInput {
            path_prefix: Some("/job-function/".into()),
            ..list_input()
        },
    );
    assert_eq!(names(&job), ["ViewOnlyAccess"]);
    let attached = list(
        &t,
        ListPoliciesInput {
            only_attached: true,
            ..list_input()
        },
    );
    assert_eq!(names(&attached), ["a", "ReadOnlyAccess"]);
    let bounds = list(
        &t,
        ListPoliciesInput {
            policy_usage_filter: Some("PermissionsBoundary".into()),
            ..list_input()
        },
    );
    assert_eq!(names(&bounds), ["c"]);
    assert_eq!(bounds.policies[0].permissions_boundary_usage_count, 1);
    // Pages of two through everything, in order, without repeats.
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = list(
            &t,
            ListPoliciesInput {
                marker: marker.take(),
                max_items: Some(2),
                ..list_input()
            },
        );
        assert!(page.policies.len() <= 2);
        seen.extend(names(&page));
        match page.marker {
            Some(m) => {
                assert!(page.is_truncated);
                marker = Some(m);
            }
            None => break,
        }
    }
    assert_eq!(seen, names(&all));
}

#[test]
fn policy_tags_round_trip_and_aws_policies_have_none() {
    let t = TestEnv::new();
    let policy = create(&t, "p", None);
    let input = TagPolicyInput {
        policy_arn: policy.arn.clone(),
        tags: vec![Tag {
            key: "team".into(),
            value: "sec".into(),
        }],
    };
    t.write(move |env, tx| tag_policy(env, tx, input)).unwrap();
    assert_eq!(get(&t, &policy.arn).unwrap().tags.len(), 1);
    let input = UntagPolicyInput {
        policy_arn: policy.arn.clone(),
        tag_keys: vec!["TEAM".into()],
    };
    t.write(move |env, tx| untag_policy(env, tx, input))
        .unwrap();
    assert!(get(&t, &policy.arn).unwrap().tags.is_empty());
    let input = TagPolicyInput {
        policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        tags: Vec::new(),
    };
    assert!(matches!(
        t.write(move |env, tx| tag_policy(env, tx, input)),
        Err(ManagedPolicyError::AccessDenied(_))
    ));
}

#[test]
fn aws_managed_policies_are_found_with_their_metadata() {
    let t = TestEnv::new();
    let view = get(&t, "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").unwrap();
    assert_eq!(view.path, "/job-function/");
    assert_eq!(view.default_version_id, "v45");
    assert!(view.is_attachable);
    assert!(view.description.is_some());
    assert!(matches!(
        get(&t, "arn:aws:iam::aws:policy/NoSuchPolicy"),
        Err(IamError::NoSuchEntity(_))
    ));
}

#[test]
fn documents_are_url_encoded_as_rfc_3986() {
    assert_eq!(
        encode_document(r#"{"A": "b c/*~"}"#),
        "%7B%22A%22%3A%20%22b%20c%2F%2A~%22%7D"
    );
    assert_eq!(document_size("{ \"a\" :\n 1 }"), 7);
}

#[test]
fn paths_come_from_policy_arns() {
    assert_eq!(
        path_of_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
        "/job-function/"
    );
    assert_eq!(path_of_arn("arn:aws:iam::123456789012:policy/p"), "/");
}

#[test]
fn policy_arns_split_into_account_and_name() {
    assert_eq!(
        parse_policy_arn("arn:aws:iam::123456789012:policy/team/a/ReadOnly"),
        Some(("123456789012", "ReadOnly"))
    );
    assert_eq!(
        parse_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess"),
        Some(("aws", "AdministratorAccess"))
    );
    assert_eq!(parse_policy_arn("arn:aws:iam::123456789012:user/bob"), None);
}
