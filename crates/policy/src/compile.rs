//! Compiled policies: wildcards and condition values prepared once, and
//! statements indexed by action so that a decision only looks at statements
//! that can apply to its action.

use std::sync::Arc;

use crate::arn::ArnPattern;
use crate::condition::{CompiledCondition, compile_block};
use crate::decision::{MatchedStatement, PolicyType};
use crate::key_hash::KeyMap;
use crate::model::{Effect, Policy, PrincipalSpec, Statement};
use crate::principal::{Grant, PrincipalMatcher, not_principal_excludes};
use crate::request::{Action, Request};
use crate::variables::Syntax;
use crate::wildcard::{GLOB, Pattern};

/// Policies compiled for evaluation, indexed together.
///
/// Build one per policy type a principal carries (its identity policies, its
/// boundary, one per SCP level, …) and keep it: compiling is the expensive
/// part, evaluating is cheap and only touches statements whose actions can
/// match, so policies about other services cost nothing per decision.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    ids: Vec<Arc<str>>,
    statements: Vec<CompiledStatement>,
    index: ActionIndex,
}

impl PolicySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding one policy.
    pub fn single(id: &str, policy: &Policy) -> Self {
        let mut set = Self::new();
        set.add(id, policy);
        set
    }

    /// A set holding several policies, identified by their ids (an ARN, a
    /// name: whatever the caller wants to see in decisions).
    pub fn from_policies<'p, I, S>(policies: I) -> Self
    where
        I: IntoIterator<Item = (S, &'p Policy)>,
        S: AsRef<str>,
    {
        let mut set = Self::new();
        for (id, policy) in policies {
            set.add(id.as_ref(), policy);
        }
        set
    }

    /// Compiles and adds a policy.
    pub fn add(&mut self, id: &str, policy: &Policy) {
        self.add_bound(id, policy, &[]);
    }

    /// A set holding one stored resource policy whose user and role principals were bound,
    /// when it was saved, to unique IDs: `principal_ids` pairs each principal value as
    /// written with the ID of the entity it named then (see [`PrincipalMatcher`]).
    pub fn single_bound(id: &str, policy: &Policy, principal_ids: &[(String, String)]) -> Self {
        let mut set = Self::new();
        set.add_bound(id, policy, principal_ids);
        set
    }

    fn add_bound(&mut self, id: &str, policy: &Policy, principal_ids: &[(String, String)]) {
        let policy_number = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(id.into());
        for (i, statement) in policy.statements.iter().enumerate() {
            let compiled = CompiledStatement::new(
                statement,
                policy_number,
                i,
                policy.expands_variables(),
                principal_ids,
            );
            let number = u32::try_from(self.statements.len()).unwrap_or(u32::MAX);
            self.index.insert(number, &compiled);
            self.statements.push(compiled);
        }
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the set holds no policy.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of statements across all policies.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Evaluates every statement that can apply to `request`, records those
    /// that do in `matched`, and says whether any denies and how strongly the
    /// allowing ones name the caller.
    pub(crate) fn scan(
        &self,
        request: &Request,
        mode: ScanMode,
        policy_type: PolicyType,
        matched: &mut Vec<MatchedStatement>,
    ) -> ScanResult {
        let mut result = ScanResult {
            denied: false,
            allowed: Grant::None,
        };
        for number in self.index.candidates(&request.action) {
            let Some(statement) = self.statements.get(number as usize) else {
                continue;
            };
            let Some(grant) = statement.applies(request, mode) else {
                continue;
            };
            match statement.effect {
                Effect::Deny => result.denied = true,
                Effect::Allow => result.allowed = result.allowed.max(grant),
            }
            matched.push(MatchedStatement {
                policy_type,
                policy_id: self
                    .ids
                    .get(statement.policy as usize)
                    .cloned()
                    .unwrap_or_else(|| "".into()),
                statement_index: statement.index as usize,
                sid: statement.sid.clone(),
                effect: statement.effect,
            });
        }
        result
    }
}

/// What a scan of one policy set found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanResult {
    pub(crate) denied: bool,
    pub(crate) allowed: Grant,
}

/// How `Principal` elements are treated in a scan.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScanMode {
    /// Identity-side policies (identity, boundary, session, SCP) apply to the
    /// caller they are attached to; principals are not matched.
    AttachedToCaller,
    /// Resource-side policies (resource, trust, key, RCP) name principals.
    NamesPrincipals {
        /// The caller has a permissions boundary (see `NotPrincipal`).
        caller_has_boundary: bool,
    },
}

#[derive(Debug, Clone)]
enum PrincipalClause {
    Absent,
    Principal(Box<[PrincipalMatcher]>),
    NotPrincipal(Box<[PrincipalMatcher]>),
}

