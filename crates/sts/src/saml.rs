//! Verifying a SAML 2.0 assertion for `AssumeRoleWithSAML`.
//!
//! The provider named by `PrincipalArn` must be in the account of the role. The
//! `SAMLResponse` (base64, as the IdP posts it) must carry an assertion signed by the key of a
//! certificate in the IAM SAML provider's metadata, addressed to AWS (every
//! `AudienceRestriction` names `https://signin.aws.amazon.com/saml` or
//! `urn:amazon:webservices`), within its validity, with exactly one `SubjectConfirmation`:
//! bearer, whose data has a `NotOnOrAfter` and a `Recipient` that is AWS's sign-in endpoint
//! ([`is_sign_in_endpoint`]), and naming the requested role and provider in its
//! `…/Attributes/Role` attribute. What comes out, [`SamlIdentity`], carries the attribute
//! mapping AWS documents and the `saml:*` condition keys the trust policy sees.
//!
//! XML signatures are verified by libxmlsec1 through samael (cargo feature `saml`, on by
//! default, which needs libxml2, libxmlsec1 and OpenSSL headers and clang at build time).
//! Nothing reaches them before `saml_screen` has refused what xmlsec must never see (a DTD,
//! external or XPointer references, other transforms, oversized or deeply nested
//! documents): the caller is unauthenticated. Only what the signature covers is read: samael
//! reduces the document to its signed content before any attribute is looked at, so an
//! unsigned assertion wrapped next to a signed one (XML signature wrapping) is never seen.
//! Without the feature, [`verify_saml`] refuses every assertion, saying why.
//!
//! Never log the assertion: it is a bearer credential.

use std::collections::BTreeMap;

use rampart_store::ReadTx;
use time::OffsetDateTime;

use crate::StsError;

/// The audiences AWS accepts in an assertion's `AudienceRestriction`: its sign-in endpoint
/// and its SAML service provider entity ID.
pub const AWS_SAML_AUDIENCES: [&str; 2] = [
    "https://signin.aws.amazon.com/saml",
    "urn:amazon:webservices",
];

/// A verified SAML identity: who the IdP says the caller is, and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentity {
    /// The IAM SAML provider's ARN: the session's federated principal.
    pub provider_arn: String,
    /// The role the assertion allows (the requested one).
    pub role_arn: String,
    /// The assertion's `Issuer` (`saml:iss`).
    pub issuer: String,
    /// The `NameID` (`saml:sub`).
    pub subject: String,
    /// The `NameID` format (`saml:sub_type`): `persistent`, `transient`, or the format URI.
    pub subject_type: String,
    /// The `Recipient` of the bearer confirmation (`saml:aud`): one of AWS's sign-in
    /// endpoints, as the assertion names it.
    pub recipient: String,
    /// `saml:namequalifier`: base64 of SHA-1 of issuer + account ID + `/` + provider name.
    pub name_qualifier: String,
    /// `saml:doc`: `<account>/<provider name>`.
    pub doc: String,
    /// The `RoleSessionName` attribute.
    pub role_session_name: String,
    /// The `SessionDuration` attribute, in seconds, if given. It bounds console sessions
    /// only: `AssumeRoleWithSAML`'s own sessions ignore it, as AWS's do.
    pub session_duration: Option<i64>,
    /// The `AuthnStatement`'s `SessionNotOnOrAfter`: no session outlasts it.
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// `PrincipalTag:<key>` attributes, as session tags, sorted by key.
    pub principal_tags: Vec<(String, String)>,
    /// `TransitiveTagKeys` attribute values.
    pub transitive_tag_keys: Vec<String>,
    /// The `SourceIdentity` attribute, if given.
    pub source_identity: Option<String>,
    /// Every attribute: name → values.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// When the assertion stops being valid (the earliest `NotOnOrAfter`).
    pub expires_at: OffsetDateTime,
}

