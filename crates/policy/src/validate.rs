//! Policy validation in the manner of IAM Access Analyzer's ValidatePolicy:
//! findings with a level, an issue code, a message and where they are.
//!
//! Parsing errors come first (a document that does not parse gets exactly one
//! ERROR finding); then the rules of the policy kind; then checks of each
//! statement (syntax of actions and ARNs, condition value types, risky
//! grants) and of statements against each other (duplicates, shadowing).

use std::fmt;

use serde::Serialize;

use crate::catalog::ActionCatalog;
use crate::condition::values::{Cidr, parse_bool, parse_date, parse_number};
use crate::condition::{OperatorKind, SetQualifier, ValueType};
use crate::error::{Location, PolicyError};
use crate::json_path::JsonPath;
use crate::kind::{PolicyKind, check};
use crate::model::{Effect, Policy, PrincipalSpec, PrincipalType, Statement, StringList};
use crate::variables::NoVariables;
use crate::wildcard::{GLOB, Pattern};

/// How serious a finding is (Access Analyzer's four levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingLevel {
    /// The policy is invalid or will not work as written.
    Error,
    /// The policy grants more than is likely intended.
    SecurityWarning,
    /// The policy works but does not follow good practice.
    Warning,
    /// The policy can be simplified.
    Suggestion,
}

impl fmt::Display for FindingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "ERROR",
            Self::SecurityWarning => "SECURITY_WARNING",
            Self::Warning => "WARNING",
            Self::Suggestion => "SUGGESTION",
        })
    }
}

/// One validation finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub level: FindingLevel,
    /// A stable code such as `PASS_ROLE_WITH_STAR_IN_RESOURCE`.
    pub issue_code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// JSON path of the element concerned.
    pub path: String,
    /// 1-based line where that element starts.
    pub line: usize,
    /// 1-based column where that element starts.
    pub column: usize,
}

/// Validates a policy document used as a policy of `kind`.
pub fn validate(text: &str, kind: PolicyKind) -> Vec<Finding> {
    validate_with(text, kind, None)
}

/// Validates a policy document used as a policy of `kind`, and, with a `catalog` of AWS's
/// services, checks as IAM Access Analyzer does that its actions exist, that its service
/// condition keys exist and apply to its actions, and that its resource ARNs are of the
/// services' resource types.
pub fn validate_with(
    text: &str,
    kind: PolicyKind,
    catalog: Option<&dyn ActionCatalog>,
) -> Vec<Finding> {
    let policy = match Policy::parse(text) {
        Ok(policy) => policy,
        Err(error) => return vec![from_error(&error)],
    };
    let mut v = Validator {
        text,
        findings: Vec::new(),
        catalog,
    };
    if let Err(error) = check(&policy, kind, text) {
        v.findings.push(from_error(&error));
    }
    v.policy(&policy, kind);
    v.findings
}

fn from_error(error: &PolicyError) -> Finding {
    let message = error.aws_message();
    let issue_code = match error {
        PolicyError::Syntax(_) => "JSON_SYNTAX_ERROR",
        PolicyError::Limit(_) => "POLICY_TOO_LARGE",
        PolicyError::Malformed(_) => match message {
            m if m.starts_with("Actions/Conditions") => "INVALID_ACTION",
            m if m.starts_with("Invalid principal") => "INVALID_PRINCIPAL",
            m if m.starts_with("Invalid Condition type") => "INVALID_CONDITION_OPERATOR",
            m if m.starts_with("Resource ") => "INVALID_ARN_RESOURCE",
            m if m.starts_with("Missing required field")
                || m.starts_with("Policy statement must contain") =>
            {
                "MISSING_REQUIRED_ELEMENT"
            }
            m if m.starts_with("Has prohibited field")
                || m.starts_with("Policy document should not") =>
            {
                "PROHIBITED_ELEMENT"
            }
            m if m.starts_with("The policy failed legacy") => "INVALID_VERSION",
            m if m.starts_with("Statement IDs") => "DUPLICATE_SID",
            _ => "MALFORMED_POLICY_DOCUMENT",
        },
    };
    let Location { path, line, column } = error.location().clone();
    Finding {
        level: FindingLevel::Error,
        issue_code,
        message: message.to_owned(),
        path,
        line,
        column,
    }
}

