//! MFA on session requests: the `SerialNumber` and `TokenCode` of `GetSessionToken` and
//! `AssumeRole`.
//!
//! AWS accepts only an MFA device of the calling IAM user ("the MFA device that is associated
//! with the user who is making the call"): a valid code from a device of anyone else in the
//! account proves nothing about the caller. The device is checked to be the caller's before
//! its code is looked at, so another user's device is neither tried nor has its time step
//! used up, and the answer does not depend on the code.

use rampart_service::{Env, PrincipalKind};
use rampart_store::WriteTx;

use crate::StsError;

/// AWS's answer when only one of `SerialNumber` and `TokenCode` is given.
const BOTH_REQUIRED: &str =
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.";

/// AWS's answer for a serial number that names no MFA device of the caller (its two spaces
/// included).
const NOT_THE_CALLERS: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  \
     Please verify your MFA serial number is valid and associated with this user.";

/// AWS's answer for a wrong or replayed code of the caller's own device (its trailing space
/// included).
const INVALID_CODE: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// Whether the request authenticated with MFA: `false` when it gives neither a serial number
/// nor a code; `true` when the code is valid for an MFA device of the calling IAM user (and
/// is then used up); AccessDenied otherwise.
pub(crate) fn authenticate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    serial_number: Option<&str>,
    token_code: Option<&str>,
) -> Result<bool, StsError> {
    let (serial, code) = match (serial_number, token_code) {
        (None, None) => return Ok(false),
        (Some(serial), Some(code)) => (serial, code),
        _ => return Err(StsError::AccessDenied(BOTH_REQUIRED.into())),
    };
    if !is_callers_device(env, tx, serial)? {
        return Err(StsError::AccessDenied(NOT_THE_CALLERS.into()));
    }
    let account = &env.caller.account_id;
    if !rampart_iam::mfa::verify_code(tx, env.root_key, account, serial, code, env.now)? {
        return Err(StsError::AccessDenied(INVALID_CODE.into()));
    }
    Ok(true)
}

/// Whether `serial` is an MFA device enabled for the IAM user who calls. Only IAM users (with
/// long-term keys or a session of their own) have devices here: a role session, a federated
/// user or the root user has none.
fn is_callers_device(env: &Env<'_>, tx: &mut dyn WriteTx, serial: &str) -> Result<bool, StsError> {
    let (PrincipalKind::IamUser, Some(user_name)) = (env.caller.kind, &env.caller.user_name) else {
        return Ok(false);
    };
    let device = rampart_iam::mfa::get(tx, &env.caller.account_id, serial)?;
    // User names are unique without regard to case, as IAM compares them.
    Ok(device
        .and_then(|d| d.user_name)
        .is_some_and(|owner| owner.eq_ignore_ascii_case(user_name)))
}

#[cfg(test)]
mod tests {
    use rampart_iam::Iam;
    use rampart_service::testing::{ACCOUNT, TestEnv};
    use rampart_service::{Caller, Handler, Service};
    use serde_json::{Value, json};

    use super::*;

    /// Calls the IAM operation `name` as the account's root user.
    fn iam(t: &TestEnv, name: &'static str, input: Value) -> Value {
        let root = Caller::root(ACCOUNT, "AKIAROOT");
        let key = std::sync::Arc::clone(&t.root_key);
        let now = t.now;
        t.write(move |_, tx| {
            let env = Env {
                caller: &root,
                region: "us-east-1",
                request_id: "test",
                now,
                root_key: &key,
                entropy: &rampart_service::OsEntropy,
                inherited: None,
                federation: None,
                rate_limits: &rampart_service::RateLimits::new(),
                calls: &rampart_service::NoServiceCalls,
                directory: &rampart_service::NoDirectory,
            };
            let iam = Iam::new();
            let Handler::Write(handler) = &iam.operation(name).unwrap().handler else {
                panic!("{name} writes");
            };
            Ok::<_, rampart_store::StoreError>(handler(&env, tx, input).unwrap())
        })
        .unwrap()
    }

    /// RFC 6238 with HMAC-SHA1, as an authenticator app computes it, `steps` after now.
    fn code(t: &TestEnv, seed: &[u8], steps: i64) -> String {
        use aws_lc_rs::hmac;
        let counter = (t.now.unix_timestamp() / 30 + steps).to_be_bytes();
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
        let mac = hmac::sign(&key, &counter);
        let mac = mac.as_ref();
        let offset = usize::from(mac[19] & 0x0f);
        let word = u32::from_be_bytes(mac[offset..offset + 4].try_into().unwrap());
        format!("{:06}", (word & 0x7fff_ffff) % 1_000_000)
    }