impl SamlIdentity {
    /// The `saml:*` condition keys the request carries for the trust policy.
    pub fn condition_keys(&self) -> Vec<(String, Vec<String>)> {
        vec![
            ("saml:aud".into(), vec![self.recipient.clone()]),
            ("saml:iss".into(), vec![self.issuer.clone()]),
            ("saml:sub".into(), vec![self.subject.clone()]),
            ("saml:sub_type".into(), vec![self.subject_type.clone()]),
            (
                "saml:namequalifier".into(),
                vec![self.name_qualifier.clone()],
            ),
            ("saml:doc".into(), vec![self.doc.clone()]),
        ]
    }
}

/// `saml:namequalifier` as AWS documents it: `BASE64(SHA1(issuer + account_id + "/" +
/// provider_name))`.
pub fn name_qualifier(issuer: &str, account_id: &str, provider_name: &str) -> String {
    let input = format!("{issuer}{account_id}/{provider_name}");
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        input.as_bytes(),
    );
    data_encoding::BASE64.encode(digest.as_ref())
}

/// Whether `recipient` is an AWS sign-in endpoint a `SubjectConfirmationData` may name, as AWS
/// documents them: `https://signin.aws.amazon.com/saml`, the regional
/// `https://<region>.signin.aws.amazon.com/saml`, and either followed by `/acs/<id>` where
/// `<id>` is the provider's `SAMLProviderUUID` (the form IdPs that encrypt assertions use).
pub fn is_sign_in_endpoint(recipient: &str, provider_uuid: &str) -> bool {
    let Some((host, path)) = recipient
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once('/'))
    else {
        return false;
    };
    let host_ok = host == "signin.aws.amazon.com"
        || host
            .strip_suffix(".signin.aws.amazon.com")
            .is_some_and(is_region_code);
    let path_ok = path == "saml"
        || path
            .strip_prefix("saml/acs/")
            .is_some_and(|id| !provider_uuid.is_empty() && id == provider_uuid);
    host_ok && path_ok
}