/// Global condition keys that always hold one value; `ForAllValues:` on them
/// is true whenever the key is absent, which is rarely what authors mean.
const SINGLE_VALUED_KEYS: [&str; 24] = [
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:currenttime",
    "aws:epochtime",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalisawsservice",
    "aws:principalorgid",
    "aws:principalservicename",
    "aws:principaltype",
    "aws:referer",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "aws:username",
];

/// Tag keys are single-valued too (`aws:PrincipalTag/k`, …).
const SINGLE_VALUED_PREFIXES: [&str; 3] =
    ["aws:principaltag/", "aws:resourcetag/", "aws:requesttag/"];

const PARTITIONS: [&str; 6] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-eusc",
];

struct Validator<'t> {
    text: &'t str,
    findings: Vec<Finding>,
    catalog: Option<&'t dyn ActionCatalog>,
}

impl Validator<'_> {
    fn push(
        &mut self,
        level: FindingLevel,
        issue_code: &'static str,
        path: &JsonPath,
        message: String,
    ) {
        let Location { path, line, column } = path.locate(self.text);
        self.findings.push(Finding {
            level,
            issue_code,
            message,
            path,
            line,
            column,
        });
    }

    fn policy(&mut self, policy: &Policy, kind: PolicyKind) {
        let root = JsonPath::default();
        match policy.version {
            None => self.push(
                FindingLevel::Warning,
                "MISSING_VERSION",
                &root,
                "Add \"Version\": \"2012-10-17\"; without it policy variables are literal text."
                    .to_owned(),
            ),
            Some(crate::Version::V2008_10_17) => self.push(
                FindingLevel::Warning,
                "OLD_VERSION",
                &root.key("Version"),
                "Version 2008-10-17 does not support policy variables; use 2012-10-17.".to_owned(),
            ),
            Some(crate::Version::V2012_10_17) => {}
        }
        if policy.statements.is_empty() {
            self.push(
                FindingLevel::Suggestion,
                "EMPTY_STATEMENT",
                &root.key("Statement"),
                "The policy has no statement and grants nothing.".to_owned(),
            );
        }
        let paths: Vec<JsonPath> = (0..policy.statements.len())
            .map(|i| {
                let path = root.key("Statement");
                if policy.statement_was_array {
                    path.index(i)
                } else {
                    path
                }
            })
            .collect();
        for (statement, path) in policy.statements.iter().zip(&paths) {
            self.statement(statement, path, kind, policy);
        }
        self.redundancy(policy, &paths);
    }

    fn statement(&mut self, s: &Statement, path: &JsonPath, kind: PolicyKind, policy: &Policy) {
        use FindingLevel::{Error, SecurityWarning, Warning};
        if let Some((negated, list)) = &s.action {
            let name = if *negated { "NotAction" } else { "Action" };
            for (i, action) in list.values.iter().enumerate() {
                if !is_valid_action(action) {
                    let at = item(path.key(name), list, i);
                    self.push(
                        Error,
                        "INVALID_ACTION",
                        &at,
                        format!("The action {action} is not a valid action name (service:Action)."),
                    );
                }
            }
            if *negated && s.effect == Effect::Allow {
                self.push(
                    SecurityWarning,
                    "ALLOW_WITH_NOT_ACTION",
                    &path.key(name),
                    "Allow with NotAction grants every action not listed, including those of services added later.".to_owned(),
                );
            }
        }
        if let Some((negated, list)) = &s.resource {
            let name = if *negated { "NotResource" } else { "Resource" };
            for (i, resource) in list.values.iter().enumerate() {
                if !is_valid_resource(resource) {
                    let at = item(path.key(name), list, i);
                    self.push(
                        Error,
                        "INVALID_ARN_RESOURCE",
                        &at,
                        format!("The resource {resource} is not a valid ARN."),
                    );
                }
            }
        }
        if let Some((true, _)) = &s.principal
            && s.effect == Effect::Allow
        {
            {
                self.push(
                    SecurityWarning,
                    "ALLOW_WITH_NOT_PRINCIPAL",
                    &path.key("NotPrincipal"),
                    "Allow with NotPrincipal grants everyone not listed, including anonymous users.".to_owned(),
                );
            }
        }
        self.conditions(s, path, policy);
        if let Some(catalog) = self.catalog {
            self.against_catalog(catalog, s, path, policy);
        }
        if s.effect == Effect::Allow {
            self.risky_grants(s, path, kind);
        }
        if let Some(reason) = never_matches(s) {
            let (level, code) = match s.effect {
                Effect::Deny => (SecurityWarning, "DENY_NEVER_MATCHES"),
                Effect::Allow => (Warning, "STATEMENT_NEVER_MATCHES"),
            };
            self.push(
                level,
                code,
                path,
                format!("This statement can never apply: {reason}."),
            );
        }
    }

    fn conditions(&mut self, s: &Statement, path: &JsonPath, policy: &Policy) {
        for block in &s.condition {
            let block_path = path.key("Condition").key(&block.operator_text);
            let op = block.operator;
            let value_type = op.kind.value_type();
            for entry in &block.entries {
                let entry_path = block_path.key(&entry.key);
                let key = entry.key.to_lowercase();
                if op.qualifier == Some(SetQualifier::ForAllValues) && is_single_valued(&key) {
                    self.push(
                        FindingLevel::SecurityWarning,
                        "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                        &entry_path,
                        format!(
                            "Using ForAllValues qualifier with the single-valued condition key {} can be overly permissive. We recommend that you remove ForAllValues:.",
                            entry.key
                        ),
                    );
                }
                for (i, value) in entry.values.iter().enumerate() {
                    let text = value.as_text();
                    if policy.expands_variables() && text.contains("${") {
                        continue;
                    }
                    if !value_fits(value_type, &text) {
                        let at = if entry.was_array {
                            entry_path.index(i)
                        } else {
                            entry_path.clone()
                        };
                        self.push(
                            FindingLevel::Error,
                            "DATA_TYPE_MISMATCH",
                            &at,
                            format!("The value {text} does not match the type expected by the {} operator.", op.kind.name()),
                        );
                    }
                }
            }
        }
    }

    /// Access Analyzer's checks of a statement against AWS's services: actions that do not
    /// exist, service condition keys that do not exist or that none of the statement's actions
    /// supports, resource ARNs of no resource type. Services the catalog does not describe are
    /// left alone.
    fn against_catalog(
        &mut self,
        catalog: &dyn ActionCatalog,
        s: &Statement,
        path: &JsonPath,
        policy: &Policy,
    ) {
        use FindingLevel::{Error, Warning};
        let mut actions: Vec<(String, String)> = Vec::new();
        if let Some((negated, list)) = &s.action {
            let name = if *negated { "NotAction" } else { "Action" };
            for (i, action) in list.values.iter().enumerate() {
                let Some((service, pattern)) = action.split_once(':') else {
                    continue;
                };
                let service = service.to_ascii_lowercase();
                let Some(names) = catalog.action_names(&service) else {
                    continue;
                };
                let glob = Pattern::new(pattern, GLOB, true);
                let matching: Vec<&str> = names
                    .into_iter()
                    .filter(|n| glob.matches(n, &NoVariables) == Some(true))
                    .collect();
                if matching.is_empty() {
                    self.push(
                        Error,
                        "INVALID_ACTION",
                        &item(path.key(name), list, i),
                        format!("The action {action} does not exist."),
                    );
                }
                if !negated {
                    actions.extend(matching.iter().map(|n| (service.clone(), (*n).to_owned())));
                }
            }
        }
        for block in &s.condition {
            let block_path = path.key("Condition").key(&block.operator_text);
            for entry in &block.entries {
                let Some((service, _)) = entry.key.split_once(':') else {
                    continue;
                };
                let service = service.to_ascii_lowercase();
                if service == "aws" || catalog.action_names(&service).is_none() {
                    continue;
                }
                let at = block_path.key(&entry.key);
                if !catalog.defines_key(&service, &entry.key) {
                    self.push(
                        Error,
                        "INVALID_SERVICE_CONDITION_KEY",
                        &at,
                        format!(
                            "The condition key {} does not exist in the service {service}. Use a valid condition key.",
                            entry.key
                        ),
                    );
                    continue;
                }
                let unsupported: Vec<String> = actions
                    .iter()
                    .filter(|(svc, action)| !catalog.supports_key(svc, action, &entry.key))
                    .map(|(svc, action)| format!("{svc}:{action}"))
                    .collect();
                if !unsupported.is_empty() {
                    self.push(
                        Warning,
                        "UNSUPPORTED_ACTION_FOR_CONDITION_KEY",
                        &at,
                        format!(
                            "The following actions: {} are not supported by the condition key {}. The condition will not be evaluated for these actions. We recommend that you move these actions to a different statement without this condition key.",
                            unsupported.join(", "),
                            entry.key
                        ),
                    );
                }
            }
        }
        if let Some((false, list)) = &s.resource {
            for (i, resource) in list.values.iter().enumerate() {
                let Some(["arn", _, service, _, _, _]) =
                    crate::arn::split_components(resource, true)
                else {
                    continue;
                };
                // A wildcard or a variable may stand for any resource type.
                let pattern = resource.contains(['*', '?'])
                    || (policy.expands_variables() && resource.contains("${"));
                if !pattern
                    && catalog.action_names(service).is_some()
                    && !catalog.resource_matches(service, resource)
                {
                    self.push(
                        Error,
                        "INVALID_ARN_RESOURCE",
                        &item(path.key("Resource"), list, i),
                        "Resource ARN does not match the expected ARN format. Update the resource portion of the ARN.".to_owned(),
                    );
                }
            }
        }
    }

    fn risky_grants(&mut self, s: &Statement, path: &JsonPath, kind: PolicyKind) {
        let Some((false, actions)) = &s.action else {
            return;
        };
        let all_resources = match &s.resource {
            None => true,
            Some((false, list)) => list.values.iter().any(|r| r == "*"),
            Some((true, _)) => true,
        };
        if actions.values.iter().any(|a| a == "*" || a == "*:*")
            && all_resources
            && s.condition.is_empty()
        {
            self.push(
                FindingLevel::SecurityWarning,
                "FULL_ACCESS",
                &path.key("Action"),
                "This statement allows every action on every resource (administrator access)."
                    .to_owned(),
            );
        }
        let passes_role = actions.values.iter().any(|a| {
            Pattern::new(a, GLOB, true).matches("iam:passrole", &NoVariables) == Some(true)
        });
        if passes_role && all_resources {
            self.push(
                FindingLevel::SecurityWarning,
                "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                &path.key("Resource"),
                "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because it allows iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs or add the iam:PassedToService condition key to your statement.".to_owned(),
            );
        }
        let public = match &s.principal {
            Some((false, PrincipalSpec::Wildcard)) => true,
            Some((false, PrincipalSpec::Typed(entries))) => entries
                .iter()
                .any(|(t, list)| *t == PrincipalType::Aws && list.values.iter().any(|v| v == "*")),
            _ => false,
        };
        if public && s.condition.is_empty() && kind != PolicyKind::Rcp {
            self.push(
                FindingLevel::SecurityWarning,
                "PRINCIPAL_STAR_WITHOUT_CONDITION",
                &path.key("Principal"),
                "Principal \"*\" without a condition grants access to everyone, including anonymous users.".to_owned(),
            );
        }
    }

    fn redundancy(&mut self, policy: &Policy, paths: &[JsonPath]) {
        for (i, (a, path)) in policy.statements.iter().zip(paths).enumerate() {
            let earlier = policy.statements.iter().take(i);
            if let Some(j) = earlier.clone().position(|b| same_ignoring_sid(a, b)) {
                self.push(
                    FindingLevel::Suggestion,
                    "REDUNDANT_STATEMENT",
                    path,
                    format!("This statement repeats statement {j}; remove one of them."),
                );
                continue;
            }
            let covering = policy
                .statements
                .iter()
                .enumerate()
                .find(|(j, b)| *j != i && !same_ignoring_sid(a, b) && covers(b, a));
            if let Some((j, _)) = covering {
                self.push(
                    FindingLevel::Suggestion,
                    "REDUNDANT_STATEMENT",
                    path,
                    format!("Statement {j} already allows everything this statement allows."),
                );
            }
        }
    }
}

