//! OpenID Connect identity providers: `CreateOpenIDConnectProvider`,
//! `GetOpenIDConnectProvider`, `ListOpenIDConnectProviders`, `DeleteOpenIDConnectProvider`,
//! `UpdateOpenIDConnectProviderThumbprint`, `AddClientIDToOpenIDConnectProvider`,
//! `RemoveClientIDFromOpenIDConnectProvider`, and their tags.
//!
//! A provider is named by its URL without the scheme (`token.example.com/path`): that is its
//! ARN's resource (`oidc-provider/token.example.com/path`), what `GetOpenIDConnectProvider`
//! answers as `Url`, and the prefix of the condition keys a web identity session carries
//! (`token.example.com/path:sub`). STS finds the provider of a token with
//! [`provider_by_issuer`].

use crate::resources;
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::pagination::page;
use crate::records::{self, Tag};
use crate::tags;

/// Namespace of OpenID Connect providers; keys are `<account>/<url without scheme>`, as given
/// (URLs are compared exactly, as AWS does: a case or trailing-slash difference is another
/// provider).
pub const OIDC_PROVIDERS: &str = "iam.oidc-provider";

/// AWS's quota of OpenID Connect providers per account.
const MAX_PROVIDERS: usize = 100;
/// AWS's quota of client IDs per provider.
const MAX_CLIENT_IDS: usize = 100;
/// AWS's quota of thumbprints per provider.
const MAX_THUMBPRINTS: usize = 5;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateOpenIDConnectProvider",
            "iam:CreateOpenIDConnectProvider",
            create_provider,
        )
        .resources(new_provider_resource),
        Operation::read(
            "GetOpenIDConnectProvider",
            "iam:GetOpenIDConnectProvider",
            get_provider,
        )
        .resources(provider_resource),
        Operation::read(
            "ListOpenIDConnectProviders",
            "iam:ListOpenIDConnectProviders",
            list_providers,
        ),
        Operation::write(
            "DeleteOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            delete_provider,
        )
        .resources(provider_resource),
        Operation::write(
            "UpdateOpenIDConnectProviderThumbprint",
            "iam:UpdateOpenIDConnectProviderThumbprint",
            update_thumbprint,
        )
        .resources(provider_resource),
        Operation::write(
            "AddClientIDToOpenIDConnectProvider",
            "iam:AddClientIDToOpenIDConnectProvider",
            add_client_id,
        )
        .resources(provider_resource),
        Operation::write(
            "RemoveClientIDFromOpenIDConnectProvider",
            "iam:RemoveClientIDFromOpenIDConnectProvider",
            remove_client_id,
        )
        .resources(provider_resource),
        Operation::write(
            "TagOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider",
            tag_provider,
        )
        .resources(provider_resource),
        Operation::write(
            "UntagOpenIDConnectProvider",
            "iam:UntagOpenIDConnectProvider",
            untag_provider,
        )
        .resources(provider_resource),
        Operation::read(
            "ListOpenIDConnectProviderTags",
            "iam:ListOpenIDConnectProviderTags",
            list_provider_tags,
        )
        .resources(provider_resource),
    ]
}

/// The provider the input names by ARN, with its tags when it is the caller's.
fn provider_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let Some(arn) = resources::member(input, "OpenIDConnectProviderArn") else {
        return Ok(vec![Resource::any()]);
    };
    Ok(vec![
        match provider_by_arn(tx, &env.caller.account_id, arn) {
            Ok(provider) => resources::tagged(arn, &provider.tags),
            Err(_) => Resource::named(arn),
        },
    ])
}

/// The provider CreateOpenIDConnectProvider would make, named from its URL.
fn new_provider_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let url = resources::member(input, "Url").unwrap_or_default();
    Ok(vec![Resource::named(provider_arn(
        &env.caller.account_id,
        without_scheme(url).unwrap_or(url),
    ))])
}