#[derive(Debug, Clone)]
struct ActionClause {
    negated: bool,
    /// Lowercased: action names are case-insensitive.
    patterns: Box<[Pattern]>,
}

#[derive(Debug, Clone)]
enum ResourceClause {
    Absent,
    Resource(Box<[ArnPattern]>),
    NotResource(Box<[ArnPattern]>),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStatement {
    policy: u32,
    index: u32,
    sid: Option<Arc<str>>,
    effect: Effect,
    principal: PrincipalClause,
    actions: ActionClause,
    resources: ResourceClause,
    conditions: Box<[CompiledCondition]>,
}

impl CompiledStatement {
    fn new(
        statement: &Statement,
        policy: u32,
        index: usize,
        variables: bool,
        principal_ids: &[(String, String)],
    ) -> Self {
        let bound = |value: &str| {
            principal_ids
                .iter()
                .find(|(written, _)| written == value)
                .map(|(_, id)| id.as_str())
        };
        let principal = match &statement.principal {
            None => PrincipalClause::Absent,
            Some((negated, spec)) => {
                let matchers: Box<[PrincipalMatcher]> = match spec {
                    PrincipalSpec::Wildcard => Box::new([PrincipalMatcher::Any]),
                    PrincipalSpec::Typed(entries) => entries
                        .iter()
                        .flat_map(|(t, list)| {
                            list.values
                                .iter()
                                .map(|v| PrincipalMatcher::new(*t, v, bound(v.as_str())))
                        })
                        .collect(),
                };
                if *negated {
                    PrincipalClause::NotPrincipal(matchers)
                } else {
                    PrincipalClause::Principal(matchers)
                }
            }
        };
        let actions = match &statement.action {
            Some((negated, list)) => ActionClause {
                negated: *negated,
                patterns: list
                    .values
                    .iter()
                    .map(|a| Pattern::new(a, GLOB, true))
                    .collect(),
            },
            // The parser requires actions; an empty clause matches nothing.
            None => ActionClause {
                negated: false,
                patterns: Box::new([]),
            },
        };
        let syntax = Syntax {
            wildcards: true,
            variables,
        };
        let resources = match &statement.resource {
            None => ResourceClause::Absent,
            Some((negated, list)) => {
                let patterns = list
                    .values
                    .iter()
                    .map(|r| ArnPattern::new(r, syntax))
                    .collect();
                if *negated {
                    ResourceClause::NotResource(patterns)
                } else {
                    ResourceClause::Resource(patterns)
                }
            }
        };
        Self {
            policy,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            sid: statement.sid.as_deref().map(Arc::from),
            effect: statement.effect,
            principal,
            actions,
            resources,
            conditions: statement
                .condition
                .iter()
                .flat_map(|block| compile_block(block, variables))
                .collect(),
        }
    }

    /// Whether the statement applies to `request`; if so, how it names the
    /// caller. Cheap checks first: action, resource, principal, conditions.
    fn applies(&self, request: &Request, mode: ScanMode) -> Option<Grant> {
        let action = request.action.lower();
        let action_listed = self
            .actions
            .patterns
            .iter()
            .any(|p| p.matches(action, request) == Some(true));
        if action_listed == self.actions.negated {
            return None;
        }
        let resource_matches = |patterns: &[ArnPattern]| {
            patterns
                .iter()
                .any(|p| p.matches(&request.resource, request) == Some(true))
        };
        let resource_ok = match &self.resources {
            ResourceClause::Absent => true,
            ResourceClause::Resource(patterns) => resource_matches(patterns),
            ResourceClause::NotResource(patterns) => !resource_matches(patterns),
        };
        if !resource_ok {
            return None;
        }
        let grant = match (mode, &self.principal) {
            (ScanMode::AttachedToCaller, _) => Grant::Direct,
            (ScanMode::NamesPrincipals { .. }, PrincipalClause::Absent) => return None,
            (ScanMode::NamesPrincipals { .. }, PrincipalClause::Principal(matchers)) => matchers
                .iter()
                .map(|m| m.grant(&request.principal))
                .max()
                .unwrap_or(Grant::None),
            (
                ScanMode::NamesPrincipals {
                    caller_has_boundary,
                },
                PrincipalClause::NotPrincipal(matchers),
            ) => {
                // AWS: a Deny with NotPrincipal always denies callers that have
                // a permissions boundary, whatever the list says.
                let boundary_rule = caller_has_boundary && self.effect == Effect::Deny;
                if boundary_rule || !not_principal_excludes(matchers, &request.principal) {
                    Grant::Direct
                } else {
                    Grant::None
                }
            }
        };
        if grant == Grant::None {
            return None;
        }
        self.conditions
            .iter()
            .all(|c| c.matches(request))
            .then_some(grant)
    }

