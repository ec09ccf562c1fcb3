//! Rotation: RotateSecret and CancelRotateSecret, and the rotation itself.
//!
//! AWS rotates a secret by calling a Lambda function four times with the same token (the new
//! version's ID): `createSecret` (a new version staged `AWSPENDING`), `setSecret` (the new
//! credentials set in the system they open), `testSecret`, `finishSecret` (`AWSCURRENT` moved
//! to the new version, `AWSPREVIOUS` left on the old one). `RotationLambdaARN` stays a Lambda
//! function ARN, as clients send it; Rampart maps the function's name to a rotation handler.
//! The built-in `rampart-random-password` is always there: it rotates to a fresh password of
//! GetRandomPassword's defaults, with nothing to set or test. A function Rampart has no handler
//! for fails the rotation as AWS fails one it cannot invoke.
//!
//! As AWS: `AWSPENDING` on a version other than the current one means a rotation is not
//! finished, and RotateSecret refuses a new one (a scheduled rotation takes the unfinished one
//! up again, with its token); after a rotation `AWSPENDING` stays on the new current version.
//! Scheduled rotations are timers of the server's scheduler (scheduled.rs): each runs once,
//! in the transaction that removes it, and sets the next.
//!
//! Who a rotation acts as: in AWS, the rotation function calls Secrets Manager with its
//! execution role, and Secrets Manager calls KMS on that role's behalf. The built-in function
//! has no role of its own, so it acts as the principal that last configured rotation
//! (RotateSecret's caller: root, an IAM user, or for a role session its role, in a session
//! named after the function), as that principal is when the rotation runs: deleted since,
//! or without access to the key by then, the rotation fails. Run by RotateSecret itself, it
//! acts as RotateSecret's caller, session policies included.

use rampart_service::{AwsError, CallPrincipal, Env, RunAs};
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::SecretsError;
use crate::events;
use crate::handlers::RotationHandlers;
use crate::names;
use crate::password::{self, GetRandomPasswordInput};
use crate::records::{self, CURRENT, RotationRecord, SecretRecord};
use crate::schedule::RotationSchedule;
use crate::scheduled;
use crate::versions::{self, GivenValue};

/// The label of a version being rotated in.
pub(crate) const PENDING: &str = "AWSPENDING";
/// The rotation function Rampart always has.
pub(crate) const BUILT_IN: &str = "rampart-random-password";

/// What AWS answers when it cannot invoke the rotation function.
const CANNOT_INVOKE: &str = "Secrets Manager cannot invoke the specified Lambda function. Ensure \
                             that the function policy grants access to the principal \
                             secretsmanager.amazonaws.com.";

/// The function name of a Lambda function ARN
/// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`).
pub(crate) fn function_name(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name]
        | ["arn", _, "lambda", _, _, "function", name, _]
            if !name.is_empty() =>
        {
            Some(name)
        }
        _ => None,
    }
}

/// The version an unfinished rotation left `AWSPENDING` on, if any.
fn unfinished(record: &SecretRecord) -> Option<String> {
    record
        .staged(PENDING)
        .filter(|v| !v.stages.iter().any(|s| s == CURRENT))
        .map(|v| v.id.clone())
}

/// The four steps, in order.
pub(crate) const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

/// Whether `lambda_arn` names the built-in function.
pub(crate) fn is_built_in(lambda_arn: &str) -> bool {
    function_name(lambda_arn) == Some(BUILT_IN)
}

