//! Screening a SAML response before libxmlsec1 sees it.
//!
//! `AssumeRoleWithSAML` is unsigned: whoever knows a provider's ARN can post any XML, and it
//! reaches the signature check before anything else. xmlsec, as samael drives it, resolves
//! every `Reference URI` (and would follow a `RetrievalMethod` or an XSLT transform) with its
//! default settings *before* the signature value is checked: a reference to `file:///dev/zero`
//! grows the process until it dies, one to `http://…` is fetched (blind SSRF), and `file://`
//! references are read. libxmlsec1 can restrict this (`xmlSecDSigCtx.enabledReferenceUris`),
//! but samael exposes no way to set it. So no document reaches xmlsec unless a strict parser
//! (roxmltree: no DTD, no recovery from malformed XML) has read all of it and found only what
//! an IdP's enveloped signature needs:
//!
//! - at most [`MAX_ASSERTION_CHARS`] of base64 (AWS's own limit for `SAMLAssertion`), a
//!   nesting depth of at most [`MAX_DEPTH`], UTF-8 (a declared encoding is UTF-8: libxml2
//!   would honour another one and read different markup than was screened here);
//! - no DOCTYPE (entities: billion laughs, XXE) and no XInclude element;
//! - every `ds:Reference` a child of a `ds:SignedInfo` (no `ds:Manifest`), with a `URI` that is
//!   `""` (this document) or `#<id>` naming exactly one element's `ID` attribute: never a
//!   scheme, a relative path, or an XPointer expression;
//! - no other `URI` attribute anywhere (`ds:RetrievalMethod`, `xenc:CipherReference`, …);
//! - transforms and canonicalization methods only from the C14N family and the enveloped
//!   signature transform (no XPath, XPointer, XSLT or base64 transform).
//!
//! Signature and digest algorithms are restricted by samael itself, before xmlsec runs.

use std::collections::HashMap;

use roxmltree::{Document, Node, ParsingOptions};

use crate::StsError;

/// AWS's limit on `SAMLAssertion` (the API model's `SAMLAssertionType` max length).
pub const MAX_ASSERTION_CHARS: usize = 100_000;

/// How deeply elements may nest. IdPs' responses nest about eight deep; libxml2 and samael
/// walk the tree recursively, so this also bounds their stacks.
pub const MAX_DEPTH: usize = 64;

const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XINCLUDE_NS: [&str; 2] = [
    "http://www.w3.org/2001/XInclude",
    "http://www.w3.org/2003/XInclude",
];

/// Canonicalization algorithms: the only ones a `CanonicalizationMethod` may name.
const C14N_ALGORITHMS: [&str; 6] = [
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments",
];

/// The enveloped signature transform; with the C14N family, the only transforms allowed.
const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

fn invalid(message: &str) -> StsError {
    StsError::InvalidIdentityToken(format!("Invalid SAML response: {message}"))
}

/// Refuses an assertion longer than AWS accepts, with the message AWS's model validation
/// gives (the server's input validation answers it first; this keeps the bound for every
/// other caller of the verifier).
pub fn check_length(assertion_b64: &str) -> Result<(), StsError> {
    if assertion_b64.chars().count() > MAX_ASSERTION_CHARS {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy \
             constraint: Member must have length less than or equal to {MAX_ASSERTION_CHARS}"
        )));
    }
    Ok(())
}

/// Refuses `xml` unless it is safe to hand to xmlsec (see the module documentation).
pub fn screen(xml: &str) -> Result<(), StsError> {
    check_encoding(xml)?;
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => invalid("a DOCTYPE is not allowed."),
        _ => invalid("it is not well-formed XML."),
    })?;
    let ids = id_holders(&doc);
    for node in doc.descendants().filter(Node::is_element) {
        // `ancestors` counts the element itself and the document's root node.
        if node.ancestors().take(MAX_DEPTH + 2).count() > MAX_DEPTH + 1 {
            return Err(invalid(&format!(
                "its elements nest more than {MAX_DEPTH} deep."
            )));
        }
        check_element(&ids, node)?;
    }
    Ok(())
}

