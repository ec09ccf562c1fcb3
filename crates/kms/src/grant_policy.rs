//! What a key's grants add to its key policy for one request, so the authorize step decides
//! grants as it decides any key policy statement.
//!
//! The grantee gets the grant's operations, those that take an encryption context under the
//! grant's encryption-context constraint. What else a grant allows depends on the request
//! ([`GrantUse`]): its CreateGrant permission covers only child grants within it (AWS's
//! "Granting CreateGrant permission"), and retiring is allowed only for the grant itself, by
//! its retiring principal, its grantee when it allows RetireGrant, and the accounts that
//! issued it, own its key, or retire it.

use std::collections::BTreeMap;

use rampart_service::Value;
use serde_json::json;

use crate::authorization::principal_matches;
use crate::records::{GrantConstraints, GrantRecord};

/// What a request asks of the grants on its key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GrantUse<'a> {
    /// An operation a grant allows by naming it (Encrypt, DescribeKey, …).
    Operation,
    /// CreateGrant of this child grant.
    CreateGrant(&'a ChildGrant),
    /// RetireGrant of the grant with this ID.
    RetireGrant(&'a str),
}

/// The grant a CreateGrant request asks for, as far as a parent grant limits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ChildGrant {
    operations: Vec<String>,
    constraints: Option<GrantConstraints>,
}

impl ChildGrant {
    /// The child grant a CreateGrant request's input asks for. Constraints that cannot be
    /// read count as none, the least strict: they can only make a parent refuse.
    pub(crate) fn of_request(input: &Value) -> Self {
        let operations = input
            .get("Operations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|op| op.as_str().map(str::to_owned))
            .collect();
        let constraints = input
            .get("Constraints")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        Self {
            operations,
            constraints,
        }
    }

    /// Whether `parent`'s CreateGrant permission covers this child, as AWS documents
    /// ("Granting CreateGrant permission"): the child allows some or all of the parent's
    /// operations, and its grant constraints are at least as strict as the parent's.
    pub(crate) fn is_within(&self, parent: &GrantRecord) -> bool {
        self.operations
            .iter()
            .all(|op| parent.operations.contains(op))
            && at_least_as_strict(
                Constraint::of(self.constraints.as_ref()),
                Constraint::of(parent.constraints.as_ref()),
            )
    }
}

/// A grant's encryption-context constraint, as it takes effect: `EncryptionContextEquals`
/// wins when both are given (see [`grant_statements`]).
#[derive(Debug, Clone, Copy)]
enum Constraint<'a> {
    None,
    /// The request's encryption context must include these pairs.
    Subset(&'a BTreeMap<String, String>),
    /// The request's encryption context must be exactly these pairs.
    Equals(&'a BTreeMap<String, String>),
}

impl<'a> Constraint<'a> {
    fn of(constraints: Option<&'a GrantConstraints>) -> Self {
        match constraints {
            Some(GrantConstraints {
                equals: Some(pairs),
                ..
            }) => Self::Equals(pairs),
            Some(GrantConstraints {
                subset: Some(pairs),
                ..
            }) => Self::Subset(pairs),
            _ => Self::None,
        }
    }
}

/// Whether a child grant's constraint allows no encryption context its parent's refuses.
/// AWS: "the child grant can add pairs to an EncryptionContextSubset constraint in the parent
/// grant, but it cannot remove them. The child grant can change an EncryptionContextSubset
/// constraint to an EncryptionContextEquals constraint, but not the reverse." Constraint keys
/// compare without regard to case, values with it, as grant constraints match them.
fn at_least_as_strict(child: Constraint<'_>, parent: Constraint<'_>) -> bool {
    let keeps = |child: &BTreeMap<String, String>, parent: &BTreeMap<String, String>| {
        parent.iter().all(|(key, value)| {
            child
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(key) && v == value)
        })
    };
    match (parent, child) {
        (Constraint::None, _) => true,
        (Constraint::Subset(parent), Constraint::Subset(child) | Constraint::Equals(child)) => {
            keeps(child, parent)
        }
        (Constraint::Subset(parent), Constraint::None) => parent.is_empty(),
        // Exactly these pairs: only the same pairs are as strict.
        (Constraint::Equals(parent), Constraint::Equals(child)) => parent == child,
        (Constraint::Equals(_), _) => false,
    }
}

/// The grant operations that take an encryption context, to which a grant's constraints
/// apply; they do not apply to the others (DescribeKey, CreateGrant, RetireGrant, …).
const CONSTRAINED_OPERATIONS: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

/// The key policy statements `grant` adds for `caller_arn` for a request that makes `use_`
/// of grants: none when the grant does not name the caller or allows nothing this request
/// needs.
///
/// - The grantee gets the grant's operations; those that take an encryption context only
///   under the grant's constraints.
/// - CreateGrant counts only for a child grant within this one (a principal allowed
///   CreateGrant by a key policy or IAM policy is not limited so: those statements stand
///   beside these).
/// - RetireGrant counts only for retiring this grant, by its retiring principal, or by its
///   grantee when it allows RetireGrant.
pub(crate) fn grant_statements(
    grant: &GrantRecord,
    caller_arn: &str,
    use_: GrantUse<'_>,
) -> Vec<Value> {
    let grantee = principal_matches(&grant.grantee_principal, caller_arn);
    let retiring = grant
        .retiring_principal
        .as_deref()
        .is_some_and(|p| principal_matches(p, caller_arn));
    let allows = |op: &str| grantee && grant.operations.iter().any(|o| o == op);
    let mut constrained = Vec::new();
    let mut free = Vec::new();
    match use_ {
        GrantUse::Operation => {
            for op in grant.operations.iter().filter(|_| grantee) {
                match op.as_str() {
                    // Only for a request about the grant they manage (below).
                    "CreateGrant" | "RetireGrant" => {}
                    op if CONSTRAINED_OPERATIONS.contains(&op) => constrained.push(op),
                    op => free.push(op),
                }
            }
        }
        GrantUse::CreateGrant(child) => {
            if allows("CreateGrant") && child.is_within(grant) {
                free.push("CreateGrant");
            }
        }
        GrantUse::RetireGrant(grant_id) => {
            if grant.grant_id == grant_id && (retiring || allows("RetireGrant")) {
                free.push("RetireGrant");
            }
        }
    }
    let mut statements = Vec::new();
    if !constrained.is_empty() {
        statements.push(statement(
            &format!("Grant{}", grant.grant_id),
            &constrained,
            constraint_conditions(grant.constraints.as_ref()),
        ));
    }
    if !free.is_empty() {
        statements.push(statement(
            &format!("Grant{}Unconstrained", grant.grant_id),
            &free,
            serde_json::Map::new(),
        ));
    }
    statements
}

/// The conditions a grant's encryption-context constraint puts on its operations.
fn constraint_conditions(constraints: Option<&GrantConstraints>) -> serde_json::Map<String, Value> {
    let mut condition = serde_json::Map::new();
    let pairs = match Constraint::of(constraints) {
        Constraint::None => return condition,
        Constraint::Subset(pairs) => pairs,
        Constraint::Equals(pairs) => {
            // Equals: no pair beyond the constraint's.
            condition.insert(
                "ForAllValues:StringEquals".to_owned(),
                json!({"kms:EncryptionContextKeys": pairs.keys().collect::<Vec<_>>()}),
            );
            pairs
        }
    };
    let equals: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (format!("kms:EncryptionContext:{k}"), json!(v)))
        .collect();
    if !equals.is_empty() {
        condition.insert("StringEquals".to_owned(), Value::Object(equals));
    }
    condition
}

