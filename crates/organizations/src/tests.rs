//! Handlers called directly on a real store: the organization's life, the tree, accounts,
//! policies and their attachments, and what authorization gathers from them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Constraint, InvalidInput};
use crate::guardrails;
use crate::{
    OrganizationsError, accounts, attachments, delegation, organization, policies, tags, units,
};
use rampart_service::testing::TestEnv;

/// The account that creates the tests' organization.
const MANAGEMENT: &str = "111122223333";

type WriteHandler<I, O> = fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<O, OrganizationsError>;
type ReadHandler<I, O> = fn(&Env<'_>, &mut dyn ReadTx, I) -> Result<O, OrganizationsError>;

fn write<I: DeserializeOwned + Send + 'static, O: Serialize + Send + 'static>(
    t: &TestEnv,
    handler: WriteHandler<I, O>,
    input: Value,
) -> Result<Value, OrganizationsError> {
    let input: I = serde_json::from_value(input).unwrap();
    t.write(move |env, tx| handler(env, tx, input))
        .map(|o| serde_json::to_value(o).unwrap())
}

fn read<I: DeserializeOwned, O: Serialize>(
    t: &TestEnv,
    handler: ReadHandler<I, O>,
    input: Value,
) -> Result<Value, OrganizationsError> {
    let input: I = serde_json::from_value(input).unwrap();
    t.read(|env, tx| handler(env, tx, input))
        .map(|o| serde_json::to_value(o).unwrap())
}

const DENY_CREATE_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}"#;
const ALLOW_READS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}"#;

/// An organization made by [`MANAGEMENT`]; returns its root ID.
fn organization(t: &TestEnv) -> String {
    write(
        t,
        organization::create_organization,
        json!({"FeatureSet": "ALL"}),
    )
    .unwrap();
    let roots = read(t, units::list_roots, json!({})).unwrap();
    roots["Roots"][0]["Id"].as_str().unwrap().to_owned()
}