/// An OpenID Connect provider, as kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcProviderRecord {
    /// The owning account.
    pub account_id: String,
    /// `arn:aws:iam::<account>:oidc-provider/<url without scheme>`.
    pub arn: String,
    /// The URL without its scheme (`host[:port][/path]`), as AWS shows it.
    pub url: String,
    /// The scheme the URL was given with (`https`, or `http` for a loopback issuer).
    pub scheme: String,
    /// The audiences (`aud`) tokens may carry, in the order added.
    pub client_ids: Vec<String>,
    /// SHA-1 thumbprints of the issuer's certificates (kept and shown; Rampart verifies
    /// tokens against the provider's keys, as AWS does for well-known issuers).
    pub thumbprints: Vec<String>,
    /// When it was made.
    pub create_date: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl OidcProviderRecord {
    /// The issuer URL with its scheme, e.g. `https://token.example.com/path`.
    pub fn issuer_url(&self) -> String {
        format!("{}://{}", self.scheme, self.url)
    }
}

fn provider_arn(account_id: &str, url_without_scheme: &str) -> String {
    format!("arn:aws:iam::{account_id}:oidc-provider/{url_without_scheme}")
}

fn record_key(account_id: &str, url_without_scheme: &str) -> String {
    format!("{account_id}/{url_without_scheme}")
}

/// The URL without `https://` or `http://`, if it has one of them.
fn without_scheme(url: &str) -> Option<&str> {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
}

/// Whether `host` (without port) names this machine's loopback interface.
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The host of a scheme-less URL (`host[:port][/path]`), without the port.
pub fn host_of(url_without_scheme: &str) -> &str {
    let authority = url_without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.starts_with('[') {
        // An IPv6 literal keeps its colons; the port, if any, follows the bracket.
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or_default()
}

/// Splits a provider URL into its scheme and the rest, refusing what AWS refuses.
fn parse_url(url: &str) -> Result<(&'static str, &str), IamError> {
    let invalid = || IamError::Validation("Invalid Open ID Connect Provider URL".into());
    let (scheme, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => ("https", rest),
        (None, Some(rest)) => ("http", rest),
        (None, None) if url.contains("://") => {
            return Err(IamError::InvalidInput(
                "Invalid Open ID Connect Provider URL. The URL must begin with https://.".into(),
            ));
        }
        (None, None) => return Err(invalid()),
    };
    let host = host_of(rest);
    if host.is_empty() || rest.contains(['?', '#', '@']) || rest.contains(char::is_whitespace) {
        return Err(invalid());
    }
    // AWS requires https. Rampart also accepts plain http for an issuer on the loopback
    // interface, because its users run offline tests with an identity provider they start
    // on 127.0.0.1 or localhost, without certificates; any other http URL is refused as
    // AWS refuses it.
    if scheme == "http" && !is_loopback_host(host) {
        return Err(IamError::InvalidInput(
            "Invalid Open ID Connect Provider URL. The URL must begin with https://.".into(),
        ));
    }
    Ok((scheme, rest))
}

/// Splits an OpenID Connect provider ARN into its account and its URL without scheme.
fn parse_arn(arn: &str) -> Result<(&str, &str), IamError> {
    arn.strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":oidc-provider/"))
        .filter(|(account, url)| {
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !url.is_empty()
        })
        .ok_or_else(|| IamError::InvalidInput(format!("ARN {arn} is not valid.")))
}

fn not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

/// The provider with this ARN in the caller's account, or NoSuchEntity.
fn provider_by_arn(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<OidcProviderRecord, IamError> {
    let (arn_account, url) = parse_arn(arn)?;
    if arn_account != account_id {
        return Err(not_found(arn));
    }
    get_json(tx, OIDC_PROVIDERS, &record_key(account_id, url))?.ok_or_else(|| not_found(arn))
}

fn put(tx: &mut (impl WriteTx + ?Sized), provider: &OidcProviderRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        OIDC_PROVIDERS,
        &record_key(&provider.account_id, &provider.url),
        provider,
    )?)
}

/// The provider of `account_id` whose URL is the issuer `issuer_url` (a token's `iss`
/// claim), compared without the scheme as AWS does (`https://host/path` and `host/path`
/// name the same provider). `None` when the account has no such provider.
pub fn provider_by_issuer(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    issuer_url: &str,
) -> Result<Option<OidcProviderRecord>, IamError> {
    let url = without_scheme(issuer_url).unwrap_or(issuer_url);
    if url.is_empty() {
        return Ok(None);
    }
    Ok(get_json(tx, OIDC_PROVIDERS, &record_key(account_id, url))?)
}

