//! The policy simulator: `SimulatePrincipalPolicy`, `SimulateCustomPolicy`,
//! `GetContextKeysForPrincipalPolicy`, `GetContextKeysForCustomPolicy`. The same engine that
//! authorizes every live request decides here, so a simulation equals the live decision for
//! the same request and context.

use std::collections::BTreeMap;

use rampart_policy::{
    Context, Decision, DecisionKind, EvaluationInput, Policy, PolicyKind, PolicySet, PolicyType,
    Principal, Request,
};
use rampart_service::{AwsError, Env, Operation, Resource, ResourcePolicy, Value};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::authorization::{self, NamedDocument, PrincipalPolicies};

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::read(
            "SimulatePrincipalPolicy",
            "iam:SimulatePrincipalPolicy",
            simulate_principal_policy,
        )
        .resources(policy_source_resource)
        .resource_policy(policy_source_owner)
        .partial("statement positions (StartPosition/EndPosition) are not reported"),
        Operation::read(
            "SimulateCustomPolicy",
            "iam:SimulateCustomPolicy",
            simulate_custom_policy,
        )
        .partial("statement positions (StartPosition/EndPosition) are not reported"),
        Operation::read(
            "GetContextKeysForPrincipalPolicy",
            "iam:GetContextKeysForPrincipalPolicy",
            context_keys_for_principal_policy,
        )
        .resources(policy_source_resource)
        .resource_policy(policy_source_owner),
        Operation::read(
            "GetContextKeysForCustomPolicy",
            "iam:GetContextKeysForCustomPolicy",
            context_keys_for_custom_policy,
        ),
    ]
}

/// The user, group or role the simulation reads the policies of.
fn policy_source_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![
        match input.get("PolicySourceArn").and_then(|v| v.as_str()) {
            Some(arn) => crate::resources::entity_by_arn(env, tx, arn)?,
            None => Resource::any(),
        },
    ])
}

/// The account that owns the IAM entity or customer managed policy `arn`, when it is not
/// the caller's. `None` for the caller's own, for AWS managed policies (every account's), and
/// for what is not an IAM ARN (the handler answers InvalidInput).
pub(crate) fn other_account(env: &Env<'_>, arn: &str) -> Option<String> {
    let (account, resource) = arn.strip_prefix("arn:aws:iam::")?.split_once(':')?;
    let shared = account == AWS_MANAGED_OWNER && resource.starts_with("policy/");
    (account != env.caller.account_id && !shared).then(|| account.to_owned())
}

/// The account part of AWS managed policies' ARNs (`arn:aws:iam::aws:policy/…`).
const AWS_MANAGED_OWNER: &str = "aws";

/// A policy that allows nothing.
const ALLOWS_NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

/// How a request that names another account's IAM entity (user, group, role, policy) is
/// authorized: against a resource-based policy of that account that allows nothing. IAM's
/// entities have no resource-based policies, so no account reads another's through IAM's
/// API: the authorize step answers AccessDenied, root callers included, with the same text
/// whether the entity exists or not, and without reading the other account's records.
pub(crate) fn other_account_policy(env: &Env<'_>, arn: &str) -> Option<ResourcePolicy> {
    other_account(env, arn).map(|account_id| ResourcePolicy {
        document: ALLOWS_NOTHING.to_owned(),
        account_id,
        must_allow: true,
        description: "resource-based policy",
        principal_ids: rampart_service::PrincipalIds::default(),
    })
}

/// The resource policy of the entity `PolicySourceArn` names: see [`other_account_policy`].
fn policy_source_owner(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let arn = input
        .get("PolicySourceArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(other_account_policy(env, arn))
}

/// One `ContextEntry`: a key, its values and their type.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextEntry {
    context_key_name: Option<String>,
    #[serde(default)]
    context_key_values: Vec<String>,
}