/// A UUID derived from `seed`: the same for the scheduler's two parts of one item.
pub(crate) fn derived_uuid(seed: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let mut bytes = [0u8; 16];
    for (out, b) in bytes.iter_mut().zip(hash.as_ref()) {
        *out = *b;
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Marks a rotation with `token` done if its version became current (a handler's
/// finishSecret, or the built-in one's).
pub(crate) fn finished(env: &Env<'_>, record: &mut SecretRecord, token: &str) -> bool {
    let done = record
        .version(token)
        .is_some_and(|v| v.stages.iter().any(|s| s == CURRENT));
    if done && let Some(rotation) = record.rotation.as_mut() {
        rotation.last_rotated = Some(env.now);
    }
    done
}

/// Runs a rotation of `record` with `token` through the built-in function, in `tx`, calling
/// KMS as `principal`.
pub(crate) fn rotate_built_in(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &mut SecretRecord,
    token: &str,
    principal: &CallPrincipal<'_>,
) -> Result<(), SecretsError> {
    // createSecret: a fresh password staged AWSPENDING, unless this token made it already.
    if record.version(token).is_none() {
        let password = password::generate(env, &GetRandomPasswordInput::default())?;
        let value = GivenValue::Text(Zeroizing::new(password.to_string()));
        versions::make(
            env,
            tx,
            record,
            Some(token.to_owned()),
            &value,
            Some(vec![PENDING.to_owned()]),
            principal,
        )?;
    }
    // setSecret, testSecret: the built-in function has no system to set or test.
    // finishSecret: AWSCURRENT to the new version (AWSPREVIOUS to the old one).
    versions::attach(record, token, CURRENT)?;
    finished(env, record, token);
    record.last_changed = env.now;
    Ok(())
}

/// The reason a rotation by the built-in function failed, as AWS words a rotation function's
/// failure in its RotationFailed event.
pub(crate) fn built_in_failure(
    record: &SecretRecord,
    lambda_arn: &str,
    error: SecretsError,
) -> String {
    let error = AwsError::from(error);
    tracing::warn!(secret = %record.arn, code = %error.code, reason = %error.message,
        "rotation by the built-in function failed");
    format!(
        "Error when executing lambda {lambda_arn} during createSecret step: {}: {}",
        error.code, error.message
    )
}

/// Sets the next scheduled rotation of `record` (none when rotation is off).
pub(crate) fn reschedule(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    record: &mut SecretRecord,
) -> Result<(), SecretsError> {
    scheduled::unschedule_rotation(tx, record)?;
    let Some(rotation) = record.rotation.as_mut() else {
        return Ok(());
    };
    rotation.next_rotation = None;
    if !rotation.enabled {
        return Ok(());
    }
    let schedule = RotationSchedule::from_rules(
        rotation.after_days,
        rotation.expression.as_deref(),
        rotation.duration.as_deref(),
    )
    .map_err(|e| SecretsError::InvalidParameter(e.to_string()))?;
    rotation.next_rotation = schedule.next_rotation(env.now, rotation.last_rotated);
    scheduled::schedule_rotation(tx, record)?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotationRules {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) automatically_after_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) schedule_expression: Option<String>,
}

/// What DescribeSecret and ListSecrets show of a secret's rotation.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotationShown {
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_enabled: Option<bool>,
    #[serde(rename = "RotationLambdaARN", skip_serializing_if = "Option::is_none")]
    rotation_lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_rules: Option<RotationRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_rotated_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<String>,
}

/// `record`'s rotation as DescribeSecret shows it (nothing when never configured).
pub(crate) fn shown(record: &SecretRecord) -> RotationShown {
    let Some(r) = &record.rotation else {
        return RotationShown::default();
    };
    RotationShown {
        rotation_enabled: Some(r.enabled),
        rotation_lambda_arn: Some(r.lambda_arn.clone()),
        rotation_rules: Some(RotationRules {
            automatically_after_days: r.after_days,
            duration: r.duration.clone(),
            schedule_expression: r.expression.clone(),
        }),
        last_rotated_date: r.last_rotated.map(rampart_service::aws_timestamp),
        next_rotation_date: r.next_rotation.map(rampart_service::aws_timestamp),
    }
}

/// An item of `ExternalSecretRotationMetadata` (managed external secrets: not served).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetadataItem {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotateSecretInput {
    secret_id: String,
    client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN")]
    rotation_lambda_arn: Option<String>,
    rotation_rules: Option<RotationRules>,
    external_secret_rotation_metadata: Option<Vec<MetadataItem>>,
    external_secret_rotation_role_arn: Option<String>,
    rotate_immediately: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotateSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
}

