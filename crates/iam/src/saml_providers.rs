//! SAML 2.0 identity providers: `CreateSAMLProvider`, `GetSAMLProvider`, `ListSAMLProviders`,
//! `UpdateSAMLProvider`, `DeleteSAMLProvider`, and their tags.
//!
//! A provider keeps its IdP's metadata document as given. The document must be XML with an
//! `IDPSSODescriptor` that names at least one signing certificate; those certificates are
//! what STS verifies SAML assertions against (see [`SamlProviderRecord::signing_certificates`]).

use crate::resources;
use rampart_service::{AwsError, Env, Operation, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::pagination::page;
use crate::records::{self, Tag};
use crate::tags;

/// Namespace of SAML providers; keys are `<account>/<name>`.
pub const SAML_PROVIDERS: &str = "iam.saml-provider";

/// AWS's quota of SAML providers per account.
const MAX_PROVIDERS: usize = 100;

/// SAML 2.0 metadata's namespace.
const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML Signature's namespace (where `X509Certificate` lives).
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateSAMLProvider",
            "iam:CreateSAMLProvider",
            create_provider,
        )
        .resources(new_provider_resource),
        Operation::read("GetSAMLProvider", "iam:GetSAMLProvider", get_provider)
            .resources(provider_resource),
        Operation::read("ListSAMLProviders", "iam:ListSAMLProviders", list_providers),
        Operation::write(
            "UpdateSAMLProvider",
            "iam:UpdateSAMLProvider",
            update_provider,
        )
        .resources(provider_resource)
        .partial("assertion encryption (AssertionEncryptionMode, AddPrivateKey, RemovePrivateKey)"),
        Operation::write(
            "DeleteSAMLProvider",
            "iam:DeleteSAMLProvider",
            delete_provider,
        )
        .resources(provider_resource),
        Operation::write("TagSAMLProvider", "iam:TagSAMLProvider", tag_provider)
            .resources(provider_resource),
        Operation::write("UntagSAMLProvider", "iam:UntagSAMLProvider", untag_provider)
            .resources(provider_resource),
        Operation::read(
            "ListSAMLProviderTags",
            "iam:ListSAMLProviderTags",
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
    let Some(arn) = resources::member(input, "SAMLProviderArn") else {
        return Ok(vec![Resource::any()]);
    };
    Ok(vec![match provider_in(tx, &env.caller.account_id, arn) {
        Ok(provider) => resources::tagged(arn, &provider.tags),
        Err(_) => Resource::named(arn),
    }])
}

fn new_provider_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let name = resources::member(input, "Name").unwrap_or_default();
    Ok(vec![Resource::named(provider_arn(
        &env.caller.account_id,
        name,
    ))])
}

/// A SAML provider, as kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlProviderRecord {
    /// The owning account.
    pub account_id: String,
    /// The name, as given.
    pub name: String,
    /// `arn:aws:iam::<account>:saml-provider/<name>`.
    pub arn: String,
    /// The IdP's metadata document, as given.
    pub metadata_document: String,
    /// The metadata's `entityID`, if it has one.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// The metadata's signing certificates (base64 DER), in document order.
    pub signing_certificates: Vec<String>,
    /// A unique ID, shown as `SAMLProviderUUID`.
    pub uuid: String,
    /// When it was made.
    pub create_date: String,
    /// The metadata's `validUntil`, if it has one.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl SamlProviderRecord {
    /// The DER bytes of the signing certificates the metadata names; assertions from this
    /// provider must be signed by the key of one of them.
    pub fn signing_certificates(&self) -> Vec<Vec<u8>> {
        self.signing_certificates
            .iter()
            .filter_map(|c| data_encoding::BASE64.decode(c.as_bytes()).ok())
            .collect()
    }
}

fn provider_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:saml-provider/{name}")
}

fn record_key(account_id: &str, name: &str) -> String {
    format!("{account_id}/{name}")
}

/// Splits a SAML provider ARN into its account and name.
fn parse_arn(arn: &str) -> Result<(&str, &str), IamError> {
    arn.strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":saml-provider/"))
        .filter(|(account, name)| {
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()
        })
        .ok_or_else(|| IamError::InvalidInput(format!("ARN {arn} is not valid.")))
}

fn not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Manifest not found for arn {arn}"))
}

/// The SAML provider with this ARN, if it exists. STS uses it to verify assertions for the
/// provider named in `AssumeRoleWithSAML`'s `PrincipalArn`.
pub fn provider(
    tx: &mut (impl ReadTx + ?Sized),
    arn: &str,
) -> Result<Option<SamlProviderRecord>, IamError> {
    let (account, name) = parse_arn(arn)?;
    Ok(get_json(tx, SAML_PROVIDERS, &record_key(account, name))?)
}

