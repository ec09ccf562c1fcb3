//! Tests of SAML verification: assertions signed here (libxmlsec1, through samael) with a key
//! and certificate generated for the test, verified against the provider's metadata.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use aws_lc_rs::encoding::AsDer;
use samael::crypto::{Crypto, CryptoProvider};
use serde_json::json;

use super::*;
use crate::provider_testing::{ACCOUNT, ProviderStore};

const IDP: &str = "https://idp.example.com/saml";
const PROVIDER_NAME: &str = "ExampleIdP";

fn provider_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:saml-provider/{PROVIDER_NAME}")
}

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/federated")
}

/// An IdP's signing key (PKCS#8 DER) and its self-signed certificate (DER).
struct IdpKey {
    pkcs8: Vec<u8>,
    certificate: Vec<u8>,
}

impl IdpKey {
    fn generate() -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap().as_ref().to_vec();
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &pkcs8.as_slice().into(),
            &rcgen::PKCS_RSA_SHA256,
        )
        .unwrap();
        let certificate = rcgen::CertificateParams::new(vec!["idp.example.com".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec();
        Self { pkcs8, certificate }
    }
}

fn metadata(certificate: &[u8]) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
        <ds:X509Certificate>{}</ds:X509Certificate>
      </ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
        data_encoding::BASE64.encode(certificate)
    )
}

fn store_with_provider(key: &IdpKey) -> ProviderStore {
    let store = ProviderStore::new();
    store
        .iam(
            "CreateSAMLProvider",
            json!({ "Name": PROVIDER_NAME, "SAMLMetadataDocument": metadata(&key.certificate) }),
        )
        .unwrap();
    store
}

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-24 12:00:00 UTC)
}

/// What a test assertion says; each test changes what it checks.
struct Assertion {
    audience: &'static str,
    not_on_or_after: &'static str,
    role_pair: String,
    subject: &'static str,
    extra: String,
    /// Inside the assertion, after its conditions (an `AuthnStatement`).
    authn: &'static str,
    /// The Subject's confirmations.
    confirmations: String,
    /// Inside the Conditions, after the first AudienceRestriction.
    more_conditions: &'static str,
}

/// A bearer confirmation to `recipient` until 12:05.
fn bearer_to(recipient: &str) -> String {
    format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T12:05:00Z" Recipient="{recipient}"/>
      </saml:SubjectConfirmation>"#
    )
}

const SIGN_IN: &str = "https://signin.aws.amazon.com/saml";

impl Default for Assertion {
    fn default() -> Self {
        Self {
            audience: "https://signin.aws.amazon.com/saml",
            not_on_or_after: "2026-11-24T12:05:00Z",
            role_pair: format!("{},{}", role_arn(), provider_arn()),
            subject: "alice@example.com",
            extra: String::new(),
            authn: "",
            confirmations: bearer_to(SIGN_IN),
            more_conditions: "",
        }
    }
}

/// A SAMLResponse whose assertion carries an enveloped signature template (exclusive C14N,
/// RSA-SHA256), as IdPs send them to AWS.
fn template(a: &Assertion) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_response1" Version="2.0" IssueInstant="2026-11-24T11:59:00Z" Destination="https://signin.aws.amazon.com/saml">
  <saml:Issuer>{IDP}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  {extra}
  <saml:Assertion ID="_assertion1" Version="2.0" IssueInstant="2026-11-24T11:59:00Z">
    <saml:Issuer>{IDP}</saml:Issuer>
    <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:SignedInfo>
        <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
        <ds:Reference URI="#_assertion1">
          <ds:Transforms>
            <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
            <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
          </ds:Transforms>
          <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
          <ds:DigestValue></ds:DigestValue>
        </ds:Reference>
      </ds:SignedInfo>
      <ds:SignatureValue></ds:SignatureValue>
    </ds:Signature>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{subject}</saml:NameID>
      {confirmations}
    </saml:Subject>
    <saml:Conditions NotBefore="2026-11-24T11:59:00Z" NotOnOrAfter="{not_on_or_after}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
      {more_conditions}
    </saml:Conditions>
    {authn}
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
        <saml:AttributeValue>{role_pair}</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
        <saml:AttributeValue>alice</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration">
        <saml:AttributeValue>1800</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/PrincipalTag:Department">
        <saml:AttributeValue>Engineering</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"##,
        audience = a.audience,
        not_on_or_after = a.not_on_or_after,
        role_pair = a.role_pair,
        subject = a.subject,
        extra = a.extra,
        authn = a.authn,
        confirmations = a.confirmations,
        more_conditions = a.more_conditions,
    )
}

fn signed_xml(key: &IdpKey, a: &Assertion) -> String {
    Crypto::sign_xml(template(a), &key.pkcs8).unwrap()
}

