//! MFA devices: virtual devices (TOTP, RFC 6238), enabling, resyncing, deactivating, listing,
//! and [`verify_code`], which STS uses for `SerialNumber` + `TokenCode`.
//!
//! A virtual device's seed is a secret: it is returned once, by `CreateVirtualMFADevice`, and
//! kept sealed under the root key. Each device remembers the last time step a code was
//! accepted for, and only later steps are accepted, so a code cannot be replayed (RFC 6238
//! section 5.2).

use crate::resources;
use rampart_crypto::{RootKey, constant_time_eq};
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use totp_rs::{Builder, Totp};

use crate::IamError;
use crate::pagination::page;
use crate::records::{self, Tag};
use crate::tags;
use crate::users::User;

/// Namespace of MFA devices assigned to users: `<account>/<lower-cased user>/<serial>` → the
/// serial number (a JSON string).
pub const BY_USER: &str = "iam.user-mfa-device";

/// Namespace of virtual MFA devices: `<account>/<lower-cased path and name>`.
pub const VIRTUAL: &str = "iam.virtual-mfa-device";

/// TOTP's time step, in seconds (RFC 6238's default, and what authenticator apps use).
const STEP_SECONDS: i64 = 30;

/// Seed length: 40 bytes is the 64-character Base32 seed AWS hands out.
const SEED_BYTES: usize = 40;

/// How many steps either side of now a sign-in code may come from (clock skew).
const SIGN_IN_WINDOW: i64 = 1;

/// How far back a pair of enabling codes may reach: the user reads the first code, waits for
/// the next, and sends both, so the pair ends at the current step or the one before.
const ENABLE_WINDOW: i64 = 2;

/// How far a device's clock may have drifted for `ResyncMFADevice` to find it (10 minutes).
const RESYNC_WINDOW: i64 = 20;

/// IAM's quota of MFA devices per user.
const MAX_DEVICES_PER_USER: usize = 8;

/// The issuer authenticator apps show, as AWS's QR codes name it.
const ISSUER: &str = "Amazon Web Services";

const INVALID_CODE: &str = "Authentication code for device is not valid.";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateVirtualMFADevice",
            "iam:CreateVirtualMFADevice",
            create_virtual_mfa_device,
        )
        .resources(device_resource),
        Operation::write("EnableMFADevice", "iam:EnableMFADevice", enable_mfa_device)
            .resources(crate::resources::user_or_caller),
        Operation::write("ResyncMFADevice", "iam:ResyncMFADevice", resync_mfa_device)
            .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeactivateMFADevice",
            "iam:DeactivateMFADevice",
            deactivate_mfa_device,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteVirtualMFADevice",
            "iam:DeleteVirtualMFADevice",
            delete_virtual_mfa_device,
        )
        .resources(device_resource),
        Operation::read("ListMFADevices", "iam:ListMFADevices", list_mfa_devices)
            .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListVirtualMFADevices",
            "iam:ListVirtualMFADevices",
            list_virtual_mfa_devices,
        ),
        Operation::write("TagMFADevice", "iam:TagMFADevice", tag_mfa_device)
            .resources(device_resource),
        Operation::write("UntagMFADevice", "iam:UntagMFADevice", untag_mfa_device)
            .resources(device_resource),
        Operation::read(
            "ListMFADeviceTags",
            "iam:ListMFADeviceTags",
            list_mfa_device_tags,
        )
        .resources(device_resource),
    ]
}

/// A virtual device's ARN is its serial number; a device the request makes is named from its
/// path and name.
fn device_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let Some(serial) = resources::member(input, "SerialNumber") else {
        return Ok(vec![resources::new_entity(
            env,
            input,
            "mfa",
            "VirtualMFADeviceName",
        )]);
    };
    Ok(vec![match get(tx, &env.caller.account_id, serial)? {
        Some(device) => resources::tagged(serial, &device.tags),
        None => Resource::named(serial),
    }])
}