fn check_thumbprints(thumbprints: &[String]) -> Result<(), IamError> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        // AWS's text, including its "fewer than" for a quota of five.
        return Err(IamError::InvalidInput(
            "Thumbprint list must contain fewer than 5 entries.".into(),
        ));
    }
    Ok(())
}

fn too_many_client_ids() -> IamError {
    IamError::LimitExceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
    ))
}

/// Input of CreateOpenIDConnectProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateProviderInput {
    url: String,
    #[serde(default, rename = "ClientIDList")]
    client_id_list: Vec<String>,
    #[serde(default)]
    thumbprint_list: Vec<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// Output of CreateOpenIDConnectProvider.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateProviderOutput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    open_id_connect_provider_arn: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn create_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateProviderInput,
) -> Result<CreateProviderOutput, IamError> {
    let account = env.caller.account_id.clone();
    let (scheme, url) = parse_url(&input.url)?;
    check_thumbprints(&input.thumbprint_list)?;
    tags::check_new(&input.tags)?;
    let mut client_ids: Vec<String> = Vec::new();
    for id in input.client_id_list {
        if !client_ids.contains(&id) {
            client_ids.push(id);
        }
    }
    if client_ids.len() > MAX_CLIENT_IDS {
        return Err(too_many_client_ids());
    }
    if get_json::<OidcProviderRecord>(tx, OIDC_PROVIDERS, &record_key(&account, url))?.is_some() {
        return Err(IamError::EntityAlreadyExists(format!(
            "Provider with url {} already exists.",
            input.url
        )));
    }
    let existing = page::<OidcProviderRecord>(
        tx,
        OIDC_PROVIDERS,
        &records::account_prefix(&account),
        None,
        i64::try_from(MAX_PROVIDERS).ok(),
        |_| true,
    )?;
    if existing.items.len() >= MAX_PROVIDERS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}"
        )));
    }
    let provider = OidcProviderRecord {
        arn: provider_arn(&account, url),
        account_id: account,
        url: url.to_owned(),
        scheme: scheme.to_owned(),
        client_ids,
        thumbprints: input.thumbprint_list,
        create_date: aws_timestamp(env.now),
        tags: input.tags,
    };
    put(tx, &provider)?;
    Ok(CreateProviderOutput {
        open_id_connect_provider_arn: provider.arn,
        tags: provider.tags,
    })
}

/// Input of the operations that only name a provider.
#[derive(Debug, Deserialize)]
pub struct ProviderArnInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
}

/// Output of GetOpenIDConnectProvider.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetProviderOutput {
    url: String,
    #[serde(rename = "ClientIDList")]
    client_id_list: Vec<String>,
    thumbprint_list: Vec<String>,
    create_date: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn get_provider(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ProviderArnInput,
) -> Result<GetProviderOutput, IamError> {
    let provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    Ok(GetProviderOutput {
        url: provider.url,
        client_id_list: provider.client_ids,
        thumbprint_list: provider.thumbprints,
        create_date: provider.create_date,
        tags: provider.tags,
    })
}

/// Input of ListOpenIDConnectProviders (it has no parameters).
#[derive(Debug, Deserialize)]
pub struct ListProvidersInput {}

/// One entry of ListOpenIDConnectProviders.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderEntry {
    arn: String,
}

/// Output of ListOpenIDConnectProviders.
#[derive(Debug, Serialize)]
pub struct ListProvidersOutput {
    #[serde(rename = "OpenIDConnectProviderList")]
    list: Vec<ProviderEntry>,
}

fn list_providers(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _: ListProvidersInput,
) -> Result<ListProvidersOutput, IamError> {
    // The list is not paged at AWS; the account quota bounds it.
    let all = page::<OidcProviderRecord>(
        tx,
        OIDC_PROVIDERS,
        &records::account_prefix(&env.caller.account_id),
        None,
        i64::try_from(MAX_PROVIDERS * 10).ok(),
        |_| true,
    )?;
    Ok(ListProvidersOutput {
        list: all
            .items
            .into_iter()
            .map(|p| ProviderEntry { arn: p.arn })
            .collect(),
    })
}

/// An operation's empty output.
#[derive(Debug, Serialize)]
pub struct Empty {}

