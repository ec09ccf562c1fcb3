//! Service-specific credentials of IAM users (CodeCommit HTTPS Git, Amazon Keyspaces, Bedrock
//! API keys): `CreateServiceSpecificCredential`, `ListServiceSpecificCredentials`,
//! `ResetServiceSpecificCredential`, `UpdateServiceSpecificCredential`,
//! `DeleteServiceSpecificCredential`.
//!
//! The password (or secret) is sealed under the root key as soon as it is made and is shown
//! only in the responses AWS shows it in: Create and Reset.

use rampart_crypto::RootKey;
use rampart_service::{AwsError, Env, Operation, Resource, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::records;
use crate::ssh_public_keys::CredentialStatus;

/// IAM's quota of credentials per user for one service.
pub const MAX_PER_USER_PER_SERVICE: usize = 2;

/// Namespace of credentials: `<account>/<lower-cased user>/<credential id>`.
pub const NAMESPACE: &str = "iam.service-credential";

/// How a service's credential is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A generated user name and password (CodeCommit, Keyspaces).
    UserNamePassword,
    /// An alias and a secret API key, optionally expiring (Bedrock).
    AliasSecret,
}

/// The services that accept service-specific credentials, as AWS lists them.
fn kind_of(service: &str) -> Option<Kind> {
    match service {
        "codecommit.amazonaws.com" | "cassandra.amazonaws.com" => Some(Kind::UserNamePassword),
        "bedrock.amazonaws.com" => Some(Kind::AliasSecret),
        _ => None,
    }
}

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateServiceSpecificCredential",
            "iam:CreateServiceSpecificCredential",
            create_service_specific_credential,
        )
        .resources(crate::resources::user_or_caller),
        Operation::read(
            "ListServiceSpecificCredentials",
            "iam:ListServiceSpecificCredentials",
            list_service_specific_credentials,
        )
        .resources(crate::resources::user_or_caller),
        Operation::write(
            "ResetServiceSpecificCredential",
            "iam:ResetServiceSpecificCredential",
            reset_service_specific_credential,
        )
        .resources(credential_owner),
        Operation::write(
            "UpdateServiceSpecificCredential",
            "iam:UpdateServiceSpecificCredential",
            update_service_specific_credential,
        )
        .resources(credential_owner),
        Operation::write(
            "DeleteServiceSpecificCredential",
            "iam:DeleteServiceSpecificCredential",
            delete_service_specific_credential,
        )
        .resources(credential_owner),
    ]
}

/// The user a request's credential belongs to, with the credential's service
/// (`iam:ServiceSpecificCredentialServiceName`) when it exists.
fn credential_owner(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let mut owners = crate::resources::user_or_caller(env, tx, input)?;
    let user = crate::resources::member(input, "UserName").map(str::to_owned);
    if let Some(id) = crate::resources::member(input, "ServiceSpecificCredentialId")
        && let Ok(credential) = find(env, tx, user, id)
        && let Some(owner) = owners.pop()
    {
        owners.push(owner.with_key(
            "iam:ServiceSpecificCredentialServiceName",
            vec![credential.service_name],
        ));
    }
    Ok(owners)
}

/// A service-specific credential as stored; the secret is sealed under the root key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCredentialRecord {
    /// The owning account.
    pub account_id: String,
    /// The owning user.
    pub user_name: String,
    /// `ACCA…`.
    pub service_specific_credential_id: String,
    /// e.g. `codecommit.amazonaws.com`.
    pub service_name: String,
    /// The user name the service accepts (`<user>-at-<account>`), for password credentials.
    #[serde(default)]
    pub service_user_name: Option<String>,
    /// The alias, for API-key credentials.
    #[serde(default)]
    pub service_credential_alias: Option<String>,
    /// The password or secret, sealed (base64).
    sealed_secret: String,
    /// Active or Inactive.
    pub status: CredentialStatus,
    /// When it was made.
    pub create_date: String,
    /// When it stops working, if it expires.
    #[serde(default)]
    pub expiration_date: Option<String>,
}

fn seal_context(id: &str) -> Vec<u8> {
    format!("{NAMESPACE}/{id}").into_bytes()
}

impl ServiceCredentialRecord {
    fn seal(&mut self, root_key: &RootKey, secret: &str) {
        let sealed = root_key.seal(
            secret.as_bytes(),
            &seal_context(&self.service_specific_credential_id),
        );
        self.sealed_secret = data_encoding::BASE64.encode(&sealed);
    }