fn item(path: JsonPath, list: &StringList, i: usize) -> JsonPath {
    if list.was_array { path.index(i) } else { path }
}

fn is_single_valued(key: &str) -> bool {
    SINGLE_VALUED_KEYS.contains(&key) || SINGLE_VALUED_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// `*`, or `service:Action` where both parts use letters, digits, `-` and wildcards.
fn is_valid_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    let service_ok = !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '?'));
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_' | '.'));
    service_ok && name_ok
}

/// `*`, or an ARN with six components, a known partition and a service.
fn is_valid_resource(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    match crate::arn::split_components(resource, true) {
        Some(["arn", partition, service, _, _, _]) => {
            let partition_ok = PARTITIONS.contains(&partition)
                || partition.contains(['*', '?'])
                || partition.starts_with("${");
            partition_ok && !service.is_empty()
        }
        _ => false,
    }
}

fn value_fits(value_type: ValueType, text: &str) -> bool {
    match value_type {
        ValueType::String | ValueType::Binary => true,
        ValueType::Numeric => parse_number(text).is_some(),
        ValueType::Date => parse_date(text).is_some(),
        ValueType::Bool | ValueType::Null => parse_bool(text).is_some(),
        ValueType::Ip => Cidr::parse(text).is_some(),
        ValueType::Arn => text == "*" || text.starts_with("arn:"),
    }
}

