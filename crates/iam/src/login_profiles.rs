//! Console passwords: `CreateLoginProfile`, `GetLoginProfile`, `UpdateLoginProfile`,
//! `DeleteLoginProfile`, `ChangePassword`.
//!
//! Passwords are hashed with argon2id (a fresh random salt each) and never stored, logged or
//! returned in clear. A profile keeps the hashes of the user's previous passwords, as many as
//! the largest `PasswordReusePrevention` AWS allows, so a policy tightened later still applies.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rampart_service::{Env, Operation, PrincipalKind, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::password_policy::{self, PasswordPolicy};
use crate::records;

/// Namespace of login profiles, keyed like the user.
pub const NAMESPACE: &str = "iam.login-profile";

/// The largest `PasswordReusePrevention` IAM accepts: how many old hashes are kept.
const MAX_HISTORY: usize = 24;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateLoginProfile",
            "iam:CreateLoginProfile",
            create_login_profile,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read("GetLoginProfile", "iam:GetLoginProfile", get_login_profile)
            .resources(crate::resources::user_or_caller),
        Operation::write(
            "UpdateLoginProfile",
            "iam:UpdateLoginProfile",
            update_login_profile,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteLoginProfile",
            "iam:DeleteLoginProfile",
            delete_login_profile,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write("ChangePassword", "iam:ChangePassword", change_password)
            .resources(crate::resources::user_or_caller),
    ]
}

/// A user's console password, as stored.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginProfileRecord {
    /// The owning account.
    pub account_id: String,
    /// The user, as named at creation.
    pub user_name: String,
    /// When the profile was made (AWS timestamp).
    pub create_date: String,
    /// Whether the user must set a new password at next sign-in.
    pub password_reset_required: bool,
    /// Longest console session, in seconds, when set.
    #[serde(default)]
    pub max_signin_session_duration: Option<i64>,
    /// When the password was last set (AWS timestamp).
    pub password_last_changed: String,
    /// The argon2id hash (PHC string) of the current password.
    password_hash: String,
    /// Hashes of earlier passwords, newest first, at most [`MAX_HISTORY`].
    #[serde(default)]
    previous_hashes: Vec<String>,
}

// Hashes are not secrets in the strict sense, but nothing about passwords belongs in logs.
impl std::fmt::Debug for LoginProfileRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfileRecord")
            .field("account_id", &self.account_id)
            .field("user_name", &self.user_name)
            .field("create_date", &self.create_date)
            .field("password_reset_required", &self.password_reset_required)
            .field("password_last_changed", &self.password_last_changed)
            .finish_non_exhaustive()
    }
}

impl LoginProfileRecord {
    /// Whether `password` is the current password (argon2's verification compares in constant
    /// time).
    pub fn verify(&self, password: &str) -> bool {
        verify_hash(&self.password_hash, password)
    }

    /// Whether `password` is the current one or one of the `count - 1` before it.
    fn reuses(&self, password: &str, count: usize) -> bool {
        std::iter::once(&self.password_hash)
            .chain(self.previous_hashes.iter())
            .take(count)
            .any(|hash| verify_hash(hash, password))
    }

    /// Makes `hash` the current password, keeping the old one in the history.
    fn replace_password(&mut self, hash: String, now: String) {
        let old = std::mem::replace(&mut self.password_hash, hash);
        self.previous_hashes.insert(0, old);
        self.previous_hashes.truncate(MAX_HISTORY);
        self.password_last_changed = now;
    }
}

fn verify_hash(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn hash_password(env: &Env<'_>, password: &str) -> Result<String, IamError> {
    let salt = SaltString::encode_b64(&env.random(16)).map_err(hash_failure)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(hash_failure)
}

/// Hashing only fails on parameters Rampart chose; that is Rampart's failure, not the
/// caller's, and the password itself is never part of the error.
fn hash_failure(e: argon2::password_hash::Error) -> IamError {
    IamError::Store(rampart_store::StoreError::Internal(format!(
        "password hashing failed: {e}"
    )))
}

/// Whether the user has a console password.
pub fn exists(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<bool, IamError> {
    Ok(tx
        .get(NAMESPACE, &records::key(account_id, user_name))?
        .is_some())
}

/// The login profile of the user, if any.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<Option<LoginProfileRecord>, IamError> {
    Ok(get_json(
        tx,
        NAMESPACE,
        &records::key(account_id, user_name),
    )?)
}

/// Moves the user's login profile to its new name (`UpdateUser` renames).
pub(crate) fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), IamError> {
    let old_key = records::key(account_id, old_name);
    let Some(mut profile) = get_json::<LoginProfileRecord>(tx, NAMESPACE, &old_key)? else {
        return Ok(());
    };
    tx.delete(NAMESPACE, &old_key)?;
    new_name.clone_into(&mut profile.user_name);
    put(tx, &profile)
}

