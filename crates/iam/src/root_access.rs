//! Centralized root access for an organization's member accounts:
//! Enable/DisableOrganizationsRootCredentialsManagement, Enable/DisableOrganizationsRootSessions
//! and ListOrganizationsFeatures. STS's AssumeRoot reads what they enable
//! ([`enabled_features`]).
//!
//! The features belong to the organization; they are kept here, keyed by its ID. What IAM
//! needs to know of an organization it asks the directory (`Env::directory`): Organizations
//! keeps those records.

use rampart_service::{Env, Operation, OrganizationFacts};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;

/// Namespace of each organization's enabled features, keyed by organization ID.
const FEATURES: &str = "iam-organizations-features";

/// The service principal whose trusted access and delegated administrators the features
/// depend on.
pub const IAM_SERVICE_PRINCIPAL: &str = "iam.amazonaws.com";

/// Managing member accounts' root user credentials (AssumeRoot's IAM tasks).
pub const ROOT_CREDENTIALS_MANAGEMENT: &str = "RootCredentialsManagement";
/// Privileged root sessions in member accounts (AssumeRoot's S3 and SQS tasks).
pub const ROOT_SESSIONS: &str = "RootSessions";

#[derive(Debug, Default, Serialize, Deserialize)]
struct FeaturesRecord {
    /// In AWS's order (credentials management first).
    features: Vec<String>,
}

/// The features enabled in `organization_id`.
pub fn enabled_features(
    tx: &mut (impl ReadTx + ?Sized),
    organization_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(get_json::<FeaturesRecord>(tx, FEATURES, organization_id)?
        .unwrap_or_default()
        .features)
}

pub(crate) fn operations() -> Vec<Operation> {
    let change = |name: &'static str, action: &'static str, feature: &'static str, on: bool| {
        Operation::write(
            name,
            action,
            move |env: &Env<'_>, tx: &mut dyn WriteTx, _: Empty| set_feature(env, tx, feature, on),
        )
    };
    vec![
        change(
            "EnableOrganizationsRootCredentialsManagement",
            "iam:EnableOrganizationsRootCredentialsManagement",
            ROOT_CREDENTIALS_MANAGEMENT,
            true,
        ),
        change(
            "DisableOrganizationsRootCredentialsManagement",
            "iam:DisableOrganizationsRootCredentialsManagement",
            ROOT_CREDENTIALS_MANAGEMENT,
            false,
        ),
        change(
            "EnableOrganizationsRootSessions",
            "iam:EnableOrganizationsRootSessions",
            ROOT_SESSIONS,
            true,
        ),
        change(
            "DisableOrganizationsRootSessions",
            "iam:DisableOrganizationsRootSessions",
            ROOT_SESSIONS,
            false,
        ),
        Operation::read(
            "ListOrganizationsFeatures",
            "iam:ListOrganizationsFeatures",
            move |env: &Env<'_>, tx: &mut dyn ReadTx, _: Empty| {
                let facts = administered(env, tx)?;
                features_output(tx, facts.organization_id)
            },
        ),
    ]
}

/// These operations take no input.
#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

/// The output of every operation here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FeaturesOutput {
    organization_id: String,
    enabled_features: Vec<String>,
}

fn features_output(
    tx: &mut (impl ReadTx + ?Sized),
    organization_id: String,
) -> Result<FeaturesOutput, IamError> {
    Ok(FeaturesOutput {
        enabled_features: enabled_features(tx, &organization_id)?,
        organization_id,
    })
}

/// The caller's organization, once it is one whose IAM features the caller administers: an
/// organization with all features and IAM's trusted access, and the caller its management
/// account or a delegated administrator for IAM.
fn administered(env: &Env<'_>, tx: &mut dyn ReadTx) -> Result<OrganizationFacts, IamError> {
    let account = &env.caller.account_id;
    let Some(facts) = env
        .directory
        .organization(tx, account, IAM_SERVICE_PRINCIPAL)?
    else {
        return Err(IamError::OrganizationNotFound(format!(
            "Account {account} is not a member of an organization."
        )));
    };
    if !facts.all_features {
        return Err(IamError::OrganizationNotInAllFeaturesMode(format!(
            "The organization {} does not have all features enabled.",
            facts.organization_id
        )));
    }
    if !facts.trusted_access {
        return Err(IamError::ServiceAccessNotEnabled(format!(
            "Trusted access for {IAM_SERVICE_PRINCIPAL} is not enabled in the organization {}.",
            facts.organization_id
        )));
    }
    if !facts.administers(account) {
        return Err(IamError::AccountNotManagementOrDelegatedAdministrator(
            format!(
                "Account {account} is neither the management account nor a delegated administrator for {IAM_SERVICE_PRINCIPAL} of the organization {}.",
                facts.organization_id
            ),
        ));
    }
    Ok(facts)
}