/// RotateSecret: configures rotation and, unless `RotateImmediately` is false, rotates now.
pub(crate) fn rotate_secret(
    handlers: &RotationHandlers,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RotateSecretInput,
) -> Result<RotateSecretOutput, SecretsError> {
    if input.external_secret_rotation_metadata.is_some()
        || input.external_secret_rotation_role_arn.is_some()
    {
        return Err(SecretsError::NotImplemented(
            "Rampart does not implement rotation of managed external secrets (see \
             docs/COVERAGE.md)"
                .to_owned(),
        ));
    }
    let mut record = names::live(env, tx, &input.secret_id)?;
    let lambda_arn = match (&input.rotation_lambda_arn, &record.rotation) {
        (Some(arn), _) => arn.clone(),
        (None, Some(rotation)) => rotation.lambda_arn.clone(),
        (None, None) => {
            return Err(SecretsError::InvalidRequest(
                "No Lambda rotation function ARN is associated with this secret.".to_owned(),
            ));
        }
    };
    if function_name(&lambda_arn).is_none() {
        return Err(SecretsError::InvalidParameter(format!(
            "{lambda_arn} is not a Lambda function ARN."
        )));
    }
    if unfinished(&record).is_some() {
        return Err(SecretsError::InvalidRequest(
            "A previous rotation isn't complete. That rotation will be reattempted.".to_owned(),
        ));
    }
    let previous = record.rotation.clone();
    let rules = input.rotation_rules.clone();
    let (after_days, expression, duration) = match (&rules, &previous) {
        (Some(r), _) => (
            r.automatically_after_days,
            r.schedule_expression.clone(),
            r.duration.clone(),
        ),
        (None, Some(p)) => (p.after_days, p.expression.clone(), p.duration.clone()),
        (None, None) => {
            return Err(SecretsError::InvalidRequest(
                "No rotation rules are associated with this secret: give RotationRules.".to_owned(),
            ));
        }
    };
    let schedule =
        RotationSchedule::from_rules(after_days, expression.as_deref(), duration.as_deref())
            .map_err(|e| SecretsError::InvalidParameter(e.to_string()))?;
    if let Some(start) = schedule.next_rotation(env.now, None) {
        schedule
            .check_window(start)
            .map_err(|e| SecretsError::InvalidParameter(e.to_string()))?;
    }
    // The function must be one Rampart can invoke, whether it runs now or later.
    let invokable =
        function_name(&lambda_arn).is_some_and(|name| name == BUILT_IN || handlers.has(name));
    if !invokable {
        return Err(SecretsError::AccessDenied(CANNOT_INVOKE.to_owned()));
    }
    let runs_as = if is_built_in(&lambda_arn) {
        let Some(runs_as) = RunAs::of(env.caller) else {
            return Err(SecretsError::InvalidRequest(format!(
                "Rampart's built-in rotation function {BUILT_IN} runs as the principal that \
                 configures it, which must be the root user, an IAM user or a role session; \
                 {} is none of these.",
                env.caller.arn
            )));
        };
        Some(runs_as)
    } else {
        None
    };
    record.rotation = Some(RotationRecord {
        enabled: true,
        lambda_arn: lambda_arn.clone(),
        after_days,
        expression,
        duration,
        last_rotated: previous.as_ref().and_then(|p| p.last_rotated),
        next_rotation: None,
        runs_as,
    });
    let version_id = if input.rotate_immediately.unwrap_or(true) {
        let token = input
            .client_request_token
            .unwrap_or_else(|| versions::new_version_id(env));
        if is_built_in(&lambda_arn) {
            // AWS starts a rotation function asynchronously: RotateSecret succeeds with the
            // rotation configured, and a function that fails (here: KMS refusing the new
            // version) leaves its RotationFailed event, not an error to the caller. The
            // failed attempt wrote nothing, its first write being KMS's.
            let configured = record.clone();
            let outcome = rotate_built_in(
                env,
                tx,
                &mut record,
                &token,
                &CallPrincipal::OnBehalfOfCaller,
            )
            .map_err(|e| {
                record = configured;
                built_in_failure(&record, &lambda_arn, e)
            });
            events::rotation_ran(env, &record, &token, outcome);
        } else {
            // A handler's steps call back into Rampart: they run on the scheduler, now.
            scheduled::schedule_rotation_now(tx, &record, env.now, &token)?;
        }
        Some(token)
    } else {
        None
    };
    reschedule(env, tx, &mut record)?;
    records::save(tx, &record)?;
    Ok(RotateSecretOutput {
        arn: record.arn,
        name: record.name,
        version_id,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CancelRotateSecretInput {
    secret_id: String,
}

/// CancelRotateSecret: turns scheduled rotation off; an unfinished rotation's `AWSPENDING`
/// stays where it is, as AWS leaves it.
pub(crate) fn cancel_rotate_secret(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CancelRotateSecretInput,
) -> Result<RotateSecretOutput, SecretsError> {
    let mut record = names::live(env, tx, &input.secret_id)?;
    if let Some(rotation) = record.rotation.as_mut() {
        rotation.enabled = false;
    }
    reschedule(env, tx, &mut record)?;
    record.last_changed = env.now;
    records::save(tx, &record)?;
    Ok(RotateSecretOutput {
        version_id: unfinished(&record),
        arn: record.arn,
        name: record.name,
    })
}

/// The token a scheduled rotation of `record` runs with: an unfinished rotation's, taken up
/// again, else one derived from the timer's key (`seed`).
pub(crate) fn scheduled_token(record: &SecretRecord, seed: &str) -> String {
    unfinished(record).unwrap_or_else(|| derived_uuid(seed))
}