/// What both simulations take besides their policies.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SimulationRequest {
    action_names: Vec<String>,
    #[serde(default)]
    resource_arns: Vec<String>,
    resource_policy: Option<String>,
    resource_owner: Option<String>,
    caller_arn: Option<String>,
    #[serde(default)]
    context_entries: Vec<ContextEntry>,
    max_items: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SimulatePrincipalPolicyInput {
    policy_source_arn: String,
    #[serde(default)]
    policy_input_list: Vec<String>,
    #[serde(default)]
    permissions_boundary_policy_input_list: Vec<String>,
    #[serde(flatten)]
    request: SimulationRequest,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SimulateCustomPolicyInput {
    policy_input_list: Vec<String>,
    #[serde(default)]
    permissions_boundary_policy_input_list: Vec<String>,
    #[serde(flatten)]
    request: SimulationRequest,
}

/// A matched statement, as the simulator reports it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MatchedStatement {
    source_policy_id: String,
    source_policy_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundaryDecisionDetail {
    allowed_by_permissions_boundary: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationsDecisionDetail {
    allowed_by_organizations: bool,
}

/// One action on one resource, decided.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EvaluationResult {
    eval_action_name: String,
    eval_resource_name: String,
    eval_decision: &'static str,
    matched_statements: Vec<MatchedStatement>,
    missing_context_values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organizations_decision_detail: Option<OrganizationsDecisionDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary_decision_detail: Option<PermissionsBoundaryDecisionDetail>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SimulatePolicyOutput {
    evaluation_results: Vec<EvaluationResult>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextKeysForPrincipalPolicyInput {
    policy_source_arn: String,
    #[serde(default)]
    policy_input_list: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextKeysForCustomPolicyInput {
    policy_input_list: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextKeysOutput {
    context_key_names: Vec<String>,
}

/// A policy ready for simulation: parsed, with where it came from.
struct SimulatedPolicy {
    id: String,
    source: &'static str,
    policy: Policy,
}

fn parse_all(
    named: impl IntoIterator<Item = (String, &'static str, String)>,
    kind: PolicyKind,
) -> Result<Vec<SimulatedPolicy>, IamError> {
    named
        .into_iter()
        .map(|(id, source, document)| {
            Policy::parse_as(&document, kind)
                .map(|policy| SimulatedPolicy { id, source, policy })
                .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
        })
        .collect()
}

fn stored(documents: Vec<NamedDocument>) -> impl Iterator<Item = (String, &'static str, String)> {
    documents
        .into_iter()
        .map(|d| (d.id, d.source.as_str(), d.document))
}

/// Policies passed in the request: AWS reports them as `PolicyInputList.N`, type `none`.
fn given(list: Vec<String>, name: &str) -> impl Iterator<Item = (String, &'static str, String)> {
    list.into_iter()
        .enumerate()
        .map(move |(i, doc)| (format!("{name}.{}", i + 1), "none", doc))
}

/// Everything a simulation evaluates, besides the actions and resources.
struct Simulation {
    principal: Principal,
    account_id: String,
    identity: Vec<SimulatedPolicy>,
    boundary: Vec<SimulatedPolicy>,
    resource_policy: Option<SimulatedPolicy>,
    resource_owner: Option<String>,
    context: Context,
    provided_keys: Vec<String>,
    /// The SCP levels binding the principal's account; `None` outside any organization.
    service_control_policies: Option<Vec<PolicySet>>,
}

fn context_of(entries: &[ContextEntry]) -> (Context, Vec<String>) {
    let mut context = Context::new();
    let mut keys = Vec::new();
    for entry in entries {
        if let Some(name) = &entry.context_key_name {
            context.insert_multi(name, entry.context_key_values.iter().map(String::as_str));
            keys.push(name.to_ascii_lowercase());
        }
    }
    (context, keys)
}

fn set_of(policies: &[SimulatedPolicy]) -> PolicySet {
    let mut set = PolicySet::new();
    for p in policies {
        set.add(&p.id, &p.policy);
    }
    set
}

impl Simulation {
    fn run(
        &self,
        actions: &[String],
        resources: &[String],
        max_items: Option<i64>,
        marker: Option<&str>,
    ) -> Result<SimulatePolicyOutput, IamError> {
        let identity = set_of(&self.identity);
        let boundary = (!self.boundary.is_empty()).then(|| set_of(&self.boundary));
        let resource_policy = self
            .resource_policy
            .as_ref()
            .map(|p| PolicySet::single(&p.id, &p.policy));
        let scp_levels: Vec<&PolicySet> = self.service_control_policies.iter().flatten().collect();
        let input = EvaluationInput {
            identity_policies: Some(&identity),
            permissions_boundary: boundary.as_ref(),
            resource_policy: resource_policy.as_ref(),
            service_control_policies: &scp_levels,
            ..EvaluationInput::default()
        };
        let resources: Vec<String> = if resources.is_empty() {
            vec!["*".to_owned()]
        } else {
            resources.to_vec()
        };
        let mut results = Vec::new();
        for action in actions {
            for resource in &resources {
                let account = self.resource_owner.as_deref().unwrap_or(&self.account_id);
                let request = Request::new(self.principal.clone(), action, resource)
                    .with_resource_account(account)
                    .with_context(self.context.clone());
                let decision = rampart_policy::evaluate(&request, &input);
                results.push(self.result(action, resource, &decision, boundary.is_some()));
            }
        }
        paginate(results, max_items, marker)
    }

    fn result(
        &self,
        action: &str,
        resource: &str,
        decision: &Decision,
        has_boundary: bool,
    ) -> EvaluationResult {
        let eval_decision = match decision.kind {
            DecisionKind::Allow => "allowed",
            DecisionKind::ExplicitDeny => "explicitDeny",
            DecisionKind::ImplicitDeny => "implicitDeny",
        };
        let all = self
            .identity
            .iter()
            .chain(&self.boundary)
            .chain(self.resource_policy.as_ref());
        let sources: BTreeMap<&str, &'static str> =
            all.map(|p| (p.id.as_str(), p.source)).collect();
        let matched_statements = decision
            .matched_statements
            .iter()
            .filter(|m| {
                !matches!(
                    m.policy_type,
                    PolicyType::PermissionsBoundary | PolicyType::ServiceControlPolicy
                )
            })
            .map(|m| MatchedStatement {
                source_policy_id: m.policy_id.to_string(),
                source_policy_type: sources
                    .get(&*m.policy_id)
                    .copied()
                    .unwrap_or("none")
                    .to_owned(),
            })
            .collect();
        let boundary_blocks = decision.decided_by == Some(PolicyType::PermissionsBoundary);
        let organizations_block = decision.kind != DecisionKind::Allow
            && decision.decided_by == Some(PolicyType::ServiceControlPolicy);
        EvaluationResult {
            eval_action_name: action.to_owned(),
            eval_resource_name: resource.to_owned(),
            eval_decision,
            matched_statements,
            missing_context_values: self.missing_keys(),
            // AWS reports it only for principals of accounts in an organization.
            organizations_decision_detail: self.service_control_policies.as_ref().map(|_| {
                OrganizationsDecisionDetail {
                    allowed_by_organizations: !organizations_block,
                }
            }),
            permissions_boundary_decision_detail: has_boundary.then_some(
                PermissionsBoundaryDecisionDetail {
                    allowed_by_permissions_boundary: !boundary_blocks,
                },
            ),
        }
    }

    /// Condition keys the policies use that the request did not provide.
    fn missing_keys(&self) -> Vec<String> {
        let mut missing: Vec<String> = condition_keys(
            self.identity
                .iter()
                .chain(&self.boundary)
                .chain(self.resource_policy.as_ref())
                .map(|p| &p.policy),
        )
        .into_iter()
        .filter(|k| !self.provided_keys.contains(&k.to_ascii_lowercase()))
        .collect();
        missing.sort();
        missing
    }
}

/// Every condition key the policies name, once (keys compare without regard to case).
fn condition_keys<'p>(policies: impl Iterator<Item = &'p Policy>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for policy in policies {
        for statement in &policy.statements {
            for block in &statement.condition {
                for entry in &block.entries {
                    if !keys.iter().any(|k| k.eq_ignore_ascii_case(&entry.key)) {
                        keys.push(entry.key.clone());
                    }
                }
            }
        }
    }
    keys
}

fn paginate(
    results: Vec<EvaluationResult>,
    max_items: Option<i64>,
    marker: Option<&str>,
) -> Result<SimulatePolicyOutput, IamError> {
    let page = crate::pagination::page_by_index(results, marker, max_items)?;
    Ok(SimulatePolicyOutput {
        is_truncated: page.is_truncated(),
        evaluation_results: page.items,
        marker: page.next,
    })
}

/// The stored policies of the user, group or role `arn` names, in the caller's account.
/// Another account's entity is never read: it answers as one that does not exist (the
/// authorize step refuses such requests before they get here; this holds without it).
fn principal_policies(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    arn: &str,
) -> Result<(String, PrincipalPolicies), IamError> {
    let invalid = || {
        IamError::InvalidInput(format!(
            "Invalid ARN {arn}: it must name an IAM user, group or role."
        ))
    };
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(invalid)?;
    let (account, resource) = rest.split_once(':').ok_or_else(invalid)?;
    let (kind, path_and_name) = resource.split_once('/').ok_or_else(invalid)?;
    let name = path_and_name.rsplit('/').next().ok_or_else(invalid)?;
    if account != env.caller.account_id {
        return Err(match kind {
            "user" | "role" | "group" => IamError::no_such(kind, name),
            _ => invalid(),
        });
    }
    let policies = match kind {
        "user" => authorization::user_policies(tx, account, name)?,
        "role" => authorization::role_policies(tx, account, name)?,
        "group" => authorization::group_policies(tx, account, name)?,
        _ => return Err(invalid()),
    };
    Ok((account.to_owned(), policies))
}

fn principal_of(arn: &str) -> Result<Principal, IamError> {
    Principal::parse(arn).map_err(|e| IamError::InvalidInput(e.to_string()))
}

fn resource_policy(document: Option<String>) -> Result<Option<SimulatedPolicy>, IamError> {
    document
        .map(|doc| {
            Policy::parse_as(&doc, PolicyKind::Resource)
                .map(|policy| SimulatedPolicy {
                    id: "ResourcePolicy".to_owned(),
                    source: "resource",
                    policy,
                })
                .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
        })
        .transpose()
}

fn simulate_principal_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: SimulatePrincipalPolicyInput,
) -> Result<SimulatePolicyOutput, IamError> {
    let (account_id, stored_policies) = principal_policies(env, tx, &input.policy_source_arn)?;
    // AWS Organizations keeps the SCPs; the directory reads them for IAM.
    let service_control_policies = env
        .directory
        .service_control_policies(tx, &account_id)?
        .map(|levels| {
            levels
                .iter()
                .map(|level| {
                    let documents: Vec<NamedDocument> = level
                        .iter()
                        .map(|(id, document)| NamedDocument {
                            id: id.clone(),
                            source: authorization::PolicySource::AwsManaged,
                            document: document.clone(),
                        })
                        .collect();
                    set_of_documents(&documents)
                })
                .collect()
        });
    let mut identity = parse_all(stored(stored_policies.identity), PolicyKind::Identity)?;
    identity.extend(parse_all(
        given(input.policy_input_list, "PolicyInputList"),
        PolicyKind::Identity,
    )?);
    // A boundary given in the request stands in for the entity's own.
    let boundary = if input.permissions_boundary_policy_input_list.is_empty() {
        parse_all(
            stored(stored_policies.boundary.into_iter().collect()),
            PolicyKind::Boundary,
        )?
    } else {
        parse_all(
            given(
                input.permissions_boundary_policy_input_list,
                "PermissionsBoundaryPolicyInputList",
            ),
            PolicyKind::Boundary,
        )?
    };
    simulate(
        input.request,
        &input.policy_source_arn,
        account_id,
        identity,
        boundary,
        service_control_policies,
    )
}

/// Compiles stored documents; one that no longer parses is left out (it can only deny).
fn set_of_documents(documents: &[NamedDocument]) -> PolicySet {
    let mut set = PolicySet::new();
    for named in documents {
        if let Ok(policy) = Policy::parse(&named.document) {
            set.add(&named.id, &policy);
        }
    }
    set
}

fn simulate_custom_policy(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: SimulateCustomPolicyInput,
) -> Result<SimulatePolicyOutput, IamError> {
    let identity = parse_all(
        given(input.policy_input_list, "PolicyInputList"),
        PolicyKind::Identity,
    )?;
    let boundary = parse_all(
        given(
            input.permissions_boundary_policy_input_list,
            "PermissionsBoundaryPolicyInputList",
        ),
        PolicyKind::Boundary,
    )?;
    // Without a CallerArn, AWS simulates an unnamed user of the caller's account.
    let unnamed = format!("arn:aws:iam::{}:user/SimulatedUser", env.caller.account_id);
    simulate(
        input.request,
        &unnamed,
        env.caller.account_id.clone(),
        identity,
        boundary,
        None,
    )
}

/// Runs a simulation of `identity` (bounded by `boundary`) for the request's actions and
/// resources, as `CallerArn` or else `default_caller`.
fn simulate(
    request: SimulationRequest,
    default_caller: &str,
    account_id: String,
    identity: Vec<SimulatedPolicy>,
    boundary: Vec<SimulatedPolicy>,
    service_control_policies: Option<Vec<PolicySet>>,
) -> Result<SimulatePolicyOutput, IamError> {
    let caller = request.caller_arn.as_deref().unwrap_or(default_caller);
    let (context, provided_keys) = context_of(&request.context_entries);
    let simulation = Simulation {
        principal: principal_of(caller)?,
        account_id,
        identity,
        boundary,
        resource_policy: resource_policy(request.resource_policy)?,
        resource_owner: request.resource_owner,
        context,
        provided_keys,
        service_control_policies,
    };
    simulation.run(
        &request.action_names,
        &request.resource_arns,
        request.max_items,
        request.marker.as_deref(),
    )
}

fn context_keys_for_principal_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ContextKeysForPrincipalPolicyInput,
) -> Result<ContextKeysOutput, IamError> {
    let (_, stored_policies) = principal_policies(env, tx, &input.policy_source_arn)?;
    let mut policies = parse_all(stored(stored_policies.identity), PolicyKind::Identity)?;
    policies.extend(parse_all(
        given(input.policy_input_list, "PolicyInputList"),
        PolicyKind::Identity,
    )?);
    Ok(ContextKeysOutput {
        context_key_names: condition_keys(policies.iter().map(|p| &p.policy)),
    })
}

fn context_keys_for_custom_policy(
    _env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: ContextKeysForCustomPolicyInput,
) -> Result<ContextKeysOutput, IamError> {
    let policies = parse_all(
        given(input.policy_input_list, "PolicyInputList"),
        PolicyKind::Identity,
    )?;
    Ok(ContextKeysOutput {
        context_key_names: condition_keys(policies.iter().map(|p| &p.policy)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn custom(
        policies: &[&str],
        actions: &[&str],
        context: Vec<ContextEntry>,
    ) -> SimulatePolicyOutput {
        let t = TestEnv::new();
        let input = SimulateCustomPolicyInput {
            policy_input_list: policies.iter().map(|p| (*p).to_owned()).collect(),
            permissions_boundary_policy_input_list: Vec::new(),
            request: SimulationRequest {
                action_names: actions.iter().map(|a| (*a).to_owned()).collect(),
                resource_arns: Vec::new(),
                resource_policy: None,
                resource_owner: None,
                caller_arn: None,
                context_entries: context,
                max_items: None,
                marker: None,
            },
        };
        t.read(|env, tx| simulate_custom_policy(env, tx, input))
            .unwrap()
    }

    const ALLOW_LIST_FROM_OFFICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;

    #[test]
    fn decisions_and_missing_context_are_reported() {
        let out = custom(
            &[ALLOW_LIST_FROM_OFFICE],
            &["iam:ListUsers", "iam:CreateUser"],
            Vec::new(),
        );
        let decisions: Vec<_> = out
            .evaluation_results
            .iter()
            .map(|r| r.eval_decision)
            .collect();
        assert_eq!(decisions, ["implicitDeny", "implicitDeny"]);
        assert_eq!(
            out.evaluation_results[0].missing_context_values,
            ["aws:SourceIp"]
        );

        let from_office = vec![ContextEntry {
            context_key_name: Some("aws:SourceIp".into()),
            context_key_values: vec!["10.1.2.3".into()],
        }];
        let out = custom(&[ALLOW_LIST_FROM_OFFICE], &["iam:ListUsers"], from_office);
        let result = &out.evaluation_results[0];
        assert_eq!(result.eval_decision, "allowed");
        assert!(result.missing_context_values.is_empty());
        assert_eq!(
            result.matched_statements[0].source_policy_id,
            "PolicyInputList.1"
        );
        assert_eq!(result.matched_statements[0].source_policy_type, "none");
    }

    #[test]
    fn an_explicit_deny_wins() {
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let out = custom(&[allow, deny], &["iam:ListUsers"], Vec::new());
        assert_eq!(out.evaluation_results[0].eval_decision, "explicitDeny");
    }

    #[test]
    fn a_malformed_policy_is_refused() {
        let t = TestEnv::new();
        let input = ContextKeysForCustomPolicyInput {
            policy_input_list: vec!["{".into()],
        };
        let err = t
            .read(|env, tx| context_keys_for_custom_policy(env, tx, input))
            .unwrap_err();
        assert!(matches!(err, IamError::MalformedPolicyDocument(_)));
    }

    /// Bob, a user of [`ACCOUNT`] with an inline policy `secret-plans` that tests a
    /// condition key.
    fn bob(t: &TestEnv) {
        t.write(|env, tx| {
            let mut user = crate::records::UserRecord {
                account_id: ACCOUNT.into(),
                user_name: "bob".into(),
                user_id: "AIDAEXAMPLE".into(),
                path: "/".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/bob"),
                create_date: rampart_service::aws_timestamp(env.now),
                password_last_used: None,
                permissions_boundary: None,
                tags: Vec::new(),
                attached_policies: Vec::new(),
                inline_policies: Default::default(),
                groups: Vec::new(),
            };
            user.inline_policies
                .insert("secret-plans".into(), ALLOW_LIST_FROM_OFFICE.into());
            crate::records::put_user(tx, &user)
        })
        .unwrap();
    }

    fn principal(t: &TestEnv, arn: &str) -> Result<SimulatePolicyOutput, IamError> {
        let input = SimulatePrincipalPolicyInput {
            policy_source_arn: arn.to_owned(),
            policy_input_list: Vec::new(),
            permissions_boundary_policy_input_list: Vec::new(),
            request: SimulationRequest {
                action_names: vec!["iam:ListUsers".into()],
                resource_arns: Vec::new(),
                resource_policy: None,
                resource_owner: None,
                caller_arn: None,
                context_entries: Vec::new(),
                max_items: None,
                marker: None,
            },
        };
        t.read(|env, tx| simulate_principal_policy(env, tx, input))
    }

    fn context_keys(t: &TestEnv, arn: &str) -> Result<ContextKeysOutput, IamError> {
        let input = ContextKeysForPrincipalPolicyInput {
            policy_source_arn: arn.to_owned(),
            policy_input_list: Vec::new(),
        };
        t.read(|env, tx| context_keys_for_principal_policy(env, tx, input))
    }

    #[test]
    fn another_accounts_principal_is_never_simulated() {
        let mut t = TestEnv::new();
        bob(&t);
        let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
        let ghost = format!("arn:aws:iam::{ACCOUNT}:role/ghost");
        // Bob's account simulates bob: decisions, policy names and condition keys.
        let own = principal(&t, &bob).unwrap();
        assert_eq!(
            own.evaluation_results[0].missing_context_values,
            ["aws:SourceIp"]
        );
        assert_eq!(
            context_keys(&t, &bob).unwrap().context_key_names,
            ["aws:SourceIp"]
        );
        assert!(t.with_env(|env| other_account_policy(env, &bob)).is_none());

        // Another account: the authorize step refuses with a policy of bob's account that
        // allows nothing, the same for bob and for a role that does not exist.
        t.act_as("999988887777");
        for arn in [&bob, &ghost] {
            let policy = t.with_env(|env| other_account_policy(env, arn)).unwrap();
            assert_eq!(policy.account_id, ACCOUNT);
            assert!(policy.must_allow);
            assert_eq!(policy.document, ALLOWS_NOTHING);
        }
        // The handlers on their own tell nothing either: bob is as absent as the ghost.
        for (arn, name, kind) in [(&bob, "bob", "user"), (&ghost, "ghost", "role")] {
            let expected = format!("The {kind} with name {name} cannot be found.");
            assert!(matches!(principal(&t, arn), Err(IamError::NoSuchEntity(m)) if m == expected));
            assert!(
                matches!(context_keys(&t, arn), Err(IamError::NoSuchEntity(m)) if m == expected)
            );
        }
    }

    #[test]
    fn only_other_accounts_iam_arns_are_foreign() {
        let t = TestEnv::new();
        t.with_env(|env| {
            assert_eq!(
                other_account(env, "arn:aws:iam::999988887777:user/x").as_deref(),
                Some("999988887777")
            );
            assert_eq!(
                other_account(env, "arn:aws:iam::999988887777:policy/p").as_deref(),
                Some("999988887777")
            );
            // Not an account's own: an "aws" account that names no policy.
            assert_eq!(
                other_account(env, "arn:aws:iam::aws:user/x").as_deref(),
                Some("aws")
            );
            assert_eq!(
                other_account(env, &format!("arn:aws:iam::{ACCOUNT}:user/x")),
                None
            );
            assert_eq!(
                other_account(env, "arn:aws:iam::aws:policy/ReadOnlyAccess"),
                None
            );
            assert_eq!(other_account(env, "not an arn"), None);
        });
    }
}