fn put(tx: &mut (impl WriteTx + ?Sized), profile: &LoginProfileRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        NAMESPACE,
        &records::key(&profile.account_id, &profile.user_name),
        profile,
    )?)
}

fn no_profile(user_name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "Login Profile for User {user_name} cannot be found."
    ))
}

fn required(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    name: &str,
) -> Result<LoginProfileRecord, IamError> {
    get(tx, &env.caller.account_id, name)?.ok_or_else(|| no_profile(name))
}

/// The user named in the input, or the calling IAM user.
fn target_user(env: &Env<'_>, named: Option<String>) -> Result<String, IamError> {
    named
        .or_else(|| env.caller.user_name.clone())
        .ok_or_else(|| {
            IamError::InvalidInput("The UserName parameter is required for the root user.".into())
        })
}

/// A login profile as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoginProfile {
    user_name: String,
    create_date: String,
    password_reset_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_signin_session_duration: Option<i64>,
}

impl From<&LoginProfileRecord> for LoginProfile {
    fn from(p: &LoginProfileRecord) -> Self {
        Self {
            user_name: p.user_name.clone(),
            create_date: p.create_date.clone(),
            password_reset_required: p.password_reset_required,
            max_signin_session_duration: p.max_signin_session_duration,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoginProfileOutput {
    login_profile: LoginProfile,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateLoginProfileInput {
    user_name: Option<String>,
    password: Option<String>,
    #[serde(default)]
    password_reset_required: bool,
    max_signin_session_duration: Option<i64>,
}

fn create_login_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateLoginProfileInput,
) -> Result<LoginProfileOutput, IamError> {
    let account = env.caller.account_id.clone();
    let name = target_user(env, input.user_name)?;
    let user = records::user(tx, &account, &name)?;
    if exists(tx, &account, &user.user_name)? {
        return Err(IamError::EntityAlreadyExists(format!(
            "Login Profile for user {} already exists.",
            user.user_name
        )));
    }
    // Without a password the profile could never be used: AWS only omits it for AssumeRoot
    // sessions, which Rampart does not have.
    let password = input
        .password
        .ok_or_else(|| IamError::InvalidInput("Password is required.".into()))?;
    password_policy::check(password_policy::get(tx, &account)?.as_ref(), &password)?;
    let now = aws_timestamp(env.now);
    let profile = LoginProfileRecord {
        account_id: account,
        user_name: user.user_name,
        create_date: now.clone(),
        password_reset_required: input.password_reset_required,
        max_signin_session_duration: input.max_signin_session_duration,
        password_last_changed: now,
        password_hash: hash_password(env, &password)?,
        previous_hashes: Vec::new(),
    };
    put(tx, &profile)?;
    Ok(LoginProfileOutput {
        login_profile: LoginProfile::from(&profile),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetLoginProfileInput {
    user_name: Option<String>,
}

fn get_login_profile(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetLoginProfileInput,
) -> Result<LoginProfileOutput, IamError> {
    let name = target_user(env, input.user_name)?;
    records::user(tx, &env.caller.account_id, &name)?;
    let profile = required(env, tx, &name)?;
    Ok(LoginProfileOutput {
        login_profile: LoginProfile::from(&profile),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateLoginProfileInput {
    user_name: String,
    password: Option<String>,
    password_reset_required: Option<bool>,
    max_signin_session_duration: Option<i64>,
    reset_max_signin_session_duration: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Empty {}

fn update_login_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateLoginProfileInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    records::user(tx, &account, &input.user_name)?;
    let mut profile = required(env, tx, &input.user_name)?;
    if let Some(password) = &input.password {
        // An administrator's reset is checked against the policy's composition rules; reuse
        // prevention binds the user's own changes (ChangePassword).
        password_policy::check(password_policy::get(tx, &account)?.as_ref(), password)?;
        let hash = hash_password(env, password)?;
        profile.replace_password(hash, aws_timestamp(env.now));
    }
    if let Some(required) = input.password_reset_required {
        profile.password_reset_required = required;
    }
    if input.reset_max_signin_session_duration == Some(true) {
        profile.max_signin_session_duration = None;
    } else if let Some(duration) = input.max_signin_session_duration {
        profile.max_signin_session_duration = Some(duration);
    }
    put(tx, &profile)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteLoginProfileInput {
    user_name: Option<String>,
}

fn delete_login_profile(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteLoginProfileInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let name = target_user(env, input.user_name)?;
    records::user(tx, &account, &name)?;
    if !tx.delete(NAMESPACE, &records::key(&account, &name))? {
        return Err(no_profile(&name));
    }
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangePasswordInput {
    old_password: String,
    new_password: String,
}

/// An IAM user changes their own password. Whether they may is authorization's decision
/// (`iam:ChangePassword` on themselves, which the policy's `AllowUsersToChangePassword`
/// grants implicitly: see [`users_may_change_own_password`]); this checks the old password,
/// the policy's rules and reuse prevention.
fn change_password(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ChangePasswordInput,
) -> Result<Empty, IamError> {
    let name = match (&env.caller.kind, &env.caller.user_name) {
        (PrincipalKind::IamUser, Some(name)) => name.clone(),
        // The root user's password is the account's, changed through account settings;
        // role sessions and federated users have no password.
        _ => {
            return Err(IamError::InvalidUserType(
                "The request was rejected because the type of user for the transaction was incorrect."
                    .into(),
            ));
        }
    };
    let account = env.caller.account_id.clone();
    records::user(tx, &account, &name)?;
    let mut profile = required(env, tx, &name)?;
    if !profile.verify(&input.old_password) {
        return Err(IamError::InvalidUserType(
            "The old password is incorrect.".into(),
        ));
    }
    let policy = password_policy::get(tx, &account)?;
    password_policy::check(policy.as_ref(), &input.new_password)?;
    if let Some(count) = reuse_count(policy.as_ref())
        && profile.reuses(&input.new_password, count)
    {
        return Err(IamError::PasswordPolicyViolation(format!(
            "Password should not be one of your previous {count} passwords"
        )));
    }
    let hash = hash_password(env, &input.new_password)?;
    profile.replace_password(hash, aws_timestamp(env.now));
    // A user who had to reset has now done so.
    profile.password_reset_required = false;
    put(tx, &profile)?;
    Ok(Empty {})
}

fn reuse_count(policy: Option<&PasswordPolicy>) -> Option<usize> {
    policy
        .and_then(|p| p.password_reuse_prevention)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
}

/// Whether the account's password policy lets every IAM user change their own password
/// (AWS treats this as an implicit allow of `iam:ChangePassword` on the user themselves).
pub fn users_may_change_own_password(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
) -> Result<bool, IamError> {
    Ok(password_policy::get(tx, account_id)?.is_some_and(|p| p.allow_users_to_change_password))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::Caller;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    const GOOD: &str = "Correct-Horse-42-battery";

    fn user(t: &TestEnv, name: &str) {
        let name = name.to_owned();
        t.write(move |env, tx| {
            let user = records::UserRecord {
                account_id: ACCOUNT.into(),
                user_id: "AIDAEXAMPLEEXAMPLE123".into(),
                path: "/".into(),
                arn: records::arn(ACCOUNT, "user", "/", &name),
                user_name: name,
                create_date: aws_timestamp(env.now),
                password_last_used: None,
                permissions_boundary: None,
                tags: Vec::new(),
                attached_policies: Vec::new(),
                inline_policies: Default::default(),
                groups: Vec::new(),
            };
            records::put_user(tx, &user)
        })
        .unwrap();
    }

    fn create(t: &TestEnv, name: &str, password: &str) -> Result<LoginProfileOutput, IamError> {
        let input = CreateLoginProfileInput {
            user_name: Some(name.into()),
            password: Some(password.into()),
            password_reset_required: true,
            max_signin_session_duration: None,
        };
        t.write(move |env, tx| create_login_profile(env, tx, input))
    }

    fn as_user(t: &mut TestEnv, name: &str) {
        t.caller = Caller {
            account_id: ACCOUNT.into(),
            arn: records::arn(ACCOUNT, "user", "/", name),
            principal_id: "AIDAEXAMPLEEXAMPLE123".into(),
            kind: PrincipalKind::IamUser,
            user_name: Some(name.into()),
            access_key_id: "AKIAUSER".into(),
        };
    }

    fn change(t: &TestEnv, old: &str, new: &str) -> Result<Empty, IamError> {
        let input = ChangePasswordInput {
            old_password: old.into(),
            new_password: new.into(),
        };
        t.write(move |env, tx| change_password(env, tx, input))
    }

    fn set_reuse_prevention(t: &TestEnv, count: i64) {
        t.write(move |_, tx| {
            let policy = PasswordPolicy {
                minimum_password_length: 8,
                require_symbols: false,
                require_numbers: false,
                require_uppercase_characters: false,
                require_lowercase_characters: false,
                allow_users_to_change_password: true,
                expire_passwords: false,
                max_password_age: None,
                password_reuse_prevention: Some(count),
                hard_expiry: false,
            };
            Ok::<_, IamError>(put_json(tx, password_policy::NAMESPACE, ACCOUNT, &policy)?)
        })
        .unwrap();
    }

    #[test]
    fn the_password_is_stored_hashed_and_verifies() {
        let t = TestEnv::new();
        user(&t, "bob");
        let out = create(&t, "bob", GOOD).unwrap();
        assert!(out.login_profile.password_reset_required);
        let raw = t
            .read(|_, tx| tx.get(NAMESPACE, &records::key(ACCOUNT, "bob")))
            .unwrap()
            .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert!(!raw.contains(GOOD), "never stored in clear");
        assert!(raw.contains("$argon2id$"));
        let profile = t.read(|_, tx| get(tx, ACCOUNT, "BOB")).unwrap().unwrap();
        assert!(profile.verify(GOOD));
        assert!(!profile.verify("something-else-42A"));
        assert!(!format!("{profile:?}").contains("argon2"));
        assert!(matches!(
            create(&t, "bob", GOOD),
            Err(IamError::EntityAlreadyExists(m)) if m == "Login Profile for user bob already exists."
        ));
    }

    #[test]
    fn creation_is_refused_by_the_policy_and_needs_the_user() {
        let t = TestEnv::new();
        assert!(matches!(
            create(&t, "ghost", GOOD),
            Err(IamError::NoSuchEntity(_))
        ));
        user(&t, "bob");
        assert!(matches!(
            create(&t, "bob", "short"),
            Err(IamError::PasswordPolicyViolation(_))
        ));
        assert!(!t.read(|_, tx| exists(tx, ACCOUNT, "bob")).unwrap());
    }

    #[test]
    fn get_update_and_delete() {
        let t = TestEnv::new();
        user(&t, "bob");
        let get_input = || GetLoginProfileInput {
            user_name: Some("bob".into()),
        };
        assert!(matches!(
            t.read(|env, tx| get_login_profile(env, tx, get_input())),
            Err(IamError::NoSuchEntity(m)) if m == "Login Profile for User bob cannot be found."
        ));
        create(&t, "bob", GOOD).unwrap();
        let input = UpdateLoginProfileInput {
            user_name: "bob".into(),
            password: Some("Another-Fine-Pass-7".into()),
            password_reset_required: Some(false),
            max_signin_session_duration: None,
            reset_max_signin_session_duration: None,
        };
        t.write(move |env, tx| update_login_profile(env, tx, input))
            .unwrap();
        let got = t
            .read(|env, tx| get_login_profile(env, tx, get_input()))
            .unwrap();
        assert!(!got.login_profile.password_reset_required);
        let profile = t.read(|_, tx| get(tx, ACCOUNT, "bob")).unwrap().unwrap();
        assert!(profile.verify("Another-Fine-Pass-7"));
        let delete = || DeleteLoginProfileInput {
            user_name: Some("bob".into()),
        };
        t.write(move |env, tx| delete_login_profile(env, tx, delete()))
            .unwrap();
        assert!(matches!(
            t.write(move |env, tx| delete_login_profile(env, tx, delete())),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn change_password_checks_the_old_one_and_refuses_reuse() {
        let mut t = TestEnv::new();
        user(&t, "bob");
        create(&t, "bob", GOOD).unwrap();
        set_reuse_prevention(&t, 2);
        // The root user cannot use ChangePassword.
        assert!(matches!(
            change(&t, GOOD, "Fresh-Pass-123"),
            Err(IamError::InvalidUserType(_))
        ));
        as_user(&mut t, "bob");
        assert!(matches!(
            change(&t, "wrong-password-1A", "Fresh-Pass-123"),
            Err(IamError::InvalidUserType(_))
        ));
        assert!(matches!(
            change(&t, GOOD, GOOD),
            Err(IamError::PasswordPolicyViolation(m)) if m.contains("previous 2 passwords")
        ));
        change(&t, GOOD, "Fresh-Pass-123").unwrap();
        // The first password is still among the last two.
        assert!(matches!(
            change(&t, "Fresh-Pass-123", GOOD),
            Err(IamError::PasswordPolicyViolation(_))
        ));
        change(&t, "Fresh-Pass-123", "Third-Pass-456").unwrap();
        // Now it is three passwords back, and reuse prevention covers two.
        change(&t, "Third-Pass-456", GOOD).unwrap();
        let profile = t.read(|_, tx| get(tx, ACCOUNT, "bob")).unwrap().unwrap();
        assert!(profile.verify(GOOD));
        assert!(!profile.password_reset_required);
        assert!(
            t.read(|_, tx| users_may_change_own_password(tx, ACCOUNT))
                .unwrap()
        );
    }
}
