//! Resource policies (trust policies, key policies, …) name IAM users and roles by ARN, and AWS
//! binds each such principal to the entity's unique ID when the policy is saved: a user or
//! role deleted and created again under the same name is a new principal that the old policy
//! does not name, and the policy then shows the old entity's unique ID in place of its ARN.
//! A service keeps a [`PrincipalIds`] beside each stored resource policy, made by [`bind`]
//! when the policy is saved, passes it to the authorize step with the document
//! ([`crate::ResourcePolicy::principal_ids`]), and shows the document through [`shown`].

use std::borrow::Cow;

use rampart_store::{ReadTx, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::directory::{Directory, PrincipalLookup};

/// The IAM users and roles a stored resource policy names: each principal value as written,
/// with the unique ID of the entity it named when the policy was saved (empty for an account
/// Rampart does not serve, which matches nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrincipalIds(pub Vec<(String, String)>);

impl PrincipalIds {
    /// Whether the policy names no user or role.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a policy's principals cannot be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// A principal names a user or role that does not exist, or is a bare unique ID (which
    /// AWS accepts in no policy it is given): the service answers its invalid-principal error.
    #[error("invalid principal {0}")]
    InvalidPrincipal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Binds the users and roles `document` names to their unique IDs, as AWS does when a
/// resource policy is saved. A document that does not parse binds nothing (the service's own
/// validation answers it).
pub fn bind(
    directory: &dyn Directory,
    tx: &mut dyn ReadTx,
    document: &str,
) -> Result<PrincipalIds, BindError> {
    let Ok(policy) = serde_json::from_str::<Value>(document) else {
        return Ok(PrincipalIds::default());
    };
    let mut ids: Vec<(String, String)> = Vec::new();
    for value in aws_principals(&policy) {
        if looks_like_unique_id(value) {
            return Err(BindError::InvalidPrincipal(value.to_owned()));
        }
        if !names_user_or_role(value) || ids.iter().any(|(written, _)| written == value) {
            continue;
        }
        let id = match directory.principal(tx, value)? {
            PrincipalLookup::Found(id) => id,
            PrincipalLookup::NotFound => {
                return Err(BindError::InvalidPrincipal(value.to_owned()));
            }
            PrincipalLookup::AccountNotServed => String::new(),
        };
        ids.push((value.to_owned(), id));
    }
    Ok(PrincipalIds(ids))
}

/// `document` as AWS shows it: a bound principal whose entity is gone appears as the entity's
/// unique ID, one renamed or moved under its new ARN; otherwise the document as saved.
pub fn shown<'d>(
    directory: &dyn Directory,
    tx: &mut dyn ReadTx,
    document: &'d str,
    ids: &PrincipalIds,
) -> Result<Cow<'d, str>, StoreError> {
    // The bound entities no longer under the name written, by account.
    let mut broken: Vec<(&str, &str, &str)> = Vec::new();
    for (written, id) in &ids.0 {
        if id.is_empty() || directory.principal(tx, written)? == PrincipalLookup::Found(id.clone())
        {
            continue;
        }
        let account = written.split(':').nth(4).unwrap_or_default();
        broken.push((account, written, id));
    }
    let mut accounts: Vec<&str> = broken.iter().map(|(account, _, _)| *account).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let mut now_named: Vec<(String, String)> = Vec::new();
    for account in accounts {
        let wanted: Vec<&str> = broken
            .iter()
            .filter(|(a, _, _)| *a == account)
            .map(|(_, _, id)| *id)
            .collect();
        now_named.extend(directory.principal_arns(tx, account, &wanted)?);
    }
    let replaced: Vec<(&str, String)> = broken
        .iter()
        .map(|(_, written, id)| {
            let now = now_named.iter().find(|(found, _)| found == id);
            (
                *written,
                now.map_or_else(|| (*id).to_owned(), |(_, arn)| arn.clone()),
            )
        })
        .collect();
    if replaced.is_empty() {
        return Ok(Cow::Borrowed(document));
    }
    let Ok(mut policy) = serde_json::from_str::<Value>(document) else {
        return Ok(Cow::Borrowed(document));
    };
    for_each_aws_principal(&mut policy, &mut |value| {
        if let Some((_, now)) = replaced
            .iter()
            .find(|(written, _)| *written == value.as_str())
        {
            *value = now.clone();
        }
    });
    // Re-serialized only when a principal changed (keys then come out in sorted order).
    Ok(Cow::Owned(policy.to_string()))
}

