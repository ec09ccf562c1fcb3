//! GetRandomPassword: a password of the requested length from the character classes the
//! request keeps (lower case, upper case, digits, AWS's punctuation, and a space when asked),
//! with at least one of each class kept unless `RequireEachIncludedType` is false. Characters
//! are drawn from the operating system's generator ([`Env::entropy`]) without modulo bias.

use rampart_service::Env;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::SecretsError;

/// The punctuation AWS draws from.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// The length when the request names none.
const DEFAULT_LENGTH: i64 = 32;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetRandomPasswordInput {
    pub(crate) password_length: Option<i64>,
    pub(crate) exclude_characters: Option<String>,
    pub(crate) exclude_numbers: Option<bool>,
    pub(crate) exclude_punctuation: Option<bool>,
    pub(crate) exclude_uppercase: Option<bool>,
    pub(crate) exclude_lowercase: Option<bool>,
    pub(crate) include_space: Option<bool>,
    pub(crate) require_each_included_type: Option<bool>,
}

/// GetRandomPassword's answer. (No `Debug`: it holds the password.)
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetRandomPasswordOutput {
    random_password: String,
}

/// A uniformly random index below `n` (rejection sampling: no modulo bias).
fn index_below(env: &Env<'_>, n: usize) -> usize {
    let n32 = u32::try_from(n).unwrap_or(u32::MAX).max(1);
    let zone = u32::MAX - (u32::MAX % n32);
    loop {
        let mut bytes = [0u8; 4];
        env.entropy.fill(&mut bytes);
        let x = u32::from_le_bytes(bytes);
        if x < zone {
            return usize::try_from(x % n32).unwrap_or(0);
        }
    }
}

fn pick(env: &Env<'_>, from: &[char]) -> char {
    from.get(index_below(env, from.len()))
        .copied()
        .unwrap_or('a')
}

/// A password as the request describes it.
pub(crate) fn generate(
    env: &Env<'_>,
    input: &GetRandomPasswordInput,
) -> Result<Zeroizing<String>, SecretsError> {
    let length = input.password_length.unwrap_or(DEFAULT_LENGTH);
    let length = usize::try_from(length)
        .ok()
        .filter(|l| (1..=4096).contains(l))
        .ok_or_else(|| {
            SecretsError::InvalidParameter("Password length must be between 1 and 4096.".to_owned())
        })?;
    let excluded = input.exclude_characters.as_deref().unwrap_or_default();
    let keep =
        |set: &str| -> Vec<char> { set.chars().filter(|c| !excluded.contains(*c)).collect() };
    let mut classes: Vec<Vec<char>> = Vec::new();
    for (set, excluded) in [
        (LOWER, input.exclude_lowercase),
        (UPPER, input.exclude_uppercase),
        (DIGITS, input.exclude_numbers),
        (PUNCTUATION, input.exclude_punctuation),
        (" ", input.include_space.map(|on| !on).or(Some(true))),
    ] {
        if excluded != Some(true) {
            let chars = keep(set);
            if !chars.is_empty() {
                classes.push(chars);
            }
        }
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(SecretsError::InvalidParameter(
            "The password has no characters to be made of: every character type is excluded."
                .to_owned(),
        ));
    }
    let each = input.require_each_included_type.unwrap_or(true);
    if each && length < classes.len() {
        return Err(SecretsError::InvalidParameter(format!(
            "The password length must be at least {} to include each character type you \
             require.",
            classes.len()
        )));
    }
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(Vec::with_capacity(length));
    if each {
        for class in &classes {
            chars.push(pick(env, class));
        }
    }
    while chars.len() < length {
        chars.push(pick(env, &all));
    }
    // Fisher–Yates, so the required characters are not always first.
    for i in (1..chars.len()).rev() {
        let j = index_below(env, i + 1);
        chars.swap(i, j);
    }
    Ok(Zeroizing::new(chars.iter().collect()))
}

/// GetRandomPassword.
pub(crate) fn get_random_password(
    env: &Env<'_>,
    _tx: &mut dyn rampart_store::ReadTx,
    input: GetRandomPasswordInput,
) -> Result<GetRandomPasswordOutput, SecretsError> {
    Ok(GetRandomPasswordOutput {
        random_password: generate(env, &input)?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use rampart_service::testing::TestEnv;

    fn password(input: GetRandomPasswordInput) -> Result<String, SecretsError> {
        TestEnv::new().with_env(|env| generate(env, &input).map(|p| p.to_string()))
    }

    #[test]
    fn defaults_are_32_characters_of_every_type_but_space() {
        for _ in 0..20 {
            let p = password(GetRandomPasswordInput::default()).unwrap();
            assert_eq!(p.chars().count(), 32);
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
            assert!(!p.contains(' '));
        }
    }

    #[test]
    fn every_option_is_honoured() {
        let p = password(GetRandomPasswordInput {
            password_length: Some(200),
            exclude_characters: Some("abc123".into()),
            exclude_punctuation: Some(true),
            exclude_uppercase: Some(true),
            include_space: Some(true),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p.len(), 200);
        assert!(p.contains(' '));
        assert!(!p.chars().any(|c| "abc123".contains(c)));
        assert!(
            p.chars()
                .all(|c| c == ' ' || c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let digits = password(GetRandomPasswordInput {
            password_length: Some(12),
            exclude_lowercase: Some(true),
            exclude_uppercase: Some(true),
            exclude_punctuation: Some(true),
            ..Default::default()
        })
        .unwrap();
        assert!(digits.chars().all(|c| c.is_ascii_digit()));
        assert!(
            password(GetRandomPasswordInput {
                password_length: Some(3),
                ..Default::default()
            })
            .is_err()
        );
        assert_eq!(
            password(GetRandomPasswordInput {
                password_length: Some(3),
                require_each_included_type: Some(false),
                ..Default::default()
            })
            .unwrap()
            .len(),
            3
        );
        assert!(
            password(GetRandomPasswordInput {
                exclude_lowercase: Some(true),
                exclude_uppercase: Some(true),
                exclude_numbers: Some(true),
                exclude_punctuation: Some(true),
                ..Default::default()
            })
            .is_err()
        );
    }
}
