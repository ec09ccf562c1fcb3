//! The canonical request, exactly as AWS defines it:
//!
//! ```text
//! METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n \n SignedHeaders \n HashedPayload
//! ```

use std::borrow::Cow;

use http::request::Parts;
use percent_encoding::percent_decode;

use crate::constants::{HOST, Q_SIGNATURE, SERVICE_S3};

/// Splits a raw query string into raw `(name, value)` components; a
/// component without `=` has an empty value.
pub(crate) fn query_components(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|c| !c.is_empty())
        .map(|c| c.split_once('=').unwrap_or((c, "")))
}

/// Decodes one query component: `+` is a space and `%XY` a byte, as in
/// form encoding. The canonical string is built from the decoded value, so
/// it signs exactly what the Query protocol decoder will hand to the
/// operation, whichever way the client chose to escape it.
pub(crate) fn decode_component(raw: &str) -> Cow<'_, [u8]> {
    if raw.contains('+') {
        let spaced = raw.replace('+', " ");
        Cow::Owned(percent_decode(spaced.as_bytes()).collect())
    } else {
        percent_decode(raw.as_bytes()).into()
    }
}

fn hex_upper(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + nibble - 10
    })
}

/// URI-encodes bytes the SigV4 way: RFC 3986 unreserved characters stay,
/// everything else becomes `%XY` (uppercase); `/` stays when `keep_slash`.
pub(crate) fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_upper(b >> 4));
            out.push(hex_upper(b & 0x0f));
        }
    }
}

/// RFC 3986 §5.2.4 dot-segment removal, with empty segments dropped as AWS
/// (and botocore, and aws-sigv4) do; the trailing slash is kept.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Appends the canonical URI. For every service but S3 the path is
/// normalized and then URI-encoded once more: the path on the wire is
/// already encoded, and AWS signs the encoding of that (`%20` → `%2520`).
/// S3 signs the path as sent.
pub(crate) fn canonical_uri(raw_path: &str, service: &str, out: &mut String) {
    if service == SERVICE_S3 {
        out.push_str(if raw_path.is_empty() { "/" } else { raw_path });
        return;
    }
    let normalized = normalize_path(raw_path);
    uri_encode(normalized.as_bytes(), true, out);
}

/// Whether a raw query component is already in canonical form, so that
/// decoding and re-encoding it would give it back unchanged: only RFC 3986
/// unreserved characters, and `%XY` escapes (uppercase hex) of bytes that are
/// not unreserved. Anything else (`+`, lowercase hex, an escaped unreserved
/// byte, a stray `%`) takes the decode-and-encode path.
fn is_canonical_component(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if is_unreserved(b) {
            i += 1;
            continue;
        }
        if b != b'%' {
            return false;
        }
        let (Some(hi), Some(lo)) = (
            bytes.get(i + 1).copied().and_then(upper_hex_value),
            bytes.get(i + 2).copied().and_then(upper_hex_value),
        ) else {
            return false;
        };
        if is_unreserved((hi << 4) | lo) {
            return false;
        }
        i += 3;
    }
    true
}

fn upper_hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// One query component, decoded then encoded the SigV4 way; borrowed when
/// the raw component is already canonical (the usual case: SDKs send it so).
fn canonical_component(raw: &str) -> Cow<'_, str> {
    if is_canonical_component(raw) {
        return Cow::Borrowed(raw);
    }
    let mut encoded = String::with_capacity(raw.len() + 8);
    uri_encode(&decode_component(raw), false, &mut encoded);
    Cow::Owned(encoded)
}

/// Appends the canonical query string: every parameter decoded then
/// encoded the SigV4 way, sorted by encoded name then encoded value.
/// `X-Amz-Signature` is left out of presigned requests (it cannot sign itself).
pub(crate) fn canonical_query(raw_query: Option<&str>, presigned: bool, out: &mut String) {
    let Some(query) = raw_query else { return };
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(16);
    for (raw_name, raw_value) in query_components(query) {
        let name = canonical_component(raw_name);
        // Encoding is one-to-one and leaves `X-Amz-Signature` as it is, so comparing the
        // encoded name is comparing the decoded one.
        if presigned && name == Q_SIGNATURE {
            continue;
        }
        pairs.push((name, canonical_component(raw_value)));
    }
    pairs.sort_unstable();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// Appends one header value: outer whitespace trimmed, inner runs of
/// spaces and tabs collapsed to one space.
fn push_trimmed(value: &[u8], out: &mut String) {
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if b == b' ' || b == b'\t' {
            pending_space = started;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        started = true;
        // Header bytes outside ASCII are rare (obs-text); they are signed as
        // the Latin-1 characters botocore would see, never dropped.
        out.push(char::from(b));
    }
}

/// Appends the canonical headers block (each `name:value\n`) for exactly
/// the headers the request lists as signed, in that order. A signed header
/// that is absent counts as empty, which fails verification unless the
/// client signed it empty too.
pub(crate) fn canonical_headers(parts: &Parts, signed_headers: &[String], out: &mut String) {
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut values = parts.headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none() && name == HOST {
            // HTTP/2 carries the host in :authority, which `http` keeps in the URI.
            if let Some(authority) = parts.uri.authority() {
                out.push_str(authority.as_str());
            }
        }
        let mut first = true;
        for value in values {
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed(value.as_bytes(), out);
        }
        out.push('\n');
    }
}

