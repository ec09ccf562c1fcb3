//! `AssumeRoot`: a short root session in a member account, for one privileged task
//! (centralized root access).
//!
//! The caller is an IAM principal of the organization's management account or of a delegated
//! administrator for IAM; the target is another member account; the task policy is one of
//! AWS's root-task policies, whose feature (`RootCredentialsManagement` for the IAM tasks,
//! `RootSessions` for the others) the organization has enabled in IAM. The session is the
//! target's root user: identity policies do not bind it, its task policy and the account's
//! SCPs do (the authorize step reads `Session::root_task_policy`).

use rampart_iam::managed_policies::{ROOT_TASK_ARN_PREFIX, root_task_policy};
use rampart_iam::root_access::{
    IAM_SERVICE_PRINCIPAL, ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS, enabled_features,
};
use rampart_service::{Caller, Env, Operation, Resource, Value};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::StsError;
use crate::credentials::{self, Credentials};
use crate::session::Session;

/// AWS's default and longest root session: 15 minutes.
const MAX_SECONDS: i64 = 900;

pub(crate) fn operation() -> Operation {
    Operation::read("AssumeRoot", "sts:AssumeRoot", assume_root)
        .recorded_as(crate::events::ISSUES_SESSION)
        .resources(|_, _, input| {
            let target = input
                .get("TargetPrincipal")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(vec![Resource::named(
                target_account(target).map_or_else(|| "*".to_owned(), |a| root_arn(&a)),
            )])
        })
        .condition_keys(|_, input| {
            input
                .get("TaskPolicyArn")
                .and_then(|p| p.get("arn"))
                .and_then(Value::as_str)
                .map(|arn| vec![("sts:TaskPolicyArn".to_owned(), vec![arn.to_owned()])])
                .unwrap_or_default()
        })
}

fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// The account `TargetPrincipal` names: an account ID or its root user's ARN.
fn target_account(text: &str) -> Option<String> {
    let account = text
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(text);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRootInput {
    target_principal: String,
    task_policy_arn: TaskPolicyArn,
    duration_seconds: Option<i64>,
}

/// `TaskPolicyArn` (a `PolicyDescriptorType`).
#[derive(Debug, Deserialize)]
pub struct TaskPolicyArn {
    arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRootOutput {
    credentials: Credentials,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<String>,
}

fn assume_root(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: AssumeRootInput,
) -> Result<AssumeRootOutput, StsError> {
    if env.caller.is_root() {
        return Err(StsError::AccessDenied(
            "Cannot call AssumeRoot with root user credentials.".to_owned(),
        ));
    }
    let Some(target) = target_account(&input.target_principal) else {
        return Err(StsError::Validation(format!(
            "TargetPrincipal '{}' is not an account ID or an account's root user ARN.",
            input.target_principal
        )));
    };
    let task = input.task_policy_arn.arn.unwrap_or_default();
    if root_task_policy(&task).is_none() {
        return Err(StsError::Validation(format!(
            "TaskPolicyArn '{task}' is not one of the root task policies ({ROOT_TASK_ARN_PREFIX}…)."
        )));
    }
    let feature = if task.starts_with(&format!("{ROOT_TASK_ARN_PREFIX}IAM")) {
        ROOT_CREDENTIALS_MANAGEMENT
    } else {
        ROOT_SESSIONS
    };
    let account = &env.caller.account_id;
    let denied = |why: String| StsError::AccessDenied(format!("AssumeRoot is not allowed: {why}"));
    let organization = |tx: &mut dyn ReadTx, account: &str| {
        env.directory
            .organization(tx, account, IAM_SERVICE_PRINCIPAL)
    };
    let facts = organization(tx, account)?
        .ok_or_else(|| denied(format!("account {account} is in no organization.")))?;
    if !facts.all_features || !facts.trusted_access || !facts.administers(account) {
        return Err(denied(format!(
            "account {account} is neither the management account nor a delegated administrator for IAM of an organization with trusted access for IAM."
        )));
    }
    let member = organization(tx, &target)?
        .is_some_and(|t| t.organization_id == facts.organization_id)
        && target != facts.management_account;
    if !member {
        return Err(denied(format!(
            "account {target} is not a member account of the organization {}.",
            facts.organization_id
        )));
    }
    if !enabled_features(tx, &facts.organization_id)?
        .iter()
        .any(|f| f == feature)
    {
        return Err(denied(format!(
            "{feature} is not enabled for the organization {} (EnableOrganizations{feature}).",
            facts.organization_id
        )));
    }
    let seconds = input.duration_seconds.unwrap_or(MAX_SECONDS);
    let source_identity = env.inherited.and_then(|i| i.source_identity.clone());
    let (access_key_id, secret_access_key) = credentials::new_key(env, &target);
    let issued_at = env.now.unix_timestamp();
    let caller = Caller::root(&target, &access_key_id);
    let session = Session {
        source_identity: source_identity.clone(),
        root_task_policy: Some(task),
        ..Session::new(caller, secret_access_key, issued_at, issued_at + seconds)
    };
    Ok(AssumeRootOutput {
        credentials: credentials::credentials(env, &session),
        source_identity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_an_account_id_or_its_root_arn() {
        assert_eq!(
            target_account("111122223333").as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            target_account("arn:aws:iam::111122223333:root").as_deref(),
            Some("111122223333")
        );
        for bad in [
            "11112222333",
            "arn:aws:iam::111122223333:user/bob",
            "abcdefghijkl",
        ] {
            assert_eq!(target_account(bad), None, "{bad}");
        }
    }
}
