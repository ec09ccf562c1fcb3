//! SSH public keys of IAM users (as CodeCommit reads them): `UploadSSHPublicKey`,
//! `GetSSHPublicKey`, `ListSSHPublicKeys`, `UpdateSSHPublicKey`, `DeleteSSHPublicKey`.
//!
//! A key is accepted in OpenSSH format (`ssh-rsa AAAA… comment`, `ssh-ed25519 AAAA…`) or as a
//! PEM `PUBLIC KEY` (SubjectPublicKeyInfo). It is parsed once, on upload, into its algorithm
//! and numbers, from which both encodings `GetSSHPublicKey` offers are derived.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::records;

/// IAM's quota of SSH public keys per user.
pub const MAX_KEYS_PER_USER: usize = 5;

/// AWS rejects RSA keys shorter than this ("The minimum bit-length of the public key is 2048").
const MIN_RSA_BITS: usize = 2048;

/// Namespace of SSH public keys: `<account>/<lower-cased user>/<key id>`.
pub const NAMESPACE: &str = "iam.ssh-public-key";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "UploadSSHPublicKey",
            "iam:UploadSSHPublicKey",
            upload_ssh_public_key,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read("GetSSHPublicKey", "iam:GetSSHPublicKey", get_ssh_public_key)
            .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListSSHPublicKeys",
            "iam:ListSSHPublicKeys",
            list_ssh_public_keys,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "UpdateSSHPublicKey",
            "iam:UpdateSSHPublicKey",
            update_ssh_public_key,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteSSHPublicKey",
            "iam:DeleteSSHPublicKey",
            delete_ssh_public_key,
        )
        .resources(crate::resources::user_or_caller),
    ]
}

/// Whether a credential may be used (SSH keys, signing certificates, service credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Kept but refused.
    Inactive,
}

impl CredentialStatus {
    /// The status a client asked for; `Expired` is listed in IAM's enum but cannot be set.
    pub(crate) fn requested(status: &str) -> Result<Self, IamError> {
        match status {
            "Active" => Ok(Self::Active),
            "Inactive" => Ok(Self::Inactive),
            other => Err(IamError::InvalidInput(format!(
                "Status must be Active or Inactive, not {other}."
            ))),
        }
    }
}

/// A public key, reduced to what both encodings are built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
enum PublicKey {
    /// RSA: the modulus and exponent as unsigned big-endian bytes without leading zeros.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// Ed25519: the 32-byte point.
    Ed25519 { point: Vec<u8> },
}

/// The RSA OID in a SubjectPublicKeyInfo (DER contents of 1.2.840.113549.1.1.1).
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// The Ed25519 OID (1.3.101.112).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn invalid() -> IamError {
    IamError::InvalidPublicKey("The public key is not valid.".into())
}

fn unrecognized() -> IamError {
    IamError::UnrecognizedPublicKeyEncoding(
        "The public key encoding format is unsupported or unrecognized.".into(),
    )
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default().to_vec()
}

/// Reads one SSH wire-format string (a u32 length, then that many bytes).
fn ssh_string<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = input.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    let (value, rest) = (rest.get(..len)?, rest.get(len..)?);
    *input = rest;
    Some(value)
}

fn parse_openssh(text: &str) -> Result<PublicKey, IamError> {
    let mut parts = text.split_whitespace();
    let kind = parts.next().ok_or_else(unrecognized)?;
    if kind != "ssh-rsa" && kind != "ssh-ed25519" {
        return Err(unrecognized());
    }
    let blob = parts.next().ok_or_else(invalid)?;
    let blob = data_encoding::BASE64
        .decode(blob.as_bytes())
        .map_err(|_| invalid())?;
    let mut rest = blob.as_slice();
    if ssh_string(&mut rest) != Some(kind.as_bytes()) {
        return Err(invalid());
    }
    let key = if kind == "ssh-rsa" {
        let exponent = ssh_string(&mut rest).ok_or_else(invalid)?;
        let modulus = ssh_string(&mut rest).ok_or_else(invalid)?;
        PublicKey::Rsa {
            modulus: strip_zeros(modulus),
            exponent: strip_zeros(exponent),
        }
    } else {
        let point = ssh_string(&mut rest).ok_or_else(invalid)?;
        PublicKey::Ed25519 {
            point: point.to_vec(),
        }
    };
    if !rest.is_empty() {
        return Err(invalid());
    }
    Ok(key)
}