/// Why a statement can never apply, if it cannot.
fn never_matches(s: &Statement) -> Option<&'static str> {
    if let Some((true, list)) = &s.action
        && list.values.iter().any(|a| a == "*")
    {
        return Some("NotAction \"*\" excludes every action");
    }
    if let Some((true, list)) = &s.resource
        && list.values.iter().any(|r| r == "*")
    {
        return Some("NotResource \"*\" excludes every resource");
    }
    if let Some((true, PrincipalSpec::Wildcard)) = &s.principal {
        return Some("NotPrincipal \"*\" excludes every principal");
    }
    for block in &s.condition {
        let op = block.operator;
        // A positive operator whose values all fail to coerce can only match
        // when the key is absent and the operator tolerates that.
        let tolerant_of_absence = op.if_exists || op.qualifier == Some(SetQualifier::ForAllValues);
        if op.kind.is_negated() || tolerant_of_absence || op.kind == OperatorKind::Null {
            continue;
        }
        let value_type = op.kind.value_type();
        let impossible = block.entries.iter().any(|e| {
            e.values.is_empty()
                || e.values
                    .iter()
                    .all(|v| !value_fits(value_type, &v.as_text()))
        });
        if impossible {
            return Some("a condition has no value that its operator can compare");
        }
    }
    None
}

