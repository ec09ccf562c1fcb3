//! Errors: the AWS error as it goes on the wire, and the crate's own typed errors.

use std::borrow::Cow;

/// An AWS error as it goes on the wire: code, message, HTTP status and whose fault it is.
///
/// CAUTION: the server renders every error response from this type; changing its fields
/// breaks every caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The AWS error code, such as `NoSuchEntity` or `ValidationException`.
    pub code: Cow<'static, str>,
    /// The human-readable message; may be empty (some AWS errors carry none).
    pub message: String,
    /// The HTTP status code of the response.
    pub status: u16,
    /// `true` for client errors (Query `<Type>Sender</Type>`), `false` for server errors.
    pub sender_fault: bool,
    /// Members of the error's structure besides its message, such as the `Reason` of
    /// Organizations' `ConstraintViolationException`; awsJson bodies carry them.
    pub members: Vec<(&'static str, String)>,
}

impl AwsError {
    /// An error with `sender_fault` derived from the status (`status < 500`).
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status,
            sender_fault: status < 500,
            members: Vec::new(),
        }
    }

    /// This error with one more member in its body, e.g. (`Reason`, `INVALID_PATTERN`).
    pub fn with_member(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.members.push((name, value.into()));
        self
    }

    /// awsJson's answer to a body it cannot read as the operation's input.
    ///
    /// AWS sends no message at all for an unparseable body, and a short one for a
    /// structural mismatch; an empty `message` here means "omit the field".
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(SERIALIZATION_EXCEPTION, 400, message)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            write!(f, "{} ({})", self.code, self.status)
        } else {
            write!(f, "{} ({}): {}", self.code, self.status, self.message)
        }
    }
}

impl std::error::Error for AwsError {}

/// The code awsJson services answer for a body that does not fit the input shape.
pub const SERIALIZATION_EXCEPTION: &str = "SerializationException";

/// A vendored or supplied model that cannot be interpreted.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model is not valid JSON.
    #[error("model is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A required part of the model is missing or has the wrong type.
    #[error("model has no valid `{0}`")]
    Missing(String),
    /// A shape refers to a shape the model does not define.
    #[error("shape `{from}` refers to undefined shape `{to}`")]
    UndefinedShape {
        /// The referring shape or operation.
        from: String,
        /// The missing shape's name.
        to: String,
    },
    /// The model's protocol is not one this crate speaks.
    #[error("unsupported protocol `{0}`")]
    UnsupportedProtocol(String),
}

/// An operation's output that does not match its API model: members the model does not
/// name, or values not of their member's type. The encoders leave those out of the response
/// (and log it); [`crate::check_output`] reports them, so tests fail on them.
///
/// Each problem names a path (`User.Tags[].Key`; `[]` for list elements, `{}` for map
/// values) and never a value, so a problem can be logged without leaking what the output
/// holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the output of `{operation}` does not match its API model: {}", .problems.join("; "))]
pub struct OutputMismatchError {
    operation: String,
    problems: Vec<String>,
}

impl OutputMismatchError {
    pub(crate) fn new(operation: &str, problems: Vec<String>) -> Self {
        Self {
            operation: operation.to_owned(),
            problems,
        }
    }

    /// The operation whose output it is.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Each mismatch, with the path of the member it is at, in path order.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

/// Which kind of constraint an input broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Constraint {
    /// A required member is absent.
    Required,
    /// A string does not match its pattern.
    Pattern,
    /// A string, list or map is too long.
    MaxLength,
    /// A string, list or map is too short.
    MinLength,
    /// A number is too large.
    MaxValue,
    /// A number is too small.
    MinValue,
    /// A string is not one of its enum's values.
    Enum,
    /// A member of a list or map of scalars breaks one of its constraints.
    Member,
}

/// The first violation of an input: what broke, and the shape that broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FirstViolation {
    pub(crate) constraint: Constraint,
    pub(crate) shape: String,
}

/// Collects constraint violations and renders AWS's "N validation error(s) detected" message.
///
/// AWS (Coral) reports every violation in one message, joined by `"; "`:
/// `2 validation errors detected: Value null at 'a' failed to satisfy constraint: Member must
/// not be null; Value 'x' at 'b' failed to satisfy constraint: …`.
///
/// The message is bounded whatever the input: it counts every violation but lists the first
/// [`MAX_LISTED_VIOLATIONS`] only, and each echoed value and path is cut to a short prefix
/// ([`quote_prefix`]), so a large request never earns a larger answer (or audit event).
#[derive(Debug, Default)]
pub(crate) struct Violations {
    /// How many violations were found (more than `items` lists when there are many).
    count: usize,
    items: Vec<String>,
    first: Option<FirstViolation>,
}

impl Violations {
    /// Record one violation of `constraint` by a value of shape `shape`; `value` is `None`
    /// for a sensitive member, whose value is never echoed (AWS writes `Value at 'password'
    /// failed …` then).
    pub(crate) fn push(
        &mut self,
        value: Option<&str>,
        path: &str,
        (constraint, text): (Constraint, &str),
        shape: &str,
    ) {
        self.count += 1;
        if self.items.len() < MAX_LISTED_VIOLATIONS {
            let path = quote_prefix(path);
            let item = match value {
                Some(v) => format!("Value {v} at '{path}' failed to satisfy constraint: {text}"),
                None => format!("Value at '{path}' failed to satisfy constraint: {text}"),
            };
            self.items.push(item);
        }
        self.first.get_or_insert_with(|| FirstViolation {
            constraint,
            shape: shape.to_owned(),
        });
    }

    /// Record a required member of shape `shape` that is absent.
    pub(crate) fn push_null(&mut self, path: &str, shape: &str) {
        self.push(
            Some("null"),
            path,
            (Constraint::Required, "Member must not be null"),
            shape,
        );
    }

    /// The first violation recorded.
    pub(crate) fn first(&self) -> Option<&FirstViolation> {
        self.first.as_ref()
    }

    /// The AWS message, or `None` when nothing was violated.
    pub(crate) fn message(&self) -> Option<String> {
        match self.count {
            0 => None,
            1 => Some(format!(
                "1 validation error detected: {}",
                self.items.join("; ")
            )),
            n => Some(format!(
                "{n} validation errors detected: {}",
                self.items.join("; ")
            )),
        }
    }
}

/// The most violations one validation message lists; the count before them stays exact.
pub(crate) const MAX_LISTED_VIOLATIONS: usize = 10;

/// The longest part of a caller's value (or of a path naming a caller's map key) that an
/// error message quotes, in bytes. AWS quotes the whole value; quoting a prefix keeps its
/// wording while bounding what a request can make the answer and its audit event carry.
pub(crate) const MAX_QUOTED_BYTES: usize = 256;

/// What is appended to a quoted value cut at [`MAX_QUOTED_BYTES`].
pub(crate) const ELLIPSIS: &str = "...";

/// `text`, or its first [`MAX_QUOTED_BYTES`] bytes (cut at a character boundary) followed by
/// [`ELLIPSIS`] when it is longer.
pub(crate) fn quote_prefix(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_QUOTED_BYTES {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = MAX_QUOTED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}{ELLIPSIS}", text.get(..end).unwrap_or_default()))
}
