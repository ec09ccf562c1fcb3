//! A trail's CloudWatch Logs delivery (`CloudWatchLogsLogGroupArn`, `CloudWatchLogsRoleArn`):
//! checked by CreateTrail and UpdateTrail as CloudTrail checks them, and the progress the
//! server's CloudWatch Logs deliverer keeps per trail.
//!
//! As AWS does it: both are given together (an empty pair turns delivery off); the group
//! ARN is `arn:aws:logs:<region>:<account>:log-group:<name>:*` in the trail's region and
//! account; CloudTrail assumes the role (an `sts:AssumeRole` call of its own principal,
//! `cloudtrail.amazonaws.com`, which the role's trust policy must allow, with `aws:SourceArn`
//! and `aws:SourceAccount` naming the trail), then, as the role, creates the stream
//! `<account>_CloudTrail_<region>` and checks that it may put events there. Every call goes
//! through the spine, which authorizes and records it; this file evaluates no policy.

use rampart_service::{AwsError, CallPrincipal, Env, RunAs, ServiceCall, Value};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::encryption::SERVICE_PRINCIPAL;
use crate::error::CloudTrailError;
use crate::trails::{TRAILS_NS, TrailRecord};

/// Where the CloudWatch Logs deliverer keeps each trail's progress: `<account>/<name>`, tagged
/// with the trail's [`TrailRecord::trail_id`].
pub const LOGS_DELIVERY_NS: &str = "cloudtrail/logs-delivery";

/// AWS's text when the role's trust policy does not let CloudTrail assume it.
const TRUST_DENIED: &str =
    "Access denied. Verify in IAM that the role has adequate trust relationships.";
/// AWS's text when the role may not create the stream or put events in the group.
const PERMISSIONS_DENIED: &str =
    "Access denied. Verify in IAM that the role has adequate permissions.";

/// The stream CloudTrail delivers a trail's events to, as AWS names it:
/// `<account>_CloudTrail_<trail region>`. CloudTrail's role sessions carry the same name.
pub fn stream_name(trail: &TrailRecord) -> String {
    format!("{}_CloudTrail_{}", trail.account_id, trail.home_region)
}

/// A trail's CloudWatch Logs settings, as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsTarget {
    /// The group's name.
    pub group: String,
    /// The role, by unique ID: a role deleted and made again under its name is another one,
    /// and delivery as it is refused.
    pub role: RunAs,
    /// When delivery was set up (Unix seconds): events before it are not sent.
    pub since: i64,
}

/// The CloudWatch Logs deliverer's progress for one trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsDeliveryState {
    /// The [`TrailRecord::trail_id`] of the trail whose progress this is.
    pub trail_id: String,
    /// The last journal sequence number already sent (or skipped) for the trail.
    pub position: u64,
    /// The group the stream was made in (it is made again when the group changes).
    #[serde(default)]
    pub stream_made_in: Option<String>,
    /// When events were last delivered (Unix seconds).
    #[serde(default)]
    pub latest_delivery_time: Option<i64>,
    /// Why the last attempt failed (the error CloudWatch Logs answered); cleared on success.
    #[serde(default)]
    pub latest_delivery_error: Option<String>,
    /// Attempts failed in a row since the last success.
    #[serde(default)]
    pub failures: u32,
    /// After a failure, no attempt before this time (Unix milliseconds).
    #[serde(default)]
    pub retry_after: Option<i64>,
    /// The role of CloudTrail's current session (as the last AssumeRole named it) and when
    /// the session ends (Unix seconds): CloudTrail assumes the role again after that, so a
    /// trust policy that no longer allows it stops delivery.
    #[serde(default)]
    pub session: Option<(RunAs, i64)>,
}

/// `trail`'s CloudWatch Logs progress: the stored one if it is this trail's, else none yet.
pub fn logs_delivery_state(
    tx: &mut (impl ReadTx + ?Sized),
    trail: &TrailRecord,
) -> Result<LogsDeliveryState, StoreError> {
    let stored: Option<LogsDeliveryState> = get_json(tx, LOGS_DELIVERY_NS, &trail.key())?;
    Ok(stored
        .filter(|state| state.trail_id == trail.trail_id)
        .unwrap_or_else(|| LogsDeliveryState {
            trail_id: trail.trail_id.clone(),
            ..LogsDeliveryState::default()
        }))
}