    /// Whether `secret` is this credential's. No Rampart service checks these credentials yet
    /// (CodeCommit and Keyspaces are not served), so only the tests use it.
    #[cfg(test)]
    fn matches(&self, root_key: &RootKey, secret: &str) -> bool {
        data_encoding::BASE64
            .decode(self.sealed_secret.as_bytes())
            .ok()
            .and_then(|sealed| {
                root_key
                    .open(&sealed, &seal_context(&self.service_specific_credential_id))
                    .ok()
            })
            .is_some_and(|plain| plain.expose() == secret.as_bytes())
    }
}

fn user_prefix(account: &str, user: &str) -> String {
    format!("{}/", records::key(account, user))
}

fn record_key(cred: &ServiceCredentialRecord) -> String {
    format!(
        "{}{}",
        user_prefix(&cred.account_id, &cred.user_name),
        cred.service_specific_credential_id
    )
}

fn put(tx: &mut (impl WriteTx + ?Sized), cred: &ServiceCredentialRecord) -> Result<(), IamError> {
    Ok(put_json(tx, NAMESPACE, &record_key(cred), cred)?)
}

/// The credentials of `user`, oldest first.
pub fn of_user(
    tx: &mut (impl ReadTx + ?Sized),
    account: &str,
    user: &str,
) -> Result<Vec<ServiceCredentialRecord>, IamError> {
    let mut creds: Vec<ServiceCredentialRecord> =
        scan_json(tx, NAMESPACE, &user_prefix(account, user), None, usize::MAX)?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
    creds.sort_by(|a, b| {
        (&a.create_date, &a.service_specific_credential_id)
            .cmp(&(&b.create_date, &b.service_specific_credential_id))
    });
    Ok(creds)
}

/// Moves the credentials of `old_name` to `new_name` (UpdateUser renames). The service user
/// name keeps the old name, as AWS's does: it was issued to the client and is not derived.
pub fn rename_owner(
    tx: &mut (impl WriteTx + ?Sized),
    account: &str,
    old_name: &str,
    new_name: &str,
) -> Result<(), IamError> {
    for mut cred in of_user(tx, account, old_name)? {
        tx.delete(NAMESPACE, &record_key(&cred))?;
        cred.user_name = new_name.to_owned();
        put(tx, &cred)?;
    }
    Ok(())
}

/// A new password or API key: base64 of 33 random bytes (44 characters), shaped like AWS's.
fn new_secret(env: &Env<'_>) -> String {
    data_encoding::BASE64.encode(&env.random(33))
}

/// A credential as IAM's API shows it on Create and Reset, with its secret.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceSpecificCredential {
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_date: Option<String>,
    service_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_credential_alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_credential_secret: Option<String>,
    service_specific_credential_id: String,
    user_name: String,
    status: CredentialStatus,
}

// The password stays out of any debug output.
impl std::fmt::Debug for ServiceSpecificCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSpecificCredential")
            .field("id", &self.service_specific_credential_id)
            .field("user_name", &self.user_name)
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