fn b64(xml: &str) -> String {
    data_encoding::BASE64.encode(xml.as_bytes())
}

fn verify(store: &ProviderStore, assertion_b64: &str) -> Result<SamlIdentity, StsError> {
    store.read(|tx| verify_saml(tx, &role_arn(), &provider_arn(), assertion_b64, now()))
}

#[test]
fn a_signed_assertion_maps_to_aws_attributes_and_keys() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let identity = verify(&store, &b64(&signed_xml(&key, &Assertion::default()))).unwrap();
    assert_eq!(identity.provider_arn, provider_arn());
    assert_eq!(identity.role_arn, role_arn());
    assert_eq!(identity.issuer, IDP);
    assert_eq!(identity.subject, "alice@example.com");
    assert_eq!(identity.subject_type, "persistent");
    assert_eq!(identity.recipient, "https://signin.aws.amazon.com/saml");
    assert_eq!(identity.role_session_name, "alice");
    assert_eq!(identity.session_duration, Some(1800));
    assert_eq!(identity.session_not_on_or_after, None);
    assert_eq!(
        identity.principal_tags,
        [("Department".to_owned(), "Engineering".to_owned())]
    );
    assert_eq!(identity.doc, format!("{ACCOUNT}/{PROVIDER_NAME}"));
    assert_eq!(
        identity.name_qualifier,
        name_qualifier(IDP, ACCOUNT, PROVIDER_NAME)
    );
    assert_eq!(
        identity.expires_at,
        time::macros::datetime!(2026-11-24 12:05:00 UTC)
    );
    assert!(
        identity
            .condition_keys()
            .contains(&("saml:sub".into(), vec!["alice@example.com".into()]))
    );
}

#[test]
fn one_changed_byte_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let tampered = signed.replacen("alice@example.com", "alicf@example.com", 1);
    assert_ne!(signed, tampered);
    let err = verify(&store, &b64(&tampered)).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}");
}

#[test]
fn another_key_or_no_signature_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let other = IdpKey::generate();
    let err = verify(&store, &b64(&signed_xml(&other, &Assertion::default()))).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}");
    let err = verify(&store, &b64(&template(&Assertion::default()))).unwrap_err();
    assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}");
}

#[test]
fn an_unsigned_assertion_beside_a_signed_one_is_never_read() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let evil = r#"<saml:Assertion ID="_evil" Version="2.0" IssueInstant="2026-11-24T11:59:00Z"><saml:Issuer>https://idp.example.com/saml</saml:Issuer><saml:Subject><saml:NameID>admin</saml:NameID></saml:Subject></saml:Assertion>"#;
    let signed = signed_xml(
        &key,
        &Assertion {
            extra: evil.to_owned(),
            ..Assertion::default()
        },
    );
    let identity = verify(&store, &b64(&signed)).unwrap();
    assert_eq!(identity.subject, "alice@example.com");
}

#[test]
fn audience_expiry_and_role_are_checked() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let with = |a: Assertion| verify(&store, &b64(&signed_xml(&key, &a)));
    assert!(matches!(
        with(Assertion {
            audience: "https://sp.example.com",
            ..Assertion::default()
        }),
        Err(StsError::InvalidIdentityToken(_))
    ));
    assert!(matches!(
        with(Assertion {
            not_on_or_after: "2026-11-24T11:00:00Z",
            ..Assertion::default()
        }),
        Err(StsError::ExpiredToken(_))
    ));
    assert!(matches!(
        with(Assertion {
            role_pair: format!("arn:aws:iam::{ACCOUNT}:role/other,{}", provider_arn()),
            ..Assertion::default()
        }),
        Err(StsError::AccessDenied(_))
    ));
    // The pair may name the provider first.
    assert!(
        with(Assertion {
            role_pair: format!("{},{}", provider_arn(), role_arn()),
            ..Assertion::default()
        })
        .is_ok()
    );
}

#[test]
fn an_unknown_provider_or_garbage_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let err = store
        .read(|tx| {
            verify_saml(
                tx,
                &role_arn(),
                &format!("arn:aws:iam::{ACCOUNT}:saml-provider/Nope"),
                &b64(&signed_xml(&key, &Assertion::default())),
                now(),
            )
        })
        .unwrap_err();
    assert!(matches!(err, StsError::Validation(_)), "{err:?}");
    assert!(matches!(
        verify(&store, "%%% not base64"),
        Err(StsError::InvalidIdentityToken(_))
    ));
}

#[test]
fn the_name_qualifier_is_awss_hash() {
    // SHA-1("https://example.com/saml" "123456789012" "/MySAMLIdP"), base64: computed
    // independently with `printf %s … | openssl sha1 -binary | base64`.
    assert_eq!(
        name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP"),
        NAME_QUALIFIER_EXAMPLE
    );
}