fn same_ignoring_sid(a: &Statement, b: &Statement) -> bool {
    a.effect == b.effect
        && a.principal == b.principal
        && a.action == b.action
        && a.resource == b.resource
        && a.condition == b.condition
}

/// Whether `b` allows everything `a` allows: both allow, same principal, `b`
/// has no condition, and every action and resource of `a` is covered by one
/// of `b`'s patterns.
fn covers(b: &Statement, a: &Statement) -> bool {
    if a.effect != Effect::Allow
        || b.effect != Effect::Allow
        || !b.condition.is_empty()
        || a.principal != b.principal
    {
        return false;
    }
    let lists_cover = |bl: &Option<(bool, StringList)>,
                       al: &Option<(bool, StringList)>,
                       fold: bool| match (bl, al) {
        (None, None) => true,
        (Some((false, bl)), Some((false, al))) => al.values.iter().all(|av| {
            !av.contains('?')
                && bl.values.iter().any(|bv| {
                    !bv.contains('?')
                        && Pattern::new(bv, GLOB, fold).matches(av, &NoVariables) == Some(true)
                })
        }),
        _ => false,
    };
    lists_cover(&b.action, &a.action, true) && lists_cover(&b.resource, &a.resource, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, kind: PolicyKind) -> Vec<&'static str> {
        validate(text, kind)
            .into_iter()
            .map(|f| f.issue_code)
            .collect()
    }

    #[test]
    fn clean_policy_has_no_findings() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}"#;
        assert!(validate(text, PolicyKind::Identity).is_empty());
    }

    #[test]
    fn parse_errors_become_one_error() {
        let f = validate("{", PolicyKind::Identity);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].level, FindingLevel::Error);
    }

    #[test]
    fn type_mismatch_and_forallvalues() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
          "Condition": {"NumericLessThan": {"s3:max-keys": "abc"}, "ForAllValues:StringEquals": {"aws:username": "bob"}}}]}"#;
        let c = codes(text, PolicyKind::Identity);
        assert!(c.contains(&"DATA_TYPE_MISMATCH"), "{c:?}");
        assert!(c.contains(&"FORALLVALUES_WITH_SINGLE_VALUED_KEY"), "{c:?}");
        let finding = validate(text, PolicyKind::Identity)
            .into_iter()
            .find(|f| f.issue_code == "DATA_TYPE_MISMATCH")
            .unwrap();
        assert_eq!(
            finding.path,
            "$.Statement[0].Condition.NumericLessThan.s3:max-keys"
        );
    }

    #[test]
    fn shadowed_allow_is_redundant() {
        let text = r#"{"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
          {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]}"#;
        let f = validate(text, PolicyKind::Identity);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].issue_code, "REDUNDANT_STATEMENT");
        assert_eq!(f[0].path, "$.Statement[1]");
    }
}
