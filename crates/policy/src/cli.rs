//! The logic of `rampart policy validate` and `rampart policy evaluate`, kept
//! here so that the binary only reads files and sets exit codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::{
    ActionCatalog, Context, Decision, EvaluationInput, EvaluationMode, Finding, FindingLevel,
    Policy, PolicyError, PolicyKind, PolicySet, Principal, PrincipalParseError, Request,
    access_denied_message, validate_with,
};

/// The request file of `rampart policy evaluate --request FILE`: everything
/// one decision needs. Absent lists mean none; an empty
/// `service_control_policies` means the account is not in an organization.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFile {
    /// `anonymous`, an account id, or a principal ARN / service / provider.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN; `*` when absent.
    #[serde(default = "star")]
    pub resource: String,
    /// The resource's account; the caller's account when absent.
    #[serde(default)]
    pub resource_account: Option<String>,
    /// Condition keys: a string, number or boolean, or a list (multivalued).
    #[serde(default)]
    pub context: BTreeMap<String, Value>,
    /// Identity policies (documents, or strings holding documents).
    #[serde(default)]
    pub identity_policies: Vec<Value>,
    /// The resource's policy.
    #[serde(default)]
    pub resource_policy: Option<Value>,
    /// The permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<Value>,
    /// The session policy.
    #[serde(default)]
    pub session_policy: Option<Value>,
    /// SCPs per level: root, then each OU, then the account.
    #[serde(default)]
    pub service_control_policies: Vec<Vec<Value>>,
    /// RCPs that apply to the resource's account.
    #[serde(default)]
    pub resource_control_policies: Vec<Value>,
    /// The caller's account is the organization's management account.
    #[serde(default)]
    pub principal_is_management_account: bool,
    /// The resource's account is the organization's management account.
    #[serde(default)]
    pub resource_is_management_account: bool,
    /// `Normal` or `ResourcePolicyMustAllow` (trust and key policies).
    #[serde(default)]
    pub mode: EvaluationMode,
}

fn star() -> String {
    "*".to_owned()
}

/// Why a request file could not be evaluated.
#[derive(Debug, Error)]
pub enum EvaluateRequestError {
    /// The file is not a request file.
    #[error("invalid request file: {0}")]
    Json(#[from] serde_json::Error),
    /// The principal is not one Rampart can name.
    #[error(transparent)]
    Principal(#[from] PrincipalParseError),
    /// A context value is neither a string, number, boolean nor list of those.
    #[error(
        "invalid value for context key `{0}`: expected a string, number, boolean or a list of those"
    )]
    Context(String),
    /// One of the policies does not parse.
    #[error("policy `{id}`: {source}")]
    Policy {
        /// Which policy of the file (`identity_policies[0]`, …).
        id: String,
        /// What is wrong with it.
        source: PolicyError,
    },
}

