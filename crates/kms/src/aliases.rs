//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use rampart_service::{Env, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::error::KmsError;
use crate::keys::{Empty, load_for_write};
use crate::pagination;
use crate::records::{self, ALIASES, AliasRecord};
use crate::resolve::{self, find_own_key};

/// The prefix AWS keeps for its managed keys' aliases.
const RESERVED_PREFIX: &str = "alias/aws/";

fn check_name(name: &str) -> Result<(), KmsError> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".to_owned(),
        ));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias {name} cannot begin with the reserved prefix alias/aws/"
        )));
    }
    Ok(())
}

/// CreateAlias' and UpdateAlias' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasInput {
    alias_name: String,
    target_key_id: String,
}

fn target_key(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    target: &str,
) -> Result<records::KeyRecord, KmsError> {
    // An alias must point at a key, never at another alias.
    if target.starts_with("alias/") || target.contains(":alias/") {
        return Err(KmsError::Validation(
            "Aliases must refer to keys. Not aliases".to_owned(),
        ));
    }
    let key = load_for_write(env, tx, target)?;
    resolve::require_not_pending_deletion(&key)?;
    Ok(key)
}

/// CreateAlias.
pub(crate) fn create_alias(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AliasInput,
) -> Result<Empty, KmsError> {
    check_name(&input.alias_name)?;
    let key = target_key(env, tx, &input.target_key_id)?;
    let account = &env.caller.account_id;
    let doc = records::alias_doc(account, env.region, &input.alias_name);
    let arn = records::alias_arn(env.region, account, &input.alias_name);
    if let Some(existing) = get_json::<AliasRecord>(tx, ALIASES, &doc)? {
        // An alias whose key is gone is free to take again.
        if resolve::alias_target_live(tx, account, env.region, &existing, env.now)? {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {arn} already exists"
            )));
        }
    }
    let alias = AliasRecord {
        name: input.alias_name,
        arn,
        target_key_id: key.key_id,
        created: env.now,
        updated: env.now,
    };
    put_json(tx, ALIASES, &doc, &alias)?;
    Ok(Empty {})
}

fn existing_alias(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    name: &str,
) -> Result<(String, AliasRecord), KmsError> {
    let account = &env.caller.account_id;
    let doc = records::alias_doc(account, env.region, name);
    match get_json::<AliasRecord>(tx, ALIASES, &doc)? {
        Some(alias) if resolve::alias_target_live(tx, account, env.region, &alias, env.now)? => {
            Ok((doc, alias))
        }
        _ => Err(KmsError::NotFound(format!(
            "Alias {} is not found.",
            records::alias_arn(env.region, account, name)
        ))),
    }
}

/// UpdateAlias: the new key must have the same type and usage as the old one, as AWS
/// requires.
pub(crate) fn update_alias(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: AliasInput,
) -> Result<Empty, KmsError> {
    check_name(&input.alias_name)?;
    let (doc, mut alias) = existing_alias(env, tx, &input.alias_name)?;
    let key = target_key(env, tx, &input.target_key_id)?;
    if let Some(old) =
        records::load_key(tx, &env.caller.account_id, env.region, &alias.target_key_id)?
        && (old.key_spec != key.key_spec || old.key_usage != key.key_usage)
    {
        return Err(KmsError::Validation(format!(
            "{} and {} are not of the same key spec and key usage",
            old.arn, key.arn
        )));
    }
    alias.target_key_id = key.key_id;
    alias.updated = env.now;
    put_json(tx, ALIASES, &doc, &alias)?;
    Ok(Empty {})
}

/// DeleteAlias' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteAliasInput {
    alias_name: String,
}

/// DeleteAlias.
pub(crate) fn delete_alias(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteAliasInput,
) -> Result<Empty, KmsError> {
    check_name(&input.alias_name)?;
    let (doc, _) = existing_alias(env, tx, &input.alias_name)?;
    tx.delete(ALIASES, &doc)?;
    Ok(Empty {})
}

/// ListAliases' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliasesInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

/// One `AliasListEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasListEntry {
    alias_name: String,
    alias_arn: String,
    target_key_id: String,
    creation_date: String,
    last_updated_date: String,
}

/// ListAliases' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliasesOutput {
    aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

/// ListAliases: the caller's aliases in the region, or those of one key.
pub(crate) fn list_aliases(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListAliasesInput,
) -> Result<ListAliasesOutput, KmsError> {
    let only = match &input.key_id {
        Some(k) => Some(find_own_key(tx, env, k)?.key_id),
        None => None,
    };
    let account = env.caller.account_id.clone();
    let prefix = format!("{account}/{}/", env.region);
    let page = pagination::page(
        tx,
        ALIASES,
        &prefix,
        input.marker.as_deref(),
        input.limit,
        50,
        |tx, alias: AliasRecord| {
            if only.as_ref().is_some_and(|k| *k != alias.target_key_id)
                || !resolve::alias_target_live(tx, &account, env.region, &alias, env.now)?
            {
                return Ok(None);
            }
            Ok(Some(AliasListEntry {
                alias_name: alias.name,
                alias_arn: alias.arn,
                target_key_id: alias.target_key_id,
                creation_date: aws_timestamp(alias.created),
                last_updated_date: aws_timestamp(alias.updated),
            }))
        },
    )?;
    Ok(ListAliasesOutput {
        truncated: page.is_truncated(),
        aliases: page.items,
        next_marker: page.next,
    })
}