/// Stores `state` if `trail` still exists as the same trail; whether it did.
pub fn save_logs_delivery_state(
    tx: &mut (impl WriteTx + ?Sized),
    trail: &TrailRecord,
    state: &LogsDeliveryState,
) -> Result<bool, StoreError> {
    let current: Option<TrailRecord> = get_json(tx, TRAILS_NS, &trail.key())?;
    if current.is_none_or(|current| current.trail_id != trail.trail_id) {
        return Ok(false);
    }
    let state = LogsDeliveryState {
        trail_id: trail.trail_id.clone(),
        ..state.clone()
    };
    put_json(tx, LOGS_DELIVERY_NS, &trail.key(), &state)?;
    Ok(true)
}

/// The group name of `arn:aws:logs:<region>:<account>:log-group:<name>:*`, when the ARN has
/// that form in `region` and `account`.
pub fn group_of<'a>(arn: &'a str, region: &str, account: &str) -> Option<&'a str> {
    let rest = arn.strip_prefix("arn:aws:logs:")?;
    let (arn_region, rest) = rest.split_once(':')?;
    let (arn_account, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("log-group:")?.strip_suffix(":*")?;
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
    (arn_region == region && arn_account == account && name_ok).then_some(name)
}

/// Whether `arn` is an IAM role ARN of `account`.
pub fn is_role_arn(arn: &str, account: &str) -> bool {
    arn.strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(arn_account, name)| arn_account == account && !name.is_empty())
}

/// The call CloudTrail makes as the delivery role to CloudWatch Logs.
pub fn logs_call<'a>(
    operation: &'a str,
    input: Value,
    role: &'a RunAs,
    session_name: &'a str,
) -> ServiceCall<'a> {
    ServiceCall {
        service: "logs",
        operation,
        input,
        principal: CallPrincipal::Principal {
            principal: role,
            session_name,
        },
    }
}

/// CloudTrail's `sts:AssumeRole` call for `trail`'s delivery role, as its own principal (the
/// role's trust policy decides, with `aws:SourceArn` and `aws:SourceAccount` naming the trail).
pub fn assume_role_call<'a>(
    trail_arn: &'a str,
    account: &'a str,
    role_arn: &str,
    session_name: &str,
) -> ServiceCall<'a> {
    ServiceCall {
        service: "sts",
        operation: "AssumeRole",
        input: json!({"RoleArn": role_arn, "RoleSessionName": session_name}),
        principal: CallPrincipal::Service {
            principal: SERVICE_PRINCIPAL,
            source_arn: trail_arn,
            source_account: account,
            via: None,
        },
    }
}

/// The role an AssumeRole answer names, by unique ID, in `account`.
pub fn assumed_role(output: &Value, account: &str) -> Option<RunAs> {
    output
        .pointer("/AssumedRoleUser/AssumedRoleId")
        .and_then(Value::as_str)
        .and_then(|id| id.split_once(':'))
        .map(|(role_id, _)| RunAs {
            account: account.to_owned(),
            unique_id: role_id.to_owned(),
        })
}

/// Whether `error` is a denial (by a policy, a guardrail, or a principal gone).
pub fn is_denial(error: &AwsError) -> bool {
    matches!(
        error.code.as_ref(),
        "AccessDeniedException" | "AccessDenied"
    )
}