fn delete_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ProviderArnInput,
) -> Result<Empty, IamError> {
    let account = &env.caller.account_id;
    let (arn_account, url) = parse_arn(&input.arn)?;
    // AWS: "This operation is idempotent; it does not fail or return an error if you call the
    // operation for a provider that does not exist."
    if arn_account == account {
        tx.delete(OIDC_PROVIDERS, &record_key(account, url))?;
    }
    Ok(Empty {})
}

/// Input of UpdateOpenIDConnectProviderThumbprint.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateThumbprintInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
    thumbprint_list: Vec<String>,
}

fn update_thumbprint(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateThumbprintInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    check_thumbprints(&input.thumbprint_list)?;
    provider.thumbprints = input.thumbprint_list;
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of Add/RemoveClientID…OpenIDConnectProvider.
#[derive(Debug, Deserialize)]
pub struct ClientIdInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
    #[serde(rename = "ClientID")]
    client_id: String,
}

fn add_client_id(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ClientIdInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    // AWS: adding a client ID that is already there is not an error.
    if provider.client_ids.contains(&input.client_id) {
        return Ok(Empty {});
    }
    if provider.client_ids.len() >= MAX_CLIENT_IDS {
        return Err(too_many_client_ids());
    }
    provider.client_ids.push(input.client_id);
    put(tx, &provider)?;
    Ok(Empty {})
}

fn remove_client_id(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ClientIdInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    // AWS: "This operation is idempotent; it does not fail or return an error if you try to
    // remove a client ID that does not exist."
    provider.client_ids.retain(|id| id != &input.client_id);
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of TagOpenIDConnectProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagProviderInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
    tags: Vec<Tag>,
}

fn tag_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagProviderInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    tags::merge(&mut provider.tags, input.tags)?;
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of UntagOpenIDConnectProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagProviderInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
    tag_keys: Vec<String>,
}

