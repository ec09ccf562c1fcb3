//! What never reaches xmlsec (security finding 13): each test takes a response an IdP signed,
//! changes it as an attacker would, and checks that the screen refuses it with its own reason
//! (so the refusal did not come from xmlsec, after it had followed the reference). Beside
//! each, the legitimate form still signs in.

use super::*;

fn screened(store: &ProviderStore, xml: &str) -> String {
    let message = refusal(verify(store, &b64(xml)));
    assert!(
        message.starts_with("Invalid SAML response: "),
        "not refused by the screen: {message}"
    );
    message
}

const REFERENCE: &str = r##"URI="#_assertion1""##;

#[test]
fn references_outside_the_document_never_reach_xmlsec() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    assert!(signed.contains(REFERENCE));
    for uri in [
        // The crash: xmlsec reads it until the process dies.
        "file:///dev/zero",
        "file:///etc/passwd",
        // Blind SSRF.
        "http://127.0.0.1:9/metadata",
        "https://idp.example.com/assertion.xml",
        // Relative: a file beside the working directory.
        "assertion.xml",
        "/etc/passwd",
        // XPointer expressions other than a bare #id.
        "#xpointer(/)",
        "#xpointer(id('_assertion1'))",
        "#element(/1/4)",
        // An ID no element has.
        "#_nowhere",
        "#",
    ] {
        let attack = signed.replacen(REFERENCE, &format!(r#"URI="{uri}""#), 1);
        let message = screened(&store, &attack);
        assert!(message.contains("Reference"), "{uri}: {message}");
    }
    // No URI at all leaves xmlsec to guess: refused too.
    let message = screened(&store, &signed.replacen(REFERENCE, "", 1));
    assert!(message.contains("Reference"), "{message}");
    // A namespaced URI beside the plain one: libxml2's namespace-blind lookup could read it.
    let both = signed.replacen(
        REFERENCE,
        &format!(r#"xmlns:x="urn:x" x:URI="file:///etc/passwd" {REFERENCE}"#),
        1,
    );
    screened(&store, &both);
    // The legitimate reference, by the assertion's ID, signs in.
    assert!(verify(&store, &b64(&signed)).is_ok());
}

#[test]
fn the_whole_document_reference_passes_the_screen() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    // URI="" is this document; the signature no longer matches, and xmlsec says so.
    let message = refusal(verify(
        &store,
        &b64(&signed.replacen(REFERENCE, r#"URI="""#, 1)),
    ));
    assert!(message.contains("signature"), "{message}");
}

#[test]
fn an_id_held_twice_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let twice = signed.replacen(
        r#"<samlp:Status>"#,
        r#"<samlp:Extensions xml:id="_assertion1"/><samlp:Status>"#,
        1,
    );
    let message = screened(&store, &twice);
    assert!(message.contains("exactly one element"), "{message}");
}

#[test]
fn a_doctype_is_refused_whatever_it_declares() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let body = signed
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap();
    for doctype in [
        // Billion laughs.
        r#"<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>"#,
        // XXE.
        r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#,
        // An external DTD.
        r#"<!DOCTYPE r SYSTEM "http://127.0.0.1:9/saml.dtd">"#,
        // Even an empty one.
        r#"<!DOCTYPE samlp:Response>"#,
    ] {
        let message = screened(&store, &format!("{doctype}{body}"));
        assert!(message.contains("DOCTYPE"), "{doctype}: {message}");
    }
}

#[test]
fn xinclude_and_other_external_references_are_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let include = signed.replacen(
        "<samlp:Status>",
        r#"<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/><samlp:Status>"#,
        1,
    );
    assert!(screened(&store, &include).contains("XInclude"));
    let retrieval = signed.replacen(
        "</ds:SignatureValue>",
        r#"</ds:SignatureValue><ds:KeyInfo><ds:RetrievalMethod URI="http://127.0.0.1:9/key"/></ds:KeyInfo>"#,
        1,
    );
    assert!(screened(&store, &retrieval).contains("URI"));
    let manifest = signed.replacen(
        "</ds:Signature>",
        r##"<ds:Object><ds:Manifest><ds:Reference URI="#_assertion1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:Manifest></ds:Object></ds:Signature>"##,
        1,
    );
    screened(&store, &manifest);
}

#[test]
fn only_canonicalization_and_enveloped_transforms_are_allowed() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let enveloped =
        r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#;
    for transform in [
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/></ds:Transform>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>document('file:///etc/passwd')</ds:XPath></ds:Transform>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"/>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/>"#,
        r#"<ds:Transform xmlns:x="urn:x" x:Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116" Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
    ] {
        let attack = signed.replacen(enveloped, &format!("{enveloped}{transform}"), 1);
        assert_ne!(attack, signed);
        let message = screened(&store, &attack);
        assert!(message.contains("transform"), "{transform}: {message}");
    }
    let c14n = signed.replacen(
        r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>"#,
        1,
    );
    assert_ne!(c14n, signed);
    assert!(screened(&store, &c14n).contains("canonicalization"));
}

#[test]
fn an_oversized_or_deeply_nested_response_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    // AWS's own limit, with its model-validation message.
    let oversized = "PHg+".repeat(25_001);
    assert_eq!(oversized.len(), 100_004);
    match verify(&store, &oversized) {
        Err(StsError::Validation(message)) => assert!(
            message.contains("Member must have length less than or equal to 100000"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    // At the limit, a response is read (and refused here only for not being XML).
    let at_limit = "PHg+".repeat(25_000);
    assert!(matches!(
        verify(&store, &at_limit),
        Err(StsError::InvalidIdentityToken(_))
    ));
    let deep = format!("{}{}", "<x>".repeat(70), "</x>".repeat(70));
    let nested = signed_xml(
        &key,
        &Assertion {
            extra: format!("<samlp:Extensions>{deep}</samlp:Extensions>"),
            ..Assertion::default()
        },
    );
    assert!(screened(&store, &nested).contains("nest"));
    let shallow = format!("{}{}", "<x>".repeat(20), "</x>".repeat(20));
    let fine = signed_xml(
        &key,
        &Assertion {
            extra: format!("<samlp:Extensions>{shallow}</samlp:Extensions>"),
            ..Assertion::default()
        },
    );
    assert!(verify(&store, &b64(&fine)).is_ok());
}

#[test]
fn a_declared_encoding_other_than_utf8_is_refused() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    let declared = r#"encoding="UTF-8""#;
    assert!(signed.contains(declared));
    for encoding in [
        r#"encoding="ISO-8859-1""#,
        r#"encoding="UTF-7""#,
        r#"encoding="IBM037""#,
    ] {
        let message = screened(&store, &signed.replacen(declared, encoding, 1));
        assert!(message.contains("UTF-8"), "{encoding}: {message}");
    }
    assert!(
        verify(
            &store,
            &b64(&signed.replacen(declared, r#"encoding='utf-8'"#, 1))
        )
        .is_ok()
    );
}

#[test]
fn malformed_xml_is_refused_before_xmlsec_recovers_it() {
    let key = IdpKey::generate();
    let store = store_with_provider(&key);
    let signed = signed_xml(&key, &Assertion::default());
    // libxml2 parses in recovery mode; the screen does not.
    let unclosed = signed.replacen("</samlp:Response>", "", 1);
    assert!(screened(&store, &unclosed).contains("well-formed"));
}