    /// Condition keys the statement reads (lowercased), for validation.
    #[cfg(test)]
    pub(crate) fn condition_keys(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(CompiledCondition::key)
    }
}

/// Statements by the actions they can match.
#[derive(Debug, Clone, Default)]
struct ActionIndex {
    /// Exact lowercased action names (`s3:getobject`).
    exact: KeyMap<Vec<u32>>,
    /// Service prefixes whose action part has wildcards (`s3` for `s3:Get*`).
    service: KeyMap<Vec<u32>>,
    /// Statements that may match any service: `*`, `s*:…`, `NotAction`.
    global: Vec<u32>,
}

impl ActionIndex {
    fn insert(&mut self, number: u32, statement: &CompiledStatement) {
        // INVARIANT: a statement lands in at most one list that any given
        // action consults, so scanning never evaluates it twice.
        let mut services: Vec<&str> = Vec::new();
        let mut exact: Vec<&str> = Vec::new();
        let mut global = statement.actions.negated;
        for pattern in statement.actions.patterns.iter() {
            match pattern.as_exact() {
                Some(name) => exact.push(name),
                None => match pattern_service(pattern) {
                    Some(service) => services.push(service),
                    None => global = true,
                },
            }
        }
        if global {
            self.global.push(number);
            return;
        }
        for service in &services {
            push_once(self.service.entry((*service).into()).or_default(), number);
        }
        for name in exact {
            let service = name.split_once(':').map_or(name, |(s, _)| s);
            if !services.contains(&service) {
                push_once(self.exact.entry(name.into()).or_default(), number);
            }
        }
    }

    /// Candidate statements for `action`, in document order (the three lists
    /// are each ascending, so they are merged rather than chained).
    fn candidates<'a>(&'a self, action: &Action) -> Candidates<'a> {
        Candidates {
            lists: [
                self.exact
                    .get(action.lower())
                    .map_or(&[][..], Vec::as_slice),
                self.service
                    .get(action.service())
                    .map_or(&[][..], Vec::as_slice),
                &self.global,
            ],
        }
    }
}

/// Merges three ascending lists of statement numbers.
struct Candidates<'a> {
    lists: [&'a [u32]; 3],
}

impl Iterator for Candidates<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let list = self
            .lists
            .iter_mut()
            .filter(|l| !l.is_empty())
            .min_by_key(|l| l.first().copied())?;
        let (first, rest) = list.split_first()?;
        *list = rest;
        Some(*first)
    }
}

fn push_once(list: &mut Vec<u32>, number: u32) {
    if list.last() != Some(&number) {
        list.push(number);
    }
}

/// The literal service prefix of a wildcard action pattern (`s3` for
/// `s3:Get*`), if the prefix itself has no wildcard.
fn pattern_service(pattern: &Pattern) -> Option<&str> {
    let source = pattern.source();
    let (service, _) = source.split_once(':')?;
    (!service.is_empty() && !service.contains(['*', '?'])).then_some(service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Principal;

    fn set(text: &str) -> PolicySet {
        PolicySet::single("p", &Policy::parse(text).unwrap())
    }

    #[test]
    fn index_only_yields_statements_for_the_action() {
        let set = set(r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:Get*", "s3:GetObject"], "Resource": "*"},
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
        ]}"#);
        let candidates: Vec<u32> = set.index.candidates(&Action::new("S3:GetObject")).collect();
        assert_eq!(candidates, vec![0, 1, 3, 4]);
        let candidates: Vec<u32> = set.index.candidates(&Action::new("s3:PutObject")).collect();
        assert_eq!(candidates, vec![1, 3, 4]);
        let candidates: Vec<u32> = set.index.candidates(&Action::new("kms:Decrypt")).collect();
        assert_eq!(candidates, vec![3, 4]);
    }

    #[test]
    fn scan_reports_matches() {
        let set = set(r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}}}
        ]}"#);
        let principal = Principal::parse("arn:aws:iam::123456789012:user/bob").unwrap();
        let request = Request::new(principal, "s3:getobject", "arn:aws:s3:::b/k");
        let mut matched = Vec::new();
        let result = set.scan(
            &request,
            ScanMode::AttachedToCaller,
            PolicyType::IdentityBased,
            &mut matched,
        );
        assert_eq!(result.allowed, Grant::None);
        let keys: Vec<&str> = set.statements[0].condition_keys().collect();
        assert_eq!(keys, vec!["aws:principaltag/team"]);
        let request =
            request.with_context(crate::Context::new().with("aws:PrincipalTag/team", "x"));
        let result = set.scan(
            &request,
            ScanMode::AttachedToCaller,
            PolicyType::IdentityBased,
            &mut matched,
        );
        assert_eq!(result.allowed, Grant::Direct);
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].sid.as_deref(), Some("A"));
    }
}