/// A virtual MFA device, as stored.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMfaDeviceRecord {
    /// The owning account.
    pub account_id: String,
    /// `arn:aws:iam::<account>:mfa<path><name>`.
    pub serial_number: String,
    /// When it was made.
    pub create_date: String,
    /// The user it is enabled for.
    #[serde(default)]
    pub user_name: Option<String>,
    /// When it was enabled.
    #[serde(default)]
    pub enable_date: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The last time step a code was accepted for; only later steps are accepted.
    #[serde(default)]
    last_used_step: Option<i64>,
    /// How many steps the device's clock runs ahead (negative: behind), learnt by resync.
    #[serde(default)]
    drift_steps: i64,
    /// The TOTP seed sealed under the root key (base64).
    sealed_seed: String,
}

// The sealed seed stays out of logs, even sealed.
impl std::fmt::Debug for VirtualMfaDeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualMfaDeviceRecord")
            .field("serial_number", &self.serial_number)
            .field("user_name", &self.user_name)
            .field("enable_date", &self.enable_date)
            .finish_non_exhaustive()
    }
}

fn seal_context(account_id: &str, serial: &str) -> Vec<u8> {
    format!("{VIRTUAL}/{account_id}/{serial}").into_bytes()
}

fn internal(what: &str) -> IamError {
    // Never include the TOTP library's error text: it can carry the otpauth URL, seed and all.
    IamError::Store(StoreError::Internal(format!("virtual MFA: {what}")))
}

impl VirtualMfaDeviceRecord {
    fn totp(&self, root_key: &RootKey) -> Result<Totp, IamError> {
        let sealed = data_encoding::BASE64
            .decode(self.sealed_seed.as_bytes())
            .map_err(|_| internal("the sealed seed is not base64"))?;
        let seed = root_key
            .open(
                &sealed,
                &seal_context(&self.account_id, &self.serial_number),
            )
            .map_err(|_| internal("the seed does not open under the root key"))?;
        Builder::new()
            .with_secret(seed.expose().to_vec())
            .build()
            .map_err(|_| internal("the seed is unusable"))
    }

    /// The first step of `steps` (ascending) after the last accepted one for which every code
    /// of `codes` matches consecutive steps.
    fn find_steps(
        &self,
        totp: &Totp,
        codes: &[&str],
        steps: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let after = self.last_used_step.unwrap_or(i64::MIN);
        steps.filter(|s| *s > after).find(|start| {
            // Evaluate every code of the pair so timing does not tell which one was wrong.
            codes
                .iter()
                .zip(*start..)
                .map(|(code, step)| code_matches(totp, code, step))
                .fold(true, |all, ok| all & ok)
        })
    }
}

fn code_matches(totp: &Totp, code: &str, step: i64) -> bool {
    let Ok(time) = u64::try_from(step.saturating_mul(STEP_SECONDS)) else {
        return false;
    };
    let expected = totp.generate(time).to_string();
    constant_time_eq(expected.as_bytes(), code.as_bytes())
}

fn current_step(now: OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(STEP_SECONDS)
}

/// The store key of the virtual device `serial` of `account_id`, if the serial is a virtual
/// device ARN of that account.
fn device_key(account_id: &str, serial: &str) -> Option<String> {
    let path_and_name = serial.strip_prefix(&format!("arn:aws:iam::{account_id}:mfa"))?;
    path_and_name
        .starts_with('/')
        .then(|| records::key(account_id, path_and_name))
}

/// The virtual device `serial` of `account_id`, if it exists.
pub fn get(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    serial: &str,
) -> Result<Option<VirtualMfaDeviceRecord>, IamError> {
    let Some(key) = device_key(account_id, serial) else {
        return Ok(None);
    };
    Ok(
        get_json::<VirtualMfaDeviceRecord>(tx, VIRTUAL, &key)?
            .filter(|d| d.serial_number == serial),
    )
}

