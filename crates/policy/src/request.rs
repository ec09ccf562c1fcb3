//! What is being decided: who asks to do what on which resource, with which
//! condition keys.

use crate::context::Context;
use crate::principal::Principal;
use crate::variables::Variables;

/// An action name such as `s3:GetObject`, with its lowercased form prepared
/// once so that matching never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    text: Box<str>,
    lower: Box<str>,
    service_len: usize,
}

impl Action {
    /// An action as AWS names it (`service:Operation`).
    pub fn new(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        let service_len = lower.find(':').unwrap_or(0);
        Self {
            text: text.into(),
            lower: lower.into_boxed_str(),
            service_len,
        }
    }

    /// The action as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn lower(&self) -> &str {
        &self.lower
    }

    /// The service prefix, lowercased (`s3`).
    pub(crate) fn service(&self) -> &str {
        self.lower.get(..self.service_len).unwrap_or("")
    }
}

impl From<&str> for Action {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

/// One authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The caller.
    pub principal: Principal,
    /// The action (`s3:GetObject`).
    pub action: Action,
    /// The resource ARN, or `*` for actions without a resource.
    pub resource: String,
    /// The account that owns the resource; `None` means the caller's own
    /// account (S3 ARNs carry no account, so the server must say).
    pub resource_account: Option<String>,
    /// Condition keys.
    pub context: Context,
}

impl Request {
    /// A request with an empty context, on a resource in the caller's account.
    pub fn new(principal: Principal, action: &str, resource: &str) -> Self {
        Self {
            principal,
            action: Action::new(action),
            resource: resource.to_owned(),
            resource_account: None,
            context: Context::new(),
        }
    }

    /// Sets the resource's account.
    pub fn with_resource_account(mut self, account: &str) -> Self {
        self.resource_account = Some(account.to_owned());
        self
    }

    /// Sets the condition keys.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// The resource's account: as given, else the caller's.
    pub fn effective_resource_account(&self) -> Option<&str> {
        self.resource_account
            .as_deref()
            .or(self.principal.account())
    }

    /// Values of a condition key (lowercased name): the context first, then
    /// keys that follow from the principal.
    pub(crate) fn key_values(&self, key: &str) -> Option<Values<'_>> {
        match self.context.lookup(key) {
            Some((values, _)) => Some(Values::Many(values)),
            None => self.principal.derived_value(key).map(Values::One),
        }
    }
}

impl Variables for Request {
    fn variable(&self, key: &str) -> Option<&str> {
        match self.context.lookup(key) {
            Some(([one], false)) => Some(one),
            Some(_) => None,
            None => self.principal.derived_value(key),
        }
    }
}

/// The values of one condition key in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    Many(&'a [Box<str>]),
    One(&'a str),
}

impl<'a> IntoIterator for Values<'a> {
    type Item = &'a str;
    type IntoIter = ValuesIter<'a>;

    fn into_iter(self) -> ValuesIter<'a> {
        match self {
            Values::Many(values) => ValuesIter {
                many: values.iter(),
                one: None,
            },
            Values::One(value) => ValuesIter {
                many: [].iter(),
                one: Some(value),
            },
        }
    }
}

/// Iterator over [`Values`].
pub(crate) struct ValuesIter<'a> {
    many: std::slice::Iter<'a, Box<str>>,
    one: Option<&'a str>,
}

impl<'a> Iterator for ValuesIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.one.take().or_else(|| self.many.next().map(|v| &**v))
    }
}
