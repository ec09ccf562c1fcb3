//! Parameter names as Parameter Store reads them: the characters and hierarchy it accepts, the
//! prefixes it reserves, the ARN form, the `name:version` and `name:label` selectors, and the
//! key a parameter is stored under.
//!
//! A name is either at the top level (`db-password`, or `/db-password`: the same parameter,
//! whose ARN is `…:parameter/db-password`) or a path of at most fifteen levels beginning with
//! a slash (`/prod/db/password`, ARN `…:parameter/prod/db/password`).

use rampart_service::Env;

use crate::error::SsmError;

/// The most levels a name's hierarchy may have.
pub(crate) const MAX_LEVELS: usize = 15;
/// The longest a parameter's ARN (which holds its name) may be.
pub(crate) const MAX_ARN_CHARS: usize = 1011;

const PREFIX_MESSAGE: &str =
    "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).";
const PATH_MESSAGE: &str = "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If \
     formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be \
     formed as a mix of letters, numbers and the following 3 symbols .-_";
/// What AWS answers for a path (or a Path filter) that breaks the naming rules.
pub(crate) const BAD_PATH_MESSAGE: &str = "The parameter doesn't meet the parameter name \
     requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed \
     with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the \
     following symbols: . (period), - (hyphen), _ (underscore). Special characters are not \
     allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid \
     example: /get/parameters2-/by1./path0_.";

/// A parameter's name, as given and as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParameterName {
    /// The name as the request gave it (without an ARN's prefix or a selector).
    pub(crate) name: String,
    /// What the parameter is stored under: a top-level name without its leading slash.
    pub(crate) key: String,
}

impl ParameterName {
    /// The parameter's ARN in `env`'s account and region.
    pub(crate) fn arn(&self, env: &Env<'_>) -> String {
        parameter_arn(env.region, &env.caller.account_id, &self.key)
    }
}

/// A parameter's ARN: its name without the leading slash after `parameter/`.
pub(crate) fn parameter_arn(region: &str, account: &str, key: &str) -> String {
    format!(
        "arn:aws:ssm:{region}:{account}:parameter/{}",
        key.trim_start_matches('/')
    )
}

/// What a name's selector picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// `name:3`
    Version(i64),
    /// `name:prod`
    Label(String),
}

impl Selector {
    /// The selector as AWS echoes it (`:3`, `:prod`).
    pub(crate) fn shown(&self) -> String {
        match self {
            Self::Version(v) => format!(":{v}"),
            Self::Label(l) => format!(":{l}"),
        }
    }
}

fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The key a name is stored under: a top-level name loses its leading slash.
fn key_of(name: &str) -> String {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.contains('/') {
        name.to_owned()
    } else {
        bare.to_owned()
    }
}

/// Checks a name for a new version of a parameter, as PutParameter does.
pub(crate) fn for_put(env: &Env<'_>, given: &str) -> Result<ParameterName, SsmError> {
    let name = given;
    let bare = name.strip_prefix('/').unwrap_or(name);
    let is_path = bare.contains('/');
    if is_path && !name.starts_with('/') {
        return Err(SsmError::Validation(
            "Parameter name must be a fully qualified name.".to_owned(),
        ));
    }
    let first = bare
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        if is_path && first == "aws" {
            return Err(SsmError::AccessDenied(format!(
                "No access to reserved parameter name: {name}."
            )));
        }
        return Err(SsmError::Validation(
            if is_path {
                PATH_MESSAGE
            } else {
                PREFIX_MESSAGE
            }
            .to_owned(),
        ));
    }
    let levels: Vec<&str> = bare.split('/').collect();
    if levels
        .iter()
        .any(|level| level.is_empty() || !level.chars().all(valid_char))
    {
        return Err(SsmError::Validation(PATH_MESSAGE.to_owned()));
    }
    if levels.len() > MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded(format!(
            "A hierarchy can have a maximum of {MAX_LEVELS} levels. `{name}` has {}.",
            levels.len()
        )));
    }
    let parsed = ParameterName {
        name: name.to_owned(),
        key: key_of(name),
    };
    let arn = parsed.arn(env);
    if arn.len() > MAX_ARN_CHARS {
        return Err(SsmError::Validation(format!(
            "Parameter name: too long. A parameter's ARN, which holds its name, can have at most \
             {MAX_ARN_CHARS} characters; {} has {}.",
            name,
            arn.len()
        )));
    }
    Ok(parsed)
}

