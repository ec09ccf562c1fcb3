//! Rotation handlers: what runs a rotation function Rampart does not have built in. AWS calls
//! a Lambda function; Rampart keeps `RotationLambdaARN` a Lambda function ARN and maps the
//! function's name to a handler the server was started with (`--rotation-handler
//! NAME=http://127.0.0.1:PORT/PATH` or `NAME=exec:COMMAND`, or `RAMPART_ROTATION_HANDLERS`):
//!
//! - an HTTP handler gets each step's event as a POST with a JSON body; a 2xx answer is
//!   success;
//! - an exec handler is `sh -c COMMAND` with the event on its standard input; exit status 0 is
//!   success.
//!
//! The event is the JSON AWS sends a rotation function: `{"Step": …, "SecretId": <arn>,
//! "ClientRequestToken": <token>, "RotationToken": …}`. The handler calls back into Rampart
//! with credentials of its own, as a Lambda function does with its role. Handlers are invoked
//! outside any transaction (rampart_service::Timers::run_outside), since their calls back
//! write.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::rotation::BUILT_IN;

/// How long a step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// One handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationHandler {
    /// POST the event to this URL.
    Http(String),
    /// Run this command with `sh -c`, the event on its standard input.
    Exec(String),
}

/// The rotation handlers a server was started with, by function name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationHandlers(BTreeMap<String, RotationHandler>);

impl RotationHandlers {
    /// Handlers from `NAME=http://…` and `NAME=exec:COMMAND` specifications.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Self, String> {
        let mut handlers = BTreeMap::new();
        for spec in specs {
            let spec = spec.as_ref().trim();
            if spec.is_empty() {
                continue;
            }
            let (name, target) = spec.split_once('=').ok_or_else(|| {
                format!("`{spec}`: a rotation handler is NAME=http://… or NAME=exec:COMMAND")
            })?;
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(format!("`{name}` is not a Lambda function name"));
            }
            if name == BUILT_IN {
                return Err(format!("`{BUILT_IN}` is built in"));
            }
            let handler = if let Some(command) = target.strip_prefix("exec:") {
                RotationHandler::Exec(command.to_owned())
            } else if target.starts_with("http://") || target.starts_with("https://") {
                RotationHandler::Http(target.to_owned())
            } else {
                return Err(format!(
                    "`{target}`: a rotation handler is an http:// URL or exec:COMMAND"
                ));
            };
            handlers.insert(name.to_owned(), handler);
        }
        Ok(Self(handlers))
    }

    /// Whether a handler serves the function `name`.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Runs `step` of the rotation of `arn` with `token` through the handler of `name`.
    pub(crate) fn invoke(
        &self,
        name: &str,
        step: &str,
        arn: &str,
        token: &str,
        rotation_token: &str,
    ) -> Result<(), String> {
        let handler = self
            .0
            .get(name)
            .ok_or_else(|| format!("no rotation handler serves the function {name}"))?;
        let event = json!({
            "Step": step,
            "SecretId": arn,
            "ClientRequestToken": token,
            "RotationToken": rotation_token,
        })
        .to_string();
        match handler {
            RotationHandler::Http(url) => {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(STEP_TIMEOUT))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .build()
                    .into();
                let response = agent
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .send(event.as_str())
                    .map_err(|e| format!("{step}: the handler could not be reached: {e}"))?;
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(format!("{step}: the handler answered {status}"))
                }
            }
            RotationHandler::Exec(command) => {
                let mut child = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("{step}: the handler could not be started: {e}"))?;
                if let Some(mut stdin) = child.stdin.take() {
                    // A handler that does not read its input may close it early.
                    let _ = stdin.write_all(event.as_bytes());
                }
                let status = child
                    .wait()
                    .map_err(|e| format!("{step}: the handler failed: {e}"))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("{step}: the handler exited with {status}"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn specifications_name_http_and_exec_handlers() {
        let handlers = RotationHandlers::parse(&[
            "db-rotator=http://127.0.0.1:9000/rotate",
            "script=exec:cat > /dev/null",
            "",
        ])
        .unwrap();
        assert!(handlers.has("db-rotator") && handlers.has("script"));
        assert!(!handlers.has("other"));
        assert!(RotationHandlers::parse(&["x"]).is_err());
        assert!(RotationHandlers::parse(&["bad name=exec:true"]).is_err());
        assert!(RotationHandlers::parse(&["x=ftp://h"]).is_err());
        assert!(RotationHandlers::parse(&["rampart-random-password=exec:true"]).is_err());
    }

    #[test]
    fn exec_handlers_succeed_by_exit_status() {
        let handlers =
            RotationHandlers::parse(&["ok=exec:grep -q createSecret", "no=exec:exit 3"]).unwrap();
        assert!(
            handlers
                .invoke("ok", "createSecret", "arn", "t", "r")
                .is_ok()
        );
        assert!(handlers.invoke("ok", "setSecret", "arn", "t", "r").is_err());
        assert!(
            handlers
                .invoke("no", "createSecret", "arn", "t", "r")
                .is_err()
        );
        assert!(
            handlers
                .invoke("missing", "createSecret", "arn", "t", "r")
                .is_err()
        );
    }
}
