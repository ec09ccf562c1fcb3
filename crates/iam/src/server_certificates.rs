//! Server certificates (TLS certificates for load balancers and CloudFront):
//! `UploadServerCertificate`, `GetServerCertificate`, `ListServerCertificates`,
//! `UpdateServerCertificate`, `DeleteServerCertificate`, and their tags.
//!
//! The private key is sealed under the root key on upload and never returned: AWS's API has
//! no way to read it back either. On upload the key must match the certificate's public key
//! (RSA, ECDSA P-256/P-384), checked by deriving the public key with aws-lc-rs.

use crate::resources;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    RsaKeyPair,
};
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::pagination::page;
use crate::records::{self, Tag};
use crate::tags;

/// IAM's default quota of server certificates per account.
pub const MAX_SERVER_CERTIFICATES: usize = 20;

/// Namespace of server certificates: `<account>/<lower-cased name>`.
pub const NAMESPACE: &str = "iam.server-certificate";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "UploadServerCertificate",
            "iam:UploadServerCertificate",
            upload_server_certificate,
        )
        .resources(new_certificate_resource),
        Operation::read(
            "GetServerCertificate",
            "iam:GetServerCertificate",
            get_server_certificate,
        )
        .resources(certificate_resource),
        Operation::read(
            "ListServerCertificates",
            "iam:ListServerCertificates",
            list_server_certificates,
        )
        .resources(certificates_under_path),
        Operation::write(
            "UpdateServerCertificate",
            "iam:UpdateServerCertificate",
            update_server_certificate,
        )
        .resources(renamed_certificate_resources),
        Operation::write(
            "DeleteServerCertificate",
            "iam:DeleteServerCertificate",
            delete_server_certificate,
        )
        .resources(certificate_resource),
        Operation::write(
            "TagServerCertificate",
            "iam:TagServerCertificate",
            tag_server_certificate,
        )
        .resources(certificate_resource),
        Operation::write(
            "UntagServerCertificate",
            "iam:UntagServerCertificate",
            untag_server_certificate,
        )
        .resources(certificate_resource),
        Operation::read(
            "ListServerCertificateTags",
            "iam:ListServerCertificateTags",
            list_server_certificate_tags,
        )
        .resources(certificate_resource),
    ]
}

/// The certificate the input names, with its path and tags when it exists.
fn certificate_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    resources::by_name(
        env,
        input,
        "ServerCertificateName",
        "server-certificate",
        |account, name| certificate(tx, account, name),
        |certificate| resources::tagged(certificate.arn, &certificate.tags),
    )
}

/// The certificate UploadServerCertificate makes, under the path it asks for.
fn new_certificate_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![resources::new_entity(
        env,
        input,
        "server-certificate",
        "ServerCertificateName",
    )])
}

/// UpdateServerCertificate is authorized on the certificate and on what it becomes.
fn renamed_certificate_resources(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let current = certificate_resource(env, tx, input)?;
    Ok(resources::with_renamed(
        env,
        input,
        "server-certificate",
        "NewServerCertificateName",
        current,
    ))
}

fn certificates_under_path(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let path = resources::member(input, "PathPrefix").unwrap_or("/");
    Ok(vec![Resource::named(format!(
        "arn:aws:iam::{}:server-certificate{path}",
        env.caller.account_id
    ))])
}

