//! What the authorize step needs for each operation, as AWS authorizes Parameter Store: the
//! parameter's ARN (`arn:aws:ssm:<region>:<account>:parameter/<name without its leading
//! slash>`, the path included), its tags (`aws:ResourceTag/*` and `ssm:resourceTag/*`), and
//! the keys the Service Authorization Reference lists (`ssm:Overwrite`, `ssm:Policies`,
//! `ssm:Recursive`, `aws:RequestTag/*`, `aws:TagKeys`).
//!
//! GetParametersByPath is authorized on the path alone, as AWS documents it: access to a path
//! is access to every level below it (deny `ssm:Recursive` to stop recursive reads).
//! Decrypting a SecureString is KMS's own `kms:Decrypt`, authorized by the spine when the
//! handler calls KMS.

use rampart_service::{AwsError, Env, Resource, Value};
use rampart_store::ReadTx;

use crate::error::SsmError;
use crate::names::{self, parameter_arn};
use crate::records;

fn store(e: rampart_store::StoreError) -> AwsError {
    SsmError::Store(e).into()
}

/// A parameter a request names by `given`, with what describes it when it exists.
fn parameter(env: &Env<'_>, tx: &mut dyn ReadTx, given: &str) -> Result<Resource, AwsError> {
    let Some((name, _)) = names::lookup(env, given, true) else {
        // Not a name of the caller's: authorized as named (a foreign ARN as it is), found by
        // no handler.
        let arn = if given.starts_with("arn:") {
            given.split(':').take(6).collect::<Vec<_>>().join(":")
        } else {
            parameter_arn(env.region, &env.caller.account_id, given)
        };
        return Ok(Resource::named(arn));
    };
    let resource = Resource::named(name.arn(env));
    Ok(
        match records::load_tags(tx, env, &name.key).map_err(store)? {
            Some(tags) => described(resource, &tags),
            None => resource,
        },
    )
}

/// `resource` with its tags, as both tag keys name them.
fn described(resource: Resource, tags: &[(String, String)]) -> Resource {
    let mut resource = resource.with_tags(tags.iter().cloned());
    for (key, value) in tags {
        resource = resource.with_key(format!("ssm:resourceTag/{key}"), vec![value.clone()]);
    }
    resource
}

fn string<'a>(input: &'a Value, member: &str) -> &'a str {
    input
        .get(member)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The parameter in `Name` (a selector ignored: the version is no resource of its own).
pub(crate) fn named_parameter(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![parameter(env, tx, string(input, "Name"))?])
}

/// Every parameter in `Names`, once each: each must be allowed.
pub(crate) fn named_parameters(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let mut resources: Vec<Resource> = Vec::new();
    let names = input.get("Names").and_then(Value::as_array);
    for name in names.into_iter().flatten().filter_map(Value::as_str) {
        let resource = parameter(env, tx, name)?;
        if !resources.iter().any(|r| r.arn == resource.arn) {
            resources.push(resource);
        }
    }
    Ok(resources)
}

/// The path GetParametersByPath reads (a parameter's tags too, when one has that name).
pub(crate) fn path(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let given = string(input, "Path");
    let trimmed = given.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(vec![Resource::named(parameter_arn(
            env.region,
            &env.caller.account_id,
            "",
        ))]);
    }
    Ok(vec![parameter(env, tx, trimmed)?])
}

/// The resource a tagging call names: a parameter (other resource types are not Rampart's).
pub(crate) fn tagged(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let kind = string(input, "ResourceType");
    if kind != "Parameter" {
        return Err(SsmError::NotImplemented(format!(
            "Rampart tags Parameter Store parameters only, not resources of type {kind}"
        ))
        .into());
    }
    Ok(vec![parameter(env, tx, string(input, "ResourceId"))?])
}

/// The service setting in `SettingId` (its path or its ARN).
pub(crate) fn setting(
    env: &Env<'_>,
    _tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![Resource::named(crate::settings::setting_arn(
        env,
        string(input, "SettingId"),
    ))])
}

fn request_tags(input: &Value, keys: &mut Vec<(String, Vec<String>)>) {
    let tags = input.get("Tags").and_then(Value::as_array);
    let mut names = Vec::new();
    for tag in tags.into_iter().flatten() {
        let (key, value) = (string(tag, "Key"), string(tag, "Value"));
        keys.push((format!("aws:RequestTag/{key}"), vec![value.to_owned()]));
        names.push(key.to_owned());
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), names));
    }
}

fn flag(input: &Value, member: &str) -> Vec<String> {
    let on = input.get(member).and_then(Value::as_bool).unwrap_or(false);
    vec![on.to_string()]
}

/// PutParameter's keys: its tags, whether it overwrites, its policies.
pub(crate) fn put_parameter_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = vec![("ssm:Overwrite".to_owned(), flag(input, "Overwrite"))];
    if let Some(policies) = input.get("Policies").and_then(Value::as_str) {
        keys.push(("ssm:Policies".to_owned(), vec![policies.to_owned()]));
    }
    request_tags(input, &mut keys);
    keys
}

/// GetParametersByPath's key: whether it reads recursively.
pub(crate) fn by_path_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    vec![("ssm:Recursive".to_owned(), flag(input, "Recursive"))]
}

/// AddTagsToResource's keys: the tags it adds.
pub(crate) fn add_tags_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let mut keys = Vec::new();
    request_tags(input, &mut keys);
    keys
}

/// RemoveTagsFromResource's key: the tag keys it removes.
pub(crate) fn remove_tags_keys(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    vec![("aws:TagKeys".to_owned(), names)]
}