/// The answer printed by `rampart policy evaluate`.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationReport {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub decision: crate::DecisionKind,
    /// The policy type that decided, if any.
    pub decided_by: Option<crate::PolicyType>,
    /// The statements that applied.
    pub matched_statements: Vec<crate::MatchedStatement>,
    /// AWS's AccessDenied message for a deny.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RequestFile {
    /// Parses a request file.
    pub fn parse(text: &str) -> Result<Self, EvaluateRequestError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The request this file describes.
    pub fn request(&self) -> Result<Request, EvaluateRequestError> {
        let mut context = Context::new();
        for (key, value) in &self.context {
            match value {
                Value::Array(items) => {
                    let values = items
                        .iter()
                        .map(scalar_text)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| EvaluateRequestError::Context(key.clone()))?;
                    context.insert_multi(key, values);
                }
                single => {
                    let text = scalar_text(single)
                        .ok_or_else(|| EvaluateRequestError::Context(key.clone()))?;
                    context.insert(key, text);
                }
            }
        }
        let mut request = Request::new(
            Principal::parse(&self.principal)?,
            &self.action,
            &self.resource,
        );
        request.resource_account = self.resource_account.clone();
        Ok(request.with_context(context))
    }

    /// Compiles the file's policies and decides its request.
    pub fn decide(&self) -> Result<(Request, Decision), EvaluateRequestError> {
        let request = self.request()?;
        let identity = compile_all(
            &self.identity_policies,
            "identity_policies",
            PolicyKind::Identity,
        )?;
        let resource = compile_one(self.resource_policy.as_ref(), "resource_policy", None)?;
        let boundary = compile_one(
            self.permissions_boundary.as_ref(),
            "permissions_boundary",
            Some(PolicyKind::Boundary),
        )?;
        let session = compile_one(
            self.session_policy.as_ref(),
            "session_policy",
            Some(PolicyKind::Session),
        )?;
        let scps = self
            .service_control_policies
            .iter()
            .enumerate()
            .map(|(level, policies)| {
                compile_all(
                    policies,
                    &format!("service_control_policies[{level}]"),
                    PolicyKind::Scp,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scp_refs: Vec<&PolicySet> = scps.iter().collect();
        let rcps = compile_all(
            &self.resource_control_policies,
            "resource_control_policies",
            PolicyKind::Rcp,
        )?;
        let input = EvaluationInput {
            identity_policies: Some(&identity),
            resource_policy: resource.as_ref(),
            permissions_boundary: boundary.as_ref(),
            session_policies: session.as_ref(),
            service_control_policies: &scp_refs,
            resource_control_policies: (!rcps.is_empty()).then_some(&rcps),
            principal_is_management_account: self.principal_is_management_account,
            resource_is_management_account: self.resource_is_management_account,
            mode: self.mode,
        };
        let decision = crate::evaluate(&request, &input);
        Ok((request, decision))
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_policy(
    value: &Value,
    id: &str,
    kind: Option<PolicyKind>,
) -> Result<Policy, EvaluateRequestError> {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let parsed = match kind {
        Some(kind) => Policy::parse_as(&text, kind),
        None => Policy::parse(&text),
    };
    parsed.map_err(|source| EvaluateRequestError::Policy {
        id: id.to_owned(),
        source,
    })
}

fn compile_all(
    values: &[Value],
    name: &str,
    kind: PolicyKind,
) -> Result<PolicySet, EvaluateRequestError> {
    let mut set = PolicySet::new();
    for (i, value) in values.iter().enumerate() {
        let id = format!("{name}[{i}]");
        set.add(&id, &parse_policy(value, &id, Some(kind))?);
    }
    Ok(set)
}

fn compile_one(
    value: Option<&Value>,
    name: &str,
    kind: Option<PolicyKind>,
) -> Result<Option<PolicySet>, EvaluateRequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Ok(Some(PolicySet::single(
            name,
            &parse_policy(value, name, kind)?,
        ))),
    }
}

/// `rampart policy evaluate --request FILE`: decides the request in `text`
/// and returns the JSON report (pretty-printed).
pub fn evaluate_request(text: &str) -> Result<String, EvaluateRequestError> {
    let file = RequestFile::parse(text)?;
    let (request, decision) = file.decide()?;
    let report = EvaluationReport {
        decision: decision.kind,
        decided_by: decision.decided_by,
        message: access_denied_message(&request, &decision),
        matched_statements: decision.matched_statements,
    };
    Ok(serde_json::to_string_pretty(&report)?)
}

/// `rampart policy validate FILE…`: validates each `(name, contents)` pair as
/// a policy of `kind`. Returns the report (human text, or JSON with `json`)
/// and whether any finding is an ERROR (the exit status is 1 then).
pub fn validate_files(
    files: &[(&str, &str)],
    kind: PolicyKind,
    json: bool,
    catalog: Option<&dyn ActionCatalog>,
) -> (String, bool) {
    let results: Vec<(&str, Vec<Finding>)> = files
        .iter()
        .map(|(name, text)| (*name, validate_with(text, kind, catalog)))
        .collect();
    let has_errors = results
        .iter()
        .any(|(_, findings)| findings.iter().any(|f| f.level == FindingLevel::Error));
    let output = if json {
        let files: Vec<Value> = results
            .iter()
            .map(|(name, findings)| serde_json::json!({"file": name, "findings": findings}))
            .collect();
        serde_json::to_string_pretty(&Value::Array(files)).unwrap_or_default()
    } else {
        let mut out = String::new();
        for (name, findings) in &results {
            if findings.is_empty() {
                let _ = writeln!(out, "{name}: no findings");
            }
            for f in findings {
                let _ = writeln!(
                    out,
                    "{name}:{}:{}: {} {} at {}: {}",
                    f.line, f.column, f.level, f.issue_code, f.path, f.message
                );
            }
        }
        out
    };
    (output, has_errors)
}