fn provider_in(
    tx: &mut (impl ReadTx + ?Sized),
    account_id: &str,
    arn: &str,
) -> Result<SamlProviderRecord, IamError> {
    let (arn_account, _) = parse_arn(arn)?;
    if arn_account != account_id {
        return Err(not_found(arn));
    }
    provider(tx, arn)?.ok_or_else(|| not_found(arn))
}

fn put(tx: &mut (impl WriteTx + ?Sized), provider: &SamlProviderRecord) -> Result<(), IamError> {
    Ok(put_json(
        tx,
        SAML_PROVIDERS,
        &record_key(&provider.account_id, &provider.name),
        provider,
    )?)
}

/// What CreateSAMLProvider and UpdateSAMLProvider take from a metadata document.
#[derive(Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The `entityID` of the `EntityDescriptor` holding the IdP descriptor.
    pub entity_id: Option<String>,
    /// Signing certificates, base64 DER without whitespace.
    pub signing_certificates: Vec<String>,
    /// `validUntil` as an AWS timestamp.
    pub valid_until: Option<String>,
}

/// Reads a metadata document: XML with an `IDPSSODescriptor` whose `KeyDescriptor`s (with
/// no `use`, or `use="signing"`) hold at least one `X509Certificate` that is valid base64.
/// Refusals carry AWS's text for a document it cannot use.
pub fn parse_metadata(document: &str) -> Result<Metadata, IamError> {
    let unparsable = || IamError::InvalidInput("Could not parse metadata".into());
    // roxmltree refuses DTDs by default, so no entity expansion reaches this parser.
    let doc = roxmltree::Document::parse(document).map_err(|_| unparsable())?;
    let idp = doc
        .descendants()
        .find(|n| n.has_tag_name((MD_NS, "IDPSSODescriptor")))
        .ok_or_else(unparsable)?;
    let mut signing_certificates = Vec::new();
    for key in idp
        .children()
        .filter(|n| n.has_tag_name((MD_NS, "KeyDescriptor")))
        .filter(|n| n.attribute("use").is_none_or(|u| u == "signing"))
    {
        for cert in key
            .descendants()
            .filter(|n| n.has_tag_name((DS_NS, "X509Certificate")))
        {
            let text: String = cert
                .text()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            match data_encoding::BASE64.decode(text.as_bytes()) {
                Ok(der) if !der.is_empty() => signing_certificates.push(text),
                _ => return Err(unparsable()),
            }
        }
    }
    if signing_certificates.is_empty() {
        return Err(unparsable());
    }
    let entity = idp
        .ancestors()
        .find(|n| n.has_tag_name((MD_NS, "EntityDescriptor")));
    let valid_until = idp
        .ancestors()
        .filter_map(|n| n.attribute("validUntil"))
        .find_map(|v| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(aws_timestamp);
    Ok(Metadata {
        entity_id: entity
            .and_then(|e| e.attribute("entityID"))
            .map(str::to_owned),
        signing_certificates,
        valid_until,
    })
}

/// A unique ID in the shape AWS gives `SAMLProviderUUID` (upper-case letters and digits).
fn new_uuid(env: &Env<'_>) -> String {
    data_encoding::BASE32_NOPAD.encode(&env.random(16))
}

/// Input of CreateSAMLProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateProviderInput {
    #[serde(rename = "SAMLMetadataDocument")]
    metadata_document: String,
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// Output of CreateSAMLProvider.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateProviderOutput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn create_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateProviderInput,
) -> Result<CreateProviderOutput, IamError> {
    let account = env.caller.account_id.clone();
    tags::check_new(&input.tags)?;
    let metadata = parse_metadata(&input.metadata_document)?;
    if get_json::<SamlProviderRecord>(tx, SAML_PROVIDERS, &record_key(&account, &input.name))?
        .is_some()
    {
        return Err(IamError::already_exists("SAMLProvider", &input.name));
    }
    let existing = page::<SamlProviderRecord>(
        tx,
        SAML_PROVIDERS,
        &records::account_prefix(&account),
        None,
        i64::try_from(MAX_PROVIDERS).ok(),
        |_| true,
    )?;
    if existing.items.len() >= MAX_PROVIDERS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for SamlProvidersPerAccount: {MAX_PROVIDERS}"
        )));
    }
    let provider = SamlProviderRecord {
        arn: provider_arn(&account, &input.name),
        account_id: account,
        name: input.name,
        metadata_document: input.metadata_document,
        entity_id: metadata.entity_id,
        signing_certificates: metadata.signing_certificates,
        uuid: new_uuid(env),
        create_date: aws_timestamp(env.now),
        valid_until: metadata.valid_until,
        tags: input.tags,
    };
    put(tx, &provider)?;
    Ok(CreateProviderOutput {
        arn: provider.arn,
        tags: provider.tags,
    })
}