/// A name a read or a change names an existing parameter by: a name or the parameter's ARN in
/// the caller's account and region, with a selector where `selectors` allows one. `None` when
/// it cannot name a parameter (it is then not found).
pub(crate) fn lookup(
    env: &Env<'_>,
    given: &str,
    selectors: bool,
) -> Option<(ParameterName, Option<Selector>)> {
    let (name, selector) = match given.strip_prefix("arn:") {
        Some(_) => {
            let own = format!(
                "arn:aws:ssm:{}:{}:parameter/",
                env.region, env.caller.account_id
            );
            let rest = given.strip_prefix(&own)?;
            let (rest, selector) = split_selector(rest)?;
            let name = if rest.contains('/') {
                format!("/{rest}")
            } else {
                rest.to_owned()
            };
            (name, selector)
        }
        None => {
            let (name, selector) = split_selector(given)?;
            (name.to_owned(), selector)
        }
    };
    if name.is_empty() || (selector.is_some() && !selectors) {
        return None;
    }
    let bare = name.strip_prefix('/').unwrap_or(&name);
    if bare
        .split('/')
        .any(|level| level.is_empty() || !level.chars().all(valid_char))
    {
        return None;
    }
    let selector = selector.map(|s| match s.parse::<i64>() {
        Ok(version) if s.bytes().all(|b| b.is_ascii_digit()) => Selector::Version(version),
        _ => Selector::Label(s.to_owned()),
    });
    Some((
        ParameterName {
            key: key_of(&name),
            name,
        },
        selector,
    ))
}

/// `name` and what follows its one colon, if any; `None` for more than one colon or an empty
/// selector.
fn split_selector(given: &str) -> Option<(&str, Option<&str>)> {
    match given.split_once(':') {
        None => Some((given, None)),
        Some((_, selector)) if selector.is_empty() || selector.contains(':') => None,
        Some((name, selector)) => Some((name, Some(selector))),
    }
}

/// A path GetParametersByPath or a `Path` filter names, checked, without a trailing slash
/// (`/` for the root).
pub(crate) fn path(given: &str) -> Result<String, SsmError> {
    let bad = || SsmError::Validation(BAD_PATH_MESSAGE.to_owned());
    if !given.starts_with('/') || given.contains("//") {
        return Err(bad());
    }
    let trimmed = given.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".to_owned());
    }
    let levels: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    if levels.iter().any(|level| !level.chars().all(valid_char)) {
        return Err(bad());
    }
    if levels.len() > MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded(format!(
            "A hierarchy can have a maximum of {MAX_LEVELS} levels. `{given}` has {}.",
            levels.len()
        )));
    }
    Ok(trimmed.to_owned())
}

/// Whether the stored key `key` is under `path` (from [`path`]): directly, or at any depth
/// when `recursive`.
pub(crate) fn under(key: &str, path: &str, recursive: bool) -> bool {
    let rest = if path == "/" {
        key.strip_prefix('/').unwrap_or(key)
    } else {
        match key
            .strip_prefix(path)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            Some(rest) => rest,
            None => return false,
        }
    };
    !rest.is_empty() && (recursive || !rest.contains('/'))
}

