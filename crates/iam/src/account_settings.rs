//! Account-wide operations: aliases (`CreateAccountAlias`, `DeleteAccountAlias`,
//! `ListAccountAliases`), `GetAccountSummary`, `GetAccountAuthorizationDetails`,
//! `SetSecurityTokenServicePreferences`.

use std::collections::BTreeMap;

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::access_keys;
use crate::managed_policies;
use crate::mfa;
use crate::pagination::page_by_index;
use crate::policies::{self, encode_document};
use crate::records::{
    self, GROUPS, GroupRecord, POLICIES, PolicyRecord, ROLES, RoleLastUsed, RoleRecord, Tag, USERS,
    UserRecord,
};
use crate::tags::PermissionsBoundary;

/// Namespace of aliases, keyed by alias (aliases are unique across all accounts) → account ID.
pub const ALIASES: &str = "iam.account-alias";
/// Namespace of each account's alias, keyed by account ID → alias.
pub const ALIAS_OF_ACCOUNT: &str = "iam.account-alias-of";
/// Namespace of each account's global endpoint token version, keyed by account ID → 1 or 2.
const TOKEN_VERSION: &str = "iam.sts-global-endpoint-token-version";

/// IAM's quotas, as `GetAccountSummary` reports them (AWS's default values).
const QUOTAS: &[(&str, i64)] = &[
    ("UsersQuota", 5000),
    ("GroupsQuota", 300),
    ("RolesQuota", 1000),
    ("PoliciesQuota", 1500),
    ("InstanceProfilesQuota", 1000),
    ("ServerCertificatesQuota", 20),
    ("AccessKeysPerUserQuota", 2),
    ("SigningCertificatesPerUserQuota", 2),
    ("GroupsPerUserQuota", 10),
    ("AttachedPoliciesPerUserQuota", 10),
    ("AttachedPoliciesPerGroupQuota", 10),
    ("AttachedPoliciesPerRoleQuota", 10),
    ("UserPolicySizeQuota", 2048),
    ("GroupPolicySizeQuota", 5120),
    ("RolePolicySizeQuota", 10240),
    ("PolicySizeQuota", 6144),
    ("AssumeRolePolicySizeQuota", 2048),
    ("VersionsPerPolicyQuota", 5),
    ("PolicyVersionsInUseQuota", 10000),
];

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateAccountAlias",
            "iam:CreateAccountAlias",
            create_account_alias,
        ),
        Operation::write(
            "DeleteAccountAlias",
            "iam:DeleteAccountAlias",
            delete_account_alias,
        ),
        Operation::read(
            "ListAccountAliases",
            "iam:ListAccountAliases",
            list_account_aliases,
        ),
        Operation::read(
            "GetAccountSummary",
            "iam:GetAccountSummary",
            get_account_summary,
        ),
        Operation::read(
            "GetAccountAuthorizationDetails",
            "iam:GetAccountAuthorizationDetails",
            get_account_authorization_details,
        ),
        Operation::write(
            "SetSecurityTokenServicePreferences",
            "iam:SetSecurityTokenServicePreferences",
            set_security_token_service_preferences,
        ),
    ]
}

/// The alias of `account_id`, if it has one.
pub fn alias_of(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<Option<String>, IamError> {
    Ok(get_json(tx, ALIAS_OF_ACCOUNT, account_id)?)
}

#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasInput {
    account_alias: String,
}

/// An account has at most one alias: a new one replaces the old, as in AWS's console.
fn create_account_alias(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AliasInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let alias = input.account_alias;
    match get_json::<String>(tx, ALIASES, &alias)? {
        Some(owner) if owner == account => return Ok(Empty {}),
        Some(_) => {
            return Err(IamError::EntityAlreadyExists(format!(
                "The account alias {alias} already exists."
            )));
        }
        None => {}
    }
    if let Some(old) = alias_of(tx, &account)? {
        tx.delete(ALIASES, &old)?;
    }
    put_json(tx, ALIASES, &alias, &account)?;
    put_json(tx, ALIAS_OF_ACCOUNT, &account, &alias)?;
    Ok(Empty {})
}

