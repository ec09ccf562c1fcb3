//! Versions of managed policies: `CreatePolicyVersion`, `GetPolicyVersion`,
//! `ListPolicyVersions`, `DeletePolicyVersion`, `SetDefaultPolicyVersion`.
//!
//! A customer managed policy has at most [`MAX_VERSIONS`] versions, one of them the default
//! (the one authorization evaluates). Version IDs are never reused: `next_version` only grows.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use super::{
    Empty, ManagedPolicyError, check_managed_document, encode_document, require, require_own,
};
use crate::IamError;
use crate::pagination::page_sorted;
use crate::records::{self, PolicyVersionRecord};

/// IAM's quota of versions per managed policy.
pub(crate) const MAX_VERSIONS: usize = 5;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreatePolicyVersion",
            "iam:CreatePolicyVersion",
            create_policy_version,
        )
        .resources(crate::resources::named_policy),
        Operation::read(
            "GetPolicyVersion",
            "iam:GetPolicyVersion",
            get_policy_version,
        )
        .resources(crate::resources::named_policy),
        Operation::read(
            "ListPolicyVersions",
            "iam:ListPolicyVersions",
            list_policy_versions,
        )
        .resources(crate::resources::named_policy),
        Operation::write(
            "DeletePolicyVersion",
            "iam:DeletePolicyVersion",
            delete_policy_version,
        )
        .resources(crate::resources::named_policy),
        Operation::write(
            "SetDefaultPolicyVersion",
            "iam:SetDefaultPolicyVersion",
            set_default_policy_version,
        )
        .resources(crate::resources::named_policy),
    ]
}

/// A version as IAM's API shows it (the model's `PolicyVersion` shape).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersionView {
    /// URL-encoded; only GetPolicyVersion returns it (AWS omits it from CreatePolicyVersion and
    /// ListPolicyVersions).
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<String>,
    version_id: String,
    is_default_version: bool,
    create_date: String,
}