/// A declared encoding must be UTF-8: the text was decoded as UTF-8 and screened as such.
fn check_encoding(xml: &str) -> Result<(), StsError> {
    let text = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let Some(declaration) = text
        .strip_prefix("<?xml")
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_whitespace()))
        .and_then(|rest| rest.split_once("?>"))
        .map(|(declaration, _)| declaration)
    else {
        return Ok(());
    };
    let Some((_, after)) = declaration.split_once("encoding") else {
        return Ok(());
    };
    let value = after
        .trim_start()
        .strip_prefix('=')
        .map(str::trim_start)
        .and_then(|v| {
            let quote = v.chars().next().filter(|q| *q == '"' || *q == '\'')?;
            v.get(1..)?.split(quote).next()
        });
    match value {
        Some(encoding) if encoding.eq_ignore_ascii_case("UTF-8") => Ok(()),
        _ => Err(invalid("its declared encoding must be UTF-8.")),
    }
}

/// How many attributes hold each ID value. libxml2 resolves `#id` through its ID table:
/// `xml:id` attributes, and those samael registers, found by libxml2's namespace-blind lookup
/// of `ID`.
fn id_holders<'a>(doc: &'a Document<'_>) -> HashMap<&'a str, usize> {
    let mut holders: HashMap<&str, usize> = HashMap::new();
    for attribute in doc.descendants().flat_map(|n| n.attributes()) {
        if attribute.name() == "ID"
            || (attribute.name() == "id" && attribute.namespace() == Some(XML_NS))
        {
            *holders.entry(attribute.value()).or_default() += 1;
        }
    }
    holders
}

fn check_element(ids: &HashMap<&str, usize>, node: Node<'_, '_>) -> Result<(), StsError> {
    let namespace = node.tag_name().namespace();
    if namespace.is_some_and(|ns| XINCLUDE_NS.contains(&ns)) {
        return Err(invalid("XInclude is not allowed."));
    }
    let in_dsig = namespace == Some(DSIG_NS);
    let name = node.tag_name().name();
    if in_dsig && name == "Reference" {
        return check_reference(ids, node);
    }
    if node.attributes().any(|a| a.name() == "URI") {
        return Err(invalid(
            "only a ds:Reference may carry a URI (no RetrievalMethod or other external reference).",
        ));
    }
    if !in_dsig {
        return Ok(());
    }
    match name {
        "Transform" => {
            let algorithm = sole_attribute(node, "Algorithm").unwrap_or_default();
            if algorithm != ENVELOPED_SIGNATURE && !C14N_ALGORITHMS.contains(&algorithm) {
                return Err(invalid(
                    "a signature transform must be the enveloped signature or a canonicalization.",
                ));
            }
        }
        "CanonicalizationMethod" => {
            let algorithm = sole_attribute(node, "Algorithm").unwrap_or_default();
            if !C14N_ALGORITHMS.contains(&algorithm) {
                return Err(invalid(
                    "its signature's canonicalization method is not supported.",
                ));
            }
        }
        "Manifest" | "RetrievalMethod" => {
            return Err(invalid(&format!("a ds:{name} is not allowed.")));
        }
        _ => {}
    }
    Ok(())
}

/// A reference is to this document (`""`) or to exactly one of its elements by `ID`
/// (`#<NCName>`), and sits in a `SignedInfo`.
fn check_reference(ids: &HashMap<&str, usize>, reference: Node<'_, '_>) -> Result<(), StsError> {
    let in_signed_info = reference
        .parent_element()
        .is_some_and(|p| p.has_tag_name((DSIG_NS, "SignedInfo")));
    if !in_signed_info {
        return Err(invalid("a ds:Reference must be in a ds:SignedInfo."));
    }
    let outside = || {
        invalid(
            "a signature Reference URI must be empty or #id of an element of the response; \
             external, relative and XPointer references are not allowed.",
        )
    };
    let uri = sole_attribute(reference, "URI").ok_or_else(outside)?;
    if uri.is_empty() {
        return Ok(());
    }
    let id = uri
        .strip_prefix('#')
        .filter(|id| is_ncname(id))
        .ok_or_else(outside)?;
    if ids.get(id) != Some(&1) {
        return Err(invalid(
            "a signature Reference must name exactly one element of the response by its ID.",
        ));
    }
    Ok(())
}

/// The value of `node`'s attribute `name` when it has exactly one attribute of that local
/// name, in no namespace. libxml2's `xmlGetProp`, which xmlsec reads `URI` and `Algorithm`
/// with, ignores namespaces: `x:URI` beside `URI` could be the one it reads.
fn sole_attribute<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    let mut found = node.attributes().filter(|a| a.name() == name);
    match (found.next(), found.next()) {
        (Some(only), None) if only.namespace().is_none() => Some(only.value()),
        _ => None,
    }
}

/// An XML NCName, as `#id` fragments must be; anything else (`xpointer(…)`, `element(…)`) is
/// an XPointer expression or garbage.
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c == '-' || c == '.' || c.is_alphanumeric())
}
