//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`,
//! `${key, 'default'}` and the escapes `${*}`, `${?}`, `${$}`.
//!
//! Only policies with `"Version": "2012-10-17"` expand variables; under
//! `2008-10-17` or without a version, `${…}` is literal text (AWS documents
//! this on the policy variables page).

/// A piece of a string as written in a policy, after tokenizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Text compared as is.
    Lit(Box<str>),
    /// A policy variable resolved from the request at evaluation time.
    Var(Variable),
    /// `*`: any run of characters (only where wildcards are allowed).
    Star,
    /// `?`: exactly one character (only where wildcards are allowed).
    AnyChar,
}

/// A `${key}` or `${key, 'default'}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    /// The context key, lowercased (key names are case-insensitive).
    pub(crate) key: Box<str>,
    /// Used when the key is absent or multivalued; case-sensitive.
    pub(crate) default: Option<Box<str>>,
}

/// Where variables get their values: the request context.
pub(crate) trait Variables {
    /// The single value of a context key (lowercased name), or `None` when the
    /// key is absent or multivalued (AWS cannot substitute those).
    fn variable(&self, key: &str) -> Option<&str>;
}

/// A source with no values, for contexts where nothing can be substituted.
pub(crate) struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _key: &str) -> Option<&str> {
        None
    }
}

/// How to tokenize.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (otherwise literal).
    pub(crate) wildcards: bool,
    /// `${…}` is a variable (otherwise literal).
    pub(crate) variables: bool,
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str, syntax: Syntax) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if syntax.variables
            && rest.starts_with("${")
            && let Some((token, after)) = parse_variable(rest)
        {
            match token {
                Token::Lit(text) => literal.push_str(&text),
                other => {
                    flush(&mut literal, &mut tokens);
                    tokens.push(other);
                }
            }
            rest = after;
            continue;
        }
        match c {
            '*' if syntax.wildcards => {
                flush(&mut literal, &mut tokens);
                // `**` is the same as `*`.
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' if syntax.wildcards => {
                flush(&mut literal, &mut tokens);
                tokens.push(Token::AnyChar);
            }
            _ => literal.push(c),
        }
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    flush(&mut literal, &mut tokens);
    tokens
}

fn flush(literal: &mut String, tokens: &mut Vec<Token>) {
    if !literal.is_empty() {
        tokens.push(Token::Lit(std::mem::take(literal).into_boxed_str()));
    }
}

/// Parses `${…}` at the start of `text`; `None` when malformed (then the
/// characters are kept as literal text).
fn parse_variable(text: &str) -> Option<(Token, &str)> {
    let inner = text.get(2..)?;
    let key_end = inner.find(['}', ','])?;
    let key = inner.get(..key_end)?.trim();
    let after_key = inner.get(key_end..)?;
    let (default, rest) = if let Some(after_comma) = after_key.strip_prefix(',') {
        let quoted = after_comma.trim_start().strip_prefix('\'')?;
        let (default, after_quote) = parse_quoted(quoted)?;
        let rest = after_quote.trim_start().strip_prefix('}')?;
        (Some(default), rest)
    } else {
        (None, after_key.strip_prefix('}')?)
    };
    let token = match key {
        "*" | "?" | "$" if default.is_none() => Token::Lit(key.into()),
        "" => return None,
        k if k.contains(char::is_whitespace) => return None,
        k => Token::Var(Variable {
            key: k.to_lowercase().into_boxed_str(),
            default: default.map(String::into_boxed_str),
        }),
    };
    Some((token, rest))
}

/// Reads a default value up to its closing quote; `''` stands for one quote.
fn parse_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut rest = text;
    loop {
        let quote = rest.find('\'')?;
        value.push_str(rest.get(..quote)?);
        let after = rest.get(quote + 1..)?;
        if let Some(after_pair) = after.strip_prefix('\'') {
            value.push('\'');
            rest = after_pair;
        } else {
            return Some((value, after));
        }
    }
}

/// The value a variable stands for in this request, if it resolves.
pub(crate) fn resolve<'a>(variable: &'a Variable, vars: &'a dyn Variables) -> Option<&'a str> {
    vars.variable(&variable.key).or(variable.default.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    fn lit(s: &str) -> Token {
        Token::Lit(s.into())
    }

    #[test]
    fn variables_and_wildcards() {
        let tokens = tokenize("home/${aws:UserName}/*", FULL);
        assert_eq!(
            tokens,
            vec![
                lit("home/"),
                Token::Var(Variable {
                    key: "aws:username".into(),
                    default: None
                }),
                lit("/"),
                Token::Star
            ]
        );
    }

    #[test]
    fn escapes_are_literal() {
        assert_eq!(tokenize("a${*}b${?}${$}", FULL), vec![lit("a*b?$")]);
    }

    #[test]
    fn defaults_with_quotes() {
        let tokens = tokenize("${ aws:username , 'it''s' }", FULL);
        assert_eq!(
            tokens,
            vec![Token::Var(Variable {
                key: "aws:username".into(),
                default: Some("it's".into())
            })]
        );
    }

    #[test]
    fn malformed_variables_are_literal() {
        assert_eq!(tokenize("${foo", FULL), vec![lit("${foo")]);
        assert_eq!(tokenize("${}", FULL), vec![lit("${}")]);
        assert_eq!(tokenize("${a, b}", FULL), vec![lit("${a, b}")]);
    }

    #[test]
    fn without_variables_everything_is_text() {
        let syntax = Syntax {
            wildcards: false,
            variables: false,
        };
        assert_eq!(
            tokenize("${aws:username}*", syntax),
            vec![lit("${aws:username}*")]
        );
    }
}