impl PolicyVersionView {
    fn new(version: &PolicyVersionRecord, default_version_id: &str, with_document: bool) -> Self {
        Self {
            document: with_document.then(|| encode_document(&version.document)),
            version_id: version.version_id.clone(),
            is_default_version: version.version_id == default_version_id,
            create_date: version.create_date.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersionOutput {
    policy_version: PolicyVersionView,
}

fn no_such_version(arn: &str, version_id: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "Policy {arn} version {version_id} does not exist or is not attachable."
    ))
}

/// When the newest version was made: AWS's `UpdateDate` of a policy with several versions.
fn newest(versions: &[PolicyVersionRecord]) -> Option<String> {
    versions.iter().map(|v| v.create_date.clone()).max()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePolicyVersionInput {
    policy_arn: String,
    policy_document: String,
    #[serde(default)]
    set_as_default: bool,
}

fn create_policy_version(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreatePolicyVersionInput,
) -> Result<PolicyVersionOutput, ManagedPolicyError> {
    let mut policy = require_own(
        tx,
        &env.caller.account_id,
        &input.policy_arn,
        "Cannot create versions for policies outside your own account.",
    )?;
    check_managed_document(&input.policy_document)?;
    if policy.versions.len() >= MAX_VERSIONS {
        return Err(IamError::LimitExceeded(format!(
            "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new \
             version, you must delete an existing version."
        ))
        .into());
    }
    let now = aws_timestamp(env.now);
    let version = PolicyVersionRecord {
        version_id: format!("v{}", policy.next_version),
        document: input.policy_document,
        create_date: now.clone(),
    };
    policy.next_version = policy.next_version.saturating_add(1);
    if input.set_as_default {
        policy.default_version_id.clone_from(&version.version_id);
    }
    // AWS: "When a policy has more than one version, [UpdateDate] contains the date and time
    // when the most recent policy version was created."
    policy.update_date = now;
    policy.versions.push(version.clone());
    records::put_policy(tx, &policy)?;
    Ok(PolicyVersionOutput {
        policy_version: PolicyVersionView::new(&version, &policy.default_version_id, false),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersionInput {
    policy_arn: String,
    version_id: String,
}

fn get_policy_version(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: PolicyVersionInput,
) -> Result<PolicyVersionOutput, IamError> {
    let policy = require(tx, &env.caller.account_id, &input.policy_arn)?;
    let versions = policy.versions();
    let version = versions
        .iter()
        .find(|v| v.version_id == input.version_id)
        .ok_or_else(|| no_such_version(&input.policy_arn, &input.version_id))?;
    Ok(PolicyVersionOutput {
        policy_version: PolicyVersionView::new(version, policy.default_version_id(), true),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPolicyVersionsInput {
    policy_arn: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPolicyVersionsOutput {
    versions: Vec<PolicyVersionView>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_policy_versions(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListPolicyVersionsInput,
) -> Result<ListPolicyVersionsOutput, IamError> {
    let policy = require(tx, &env.caller.account_id, &input.policy_arn)?;
    let default = policy.default_version_id().to_owned();
    // Newest first, as AWS lists them. The key sorts that way: the version number, inverted
    // and zero-padded.
    let mut items: Vec<(String, PolicyVersionView)> = policy
        .versions()
        .iter()
        .map(|v| {
            let number: u64 = v
                .version_id
                .trim_start_matches('v')
                .parse()
                .unwrap_or_default();
            (
                format!("{:020}", u64::MAX - number),
                PolicyVersionView::new(v, &default, false),
            )
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let page = page_sorted(items, input.marker.as_deref(), input.max_items)?;
    Ok(ListPolicyVersionsOutput {
        is_truncated: page.is_truncated(),
        versions: page.items,
        marker: page.next,
    })
}

fn delete_policy_version(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyVersionInput,
) -> Result<Empty, ManagedPolicyError> {
    let mut policy = require_own(
        tx,
        &env.caller.account_id,
        &input.policy_arn,
        "Cannot delete policy versions for policies outside your own account.",
    )?;
    if !policy
        .versions
        .iter()
        .any(|v| v.version_id == input.version_id)
    {
        return Err(no_such_version(&input.policy_arn, &input.version_id).into());
    }
    if policy.default_version_id == input.version_id {
        return Err(IamError::DeleteConflict(
            "Cannot delete the default version of a policy.".into(),
        )
        .into());
    }
    policy.versions.retain(|v| v.version_id != input.version_id);
    if let Some(date) = newest(&policy.versions) {
        policy.update_date = date;
    }
    records::put_policy(tx, &policy)?;
    Ok(Empty {})
}

fn set_default_policy_version(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PolicyVersionInput,
) -> Result<Empty, ManagedPolicyError> {
    let mut policy = require_own(
        tx,
        &env.caller.account_id,
        &input.policy_arn,
        "Cannot update policies outside your own account.",
    )?;
    if !policy
        .versions
        .iter()
        .any(|v| v.version_id == input.version_id)
    {
        return Err(no_such_version(&input.policy_arn, &input.version_id).into());
    }
    policy.default_version_id = input.version_id;
    records::put_policy(tx, &policy)?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::tests::{DOC, create};
    use rampart_service::testing::TestEnv;

    const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;

    fn new_version(
        t: &TestEnv,
        arn: &str,
        default: bool,
    ) -> Result<PolicyVersionView, ManagedPolicyError> {
        let input = CreatePolicyVersionInput {
            policy_arn: arn.into(),
            policy_document: DOC2.into(),
            set_as_default: default,
        };
        t.write(move |env, tx| create_policy_version(env, tx, input))
            .map(|o| o.policy_version)
    }

    fn version_input(arn: &str, id: &str) -> PolicyVersionInput {
        PolicyVersionInput {
            policy_arn: arn.into(),
            version_id: id.into(),
        }
    }

    fn get(t: &TestEnv, arn: &str, id: &str) -> Result<PolicyVersionView, IamError> {
        let input = version_input(arn, id);
        t.read(move |env, tx| get_policy_version(env, tx, input))
            .map(|o| o.policy_version)
    }

    fn list(t: &TestEnv, arn: &str) -> Vec<(String, bool)> {
        let input = ListPolicyVersionsInput {
            policy_arn: arn.into(),
            marker: None,
            max_items: None,
        };
        t.read(move |env, tx| list_policy_versions(env, tx, input))
            .unwrap()
            .versions
            .into_iter()
            .map(|v| (v.version_id, v.is_default_version))
            .collect()
    }

    #[test]
    fn at_most_five_versions_with_ids_never_reused() {
        let t = TestEnv::new();
        let arn = create(&t, "p", None).arn;
        for expected in ["v2", "v3", "v4", "v5"] {
            let version = new_version(&t, &arn, false).unwrap();
            assert_eq!(version.version_id, expected);
            assert!(!version.is_default_version);
            assert!(version.document.is_none());
        }
        assert!(matches!(new_version(&t, &arn, false),
            Err(ManagedPolicyError::Iam(IamError::LimitExceeded(m))) if m ==
                "A managed policy can have up to 5 versions. Before you create a new version, \
                 you must delete an existing version."));
        let input = version_input(&arn, "v3");
        t.write(move |env, tx| delete_policy_version(env, tx, input))
            .unwrap();
        assert_eq!(new_version(&t, &arn, true).unwrap().version_id, "v6");
        assert_eq!(
            list(&t, &arn),
            [
                ("v6".to_owned(), true),
                ("v5".to_owned(), false),
                ("v4".to_owned(), false),
                ("v2".to_owned(), false),
                ("v1".to_owned(), false),
            ]
        );
    }

    #[test]
    fn the_default_version_cannot_be_deleted_and_can_be_moved() {
        let t = TestEnv::new();
        let arn = create(&t, "p", None).arn;
        new_version(&t, &arn, false).unwrap();
        let input = version_input(&arn, "v1");
        assert!(matches!(
            t.write(move |env, tx| delete_policy_version(env, tx, input)),
            Err(ManagedPolicyError::Iam(IamError::DeleteConflict(m)))
                if m == "Cannot delete the default version of a policy."
        ));
        let input = version_input(&arn, "v2");
        t.write(move |env, tx| set_default_policy_version(env, tx, input))
            .unwrap();
        assert!(get(&t, &arn, "v2").unwrap().is_default_version);
        let default_doc = t
            .read(|_, tx| crate::policies::default_document(tx, &arn))
            .unwrap();
        assert_eq!(default_doc.as_deref(), Some(DOC2));
        let input = version_input(&arn, "v9");
        let arn2 = arn.clone();
        assert!(matches!(
            t.write(move |env, tx| set_default_policy_version(env, tx, input)),
            Err(ManagedPolicyError::Iam(IamError::NoSuchEntity(m)))
                if m == format!("Policy {arn2} version v9 does not exist or is not attachable.")
        ));
    }

    #[test]
    fn get_policy_version_returns_the_document_url_encoded() {
        let t = TestEnv::new();
        let arn = create(&t, "p", None).arn;
        let v1 = get(&t, &arn, "v1").unwrap();
        let encoded = v1.document.unwrap();
        assert!(encoded.starts_with("%7B%22Version%22"));
        let decoded = percent_encoding::percent_decode_str(&encoded)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, DOC);
        assert!(matches!(
            get(&t, &arn, "v2"),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn aws_managed_policies_have_one_version_and_cannot_change() {
        let t = TestEnv::new();
        let arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
        let v4 = get(&t, arn, "v4").unwrap();
        assert!(v4.is_default_version);
        assert_eq!(list(&t, arn), [("v4".to_owned(), true)]);
        assert!(matches!(new_version(&t, arn, true),
            Err(ManagedPolicyError::AccessDenied(m))
                if m == "Cannot create versions for policies outside your own account."));
        let input = version_input(arn, "v4");
        assert!(matches!(
            t.write(move |env, tx| set_default_policy_version(env, tx, input)),
            Err(ManagedPolicyError::AccessDenied(_))
        ));
    }
}
