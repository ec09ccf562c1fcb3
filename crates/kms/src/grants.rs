//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and
//! grant tokens.
//!
//! A grant is enforced by the authorize step like any key policy statement: the key policy
//! lookup (authorization.rs) adds Allow statements for the caller per grant that names it, as
//! grant_policy.rs says for the request at hand. Grants are visible as soon as they are
//! committed, so a grant token is usable immediately; tokens are still checked to be ones
//! Rampart issued (sealed under the root key), as AWS rejects malformed tokens.
//!
//! CreateGrant, RetireGrant and RevokeGrant take `DryRun`: the request is authorized and
//! checked in full, then answers DryRunOperationException instead of changing anything.

use rampart_service::{AwsError, Env, ResourcePolicy, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::crypto_symmetric::dry_run;
use crate::error::KmsError;
use crate::keys::Empty;
use crate::pagination;
use crate::records::{self, GRANTS, GrantConstraints, GrantRecord, KeyRecord};
use crate::resolve::{self, find_key};
use crate::spec::{self, KeySpec};

const TOKEN_CONTEXT: &[u8] = b"rampart-kms-grant-token";

/// What a grant token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GrantToken {
    #[serde(rename = "a")]
    pub(crate) account_id: String,
    #[serde(rename = "r")]
    pub(crate) region: String,
    #[serde(rename = "k")]
    pub(crate) key_id: String,
    #[serde(rename = "g")]
    pub(crate) grant_id: String,
}

pub(crate) fn issue_token(
    env: &Env<'_>,
    grant: &GrantRecord,
    account: &str,
    region: &str,
) -> Result<String, KmsError> {
    let token = GrantToken {
        account_id: account.to_owned(),
        region: region.to_owned(),
        key_id: grant.key_id.clone(),
        grant_id: grant.grant_id.clone(),
    };
    let json = serde_json::to_vec(&token).map_err(|_| KmsError::Internal)?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&env.root_key.seal(&json, TOKEN_CONTEXT)))
}

/// The token's content, if Rampart issued it.
pub(crate) fn parse_token(env: &Env<'_>, token: &str) -> Option<GrantToken> {
    let sealed = data_encoding::BASE64URL_NOPAD
        .decode(token.as_bytes())
        .ok()?;
    let json = env.root_key.open(&sealed, TOKEN_CONTEXT).ok()?;
    serde_json::from_slice(json.expose()).ok()
}

/// Refuses grant tokens Rampart did not issue.
pub(crate) fn check_tokens(env: &Env<'_>, tokens: Option<&[String]>) -> Result<(), KmsError> {
    for token in tokens.unwrap_or_default() {
        if parse_token(env, token).is_none() {
            return Err(KmsError::InvalidGrantToken(
                "Invalid grant token".to_owned(),
            ));
        }
    }
    Ok(())
}

/// The grant operations a key's type allows.
fn allowed_operations(key: &KeyRecord) -> &'static [&'static str] {
    match (KeySpec::parse(&key.key_spec), key.key_usage.as_str()) {
        (Ok(KeySpec::Symmetric), _) => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "DescribeKey",
            "CreateGrant",
            "RetireGrant",
        ],
        (Ok(KeySpec::Hmac(_)), _) => &[
            "GenerateMac",
            "VerifyMac",
            "DescribeKey",
            "CreateGrant",
            "RetireGrant",
        ],
        (_, spec::SIGN_VERIFY) => &[
            "Sign",
            "Verify",
            "GetPublicKey",
            "DescribeKey",
            "CreateGrant",
            "RetireGrant",
        ],
        _ => &[
            "Encrypt",
            "Decrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GetPublicKey",
            "DescribeKey",
            "CreateGrant",
            "RetireGrant",
        ],
    }
}

/// CreateGrant's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantInput {
    key_id: String,
    grantee_principal: Option<String>,
    retiring_principal: Option<String>,
    operations: Vec<String>,
    constraints: Option<GrantConstraints>,
    grant_tokens: Option<Vec<String>>,
    name: Option<String>,
    grantee_service_principal: Option<String>,
    dry_run: Option<bool>,
}

/// CreateGrant's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantOutput {
    grant_token: String,
    grant_id: String,
}

