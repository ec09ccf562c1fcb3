//! Translation of the models' Java regular expressions into the `regex` crate's syntax.
//!
//! AWS validates `pattern` with `java.util.regex`, matched against the whole value. Three
//! differences matter here and are translated:
//! - Java's `\w`, `\d`, `\s` (and negations) are ASCII-only; the `regex` crate's are Unicode.
//!   They become the ASCII classes `[[:word:]]`, `[[:digit:]]`, `[[:space:]]`, so that
//!   `[\w+=,.@-]+` rejects `é` as IAM does.
//! - Java writes code points as `\uHHHH`, and characters above U+FFFF as surrogate pairs
//!   (`\uD800\uDC00-\uDBFF\uDFFF` is U+10000–U+10FFFF); they become `\x{…}`.
//! - Inside a class, `&&`, `~~` and `--` are set operations in the `regex` crate but
//!   literals in Java's usual use here, so `&` and `~` are escaped.
//!
//! Repetition bounds above 1000 (`.{1,100000}`) are relaxed to unbounded: the `regex`
//! crate would exceed its size limit, and the shape's `max` length is checked anyway.
//!
//! Patterns using what the `regex` crate cannot do (look-around `(?!…)`, `(?<!…)`,
//! back-references `\1`) or lone surrogates do not compile and are skipped: the value is
//! then not checked against that pattern. `pattern::tests::report_uncompilable` lists them.

use regex::Regex;

/// Compile a model pattern; `None` when it cannot be expressed in the `regex` crate.
pub(crate) fn compile(java: &str) -> Option<Regex> {
    let translated = translate(java)?;
    // The whole value must match, as Java's `String.matches` requires.
    Regex::new(&format!("^(?:{translated})$")).ok()
}

/// Translate Java regex syntax to `regex` syntax; `None` for constructs with no equivalent.
fn translate(java: &str) -> Option<String> {
    let chars: Vec<char> = java.chars().collect();
    let mut out = String::with_capacity(java.len() + 16);
    let mut class_depth = 0usize;
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                let next = *chars.get(i + 1)?;
                i += 2;
                match next {
                    'w' | 'd' | 's' | 'W' | 'D' | 'S' => {
                        let (name, negated) = match next {
                            'w' => ("word", false),
                            'd' => ("digit", false),
                            's' => ("space", false),
                            'W' => ("word", true),
                            'D' => ("digit", true),
                            _ => ("space", true),
                        };
                        let caret = if negated { "^" } else { "" };
                        if class_depth > 0 {
                            out.push_str(&format!("[:{caret}{name}:]"));
                        } else {
                            out.push_str(&format!("[[:{caret}{name}:]]"));
                        }
                    }
                    'u' => {
                        let (cp, used) = unicode_escape(&chars, i)?;
                        i += used;
                        out.push_str(&format!("\\x{{{cp:X}}}"));
                    }
                    '1'..='9' => return None, // back-reference
                    // \p{..}, \x.., \t, \n, \b share their meaning; regex ≥ 1.8 accepts any
                    // escaped ASCII punctuation, as Java does.
                    c if c.is_ascii() && !c.is_ascii_whitespace() => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
                continue;
            }
            '[' => {
                class_depth += 1;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '{' if class_depth == 0 => {
                // `X{1,100000}` compiles to an automaton far beyond the `regex` size limit;
                // such bounds mirror the shape's length constraint, checked on its own, so
                // they are relaxed to `X{1,}`.
                let close = chars.get(i..)?.iter().position(|&c| c == '}')? + i;
                let body: String = chars.get(i + 1..close)?.iter().collect();
                match body.split_once(',') {
                    Some((lo, hi)) if hi.parse::<u32>().is_ok_and(|hi| hi > 1000) => {
                        out.push_str(&format!("{{{lo},}}"));
                    }
                    _ => out.push_str(&format!("{{{body}}}")),
                }
                i = close;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                // Look-around has no equivalent; inline flags and (?:…) do.
                match (chars.get(i + 2), chars.get(i + 3)) {
                    (Some('=' | '!'), _) | (Some('<'), Some('=' | '!')) => return None,
                    _ => out.push('('),
                }
            }
            '&' | '~' | '-' if class_depth > 0 => {
                // `&&`, `~~`, `--` are set operations in the `regex` crate, literals in Java.
                if chars.get(i + 1) == Some(&c) || c != '-' {
                    out.push('\\');
                }
                out.push(c);
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Read `HHHH` at `start` (after `\u`), combining a following `\uHHHH` low surrogate.
/// Returns the code point and how many chars were consumed; `None` for a lone surrogate.
fn unicode_escape(chars: &[char], start: usize) -> Option<(u32, usize)> {
    let high = hex4(chars, start)?;
    if !(0xD800..=0xDFFF).contains(&high) {
        return Some((high, 4));
    }
    if high >= 0xDC00 || chars.get(start + 4) != Some(&'\\') || chars.get(start + 5) != Some(&'u') {
        return None;
    }
    let low = hex4(chars, start + 6)?;
    if !(0xDC00..=0xDFFF).contains(&low) {
        return None;
    }
    Some((0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), 10))
}

fn hex4(chars: &[char], start: usize) -> Option<u32> {
    let digits: String = chars.get(start..start + 4)?.iter().collect();
    u32::from_str_radix(&digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        compile(pattern).unwrap().is_match(value)
    }

    #[test]
    fn iam_name_pattern_is_ascii_and_anchored() {
        let p = r"[\w+=,.@-]+";
        assert!(matches(p, "bob.smith@example"));
        assert!(!matches(p, "a b"));
        assert!(!matches(p, "é"));
        assert!(!matches(p, ""));
    }

    #[test]
    fn surrogate_pairs_and_escaped_punctuation() {
        let p = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
        assert!(matches(p, "abc\tdef"));
        assert!(!matches(p, "\u{1}"));
        let p = r"[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF]+";
        assert!(matches(p, "emoji 🎉 ok"));
        assert!(!matches(p, "\u{0}"));
        assert!(matches(
            r"arn:aws:iam::\d{12}:role\/x",
            "arn:aws:iam::123456789012:role/x"
        ));
        assert!(matches(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "Zoë 1:2"));
    }

    #[test]
    fn lookaround_and_backrefs_are_skipped() {
        assert!(compile(r"^(?!\s*$).+").is_none());
        assert!(compile(r"(a)\1").is_none());
        assert!(compile(r"(?s).*").is_some());
        assert!(matches(r"^.{1,100000}$", "abc"));
        assert!(!matches(r"^.{1,100000}$", ""));
        assert!(matches(r"[a-z]{2,3}", "abc"));
        assert!(!matches(r"[a-z]{2,3}", "abcd"));
    }

    /// Lists the patterns of the vendored models that cannot be compiled (run with
    /// `--nocapture` to see them); fails if a new kind of failure appears.
    #[test]
    fn report_uncompilable() {
        let mut failed = Vec::new();
        for model in crate::model::all_services() {
            for pattern in model.patterns() {
                if compile(pattern).is_none() {
                    failed.push(format!("{}: {pattern}", model.endpoint_prefix()));
                }
            }
        }
        failed.sort();
        failed.dedup();
        for f in &failed {
            println!("uncompilable pattern: {f}");
        }
        for f in &failed {
            assert!(
                f.contains("(?!") || f.contains("(?<!") || f.contains("\\1") || f.contains("\\3"),
                "unexpected uncompilable pattern {f}"
            );
        }
    }
}