impl ServiceSpecificCredential {
    fn with_secret(cred: &ServiceCredentialRecord, secret: String) -> Self {
        let (password, api_key) = if cred.service_credential_alias.is_some() {
            (None, Some(secret))
        } else {
            (Some(secret), None)
        };
        Self {
            create_date: cred.create_date.clone(),
            expiration_date: cred.expiration_date.clone(),
            service_name: cred.service_name.clone(),
            service_user_name: cred.service_user_name.clone(),
            service_password: password,
            service_credential_alias: cred.service_credential_alias.clone(),
            service_credential_secret: api_key,
            service_specific_credential_id: cred.service_specific_credential_id.clone(),
            user_name: cred.user_name.clone(),
            status: cred.status,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    user_name: String,
    service_name: String,
    credential_age_days: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialOutput {
    service_specific_credential: ServiceSpecificCredential,
}

fn create_service_specific_credential(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateInput,
) -> Result<CredentialOutput, IamError> {
    let account = env.caller.account_id.clone();
    let user = records::user(tx, &account, &input.user_name)?;
    let kind = kind_of(&input.service_name).ok_or_else(|| {
        IamError::NotSupportedService(format!(
            "No such service {} is supported for Service-Specific Credentials",
            input.service_name
        ))
    })?;
    let same_service = of_user(tx, &account, &user.user_name)?
        .into_iter()
        .filter(|c| c.service_name == input.service_name)
        .count();
    if same_service >= MAX_PER_USER_PER_SERVICE {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: \
             {MAX_PER_USER_PER_SERVICE}"
        )));
    }
    let id = unique_id(IdPrefix::ServiceSpecificCredential, env.entropy);
    let expiration_date = input
        .credential_age_days
        .map(|days| aws_timestamp(env.now + time::Duration::days(days)));
    let (service_user_name, alias) = match kind {
        Kind::UserNamePassword => {
            // AWS's form: the user name, "-at-", the account ID.
            (Some(format!("{}-at-{account}", user.user_name)), None)
        }
        Kind::AliasSecret => (None, Some(format!("{}-at-{account}", user.user_name))),
    };
    let mut cred = ServiceCredentialRecord {
        account_id: account,
        user_name: user.user_name,
        service_specific_credential_id: id,
        service_name: input.service_name,
        service_user_name,
        service_credential_alias: alias,
        sealed_secret: String::new(),
        status: CredentialStatus::Active,
        create_date: aws_timestamp(env.now),
        expiration_date,
    };
    let secret = new_secret(env);
    cred.seal(env.root_key, &secret);
    put(tx, &cred)?;
    Ok(CredentialOutput {
        service_specific_credential: ServiceSpecificCredential::with_secret(&cred, secret),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    user_name: Option<String>,
    service_name: Option<String>,
    all_users: Option<bool>,
    marker: Option<String>,
    max_items: Option<i64>,
}

/// A credential in a listing: never its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceSpecificCredentialMetadata {
    user_name: String,
    status: CredentialStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_credential_alias: Option<String>,
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_date: Option<String>,
    service_specific_credential_id: String,
    service_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOutput {
    service_specific_credentials: Vec<ServiceSpecificCredentialMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_service_specific_credentials(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListInput,
) -> Result<ListOutput, IamError> {
    let account = &env.caller.account_id;
    let prefix = if input.all_users == Some(true) {
        records::account_prefix(account)
    } else {
        match input.user_name.or_else(|| env.caller.user_name.clone()) {
            Some(name) => user_prefix(account, &records::user(tx, account, &name)?.user_name),
            // The root user has no service-specific credentials.
            None => {
                return Ok(ListOutput {
                    service_specific_credentials: Vec::new(),
                    is_truncated: false,
                    marker: None,
                });
            }
        }
    };
    let service = input.service_name;
    let page = crate::pagination::page::<ServiceCredentialRecord>(
        tx,
        NAMESPACE,
        &prefix,
        input.marker.as_deref(),
        input.max_items,
        |c| service.as_ref().is_none_or(|s| *s == c.service_name),
    )?;
    Ok(ListOutput {
        is_truncated: page.is_truncated(),
        service_specific_credentials: page
            .items
            .into_iter()
            .map(|c| ServiceSpecificCredentialMetadata {
                user_name: c.user_name,
                status: c.status,
                service_user_name: c.service_user_name,
                service_credential_alias: c.service_credential_alias,
                create_date: c.create_date,
                expiration_date: c.expiration_date,
                service_specific_credential_id: c.service_specific_credential_id,
                service_name: c.service_name,
            })
            .collect(),
        marker: page.next,
    })
}

/// The credential `id` of the named user (or the caller).
fn find(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    user_name: Option<String>,
    id: &str,
) -> Result<ServiceCredentialRecord, IamError> {
    let account = &env.caller.account_id;
    let not_found = || {
        IamError::NoSuchEntity(format!(
            "No such credential {id} exists for the specified user."
        ))
    };
    let name = user_name
        .or_else(|| env.caller.user_name.clone())
        .ok_or_else(not_found)?;
    let user = records::user(tx, account, &name)?;
    get_json(
        tx,
        NAMESPACE,
        &format!("{}{id}", user_prefix(account, &user.user_name)),
    )?
    .ok_or_else(not_found)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResetInput {
    user_name: Option<String>,
    service_specific_credential_id: String,
}

fn reset_service_specific_credential(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ResetInput,
) -> Result<CredentialOutput, IamError> {
    let mut cred = find(
        env,
        tx,
        input.user_name,
        &input.service_specific_credential_id,
    )?;
    let secret = new_secret(env);
    cred.seal(env.root_key, &secret);
    put(tx, &cred)?;
    Ok(CredentialOutput {
        service_specific_credential: ServiceSpecificCredential::with_secret(&cred, secret),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    user_name: Option<String>,
    service_specific_credential_id: String,
    status: String,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

fn update_service_specific_credential(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateInput,
) -> Result<Empty, IamError> {
    let status = CredentialStatus::requested(&input.status)?;
    let mut cred = find(
        env,
        tx,
        input.user_name,
        &input.service_specific_credential_id,
    )?;
    cred.status = status;
    put(tx, &cred)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    user_name: Option<String>,
    service_specific_credential_id: String,
}

fn delete_service_specific_credential(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteInput,
) -> Result<Empty, IamError> {
    let cred = find(
        env,
        tx,
        input.user_name,
        &input.service_specific_credential_id,
    )?;
    tx.delete(NAMESPACE, &record_key(&cred))?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_certificates::tests::user;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn create(t: &TestEnv, service: &str) -> Result<CredentialOutput, IamError> {
        let input = CreateInput {
            user_name: "bob".into(),
            service_name: service.into(),
            credential_age_days: None,
        };
        t.write(move |env, tx| create_service_specific_credential(env, tx, input))
    }

    fn stored(t: &TestEnv) -> Vec<ServiceCredentialRecord> {
        t.read(|_, tx| of_user(tx, ACCOUNT, "bob")).unwrap()
    }

    #[test]
    fn the_password_is_shown_once_and_stored_sealed() {
        let t = TestEnv::new();
        user(&t, "bob");
        let cred = create(&t, "codecommit.amazonaws.com")
            .unwrap()
            .service_specific_credential;
        assert!(cred.service_specific_credential_id.starts_with("ACCA"));
        assert_eq!(
            cred.service_user_name.as_deref(),
            Some(format!("bob-at-{ACCOUNT}").as_str())
        );
        let password = cred.service_password.clone().unwrap();
        assert_eq!(password.len(), 44);
        let record = &stored(&t)[0];
        assert!(!record.sealed_secret.contains(&password));
        assert!(record.matches(&t.root_key, &password));
        // Reset issues a new password; the old one stops matching.
        let input = ResetInput {
            user_name: Some("bob".into()),
            service_specific_credential_id: cred.service_specific_credential_id.clone(),
        };
        let reset = t
            .write(move |env, tx| reset_service_specific_credential(env, tx, input))
            .unwrap()
            .service_specific_credential;
        let new_password = reset.service_password.unwrap();
        assert_ne!(new_password, password);
        let record = &stored(&t)[0];
        assert!(record.matches(&t.root_key, &new_password));
        assert!(!record.matches(&t.root_key, &password));
        // Listings never carry the secret.
        let list = t
            .read(|env, tx| {
                list_service_specific_credentials(
                    env,
                    tx,
                    ListInput {
                        user_name: Some("bob".into()),
                        service_name: None,
                        all_users: None,
                        marker: None,
                        max_items: None,
                    },
                )
            })
            .unwrap();
        let text = serde_json::to_string(&list).unwrap();
        assert!(!text.contains(&new_password));
        assert_eq!(list.service_specific_credentials.len(), 1);
    }

    #[test]
    fn two_per_service_and_unknown_services_refused() {
        let t = TestEnv::new();
        user(&t, "bob");
        create(&t, "codecommit.amazonaws.com").unwrap();
        create(&t, "codecommit.amazonaws.com").unwrap();
        assert!(matches!(
            create(&t, "codecommit.amazonaws.com"),
            Err(IamError::LimitExceeded(_))
        ));
        // The quota is per service.
        create(&t, "cassandra.amazonaws.com").unwrap();
        assert!(matches!(
            create(&t, "s3.amazonaws.com"),
            Err(IamError::NotSupportedService(m)) if m.contains("s3.amazonaws.com")
        ));
        let bedrock = create(&t, "bedrock.amazonaws.com")
            .unwrap()
            .service_specific_credential;
        assert!(bedrock.service_credential_secret.is_some());
        assert!(bedrock.service_password.is_none());
    }

    #[test]
    fn update_and_delete() {
        let t = TestEnv::new();
        user(&t, "bob");
        let id = create(&t, "codecommit.amazonaws.com")
            .unwrap()
            .service_specific_credential
            .service_specific_credential_id;
        let input = UpdateInput {
            user_name: Some("bob".into()),
            service_specific_credential_id: id.clone(),
            status: "Inactive".into(),
        };
        t.write(move |env, tx| update_service_specific_credential(env, tx, input))
            .unwrap();
        assert_eq!(stored(&t)[0].status, CredentialStatus::Inactive);
        let delete = |id: String| {
            let input = DeleteInput {
                user_name: Some("bob".into()),
                service_specific_credential_id: id,
            };
            t.write(move |env, tx| delete_service_specific_credential(env, tx, input))
        };
        delete(id.clone()).unwrap();
        assert!(matches!(delete(id), Err(IamError::NoSuchEntity(_))));
    }
}