/// CreateGrant.
pub(crate) fn create_grant(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateGrantInput,
) -> Result<CreateGrantOutput, KmsError> {
    check_tokens(env, input.grant_tokens.as_deref())?;
    if input.grantee_service_principal.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Rampart does not support grants to service principals yet".to_owned(),
        ));
    }
    let Some(grantee) = input.grantee_principal else {
        return Err(KmsError::Validation(
            "GranteePrincipal is required".to_owned(),
        ));
    };
    let key = find_key(tx, env, &input.key_id)?;
    resolve::require_not_pending_deletion(&key)?;
    let allowed = allowed_operations(&key);
    if let Some(bad) = input
        .operations
        .iter()
        .find(|op| !allowed.contains(&op.as_str()))
    {
        return Err(KmsError::Validation(format!(
            "Grant operation {bad} is not valid for {} with key spec {} and key usage {}",
            key.arn, key.key_spec, key.key_usage
        )));
    }
    let constraints = input
        .constraints
        .filter(|c| c.subset.is_some() || c.equals.is_some());
    if constraints.is_some() && KeySpec::parse(&key.key_spec).ok() != Some(KeySpec::Symmetric) {
        return Err(KmsError::Validation(
            "Encryption context grant constraints are only allowed on symmetric encryption KMS keys"
                .to_owned(),
        ));
    }
    // Every check passed: a dry run stops here, before the grant is made (or found again).
    dry_run(input.dry_run)?;
    let prefix = records::grants_prefix(&key.account_id, &key.region, &key.key_id);
    // AWS: a CreateGrant with the same name and parameters as an existing grant returns
    // that grant, so retried requests do not pile up grants.
    if input.name.is_some() {
        let existing: Vec<(String, GrantRecord)> =
            rampart_store::scan_json(tx, GRANTS, &prefix, None, usize::MAX)?;
        if let Some((_, same)) = existing.into_iter().find(|(_, g)| {
            g.name == input.name
                && g.grantee_principal == grantee
                && g.retiring_principal == input.retiring_principal
                && g.operations == input.operations
                && g.constraints == constraints
        }) {
            return Ok(CreateGrantOutput {
                grant_token: issue_token(env, &same, &key.account_id, &key.region)?,
                grant_id: same.grant_id,
            });
        }
    }
    let grant = GrantRecord {
        grant_id: data_encoding::HEXLOWER.encode(&env.random(32)),
        key_id: key.key_id.clone(),
        key_arn: key.arn.clone(),
        name: input.name,
        created: env.now,
        grantee_principal: grantee,
        retiring_principal: input.retiring_principal,
        issuing_account: format!("arn:aws:iam::{}:root", env.caller.account_id),
        operations: input.operations,
        constraints,
    };
    put_json(tx, GRANTS, &format!("{prefix}{}", grant.grant_id), &grant)?;
    Ok(CreateGrantOutput {
        grant_token: issue_token(env, &grant, &key.account_id, &key.region)?,
        grant_id: grant.grant_id,
    })
}

/// One `GrantListEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GrantListEntry {
    key_id: String,
    grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    creation_date: String,
    grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retiring_principal: Option<String>,
    issuing_account: String,
    operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraints: Option<GrantConstraints>,
}

impl From<GrantRecord> for GrantListEntry {
    fn from(g: GrantRecord) -> Self {
        Self {
            key_id: g.key_arn,
            grant_id: g.grant_id,
            name: g.name,
            creation_date: aws_timestamp(g.created),
            grantee_principal: g.grantee_principal,
            retiring_principal: g.retiring_principal,
            issuing_account: g.issuing_account,
            operations: g.operations,
            constraints: g.constraints,
        }
    }
}

/// ListGrants' and ListRetirableGrants' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsOutput {
    grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// ListGrants' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsInput {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

/// ListGrants: the grants of one key.
pub(crate) fn list_grants(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListGrantsInput,
) -> Result<ListGrantsOutput, KmsError> {
    let key = find_key(tx, env, &input.key_id)?;
    let prefix = records::grants_prefix(&key.account_id, &key.region, &key.key_id);
    let page = pagination::page(
        tx,
        GRANTS,
        &prefix,
        input.marker.as_deref(),
        input.limit,
        50,
        |_, g: GrantRecord| {
            let keep = input.grant_id.as_ref().is_none_or(|id| *id == g.grant_id)
                && input
                    .grantee_principal
                    .as_ref()
                    .is_none_or(|p| *p == g.grantee_principal);
            Ok(keep.then(|| GrantListEntry::from(g)))
        },
    )?;
    Ok(ListGrantsOutput {
        truncated: page.is_truncated(),
        grants: page.items,
        next_marker: page.next,
    })
}

/// ListRetirableGrants' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRetirableGrantsInput {
    limit: Option<i64>,
    marker: Option<String>,
    retiring_principal: Option<String>,
}