fn untag_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagProviderInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    tags::remove(&mut provider.tags, &input.tag_keys);
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of ListOpenIDConnectProviderTags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListProviderTagsInput {
    #[serde(rename = "OpenIDConnectProviderArn")]
    arn: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_provider_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListProviderTagsInput,
) -> Result<tags::TagPage, IamError> {
    let provider = provider_by_arn(tx, &env.caller.account_id, &input.arn)?;
    tags::page(provider.tags, input.marker.as_deref(), input.max_items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    const THUMB: &str = "0123456789abcdef0123456789abcdef01234567";

    fn create(t: &TestEnv, url: &str, client_ids: &[&str]) -> Result<String, IamError> {
        let input = CreateProviderInput {
            url: url.into(),
            client_id_list: client_ids.iter().map(|c| (*c).to_owned()).collect(),
            thumbprint_list: vec![THUMB.into()],
            tags: vec![Tag {
                key: "team".into(),
                value: "platform".into(),
            }],
        };
        t.write(move |env, tx| create_provider(env, tx, input))
            .map(|o| o.open_id_connect_provider_arn)
    }

    fn get(t: &TestEnv, arn: &str) -> Result<GetProviderOutput, IamError> {
        let input = ProviderArnInput { arn: arn.into() };
        t.read(move |env, tx| get_provider(env, tx, input))
    }

    #[test]
    fn a_provider_is_named_by_its_url_without_scheme() {
        let t = TestEnv::new();
        let arn = create(
            &t,
            "https://token.example.com/tenant",
            &["sts.amazonaws.com"],
        )
        .unwrap();
        assert_eq!(
            arn,
            format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com/tenant")
        );
        let got = get(&t, &arn).unwrap();
        assert_eq!(got.url, "token.example.com/tenant");
        assert_eq!(got.client_id_list, ["sts.amazonaws.com"]);
        assert_eq!(got.thumbprint_list, [THUMB]);
        assert_eq!(got.tags.len(), 1);
        let err = create(&t, "https://token.example.com/tenant", &[]).unwrap_err();
        assert!(
            matches!(&err, IamError::EntityAlreadyExists(m) if m == "Provider with url https://token.example.com/tenant already exists."),
            "{err:?}"
        );
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        let t = TestEnv::new();
        assert!(matches!(
            create(&t, "http://token.example.com", &[]),
            Err(IamError::InvalidInput(m)) if m.contains("must begin with https://")
        ));
        assert!(matches!(
            create(&t, "token.example.com", &[]),
            Err(IamError::Validation(_))
        ));
        assert!(matches!(
            create(&t, "https://", &[]),
            Err(IamError::Validation(_))
        ));
        for url in [
            "http://127.0.0.1:8080/issuer",
            "http://localhost:9000",
            "http://[::1]:9000/x",
        ] {
            let arn = create(&t, url, &[]).unwrap();
            assert!(arn.ends_with(without_scheme(url).unwrap()), "{arn}");
        }
        let found = t
            .read(|_, tx| provider_by_issuer(tx, ACCOUNT, "http://127.0.0.1:8080/issuer"))
            .unwrap()
            .unwrap();
        assert_eq!(found.issuer_url(), "http://127.0.0.1:8080/issuer");
        assert!(
            t.read(|_, tx| provider_by_issuer(tx, ACCOUNT, "127.0.0.1:8080/issuer"))
                .unwrap()
                .is_some()
        );
        assert!(
            t.read(|_, tx| provider_by_issuer(tx, "999999999999", "http://localhost:9000"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn client_ids_are_added_once_and_removed_idempotently() {
        let t = TestEnv::new();
        let arn = create(&t, "https://idp.example.com", &["a", "a", "b"]).unwrap();
        let change =
            |f: fn(&Env<'_>, &mut dyn WriteTx, ClientIdInput) -> Result<Empty, IamError>,
             id: &str| {
                let input = ClientIdInput {
                    arn: arn.clone(),
                    client_id: id.into(),
                };
                t.write(move |env, tx| f(env, tx, input)).unwrap();
            };
        change(add_client_id, "c");
        change(add_client_id, "a");
        change(remove_client_id, "b");
        change(remove_client_id, "zzz");
        assert_eq!(get(&t, &arn).unwrap().client_id_list, ["a", "c"]);
    }

    #[test]
    fn thumbprints_are_replaced_within_the_quota() {
        let t = TestEnv::new();
        let arn = create(&t, "https://idp.example.com", &[]).unwrap();
        let update = |n: usize| {
            let input = UpdateThumbprintInput {
                arn: arn.clone(),
                thumbprint_list: vec!["f".repeat(40); n],
            };
            t.write(move |env, tx| update_thumbprint(env, tx, input))
        };
        assert!(matches!(update(6), Err(IamError::InvalidInput(_))));
        update(2).unwrap();
        assert_eq!(get(&t, &arn).unwrap().thumbprint_list.len(), 2);
    }

    #[test]
    fn missing_providers_are_not_found_and_deleting_them_is_not_an_error() {
        let t = TestEnv::new();
        let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/nowhere.example.com");
        let err = get(&t, &arn).unwrap_err();
        assert!(
            matches!(&err, IamError::NoSuchEntity(m) if m == &format!("OpenIDConnect Provider not found for arn {arn}"))
        );
        let created = create(&t, "https://nowhere.example.com", &[]).unwrap();
        assert_eq!(created, arn);
        for _ in 0..2 {
            let input = ProviderArnInput { arn: arn.clone() };
            t.write(move |env, tx| delete_provider(env, tx, input))
                .unwrap();
        }
        assert!(get(&t, &arn).is_err());
        assert!(matches!(
            get(&t, "arn:aws:iam::123:user/bob"),
            Err(IamError::InvalidInput(_))
        ));
    }

    #[test]
    fn lists_and_tags() {
        let t = TestEnv::new();
        let a = create(&t, "https://a.example.com", &[]).unwrap();
        create(&t, "https://b.example.com", &[]).unwrap();
        let list = t
            .read(|env, tx| list_providers(env, tx, ListProvidersInput {}))
            .unwrap();
        assert_eq!(list.list.len(), 2);
        let input = TagProviderInput {
            arn: a.clone(),
            tags: vec![Tag {
                key: "env".into(),
                value: "test".into(),
            }],
        };
        t.write(move |env, tx| tag_provider(env, tx, input))
            .unwrap();
        let input = UntagProviderInput {
            arn: a.clone(),
            tag_keys: vec!["TEAM".into()],
        };
        t.write(move |env, tx| untag_provider(env, tx, input))
            .unwrap();
        let tags = get(&t, &a).unwrap().tags;
        assert_eq!(tags.len(), 1);
        assert_eq!(tags.first().map(|t| t.key.as_str()), Some("env"));
    }
}