fn parse_pem(text: &str) -> Result<PublicKey, IamError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(text.as_bytes()).map_err(|_| invalid())?;
    if pem.label != "PUBLIC KEY" {
        return Err(unrecognized());
    }
    let (_, spki) =
        x509_parser::x509::SubjectPublicKeyInfo::from_der(&pem.contents).map_err(|_| invalid())?;
    let oid = spki.algorithm.algorithm.as_bytes();
    if oid == OID_RSA {
        match spki.parsed().map_err(|_| invalid())? {
            x509_parser::public_key::PublicKey::RSA(rsa) => Ok(PublicKey::Rsa {
                modulus: strip_zeros(rsa.modulus),
                exponent: strip_zeros(rsa.exponent),
            }),
            _ => Err(invalid()),
        }
    } else if oid == OID_ED25519 {
        Ok(PublicKey::Ed25519 {
            point: spki.subject_public_key.data.to_vec(),
        })
    } else {
        Err(invalid())
    }
}

impl PublicKey {
    fn parse(body: &str) -> Result<Self, IamError> {
        let body = body.trim();
        let key = if body.starts_with("-----BEGIN") {
            parse_pem(body)?
        } else {
            parse_openssh(body)?
        };
        match &key {
            PublicKey::Rsa { modulus, exponent } => {
                let bits = modulus.len() * 8
                    - modulus
                        .first()
                        .map_or(0, |b| usize::try_from(b.leading_zeros()).unwrap_or(0));
                if exponent.is_empty() || bits < MIN_RSA_BITS {
                    return Err(IamError::InvalidPublicKey(format!(
                        "The public key must be at least {MIN_RSA_BITS} bits long."
                    )));
                }
            }
            PublicKey::Ed25519 { point } if point.len() != 32 => return Err(invalid()),
            PublicKey::Ed25519 { .. } => {}
        }
        Ok(key)
    }

    /// The SSH wire-format blob (RFC 4253 §6.6, RFC 8709).
    fn ssh_blob(&self) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, value: &[u8]) {
            // Keys are at most 16 KiB of text, so every field fits a u32.
            let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(value);
        }
        let mut out = Vec::new();
        match self {
            PublicKey::Rsa { modulus, exponent } => {
                put(&mut out, b"ssh-rsa");
                put(&mut out, &signed(exponent));
                put(&mut out, &signed(modulus));
            }
            PublicKey::Ed25519 { point } => {
                put(&mut out, b"ssh-ed25519");
                put(&mut out, point);
            }
        }
        out
    }

    /// The OpenSSH one-line form, without a comment.
    fn openssh(&self) -> String {
        let kind = match self {
            PublicKey::Rsa { .. } => "ssh-rsa",
            PublicKey::Ed25519 { .. } => "ssh-ed25519",
        };
        format!("{kind} {}", data_encoding::BASE64.encode(&self.ssh_blob()))
    }

    /// The PEM `PUBLIC KEY` form (a DER SubjectPublicKeyInfo).
    fn pem(&self) -> String {
        let spki = match self {
            PublicKey::Rsa { modulus, exponent } => {
                let algorithm = der(0x30, &[der(0x06, OID_RSA), der(0x05, &[])].concat());
                let rsa = der(
                    0x30,
                    &[der(0x02, &signed(modulus)), der(0x02, &signed(exponent))].concat(),
                );
                der(
                    0x30,
                    &[algorithm, der(0x03, &[&[0u8][..], &rsa].concat())].concat(),
                )
            }
            PublicKey::Ed25519 { point } => {
                let algorithm = der(0x30, &der(0x06, OID_ED25519));
                der(
                    0x30,
                    &[algorithm, der(0x03, &[&[0u8][..], point].concat())].concat(),
                )
            }
        };
        pem_block("PUBLIC KEY", &spki)
    }

    /// The MD5 fingerprint of the SSH blob, as `ssh-keygen -l -E md5` and IAM show it
    /// (`c4:2d:…`, 16 colon-separated hex pairs).
    fn fingerprint(&self) -> String {
        use md5::Digest;
        md5::Md5::digest(self.ssh_blob())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// A non-negative integer's two's-complement bytes (a leading zero when the top bit is set),
/// as both DER INTEGER and SSH mpint need.
fn signed(unsigned: &[u8]) -> Vec<u8> {
    match unsigned.first() {
        Some(b) if *b >= 0x80 => [&[0u8][..], unsigned].concat(),
        Some(_) => unsigned.to_vec(),
        None => vec![0],
    }
}

/// A DER tag-length-value.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A PEM block with 64-column base64 lines.
pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = data_encoding::BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// An SSH public key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshPublicKeyRecord {
    /// The owning account.
    pub account_id: String,
    /// The owning user.
    pub user_name: String,
    /// `APKA…`.
    pub ssh_public_key_id: String,
    /// The MD5 fingerprint.
    pub fingerprint: String,
    /// The body as uploaded.
    pub body: String,
    key: PublicKey,
    /// Active or Inactive.
    pub status: CredentialStatus,
    /// When it was uploaded.
    pub upload_date: String,
}

