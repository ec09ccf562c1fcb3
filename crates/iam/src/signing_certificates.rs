//! X.509 signing certificates of IAM users and of the root user: `UploadSigningCertificate`,
//! `ListSigningCertificates`, `UpdateSigningCertificate`, `DeleteSigningCertificate`.
//!
//! Certificates are parsed on upload, so only well-formed X.509 in PEM is kept; the body is
//! returned as uploaded. The credential report reads them for its `cert_*` columns.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::records;
use crate::ssh_public_keys::CredentialStatus;

/// IAM's quota of signing certificates per user (the root user has the same).
pub const MAX_CERTIFICATES_PER_USER: usize = 2;

/// Namespace of signing certificates: `<owner>/<certificate id>`, where the owner is
/// `<account>/<lower-cased user>` or `<account>#root` for the root user.
pub const NAMESPACE: &str = "iam.signing-certificate";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "UploadSigningCertificate",
            "iam:UploadSigningCertificate",
            upload_signing_certificate,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListSigningCertificates",
            "iam:ListSigningCertificates",
            list_signing_certificates,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "UpdateSigningCertificate",
            "iam:UpdateSigningCertificate",
            update_signing_certificate,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "DeleteSigningCertificate",
            "iam:DeleteSigningCertificate",
            delete_signing_certificate,
        )
        .resources(crate::resources::user_or_caller),
    ]
}

/// A signing certificate as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningCertificateRecord {
    /// The owning account.
    pub account_id: String,
    /// The owning IAM user; `None` for the root user.
    pub user_name: Option<String>,
    /// 32 upper-case hexadecimal characters.
    pub certificate_id: String,
    /// The PEM body as uploaded.
    pub certificate_body: String,
    /// The certificate's DER, base64, to recognize a duplicate in another PEM wrapping.
    der: String,
    /// Active or Inactive.
    pub status: CredentialStatus,
    /// When it was uploaded.
    pub upload_date: String,
}

/// Whose certificates: an IAM user or the root user.
fn owner_prefix(account: &str, user: Option<&str>) -> String {
    match user {
        Some(user) => format!("{}/", records::key(account, user)),
        None => format!("{account}#root/"),
    }
}

fn owner_certificates(
    tx: &mut (impl ReadTx + ?Sized),
    prefix: &str,
) -> Result<Vec<SigningCertificateRecord>, IamError> {
    let mut certs: Vec<SigningCertificateRecord> =
        scan_json(tx, NAMESPACE, prefix, None, usize::MAX)?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
    certs.sort_by(|a, b| {
        (&a.upload_date, &a.certificate_id).cmp(&(&b.upload_date, &b.certificate_id))
    });
    Ok(certs)
}

/// The certificates of the IAM user `user`, oldest first.
pub fn of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    user: &str,
) -> Result<Vec<SigningCertificateRecord>, IamError> {
    owner_certificates(tx, &owner_prefix(account, Some(user)))
}

/// The certificates of the root user of `account`, oldest first.
pub fn of_root(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
) -> Result<Vec<SigningCertificateRecord>, IamError> {
    owner_certificates(tx, &owner_prefix(account, None))
}

fn record_key(cert: &SigningCertificateRecord) -> String {
    format!(
        "{}{}",
        owner_prefix(&cert.account_id, cert.user_name.as_deref()),
        cert.certificate_id
    )
}

fn put(tx: &mut (impl WriteTx + ?Sized), cert: &SigningCertificateRecord) -> Result<(), IamError> {
    Ok(put_json(tx, NAMESPACE, &record_key(cert), cert)?)
}

/// Moves the certificates of `old_name` to `new_name` (UpdateUser renames).
pub fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), IamError> {
    for mut cert in of_user(tx, account, old_name)? {
        tx.delete(NAMESPACE, &record_key(&cert))?;
        cert.user_name = Some(new_name.to_owned());
        put(tx, &cert)?;
    }
    Ok(())
}