fn required(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    serial: &str,
) -> Result<VirtualMfaDeviceRecord, IamError> {
    get(tx, account_id, serial)?.ok_or_else(|| {
        IamError::NoSuchEntity(format!(
            "VirtualMFADevice with serial number {serial} doesn't exist."
        ))
    })
}

fn put(tx: &mut (impl WriteTx + ?Sized), device: &VirtualMfaDeviceRecord) -> Result<(), IamError> {
    let key = device_key(&device.account_id, &device.serial_number)
        .ok_or_else(|| internal("a stored serial number is not a device ARN"))?;
    Ok(put_json(tx, VIRTUAL, &key, device)?)
}

fn user_index_key(account_id: &str, user_name: &str, serial: &str) -> String {
    format!("{}/{serial}", records::key(account_id, user_name))
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

/// Moves the user's MFA devices to its new name (`UpdateUser` renames).
pub(crate) fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account_id: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), IamError> {
    for serial in serials_of_user(tx, account_id, old_name)? {
        tx.delete(BY_USER, &user_index_key(account_id, old_name, &serial))?;
        put_json(
            tx,
            BY_USER,
            &user_index_key(account_id, new_name, &serial),
            &serial,
        )?;
        if let Some(mut device) = get(tx, account_id, &serial)? {
            device.user_name = Some(new_name.to_owned());
            put(tx, &device)?;
        }
    }
    Ok(())
}

/// The serial numbers of the MFA devices enabled for the user.
pub fn serials_of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    user_name: &str,
) -> Result<Vec<String>, IamError> {
    let prefix = format!("{}/", records::key(account_id, user_name));
    Ok(
        rampart_store::scan_json::<String>(tx, BY_USER, &prefix, None, usize::MAX)?
            .into_iter()
            .map(|(_, serial)| serial)
            .collect(),
    )
}