const NAME_QUALIFIER_EXAMPLE: &str = "1uAJanUnBc2XeUkHURMht+xam2c=";

#[test]
fn the_authn_statement_bounds_the_session() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let assertion = Assertion {
        authn: r#"<saml:AuthnStatement AuthnInstant="2026-11-24T11:59:00Z" SessionNotOnOrAfter="2026-11-24T12:30:00Z"/>"#,
        ..Assertion::default()
    };
    let identity = verify(&store, &b64(&signed_xml(&key, &assertion))).unwrap();
    assert_eq!(
        identity.session_not_on_or_after,
        Some(time::macros::datetime!(2026-11-24 12:30:00 UTC))
    );
}

#[path = "saml_screen_tests.rs"]
mod screen;

fn with(store: &ProviderStore, key: &IdpKey, a: Assertion) -> Result<SamlIdentity, StsError> {
    verify(store, &b64(&signed_xml(key, &a)))
}

fn refusal(result: Result<SamlIdentity, StsError>) -> String {
    match result {
        Err(StsError::InvalidIdentityToken(message)) => message,
        other => panic!("expected InvalidIdentityToken, got {other:?}"),
    }
}

fn provider_uuid(store: &ProviderStore) -> String {
    store
        .read(|tx| Ok(rampart_iam::saml_providers::provider(tx, &provider_arn())?))
        .unwrap()
        .unwrap()
        .uuid
}

#[test]
fn the_recipient_is_the_sign_in_endpoint_regional_or_with_the_providers_id() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let acs = format!("{SIGN_IN}/acs/{}", provider_uuid(&store));
    let regional = "https://eu-west-1.signin.aws.amazon.com/saml".to_owned();
    let regional_acs = format!(
        "https://us-east-2.signin.aws.amazon.com/saml/acs/{}",
        provider_uuid(&store)
    );
    for recipient in [SIGN_IN.to_owned(), regional, acs, regional_acs] {
        let identity = with(
            &store,
            &key,
            Assertion {
                confirmations: bearer_to(&recipient),
                ..Assertion::default()
            },
        )
        .unwrap();
        // saml:aud is the Recipient as the assertion names it.
        assert_eq!(identity.recipient, recipient);
        assert!(
            identity
                .condition_keys()
                .contains(&("saml:aud".into(), vec![recipient.clone()]))
        );
    }
}

#[test]
fn another_service_providers_recipient_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    for recipient in [
        "https://sp.example.com/saml/acs",
        "https://signin.aws.amazon.com.evil.example/saml",
        "https://evil.example/signin.aws.amazon.com/saml",
        "http://signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/saml/acs/SOMEONEELSESPROVIDER",
        "https://signin.aws.amazon.com/saml/",
        "https://not-a-region.signin.aws.amazon.com/saml",
        "urn:amazon:webservices",
    ] {
        let message = refusal(with(
            &store,
            &key,
            Assertion {
                confirmations: bearer_to(recipient),
                ..Assertion::default()
            },
        ));
        assert!(message.contains("Recipient"), "{recipient}: {message}");
    }
}

#[test]
fn a_confirmation_without_recipient_or_not_on_or_after_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let no_recipient = r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T12:05:00Z"/>
      </saml:SubjectConfirmation>"#;
    // Before the fix a missing Recipient was replaced by the sign-in URL as saml:aud.
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            confirmations: no_recipient.to_owned(),
            ..Assertion::default()
        },
    ));
    assert!(message.contains("no Recipient"), "{message}");
    let no_expiry = format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="{SIGN_IN}"/>
      </saml:SubjectConfirmation>"#
    );
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            confirmations: no_expiry,
            ..Assertion::default()
        },
    ));
    assert!(message.contains("no NotOnOrAfter"), "{message}");
    let no_data = r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"/>"#;
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            confirmations: no_data.to_owned(),
            ..Assertion::default()
        },
    ));
    assert!(message.contains("no SubjectConfirmationData"), "{message}");
}

#[test]
fn exactly_one_confirmation_and_it_is_bearer() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let holder_of_key = format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T12:05:00Z" Recipient="{SIGN_IN}"/>
      </saml:SubjectConfirmation>"#
    );
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            confirmations: holder_of_key.clone(),
            ..Assertion::default()
        },
    ));
    assert!(message.contains("Method must be"), "{message}");
    // A second confirmation, whatever it says, is refused: AWS wants exactly one.
    for second in [holder_of_key, bearer_to(SIGN_IN)] {
        let message = refusal(with(
            &store,
            &key,
            Assertion {
                confirmations: format!("{}{second}", bearer_to(SIGN_IN)),
                ..Assertion::default()
            },
        ));
        assert!(
            message.contains("more than one SubjectConfirmation"),
            "{message}"
        );
    }
    let two_data = format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T12:05:00Z" Recipient="{SIGN_IN}"/>
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T12:05:00Z" Recipient="https://sp.example.com"/>
      </saml:SubjectConfirmation>"#
    );
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            confirmations: two_data,
            ..Assertion::default()
        },
    ));
    assert!(
        message.contains("more than one SubjectConfirmationData"),
        "{message}"
    );
}