/// The prefix of the stored keys a scan of `path` starts from (everything, for the root).
pub(crate) fn scan_prefix(path: &str) -> String {
    if path == "/" {
        String::new()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use rampart_service::testing::TestEnv;

    use super::*;

    fn put(name: &str) -> Result<ParameterName, SsmError> {
        TestEnv::new().with_env(|env| for_put(env, name))
    }

    #[test]
    fn top_level_names_are_one_parameter_with_or_without_their_slash() {
        let plain = put("db-password").unwrap();
        let slashed = put("/db-password").unwrap();
        assert_eq!(plain.key, slashed.key);
        assert_eq!(slashed.name, "/db-password");
        let path = put("/prod/db/password").unwrap();
        assert_eq!(path.key, "/prod/db/password");
        TestEnv::new().with_env(|env| {
            assert_eq!(
                path.arn(env),
                "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password"
            );
            assert_eq!(
                plain.arn(env),
                "arn:aws:ssm:us-east-1:123456789012:parameter/db-password"
            );
        });
    }

    #[test]
    fn names_break_aws_rules_with_aws_errors() {
        let code = |name: &str| rampart_service::AwsError::from(put(name).unwrap_err()).code;
        assert_eq!(code("a/b"), "ValidationException");
        assert_eq!(code("awsThing"), "ValidationException");
        assert_eq!(code("SSM-thing"), "ValidationException");
        assert_eq!(code("/ssm/thing"), "ValidationException");
        assert_eq!(code("/aws/thing"), "AccessDeniedException");
        assert_eq!(code("/a//b"), "ValidationException");
        assert_eq!(code("/a/b c"), "ValidationException");
        assert_eq!(code("/a/b#"), "ValidationException");
        let deep = format!("/{}", vec!["l"; 16].join("/"));
        assert_eq!(code(&deep), "HierarchyLevelLimitExceededException");
        let fifteen = format!("/{}", vec!["l"; 15].join("/"));
        assert!(put(&fifteen).is_ok());
        let long = format!("/{}", "x".repeat(1000));
        assert_eq!(code(&long), "ValidationException");
        // Not a reserved prefix: only the first level counts.
        assert!(put("/app/aws-thing").is_ok());
    }

    #[test]
    fn lookups_read_arns_and_selectors() {
        TestEnv::new().with_env(|env| {
            let (name, selector) = lookup(env, "/a/b:3", true).unwrap();
            assert_eq!(
                (name.key.as_str(), selector),
                ("/a/b", Some(Selector::Version(3)))
            );
            let (_, selector) = lookup(env, "/a/b:prod", true).unwrap();
            assert_eq!(selector, Some(Selector::Label("prod".into())));
            let (name, _) = lookup(
                env,
                "arn:aws:ssm:us-east-1:123456789012:parameter/a/b",
                true,
            )
            .unwrap();
            assert_eq!(name.key, "/a/b");
            let (name, _) = lookup(
                env,
                "arn:aws:ssm:us-east-1:123456789012:parameter/top",
                true,
            )
            .unwrap();
            assert_eq!(name.key, "top");
            // Another account's ARN, two selectors, a selector where none is allowed.
            assert!(lookup(env, "arn:aws:ssm:us-east-1:999999999999:parameter/a", true).is_none());
            assert!(lookup(env, "/a:1:2", true).is_none());
            assert!(lookup(env, "/a:1", false).is_none());
        });
    }

    #[test]
    fn paths_select_one_level_or_all() {
        assert_eq!(path("/a/b/").unwrap(), "/a/b");
        assert_eq!(path("/").unwrap(), "/");
        assert!(path("a/b").is_err());
        assert!(path("/a//b").is_err());
        assert!(under("/a/b/c", "/a/b", false));
        assert!(!under("/a/b/c/d", "/a/b", false));
        assert!(under("/a/b/c/d", "/a/b", true));
        assert!(!under("/a/bc", "/a/b", true));
        assert!(under("top", "/", false));
        assert!(!under("/a/b", "/", false));
        assert!(under("/a/b", "/", true));
    }
}