/// Checks a sign-in code (STS `TokenCode`) for the enabled device `serial` of `account_id`
/// and, when it is valid, consumes its time step so the same code cannot be used again.
/// Returns `false` for an unknown or unassigned device, a wrong code, or a replayed one.
pub fn verify_code(
    tx: &mut (impl WriteTx + ?Sized),
    root_key: &RootKey,
    account_id: &str,
    serial: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<bool, IamError> {
    let Some(mut device) = get(tx, account_id, serial)? else {
        return Ok(false);
    };
    if device.user_name.is_none() {
        return Ok(false);
    }
    let totp = device.totp(root_key)?;
    let centre = current_step(now).saturating_add(device.drift_steps);
    let window = centre.saturating_sub(SIGN_IN_WINDOW)..=centre.saturating_add(SIGN_IN_WINDOW);
    let Some(step) = device.find_steps(&totp, &[code], window) else {
        return Ok(false);
    };
    device.last_used_step = Some(step);
    put(tx, &device)?;
    Ok(true)
}

/// A virtual MFA device as IAM's API shows it. The seed and QR code appear only in
/// `CreateVirtualMFADevice`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VirtualMfaDevice {
    serial_number: String,
    #[serde(rename = "Base32StringSeed", skip_serializing_if = "Option::is_none")]
    base32_string_seed: Option<String>,
    #[serde(rename = "QRCodePNG", skip_serializing_if = "Option::is_none")]
    qr_code_png: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

// The seed must never reach a log through a Debug print of the answer.
impl std::fmt::Debug for VirtualMfaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualMfaDevice")
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateVirtualMfaDeviceOutput {
    #[serde(rename = "VirtualMFADevice")]
    virtual_mfa_device: VirtualMfaDevice,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateVirtualMfaDeviceInput {
    path: Option<String>,
    #[serde(rename = "VirtualMFADeviceName")]
    virtual_mfa_device_name: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

fn create_virtual_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateVirtualMfaDeviceInput,
) -> Result<CreateVirtualMfaDeviceOutput, IamError> {
    let account = env.caller.account_id.clone();
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let name = input.virtual_mfa_device_name;
    let serial = records::arn(&account, "mfa", &path, &name);
    let key = device_key(&account, &serial)
        .ok_or_else(|| IamError::InvalidInput(format!("Invalid path: {path}")))?;
    // Keys ignore case: another case of the same path and name is the same device to IAM.
    if tx.get(VIRTUAL, &key)?.is_some() {
        return Err(IamError::EntityAlreadyExists(
            "MFADevice entity at the same path and name already exists.".into(),
        ));
    }
    tags::check_new(&input.tags)?;
    let seed = env.random(SEED_BYTES);
    let totp = Builder::new()
        .with_secret(seed.clone())
        .with_issuer(Some(ISSUER))
        .with_account_name(format!("{name}@{account}"))
        .build()
        .map_err(|_| internal("the device name cannot label a TOTP"))?;
    let seed_base32 = totp.secret().to_base32();
    let png = totp
        .to_qr_png()
        .map_err(|_| internal("the QR code could not be drawn"))?;
    let sealed = env.root_key.seal(&seed, &seal_context(&account, &serial));
    let device = VirtualMfaDeviceRecord {
        account_id: account,
        serial_number: serial.clone(),
        create_date: aws_timestamp(env.now),
        user_name: None,
        enable_date: None,
        tags: input.tags.clone(),
        last_used_step: None,
        drift_steps: 0,
        sealed_seed: data_encoding::BASE64.encode(&sealed),
    };
    put(tx, &device)?;
    Ok(CreateVirtualMfaDeviceOutput {
        virtual_mfa_device: VirtualMfaDevice {
            serial_number: serial,
            // Blobs travel base64-encoded: the seed's Base32 text, and the PNG's bytes.
            base32_string_seed: Some(data_encoding::BASE64.encode(seed_base32.as_bytes())),
            qr_code_png: Some(data_encoding::BASE64.encode(&png)),
            user: None,
            enable_date: None,
            tags: input.tags,
        },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodesInput {
    user_name: String,
    serial_number: String,
    authentication_code1: String,
    authentication_code2: String,
}

#[derive(Debug, Serialize)]
struct Empty {}

fn enable_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CodesInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let user = records::user(tx, &account, &input.user_name)?;
    let mut device = required(tx, &account, &input.serial_number)?;
    if device.user_name.is_some() {
        return Err(IamError::EntityAlreadyExists(format!(
            "MFA device {} is already in use.",
            input.serial_number
        )));
    }
    if serials_of_user(tx, &account, &user.user_name)?.len() >= MAX_DEVICES_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}"
        )));
    }
    let totp = device.totp(env.root_key)?;
    let now = current_step(env.now);
    let codes = [
        input.authentication_code1.as_str(),
        input.authentication_code2.as_str(),
    ];
    // The pair's second code is from the current step, the one before, or (clock skew) the
    // one after; so the first code's step is between now - ENABLE_WINDOW and now.
    let Some(first) = device.find_steps(&totp, &codes, now.saturating_sub(ENABLE_WINDOW)..=now)
    else {
        return Err(IamError::InvalidAuthenticationCode(INVALID_CODE.into()));
    };
    device.last_used_step = Some(first.saturating_add(1));
    device.drift_steps = 0;
    device.user_name = Some(user.user_name.clone());
    device.enable_date = Some(aws_timestamp(env.now));
    put(tx, &device)?;
    put_json(
        tx,
        BY_USER,
        &user_index_key(&account, &user.user_name, &device.serial_number),
        &device.serial_number,
    )?;
    Ok(Empty {})
}

/// The device `serial`, which must be enabled for `user_name`.
fn assigned(
    tx: &mut dyn ReadTx,
    account: &str,
    user_name: &str,
    serial: &str,
) -> Result<VirtualMfaDeviceRecord, IamError> {
    get(tx, account, serial)?
        .filter(|d| {
            d.user_name
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(user_name))
        })
        .ok_or_else(|| {
            IamError::NoSuchEntity(format!(
                "MFA Device with serial number {serial} does not exist."
            ))
        })
}

