//! IAM's own condition keys that a request carries in its input (AWS's Service Authorization
//! Reference lists which actions carry each; the spine keeps a key only for those).

use rampart_service::{Env, Value};

use crate::resources::member;

/// The keys whose values are input members, as (member, key).
const FROM_INPUT: &[(&str, &str)] = &[
    // Attach/Detach{User,Group,Role}Policy: the policy attached or detached.
    ("PolicyArn", "iam:PolicyARN"),
    // CreateUser, CreateRole, Put{User,Role}PermissionsBoundary: the boundary the request
    // sets wins over the entity's current one.
    ("PermissionsBoundary", "iam:PermissionsBoundary"),
    ("AWSServiceName", "iam:AWSServiceName"),
    ("OrganizationsPolicyId", "iam:OrganizationsPolicyId"),
    ("ServiceName", "iam:ServiceSpecificCredentialServiceName"),
];

/// The IAM keys `input` carries.
pub(crate) fn condition_keys(_: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = FROM_INPUT
        .iter()
        .filter_map(|(name, key)| {
            member(input, name).map(|v| ((*key).to_owned(), vec![v.to_owned()]))
        })
        .collect();
    if let Some(days) = input.get("CredentialAgeDays").and_then(Value::as_i64) {
        keys.push((
            "iam:ServiceSpecificCredentialAgeDays".to_owned(),
            vec![days.to_string()],
        ));
    }
    keys
}
