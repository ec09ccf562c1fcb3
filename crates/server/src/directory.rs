//! The directory services ask about the accounts Rampart serves (`rampart_service::Directory`):
//! IAM answers for principals, AWS Organizations for organizations. The spine's authorize step
//! reads the same records, so both see one truth.

use rampart_service::{Directory, OrganizationFacts, PrincipalLookup, ScpLevels};
use rampart_store::{ReadTx, StoreError};

/// IAM's principals and Organizations' accounts.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ServedAccounts;

impl Directory for ServedAccounts {
    fn principal(&self, tx: &mut dyn ReadTx, arn: &str) -> Result<PrincipalLookup, StoreError> {
        rampart_iam::directory::principal(tx, arn)
    }

    fn principal_arns(
        &self,
        tx: &mut dyn ReadTx,
        account: &str,
        unique_ids: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        rampart_iam::directory::principal_arns(tx, account, unique_ids)
    }

    fn organization(
        &self,
        tx: &mut dyn ReadTx,
        account: &str,
        service_principal: &str,
    ) -> Result<Option<OrganizationFacts>, StoreError> {
        rampart_organizations::organization_facts(tx, account, service_principal)
    }

    fn service_control_policies(
        &self,
        tx: &mut dyn ReadTx,
        account: &str,
    ) -> Result<Option<ScpLevels>, StoreError> {
        rampart_organizations::guardrails::simulated_service_control_policies(tx, account)
    }
}
