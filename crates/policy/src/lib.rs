//! IAM policy language: parse, validate and evaluate policies as AWS does.
//! Pure: no I/O, no async.
//!
//! ```
//! use rampart_policy::{evaluate, EvaluationInput, Policy, PolicySet, Principal, Request};
//!
//! let policy = Policy::parse(r#"{"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}"#)?;
//! let identity = PolicySet::single("inline", &policy);
//! let request = Request::new(
//!     Principal::parse("arn:aws:iam::111111111111:user/alice")?,
//!     "s3:GetObject",
//!     "arn:aws:s3:::b/k",
//! );
//! let input = EvaluationInput { identity_policies: Some(&identity), ..Default::default() };
//! assert!(evaluate(&request, &input).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces, each in its own module: [`Policy::parse`] reads a document
//! (errors carry a JSON path, line and column); [`PolicySet`] compiles
//! policies once for evaluation; [`evaluate`] applies AWS's evaluation logic
//! to a [`Request`] and returns a [`Decision`]; [`access_denied_message`]
//! renders AWS's AccessDenied text; [`validate`] reports findings in the
//! manner of IAM Access Analyzer; [`cli`] holds the logic of the `rampart
//! policy` subcommands. No feature flags.

#![deny(missing_docs)]

mod arn;
mod catalog;
pub mod cli;
mod compile;
mod condition;
mod context;
mod decision;
mod error;
mod evaluate;
mod json_path;
mod key_hash;
mod kind;
mod message;
mod model;
mod parse;
mod principal;
mod request;
mod validate;
mod variables;
mod wildcard;

pub use catalog::ActionCatalog;
pub use compile::PolicySet;
pub use condition::{ConditionOperator, OperatorKind, SetQualifier, ValueType};
pub use context::Context;
pub use decision::{Decision, DecisionKind, MatchedStatement, PolicyType};
pub use error::{LimitError, Location, MalformedError, PolicyError, SYNTAX_ERRORS, SyntaxError};
pub use evaluate::{EvaluationInput, EvaluationMode, evaluate};
pub use kind::PolicyKind;
pub use message::access_denied_message;
pub use model::{
    ConditionBlock, ConditionEntry, ConditionValue, Effect, Policy, PrincipalSpec, PrincipalType,
    Statement, StringList, Version,
};
pub use parse::MAX_POLICY_BYTES;
pub use principal::{Principal, PrincipalKind, PrincipalParseError};
pub use request::{Action, Request};
pub use validate::{Finding, FindingLevel, validate, validate_with};

impl Policy {
    /// Parses a policy document with the grammar all policy kinds share.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse::parse(text)
    }

    /// Parses a policy document and checks the rules of its kind (a
    /// `Principal` is required in resource and trust policies and rejected in
    /// identity policies, …), with IAM's messages.
    pub fn parse_as(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let policy = parse::parse(text)?;
        kind::check(&policy, kind, text)?;
        Ok(policy)
    }
}
