//! ARNs and store keys of log groups, streams and metric filters, and the group a request
//! names (`logGroupName`, or `logGroupIdentifier`: a name or an ARN).
//!
//! Keys start with `<account>:<region>:<group>:`; a group name cannot hold `:` (the model's
//! pattern `[\.\-_/#A-Za-z0-9]+`) nor can a stream name (`[^:*]*`), so a group's prefix
//! never reaches into another group's records.

use rampart_service::Env;

use crate::error::LogsError;

/// `arn:aws:logs:<region>:<account>:log-group:<name>`, as tagging and IAM name a group.
pub(crate) fn group_arn(region: &str, account: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}")
}

/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>`.
pub(crate) fn stream_arn(region: &str, account: &str, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(region, account, group))
}

/// The key of the caller's group `name` in this region.
pub(crate) fn group_key(env: &Env<'_>, name: &str) -> String {
    format!("{}:{}:{name}", env.caller.account_id, env.region)
}

/// The prefix of every record under the group `name`.
pub(crate) fn under_group(env: &Env<'_>, name: &str) -> String {
    format!("{}:", group_key(env, name))
}

/// The prefix of every group of the caller in this region.
pub(crate) fn groups_prefix(env: &Env<'_>) -> String {
    format!("{}:{}:", env.caller.account_id, env.region)
}

/// The key of `stream` in `group`.
pub(crate) fn stream_key(env: &Env<'_>, group: &str, stream: &str) -> String {
    format!("{}{stream}", under_group(env, group))
}

/// The group a request names: `logGroupName`, or `logGroupIdentifier` (a name, or the ARN of
/// a group in the caller's account and region, with or without AWS's trailing `:*`). An ARN
/// of another account or region names no group of the caller's.
pub(crate) fn group_named(
    env: &Env<'_>,
    name: Option<&str>,
    identifier: Option<&str>,
) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::invalid(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(name), None) => Ok(name.to_owned()),
        (None, Some(identifier)) => match identifier.strip_prefix("arn:") {
            None => Ok(identifier.to_owned()),
            Some(_) => {
                let own = group_arn(env.region, &env.caller.account_id, "");
                identifier
                    .strip_prefix(own.as_str())
                    .map(|rest| rest.strip_suffix(":*").unwrap_or(rest).to_owned())
                    .filter(|name| !name.is_empty() && !name.contains(':'))
                    .ok_or_else(LogsError::no_group)
            }
        },
        (None, None) => Err(LogsError::invalid(
            "Either LogGroup name or LogGroup ARN must be specified.",
        )),
    }
}
