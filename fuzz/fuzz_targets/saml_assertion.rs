//! Fuzzes AssumeRoleWithSAML's assertion check: the one input an unauthenticated caller
//! controls that reaches libxmlsec1. The first byte picks how the rest is used: even, as the
//! whole response; odd, split at 0xFF bytes into a signature's Reference URI, extra
//! transforms and key info, spliced into a response whose assertion has a signature
//! template, so the fuzzer reaches the reference and transform rules at once. Every input
//! must be answered with an identity or a typed error: no panic, no crash, no hang, and no
//! memory blow-up (a reference that reached xmlsec and read `/dev/zero` would hit the
//! RSS limit scripts/fuzz sets).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_iam::saml_providers::SamlProviderRecord;
use rampart_sts::saml::verify_assertion;
use time::macros::datetime;

const ROLE: &str = "arn:aws:iam::123456789012:role/federated";
const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/Fuzz";

/// A self-signed certificate (its key was thrown away): verification reaches xmlsec with
/// a real key, and no input can carry a valid signature for it.
const CERTIFICATE: &str = "MIIDHzCCAgegAwIBAgIUEWxXDpD2LJRjvvWer7P47OqYHeswDQYJKoZIhvcNAQELBQAwHzEdMBsGA1UEAwwUZnV6ei1pZHAuZXhhbXBsZS5jb20wHhcNMjYxMjA3MDMxNzUwWhcNMzYxMjA0MDMxNzUwWjAfMR0wGwYDVQQDDBRmdXp6LWlkcC5leGFtcGxlLmNvbTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAMoXBdBmUdvFTQL43G8BohOpjTjZfXkjqUWqDhtDBqYRPlbYH3YOKMHmv6KDSu0yVSaUD95m4NUMIoNMa3MMbVFA4PYw5H5waCuKhfxYvVmm+NLTVDufzdc1V7plQIkaswF0cdndw5VwtdOOtdQBJA1Rq3qRSD+pRaEyu5p1UC/rFu0F5UigBG7dCDGMlba/pvptXV/evAiLuZHco0f9srN/lRuxAWODSfJc28RLAE4r+sIYDthrF11PghOY2Lh83Jq2brwDNAUgjhSVQjX89lfGjOu/gGW7ubCWI8LMYCl3EbAfA3UBJiNNrTdOz+iMo8MIKza/lEwebr9s3syfGaUCAwEAAaNTMFEwHQYDVR0OBBYEFJmgDEexvmh5fhqXpr/y6ZiIGtHhMB8GA1UdIwQYMBaAFJmgDEexvmh5fhqXpr/y6ZiIGtHhMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBAIfLP9sBOR5KDc/JEaOUbCxYgYKgvYems4JunG0t3ppmzADPk6SBBGXtQ5G/Gb6gQxU+qxyzOJpbiVbiotvudr/lWshCrYjP+3Qvq6MCrz157Z/lebSmujmiUptTiO8aaTRNQvqAuaV9SoVrGAY5Oghj4qicvEgp0C947IfSAF5kl+zoQksN1hvuTvd7NU2a7V0x3qa4uxYANXI0vOwHqIrhzcFA1uEzWxGmJDUYH6svFb+KuW2qitJ7XKNekiw19sGo9d7KhQmkwutan2j58sl8k8cTh5X0/n31sRAk6Kl4cOYoWOQ+tIx5fEKDMjnTrlQuI70R28RIDYq6AeFxZLo=";

fn provider() -> SamlProviderRecord {
    SamlProviderRecord {
        account_id: "123456789012".into(),
        name: "Fuzz".into(),
        arn: PROVIDER.into(),
        metadata_document: String::new(),
        entity_id: Some("https://idp.example.com/saml".into()),
        signing_certificates: vec![CERTIFICATE.into()],
        uuid: "FUZZPROVIDERUUID".into(),
        create_date: "2026-01-01T00:00:00Z".into(),
        valid_until: None,
        tags: Vec::new(),
    }
}

fn spliced(parts: &[u8]) -> String {
    let mut pieces = parts.split(|&b| b == 0xFF).map(String::from_utf8_lossy);
    let uri = pieces.next().unwrap_or_default();
    let transforms = pieces.next().unwrap_or_default();
    let key_info = pieces.next().unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_response" Version="2.0" IssueInstant="2026-11-24T11:59:00Z">
<saml:Issuer>https://idp.example.com/saml</saml:Issuer>
<saml:Assertion ID="_assertion" Version="2.0" IssueInstant="2026-11-24T11:59:00Z">
<saml:Issuer>https://idp.example.com/saml</saml:Issuer>
<ds:Signature><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI="{uri}"><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>{transforms}
</ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<ds:DigestValue>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ds:DigestValue>
</ds:Reference></ds:SignedInfo>
<ds:SignatureValue>AAAA</ds:SignatureValue>{key_info}</ds:Signature>
<saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject>
</saml:Assertion>
</samlp:Response>"#
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let xml = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        spliced(rest)
    };
    let assertion = data_encoding::BASE64.encode(xml.as_bytes());
    let _ = verify_assertion(
        &provider(),
        ROLE,
        PROVIDER,
        &assertion,
        datetime!(2026-11-24 12:00:00 UTC),
    );
});
