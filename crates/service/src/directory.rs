//! What services ask of the accounts Rampart serves: the unique IDs of IAM users and roles
//! (which resource policies bind their principals to), and the organization an account is in.
//! IAM and Organizations keep these records; the server answers for them ([`Env::directory`]),
//! so no service crate reads another's records and none is wired to another by hand.
//!
//! [`Env::directory`]: crate::Env::directory

use rampart_store::{ReadTx, StoreError};

/// An IAM user or role ARN, as a policy's `Principal` names it, looked up now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalLookup {
    /// The user or role exists: its unique ID (`AIDA…`, `AROA…`).
    Found(String),
    /// The account is served and has no such user or role.
    NotFound,
    /// The account is not one Rampart serves: nobody can ever call as its principals.
    AccountNotServed,
}

/// What a service needs to know of the organization an account is in, as seen by one
/// service principal (trusted access and delegated administrators are per service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFacts {
    /// The organization's ID (`o-…`).
    pub organization_id: String,
    /// Its management account.
    pub management_account: String,
    /// Whether all features are enabled (not only consolidated billing).
    pub all_features: bool,
    /// Whether the service principal has trusted access.
    pub trusted_access: bool,
    /// The accounts registered as the service principal's delegated administrators.
    pub delegated_administrators: Vec<String>,
}

impl OrganizationFacts {
    /// Whether `account` may administer the service's features for the organization.
    pub fn administers(&self, account: &str) -> bool {
        self.management_account == account
            || self.delegated_administrators.iter().any(|a| a == account)
    }
}

/// The service control policies binding an account's principals, from the root down: one
/// level per organization node, each level's policies as (ID, document).
pub type ScpLevels = Vec<Vec<(String, String)>>;

/// The accounts Rampart serves, as services see them. Every answer defaults to "none" (no
/// account served, none in an organization), so a test double answers only what it tests.
pub trait Directory: Send + Sync {
    /// The user or role `arn` names (`arn:aws:iam::<account>:user/<path><name>` or `role/…`).
    fn principal(&self, _tx: &mut dyn ReadTx, _arn: &str) -> Result<PrincipalLookup, StoreError> {
        Ok(PrincipalLookup::AccountNotServed)
    }

    /// The current ARNs of those of `account`'s users and roles whose unique IDs are in
    /// `unique_ids` and that still exist (renamed or moved, they have new ARNs), as
    /// (unique ID, ARN).
    fn principal_arns(
        &self,
        _tx: &mut dyn ReadTx,
        _account: &str,
        _unique_ids: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(Vec::new())
    }

    /// The organization `account` is in, as `service_principal` (`iam.amazonaws.com`) sees
    /// it; `None` when the account is in none.
    fn organization(
        &self,
        _tx: &mut dyn ReadTx,
        _account: &str,
        _service_principal: &str,
    ) -> Result<Option<OrganizationFacts>, StoreError> {
        Ok(None)
    }

    /// The SCPs binding `account`'s principals; `None` when it is in no organization.
    fn service_control_policies(
        &self,
        _tx: &mut dyn ReadTx,
        _account: &str,
    ) -> Result<Option<ScpLevels>, StoreError> {
        Ok(None)
    }
}

/// For unit tests of a service that asks nothing of the directory: no account is served and
/// none is in an organization.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDirectory;

impl Directory for NoDirectory {}