    /// A user `name` with a virtual MFA device enabled for it: the serial and the seed.
    fn user_with_device(t: &TestEnv, name: &str) -> (String, Vec<u8>) {
        iam(t, "CreateUser", json!({"UserName": name}));
        let device = iam(
            t,
            "CreateVirtualMFADevice",
            json!({"VirtualMFADeviceName": format!("{name}-phone")}),
        );
        let device = &device["VirtualMFADevice"];
        let base32 = data_encoding::BASE64
            .decode(device["Base32StringSeed"].as_str().unwrap().as_bytes())
            .unwrap();
        let seed = data_encoding::BASE32_NOPAD.decode(&base32).unwrap();
        let serial = device["SerialNumber"].as_str().unwrap().to_owned();
        iam(
            t,
            "EnableMFADevice",
            json!({
                "UserName": name, "SerialNumber": serial,
                "AuthenticationCode1": code(t, &seed, -1),
                "AuthenticationCode2": code(t, &seed, 0),
            }),
        );
        (serial, seed)
    }

    fn user(name: &str) -> Caller {
        Caller {
            account_id: ACCOUNT.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            principal_id: format!("AIDA{}", name.to_uppercase()),
            kind: PrincipalKind::IamUser,
            user_name: Some(name.into()),
            access_key_id: "AKIAEXAMPLE".into(),
        }
    }

    fn authenticate_as(
        t: &mut TestEnv,
        caller: Caller,
        serial: Option<&str>,
        code: Option<String>,
    ) -> Result<bool, StsError> {
        t.caller = caller;
        let serial = serial.map(str::to_owned);
        t.write(move |env, tx| authenticate(env, tx, serial.as_deref(), code.as_deref()))
    }

    fn refusal(result: Result<bool, StsError>) -> String {
        match result {
            Err(StsError::AccessDenied(message)) => message,
            other => panic!("expected AccessDenied, got {other:?}"),
        }
    }

    #[test]
    fn another_users_device_is_refused_even_with_its_valid_code() {
        let mut t = TestEnv::new();
        let (bobs, bob_seed) = user_with_device(&t, "bob");
        let (alices, alice_seed) = user_with_device(&t, "alice");
        let bobs_code = code(&t, &bob_seed, 1);

        // The attack: alice presents bob's device and a code bob's app shows.
        let refused = authenticate_as(&mut t, user("alice"), Some(&bobs), Some(bobs_code.clone()));
        assert_eq!(refusal(refused), NOT_THE_CALLERS);
        // The same answer for a device that does not exist: nothing about bob's is learnt.
        let missing = format!("arn:aws:iam::{ACCOUNT}:mfa/nobody");
        let refused = authenticate_as(
            &mut t,
            user("alice"),
            Some(&missing),
            Some(bobs_code.clone()),
        );
        assert_eq!(refusal(refused), NOT_THE_CALLERS);
        // Nor may the root user, a role session or a federated user use bob's device.
        for caller in [
            Caller::root(ACCOUNT, "AKIAROOT"),
            Caller {
                kind: PrincipalKind::AssumedRole,
                user_name: None,
                ..user("bob")
            },
            Caller {
                kind: PrincipalKind::FederatedUser,
                user_name: None,
                ..user("bob")
            },
        ] {
            let refused = authenticate_as(&mut t, caller, Some(&bobs), Some(bobs_code.clone()));
            assert_eq!(refusal(refused), NOT_THE_CALLERS);
        }

        // Bob's code was not used up by those attempts: bob signs in with it.
        assert!(authenticate_as(&mut t, user("bob"), Some(&bobs), Some(bobs_code)).unwrap());
        // Alice's own device works, once per code; user names compare without case.
        let alices_code = code(&t, &alice_seed, 1);
        assert!(
            authenticate_as(
                &mut t,
                user("ALICE"),
                Some(&alices),
                Some(alices_code.clone())
            )
            .unwrap()
        );
        let replayed = authenticate_as(&mut t, user("alice"), Some(&alices), Some(alices_code));
        assert_eq!(refusal(replayed), INVALID_CODE);
    }

    #[test]
    fn serial_and_code_go_together() {
        let mut t = TestEnv::new();
        let (serial, seed) = user_with_device(&t, "bob");
        assert!(!authenticate_as(&mut t, user("bob"), None, None).unwrap());
        let alone = authenticate_as(&mut t, user("bob"), Some(&serial), None);
        assert_eq!(refusal(alone), BOTH_REQUIRED);
        let alone = authenticate_as(&mut t, user("bob"), None, Some("123456".into()));
        assert_eq!(refusal(alone), BOTH_REQUIRED);
        // A code no step near now has.
        let near: Vec<String> = (-3..=3).map(|s| code(&t, &seed, s)).collect();
        let other = (0..10)
            .map(|d| d.to_string().repeat(6))
            .find(|c| !near.contains(c))
            .unwrap();
        let wrong = authenticate_as(&mut t, user("bob"), Some(&serial), Some(other));
        assert_eq!(refusal(wrong), INVALID_CODE);
    }
}