/// Input of the operations that only name a provider.
#[derive(Debug, Deserialize)]
pub struct ProviderArnInput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
}

/// Output of GetSAMLProvider.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetProviderOutput {
    #[serde(rename = "SAMLProviderUUID")]
    uuid: String,
    #[serde(rename = "SAMLMetadataDocument")]
    metadata_document: String,
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn get_provider(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ProviderArnInput,
) -> Result<GetProviderOutput, IamError> {
    let provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    Ok(GetProviderOutput {
        uuid: provider.uuid,
        metadata_document: provider.metadata_document,
        create_date: provider.create_date,
        valid_until: provider.valid_until,
        tags: provider.tags,
    })
}

/// Input of ListSAMLProviders (it has no parameters).
#[derive(Debug, Deserialize)]
pub struct ListProvidersInput {}

/// One entry of ListSAMLProviders.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderEntry {
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<String>,
    create_date: String,
}

/// Output of ListSAMLProviders.
#[derive(Debug, Serialize)]
pub struct ListProvidersOutput {
    #[serde(rename = "SAMLProviderList")]
    list: Vec<ProviderEntry>,
}

fn list_providers(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _: ListProvidersInput,
) -> Result<ListProvidersOutput, IamError> {
    // Not paged at AWS; the account quota bounds it.
    let all = page::<SamlProviderRecord>(
        tx,
        SAML_PROVIDERS,
        &records::account_prefix(&env.caller.account_id),
        None,
        i64::try_from(MAX_PROVIDERS * 10).ok(),
        |_| true,
    )?;
    Ok(ListProvidersOutput {
        list: all
            .items
            .into_iter()
            .map(|p| ProviderEntry {
                arn: p.arn,
                valid_until: p.valid_until,
                create_date: p.create_date,
            })
            .collect(),
    })
}

/// Input of UpdateSAMLProvider.
#[derive(Debug, Deserialize)]
pub struct UpdateProviderInput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
    #[serde(rename = "SAMLMetadataDocument")]
    metadata_document: Option<String>,
}

/// Output of UpdateSAMLProvider.
#[derive(Debug, Serialize)]
pub struct UpdateProviderOutput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
}

fn update_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateProviderInput,
) -> Result<UpdateProviderOutput, IamError> {
    let mut provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    if let Some(document) = input.metadata_document {
        let metadata = parse_metadata(&document)?;
        provider.metadata_document = document;
        provider.entity_id = metadata.entity_id;
        provider.signing_certificates = metadata.signing_certificates;
        provider.valid_until = metadata.valid_until;
        put(tx, &provider)?;
    }
    Ok(UpdateProviderOutput { arn: provider.arn })
}

/// An operation's empty output.
#[derive(Debug, Serialize)]
pub struct Empty {}

fn delete_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ProviderArnInput,
) -> Result<Empty, IamError> {
    let provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    tx.delete(
        SAML_PROVIDERS,
        &record_key(&provider.account_id, &provider.name),
    )?;
    Ok(Empty {})
}

/// Input of TagSAMLProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagProviderInput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
    tags: Vec<Tag>,
}

fn tag_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TagProviderInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    tags::merge(&mut provider.tags, input.tags)?;
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of UntagSAMLProvider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagProviderInput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
    tag_keys: Vec<String>,
}

fn untag_provider(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UntagProviderInput,
) -> Result<Empty, IamError> {
    let mut provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    tags::remove(&mut provider.tags, &input.tag_keys);
    put(tx, &provider)?;
    Ok(Empty {})
}

/// Input of ListSAMLProviderTags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListProviderTagsInput {
    #[serde(rename = "SAMLProviderArn")]
    arn: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

fn list_provider_tags(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListProviderTagsInput,
) -> Result<tags::TagPage, IamError> {
    let provider = provider_in(tx, &env.caller.account_id, &input.arn)?;
    tags::page(provider.tags, input.marker.as_deref(), input.max_items)
}