/// A server certificate as stored; the private key is sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCertificateRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub name: String,
    /// `ASCA…`.
    pub id: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::<account>:server-certificate<path><name>`.
    pub arn: String,
    /// When it was uploaded.
    pub upload_date: String,
    /// The certificate's notAfter.
    pub expiration: String,
    /// The PEM body as uploaded.
    pub certificate_body: String,
    /// The PEM chain as uploaded.
    #[serde(default)]
    pub certificate_chain: Option<String>,
    /// The private key, sealed under the root key (base64).
    sealed_private_key: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

fn seal_context(id: &str) -> Vec<u8> {
    format!("{NAMESPACE}/{id}").into_bytes()
}

fn malformed_certificate() -> IamError {
    IamError::MalformedCertificate(
        "Unable to parse certificate. Please ensure the certificate is in PEM format.".into(),
    )
}

fn malformed_key() -> IamError {
    IamError::MalformedCertificate(
        "Unable to parse private key. Please ensure the key is an unencrypted PEM private key."
            .into(),
    )
}

/// What the certificate says: its public key bits (the SPKI BIT STRING) and its notAfter.
struct ParsedCertificate {
    public_key: Vec<u8>,
    not_after: time::OffsetDateTime,
}

fn parse_certificate(body: &str) -> Result<ParsedCertificate, IamError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(body.trim().as_bytes())
        .map_err(|_| malformed_certificate())?;
    if pem.label != "CERTIFICATE" {
        return Err(malformed_certificate());
    }
    let cert = pem.parse_x509().map_err(|_| malformed_certificate())?;
    let not_after =
        time::OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
            .map_err(|_| malformed_certificate())?;
    Ok(ParsedCertificate {
        public_key: cert.public_key().subject_public_key.data.to_vec(),
        not_after,
    })
}

/// Every block of a chain must be a certificate.
fn check_chain(chain: &str) -> Result<(), IamError> {
    let mut count = 0usize;
    for pem in x509_parser::pem::Pem::iter_from_buffer(chain.trim().as_bytes()) {
        let pem = pem.map_err(|_| malformed_certificate())?;
        if pem.label != "CERTIFICATE" {
            return Err(malformed_certificate());
        }
        pem.parse_x509().map_err(|_| malformed_certificate())?;
        count += 1;
    }
    if count == 0 {
        return Err(malformed_certificate());
    }
    Ok(())
}

/// The public key bits of a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC), in the form a
/// certificate's SPKI BIT STRING holds them (an RSAPublicKey, or an uncompressed EC point).
fn public_key_of(private_key: &str) -> Result<Vec<u8>, IamError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(private_key.trim().as_bytes())
        .map_err(|_| malformed_key())?;
    let der = pem.contents.as_slice();
    let rsa = |key: RsaKeyPair| key.public_key().as_ref().to_vec();
    let ec = |der: &[u8]| {
        EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .or_else(|_| EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_ASN1_SIGNING, der))
            .map(|key| key.public_key().as_ref().to_vec())
    };
    match pem.label.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(der)
            .map(rsa)
            .map_err(|_| malformed_key()),
        "EC PRIVATE KEY" => ec(der).map_err(|_| malformed_key()),
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(der)
            .map(rsa)
            .or_else(|_| ec(der))
            .map_err(|_| malformed_key()),
        _ => Err(malformed_key()),
    }
}

/// The certificate `name` of `account`, or NoSuchEntity.
fn certificate(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    name: &str,
) -> Result<ServerCertificateRecord, IamError> {
    get_json(tx, NAMESPACE, &records::key(account, name))?.ok_or_else(|| {
        IamError::NoSuchEntity(format!(
            "The Server Certificate with name {name} cannot be found."
        ))
    })
}

fn put(tx: &mut (impl WriteTx + ?Sized), cert: &ServerCertificateRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        NAMESPACE,
        &records::key(&cert.account_id, &cert.name),
        cert,
    )?)
}

/// A server certificate's metadata, as IAM's API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerCertificateMetadata {
    path: String,
    server_certificate_name: String,
    server_certificate_id: String,
    arn: String,
    upload_date: String,
    expiration: String,
}

impl ServerCertificateMetadata {
    fn new(cert: &ServerCertificateRecord) -> Self {
        Self {
            path: cert.path.clone(),
            server_certificate_name: cert.name.clone(),
            server_certificate_id: cert.id.clone(),
            arn: cert.arn.clone(),
            upload_date: cert.upload_date.clone(),
            expiration: cert.expiration.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadInput {
    path: Option<String>,
    server_certificate_name: String,
    certificate_body: String,
    private_key: String,
    certificate_chain: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

// The private key stays out of any debug output.
impl std::fmt::Debug for UploadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadInput")
            .field("server_certificate_name", &self.server_certificate_name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadOutput {
    server_certificate_metadata: ServerCertificateMetadata,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn upload_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UploadInput,
) -> Result<UploadOutput, IamError> {
    let account = env.caller.account_id.clone();
    let name = input.server_certificate_name;
    if get_json::<ServerCertificateRecord>(tx, NAMESPACE, &records::key(&account, &name))?.is_some()
    {
        return Err(IamError::EntityAlreadyExists(format!(
            "The Server Certificate with name {name} already exists."
        )));
    }
    tags::check_new(&input.tags)?;
    let parsed = parse_certificate(&input.certificate_body)?;
    if let Some(chain) = &input.certificate_chain {
        check_chain(chain)?;
    }
    if public_key_of(&input.private_key)? != parsed.public_key {
        return Err(IamError::KeyPairMismatch(
            "The private key did not match the public key in the certificate.".into(),
        ));
    }
    let count = rampart_store::scan_json::<ServerCertificateRecord>(
        tx,
        NAMESPACE,
        &records::account_prefix(&account),
        None,
        usize::MAX,
    )?
    .len();
    if count >= MAX_SERVER_CERTIFICATES {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ServerCertificatesPerAccount: {MAX_SERVER_CERTIFICATES}"
        )));
    }
    let id = unique_id(IdPrefix::ServerCertificate, env.entropy);
    let sealed = env
        .root_key
        .seal(input.private_key.as_bytes(), &seal_context(&id));
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    let cert = ServerCertificateRecord {
        arn: records::arn(&account, "server-certificate", &path, &name),
        account_id: account,
        name,
        id,
        path,
        upload_date: aws_timestamp(env.now),
        expiration: aws_timestamp(parsed.not_after),
        certificate_body: input.certificate_body,
        certificate_chain: input.certificate_chain,
        sealed_private_key: data_encoding::BASE64.encode(&sealed),
        tags: input.tags,
    };
    put(tx, &cert)?;
    Ok(UploadOutput {
        server_certificate_metadata: ServerCertificateMetadata::new(&cert),
        tags: cert.tags,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    server_certificate_name: String,
}

/// A server certificate: metadata, body, chain and tags; never the private key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerCertificate {
    server_certificate_metadata: ServerCertificateMetadata,
    certificate_body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_chain: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOutput {
    server_certificate: ServerCertificate,
}

fn get_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: NameInput,
) -> Result<GetOutput, IamError> {
    let cert = certificate(tx, &env.caller.account_id, &input.server_certificate_name)?;
    Ok(GetOutput {
        server_certificate: ServerCertificate {
            server_certificate_metadata: ServerCertificateMetadata::new(&cert),
            certificate_body: cert.certificate_body,
            certificate_chain: cert.certificate_chain,
            tags: cert.tags,
        },
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOutput {
    server_certificate_metadata_list: Vec<ServerCertificateMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_server_certificates(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListInput,
) -> Result<ListOutput, IamError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".to_owned());
    let page = page::<ServerCertificateRecord>(
        tx,
        NAMESPACE,
        &records::account_prefix(&env.caller.account_id),
        input.marker.as_deref(),
        input.max_items,
        |c| c.path.starts_with(&prefix),
    )?;
    Ok(ListOutput {
        is_truncated: page.is_truncated(),
        server_certificate_metadata_list: page
            .items
            .iter()
            .map(ServerCertificateMetadata::new)
            .collect(),
        marker: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    server_certificate_name: String,
    new_path: Option<String>,
    new_server_certificate_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

fn update_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateInput,
) -> Result<Empty, IamError> {
    let account = env.caller.account_id.clone();
    let mut cert = certificate(tx, &account, &input.server_certificate_name)?;
    let old_key = records::key(&account, &cert.name);
    if let Some(new_name) = input.new_server_certificate_name {
        let new_key = records::key(&account, &new_name);
        if new_key != old_key
            && get_json::<ServerCertificateRecord>(tx, NAMESPACE, &new_key)?.is_some()
        {
            return Err(IamError::EntityAlreadyExists(format!(
                "The Server Certificate with name {new_name} already exists."
            )));
        }
        cert.name = new_name;
    }
    if let Some(path) = input.new_path {
        cert.path = path;
    }
    cert.arn = records::arn(&account, "server-certificate", &cert.path, &cert.name);
    tx.delete(NAMESPACE, &old_key)?;
    put(tx, &cert)?;
    Ok(Empty {})
}

fn delete_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: NameInput,
) -> Result<Empty, IamError> {
    let account = &env.caller.account_id;
    let cert = certificate(tx, account, &input.server_certificate_name)?;
    tx.delete(NAMESPACE, &records::key(account, &cert.name))?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    server_certificate_name: String,
    tags: Vec<Tag>,
}

fn tag_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagInput,
) -> Result<Empty, IamError> {
    let mut cert = certificate(tx, &env.caller.account_id, &input.server_certificate_name)?;
    tags::merge(&mut cert.tags, input.tags)?;
    put(tx, &cert)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagInput {
    server_certificate_name: String,
    tag_keys: Vec<String>,
}

fn untag_server_certificate(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagInput,
) -> Result<Empty, IamError> {
    let mut cert = certificate(tx, &env.caller.account_id, &input.server_certificate_name)?;
    tags::remove(&mut cert.tags, &input.tag_keys);
    put(tx, &cert)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    server_certificate_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_server_certificate_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListTagsInput,
) -> Result<tags::TagPage, IamError> {
    let cert = certificate(tx, &env.caller.account_id, &input.server_certificate_name)?;
    tags::page(cert.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    /// `openssl req -x509 -newkey rsa:2048 -nodes` (PKCS#8 key) and an EC P-256 pair with a
    /// SEC1 key (`openssl ecparam -genkey`).
    const RSA_CERT: &str = include_str!("testdata/server_rsa.crt");
    const RSA_KEY: &str = include_str!("testdata/server_rsa.key");
    const RSA_KEY_PKCS1: &str = include_str!("testdata/server_rsa_pkcs1.key");
    const EC_CERT: &str = include_str!("testdata/server_ec.crt");
    const EC_KEY: &str = include_str!("testdata/server_ec.key");

    fn upload(
        t: &TestEnv,
        name: &str,
        body: &str,
        key: &str,
        chain: Option<&str>,
    ) -> Result<UploadOutput, IamError> {
        let input = UploadInput {
            path: Some("/cloudfront/".into()),
            server_certificate_name: name.into(),
            certificate_body: body.into(),
            private_key: key.into(),
            certificate_chain: chain.map(str::to_owned),
            tags: vec![Tag {
                key: "env".into(),
                value: "test".into(),
            }],
        };
        t.write(move |env, tx| upload_server_certificate(env, tx, input))
    }

    fn get(t: &TestEnv, name: &str) -> Result<GetOutput, IamError> {
        let input = NameInput {
            server_certificate_name: name.into(),
        };
        t.read(move |env, tx| get_server_certificate(env, tx, input))
    }

    #[test]
    fn upload_get_and_the_key_is_never_returned() {
        let t = TestEnv::new();
        let meta = upload(&t, "web", RSA_CERT, RSA_KEY, Some(EC_CERT))
            .unwrap()
            .server_certificate_metadata;
        assert!(meta.server_certificate_id.starts_with("ASCA"));
        assert_eq!(
            meta.arn,
            format!("arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/web")
        );
        assert!(meta.expiration.starts_with("20"));
        let got = get(&t, "WEB").unwrap();
        let text = serde_json::to_string(&got).unwrap();
        assert!(!text.contains("PRIVATE KEY"));
        assert_eq!(got.server_certificate.certificate_body, RSA_CERT);
        assert_eq!(got.server_certificate.tags.len(), 1);
        // The stored record holds the key sealed, not in clear.
        let stored: ServerCertificateRecord = t
            .read(|_, tx| get_json(tx, NAMESPACE, &records::key(ACCOUNT, "web")))
            .unwrap()
            .unwrap();
        assert!(
            !serde_json::to_string(&stored)
                .unwrap()
                .contains("PRIVATE KEY")
        );
        let sealed = data_encoding::BASE64
            .decode(stored.sealed_private_key.as_bytes())
            .unwrap();
        let opened = t.root_key.open(&sealed, &seal_context(&stored.id)).unwrap();
        assert_eq!(opened.expose(), RSA_KEY.as_bytes());
        assert!(matches!(
            upload(&t, "Web", RSA_CERT, RSA_KEY, None),
            Err(IamError::EntityAlreadyExists(_))
        ));
    }

    #[test]
    fn key_formats_and_mismatches() {
        let t = TestEnv::new();
        upload(&t, "pkcs1", RSA_CERT, RSA_KEY_PKCS1, None).unwrap();
        upload(&t, "ec", EC_CERT, EC_KEY, None).unwrap();
        assert!(matches!(
            upload(&t, "mismatch", RSA_CERT, EC_KEY, None),
            Err(IamError::KeyPairMismatch(_))
        ));
        assert!(matches!(
            upload(&t, "badkey", RSA_CERT, "not a key", None),
            Err(IamError::MalformedCertificate(_))
        ));
        assert!(matches!(
            upload(&t, "badcert", "garbage", RSA_KEY, None),
            Err(IamError::MalformedCertificate(_))
        ));
        assert!(matches!(
            upload(&t, "badchain", RSA_CERT, RSA_KEY, Some("garbage")),
            Err(IamError::MalformedCertificate(_))
        ));
    }

    #[test]
    fn list_rename_tag_delete() {
        let t = TestEnv::new();
        upload(&t, "a", RSA_CERT, RSA_KEY, None).unwrap();
        let input = UpdateInput {
            server_certificate_name: "a".into(),
            new_path: Some("/elb/".into()),
            new_server_certificate_name: Some("b".into()),
        };
        t.write(move |env, tx| update_server_certificate(env, tx, input))
            .unwrap();
        assert!(matches!(get(&t, "a"), Err(IamError::NoSuchEntity(_))));
        let b = get(&t, "b").unwrap().server_certificate;
        assert_eq!(
            b.server_certificate_metadata.arn,
            format!("arn:aws:iam::{ACCOUNT}:server-certificate/elb/b")
        );
        let list = |prefix: &str| {
            let input = ListInput {
                path_prefix: Some(prefix.into()),
                marker: None,
                max_items: None,
            };
            t.read(move |env, tx| list_server_certificates(env, tx, input))
                .unwrap()
                .server_certificate_metadata_list
                .len()
        };
        assert_eq!(list("/elb/"), 1);
        assert_eq!(list("/cloudfront/"), 0);
        let input = UntagInput {
            server_certificate_name: "b".into(),
            tag_keys: vec!["env".into()],
        };
        t.write(move |env, tx| untag_server_certificate(env, tx, input))
            .unwrap();
        let input = TagInput {
            server_certificate_name: "b".into(),
            tags: vec![Tag {
                key: "team".into(),
                value: "web".into(),
            }],
        };
        t.write(move |env, tx| tag_server_certificate(env, tx, input))
            .unwrap();
        assert_eq!(get(&t, "b").unwrap().server_certificate.tags[0].key, "team");
        let delete = || {
            let input = NameInput {
                server_certificate_name: "b".into(),
            };
            t.write(move |env, tx| delete_server_certificate(env, tx, input))
        };
        delete().unwrap();
        assert!(matches!(delete(), Err(IamError::NoSuchEntity(_))));
    }
}