/// `us-east-1`, `ap-southeast-2`, `eu-central-1`: letters-only words, then a number.
fn is_region_code(code: &str) -> bool {
    let words: Vec<&str> = code.split('-').collect();
    let Some((number, names)) = words.split_last() else {
        return false;
    };
    names.len() >= 2
        && names
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Verifies `assertion_b64` (the IdP's base64 `SAMLResponse`) for assuming `role_arn` through
/// the SAML provider `principal_arn`, at `now`.
///
/// Errors are AWS's: `ValidationError` for a provider outside the role's account, an unknown
/// provider, or an assertion longer than AWS accepts; `InvalidIdentityToken` for an assertion
/// that is malformed, refers outside itself, is badly signed, for another audience or
/// recipient or from another issuer, or has unusable session attributes; `ExpiredToken` once
/// it has expired; `AccessDenied` when its Role attribute does not name the requested role
/// and provider.
pub fn verify_saml(
    tx: &mut dyn ReadTx,
    role_arn: &str,
    principal_arn: &str,
    assertion_b64: &str,
    now: OffsetDateTime,
) -> Result<SamlIdentity, StsError> {
    imp::verify_saml(tx, role_arn, principal_arn, assertion_b64, now)
}

/// [`verify_saml`] once the provider is known: what it checks of the assertion itself.
/// Public for the fuzz target, which has no store.
pub fn verify_assertion(
    provider: &rampart_iam::saml_providers::SamlProviderRecord,
    role_arn: &str,
    principal_arn: &str,
    assertion_b64: &str,
    now: OffsetDateTime,
) -> Result<SamlIdentity, StsError> {
    imp::verify_assertion(provider, role_arn, principal_arn, assertion_b64, now)
}

#[cfg(not(feature = "saml"))]
mod imp {
    use super::*;

    fn unsupported() -> StsError {
        StsError::InvalidIdentityToken(
            "This Rampart was built without SAML support (cargo feature `saml` of rampart-sts)."
                .into(),
        )
    }

    pub(super) fn verify_saml(
        _: &mut dyn ReadTx,
        _: &str,
        _: &str,
        _: &str,
        _: OffsetDateTime,
    ) -> Result<SamlIdentity, StsError> {
        Err(unsupported())
    }

    pub(super) fn verify_assertion(
        _: &rampart_iam::saml_providers::SamlProviderRecord,
        _: &str,
        _: &str,
        _: &str,
        _: OffsetDateTime,
    ) -> Result<SamlIdentity, StsError> {
        Err(unsupported())
    }
}

#[cfg(feature = "saml")]
mod imp {
    use rampart_iam::saml_providers;
    use roxmltree::{Document, Node};
    use samael::crypto::{
        AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
    };
    use time::format_description::well_known::Rfc3339;

    use super::*;
    use crate::saml_screen;

    /// AWS's attribute names.
    const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
    const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
    const SESSION_DURATION_ATTRIBUTE: &str =
        "https://aws.amazon.com/SAML/Attributes/SessionDuration";
    const PRINCIPAL_TAG_PREFIX: &str = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";
    const TRANSITIVE_TAG_KEYS_ATTRIBUTE: &str =
        "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";
    const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";

    const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    const FORMAT_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";

    /// Clock skew tolerated on NotBefore / NotOnOrAfter, in seconds.
    const LEEWAY_SECONDS: i64 = 60;

    /// Signature algorithms accepted: SHA-2 RSA and ECDSA. SHA-1 signatures are refused.
    const ALGORITHMS: [AllowedSignatureAlgorithm; 5] = [
        AllowedSignatureAlgorithm::RsaSha256,
        AllowedSignatureAlgorithm::RsaSha384,
        AllowedSignatureAlgorithm::RsaSha512,
        AllowedSignatureAlgorithm::EcdsaSha256,
        AllowedSignatureAlgorithm::EcdsaSha384,
    ];

    fn invalid(message: &str) -> StsError {
        StsError::InvalidIdentityToken(message.to_owned())
    }

    pub(super) fn verify_saml(
        tx: &mut dyn ReadTx,
        role_arn: &str,
        principal_arn: &str,
        assertion_b64: &str,
        now: OffsetDateTime,
    ) -> Result<SamlIdentity, StsError> {
        let provider = provider_of_role_account(tx, role_arn, principal_arn)?;
        verify_assertion(&provider, role_arn, principal_arn, assertion_b64, now)
    }

    /// The provider `principal_arn` names, looked up only in the role's account, as
    /// AssumeRoleWithWebIdentity looks up its OIDC provider. AWS refuses a provider of
    /// another account with a ValidationError ("Principal exists outside the account of the
    /// Role being assumed.").
    fn provider_of_role_account(
        tx: &mut dyn ReadTx,
        role_arn: &str,
        principal_arn: &str,
    ) -> Result<saml_providers::SamlProviderRecord, StsError> {
        let role_account = crate::assume_role::parse_role_arn(role_arn)
            .map(|(account, _)| account)
            .ok_or_else(|| StsError::Validation(format!("{role_arn} is not a valid role ARN")))?;
        let invalid_principal = || StsError::Validation("Principal ARN is invalid".into());
        let provider_account = principal_arn
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.split_once(":saml-provider/"))
            .map(|(account, _)| account)
            .ok_or_else(invalid_principal)?;
        if provider_account != role_account {
            return Err(StsError::Validation(
                "Principal exists outside the account of the Role being assumed.".into(),
            ));
        }
        saml_providers::provider(tx, principal_arn)
            .map_err(|_| invalid_principal())?
            .ok_or_else(|| {
                StsError::Validation(format!("SAML provider {principal_arn} does not exist."))
            })
    }

    pub(super) fn verify_assertion(
        provider: &saml_providers::SamlProviderRecord,
        role_arn: &str,
        principal_arn: &str,
        assertion_b64: &str,
        now: OffsetDateTime,
    ) -> Result<SamlIdentity, StsError> {
        saml_screen::check_length(assertion_b64)?;
        let compact: String = assertion_b64
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let xml = data_encoding::BASE64
            .decode(compact.as_bytes())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| invalid("Invalid SAML response: it is not base64-encoded XML."))?;
        // The caller is unauthenticated: nothing reaches xmlsec before this.
        saml_screen::screen(&xml)?;

        let certificates: Vec<CertificateDer> = provider
            .signing_certificates()
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        // Only the signed content survives: whatever is read below was signed.
        let signed = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
            &xml,
            &certificates,
            ReduceMode::ValidateAndMarkNoAncestors,
            Some(&ALGORITHMS),
        )
        .map_err(|_| {
            invalid("Invalid SAML response: its signature could not be verified with the provider's certificate.")
        })?;
        let doc = Document::parse(&signed).map_err(|_| invalid("Invalid SAML response."))?;
        read_assertion(&doc, provider, role_arn, principal_arn, now)
    }

    fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
        node.children().find(|n| n.has_tag_name((ns, name)))
    }

    /// The only child `name` of `node`: the schema allows one, and a second could be read by
    /// one reader and not another.
    fn only_child<'a, 'i>(
        node: Node<'a, 'i>,
        ns: &str,
        name: &str,
        parent: &str,
    ) -> Result<Node<'a, 'i>, StsError> {
        let mut found = node.children().filter(|n| n.has_tag_name((ns, name)));
        match (found.next(), found.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => Err(invalid(&format!(
                "Invalid SAML response: the {parent} has no {name}."
            ))),
            (Some(_), Some(_)) => Err(invalid(&format!(
                "Invalid SAML response: the {parent} has more than one {name}."
            ))),
        }
    }

    /// All of an element's own text, as it was signed. Canonicalization without comments
    /// drops a comment between two text nodes, so `alice@example.com<!---->.evil.com` verifies
    /// with the signature over `alice@example.com.evil.com`: reading only the first text
    /// node would turn it into another user.
    fn text_of(node: Node<'_, '_>) -> String {
        node.children()
            .filter(Node::is_text)
            .filter_map(|n| n.text())
            .collect::<String>()
            .trim()
            .to_owned()
    }

    fn time_attr(node: Node<'_, '_>, name: &str) -> Result<Option<OffsetDateTime>, StsError> {
        node.attribute(name)
            .map(|v| {
                OffsetDateTime::parse(v, &Rfc3339)
                    .map_err(|_| invalid(&format!("Invalid SAML response: {name} is not a time.")))
            })
            .transpose()
    }

    fn read_assertion(
        doc: &Document<'_>,
        provider: &saml_providers::SamlProviderRecord,
        role_arn: &str,
        principal_arn: &str,
        now: OffsetDateTime,
    ) -> Result<SamlIdentity, StsError> {
        let root = doc.root_element();
        if root.has_tag_name((PROTOCOL_NS, "Response")) {
            let status = child(root, PROTOCOL_NS, "Status")
                .and_then(|s| child(s, PROTOCOL_NS, "StatusCode"))
                .and_then(|c| c.attribute("Value"));
            if status.is_some_and(|s| s != STATUS_SUCCESS) {
                return Err(invalid("Invalid SAML response: its status is not Success."));
            }
        }
        let assertions: Vec<Node<'_, '_>> = doc
            .descendants()
            .filter(|n| n.has_tag_name((ASSERTION_NS, "Assertion")))
            .collect();
        let [assertion] = assertions.as_slice() else {
            return Err(invalid(
                "Invalid SAML response: it must hold exactly one signed assertion.",
            ));
        };
        let assertion = *assertion;

        let issuer = text_of(only_child(assertion, ASSERTION_NS, "Issuer", "assertion")?);
        if issuer.is_empty() {
            return Err(invalid(
                "Invalid SAML response: the assertion has no Issuer.",
            ));
        }
        if let Some(entity_id) = &provider.entity_id
            && entity_id != &issuer
        {
            return Err(invalid(
                "Invalid SAML response: its Issuer is not the provider's entityID.",
            ));
        }

        let now_s = now.unix_timestamp();
        let mut expires_at: Option<OffsetDateTime> = None;
        let mut check_window = |node: Node<'_, '_>| -> Result<(), StsError> {
            if let Some(not_before) = time_attr(node, "NotBefore")?
                && now_s < not_before.unix_timestamp().saturating_sub(LEEWAY_SECONDS)
            {
                return Err(invalid("Invalid SAML response: it is not yet valid."));
            }
            if let Some(not_after) = time_attr(node, "NotOnOrAfter")? {
                if now_s >= not_after.unix_timestamp().saturating_add(LEEWAY_SECONDS) {
                    return Err(StsError::ExpiredToken(
                        "Assertion has expired (NotOnOrAfter is in the past).".into(),
                    ));
                }
                expires_at = Some(expires_at.map_or(not_after, |e| e.min(not_after)));
            }
            Ok(())
        };

        let conditions = only_child(assertion, ASSERTION_NS, "Conditions", "assertion")?;
        check_window(conditions)?;
        // SAML core: the assertion is addressed to every AudienceRestriction together, and
        // to any one of the Audiences inside each.
        let restrictions: Vec<Node<'_, '_>> = conditions
            .children()
            .filter(|n| n.has_tag_name((ASSERTION_NS, "AudienceRestriction")))
            .collect();
        let names_aws = |restriction: &Node<'_, '_>| {
            restriction
                .children()
                .filter(|n| n.has_tag_name((ASSERTION_NS, "Audience")))
                .any(|a| AWS_SAML_AUDIENCES.contains(&text_of(a).as_str()))
        };
        if restrictions.is_empty() || !restrictions.iter().all(names_aws) {
            return Err(invalid(
                "Invalid SAML response: every AudienceRestriction must name \
                 https://signin.aws.amazon.com/saml or urn:amazon:webservices.",
            ));
        }

        let subject = only_child(assertion, ASSERTION_NS, "Subject", "assertion")?;
        let name_id = only_child(subject, ASSERTION_NS, "NameID", "Subject")?;
        let (confirmation_data, recipient) = bearer_confirmation(subject, provider)?;
        check_window(confirmation_data)?;
        let expires_at = expires_at
            .ok_or_else(|| invalid("Invalid SAML response: the assertion has no NotOnOrAfter."))?;

        let session_not_on_or_after = assertion
            .children()
            .filter(|n| n.has_tag_name((ASSERTION_NS, "AuthnStatement")))
            .map(|statement| time_attr(statement, "SessionNotOnOrAfter"))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .min();

        let attributes = read_attributes(assertion);
        let values = |name: &str| attributes.get(name).cloned().unwrap_or_default();

        // Each value is "role_arn,provider_arn"; AWS takes the two in either order.
        let role_allowed = values(ROLE_ATTRIBUTE).iter().any(|pair| {
            let mut parts: Vec<&str> = pair.split(',').map(str::trim).collect();
            parts.sort_unstable();
            let mut wanted = [role_arn, principal_arn];
            wanted.sort_unstable();
            parts == wanted
        });
        if !role_allowed {
            return Err(StsError::AccessDenied(
                "Not authorized to perform sts:AssumeRoleWithSAML".into(),
            ));
        }

        let role_session_name = values(SESSION_NAME_ATTRIBUTE)
            .into_iter()
            .next()
            .ok_or_else(|| {
                invalid("Invalid SAML response: the RoleSessionName attribute is missing.")
            })?;
        if !(2..=64).contains(&role_session_name.chars().count())
            || !role_session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        {
            return Err(invalid(
                "Invalid SAML response: the RoleSessionName attribute must be 2 to 64 characters of [\\w+=,.@-].",
            ));
        }
        let session_duration = values(SESSION_DURATION_ATTRIBUTE)
            .first()
            .map(|d| {
                d.parse::<i64>()
                    .ok()
                    .filter(|d| (900..=43_200).contains(d))
                    .ok_or_else(|| {
                        invalid(
                            "Invalid SAML response: SessionDuration must be 900 to 43200 seconds.",
                        )
                    })
            })
            .transpose()?;
        let principal_tags = attributes
            .iter()
            .filter_map(|(name, vals)| {
                let key = name.strip_prefix(PRINCIPAL_TAG_PREFIX)?;
                Some((key.to_owned(), vals.first().cloned().unwrap_or_default()))
            })
            .collect();

        let format = name_id.attribute("Format").unwrap_or("");
        let subject_type = format
            .strip_prefix(FORMAT_PREFIX)
            .filter(|t| matches!(*t, "persistent" | "transient"))
            .unwrap_or(format)
            .to_owned();
        Ok(SamlIdentity {
            provider_arn: provider.arn.clone(),
            role_arn: role_arn.to_owned(),
            name_qualifier: name_qualifier(&issuer, &provider.account_id, &provider.name),
            doc: format!("{}/{}", provider.account_id, provider.name),
            issuer,
            subject: text_of(name_id),
            subject_type,
            recipient,
            role_session_name,
            session_duration,
            session_not_on_or_after,
            principal_tags,
            transitive_tag_keys: values(TRANSITIVE_TAG_KEYS_ATTRIBUTE),
            source_identity: values(SOURCE_IDENTITY_ATTRIBUTE).into_iter().next(),
            attributes,
            expires_at,
        })
    }

    /// The Subject's one confirmation's data and `Recipient`, as AWS requires them: "exactly one
    /// `SubjectConfirmation` element with a `SubjectConfirmationData` element that includes
    /// both the `NotOnOrAfter` attribute and a `Recipient` attribute", bearer, and the
    /// recipient an AWS sign-in endpoint (not another service provider's).
    fn bearer_confirmation<'a, 'i>(
        subject: Node<'a, 'i>,
        provider: &saml_providers::SamlProviderRecord,
    ) -> Result<(Node<'a, 'i>, String), StsError> {
        let confirmation = only_child(subject, ASSERTION_NS, "SubjectConfirmation", "Subject")?;
        if confirmation.attribute("Method") != Some(BEARER) {
            return Err(invalid(&format!(
                "Invalid SAML response: its SubjectConfirmation Method must be {BEARER}."
            )));
        }
        let data = only_child(
            confirmation,
            ASSERTION_NS,
            "SubjectConfirmationData",
            "SubjectConfirmation",
        )?;
        if data.attribute("NotOnOrAfter").is_none() {
            return Err(invalid(
                "Invalid SAML response: its SubjectConfirmationData has no NotOnOrAfter.",
            ));
        }
        let recipient = data.attribute("Recipient").ok_or_else(|| {
            invalid("Invalid SAML response: its SubjectConfirmationData has no Recipient.")
        })?;
        if !is_sign_in_endpoint(recipient, &provider.uuid) {
            return Err(invalid(
                "Invalid SAML response: its Recipient is not the AWS sign-in endpoint \
                 (https://signin.aws.amazon.com/saml).",
            ));
        }
        Ok((data, recipient.to_owned()))
    }

    fn read_attributes(assertion: Node<'_, '_>) -> BTreeMap<String, Vec<String>> {
        let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for attribute in assertion
            .children()
            .filter(|n| n.has_tag_name((ASSERTION_NS, "AttributeStatement")))
            .flat_map(|s| {
                s.children()
                    .filter(|n| n.has_tag_name((ASSERTION_NS, "Attribute")))
            })
        {
            let Some(name) = attribute.attribute("Name") else {
                continue;
            };
            let values = attribute
                .children()
                .filter(|n| n.has_tag_name((ASSERTION_NS, "AttributeValue")))
                .map(text_of);
            attributes
                .entry(name.to_owned())
                .or_default()
                .extend(values);
        }
        attributes
    }
}

#[cfg(all(test, feature = "saml"))]
#[path = "saml_tests.rs"]
mod tests;