fn user_prefix(account: &str, user: &str) -> String {
    format!("{}/", records::key(account, user))
}

fn record_key(account: &str, user: &str, id: &str) -> String {
    format!("{}{id}", user_prefix(account, user))
}

/// The SSH public keys of `user`, oldest first.
pub fn of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    user: &str,
) -> Result<Vec<SshPublicKeyRecord>, IamError> {
    let mut keys: Vec<SshPublicKeyRecord> =
        scan_json(tx, NAMESPACE, &user_prefix(account, user), None, usize::MAX)?
            .into_iter()
            .map(|(_, k)| k)
            .collect();
    keys.sort_by(|a, b| {
        (&a.upload_date, &a.ssh_public_key_id).cmp(&(&b.upload_date, &b.ssh_public_key_id))
    });
    Ok(keys)
}

fn put(tx: &mut (impl WriteTx + ?Sized), key: &SshPublicKeyRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        NAMESPACE,
        &record_key(&key.account_id, &key.user_name, &key.ssh_public_key_id),
        key,
    )?)
}

/// Moves the keys of `old_name` to `new_name` (UpdateUser renames).
pub fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), IamError> {
    for mut key in of_user(tx, account, old_name)? {
        tx.delete(
            NAMESPACE,
            &record_key(account, old_name, &key.ssh_public_key_id),
        )?;
        key.user_name = new_name.to_owned();
        put(tx, &key)?;
    }
    Ok(())
}

fn find(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    user: &str,
    id: &str,
) -> Result<SshPublicKeyRecord, IamError> {
    // The user must exist first: AWS names the user when it does not.
    let user = records::user(tx, account, user)?;
    get_json(tx, NAMESPACE, &record_key(account, &user.user_name, id))?.ok_or_else(|| {
        IamError::NoSuchEntity(format!(
            "The Public Key with id {id} cannot be found for user {}.",
            user.user_name
        ))
    })
}

/// An SSH public key as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SshPublicKey {
    user_name: String,
    #[serde(rename = "SSHPublicKeyId")]
    ssh_public_key_id: String,
    fingerprint: String,
    #[serde(rename = "SSHPublicKeyBody")]
    ssh_public_key_body: String,
    status: CredentialStatus,
    upload_date: String,
}

