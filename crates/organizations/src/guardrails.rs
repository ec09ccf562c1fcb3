//! What an account's place in an organization means for authorization: the SCPs that bind
//! its principals, the RCPs that guard its resources, and the organization keys
//! (`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, …). The spine compiles and evaluates
//! them; this module only gathers them.

use rampart_store::{ReadTx, StoreError};

use crate::policies::{self, RCP, SCP};
use crate::records::{self, OrganizationRecord, Target};

/// A guardrail policy's document and the ID decisions report it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailPolicy {
    /// The policy's ID (`p-…`).
    pub id: String,
    /// The JSON document.
    pub content: String,
}

/// An account's membership of an organization, as authorization sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The organization's ID (`aws:PrincipalOrgID`, `aws:ResourceOrgID`).
    pub organization_id: String,
    /// Whether the account manages the organization (no SCP or RCP applies to it).
    pub management_account: bool,
    /// The path of the account's parent, `o-…/r-…/ou-…/` (`aws:PrincipalOrgPaths`,
    /// `aws:ResourceOrgPaths`).
    pub path: String,
    /// The SCPs that bind the account's principals: one list per level, from the root
    /// through each OU to the account. Empty when SCPs are not enabled, and for the
    /// management account.
    pub service_control_policies: Vec<Vec<GuardrailPolicy>>,
    /// The RCPs that guard the account's resources, from every level. Empty when RCPs are
    /// not enabled, and for the management account.
    pub resource_control_policies: Vec<GuardrailPolicy>,
}

/// The membership of `account_id`, or `None` when it is in no organization.
pub fn membership(tx: &mut dyn ReadTx, account_id: &str) -> Result<Option<Membership>, StoreError> {
    let Some(account) = records::account(tx, account_id)? else {
        return Ok(None);
    };
    let Some(org) = records::organization(tx, &account.organization_id)? else {
        return Ok(None);
    };
    let management_account = org.management_account_id == account.id;
    let lineage = records::lineage(tx, &org, &account.parent_id)?;
    let mut path = format!("{}/", org.id);
    for id in &lineage {
        path.push_str(id);
        path.push('/');
    }
    let mut membership = Membership {
        organization_id: org.id.clone(),
        management_account,
        path,
        service_control_policies: Vec::new(),
        resource_control_policies: Vec::new(),
    };
    if management_account || !(org.enabled(SCP) || org.enabled(RCP)) {
        return Ok(Some(membership));
    }
    // Every level from the root down, then the account itself.
    let mut levels = Vec::with_capacity(lineage.len() + 1);
    for id in &lineage {
        if let Some(target) = Target::load(tx, &org, id)? {
            levels.push(target);
        }
    }
    levels.push(Target::Account(account));
    for level in &levels {
        let (scps, rcps) = attached(tx, &org, level.attached(&org))?;
        if org.enabled(SCP) {
            membership.service_control_policies.push(scps);
        }
        if org.enabled(RCP) {
            membership.resource_control_policies.extend(rcps);
        }
    }
    Ok(Some(membership))
}

/// The SCPs and RCPs among the policies `ids` names.
fn attached(
    tx: &mut dyn ReadTx,
    org: &OrganizationRecord,
    ids: &[String],
) -> Result<(Vec<GuardrailPolicy>, Vec<GuardrailPolicy>), StoreError> {
    let (mut scps, mut rcps) = (Vec::new(), Vec::new());
    for id in ids {
        let (policy_type, content) = match policies::aws_managed(id) {
            Some(aws) => (aws.policy_type.to_owned(), aws.content.to_owned()),
            None => match records::policy(tx, &org.id, id)? {
                Some(p) => (p.policy_type, p.content),
                None => continue,
            },
        };
        let policy = GuardrailPolicy {
            id: id.clone(),
            content,
        };
        match policy_type.as_str() {
            SCP => scps.push(policy),
            RCP => rcps.push(policy),
            _ => {}
        }
    }
    Ok((scps, rcps))
}

/// The SCP levels binding the principals of `account_id`, as IAM's policy simulator takes
/// them: `None` when the account is in no organization; each level's policies as
/// (ID, document) pairs.
pub fn simulated_service_control_policies(
    tx: &mut dyn ReadTx,
    account_id: &str,
) -> Result<Option<rampart_service::ScpLevels>, StoreError> {
    Ok(membership(tx, account_id)?.map(|m| {
        m.service_control_policies
            .into_iter()
            .map(|level| level.into_iter().map(|p| (p.id, p.content)).collect())
            .collect()
    }))
}