/// How ListRetirableGrants is authorized: AWS authorizes it on the retiring principal the
/// request names, which must be in the caller's account ("You must specify a principal in
/// your AWS account"), by the caller's IAM policies. A principal of another account (or
/// text that names no account) is declared with a resource policy that allows nothing, so
/// the authorize step refuses it, root callers included: no account lists the grants
/// another account's principals may retire.
pub(crate) fn retiring_principal_owner(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Option<ResourcePolicy>, AwsError> {
    let principal = input
        .get("RetiringPrincipal")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let account = principal_account(principal);
    if account == Some(env.caller.account_id.as_str()) {
        return Ok(None);
    }
    Ok(Some(ResourcePolicy {
        document: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
        account_id: account.unwrap_or(&env.caller.account_id).to_owned(),
        must_allow: true,
        description: "resource-based policy",
        principal_ids: rampart_service::PrincipalIds::default(),
    }))
}

/// The account of a principal as grants name them: an ARN (`arn:aws:iam::<account>:…`,
/// `arn:aws:sts::<account>:…`) or an account ID.
fn principal_account(principal: &str) -> Option<&str> {
    let account = match principal.strip_prefix("arn:") {
        Some(arn) => arn.split(':').nth(3)?,
        None => principal,
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// ListRetirableGrants: grants, in any account of the region, that name the principal as
/// their retiring principal.
pub(crate) fn list_retirable_grants(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListRetirableGrantsInput,
) -> Result<ListGrantsOutput, KmsError> {
    let Some(principal) = input.retiring_principal else {
        return Err(KmsError::Validation(
            "RetiringPrincipal is required".to_owned(),
        ));
    };
    let page = pagination::page(
        tx,
        GRANTS,
        "",
        input.marker.as_deref(),
        input.limit,
        50,
        |_, g: GrantRecord| {
            let here = g.key_arn.split(':').nth(3) == Some(env.region);
            let keep = here && g.retiring_principal.as_deref() == Some(principal.as_str());
            Ok(keep.then(|| GrantListEntry::from(g)))
        },
    )?;
    Ok(ListGrantsOutput {
        truncated: page.is_truncated(),
        grants: page.items,
        next_marker: page.next,
    })
}

fn grant_not_found(id: &str) -> KmsError {
    KmsError::NotFound(format!("Grant ID {id} not found"))
}

fn check_grant_id(id: &str) -> Result<(), KmsError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KmsError::InvalidGrantId(format!("Invalid grant ID {id}")));
    }
    Ok(())
}

/// RetireGrant's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetireGrantInput {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

/// RetireGrant: by grant token, or by key and grant id.
pub(crate) fn retire_grant(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RetireGrantInput,
) -> Result<Empty, KmsError> {
    let (account, region, key_id, grant_id) =
        match (&input.grant_token, &input.key_id, &input.grant_id) {
            (Some(token), _, _) => {
                // A token of another region names a grant this region does not serve (and
                // that the authorize step did not decide on).
                let t = parse_token(env, token)
                    .filter(|t| t.region == env.region)
                    .ok_or_else(|| KmsError::InvalidGrantToken("Invalid grant token".to_owned()))?;
                (t.account_id, t.region, t.key_id, t.grant_id)
            }
            (None, Some(key), Some(grant)) => {
                check_grant_id(grant)?;
                let key = find_key(tx, env, key)?;
                (key.account_id, key.region, key.key_id, grant.clone())
            }
            _ => {
                return Err(KmsError::Validation(
                    "Either GrantToken, or KeyId and GrantId, must be given".to_owned(),
                ));
            }
        };
    let doc = existing_grant(tx, &account, &region, &key_id, &grant_id)?;
    dry_run(input.dry_run)?;
    tx.delete(GRANTS, &doc)?;
    Ok(Empty {})
}

/// The store key of a grant that exists, or AWS's NotFoundException.
fn existing_grant(
    tx: &mut dyn WriteTx,
    account: &str,
    region: &str,
    key_id: &str,
    grant_id: &str,
) -> Result<String, KmsError> {
    let doc = format!(
        "{}{grant_id}",
        records::grants_prefix(account, region, key_id)
    );
    if get_json::<GrantRecord>(tx, GRANTS, &doc)?.is_none() {
        return Err(grant_not_found(grant_id));
    }
    Ok(doc)
}

/// RevokeGrant's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RevokeGrantInput {
    key_id: String,
    grant_id: String,
    dry_run: Option<bool>,
}

/// RevokeGrant.
pub(crate) fn revoke_grant(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: RevokeGrantInput,
) -> Result<Empty, KmsError> {
    check_grant_id(&input.grant_id)?;
    let key = find_key(tx, env, &input.key_id)?;
    let doc = existing_grant(
        tx,
        &key.account_id,
        &key.region,
        &key.key_id,
        &input.grant_id,
    )?;
    dry_run(input.dry_run)?;
    tx.delete(GRANTS, &doc)?;
    Ok(Empty {})
}
