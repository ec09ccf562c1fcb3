//! The account password policy: `GetAccountPasswordPolicy`, `UpdateAccountPasswordPolicy`,
//! `DeleteAccountPasswordPolicy`, and [`check`], which login profiles apply to every new
//! password.

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;

/// Namespace of password policies, keyed by account ID.
pub const NAMESPACE: &str = "iam.password-policy";

/// The symbols AWS counts for `RequireSymbols`, as its documentation lists them.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// `UpdateAccountPasswordPolicy`'s default minimum length when the parameter is omitted, as the
/// API reference documents it.
const DEFAULT_MINIMUM_LENGTH: i64 = 6;

/// The minimum length of AWS's default password policy (no custom policy set).
const NO_POLICY_MINIMUM_LENGTH: usize = 8;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::read(
            "GetAccountPasswordPolicy",
            "iam:GetAccountPasswordPolicy",
            get_account_password_policy,
        ),
        Operation::write(
            "UpdateAccountPasswordPolicy",
            "iam:UpdateAccountPasswordPolicy",
            update_account_password_policy,
        ),
        Operation::write(
            "DeleteAccountPasswordPolicy",
            "iam:DeleteAccountPasswordPolicy",
            delete_account_password_policy,
        ),
    ]
}

/// An account's password policy, stored and shown as IAM's `PasswordPolicy` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    /// Fewest characters a password may have.
    pub minimum_password_length: i64,
    /// At least one of [`SYMBOLS`].
    pub require_symbols: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one of A–Z.
    pub require_uppercase_characters: bool,
    /// At least one of a–z.
    pub require_lowercase_characters: bool,
    /// IAM users may change their own password (an implicit `iam:ChangePassword` on themselves).
    pub allow_users_to_change_password: bool,
    /// Whether passwords expire (derived: `MaxPasswordAge` is set).
    pub expire_passwords: bool,
    /// Days a password stays valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_password_age: Option<i64>,
    /// How many previous passwords a user may not reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reuse_prevention: Option<i64>,
    /// Expired passwords can only be reset by an administrator.
    #[serde(default)]
    pub hard_expiry: bool,
}

/// The password policy of `account_id`, if one was set.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<Option<PasswordPolicy>, IamError> {
    Ok(get_json(tx, NAMESPACE, account_id)?)
}