/// Turns `feature` on or off. Only the management account may turn one on; a delegated
/// administrator may turn it off.
fn set_feature(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    feature: &str,
    on: bool,
) -> Result<FeaturesOutput, IamError> {
    let facts = administered(env, tx)?;
    if on && facts.management_account != env.caller.account_id {
        return Err(IamError::CallerIsNotManagementAccount(format!(
            "Only the management account {} can enable {feature}.",
            facts.management_account
        )));
    }
    let mut features = enabled_features(tx, &facts.organization_id)?;
    features.retain(|f| f != feature);
    if on {
        features.push(feature.to_owned());
    }
    // AWS lists credentials management before root sessions.
    features.sort_by_key(|f| f != ROOT_CREDENTIALS_MANAGEMENT);
    put_json(
        tx,
        FEATURES,
        &facts.organization_id,
        &FeaturesRecord { features },
    )?;
    features_output(tx, facts.organization_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use rampart_service::Directory;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    const DELEGATE: &str = "222233334444";
    const OUTSIDER: &str = "333344445555";
    const BILLING_ONLY: &str = "444455556666";

    /// ACCOUNT manages an organization with IAM's trusted access where DELEGATE administers
    /// IAM and OUTSIDER is a plain member; BILLING_ONLY's organization has consolidated
    /// billing only; any other account is in none.
    struct Organizations;

    impl Directory for Organizations {
        fn organization(
            &self,
            _: &mut dyn ReadTx,
            account: &str,
            service_principal: &str,
        ) -> Result<Option<OrganizationFacts>, StoreError> {
            assert_eq!(service_principal, IAM_SERVICE_PRINCIPAL);
            let facts = |id: &str, all_features| OrganizationFacts {
                organization_id: id.to_owned(),
                management_account: ACCOUNT.to_owned(),
                all_features,
                trusted_access: true,
                delegated_administrators: vec![DELEGATE.to_owned()],
            };
            Ok(match account {
                ACCOUNT | DELEGATE | OUTSIDER => Some(facts("o-aaaaaaaaaa", true)),
                BILLING_ONLY => Some(facts("o-bbbbbbbbbb", false)),
                _ => None,
            })
        }
    }

    fn env() -> TestEnv {
        let mut t = TestEnv::new();
        t.directory = std::sync::Arc::new(Organizations);
        t
    }

    fn set(t: &TestEnv, feature: &'static str, on: bool) -> Result<Vec<String>, IamError> {
        t.write(move |env, tx| set_feature(env, tx, feature, on))
            .map(|o| o.enabled_features)
    }

    fn code(e: IamError) -> String {
        rampart_service::AwsError::from(e).code.to_string()
    }

    #[test]
    fn the_management_account_enables_and_a_delegated_administrator_may_only_disable() {
        let mut t = env();
        assert_eq!(set(&t, ROOT_SESSIONS, true).unwrap(), [ROOT_SESSIONS]);
        assert_eq!(
            set(&t, ROOT_CREDENTIALS_MANAGEMENT, true).unwrap(),
            [ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS]
        );
        // Enabling twice changes nothing.
        assert_eq!(set(&t, ROOT_SESSIONS, true).unwrap().len(), 2);
        t.act_as(DELEGATE);
        let e = set(&t, ROOT_SESSIONS, true).unwrap_err();
        assert_eq!(code(e), "CallerIsNotManagementAccountException");
        assert_eq!(
            set(&t, ROOT_SESSIONS, false).unwrap(),
            [ROOT_CREDENTIALS_MANAGEMENT]
        );
        let enabled = t
            .read(|_, tx| enabled_features(tx, "o-aaaaaaaaaa"))
            .unwrap();
        assert_eq!(enabled, [ROOT_CREDENTIALS_MANAGEMENT]);
    }

    #[test]
    fn other_accounts_get_the_reason_they_may_not() {
        let mut t = env();
        for (account, expected) in [
            (
                OUTSIDER,
                "AccountNotManagementOrDelegatedAdministratorException",
            ),
            (BILLING_ONLY, "OrganizationNotInAllFeaturesModeException"),
            ("555566667777", "OrganizationNotFoundException"),
        ] {
            t.act_as(account);
            assert_eq!(code(set(&t, ROOT_SESSIONS, false).unwrap_err()), expected);
        }
    }
}