/// Checks the pair CreateTrail or UpdateTrail gives for `trail` (after the change) and
/// returns what delivery runs with: `None` when both are empty (delivery off).
pub(crate) fn check(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    trail: &TrailRecord,
    group_arn: Option<&str>,
    role_arn: Option<&str>,
) -> Result<Option<LogsTarget>, CloudTrailError> {
    let (group_arn, role_arn) = match (
        group_arn.filter(|g| !g.is_empty()),
        role_arn.filter(|r| !r.is_empty()),
    ) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(CloudTrailError::InvalidCloudWatchLogsRoleArn(
                "You must specify a CloudWatchLogsRoleArn with a CloudWatchLogsLogGroupArn."
                    .to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(CloudTrailError::InvalidCloudWatchLogsLogGroupArn(
                "You must specify a CloudWatchLogsLogGroupArn with a CloudWatchLogsRoleArn."
                    .to_owned(),
            ));
        }
        (Some(group), Some(role)) => (group, role),
    };
    let account = trail.account_id.as_str();
    let group = group_of(group_arn, &trail.home_region, account).ok_or_else(|| {
        CloudTrailError::InvalidCloudWatchLogsLogGroupArn(format!(
            "CloudWatch Logs log group ARN {group_arn} is invalid: give \
             arn:aws:logs:{}:{account}:log-group:<name>:* of a group in the trail's region.",
            trail.home_region
        ))
    })?;
    if !is_role_arn(role_arn, account) {
        return Err(CloudTrailError::InvalidCloudWatchLogsRoleArn(format!(
            "CloudWatch Logs role ARN {role_arn} is invalid."
        )));
    }
    let trail_arn = trail.arn();
    let session_name = stream_name(trail);
    // CloudTrail assumes the role as its own principal: the trust policy decides.
    let assumed = env
        .calls
        .call_write(
            tx,
            assume_role_call(&trail_arn, account, role_arn, &session_name),
        )
        .map_err(|e| {
            tracing::debug!(code = %e.code, "CloudTrail could not assume the CloudWatch Logs role");
            CloudTrailError::InvalidCloudWatchLogsRoleArn(TRUST_DENIED.to_owned())
        })?;
    let role = assumed_role(&assumed, account)
        .ok_or_else(|| CloudTrailError::InvalidCloudWatchLogsRoleArn(TRUST_DENIED.to_owned()))?;
    let refused = |e: AwsError| match e.code.as_ref() {
        "ResourceNotFoundException" => CloudTrailError::InvalidCloudWatchLogsLogGroupArn(format!(
            "CloudWatch Logs log group {group} does not exist."
        )),
        _ if is_denial(&e) => {
            CloudTrailError::InvalidCloudWatchLogsLogGroupArn(PERMISSIONS_DENIED.to_owned())
        }
        _ => CloudTrailError::CloudWatchLogsDeliveryUnavailable(
            "Cannot deliver logs to the CloudWatch Logs log group.".to_owned(),
        ),
    };
    // As the role: the stream is made now, and an empty put shows whether the role may put
    // events in it (nothing is written).
    match env.calls.call_write(
        tx,
        logs_call(
            "CreateLogStream",
            json!({"logGroupName": group, "logStreamName": session_name}),
            &role,
            &session_name,
        ),
    ) {
        Ok(_) => {}
        Err(e) if e.code == "ResourceAlreadyExistsException" => {}
        Err(e) => return Err(refused(e)),
    }
    env.calls
        .call_write(
            tx,
            logs_call(
                "PutLogEvents",
                json!({"logGroupName": group, "logStreamName": session_name, "logEvents": []}),
                &role,
                &session_name,
            ),
        )
        .map_err(refused)?;
    Ok(Some(LogsTarget {
        group: group.to_owned(),
        role,
        since: env.now.unix_timestamp(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_arns_take_aws_form_in_the_trails_region_and_account() {
        let ok = "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*";
        assert_eq!(
            group_of(ok, "us-east-1", "123456789012"),
            Some("CloudTrail/logs")
        );
        for bad in [
            "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs",
            "arn:aws:logs:eu-west-1:123456789012:log-group:g:*",
            "arn:aws:logs:us-east-1:210987654321:log-group:g:*",
            "arn:aws:logs:us-east-1:123456789012:log-group::*",
            "arn:aws:logs:us-east-1:123456789012:log-group:a:b:*",
            "arn:aws:iam::123456789012:role/r",
        ] {
            assert_eq!(group_of(bad, "us-east-1", "123456789012"), None, "{bad}");
        }
        assert!(is_role_arn(
            "arn:aws:iam::123456789012:role/path/r",
            "123456789012"
        ));
        assert!(!is_role_arn(
            "arn:aws:iam::210987654321:role/r",
            "123456789012"
        ));
        assert!(!is_role_arn(
            "arn:aws:iam::123456789012:user/u",
            "123456789012"
        ));
    }
}