/// Checks `password` against `policy`, or against AWS's default password policy when the
/// account has none (at least 8 characters, and at least three of uppercase letters,
/// lowercase letters, numbers and symbols). Reuse prevention needs the user's history and is
/// checked by the login profile family.
pub fn check(policy: Option<&PasswordPolicy>, password: &str) -> Result<(), IamError> {
    let has_upper = password.chars().any(|c| c.is_ascii_uppercase());
    let has_lower = password.chars().any(|c| c.is_ascii_lowercase());
    let has_number = password.chars().any(|c| c.is_ascii_digit());
    let has_symbol = password.chars().any(|c| SYMBOLS.contains(c));
    let length = password.chars().count();
    let violation = |text: String| Err(IamError::PasswordPolicyViolation(text));
    let Some(policy) = policy else {
        if length < NO_POLICY_MINIMUM_LENGTH {
            return violation(format!(
                "Password should have a minimum length of {NO_POLICY_MINIMUM_LENGTH}"
            ));
        }
        let classes = [has_upper, has_lower, has_number, has_symbol]
            .iter()
            .filter(|present| **present)
            .count();
        if classes < 3 {
            return violation(
                "Password should have at least three of the following character types: \
                 uppercase letters, lowercase letters, numbers and symbols"
                    .into(),
            );
        }
        return Ok(());
    };
    // The order of the checks is the order AWS's console lists the requirements in, so the
    // first unmet one is reported, as AWS reports one violation at a time.
    if i64::try_from(length).unwrap_or(i64::MAX) < policy.minimum_password_length {
        return violation(format!(
            "Password should have a minimum length of {}",
            policy.minimum_password_length
        ));
    }
    if policy.require_uppercase_characters && !has_upper {
        return violation("Password should have at least one uppercase letter".into());
    }
    if policy.require_lowercase_characters && !has_lower {
        return violation("Password should have at least one lowercase letter".into());
    }
    if policy.require_numbers && !has_number {
        return violation("Password should have at least one number".into());
    }
    if policy.require_symbols && !has_symbol {
        return violation("Password should have at least one symbol".into());
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct NoInput {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetAccountPasswordPolicyOutput {
    password_policy: PasswordPolicy,
}

fn get_account_password_policy(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: NoInput,
) -> Result<GetAccountPasswordPolicyOutput, IamError> {
    let account = &env.caller.account_id;
    match get(tx, account)? {
        Some(password_policy) => Ok(GetAccountPasswordPolicyOutput { password_policy }),
        None => Err(IamError::NoSuchEntity(format!(
            "The Password Policy with domain name {account} cannot be found."
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAccountPasswordPolicyInput {
    minimum_password_length: Option<i64>,
    require_symbols: Option<bool>,
    require_numbers: Option<bool>,
    require_uppercase_characters: Option<bool>,
    require_lowercase_characters: Option<bool>,
    allow_users_to_change_password: Option<bool>,
    max_password_age: Option<i64>,
    password_reuse_prevention: Option<i64>,
    hard_expiry: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Empty {}

/// AWS does not merge: every parameter left out returns to its default.
fn update_account_password_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateAccountPasswordPolicyInput,
) -> Result<Empty, IamError> {
    let policy = PasswordPolicy {
        minimum_password_length: input
            .minimum_password_length
            .unwrap_or(DEFAULT_MINIMUM_LENGTH),
        require_symbols: input.require_symbols.unwrap_or(false),
        require_numbers: input.require_numbers.unwrap_or(false),
        require_uppercase_characters: input.require_uppercase_characters.unwrap_or(false),
        require_lowercase_characters: input.require_lowercase_characters.unwrap_or(false),
        allow_users_to_change_password: input.allow_users_to_change_password.unwrap_or(false),
        expire_passwords: input.max_password_age.is_some(),
        max_password_age: input.max_password_age,
        password_reuse_prevention: input.password_reuse_prevention,
        hard_expiry: input.hard_expiry.unwrap_or(false),
    };
    put_json(tx, NAMESPACE, &env.caller.account_id, &policy)?;
    Ok(Empty {})
}

fn delete_account_password_policy(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: NoInput,
) -> Result<Empty, IamError> {
    if !tx.delete(NAMESPACE, &env.caller.account_id)? {
        return Err(IamError::NoSuchEntity(
            "The account policy with name PasswordPolicy cannot be found.".into(),
        ));
    }
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn update(t: &TestEnv, input: UpdateAccountPasswordPolicyInput) {
        t.write(move |env, tx| update_account_password_policy(env, tx, input))
            .unwrap();
    }

    fn strict() -> UpdateAccountPasswordPolicyInput {
        UpdateAccountPasswordPolicyInput {
            minimum_password_length: Some(14),
            require_symbols: Some(true),
            require_numbers: Some(true),
            require_uppercase_characters: Some(true),
            require_lowercase_characters: Some(true),
            allow_users_to_change_password: Some(true),
            max_password_age: Some(90),
            password_reuse_prevention: Some(5),
            hard_expiry: None,
        }
    }

    fn message(result: Result<(), IamError>) -> String {
        match result {
            Err(IamError::PasswordPolicyViolation(m)) => m,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_policy_is_no_such_entity_with_the_account_named() {
        let t = TestEnv::new();
        let err = t
            .read(|env, tx| get_account_password_policy(env, tx, NoInput {}))
            .unwrap_err();
        assert!(matches!(err, IamError::NoSuchEntity(m)
            if m == format!("The Password Policy with domain name {ACCOUNT} cannot be found.")));
        let err = t
            .write(|env, tx| delete_account_password_policy(env, tx, NoInput {}))
            .unwrap_err();
        assert!(matches!(err, IamError::NoSuchEntity(_)));
    }

    #[test]
    fn update_replaces_the_whole_policy_and_derives_expire_passwords() {
        let t = TestEnv::new();
        update(&t, strict());
        let got = t
            .read(|env, tx| get_account_password_policy(env, tx, NoInput {}))
            .unwrap()
            .password_policy;
        assert_eq!(got.minimum_password_length, 14);
        assert!(got.expire_passwords);
        assert_eq!(got.password_reuse_prevention, Some(5));
        // Parameters left out return to their defaults: no merge with the previous policy.
        update(
            &t,
            UpdateAccountPasswordPolicyInput {
                minimum_password_length: None,
                require_symbols: None,
                require_numbers: Some(true),
                require_uppercase_characters: None,
                require_lowercase_characters: None,
                allow_users_to_change_password: None,
                max_password_age: None,
                password_reuse_prevention: None,
                hard_expiry: None,
            },
        );
        let got = t
            .read(|env, tx| get_account_password_policy(env, tx, NoInput {}))
            .unwrap()
            .password_policy;
        assert_eq!(got.minimum_password_length, DEFAULT_MINIMUM_LENGTH);
        assert!(got.require_numbers && !got.require_symbols && !got.expire_passwords);
        assert_eq!(got.max_password_age, None);
        t.write(|env, tx| delete_account_password_policy(env, tx, NoInput {}))
            .unwrap();
        assert!(t.read(|_, tx| get(tx, ACCOUNT)).unwrap().is_none());
    }

    #[test]
    fn violations_are_reported_in_aws_words() {
        let t = TestEnv::new();
        update(&t, strict());
        let policy = t.read(|_, tx| get(tx, ACCOUNT)).unwrap();
        let policy = policy.as_ref();
        assert_eq!(
            message(check(policy, "Short1!a")),
            "Password should have a minimum length of 14"
        );
        assert_eq!(
            message(check(policy, "alllowercase1!xyz")),
            "Password should have at least one uppercase letter"
        );
        assert_eq!(
            message(check(policy, "ALLUPPERCASE1!XYZ")),
            "Password should have at least one lowercase letter"
        );
        assert_eq!(
            message(check(policy, "NoNumbersHere!xyz")),
            "Password should have at least one number"
        );
        assert_eq!(
            message(check(policy, "NoSymbolsHere123")),
            "Password should have at least one symbol"
        );
        assert!(check(policy, "Correct-Horse-42-battery").is_ok());
    }

    #[test]
    fn without_a_policy_aws_default_applies() {
        assert!(check(None, "Ab1!").is_err());
        // Eight characters of only two classes are refused; three classes pass.
        assert!(check(None, "abcdefgh12").is_err());
        assert!(check(None, "abcdefgH12").is_ok());
        assert!(check(None, "ABCDEFG!x").is_ok());
    }
}