fn resync_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CodesInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let user = records::user(tx, &account, &input.user_name)?;
    let mut device = assigned(tx, &account, &user.user_name, &input.serial_number)?;
    let totp = device.totp(env.root_key)?;
    let now = current_step(env.now);
    let codes = [
        input.authentication_code1.as_str(),
        input.authentication_code2.as_str(),
    ];
    let window = now.saturating_sub(RESYNC_WINDOW)..=now.saturating_add(RESYNC_WINDOW);
    let Some(first) = device.find_steps(&totp, &codes, window) else {
        return Err(IamError::InvalidAuthenticationCode(INVALID_CODE.into()));
    };
    let second = first.saturating_add(1);
    device.last_used_step = Some(second);
    // The second code is the one the device shows now: its offset from our clock is the drift.
    device.drift_steps = second.saturating_sub(now);
    put(tx, &device)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeactivateMfaDeviceInput {
    user_name: Option<String>,
    serial_number: String,
}

fn deactivate_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeactivateMfaDeviceInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let name = input
        .user_name
        .or_else(|| env.caller.user_name.clone())
        .ok_or_else(|| {
            IamError::NoSuchEntity(format!(
                "MFA Device with serial number {} does not exist.",
                input.serial_number
            ))
        })?;
    let user = records::user(tx, &account, &name)?;
    let mut device = assigned(tx, &account, &user.user_name, &input.serial_number)?;
    tx.delete(
        BY_USER,
        &user_index_key(&account, &user.user_name, &device.serial_number),
    )?;
    device.user_name = None;
    device.enable_date = None;
    put(tx, &device)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SerialInput {
    serial_number: String,
}