fn create_account(t: &TestEnv, name: &str) -> String {
    let out = write(
        t,
        accounts::create_account,
        json!({"Email": format!("{name}@example.com"), "AccountName": name}),
    )
    .unwrap();
    assert_eq!(out["CreateAccountStatus"]["State"], "SUCCEEDED");
    out["CreateAccountStatus"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn create_unit(t: &TestEnv, parent: &str, name: &str) -> Result<String, OrganizationsError> {
    write(
        t,
        units::create_organizational_unit,
        json!({"ParentId": parent, "Name": name}),
    )
    .map(|o| o["OrganizationalUnit"]["Id"].as_str().unwrap().to_owned())
}

fn create_policy(t: &TestEnv, name: &str, policy_type: &str, content: &str) -> String {
    let out = write(
        t,
        policies::create_policy,
        json!({"Name": name, "Description": "", "Type": policy_type, "Content": content}),
    )
    .unwrap();
    out["Policy"]["PolicySummary"]["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn attach(t: &TestEnv, policy: &str, target: &str) -> Result<Value, OrganizationsError> {
    write(
        t,
        attachments::attach_policy,
        json!({"PolicyId": policy, "TargetId": target}),
    )
}

fn detach(t: &TestEnv, policy: &str, target: &str) -> Result<Value, OrganizationsError> {
    write(
        t,
        attachments::detach_policy,
        json!({"PolicyId": policy, "TargetId": target}),
    )
}

fn enable(t: &TestEnv, root: &str, policy_type: &str) -> Result<Value, OrganizationsError> {
    write(
        t,
        attachments::enable_policy_type,
        json!({"RootId": root, "PolicyType": policy_type}),
    )
}

fn policies_for(t: &TestEnv, target: &str, policy_type: &str) -> Vec<String> {
    let out = read(
        t,
        attachments::list_policies_for_target,
        json!({"TargetId": target, "Filter": policy_type}),
    )
    .unwrap();
    out["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Id"].as_str().unwrap().to_owned())
        .collect()
}

fn membership(t: &TestEnv, account: &str) -> Option<guardrails::Membership> {
    t.read_infallible(|_, tx| guardrails::membership(tx, account).unwrap())
}

#[test]
fn an_organization_has_aws_ids_and_only_its_management_account_manages_it() {
    let mut t = TestEnv::in_account(MANAGEMENT);
    let err = read(&t, organization::describe_organization, json!({})).unwrap_err();
    assert!(matches!(err, OrganizationsError::NotInUse));

    let out = write(&t, organization::create_organization, json!({})).unwrap();
    let org = &out["Organization"];
    let id = org["Id"].as_str().unwrap();
    assert!(id.starts_with("o-") && id.len() == 12, "{id}");
    assert_eq!(
        org["Arn"],
        format!("arn:aws:organizations::{MANAGEMENT}:organization/{id}")
    );
    assert_eq!(org["FeatureSet"], "ALL");
    assert_eq!(org["MasterAccountId"], MANAGEMENT);
    assert_eq!(
        org["MasterAccountArn"],
        format!("arn:aws:organizations::{MANAGEMENT}:account/{id}/{MANAGEMENT}")
    );
    let again = write(&t, organization::create_organization, json!({})).unwrap_err();
    assert!(matches!(again, OrganizationsError::AlreadyInOrganization));

    let roots = read(&t, units::list_roots, json!({})).unwrap();
    let root = &roots["Roots"][0];
    let root_id = root["Id"].as_str().unwrap();
    assert!(root_id.starts_with("r-") && root_id.len() == 6);
    assert_eq!(
        root["Arn"],
        format!("arn:aws:organizations::{MANAGEMENT}:root/{id}/{root_id}")
    );
    assert_eq!(root["PolicyTypes"], json!([]));

    let member = create_account(&t, "member");
    t.act_as(&member);
    // A member may describe its organization, and nothing more.
    let seen = read(&t, organization::describe_organization, json!({})).unwrap();
    assert_eq!(seen["Organization"]["Id"], id);
    let denied = read(&t, accounts::list_accounts, json!({})).unwrap_err();
    assert!(matches!(denied, OrganizationsError::AccessDenied));
    let denied = write(&t, organization::delete_organization, json!({})).unwrap_err();
    assert!(matches!(denied, OrganizationsError::AccessDenied));

    t.act_as(MANAGEMENT);
    let not_empty = write(&t, organization::delete_organization, json!({})).unwrap_err();
    assert!(matches!(
        not_empty,
        OrganizationsError::OrganizationNotEmpty
    ));
    write(
        &t,
        accounts::remove_account_from_organization,
        json!({"AccountId": member}),
    )
    .unwrap();
    write(&t, organization::delete_organization, json!({})).unwrap();
    let gone = read(&t, organization::describe_organization, json!({})).unwrap_err();
    assert!(matches!(gone, OrganizationsError::NotInUse));
    // The removed account stands alone and may found an organization of its own.
    t.act_as(&member);
    write(&t, organization::create_organization, json!({})).unwrap();
}

#[test]
fn create_account_makes_a_real_account_the_management_account_can_enter() {
    let t = TestEnv::in_account(MANAGEMENT);
    organization(&t);
    let out = write(
        &t,
        accounts::create_account,
        json!({"Email": "dev@example.com", "AccountName": "dev", "Tags": [{"Key": "team", "Value": "a"}]}),
    )
    .unwrap();
    let status = &out["CreateAccountStatus"];
    assert!(status["Id"].as_str().unwrap().starts_with("car-"));
    let account = status["AccountId"].as_str().unwrap().to_owned();
    let described = read(
        &t,
        accounts::describe_create_account_status,
        json!({"CreateAccountRequestId": status["Id"]}),
    )
    .unwrap();
    assert_eq!(described["CreateAccountStatus"], *status);

    t.read_infallible(|_, tx| {
        assert!(rampart_iam::account::get(tx, &account).unwrap().is_some());
        // As at AWS, the new root user has no access key.
        assert!(
            rampart_iam::access_keys::of_root(tx, &account)
                .unwrap()
                .is_empty()
        );
        let role =
            rampart_iam::records::role(tx, &account, "OrganizationAccountAccessRole").unwrap();
        assert!(
            role.assume_role_policy_document
                .contains(&format!("arn:aws:iam::{MANAGEMENT}:root"))
        );
        assert_eq!(
            role.attached_policies,
            ["arn:aws:iam::aws:policy/AdministratorAccess"]
        );
    });

    let described = read(
        &t,
        accounts::describe_account,
        json!({"AccountId": account}),
    )
    .unwrap();
    let a = &described["Account"];
    assert_eq!(a["Name"], "dev");
    assert_eq!(a["Email"], "dev@example.com");
    assert_eq!(a["Status"], "ACTIVE");
    assert_eq!(a["JoinedMethod"], "CREATED");
    let org_id = read(&t, organization::describe_organization, json!({})).unwrap()["Organization"]
        ["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        a["Arn"],
        format!("arn:aws:organizations::{MANAGEMENT}:account/{org_id}/{account}")
    );

    // An email names one account: the request fails, not the call.
    let dup = write(
        &t,
        accounts::create_account,
        json!({"Email": "DEV@example.com", "AccountName": "again"}),
    )
    .unwrap();
    assert_eq!(dup["CreateAccountStatus"]["State"], "FAILED");
    assert_eq!(
        dup["CreateAccountStatus"]["FailureReason"],
        "EMAIL_ALREADY_EXISTS"
    );
    let failed = read(
        &t,
        accounts::list_create_account_status,
        json!({"States": ["FAILED"]}),
    )
    .unwrap();
    assert_eq!(failed["CreateAccountStatuses"].as_array().unwrap().len(), 1);

    // Ten accounts in all, the management account included.
    for i in 0..8 {
        create_account(&t, &format!("a{i}"));
    }
    let over = write(
        &t,
        accounts::create_account,
        json!({"Email": "x@example.com", "AccountName": "x"}),
    )
    .unwrap_err();
    assert!(matches!(
        over,
        OrganizationsError::ConstraintViolation(Constraint::AccountNumberLimit)
    ));
    let page = read(&t, accounts::list_accounts, json!({"MaxResults": 4})).unwrap();
    assert_eq!(page["Accounts"].as_array().unwrap().len(), 4);
    let mut seen = 4;
    let mut token = page["NextToken"].as_str().map(str::to_owned);
    while let Some(next) = token {
        let page = read(
            &t,
            accounts::list_accounts,
            json!({"MaxResults": 4, "NextToken": next}),
        )
        .unwrap();
        seen += page["Accounts"].as_array().unwrap().len();
        token = page["NextToken"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 10);
}

#[test]
fn the_tree_holds_ous_five_deep_and_moves_accounts() {
    let t = TestEnv::in_account(MANAGEMENT);
    let root = organization(&t);
    let account = create_account(&t, "mover");
    let a = create_unit(&t, &root, "A").unwrap();
    assert!(a.starts_with(&format!("ou-{}-", &root[2..])));
    let dup = create_unit(&t, &root, "A").unwrap_err();
    assert!(matches!(
        dup,
        OrganizationsError::DuplicateOrganizationalUnit
    ));
    let mut parent = a.clone();
    for depth in 2..=5 {
        parent = create_unit(&t, &parent, &format!("level{depth}")).unwrap();
    }
    let too_deep = create_unit(&t, &parent, "level6").unwrap_err();
    assert!(matches!(
        too_deep,
        OrganizationsError::ConstraintViolation(Constraint::OuDepthLimit)
    ));
    let missing = create_unit(&t, "ou-zzzz-zzzzzzzz", "x").unwrap_err();
    assert!(matches!(missing, OrganizationsError::ParentNotFound));

    let described = read(
        &t,
        units::describe_organizational_unit,
        json!({"OrganizationalUnitId": a}),
    )
    .unwrap();
    let org_id = read(&t, organization::describe_organization, json!({})).unwrap()["Organization"]
        ["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        described["OrganizationalUnit"]["Path"],
        format!("{org_id}/{root}/{a}/")
    );

    write(
        &t,
        accounts::move_account,
        json!({"AccountId": account, "SourceParentId": root, "DestinationParentId": a}),
    )
    .unwrap();
    let again = write(
        &t,
        accounts::move_account,
        json!({"AccountId": account, "SourceParentId": root, "DestinationParentId": a}),
    )
    .unwrap_err();
    assert!(matches!(again, OrganizationsError::DuplicateAccount));
    let children = read(
        &t,
        units::list_children,
        json!({"ParentId": a, "ChildType": "ACCOUNT"}),
    )
    .unwrap();
    assert_eq!(
        children["Children"],
        json!([{"Id": account, "Type": "ACCOUNT"}])
    );
    let parents = read(&t, units::list_parents, json!({"ChildId": account})).unwrap();
    assert_eq!(
        parents["Parents"],
        json!([{"Id": a, "Type": "ORGANIZATIONAL_UNIT"}])
    );
    let parents = read(&t, units::list_parents, json!({"ChildId": a})).unwrap();
    assert_eq!(parents["Parents"], json!([{"Id": root, "Type": "ROOT"}]));
    let described = read(
        &t,
        accounts::describe_account,
        json!({"AccountId": account}),
    )
    .unwrap();
    assert_eq!(
        described["Account"]["Paths"],
        json!([format!("{org_id}/{root}/{a}/{account}/")])
    );
    assert_eq!(
        membership(&t, &account).unwrap().path,
        format!("{org_id}/{root}/{a}/")
    );

    let not_empty = write(
        &t,
        units::delete_organizational_unit,
        json!({"OrganizationalUnitId": a}),
    )
    .unwrap_err();
    assert!(matches!(
        not_empty,
        OrganizationsError::OrganizationalUnitNotEmpty
    ));
    let renamed = write(
        &t,
        units::update_organizational_unit,
        json!({"OrganizationalUnitId": parent, "Name": "deepest"}),
    )
    .unwrap();
    assert_eq!(renamed["OrganizationalUnit"]["Name"], "deepest");
    write(
        &t,
        units::delete_organizational_unit,
        json!({"OrganizationalUnitId": parent}),
    )
    .unwrap();
    let gone = read(
        &t,
        units::describe_organizational_unit,
        json!({"OrganizationalUnitId": parent}),
    )
    .unwrap_err();
    assert!(matches!(
        gone,
        OrganizationsError::OrganizationalUnitNotFound
    ));
}

#[test]
fn enabling_scps_attaches_full_aws_access_everywhere_and_keeps_one() {
    let t = TestEnv::in_account(MANAGEMENT);
    let root = organization(&t);
    let before = create_unit(&t, &root, "before").unwrap();
    let account = create_account(&t, "member");
    let deny = create_policy(&t, "deny-create-user", policies::SCP, DENY_CREATE_USER);
    let not_enabled = attach(&t, &deny, &account).unwrap_err();
    assert!(matches!(
        not_enabled,
        OrganizationsError::PolicyTypeNotEnabled
    ));

    let out = enable(&t, &root, policies::SCP).unwrap();
    assert_eq!(
        out["Root"]["PolicyTypes"],
        json!([{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}])
    );
    let again = enable(&t, &root, policies::SCP).unwrap_err();
    assert!(matches!(
        again,
        OrganizationsError::PolicyTypeAlreadyEnabled
    ));
    let after = create_unit(&t, &root, "after").unwrap();
    for target in [&root, &before, &after, &account, &MANAGEMENT.to_owned()] {
        assert_eq!(policies_for(&t, target, policies::SCP), ["p-FullAWSAccess"]);
    }

    let last = detach(&t, "p-FullAWSAccess", &account).unwrap_err();
    assert!(matches!(
        last,
        OrganizationsError::ConstraintViolation(Constraint::MinPolicyTypeAttachments)
    ));
    attach(&t, &deny, &account).unwrap();
    let twice = attach(&t, &deny, &account).unwrap_err();
    assert!(matches!(
        twice,
        OrganizationsError::DuplicatePolicyAttachment
    ));
    detach(&t, "p-FullAWSAccess", &account).unwrap();
    let not_attached = detach(&t, "p-FullAWSAccess", &account).unwrap_err();
    assert!(matches!(
        not_attached,
        OrganizationsError::PolicyNotAttached
    ));
    for i in 0..4 {
        let id = create_policy(&t, &format!("extra{i}"), policies::SCP, DENY_CREATE_USER);
        attach(&t, &id, &account).unwrap();
    }
    let sixth = create_policy(&t, "sixth", policies::SCP, DENY_CREATE_USER);
    let over = attach(&t, &sixth, &account).unwrap_err();
    assert!(matches!(
        over,
        OrganizationsError::ConstraintViolation(Constraint::MaxPolicyTypeAttachments)
    ));

    let targets = read(
        &t,
        attachments::list_targets_for_policy,
        json!({"PolicyId": deny}),
    )
    .unwrap();
    assert_eq!(targets["Targets"][0]["TargetId"], account);
    assert_eq!(targets["Targets"][0]["Type"], "ACCOUNT");
    let in_use = write(&t, policies::delete_policy, json!({"PolicyId": deny})).unwrap_err();
    assert!(matches!(in_use, OrganizationsError::PolicyInUse));

    // Disabling detaches every SCP; enabling again attaches FullAWSAccess anew.
    write(
        &t,
        attachments::disable_policy_type,
        json!({"RootId": root, "PolicyType": policies::SCP}),
    )
    .unwrap();
    assert!(policies_for(&t, &account, policies::SCP).is_empty());
    assert!(policies_for(&t, &root, policies::SCP).is_empty());
    write(&t, policies::delete_policy, json!({"PolicyId": deny})).unwrap();
    enable(&t, &root, policies::SCP).unwrap();
    assert_eq!(
        policies_for(&t, &account, policies::SCP),
        ["p-FullAWSAccess"]
    );
}

#[test]
fn policies_are_checked_and_aws_managed_ones_are_immutable() {
    let t = TestEnv::in_account(MANAGEMENT);
    organization(&t);
    let create = |content: &str, policy_type: &str| {
        write(
            &t,
            policies::create_policy,
            json!({"Name": "p", "Description": "d", "Type": policy_type, "Content": content}),
        )
    };
    let long = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*","Sid":"{}"}}]}}"#,
        "a".repeat(5100)
    );
    assert!(matches!(
        create(&long, policies::SCP).unwrap_err(),
        OrganizationsError::ConstraintViolation(Constraint::PolicyContentLimit)
    ));
    assert!(matches!(
        create("{", policies::SCP).unwrap_err(),
        OrganizationsError::MalformedPolicyDocument(_)
    ));
    // An SCP names no principal; an RCP must.
    let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    assert!(matches!(
        create(with_principal, policies::SCP).unwrap_err(),
        OrganizationsError::MalformedPolicyDocument(_)
    ));
    assert!(matches!(
        create(DENY_CREATE_USER, policies::RCP).unwrap_err(),
        OrganizationsError::MalformedPolicyDocument(_)
    ));
    let rcp = create(with_principal, policies::RCP).unwrap();
    let summary = &rcp["Policy"]["PolicySummary"];
    let id = summary["Id"].as_str().unwrap();
    assert!(id.starts_with("p-") && id.len() == 10);
    assert!(
        summary["Arn"]
            .as_str()
            .unwrap()
            .contains("/resource_control_policy/")
    );
    assert_eq!(summary["AwsManaged"], false);
    assert!(matches!(
        create(with_principal, policies::RCP).unwrap_err(),
        OrganizationsError::DuplicatePolicy
    ));
    assert!(matches!(
        create(DENY_CREATE_USER, "TAG_POLICY").unwrap_err(),
        OrganizationsError::NotImplemented(_)
    ));

    let updated = write(
        &t,
        policies::update_policy,
        json!({"PolicyId": id, "Description": "new"}),
    )
    .unwrap();
    assert_eq!(updated["Policy"]["PolicySummary"]["Description"], "new");
    let immutable = write(
        &t,
        policies::update_policy,
        json!({"PolicyId": "p-FullAWSAccess", "Name": "mine"}),
    )
    .unwrap_err();
    assert!(matches!(
        immutable,
        OrganizationsError::InvalidInput(InvalidInput::ImmutablePolicy)
    ));
    let full = read(
        &t,
        policies::describe_policy,
        json!({"PolicyId": "p-FullAWSAccess"}),
    )
    .unwrap();
    assert_eq!(full["Policy"]["PolicySummary"]["AwsManaged"], true);
    assert_eq!(
        full["Policy"]["PolicySummary"]["Arn"],
        "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
    );
    let listed = read(
        &t,
        policies::list_policies,
        json!({"Filter": "RESOURCE_CONTROL_POLICY"}),
    )
    .unwrap();
    let ids: Vec<&str> = listed["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"p-RCPFullAWSAccess") && ids.contains(&id));
    let missing = read(
        &t,
        policies::describe_policy,
        json!({"PolicyId": "p-00000000"}),
    )
    .unwrap_err();
    assert!(matches!(missing, OrganizationsError::PolicyNotFound));
}

#[test]
fn guardrails_gather_each_level_for_members_and_nothing_for_the_management_account() {
    let t = TestEnv::in_account(MANAGEMENT);
    let root = organization(&t);
    let unit = create_unit(&t, &root, "sandbox").unwrap();
    let account = create_account(&t, "member");
    write(
        &t,
        accounts::move_account,
        json!({"AccountId": account, "SourceParentId": root, "DestinationParentId": unit}),
    )
    .unwrap();
    // Before any policy type is enabled, members have a path and no guardrails.
    let m = membership(&t, &account).unwrap();
    assert!(!m.management_account);
    assert!(m.service_control_policies.is_empty());
    assert!(m.resource_control_policies.is_empty());
    assert!(membership(&t, "999999999999").is_none());

    enable(&t, &root, policies::SCP).unwrap();
    enable(&t, &root, policies::RCP).unwrap();
    let reads = create_policy(&t, "reads", policies::SCP, ALLOW_READS);
    attach(&t, &reads, &unit).unwrap();
    let m = membership(&t, &account).unwrap();
    let level_ids: Vec<Vec<&str>> = m
        .service_control_policies
        .iter()
        .map(|level| level.iter().map(|p| p.id.as_str()).collect())
        .collect();
    assert_eq!(
        level_ids,
        [
            vec!["p-FullAWSAccess"],
            vec!["p-FullAWSAccess", reads.as_str()],
            vec!["p-FullAWSAccess"]
        ]
    );
    assert_eq!(m.resource_control_policies.len(), 3);
    assert!(
        m.resource_control_policies
            .iter()
            .all(|p| p.id == "p-RCPFullAWSAccess")
    );
    let non_detachable = detach(&t, "p-RCPFullAWSAccess", &account).unwrap_err();
    assert!(matches!(
        non_detachable,
        OrganizationsError::InvalidInput(InvalidInput::NonDetachablePolicy)
    ));

    let management = membership(&t, MANAGEMENT).unwrap();
    assert!(management.management_account);
    assert!(management.service_control_policies.is_empty());
    let simulated = t.read_infallible(|_, tx| {
        guardrails::simulated_service_control_policies(tx, &account).unwrap()
    });
    assert_eq!(simulated.unwrap().len(), 3);
}

#[test]
fn accounts_close_once_and_the_management_account_neither_closes_nor_leaves() {
    let t = TestEnv::in_account(MANAGEMENT);
    organization(&t);
    let account = create_account(&t, "closing");
    write(&t, accounts::close_account, json!({"AccountId": account})).unwrap();
    let described = read(
        &t,
        accounts::describe_account,
        json!({"AccountId": account}),
    )
    .unwrap();
    assert_eq!(described["Account"]["State"], "SUSPENDED");
    let again = write(&t, accounts::close_account, json!({"AccountId": account})).unwrap_err();
    assert!(matches!(again, OrganizationsError::AccountAlreadyClosed));
    let management = write(
        &t,
        accounts::close_account,
        json!({"AccountId": MANAGEMENT}),
    )
    .unwrap_err();
    assert!(matches!(
        management,
        OrganizationsError::ConstraintViolation(Constraint::CannotCloseManagementAccount)
    ));
    let leave = write(
        &t,
        accounts::remove_account_from_organization,
        json!({"AccountId": MANAGEMENT}),
    )
    .unwrap_err();
    assert!(matches!(
        leave,
        OrganizationsError::MasterCannotLeaveOrganization
    ));
    let unknown = read(
        &t,
        accounts::describe_account,
        json!({"AccountId": "000011112222"}),
    )
    .unwrap_err();
    assert!(matches!(unknown, OrganizationsError::AccountNotFound));
}

#[test]
fn tags_on_accounts_ous_roots_and_policies() {
    let t = TestEnv::in_account(MANAGEMENT);
    let root = organization(&t);
    let unit = create_unit(&t, &root, "tagged").unwrap();
    let policy = create_policy(&t, "tagged", policies::SCP, DENY_CREATE_USER);
    for id in [&root, &unit, &policy, &MANAGEMENT.to_owned()] {
        write(
            &t,
            tags::tag_resource,
            json!({"ResourceId": id, "Tags": [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]}),
        )
        .unwrap();
        write(
            &t,
            tags::tag_resource,
            json!({"ResourceId": id, "Tags": [{"Key": "env", "Value": "prod"}]}),
        )
        .unwrap();
        write(
            &t,
            tags::untag_resource,
            json!({"ResourceId": id, "TagKeys": ["team"]}),
        )
        .unwrap();
        let listed = read(&t, tags::list_tags_for_resource, json!({"ResourceId": id})).unwrap();
        assert_eq!(
            listed["Tags"],
            json!([{"Key": "env", "Value": "prod"}]),
            "{id}"
        );
    }
    let system = write(
        &t,
        tags::tag_resource,
        json!({"ResourceId": unit, "Tags": [{"Key": "aws:x", "Value": "y"}]}),
    )
    .unwrap_err();
    assert!(matches!(
        system,
        OrganizationsError::InvalidInput(InvalidInput::SystemTag)
    ));
    let missing = read(
        &t,
        tags::list_tags_for_resource,
        json!({"ResourceId": "ou-zzzz-zzzzzzzz"}),
    )
    .unwrap_err();
    assert!(matches!(missing, OrganizationsError::TargetNotFound));
}

#[test]
fn tag_rules_and_the_single_page_of_tags() {
    let t = TestEnv::in_account(MANAGEMENT);
    let root = organization(&t);
    let unit = create_unit(&t, &root, "rules").unwrap();
    let tag = |tags: Value| {
        write(
            &t,
            tags::tag_resource,
            json!({"ResourceId": unit, "Tags": tags}),
        )
    };
    let numbered = |from: usize, to: usize| -> Value {
        (from..to)
            .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
            .collect()
    };
    assert!(matches!(
        tag(json!([{"Key": "env", "Value": "a"}, {"Key": "env", "Value": "b"}])).unwrap_err(),
        OrganizationsError::InvalidInput(InvalidInput::DuplicateTagKey)
    ));
    // Keys compare exactly: these are two tags.
    tag(json!([{"Key": "env", "Value": "a"}, {"Key": "Env", "Value": "b"}])).unwrap();
    assert!(matches!(
        tag(numbered(0, 49)).unwrap_err(),
        OrganizationsError::ConstraintViolation(Constraint::MaxTagLimit)
    ));
    tag(numbered(0, 48)).unwrap();
    // A new value for a key the resource has adds no tag.
    tag(json!([{"Key": "k0", "Value": "again"}])).unwrap();
    assert!(matches!(
        tag(numbered(48, 49)).unwrap_err(),
        OrganizationsError::ConstraintViolation(Constraint::MaxTagLimit)
    ));
    let untag = write(
        &t,
        tags::untag_resource,
        json!({"ResourceId": unit, "TagKeys": ["k0", "AWS:x"]}),
    )
    .unwrap_err();
    assert!(matches!(
        untag,
        OrganizationsError::InvalidInput(InvalidInput::SystemTag)
    ));
    let listed = read(
        &t,
        tags::list_tags_for_resource,
        json!({"ResourceId": unit}),
    )
    .unwrap();
    assert_eq!(listed["Tags"].as_array().unwrap().len(), 50);
    assert!(listed.get("NextToken").is_none());
    let token = read(
        &t,
        tags::list_tags_for_resource,
        json!({"ResourceId": unit, "NextToken": "x"}),
    )
    .unwrap_err();
    assert!(matches!(
        token,
        OrganizationsError::InvalidInput(InvalidInput::InvalidNextToken)
    ));
}

#[test]
fn delegated_administrators_need_trusted_access_and_may_read_the_organization() {
    let mut t = TestEnv::in_account(MANAGEMENT);
    organization(&t);
    let member = create_account(&t, "security");
    let other = create_account(&t, "workload");
    let register = |t: &TestEnv, account: &str, service: &str| {
        write(
            t,
            delegation::register_delegated_administrator,
            json!({"AccountId": account, "ServicePrincipal": service}),
        )
    };
    let guardduty = "guardduty.amazonaws.com";
    assert!(matches!(
        register(&t, &member, guardduty),
        Err(OrganizationsError::ConstraintViolation(
            Constraint::ServiceAccessNotEnabled
        ))
    ));
    for _ in 0..2 {
        // Enabling twice is one enabling.
        write(
            &t,
            delegation::enable_aws_service_access,
            json!({"ServicePrincipal": guardduty}),
        )
        .unwrap();
    }
    let enabled_services = |t: &TestEnv| {
        read(
            t,
            delegation::list_aws_service_access_for_organization,
            json!({}),
        )
        .unwrap()["EnabledServicePrincipals"]
            .clone()
    };
    assert_eq!(
        enabled_services(&t),
        json!([{"ServicePrincipal": guardduty, "DateEnabled": "2026-11-24T12:00:00Z"}])
    );
    assert!(matches!(
        register(&t, MANAGEMENT, guardduty),
        Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRegisterManagementAsDelegatedAdministrator
        ))
    ));
    assert!(matches!(
        register(&t, "999999999999", guardduty),
        Err(OrganizationsError::AccountNotFound)
    ));
    register(&t, &member, guardduty).unwrap();
    assert!(matches!(
        register(&t, &member, guardduty),
        Err(OrganizationsError::AccountAlreadyRegistered)
    ));
    let admins = read(&t, delegation::list_delegated_administrators, json!({})).unwrap();
    assert_eq!(
        admins["DelegatedAdministrators"].as_array().unwrap().len(),
        1
    );
    assert_eq!(admins["DelegatedAdministrators"][0]["Id"], member.as_str());
    assert_eq!(
        admins["DelegatedAdministrators"][0]["DelegationEnabledDate"],
        "2026-11-24T12:00:00Z"
    );
    let none = read(
        &t,
        delegation::list_delegated_administrators,
        json!({"ServicePrincipal": "securityhub.amazonaws.com"}),
    )
    .unwrap();
    assert_eq!(none["DelegatedAdministrators"], json!([]));
    assert!(matches!(
        read(
            &t,
            delegation::list_delegated_services_for_account,
            json!({"AccountId": other})
        ),
        Err(OrganizationsError::AccountNotRegistered)
    ));
    // A delegated administrator may leave only once deregistered.
    assert!(matches!(
        write(
            &t,
            accounts::remove_account_from_organization,
            json!({"AccountId": member})
        ),
        Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRemoveDelegatedAdministrator
        ))
    ));

    // The delegated administrator reads the organization; another member may not, and
    // neither may manage it.
    t.act_as(&member);
    let listed = read(&t, accounts::list_accounts, json!({})).unwrap();
    assert_eq!(listed["Accounts"].as_array().unwrap().len(), 3);
    let services = read(
        &t,
        delegation::list_delegated_services_for_account,
        json!({"AccountId": member}),
    )
    .unwrap();
    assert_eq!(
        services["DelegatedServices"][0]["ServicePrincipal"],
        guardduty
    );
    assert!(matches!(
        write(
            &t,
            delegation::enable_aws_service_access,
            json!({"ServicePrincipal": "config.amazonaws.com"})
        ),
        Err(OrganizationsError::AccessDenied)
    ));
    assert!(matches!(
        write(&t, accounts::leave_organization, json!({})),
        Err(OrganizationsError::ConstraintViolation(
            Constraint::CannotRemoveDelegatedAdministrator
        ))
    ));
    t.act_as(&other);
    assert!(matches!(
        read(&t, accounts::list_accounts, json!({})),
        Err(OrganizationsError::AccessDenied)
    ));

    t.act_as(MANAGEMENT);
    let deregister = |t: &TestEnv| {
        write(
            t,
            delegation::deregister_delegated_administrator,
            json!({"AccountId": member, "ServicePrincipal": guardduty}),
        )
    };
    deregister(&t).unwrap();
    assert!(matches!(
        deregister(&t),
        Err(OrganizationsError::AccountNotRegistered)
    ));
    t.act_as(&member);
    assert!(matches!(
        read(&t, accounts::list_accounts, json!({})),
        Err(OrganizationsError::AccessDenied)
    ));
    t.act_as(MANAGEMENT);
    write(
        &t,
        delegation::disable_aws_service_access,
        json!({"ServicePrincipal": guardduty}),
    )
    .unwrap();
    assert_eq!(enabled_services(&t), json!([]));
    assert!(matches!(
        write(&t, accounts::leave_organization, json!({})),
        Err(OrganizationsError::MasterCannotLeaveOrganization)
    ));
    // Deregistered, the member leaves by itself, and is then in no organization.
    t.act_as(&member);
    write(&t, accounts::leave_organization, json!({})).unwrap();
    assert!(matches!(
        write(&t, accounts::leave_organization, json!({})),
        Err(OrganizationsError::NotInUse)
    ));
    t.act_as(MANAGEMENT);
    let listed = read(&t, accounts::list_accounts, json!({})).unwrap();
    assert_eq!(listed["Accounts"].as_array().unwrap().len(), 2);
}