#[test]
fn an_expired_confirmation_is_expired() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let expired = format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-11-24T11:00:00Z" Recipient="{SIGN_IN}"/>
      </saml:SubjectConfirmation>"#
    );
    let result = with(
        &store,
        &key,
        Assertion {
            confirmations: expired,
            ..Assertion::default()
        },
    );
    assert!(
        matches!(result, Err(StsError::ExpiredToken(_))),
        "{result:?}"
    );
}

#[test]
fn every_audience_restriction_must_name_aws() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    // Before the fix, one restriction naming AWS was enough whatever the others said.
    let message = refusal(with(
        &store,
        &key,
        Assertion {
            more_conditions: "<saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction>",
            ..Assertion::default()
        },
    ));
    assert!(message.contains("every AudienceRestriction"), "{message}");
    // Inside one restriction, audiences are alternatives: one naming AWS is enough.
    let identity = with(
        &store,
        &key,
        Assertion {
            more_conditions: "<saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience><saml:Audience>urn:amazon:webservices</saml:Audience></saml:AudienceRestriction>",
            ..Assertion::default()
        },
    )
    .unwrap();
    assert_eq!(identity.subject, "alice@example.com");
}

#[test]
fn a_provider_outside_the_roles_account_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let elsewhere = "arn:aws:iam::210987654321:role/federated";
    let assertion = Assertion {
        role_pair: format!("{elsewhere},{}", provider_arn()),
        ..Assertion::default()
    };
    let err = store
        .read(|tx| {
            verify_saml(
                tx,
                elsewhere,
                &provider_arn(),
                &b64(&signed_xml(&key, &assertion)),
                now(),
            )
        })
        .unwrap_err();
    match err {
        StsError::Validation(message) => assert_eq!(
            message,
            "Principal exists outside the account of the Role being assumed."
        ),
        other => panic!("{other:?}"),
    }
    // A principal ARN that is not a SAML provider's.
    let err = store
        .read(|tx| {
            verify_saml(
                tx,
                &role_arn(),
                &role_arn(),
                &b64(&signed_xml(&key, &Assertion::default())),
                now(),
            )
        })
        .unwrap_err();
    assert!(
        matches!(&err, StsError::Validation(m) if m == "Principal ARN is invalid"),
        "{err:?}"
    );
}

#[test]
fn a_comment_or_cdata_inside_a_signed_value_does_not_change_who_it_names() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    // The IdP vouches for alice@example.com.evil.com; exclusive C14N drops comments, so the
    // signature still verifies once a comment splits the name.
    let signed = signed_xml(
        &key,
        &Assertion {
            subject: "alice@example.com.evil.com",
            ..Assertion::default()
        },
    );
    for injected in [
        "alice@example.com<!---->.evil.com",
        "alice@example.com<![CDATA[.evil.com]]>",
    ] {
        let tampered = signed.replacen("alice@example.com.evil.com", injected, 1);
        assert_ne!(tampered, signed);
        match verify(&store, &b64(&tampered)) {
            Ok(identity) => assert_eq!(identity.subject, "alice@example.com.evil.com"),
            Err(err) => assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}"),
        }
    }
}

#[test]
fn signature_wrapping_never_reads_the_unsigned_assertion() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let start = signed.find("<saml:Assertion").unwrap();
    let end = signed.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let original = &signed[start..end];
    let evil = original
        .replace("alice@example.com", "admin@example.com")
        .replace("<ds:Signature", "<ds:Unsigned")
        .replace("</ds:Signature>", "</ds:Unsigned>");
    let attacks = [
        // The evil copy takes the signed one's ID, the signed one moves beside it.
        format!("{}{}{}", &signed[..start], evil, &signed[start..]),
        // The signed one hides in an extension, the evil one takes its place.
        format!(
            "{}<samlp:Extensions>{original}</samlp:Extensions>{}{}",
            &signed[..start],
            evil.replace("_assertion1", "_evil"),
            &signed[end..]
        ),
        // The signed one wrapped inside the evil one.
        format!(
            "{}{}{}",
            &signed[..start],
            evil.replace("_assertion1", "_evil")
                .replace("</saml:Assertion>", &format!("{original}</saml:Assertion>")),
            &signed[end..]
        ),
    ];
    for attack in attacks {
        match verify(&store, &b64(&attack)) {
            Ok(identity) => assert_eq!(identity.subject, "alice@example.com"),
            Err(err) => assert!(matches!(err, StsError::InvalidIdentityToken(_)), "{err:?}"),
        }
    }
}
