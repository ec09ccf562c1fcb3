//! `GetMFADevice`: one MFA device enabled for a user. Rampart's devices are virtual (TOTP),
//! kept by `mfa`; FIDO certifications never apply, so the response has none.

use rampart_service::{Env, Operation};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::mfa;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::read("GetMFADevice", "iam:GetMFADevice", get_mfa_device)
            .resources(crate::resources::user_or_caller),
    ]
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMfaDeviceInput {
    serial_number: String,
    user_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMfaDeviceOutput {
    user_name: String,
    serial_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_date: Option<String>,
}

fn get_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetMfaDeviceInput,
) -> Result<GetMfaDeviceOutput, IamError> {
    let account = &env.caller.account_id;
    let serial = input.serial_number;
    let not_found = || {
        IamError::NoSuchEntity(format!(
            "MFA device with serial number {serial} cannot be found."
        ))
    };
    // Only a device enabled for the named user (or the caller) is found; an unassigned
    // virtual device is not "an MFA device of" anyone.
    let wanted = input.user_name.or_else(|| env.caller.user_name.clone());
    let device = mfa::get(tx, account, &serial)?.ok_or_else(not_found)?;
    let owner = device.user_name.clone().ok_or_else(not_found)?;
    if let Some(wanted) = &wanted {
        crate::records::user(tx, account, wanted)?;
        if !wanted.eq_ignore_ascii_case(&owner) {
            return Err(not_found());
        }
    }
    Ok(GetMfaDeviceOutput {
        user_name: owner,
        serial_number: device.serial_number,
        enable_date: device.enable_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn get(t: &TestEnv, serial: &str, user: Option<&str>) -> Result<GetMfaDeviceOutput, IamError> {
        let input = GetMfaDeviceInput {
            serial_number: serial.into(),
            user_name: user.map(str::to_owned),
        };
        t.read(move |env, tx| get_mfa_device(env, tx, input))
    }

    #[test]
    fn an_enabled_device_is_found_for_its_user_only() {
        let t = TestEnv::new();
        crate::signing_certificates::tests::user(&t, "bob");
        crate::signing_certificates::tests::user(&t, "alice");
        let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/bob-phone");
        let enabled = mfa::tests::enabled_device(&t, "bob", "bob-phone");
        assert_eq!(enabled, serial);
        let found = get(&t, &serial, Some("bob")).unwrap();
        assert_eq!(found.user_name, "bob");
        assert!(found.enable_date.is_some());
        assert!(matches!(
            get(&t, &serial, Some("alice")),
            Err(IamError::NoSuchEntity(_))
        ));
        assert!(matches!(
            get(&t, &format!("arn:aws:iam::{ACCOUNT}:mfa/none"), None),
            Err(IamError::NoSuchEntity(_))
        ));
    }
}
