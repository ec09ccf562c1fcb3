//! Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and
//! ValidateResourcePolicy. What the authorize step makes of a secret's policy is in
//! authorization.rs; the users and roles a saved policy names are bound to their unique IDs
//! ([`rampart_service::principal_ids`]).
//!
//! Whether a policy grants public access is decided as AWS documents its check ("broad access
//! … for example policies that use a wildcard for the principal"): an `Allow` statement whose
//! principal is any AWS principal (`"*"`, `{"AWS": "*"}`) or that uses `NotPrincipal`, unless
//! its condition pins the caller or the source to fixed values with a key that names them
//! (`aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:SourceAccount`, …) and an operator
//! that does not negate. AWS decides it with an automated reasoner (Zelkova); Rampart's rule
//! is that reasoner's documented outcome for these shapes, not the reasoner.

use rampart_policy::{Policy, PolicyKind};
use rampart_service::{Env, principal_ids};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SecretsError;
use crate::names;
use crate::records;
use crate::values::SecretNamed;

/// Condition keys that, set to fixed values, keep a wildcard principal from being public.
const NARROWING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "kms:calleraccount",
];

/// The text AWS answers when `BlockPublicPolicy` refuses a policy.
const PUBLIC: &str = "The BlockPublicPolicy parameter is set to true, and the resource policy did \
                      not prevent broad access to the secret.";

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn any_principal(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map
            .get("AWS")
            .is_some_and(|aws| as_list(aws).iter().any(|v| v.as_str() == Some("*"))),
        _ => false,
    }
}

/// Whether a statement's condition pins the caller or the source to fixed values.
fn narrowed(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let op = operator.to_ascii_lowercase();
        let negating = op.contains("not") || op.ends_with("ifexists");
        let fixed = op.starts_with("stringequals")
            || op.starts_with("arnequals")
            || op.starts_with("foranyvalue:stringequals");
        !negating
            && fixed
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, values)| {
                    NARROWING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                        && as_list(values).iter().all(|v| {
                            v.as_str()
                                .is_some_and(|s| !s.contains('*') && !s.is_empty())
                        })
                })
            })
    })
}

/// Whether `document` grants public access, as AWS's BlockPublicPolicy check decides it.
pub(crate) fn grants_public_access(document: &str) -> bool {
    let Ok(policy) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    let statements = policy.get("Statement").map(as_list).unwrap_or_default();
    statements.into_iter().any(|statement| {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let broad = statement.get("NotPrincipal").is_some()
            || statement.get("Principal").is_some_and(any_principal);
        allows && broad && !narrowed(statement.get("Condition"))
    })
}