/// Every `AWS` value of every `Principal` and `NotPrincipal` of `policy`.
fn aws_principals(policy: &Value) -> Vec<&str> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let mut values = Vec::new();
    for statement in statements {
        for element in ["Principal", "NotPrincipal"] {
            match statement.get(element).and_then(|p| p.get("AWS")) {
                Some(Value::String(one)) => values.push(one.as_str()),
                Some(Value::Array(list)) => values.extend(list.iter().filter_map(Value::as_str)),
                _ => {}
            }
        }
    }
    values
}

/// Calls `f` on every `AWS` value of every `Principal` and `NotPrincipal` of `policy`.
fn for_each_aws_principal(policy: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let statements: Vec<&mut Value> = match policy.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for statement in statements {
        for element in ["Principal", "NotPrincipal"] {
            match statement.get_mut(element).and_then(|p| p.get_mut("AWS")) {
                Some(Value::String(one)) => f(one),
                Some(Value::Array(list)) => list.iter_mut().for_each(|v| {
                    if let Value::String(one) = v {
                        f(one);
                    }
                }),
                _ => {}
            }
        }
    }
}

/// Whether `value` is a user or role ARN with no wildcard (`arn:aws:iam::<account>:user/…`).
fn names_user_or_role(value: &str) -> bool {
    let Some(arn) = crate::EventResource::parts(value) else {
        return false;
    };
    arn.service == "iam"
        && arn.region.is_empty()
        && arn.account.len() == 12
        && arn.account.bytes().all(|b| b.is_ascii_digit())
        && (arn.resource.starts_with("user/") || arn.resource.starts_with("role/"))
        && !value.contains(['*', '?'])
}