/// Metadata documents for tests.
#[cfg(test)]
pub(crate) mod fixtures {
    /// A metadata document naming `cert_b64` as the IdP's signing certificate; padded past
    /// the model's 1000-character minimum.
    pub fn metadata(entity_id: &str, cert_b64: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}" validUntil="2030-01-01T00:00:00.000Z">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>
            {cert_b64}
          </ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
  <!-- {padding} -->
</md:EntityDescriptor>"#,
            padding = "padding ".repeat(120)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    const CERT: &str = "MIIBszCCAVmgAwIBAgIUY2VydGlmaWNhdGUtZm9yLXRlc3Rz";

    fn create(t: &TestEnv, name: &str, document: String) -> Result<String, IamError> {
        let input = CreateProviderInput {
            metadata_document: document,
            name: name.into(),
            tags: Vec::new(),
        };
        t.write(move |env, tx| create_provider(env, tx, input))
            .map(|o| o.arn)
    }

    #[test]
    fn metadata_must_name_an_idp_signing_certificate() {
        let good = fixtures::metadata("https://idp.example.com", CERT);
        let parsed = parse_metadata(&good).unwrap();
        assert_eq!(parsed.signing_certificates, [CERT]);
        assert_eq!(parsed.entity_id.as_deref(), Some("https://idp.example.com"));
        assert_eq!(parsed.valid_until.as_deref(), Some("2030-01-01T00:00:00Z"));
        for bad in [
            "not xml at all".to_owned(),
            good.replace("IDPSSODescriptor", "SPSSODescriptor"),
            good.replace("use=\"signing\"", "use=\"encryption\""),
            good.replace(CERT, "!!not base64!!"),
            good.replace(
                "<md:EntityDescriptor",
                "<!DOCTYPE x [<!ENTITY a \"b\">]><md:EntityDescriptor",
            ),
        ] {
            assert!(
                matches!(parse_metadata(&bad), Err(IamError::InvalidInput(m)) if m == "Could not parse metadata"),
                "{bad}"
            );
        }
    }

    #[test]
    fn providers_are_created_got_updated_and_deleted() {
        let t = TestEnv::new();
        let arn = create(&t, "Okta", fixtures::metadata("https://a", CERT)).unwrap();
        assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:saml-provider/Okta"));
        assert!(matches!(
            create(&t, "Okta", fixtures::metadata("https://a", CERT)),
            Err(IamError::EntityAlreadyExists(_))
        ));
        let found = t.read(|_, tx| provider(tx, &arn)).unwrap().unwrap();
        assert_eq!(found.signing_certificates().len(), 1);
        assert_eq!(found.entity_id.as_deref(), Some("https://a"));

        let input = UpdateProviderInput {
            arn: arn.clone(),
            metadata_document: Some(fixtures::metadata("https://b", CERT)),
        };
        t.write(move |env, tx| update_provider(env, tx, input))
            .unwrap();
        let input = ProviderArnInput { arn: arn.clone() };
        let got = t.read(move |env, tx| get_provider(env, tx, input)).unwrap();
        assert!(got.metadata_document.contains("https://b"));
        assert!(got.uuid.len() >= 22);

        let list = t
            .read(|env, tx| list_providers(env, tx, ListProvidersInput {}))
            .unwrap();
        assert_eq!(list.list.len(), 1);

        let input = ProviderArnInput { arn: arn.clone() };
        t.write(move |env, tx| delete_provider(env, tx, input))
            .unwrap();
        let input = ProviderArnInput { arn: arn.clone() };
        assert!(matches!(
            t.write(move |env, tx| delete_provider(env, tx, input)),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn tags_are_added_and_removed() {
        let t = TestEnv::new();
        let arn = create(&t, "idp", fixtures::metadata("https://a", CERT)).unwrap();
        let input = TagProviderInput {
            arn: arn.clone(),
            tags: vec![Tag {
                key: "k".into(),
                value: "v".into(),
            }],
        };
        t.write(move |env, tx| tag_provider(env, tx, input))
            .unwrap();
        let input = ListProviderTagsInput {
            arn: arn.clone(),
            marker: None,
            max_items: None,
        };
        let page = t
            .read(move |env, tx| list_provider_tags(env, tx, input))
            .unwrap();
        assert_eq!(serde_json::to_value(&page).unwrap()["Tags"][0]["Key"], "k");
        let input = UntagProviderInput {
            arn: arn.clone(),
            tag_keys: vec!["K".into()],
        };
        t.write(move |env, tx| untag_provider(env, tx, input))
            .unwrap();
        let found = t.read(|_, tx| provider(tx, &arn)).unwrap().unwrap();
        assert!(found.tags.is_empty());
    }
}
