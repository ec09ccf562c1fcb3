//! What the authorize step needs about an Organizations request: the ARNs of the roots, OUs,
//! accounts and policies it names (they carry the organization's ID, so naming them reads
//! the caller's organization), and `organizations:PolicyType`.

use rampart_service::{AuthorizationTarget, AwsError, Env, Resource};
use rampart_store::ReadTx;
use serde_json::Value;

use crate::ids::{self, IdKind};
use crate::policies::AnyPolicy;
use crate::records::{self, OrganizationRecord};

/// The input members that name an entity, in the order their ARNs are listed.
const ID_MEMBERS: &[&str] = &[
    "PolicyId",
    "AccountId",
    "OrganizationalUnitId",
    "ChildId",
    "ParentId",
    "SourceParentId",
    "DestinationParentId",
    "TargetId",
    "ResourceId",
    "RootId",
];

const POLICY_TYPE_KEY: &str = "organizations:PolicyType";

/// `organizations:PolicyType`, for the operations whose input names the type (CreatePolicy,
/// ListPolicies: they name no entity, so they declare it as their own condition keys).
pub(crate) fn policy_type_key(_: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    ["Type", "PolicyType", "Filter"]
        .iter()
        .find_map(|member| input.get(*member).and_then(Value::as_str))
        .map(|t| vec![(POLICY_TYPE_KEY.to_owned(), vec![t.to_owned()])])
        .unwrap_or_default()
}

/// The keys an Organizations request carries in its input: `organizations:PolicyType` and
/// `organizations:ServicePrincipal`.
pub(crate) fn request_keys(env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = policy_type_key(env, input);
    if let Some(principal) = input.get("ServicePrincipal").and_then(Value::as_str) {
        keys.push((
            "organizations:ServicePrincipal".to_owned(),
            vec![principal.to_owned()],
        ));
    }
    keys
}

/// What an Organizations request is authorized for: its action on the ARNs of the entities
/// it names, with the type of the policy it names. A caller in no organization names
/// nothing yet (`*`): its request fails in the handler with AWSOrganizationsNotInUseException.
pub(crate) fn authorization_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let policy = crate::resource_policy::for_reads(env, tx, input)?;
    targets(env, tx, input, policy)
}

/// As [`authorization_targets`], for the policy management a delegation policy may allow
/// members (UpdatePolicy, DeletePolicy, AttachPolicy, DetachPolicy).
pub(crate) fn policy_management_targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let policy = crate::resource_policy::for_policy_management(env, tx, input)?;
    targets(env, tx, input, policy)
}

fn targets(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
    resource_policy: Option<rampart_service::ResourcePolicy>,
) -> Result<Vec<AuthorizationTarget>, AwsError> {
    let mut target = AuthorizationTarget {
        action: None,
        resources: Vec::new(),
        resource_policy,
        condition_keys: Vec::new(),
        denial: None,
    };
    let org = match records::account(tx, &env.caller.account_id).and_then(|a| match a {
        Some(a) => records::organization(tx, &a.organization_id),
        None => Ok(None),
    }) {
        Ok(org) => org,
        Err(e) => return Err(crate::OrganizationsError::Store(e).into()),
    };
    let mut policy_type = None;
    if let Some(org) = org {
        for member in ID_MEMBERS {
            let Some(id) = input.get(*member).and_then(Value::as_str) else {
                continue;
            };
            let named_type = named(tx, &org, id, &mut target.resources)?;
            policy_type = policy_type.or(named_type);
        }
    }
    // The type the input names (EnablePolicyType, ListPoliciesForTarget), else the named
    // policy's (AttachPolicy, DescribePolicy).
    target.condition_keys = policy_type_key(env, input);
    if let Some(policy_type) = policy_type
        && target.condition_keys.is_empty()
    {
        target
            .condition_keys
            .push((POLICY_TYPE_KEY.to_owned(), vec![policy_type]));
    }
    if target.resources.is_empty() {
        target.resources.push(Resource::any());
    }
    Ok(vec![target])
}

/// Adds the entity `id`, with its tags, to `resources`; returns the type of a policy it names.
fn named(
    tx: &mut dyn ReadTx,
    org: &OrganizationRecord,
    id: &str,
    resources: &mut Vec<Resource>,
) -> Result<Option<String>, AwsError> {
    let management = &org.management_account_id;
    let arn = match ids::kind_of(id) {
        Some(IdKind::Root) => ids::root_arn(management, &org.id, id),
        Some(IdKind::Unit) => ids::unit_arn(management, &org.id, id),
        Some(IdKind::Account) => ids::account_arn(management, &org.id, id),
        Some(IdKind::Policy) => {
            // A policy's ARN holds its type: an unknown policy has none to name, and its
            // request ends in PolicyNotFoundException.
            let Some(policy) = AnyPolicy::load(tx, org, id).map_err(AwsError::from)? else {
                return Ok(None);
            };
            let tags = crate::tags::current(tx, org, id)?;
            resources.push(Resource::named(policy.arn()).with_tags(tags));
            return Ok(Some(policy.policy_type().to_owned()));
        }
        None => return Ok(None),
    };
    let tags = crate::tags::current(tx, org, id)?;
    resources.push(Resource::named(arn).with_tags(tags));
    Ok(None)
}