fn delete_account_alias(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AliasInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    if alias_of(tx, &account)?.as_deref() != Some(input.account_alias.as_str()) {
        return Err(IamError::NoSuchEntity(format!(
            "The account alias {} cannot be found.",
            input.account_alias
        )));
    }
    tx.delete(ALIASES, &input.account_alias)?;
    tx.delete(ALIAS_OF_ACCOUNT, &account)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    #[serde(rename = "Marker")]
    _marker: Option<String>,
    #[serde(rename = "MaxItems")]
    _max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccountAliasesOutput {
    account_aliases: Vec<String>,
    is_truncated: bool,
}

fn list_account_aliases(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: ListInput,
) -> Result<ListAccountAliasesOutput, IamError> {
    // One alias at most: a single page always holds it.
    Ok(ListAccountAliasesOutput {
        account_aliases: alias_of(tx, &env.caller.account_id)?.into_iter().collect(),
        is_truncated: false,
    })
}

#[derive(Debug, Deserialize)]
struct NoInput {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetAccountSummaryOutput {
    summary_map: BTreeMap<String, i64>,
}

fn all<T: serde::de::DeserializeOwned>(
    tx: &mut dyn ReadTx,
    ns: &str,
    account: &str,
) -> Result<Vec<T>, IamError> {
    Ok(
        scan_json::<T>(tx, ns, &records::account_prefix(account), None, usize::MAX)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}

fn count(tx: &mut dyn ReadTx, ns: &str, account: &str) -> Result<i64, IamError> {
    let n = tx
        .scan(ns, &records::account_prefix(account), None, usize::MAX)?
        .len();
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

fn get_account_summary(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: NoInput,
) -> Result<GetAccountSummaryOutput, IamError> {
    let account = env.caller.account_id.clone();
    let mut map: BTreeMap<String, i64> =
        QUOTAS.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    let policies: Vec<PolicyRecord> = all(tx, POLICIES, &account)?;
    let versions: usize = policies.iter().map(|p| p.versions.len()).sum();
    let counts = [
        ("Users", count(tx, USERS, &account)?),
        ("Groups", count(tx, GROUPS, &account)?),
        ("Roles", count(tx, ROLES, &account)?),
        (
            "Policies",
            i64::try_from(policies.len()).unwrap_or(i64::MAX),
        ),
        (
            "PolicyVersionsInUse",
            i64::try_from(versions).unwrap_or(i64::MAX),
        ),
        (
            "InstanceProfiles",
            count(tx, crate::instance_profiles::NAMESPACE, &account)?,
        ),
        ("MFADevices", count(tx, mfa::VIRTUAL, &account)?),
        ("MFADevicesInUse", count(tx, mfa::BY_USER, &account)?),
        (
            "Providers",
            count(tx, crate::oidc_providers::OIDC_PROVIDERS, &account)?
                + count(tx, crate::saml_providers::SAML_PROVIDERS, &account)?,
        ),
        (
            "ServerCertificates",
            count(tx, crate::server_certificates::NAMESPACE, &account)?,
        ),
        // Rampart's root user has no MFA device and no signing certificates.
        ("AccountMFAEnabled", 0),
        ("AccountSigningCertificatesPresent", 0),
        (
            "AccountAccessKeysPresent",
            i64::from(!access_keys::of_root(tx, &account)?.is_empty()),
        ),
    ];
    for (k, v) in counts {
        map.insert(k.to_owned(), v);
    }
    // Version 1 unless the account chose otherwise, as at AWS.
    let version = get_json::<i64>(tx, TOKEN_VERSION, &account)?.unwrap_or(1);
    map.insert("GlobalEndpointTokenVersion".to_owned(), version);
    Ok(GetAccountSummaryOutput { summary_map: map })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenPreferencesInput {
    global_endpoint_token_version: String,
}

/// Records which session tokens STS's global endpoint issues for the account (`v1Token`
/// valid in the regions enabled by default, `v2Token` in all), as GetAccountSummary reports
/// it. Rampart's session tokens are valid in every region either way: the choice changes
/// nothing else here.
fn set_security_token_service_preferences(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TokenPreferencesInput,
) -> Result<Empty, IamError> {
    // The model admits only these two values.
    let version: i64 = if input.global_endpoint_token_version == "v2Token" {
        2
    } else {
        1
    };
    put_json(tx, TOKEN_VERSION, &env.caller.account_id, &version)?;
    Ok(Empty {})
}

// ---------------------------------------------------------------------------------------------
// GetAccountAuthorizationDetails.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthorizationDetailsInput {
    #[serde(default)]
    filter: Vec<String>,
    max_items: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyDetail {
    policy_name: String,
    policy_document: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachedPolicy {
    policy_name: String,
    policy_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserDetail {
    path: String,
    user_name: String,
    user_id: String,
    arn: String,
    create_date: String,
    user_policy_list: Vec<PolicyDetail>,
    group_list: Vec<String>,
    attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary: Option<PermissionsBoundary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDetail {
    path: String,
    group_name: String,
    group_id: String,
    arn: String,
    create_date: String,
    group_policy_list: Vec<PolicyDetail>,
    attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleDetail {
    path: String,
    role_name: String,
    role_id: String,
    arn: String,
    create_date: String,
    assume_role_policy_document: String,
    instance_profile_list: Vec<serde_json::Value>,
    role_policy_list: Vec<PolicyDetail>,
    attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary: Option<PermissionsBoundary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_last_used: Option<RoleLastUsed>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersion {
    document: String,
    version_id: String,
    is_default_version: bool,
    create_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManagedPolicyDetail {
    policy_name: String,
    policy_id: String,
    arn: String,
    path: String,
    default_version_id: String,
    attachment_count: i64,
    permissions_boundary_usage_count: i64,
    is_attachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    create_date: String,
    update_date: String,
    policy_version_list: Vec<PolicyVersion>,
}

/// One entry of the answer, in the order AWS lists them: users, groups, roles, policies.
#[derive(Debug)]
enum Detail {
    User(UserDetail),
    Group(GroupDetail),
    Role(RoleDetail),
    Policy(ManagedPolicyDetail),
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AuthorizationDetailsOutput {
    user_detail_list: Vec<UserDetail>,
    group_detail_list: Vec<GroupDetail>,
    role_detail_list: Vec<RoleDetail>,
    policies: Vec<ManagedPolicyDetail>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn inline(policies: &BTreeMap<String, String>) -> Vec<PolicyDetail> {
    policies
        .iter()
        .map(|(name, document)| PolicyDetail {
            policy_name: name.clone(),
            policy_document: encode_document(document),
        })
        .collect()
}

fn attached(arns: &[String]) -> Vec<AttachedPolicy> {
    arns.iter()
        .map(|arn| AttachedPolicy {
            policy_name: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
            policy_arn: arn.clone(),
        })
        .collect()
}

fn user_detail(u: UserRecord) -> UserDetail {
    UserDetail {
        user_policy_list: inline(&u.inline_policies),
        attached_managed_policies: attached(&u.attached_policies),
        permissions_boundary: u.permissions_boundary.map(PermissionsBoundary::policy),
        path: u.path,
        user_name: u.user_name,
        user_id: u.user_id,
        arn: u.arn,
        create_date: u.create_date,
        group_list: u.groups,
        tags: u.tags,
    }
}

fn group_detail(g: GroupRecord) -> GroupDetail {
    GroupDetail {
        group_policy_list: inline(&g.inline_policies),
        attached_managed_policies: attached(&g.attached_policies),
        path: g.path,
        group_name: g.group_name,
        group_id: g.group_id,
        arn: g.arn,
        create_date: g.create_date,
    }
}

fn role_detail(r: RoleRecord) -> RoleDetail {
    RoleDetail {
        role_policy_list: inline(&r.inline_policies),
        attached_managed_policies: attached(&r.attached_policies),
        permissions_boundary: r.permissions_boundary.map(PermissionsBoundary::policy),
        assume_role_policy_document: encode_document(&r.assume_role_policy_document),
        instance_profile_list: Vec::new(),
        path: r.path,
        role_name: r.role_name,
        role_id: r.role_id,
        arn: r.arn,
        create_date: r.create_date,
        tags: r.tags,
        role_last_used: r.role_last_used,
    }
}

fn get_account_authorization_details(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: AuthorizationDetailsInput,
) -> Result<AuthorizationDetailsOutput, IamError> {
    let account = env.caller.account_id.clone();
    let wants = |kind: &str| input.filter.is_empty() || input.filter.iter().any(|f| f == kind);
    let mut details = Vec::new();
    if wants("User") {
        for u in all::<UserRecord>(tx, USERS, &account)? {
            details.push(Detail::User(user_detail(u)));
        }
    }
    if wants("Group") {
        for g in all::<GroupRecord>(tx, GROUPS, &account)? {
            details.push(Detail::Group(group_detail(g)));
        }
    }
    if wants("Role") {
        for r in all::<RoleRecord>(tx, ROLES, &account)? {
            details.push(Detail::Role(role_detail(crate::roles::with_trust_shown(
                tx, r,
            )?)));
        }
    }
    let usage = policies::usage_by_arn(tx, &account)?;
    let use_of = |arn: &str| {
        usage
            .get(arn)
            .map(|u| (u.attachments, u.boundaries))
            .unwrap_or((0, 0))
    };
    if wants("LocalManagedPolicy") {
        for p in all::<PolicyRecord>(tx, POLICIES, &account)? {
            let (attachment_count, boundaries) = use_of(&p.arn);
            details.push(Detail::Policy(ManagedPolicyDetail {
                policy_version_list: p
                    .versions
                    .iter()
                    .map(|v| PolicyVersion {
                        document: encode_document(&v.document),
                        is_default_version: v.version_id == p.default_version_id,
                        version_id: v.version_id.clone(),
                        create_date: v.create_date.clone(),
                    })
                    .collect(),
                policy_name: p.policy_name,
                policy_id: p.policy_id,
                arn: p.arn,
                path: p.path,
                default_version_id: p.default_version_id,
                attachment_count,
                permissions_boundary_usage_count: boundaries,
                is_attachable: true,
                description: p.description,
                create_date: p.create_date,
                update_date: p.update_date,
            }));
        }
    }
    if wants("AWSManagedPolicy") {
        // AWS lists the AWS managed policies the account uses, not the whole catalogue.
        for p in managed_policies::ALL {
            let (attachment_count, boundaries) = use_of(p.arn);
            if attachment_count == 0 && boundaries == 0 {
                continue;
            }
            details.push(Detail::Policy(ManagedPolicyDetail {
                policy_name: p.name.to_owned(),
                policy_id: p.policy_id.to_owned(),
                arn: p.arn.to_owned(),
                path: p.path.to_owned(),
                default_version_id: p.default_version_id.to_owned(),
                attachment_count,
                permissions_boundary_usage_count: boundaries,
                is_attachable: true,
                description: Some(p.description.to_owned()),
                create_date: p.create_date.to_owned(),
                update_date: p.update_date.to_owned(),
                policy_version_list: vec![PolicyVersion {
                    document: encode_document(p.document),
                    version_id: p.default_version_id.to_owned(),
                    is_default_version: true,
                    create_date: p.update_date.to_owned(),
                }],
            }));
        }
    }
    // The marker is the index of the next entry: the answer is rebuilt on each call, in a
    // stable order, so an index continues where the previous page stopped.
    let page = page_by_index(details, input.marker.as_deref(), input.max_items)?;
    let mut out = AuthorizationDetailsOutput {
        is_truncated: page.is_truncated(),
        marker: page.next,
        ..AuthorizationDetailsOutput::default()
    };
    for detail in page.items {
        match detail {
            Detail::User(d) => out.user_detail_list.push(d),
            Detail::Group(d) => out.group_detail_list.push(d),
            Detail::Role(d) => out.role_detail_list.push(d),
            Detail::Policy(d) => out.policies.push(d),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn alias(t: &TestEnv, name: &str) -> Result<Empty, IamError> {
        let input = AliasInput {
            account_alias: name.into(),
        };
        t.write(move |env, tx| create_account_alias(env, tx, input))
    }

    fn aliases(t: &TestEnv) -> Vec<String> {
        t.read(|env, tx| {
            list_account_aliases(
                env,
                tx,
                ListInput {
                    _marker: None,
                    _max_items: None,
                },
            )
        })
        .unwrap()
        .account_aliases
    }

    fn user(t: &TestEnv, name: &str) {
        let name = name.to_owned();
        t.write(move |_, tx| {
            let mut inline_policies = BTreeMap::new();
            inline_policies.insert(
                "p".to_owned(),
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
            );
            records::put_user(
                tx,
                &UserRecord {
                    account_id: ACCOUNT.into(),
                    user_id: "AIDAEXAMPLEEXAMPLE123".into(),
                    path: "/".into(),
                    arn: records::arn(ACCOUNT, "user", "/", &name),
                    user_name: name,
                    create_date: "2026-11-24T12:00:00Z".into(),
                    password_last_used: None,
                    permissions_boundary: None,
                    tags: Vec::new(),
                    attached_policies: Vec::new(),
                    inline_policies,
                    groups: Vec::new(),
                },
            )
        })
        .unwrap();
    }

    #[test]
    fn one_alias_per_account_unique_across_accounts() {
        let mut t = TestEnv::new();
        alias(&t, "my-company").unwrap();
        alias(&t, "my-company").unwrap();
        assert_eq!(aliases(&t), ["my-company"]);
        // A new alias replaces the old one, which becomes free.
        alias(&t, "my-company-2").unwrap();
        assert_eq!(aliases(&t), ["my-company-2"]);
        t.caller = rampart_service::Caller::root("210987654321", "AKIAOTHER");
        assert!(matches!(
            alias(&t, "my-company-2"),
            Err(IamError::EntityAlreadyExists(m)) if m == "The account alias my-company-2 already exists."
        ));
        alias(&t, "my-company").unwrap();
        let delete = |name: &str| {
            let input = AliasInput {
                account_alias: name.into(),
            };
            t.write(move |env, tx| delete_account_alias(env, tx, input))
        };
        assert!(matches!(
            delete("my-company-2"),
            Err(IamError::NoSuchEntity(_))
        ));
        delete("my-company").unwrap();
        assert!(aliases(&t).is_empty());
    }

    #[test]
    fn the_summary_counts_and_carries_aws_quotas() {
        let t = TestEnv::new();
        user(&t, "alice");
        user(&t, "bob");
        let map = t
            .read(|env, tx| get_account_summary(env, tx, NoInput {}))
            .unwrap()
            .summary_map;
        assert_eq!(map.get("Users"), Some(&2));
        assert_eq!(map.get("UsersQuota"), Some(&5000));
        assert_eq!(map.get("GroupsQuota"), Some(&300));
        assert_eq!(map.get("RolesQuota"), Some(&1000));
        assert_eq!(map.get("PoliciesQuota"), Some(&1500));
        assert_eq!(map.get("AccessKeysPerUserQuota"), Some(&2));
        assert_eq!(map.get("AttachedPoliciesPerUserQuota"), Some(&10));
        assert_eq!(map.get("AccountMFAEnabled"), Some(&0));
        assert_eq!(map.get("AccountAccessKeysPresent"), Some(&0));
        assert_eq!(map.get("MFADevices"), Some(&0));
        assert_eq!(map.get("Providers"), Some(&0));
        assert_eq!(map.get("ServerCertificates"), Some(&0));
        assert_eq!(map.get("GlobalEndpointTokenVersion"), Some(&1));
        let set = |version: &str| {
            let input = TokenPreferencesInput {
                global_endpoint_token_version: version.to_owned(),
            };
            t.write(move |env, tx| set_security_token_service_preferences(env, tx, input))
                .unwrap();
            t.read(|env, tx| get_account_summary(env, tx, NoInput {}))
                .unwrap()
                .summary_map
                .get("GlobalEndpointTokenVersion")
                .copied()
        };
        assert_eq!(set("v2Token"), Some(2));
        assert_eq!(set("v1Token"), Some(1));
    }

    #[test]
    fn the_summary_counts_identity_providers_and_server_certificates() {
        let t = TestEnv::new();
        t.write(|_, tx| {
            let doc = serde_json::json!({});
            for (ns, key) in [
                (crate::oidc_providers::OIDC_PROVIDERS, "token.example.com"),
                (crate::saml_providers::SAML_PROVIDERS, "corp"),
                (crate::saml_providers::SAML_PROVIDERS, "partner"),
                (crate::server_certificates::NAMESPACE, "www"),
            ] {
                put_json(tx, ns, &format!("{ACCOUNT}/{key}"), &doc)?;
            }
            // Another account's provider is not this one's.
            put_json(
                tx,
                crate::oidc_providers::OIDC_PROVIDERS,
                "210987654321/token.example.com",
                &doc,
            )
        })
        .unwrap();
        let map = t
            .read(|env, tx| get_account_summary(env, tx, NoInput {}))
            .unwrap()
            .summary_map;
        assert_eq!(map.get("Providers"), Some(&3));
        assert_eq!(map.get("ServerCertificates"), Some(&1));
    }

    #[test]
    fn authorization_details_filter_and_page() {
        let t = TestEnv::new();
        for name in ["a", "b", "c"] {
            user(&t, name);
        }
        let details = |filter: Vec<String>, marker: Option<String>| {
            let input = AuthorizationDetailsInput {
                filter,
                max_items: Some(2),
                marker,
            };
            t.read(move |env, tx| get_account_authorization_details(env, tx, input))
                .unwrap()
        };
        let first = details(Vec::new(), None);
        assert_eq!(first.user_detail_list.len(), 2);
        assert!(first.is_truncated);
        assert_eq!(
            first.user_detail_list[0].user_policy_list[0].policy_document,
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
        );
        let second = details(Vec::new(), first.marker);
        assert_eq!(second.user_detail_list.len(), 1);
        assert!(!second.is_truncated);
        let roles_only = details(vec!["Role".into()], None);
        assert!(roles_only.user_detail_list.is_empty() && !roles_only.is_truncated);
    }
}
