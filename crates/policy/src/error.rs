//! Errors from reading a policy document.
//!
//! CAUTION: the server renders `aws_message` into `MalformedPolicyDocument`
//! responses; changing those strings changes what clients see.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

/// Where in a policy document something is: a JSON path such as
/// `$.Statement[0].Effect`, and the 1-based line and column where that value starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// JSON path of the element, `$` for the whole document.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (line {}, column {})",
            self.path, self.line, self.column
        )
    }
}

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error(transparent)]
    Syntax(SyntaxError),
    /// The text is JSON but not a policy the grammar accepts.
    #[error(transparent)]
    Malformed(MalformedError),
    /// The document is over a size or nesting limit.
    #[error(transparent)]
    Limit(LimitError),
}

impl PolicyError {
    /// The message as AWS words it in a `MalformedPolicyDocument` error.
    pub fn aws_message(&self) -> &str {
        match self {
            Self::Syntax(_) => SYNTAX_ERRORS,
            Self::Malformed(e) => &e.message,
            Self::Limit(e) => &e.message,
        }
    }

    /// Where in the document the problem is.
    pub fn location(&self) -> &Location {
        match self {
            Self::Syntax(e) => &e.location,
            Self::Malformed(e) => &e.location,
            Self::Limit(e) => &e.location,
        }
    }

    pub(crate) fn syntax(detail: String, location: Location) -> Self {
        Self::Syntax(SyntaxError { detail, location })
    }

    pub(crate) fn malformed(message: impl Into<String>, location: Location) -> Self {
        Self::Malformed(MalformedError {
            message: message.into(),
            location,
        })
    }

    pub(crate) fn limit(message: impl Into<String>, location: Location) -> Self {
        Self::Limit(LimitError {
            message: message.into(),
            location,
        })
    }
}

/// AWS's message for a document that does not parse.
pub const SYNTAX_ERRORS: &str = "Syntax errors in policy.";

/// The text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("syntax errors in policy: {detail} at {location}")]
pub struct SyntaxError {
    detail: String,
    location: Location,
}

/// The text is JSON, but not a policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} at {location}")]
pub struct MalformedError {
    message: String,
    location: Location,
}

/// The document is over a limit (size, nesting depth).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} at {location}")]
pub struct LimitError {
    message: String,
    location: Location,
}