/// The canonical request up to and including the signed-headers line, into
/// `out`: only the payload hash is left to append, so a request that may
/// have been signed over either of two payload hashes builds this once.
pub(crate) fn canonical_request_head(
    parts: &Parts,
    service: &str,
    signed_headers: &[String],
    presigned: bool,
    out: &mut String,
) {
    out.push_str(parts.method.as_str());
    out.push('\n');
    canonical_uri(parts.uri.path(), service, out);
    out.push('\n');
    canonical_query(parts.uri.query(), presigned, out);
    out.push('\n');
    canonical_headers(parts, signed_headers, out);
    out.push('\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths_like_aws() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//a//b", "/a/b"),
            ("/a/./b/../c", "/a/c"),
            ("/../a", "/a"),
            ("/a/b/.", "/a/b/"),
            ("/a/..", "/"),
        ] {
            assert_eq!(normalize_path(input), expected, "{input}");
        }
    }

    #[test]
    fn double_encodes_non_s3_paths() {
        let mut out = String::new();
        canonical_uri("/a%20b/c~d", "sts", &mut out);
        assert_eq!(out, "/a%2520b/c~d");
        out.clear();
        canonical_uri("/a%20b/./c", "s3", &mut out);
        assert_eq!(out, "/a%20b/./c");
    }

    #[test]
    fn sorts_and_encodes_query() {
        let mut out = String::new();
        canonical_query(
            Some("b=2&a=z&a=y&c&X-Amz-Signature=abc&sp=a+b%2Fc"),
            true,
            &mut out,
        );
        assert_eq!(out, "a=y&a=z&b=2&c=&sp=a%20b%2Fc");
    }

    #[test]
    fn trims_header_values() {
        let mut out = String::new();
        push_trimmed(b"  a   b \t c  ", &mut out);
        assert_eq!(out, "a b c");
    }

    /// The former canonical query: every component decoded then encoded.
    fn reencoded_query(query: &str, presigned: bool) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (raw_name, raw_value) in query_components(query) {
            let name = decode_component(raw_name);
            if presigned && *name == *Q_SIGNATURE.as_bytes() {
                continue;
            }
            let mut encoded_name = String::new();
            uri_encode(&name, false, &mut encoded_name);
            let mut encoded_value = String::new();
            uri_encode(&decode_component(raw_value), false, &mut encoded_value);
            pairs.push((encoded_name, encoded_value));
        }
        pairs.sort_unstable();
        let joined: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        joined.join("&")
    }

    #[test]
    fn canonical_components_are_borrowed_only_when_reencoding_changes_nothing() {
        for (raw, canonical) in [
            ("abc-_.~XYZ09", true),
            ("a%2Fb", true),
            ("a%2fb", false),
            ("%41", false),
            ("a+b", false),
            ("a%20b", true),
            ("%", false),
            ("%2", false),
            ("%zz", false),
            ("a/b", false),
            ("%E2%82%AC", true),
            ("", true),
        ] {
            assert_eq!(is_canonical_component(raw), canonical, "{raw}");
            let mut reencoded = String::new();
            uri_encode(&decode_component(raw), false, &mut reencoded);
            assert_eq!(canonical_component(raw), reencoded, "{raw}");
        }
    }

    proptest::proptest! {
        #[test]
        fn canonical_query_equals_decoding_and_reencoding_everything(
            query in "([A-Za-z0-9%+=&~._/ -]|%[0-9A-Fa-f]{2}){0,64}",
            presigned: bool,
        ) {
            let mut out = String::new();
            canonical_query(Some(&query), presigned, &mut out);
            proptest::prop_assert_eq!(out, reencoded_query(&query, presigned));
        }
    }
}