/// The DER of a PEM certificate, or MalformedCertificate with AWS's text.
pub(crate) fn parse_certificate_pem(body: &str) -> Result<Vec<u8>, IamError> {
    let malformed = || {
        IamError::MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format.".into(),
        )
    };
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(body.trim().as_bytes()).map_err(|_| malformed())?;
    if pem.label != "CERTIFICATE" {
        return Err(malformed());
    }
    pem.parse_x509().map_err(|_| malformed())?;
    Ok(pem.contents)
}

/// The owner named in the input, or the caller: an IAM user's name, `None` for root.
fn owner(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    user_name: Option<String>,
) -> Result<Option<String>, IamError> {
    match user_name.or_else(|| env.caller.user_name.clone()) {
        Some(name) => Ok(Some(
            records::user(tx, &env.caller.account_id, &name)?.user_name,
        )),
        None => Ok(None),
    }
}

/// A signing certificate as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SigningCertificate {
    user_name: String,
    certificate_id: String,
    certificate_body: String,
    status: CredentialStatus,
    upload_date: String,
}

impl SigningCertificate {
    fn new(cert: SigningCertificateRecord) -> Self {
        Self {
            // The root user's certificates carry the account ID where a user name would be.
            user_name: cert.user_name.unwrap_or(cert.account_id),
            certificate_id: cert.certificate_id,
            certificate_body: cert.certificate_body,
            status: cert.status,
            upload_date: cert.upload_date,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadSigningCertificateInput {
    user_name: Option<String>,
    certificate_body: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadSigningCertificateOutput {
    certificate: SigningCertificate,
}

fn upload_signing_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UploadSigningCertificateInput,
) -> Result<UploadSigningCertificateOutput, IamError> {
    let account = env.caller.account_id.clone();
    let user = owner(env, tx, input.user_name)?;
    let der = data_encoding::BASE64.encode(&parse_certificate_pem(&input.certificate_body)?);
    let existing = owner_certificates(tx, &owner_prefix(&account, user.as_deref()))?;
    if let Some(same) = existing.iter().find(|c| c.der == der) {
        return Err(IamError::DuplicateCertificate(format!(
            "The Certificate with id {} already exists.",
            same.certificate_id
        )));
    }
    if existing.len() >= MAX_CERTIFICATES_PER_USER {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for SigningCertificatesPerUser: {MAX_CERTIFICATES_PER_USER}"
        )));
    }
    let cert = SigningCertificateRecord {
        account_id: account,
        user_name: user,
        certificate_id: data_encoding::HEXUPPER.encode(&env.random(16)),
        certificate_body: input.certificate_body,
        der,
        status: CredentialStatus::Active,
        upload_date: aws_timestamp(env.now),
    };
    put(tx, &cert)?;
    Ok(UploadSigningCertificateOutput {
        certificate: SigningCertificate::new(cert),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSigningCertificatesInput {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSigningCertificatesOutput {
    certificates: Vec<SigningCertificate>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_signing_certificates(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSigningCertificatesInput,
) -> Result<ListSigningCertificatesOutput, IamError> {
    let user = owner(env, tx, input.user_name)?;
    let page = crate::pagination::page::<SigningCertificateRecord>(
        tx,
        NAMESPACE,
        &owner_prefix(&env.caller.account_id, user.as_deref()),
        input.marker.as_deref(),
        input.max_items,
        |_| true,
    )?;
    Ok(ListSigningCertificatesOutput {
        is_truncated: page.is_truncated(),
        certificates: page
            .items
            .into_iter()
            .map(SigningCertificate::new)
            .collect(),
        marker: page.next,
    })
}

fn find(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    user_name: Option<String>,
    id: &str,
) -> Result<SigningCertificateRecord, IamError> {
    let user = owner(env, tx, user_name)?;
    let key = format!(
        "{}{id}",
        owner_prefix(&env.caller.account_id, user.as_deref())
    );
    get_json(tx, NAMESPACE, &key)?.ok_or_else(|| {
        IamError::NoSuchEntity(format!("The Certificate with id {id} cannot be found."))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSigningCertificateInput {
    user_name: Option<String>,
    certificate_id: String,
    status: String,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

fn update_signing_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateSigningCertificateInput,
) -> Result<Empty, IamError> {
    let status = CredentialStatus::requested(&input.status)?;
    let mut cert = find(env, tx, input.user_name, &input.certificate_id)?;
    cert.status = status;
    put(tx, &cert)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSigningCertificateInput {
    user_name: Option<String>,
    certificate_id: String,
}

fn delete_signing_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteSigningCertificateInput,
) -> Result<Empty, IamError> {
    let cert = find(env, tx, input.user_name, &input.certificate_id)?;
    tx.delete(NAMESPACE, &record_key(&cert))?;
    Ok(Empty {})
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    /// Self-signed certificates made with `openssl req -x509 -newkey rsa:2048`.
    pub(crate) const CERT_A: &str = include_str!("testdata/cert_a.pem");
    pub(crate) const CERT_B: &str = include_str!("testdata/cert_b.pem");
    pub(crate) const CERT_C: &str = include_str!("testdata/cert_c.pem");

    pub(crate) fn user(t: &TestEnv, name: &str) {
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

    pub(crate) fn upload(
        t: &TestEnv,
        user: Option<&str>,
        body: &str,
    ) -> Result<UploadSigningCertificateOutput, IamError> {
        let input = UploadSigningCertificateInput {
            user_name: user.map(str::to_owned),
            certificate_body: body.into(),
        };
        t.write(move |env, tx| upload_signing_certificate(env, tx, input))
    }

    fn list(t: &TestEnv, user: Option<&str>) -> ListSigningCertificatesOutput {
        let input = ListSigningCertificatesInput {
            user_name: user.map(str::to_owned),
            marker: None,
            max_items: None,
        };
        t.read(move |env, tx| list_signing_certificates(env, tx, input))
            .unwrap()
    }

    #[test]
    fn two_per_user_with_aws_ids_and_duplicates_refused() {
        let t = TestEnv::new();
        user(&t, "bob");
        let a = upload(&t, Some("bob"), CERT_A).unwrap().certificate;
        assert_eq!(a.certificate_id.len(), 32);
        assert!(
            a.certificate_id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_eq!(a.certificate_body, CERT_A);
        assert!(matches!(
            upload(&t, Some("bob"), CERT_A),
            Err(IamError::DuplicateCertificate(m)) if m.contains(&a.certificate_id)
        ));
        upload(&t, Some("bob"), CERT_B).unwrap();
        assert!(matches!(
            upload(&t, Some("bob"), CERT_C),
            Err(IamError::LimitExceeded(m)) if m == "Cannot exceed quota for SigningCertificatesPerUser: 2"
        ));
        assert_eq!(list(&t, Some("bob")).certificates.len(), 2);
    }

    #[test]
    fn malformed_certificates_are_refused() {
        let t = TestEnv::new();
        user(&t, "bob");
        for body in [
            "not a certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &CERT_A.replace("CERTIFICATE", "PUBLIC KEY"),
        ] {
            assert!(matches!(
                upload(&t, Some("bob"), body),
                Err(IamError::MalformedCertificate(_))
            ));
        }
    }

    #[test]
    fn root_certificates_update_and_delete() {
        let t = TestEnv::new();
        let cert = upload(&t, None, CERT_A).unwrap().certificate;
        assert_eq!(cert.user_name, ACCOUNT);
        let id = cert.certificate_id.clone();
        let input = UpdateSigningCertificateInput {
            user_name: None,
            certificate_id: id.clone(),
            status: "Inactive".into(),
        };
        t.write(move |env, tx| update_signing_certificate(env, tx, input))
            .unwrap();
        let listed = list(&t, None);
        assert_eq!(listed.certificates.len(), 1);
        assert_eq!(listed.certificates[0].status, CredentialStatus::Inactive);
        let delete = |id: String| {
            let input = DeleteSigningCertificateInput {
                user_name: None,
                certificate_id: id,
            };
            t.write(move |env, tx| delete_signing_certificate(env, tx, input))
        };
        delete(id.clone()).unwrap();
        assert!(matches!(delete(id), Err(IamError::NoSuchEntity(_))));
    }
}
