//! MFA devices: virtual devices (TOTP), enabling, resyncing, deactivating, listing.

use rampart_service::Operation;
use rampart_store::ReadTx;

use crate::IamError;
use crate::records;

/// Namespace of MFA devices assigned to users: `<account>/<lower-cased user>/<serial>`.
pub const BY_USER: &str = "iam.user-mfa-device";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}

/// Whether any MFA device is enabled for the user.
pub fn user_has_devices(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<bool, IamError> {
    let prefix = format!("{}/", records::key(account_id, user_name));
    Ok(!tx.scan(BY_USER, &prefix, None, 1)?.is_empty())
}