/// Whether `value` is a user's or role's unique ID (`AIDA…`, `AROA…`), which a policy shows
/// for a deleted principal and AWS refuses in a policy it is given.
fn looks_like_unique_id(value: &str) -> bool {
    (value.starts_with("AIDA") || value.starts_with("AROA"))
        && value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use rampart_store::{SqliteStore, Store};
    use serde_json::json;

    use super::*;

    /// Users and roles by ARN, in the served account 123456789012 only.
    #[derive(Default)]
    struct Entities(Mutex<BTreeMap<String, String>>);

    impl Directory for Entities {
        fn principal(&self, _: &mut dyn ReadTx, arn: &str) -> Result<PrincipalLookup, StoreError> {
            if !arn.contains(":123456789012:") {
                return Ok(PrincipalLookup::AccountNotServed);
            }
            Ok(match self.0.lock().unwrap().get(arn) {
                Some(id) => PrincipalLookup::Found(id.clone()),
                None => PrincipalLookup::NotFound,
            })
        }
        fn principal_arns(
            &self,
            _: &mut dyn ReadTx,
            _: &str,
            unique_ids: &[&str],
        ) -> Result<Vec<(String, String)>, StoreError> {
            let entities = self.0.lock().unwrap();
            Ok(entities
                .iter()
                .filter(|(_, id)| unique_ids.contains(&id.as_str()))
                .map(|(arn, id)| (id.clone(), arn.clone()))
                .collect())
        }
    }

    const BOB: &str = "arn:aws:iam::123456789012:user/bob";
    const ADMIN: &str = "arn:aws:iam::123456789012:role/ops/Admin";

    fn policy(principal: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*",
             "Condition": {"ArnEquals": {"aws:PrincipalArn": BOB}}}]})
        .to_string()
    }

    #[test]
    fn users_and_roles_are_bound_and_shown_as_aws_shows_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with_options(
            &dir.path().join("t.db"),
            &rampart_store::SqliteOptions::small(),
        )
        .unwrap();
        let entities = Entities::default();
        entities
            .0
            .lock()
            .unwrap()
            .insert(BOB.into(), "AIDABOB0000000000001".into());
        entities
            .0
            .lock()
            .unwrap()
            .insert(ADMIN.into(), "AROAADMIN00000000001".into());
        let foreign = "arn:aws:iam::210987654321:role/Elsewhere";
        let document = policy(json!({"AWS": [BOB, ADMIN, foreign, "123456789012",
            "arn:aws:sts::123456789012:assumed-role/Admin/s"], "Service": "kms.amazonaws.com"}));
        store
            .read(&mut |tx| {
                let ids = bind(&entities, tx, &document).unwrap();
                assert_eq!(
                    ids.0,
                    [
                        (BOB.to_owned(), "AIDABOB0000000000001".to_owned()),
                        (ADMIN.to_owned(), "AROAADMIN00000000001".to_owned()),
                        (foreign.to_owned(), String::new()),
                    ]
                );
                // While every entity stands, the document is shown as saved.
                let same = shown(&entities, tx, &document, &ids).unwrap();
                assert!(matches!(same, Cow::Borrowed(_)));
                // Bob deleted and re-created: the policy shows the old Bob's ID, and leaves
                // the condition that names Bob's ARN as written.
                entities
                    .0
                    .lock()
                    .unwrap()
                    .insert(BOB.into(), "AIDABOB0000000000002".into());
                let changed: Value =
                    serde_json::from_str(&shown(&entities, tx, &document, &ids).unwrap()).unwrap();
                let statement = &changed["Statement"][0];
                assert_eq!(statement["Principal"]["AWS"][0], "AIDABOB0000000000001");
                assert_eq!(statement["Principal"]["AWS"][1], ADMIN);
                assert_eq!(statement["Condition"]["ArnEquals"]["aws:PrincipalArn"], BOB);
                // The role moved to another path: shown under its new ARN.
                let moved = "arn:aws:iam::123456789012:role/Admin";
                let mut map = entities.0.lock().unwrap();
                map.remove(ADMIN);
                map.insert(moved.into(), "AROAADMIN00000000001".into());
                drop(map);
                let changed: Value =
                    serde_json::from_str(&shown(&entities, tx, &document, &ids).unwrap()).unwrap();
                assert_eq!(changed["Statement"][0]["Principal"]["AWS"][1], moved);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn missing_entities_and_bare_ids_are_invalid_principals() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with_options(
            &dir.path().join("t.db"),
            &rampart_store::SqliteOptions::small(),
        )
        .unwrap();
        let entities = Entities::default();
        store
            .read(&mut |tx| {
                for principal in [json!({"AWS": BOB}), json!({"AWS": "AROAADMIN00000000001"})] {
                    let refused = bind(&entities, tx, &policy(principal));
                    assert!(matches!(refused, Err(BindError::InvalidPrincipal(_))));
                }
                // A wildcard, an account, a session: nothing to bind.
                for principal in [
                    json!("*"),
                    json!({"AWS": "*"}),
                    json!({"AWS": "123456789012"}),
                ] {
                    assert!(
                        bind(&entities, tx, &policy(principal))
                            .unwrap()
                            .0
                            .is_empty()
                    );
                }
                // One statement, not a list; NotPrincipal too.
                let single = json!({"Statement": {"Effect": "Deny",
                    "NotPrincipal": {"AWS": ADMIN}, "Action": "*", "Resource": "*"}});
                let refused = bind(&entities, tx, &single.to_string());
                assert!(matches!(refused, Err(BindError::InvalidPrincipal(v)) if v == ADMIN));
                Ok(())
            })
            .unwrap();
    }
}