fn delete_virtual_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SerialInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let device = required(tx, &account, &input.serial_number)?;
    if device.user_name.is_some() {
        return Err(IamError::DeleteConflict(
            "MFA VirtualDevice in use. Must deactivate first.".into(),
        ));
    }
    if let Some(key) = device_key(&account, &device.serial_number) {
        tx.delete(VIRTUAL, &key)?;
    }
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListMfaDevicesInput {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MfaDevice {
    user_name: String,
    serial_number: String,
    enable_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListMfaDevicesOutput {
    #[serde(rename = "MFADevices")]
    mfa_devices: Vec<MfaDevice>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_mfa_devices(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListMfaDevicesInput,
) -> Result<ListMfaDevicesOutput, IamError> {
    let account = env.caller.account_id.clone();
    let Some(name) = input.user_name.or_else(|| env.caller.user_name.clone()) else {
        // The root user's own devices are managed outside IAM users; it has none here.
        return Ok(ListMfaDevicesOutput {
            mfa_devices: Vec::new(),
            is_truncated: false,
            marker: None,
        });
    };
    let user = records::user(tx, &account, &name)?;
    let prefix = format!("{}/", records::key(&account, &user.user_name));
    let serials = page::<String>(
        tx,
        BY_USER,
        &prefix,
        input.marker.as_deref(),
        input.max_items,
        |_| true,
    )?;
    let mut devices = Vec::new();
    for serial in &serials.items {
        if let Some(device) = get(tx, &account, serial)? {
            devices.push(MfaDevice {
                user_name: user.user_name.clone(),
                serial_number: device.serial_number,
                enable_date: device.enable_date.unwrap_or(device.create_date),
            });
        }
    }
    Ok(ListMfaDevicesOutput {
        is_truncated: serials.is_truncated(),
        mfa_devices: devices,
        marker: serials.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListVirtualMfaDevicesInput {
    assignment_status: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListVirtualMfaDevicesOutput {
    #[serde(rename = "VirtualMFADevices")]
    virtual_mfa_devices: Vec<VirtualMfaDevice>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_virtual_mfa_devices(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListVirtualMfaDevicesInput,
) -> Result<ListVirtualMfaDevicesOutput, IamError> {
    let account = env.caller.account_id.clone();
    let status = input.assignment_status.unwrap_or_else(|| "Any".into());
    let devices = page::<VirtualMfaDeviceRecord>(
        tx,
        VIRTUAL,
        &records::account_prefix(&account),
        input.marker.as_deref(),
        input.max_items,
        |d| match status.as_str() {
            "Assigned" => d.user_name.is_some(),
            "Unassigned" => d.user_name.is_none(),
            _ => true,
        },
    )?;
    let mut shown = Vec::new();
    for device in &devices.items {
        let user = match &device.user_name {
            Some(name) => records::user(tx, &account, name)
                .ok()
                .map(|u| User::listed(&u)),
            None => None,
        };
        shown.push(VirtualMfaDevice {
            serial_number: device.serial_number.clone(),
            base32_string_seed: None,
            qr_code_png: None,
            user,
            enable_date: device.enable_date.clone(),
            tags: device.tags.clone(),
        });
    }
    Ok(ListVirtualMfaDevicesOutput {
        is_truncated: devices.is_truncated(),
        virtual_mfa_devices: shown,
        marker: devices.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagMfaDeviceInput {
    serial_number: String,
    tags: Vec<Tag>,
}

fn tag_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagMfaDeviceInput,
) -> Result<Empty, IamError> {
    let mut device = required(tx, &env.caller.account_id, &input.serial_number)?;
    tags::merge(&mut device.tags, input.tags)?;
    put(tx, &device)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagMfaDeviceInput {
    serial_number: String,
    tag_keys: Vec<String>,
}

fn untag_mfa_device(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagMfaDeviceInput,
) -> Result<Empty, IamError> {
    let mut device = required(tx, &env.caller.account_id, &input.serial_number)?;
    tags::remove(&mut device.tags, &input.tag_keys);
    put(tx, &device)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListMfaDeviceTagsInput {
    serial_number: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_mfa_device_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListMfaDeviceTagsInput,
) -> Result<tags::TagPage, IamError> {
    let device = required(tx, &env.caller.account_id, &input.serial_number)?;
    tags::page(device.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn user(t: &TestEnv, name: &str) {
        let name = name.to_owned();
        t.write(move |env, tx| {
            records::put_user(
                tx,
                &records::UserRecord {
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
                },
            )
        })
        .unwrap();
    }

    /// Creates a device and returns its serial and an authenticator for it, built the way an
    /// app would: from the Base32 seed the answer carried.
    fn create(t: &TestEnv, name: &str) -> (String, Totp) {
        let input = CreateVirtualMfaDeviceInput {
            path: None,
            virtual_mfa_device_name: name.into(),
            tags: Vec::new(),
        };
        let out = t
            .write(move |env, tx| create_virtual_mfa_device(env, tx, input))
            .unwrap()
            .virtual_mfa_device;
        let seed = data_encoding::BASE64
            .decode(out.base32_string_seed.unwrap().as_bytes())
            .unwrap();
        let seed = String::from_utf8(seed).unwrap();
        assert_eq!(seed.len(), 64, "AWS's seeds are 64 Base32 characters");
        let png = data_encoding::BASE64
            .decode(out.qr_code_png.unwrap().as_bytes())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let secret = totp_rs::Secret::try_from_base32(&seed).unwrap();
        let totp = Builder::new().with_secret(secret).build().unwrap();
        (out.serial_number, totp)
    }

    fn code(totp: &Totp, t: &TestEnv, steps_from_now: i64) -> String {
        let time = t.now.unix_timestamp() + steps_from_now * STEP_SECONDS;
        totp.generate(u64::try_from(time).unwrap()).to_string()
    }

    fn enable(t: &TestEnv, serial: &str, c1: String, c2: String) -> Result<Empty, IamError> {
        let input = CodesInput {
            user_name: "bob".into(),
            serial_number: serial.into(),
            authentication_code1: c1,
            authentication_code2: c2,
        };
        t.write(move |env, tx| enable_mfa_device(env, tx, input))
    }

    fn verify(t: &TestEnv, serial: &str, code: String) -> bool {
        let serial = serial.to_owned();
        let key = std::sync::Arc::clone(&t.root_key);
        t.write(move |env, tx| verify_code(tx, &key, ACCOUNT, &serial, &code, env.now))
            .unwrap()
    }

    #[test]
    fn the_seed_is_sealed_and_the_serial_is_an_arn() {
        let t = TestEnv::new();
        let (serial, totp) = create(&t, "bob-phone");
        assert_eq!(serial, format!("arn:aws:iam::{ACCOUNT}:mfa/bob-phone"));
        let device = t.read(|_, tx| get(tx, ACCOUNT, &serial)).unwrap().unwrap();
        let stored = serde_json::to_string(&device).unwrap();
        let seed = totp.secret().to_base32();
        assert!(!stored.contains(&seed), "the seed is never stored in clear");
        assert!(!format!("{device:?}").contains(&device.sealed_seed));
        assert!(device.totp(&t.root_key).is_ok());
        assert!(device.totp(&RootKey::generate()).is_err());
        let again = CreateVirtualMfaDeviceInput {
            path: None,
            virtual_mfa_device_name: "BOB-phone".into(),
            tags: Vec::new(),
        };
        assert!(matches!(
            t.write(move |env, tx| create_virtual_mfa_device(env, tx, again)),
            Err(IamError::EntityAlreadyExists(m))
                if m == "MFADevice entity at the same path and name already exists."
        ));
    }

    #[test]
    fn enabling_needs_two_consecutive_codes_and_codes_cannot_be_replayed() {
        let t = TestEnv::new();
        user(&t, "bob");
        let (serial, totp) = create(&t, "bob-phone");
        // Two codes of the same step, or not consecutive, are refused.
        assert!(matches!(
            enable(&t, &serial, code(&totp, &t, 0), code(&totp, &t, 0)),
            Err(IamError::InvalidAuthenticationCode(m)) if m == INVALID_CODE
        ));
        assert!(enable(&t, &serial, code(&totp, &t, -2), code(&totp, &t, 0)).is_err());
        assert!(enable(&t, &serial, "000000".into(), "111111".into()).is_err());
        enable(&t, &serial, code(&totp, &t, -1), code(&totp, &t, 0)).unwrap();
        assert!(
            t.read(|_, tx| user_has_devices(tx, ACCOUNT, "bob"))
                .unwrap()
        );
        // The enabling codes' steps are used up.
        assert!(!verify(&t, &serial, code(&totp, &t, 0)));
        assert!(!verify(&t, &serial, code(&totp, &t, -1)));
        // The next step's code works once.
        assert!(verify(&t, &serial, code(&totp, &t, 1)));
        assert!(!verify(&t, &serial, code(&totp, &t, 1)));
        assert!(!verify(&t, &serial, "123456".into()));
        assert!(!verify(
            &t,
            "arn:aws:iam::123456789012:mfa/nothing",
            "123456".into()
        ));
    }

    #[test]
    fn deleting_an_enabled_device_conflicts_until_deactivated() {
        let t = TestEnv::new();
        user(&t, "bob");
        let (serial, totp) = create(&t, "bob-phone");
        enable(&t, &serial, code(&totp, &t, -1), code(&totp, &t, 0)).unwrap();
        let delete = |s: &str| {
            let input = SerialInput {
                serial_number: s.into(),
            };
            t.write(move |env, tx| delete_virtual_mfa_device(env, tx, input))
        };
        assert!(matches!(
            delete(&serial),
            Err(IamError::DeleteConflict(m)) if m == "MFA VirtualDevice in use. Must deactivate first."
        ));
        let listed = t
            .read(|env, tx| {
                list_mfa_devices(
                    env,
                    tx,
                    ListMfaDevicesInput {
                        user_name: Some("bob".into()),
                        marker: None,
                        max_items: None,
                    },
                )
            })
            .unwrap();
        assert_eq!(listed.mfa_devices.len(), 1);
        assert_eq!(listed.mfa_devices[0].serial_number, serial);
        let assigned = |status: &str| {
            let input = ListVirtualMfaDevicesInput {
                assignment_status: Some(status.into()),
                marker: None,
                max_items: None,
            };
            t.read(move |env, tx| list_virtual_mfa_devices(env, tx, input))
                .unwrap()
                .virtual_mfa_devices
                .len()
        };
        assert_eq!((assigned("Assigned"), assigned("Unassigned")), (1, 0));
        let input = DeactivateMfaDeviceInput {
            user_name: Some("bob".into()),
            serial_number: serial.clone(),
        };
        t.write(move |env, tx| deactivate_mfa_device(env, tx, input))
            .unwrap();
        assert!(
            !t.read(|_, tx| user_has_devices(tx, ACCOUNT, "bob"))
                .unwrap()
        );
        assert_eq!((assigned("Assigned"), assigned("Any")), (0, 1));
        // A deactivated device no longer signs in.
        assert!(!verify(&t, &serial, code(&totp, &t, 1)));
        delete(&serial).unwrap();
        assert!(matches!(delete(&serial), Err(IamError::NoSuchEntity(_))));
    }

    #[test]
    fn resync_learns_the_drift() {
        let mut t = TestEnv::new();
        user(&t, "bob");
        let (serial, totp) = create(&t, "bob-phone");
        enable(&t, &serial, code(&totp, &t, -1), code(&totp, &t, 0)).unwrap();
        // The device's clock runs five minutes (10 steps) ahead of ours.
        t.now += time::Duration::minutes(5);
        assert!(!verify(&t, &serial, code(&totp, &t, 10)));
        let input = CodesInput {
            user_name: "bob".into(),
            serial_number: serial.clone(),
            authentication_code1: code(&totp, &t, 9),
            authentication_code2: code(&totp, &t, 10),
        };
        t.write(move |env, tx| resync_mfa_device(env, tx, input))
            .unwrap();
        t.now += time::Duration::seconds(30);
        assert!(verify(&t, &serial, code(&totp, &t, 10)));
    }

    #[test]
    fn tags_on_devices() {
        let t = TestEnv::new();
        let (serial, _) = create(&t, "tagged");
        let input = TagMfaDeviceInput {
            serial_number: serial.clone(),
            tags: vec![Tag {
                key: "team".into(),
                value: "ops".into(),
            }],
        };
        t.write(move |env, tx| tag_mfa_device(env, tx, input))
            .unwrap();
        let s = serial.clone();
        let device = t.read(move |_, tx| get(tx, ACCOUNT, &s)).unwrap().unwrap();
        assert_eq!(device.tags.len(), 1);
        let input = UntagMfaDeviceInput {
            serial_number: serial.clone(),
            tag_keys: vec!["TEAM".into()],
        };
        t.write(move |env, tx| untag_mfa_device(env, tx, input))
            .unwrap();
        let device = t.read(|_, tx| get(tx, ACCOUNT, &serial)).unwrap().unwrap();
        assert!(device.tags.is_empty());
    }

    /// A virtual device `name`, enabled for the existing user bob; its serial.
    pub(crate) fn enabled_device(t: &TestEnv, user_name: &str, name: &str) -> String {
        assert_eq!(user_name, "bob", "enable() assigns to bob");
        let (serial, totp) = create(t, name);
        enable(t, &serial, code(&totp, t, -1), code(&totp, t, 0)).unwrap();
        serial
    }
}