/// A statement of a grant that names the caller. The document it joins is built for this
/// caller alone, so `*` names exactly the caller; its ARN would instead be bound to whatever
/// entity the key policy bound that ARN to when it was saved (a user since re-created).
fn statement(sid: &str, operations: &[&str], condition: serde_json::Map<String, Value>) -> Value {
    let actions: Vec<String> = operations.iter().map(|op| format!("kms:{op}")).collect();
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": actions,
        "Resource": "*",
    });
    if !condition.is_empty()
        && let Some(obj) = statement.as_object_mut()
    {
        obj.insert("Condition".to_owned(), Value::Object(condition));
    }
    statement
}

/// The key policy statements that let an account retire a grant: the account that issued
/// the grant, the account that owns the key, and the retiring principal when it is an
/// account (each delegates to its IAM policies, as a key policy's account principal does).
/// They stand in for the key policy's own Allow statements, which AWS does not count for
/// RetireGrant.
pub(crate) fn retiring_accounts(key_account: &str, grant: Option<&GrantRecord>) -> Vec<Value> {
    let mut accounts = vec![format!("arn:aws:iam::{key_account}:root")];
    if let Some(grant) = grant {
        let retiring_account = grant
            .retiring_principal
            .as_deref()
            .and_then(account_principal)
            .map(|account| format!("arn:aws:iam::{account}:root"));
        for account in [Some(grant.issuing_account.clone()), retiring_account]
            .into_iter()
            .flatten()
        {
            if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
    }
    vec![json!({
        "Sid": "GrantRetiringAccounts",
        "Effect": "Allow",
        "Principal": {"AWS": accounts},
        "Action": "kms:RetireGrant",
        "Resource": "*",
    })]
}

/// The account a principal names when it is a whole account (`arn:aws:iam::<account>:root`
/// or the account ID).
fn account_principal(principal: &str) -> Option<&str> {
    let account = match principal.strip_prefix("arn:aws:iam::") {
        Some(rest) => rest.strip_suffix(":root")?,
        None => principal,
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}