impl SshPublicKey {
    fn new(key: &SshPublicKeyRecord, body: String) -> Self {
        Self {
            user_name: key.user_name.clone(),
            ssh_public_key_id: key.ssh_public_key_id.clone(),
            fingerprint: key.fingerprint.clone(),
            ssh_public_key_body: body,
            status: key.status,
            upload_date: key.upload_date.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadSshPublicKeyInput {
    user_name: String,
    #[serde(rename = "SSHPublicKeyBody")]
    ssh_public_key_body: String,
}

#[derive(Debug, Serialize)]
pub struct SshPublicKeyOutput {
    #[serde(rename = "SSHPublicKey")]
    ssh_public_key: SshPublicKey,
}

fn upload_ssh_public_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UploadSshPublicKeyInput,
) -> Result<SshPublicKeyOutput, IamError> {
    let account = env.caller.account_id.clone();
    let user = records::user(tx, &account, &input.user_name)?;
    let key = PublicKey::parse(&input.ssh_public_key_body)?;
    let existing = of_user(tx, &account, &user.user_name)?;
    if existing.iter().any(|k| k.key == key) {
        return Err(IamError::DuplicateSshPublicKey(
            "The SSH public key already exists for this user.".into(),
        ));
    }
    if existing.len() >= MAX_KEYS_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PublicKeysPerUser: {MAX_KEYS_PER_USER}"
        )));
    }
    // AWS's SSH key IDs are 20 characters (APKA and 16 base32), one shorter than other IDs.
    let mut id = unique_id(IdPrefix::SshPublicKey, env.entropy);
    id.truncate(20);
    let record = SshPublicKeyRecord {
        account_id: account,
        user_name: user.user_name,
        ssh_public_key_id: id,
        fingerprint: key.fingerprint(),
        body: input.ssh_public_key_body.trim().to_owned(),
        key,
        status: CredentialStatus::Active,
        upload_date: aws_timestamp(env.now),
    };
    put(tx, &record)?;
    Ok(SshPublicKeyOutput {
        ssh_public_key: SshPublicKey::new(&record, record.body.clone()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSshPublicKeyInput {
    user_name: String,
    #[serde(rename = "SSHPublicKeyId")]
    ssh_public_key_id: String,
    encoding: String,
}

fn get_ssh_public_key(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: GetSshPublicKeyInput,
) -> Result<SshPublicKeyOutput, IamError> {
    let record = find(
        tx,
        &env.caller.account_id,
        &input.user_name,
        &input.ssh_public_key_id,
    )?;
    let body = match input.encoding.as_str() {
        "SSH" => record.key.openssh(),
        "PEM" => record.key.pem(),
        _ => return Err(unrecognized()),
    };
    Ok(SshPublicKeyOutput {
        ssh_public_key: SshPublicKey::new(&record, body),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSshPublicKeysInput {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

/// One key in a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SshPublicKeyMetadata {
    user_name: String,
    #[serde(rename = "SSHPublicKeyId")]
    ssh_public_key_id: String,
    status: CredentialStatus,
    upload_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSshPublicKeysOutput {
    #[serde(rename = "SSHPublicKeys")]
    ssh_public_keys: Vec<SshPublicKeyMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_ssh_public_keys(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSshPublicKeysInput,
) -> Result<ListSshPublicKeysOutput, IamError> {
    let account = &env.caller.account_id;
    // Without a user name, the caller's own keys (an IAM user's); the root user has none.
    let Some(name) = input.user_name.or_else(|| env.caller.user_name.clone()) else {
        return Ok(ListSshPublicKeysOutput {
            ssh_public_keys: Vec::new(),
            is_truncated: false,
            marker: None,
        });
    };
    let user = records::user(tx, account, &name)?;
    let page = crate::pagination::page::<SshPublicKeyRecord>(
        tx,
        NAMESPACE,
        &user_prefix(account, &user.user_name),
        input.marker.as_deref(),
        input.max_items,
        |_| true,
    )?;
    Ok(ListSshPublicKeysOutput {
        is_truncated: page.is_truncated(),
        ssh_public_keys: page
            .items
            .into_iter()
            .map(|k| SshPublicKeyMetadata {
                user_name: k.user_name,
                ssh_public_key_id: k.ssh_public_key_id,
                status: k.status,
                upload_date: k.upload_date,
            })
            .collect(),
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSshPublicKeyInput {
    user_name: String,
    #[serde(rename = "SSHPublicKeyId")]
    ssh_public_key_id: String,
    status: String,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

fn update_ssh_public_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateSshPublicKeyInput,
) -> Result<Empty, IamError> {
    let status = CredentialStatus::requested(&input.status)?;
    let mut record = find(
        tx,
        &env.caller.account_id,
        &input.user_name,
        &input.ssh_public_key_id,
    )?;
    record.status = status;
    put(tx, &record)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSshPublicKeyInput {
    user_name: String,
    #[serde(rename = "SSHPublicKeyId")]
    ssh_public_key_id: String,
}

fn delete_ssh_public_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteSshPublicKeyInput,
) -> Result<Empty, IamError> {
    let record = find(
        tx,
        &env.caller.account_id,
        &input.user_name,
        &input.ssh_public_key_id,
    )?;
    tx.delete(
        NAMESPACE,
        &record_key(
            &record.account_id,
            &record.user_name,
            &record.ssh_public_key_id,
        ),
    )?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    /// A 2048-bit RSA key made with `ssh-keygen -t rsa -b 2048`; its MD5 fingerprint is the
    /// one `ssh-keygen -l -E md5` printed.
    const RSA: &str = include_str!("testdata/ssh_rsa_2048.pub");
    const RSA_MD5: &str = include_str!("testdata/ssh_rsa_2048.md5");
    /// The same key as a PEM SubjectPublicKeyInfo (`ssh-keygen -e -m PKCS8`).
    const RSA_PEM: &str = include_str!("testdata/ssh_rsa_2048.pem");
    const ED25519: &str = include_str!("testdata/ssh_ed25519.pub");
    const RSA_1024: &str = include_str!("testdata/ssh_rsa_1024.pub");

    fn user(t: &TestEnv, name: &str) {
        let name = name.to_owned();
        t.write(move |env, tx| {
            records::put_user(
                tx,
                &records::UserRecord {
                    account_id: ACCOUNT.into(),
                    user_name: name.clone(),
                    user_id: "AIDATEST".into(),
                    path: "/".into(),
                    arn: records::arn(ACCOUNT, "user", "/", &name),
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

    fn upload(t: &TestEnv, body: &str) -> Result<SshPublicKeyOutput, IamError> {
        let input = UploadSshPublicKeyInput {
            user_name: "bob".into(),
            ssh_public_key_body: body.into(),
        };
        t.write(move |env, tx| upload_ssh_public_key(env, tx, input))
    }

    fn get(t: &TestEnv, id: &str, encoding: &str) -> SshPublicKeyOutput {
        let input = GetSshPublicKeyInput {
            user_name: "bob".into(),
            ssh_public_key_id: id.into(),
            encoding: encoding.into(),
        };
        t.read(move |env, tx| get_ssh_public_key(env, tx, input))
            .unwrap()
    }

    #[test]
    fn openssh_and_pem_uploads_are_the_same_key() {
        let t = TestEnv::new();
        user(&t, "bob");
        let key = upload(&t, RSA).unwrap().ssh_public_key;
        assert!(key.ssh_public_key_id.starts_with("APKA"));
        assert_eq!(key.ssh_public_key_id.len(), 20);
        assert_eq!(key.fingerprint, RSA_MD5.trim());
        assert_eq!(key.status, CredentialStatus::Active);
        // The same numbers in PEM are a duplicate.
        assert!(matches!(
            upload(&t, RSA_PEM),
            Err(IamError::DuplicateSshPublicKey(_))
        ));
        let ssh = get(&t, &key.ssh_public_key_id, "SSH").ssh_public_key;
        let expected = RSA.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(ssh.ssh_public_key_body, expected);
        let pem = get(&t, &key.ssh_public_key_id, "PEM").ssh_public_key;
        assert_eq!(pem.ssh_public_key_body.trim(), RSA_PEM.trim());
    }

    #[test]
    fn ed25519_and_pem_input() {
        let t = TestEnv::new();
        user(&t, "bob");
        let key = upload(&t, ED25519).unwrap().ssh_public_key;
        let pem = get(&t, &key.ssh_public_key_id, "PEM").ssh_public_key;
        assert!(
            pem.ssh_public_key_body
                .starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")
        );
        // Re-uploading its PEM form is recognized as the same key.
        assert!(matches!(
            upload(&t, &pem.ssh_public_key_body),
            Err(IamError::DuplicateSshPublicKey(_))
        ));
    }

    #[test]
    fn malformed_short_and_unknown_keys_are_refused() {
        let t = TestEnv::new();
        user(&t, "bob");
        assert!(matches!(
            upload(&t, RSA_1024),
            Err(IamError::InvalidPublicKey(m)) if m.contains("2048")
        ));
        assert!(matches!(
            upload(&t, "ssh-rsa AAAA!!notbase64"),
            Err(IamError::InvalidPublicKey(_))
        ));
        assert!(matches!(
            upload(&t, "ssh-dss AAAAB3NzaC1kc3M="),
            Err(IamError::UnrecognizedPublicKeyEncoding(_))
        ));
        // A blob whose declared type disagrees with the prefix.
        let ed_blob = ED25519.split_whitespace().nth(1).unwrap();
        assert!(matches!(
            upload(&t, &format!("ssh-rsa {ed_blob}")),
            Err(IamError::InvalidPublicKey(_))
        ));
    }

    #[test]
    fn five_keys_per_user_then_update_list_delete() {
        let t = TestEnv::new();
        user(&t, "bob");
        // Five distinct keys: the Ed25519 fixture and four synthetic 32-byte points.
        let mut ids = vec![
            upload(&t, ED25519)
                .unwrap()
                .ssh_public_key
                .ssh_public_key_id,
        ];
        for i in 1..=4u8 {
            let key = PublicKey::Ed25519 { point: vec![i; 32] };
            ids.push(
                upload(&t, &key.openssh())
                    .unwrap()
                    .ssh_public_key
                    .ssh_public_key_id,
            );
        }
        let err = upload(&t, RSA).unwrap_err();
        assert!(
            matches!(&err, IamError::LimitExceeded(m) if m == "Cannot exceed quota for PublicKeysPerUser: 5")
        );
        let first = ids[0].clone();
        let input = UpdateSshPublicKeyInput {
            user_name: "bob".into(),
            ssh_public_key_id: first.clone(),
            status: "Inactive".into(),
        };
        t.write(move |env, tx| update_ssh_public_key(env, tx, input))
            .unwrap();
        let list = t
            .read(|env, tx| {
                list_ssh_public_keys(
                    env,
                    tx,
                    ListSshPublicKeysInput {
                        user_name: Some("bob".into()),
                        marker: None,
                        max_items: None,
                    },
                )
            })
            .unwrap();
        assert_eq!(list.ssh_public_keys.len(), 5);
        assert!(
            list.ssh_public_keys
                .iter()
                .any(|k| k.ssh_public_key_id == first && k.status == CredentialStatus::Inactive)
        );
        let input = DeleteSshPublicKeyInput {
            user_name: "bob".into(),
            ssh_public_key_id: first.clone(),
        };
        t.write(move |env, tx| delete_ssh_public_key(env, tx, input))
            .unwrap();
        let input = DeleteSshPublicKeyInput {
            user_name: "bob".into(),
            ssh_public_key_id: first,
        };
        assert!(matches!(
            t.write(move |env, tx| delete_ssh_public_key(env, tx, input)),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn unknown_users_are_no_such_entity() {
        let t = TestEnv::new();
        assert!(matches!(upload(&t, RSA), Err(IamError::NoSuchEntity(m)) if m.contains("bob")));
    }
}