/// Checks a resource policy's grammar, as a resource policy.
fn validate(document: &str) -> Result<(), SecretsError> {
    Policy::parse_as(document, PolicyKind::Resource)
        .map(|_| ())
        .map_err(|e| SecretsError::MalformedPolicyDocument(e.aws_message().to_owned()))
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutResourcePolicyInput {
    secret_id: String,
    resource_policy: String,
    policy_name: Option<String>,
    block_public_policy: Option<bool>,
}

/// PutResourcePolicy.
pub(crate) fn put_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutResourcePolicyInput,
) -> Result<SecretNamed, SecretsError> {
    if input.policy_name.is_some() {
        return Err(SecretsError::NotImplemented(
            "Rampart keeps one resource policy per secret; named policies (PolicyName) are not \
             implemented (see docs/COVERAGE.md)"
                .to_owned(),
        ));
    }
    let mut record = names::live(env, tx, &input.secret_id)?;
    validate(&input.resource_policy)?;
    if input.block_public_policy.unwrap_or(false) && grants_public_access(&input.resource_policy) {
        return Err(SecretsError::PublicPolicy(PUBLIC.to_owned()));
    }
    let ids =
        principal_ids::bind(env.directory, tx, &input.resource_policy).map_err(|e| match e {
            principal_ids::BindError::InvalidPrincipal(_) => SecretsError::MalformedPolicyDocument(
                "This resource policy contains an unsupported principal.".to_owned(),
            ),
            principal_ids::BindError::Store(e) => e.into(),
        })?;
    record.policy = Some(input.resource_policy);
    record.policy_principal_ids = ids;
    record.last_changed = env.now;
    records::save(tx, &record)?;
    Ok(SecretNamed {
        arn: record.arn,
        name: record.name,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SecretIdInput {
    pub(crate) secret_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetResourcePolicyOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy: Option<String>,
}

/// GetResourcePolicy: the policy as AWS shows it (a deleted principal by its unique ID).
pub(crate) fn get_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: SecretIdInput,
) -> Result<GetResourcePolicyOutput, SecretsError> {
    let record = names::live(env, tx, &input.secret_id)?;
    let resource_policy = match &record.policy {
        Some(document) => Some(
            principal_ids::shown(env.directory, tx, document, &record.policy_principal_ids)?
                .into_owned(),
        ),
        None => None,
    };
    Ok(GetResourcePolicyOutput {
        arn: record.arn,
        name: record.name,
        resource_policy,
    })
}

/// DeleteResourcePolicy.
pub(crate) fn delete_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SecretIdInput,
) -> Result<SecretNamed, SecretsError> {
    let mut record = names::live(env, tx, &input.secret_id)?;
    if record.policy.take().is_some() {
        record.policy_principal_ids = Default::default();
        record.last_changed = env.now;
        records::save(tx, &record)?;
    }
    Ok(SecretNamed {
        arn: record.arn,
        name: record.name,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ValidateResourcePolicyInput {
    secret_id: Option<String>,
    resource_policy: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ValidationError {
    check_name: &'static str,
    error_message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ValidateResourcePolicyOutput {
    policy_validation_passed: bool,
    validation_errors: Vec<ValidationError>,
}

/// ValidateResourcePolicy: the grammar, the principals, and broad access.
pub(crate) fn validate_resource_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ValidateResourcePolicyInput,
) -> Result<ValidateResourcePolicyOutput, SecretsError> {
    if let Some(id) = &input.secret_id {
        names::existing(env, tx, id)?;
    }
    let mut errors = Vec::new();
    if let Err(SecretsError::MalformedPolicyDocument(message)) = validate(&input.resource_policy) {
        errors.push(ValidationError {
            check_name: "SYNTAX_CHECK",
            error_message: message,
        });
    } else {
        match principal_ids::bind(env.directory, tx, &input.resource_policy) {
            Ok(_) => {}
            Err(principal_ids::BindError::InvalidPrincipal(p)) => errors.push(ValidationError {
                check_name: "PRINCIPAL_CHECK",
                error_message: format!(
                    "This resource policy contains an unsupported principal: {p}"
                ),
            }),
            Err(principal_ids::BindError::Store(e)) => return Err(e.into()),
        }
        if grants_public_access(&input.resource_policy) {
            errors.push(ValidationError {
                check_name: "BROAD_ACCESS_CHECK",
                error_message: "The resource policy grants broad access to the secret: a \
                                wildcard principal without a condition that narrows it."
                    .to_owned(),
            });
        }
    }
    Ok(ValidateResourcePolicyOutput {
        policy_validation_passed: errors.is_empty(),
        validation_errors: errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(principal: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"secretsmanager:GetSecretValue","Resource":"*"{condition}}}]}}"#
        )
    }

    #[test]
    fn wildcard_principals_are_public_unless_narrowed() {
        assert!(grants_public_access(&statement(r#""*""#, "")));
        assert!(grants_public_access(&statement(r#"{"AWS":"*"}"#, "")));
        assert!(grants_public_access(&statement(
            r#"{"AWS":["arn:aws:iam::1:root","*"]}"#,
            ""
        )));
        assert!(!grants_public_access(&statement(
            r#"{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ""
        )));
        assert!(!grants_public_access(&statement(
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#
        )));
        // A negated or wildcard condition does not narrow.
        assert!(grants_public_access(&statement(
            r#""*""#,
            r#","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}"#
        )));
        assert!(grants_public_access(&statement(
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"*"}}"#
        )));
        assert!(grants_public_access(&statement(
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#
        )));
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;
        assert!(!grants_public_access(deny));
    }
}
