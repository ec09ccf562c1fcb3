//! AWS's error codes, statuses and messages for malformed or missing signatures.

#![expect(clippy::unwrap_used, reason = "test requests are well-formed")]

use rampart_sigv4::{ErrorFlavor, SigV4Error, parse};

fn parse_with(
    uri: &str,
    headers: &[(&str, &str)],
) -> Result<rampart_sigv4::SignedRequest, SigV4Error> {
    let mut b = http::Request::post(uri);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    parse(&parts)
}

const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn unsigned_request_is_missing_authentication_token() {
    let err = parse_with("http://sts.localhost/", &[]).unwrap_err();
    assert_eq!(err.to_string(), "Request is missing Authentication Token");
    assert_eq!(err.code(ErrorFlavor::Query), "MissingAuthenticationToken");
    assert_eq!(
        err.code(ErrorFlavor::Json),
        "MissingAuthenticationTokenException"
    );
    assert_eq!(err.http_status(ErrorFlavor::Query), 403);
    assert_eq!(err.http_status(ErrorFlavor::Json), 400);
}

#[test]
fn parses_a_good_header() {
    let s = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", GOOD),
            ("x-amz-date", "20261124T103000Z"),
            ("x-amz-security-token", "tok"),
        ],
    )
    .unwrap();
    assert_eq!(s.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(s.region(), "us-east-1");
    assert_eq!(s.service(), "sts");
    assert_eq!(s.scope_date(), "20261124");
    assert_eq!(s.signed_headers(), ["host", "x-amz-date"]);
    assert_eq!(s.security_token(), Some("tok"));
    assert_eq!(s.kind(), rampart_sigv4::AuthKind::Header);
}

#[test]
fn date_header_is_accepted_in_both_formats() {
    for date in ["Tue, 24 Nov 2026 10:30:00 GMT", "20261124T103000Z"] {
        let s = parse_with(
            "http://sts.localhost/",
            &[("authorization", GOOD), ("date", date)],
        )
        .unwrap();
        assert_eq!(s.amz_date(), "20261124T103000Z");
    }
}

#[test]
fn non_aws_authorization_lists_every_missing_part() {
    let err = parse_with(
        "http://sts.localhost/",
        &[("authorization", "Basic dXNlcjpwYXNz")],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either \
         a 'X-Amz-Date' or a 'Date' header. Authorization=Basic dXNlcjpwYXNz"
    );
    assert_eq!(err.code(ErrorFlavor::Query), "IncompleteSignature");
    assert_eq!(err.code(ErrorFlavor::Json), "IncompleteSignatureException");
    assert_eq!(err.http_status(ErrorFlavor::Query), 400);
}

#[test]
fn missing_signature_parameters_are_listed() {
    let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sts/aws4_request";
    let err = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", header),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={header}"
        )
    );
}

#[test]
fn a_space_inside_the_credential_is_a_missing_equal_sign() {
    let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20261124/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00";
    let err = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", header),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "'/20261124/us-east-1/sts/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
        )
    );
}

fn with_credential(credential: &str) -> SigV4Error {
    let header = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, Signature=00"
    );
    parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", &header),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err()
}

#[test]
fn credential_scope_errors() {
    let err = with_credential("AKIDEXAMPLE/20261124/us-east-1/sts");
    assert_eq!(
        err.to_string(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20261124/us-east-1/sts'"
    );
    assert_eq!(err.code(ErrorFlavor::Query), "IncompleteSignature");

    let err = with_credential("AKIDEXAMPLE/20261124/us-east-1/sts/aws4_requestx");
    assert_eq!(
        err.to_string(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requestx'. "
    );
    assert_eq!(err.code(ErrorFlavor::Query), "SignatureDoesNotMatch");
    assert_eq!(err.http_status(ErrorFlavor::Query), 403);

    let err = with_credential("AKIDEXAMPLE/20261123/us-east-1/sts/aws4_request");
    assert_eq!(
        err.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261123' != '20261124', from '20261124T103000Z'."
    );
    assert_eq!(err.code(ErrorFlavor::Json), "InvalidSignatureException");

    let err = with_credential("AKIDEXAMPLE/20261124/US_EAST/sts/aws4_request");
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to a valid region, not 'US_EAST'. "
    );

    assert_eq!(
        SigV4Error::wrong_service("sts").to_string(),
        "Credential should be scoped to correct service: 'sts'. "
    );
}

#[test]
fn host_must_be_signed() {
    let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date, Signature=00";
    let err = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", header),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn malformed_date_is_incomplete() {
    let err = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", GOOD),
            ("x-amz-date", "2026-11-24T10:30:00Z"),
        ],
    )
    .unwrap_err();
    assert_eq!(err.code(ErrorFlavor::Query), "IncompleteSignature");
    assert!(
        err.to_string()
            .starts_with("Date must be in ISO-8601 'basic format'. Got '2026-11-24T10:30:00Z'."),
        "{err}"
    );
}

#[test]
fn presigned_missing_parameters_are_listed() {
    let err = parse_with(
        "http://sts.localhost/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261124T103000Z",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. \
         AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
}

#[test]
fn presigned_expires_bounds() {
    let base = "http://sts.localhost/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261124T103000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
    for (expires, ok) in [
        ("1", true),
        ("604800", true),
        ("604801", false),
        ("0", false),
        ("-5", false),
        ("soon", false),
    ] {
        let r = parse_with(&format!("{base}&X-Amz-Expires={expires}"), &[]);
        assert_eq!(r.is_ok(), ok, "{expires}: {r:?}");
    }
    assert_eq!(
        parse_with(&format!("{base}&X-Amz-Expires=604801"), &[])
            .unwrap_err()
            .to_string(),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
    let s = parse_with(
        &format!("{base}&X-Amz-Expires=60&X-Amz-Security-Token=a%2Bb"),
        &[],
    )
    .unwrap();
    assert_eq!(s.expires_secs(), Some(60));
    assert_eq!(s.security_token(), Some("a+b"));
}

#[test]
fn every_error_has_both_codes_and_a_status() {
    let all = [
        SigV4Error::MissingAuthenticationToken,
        SigV4Error::IncompleteSignature {
            message: "m".into(),
        },
        SigV4Error::InvalidClientTokenId,
        SigV4Error::SignatureDoesNotMatch,
        SigV4Error::wrong_region("x"),
        SigV4Error::SignatureExpired {
            signed: "a".into(),
            earliest: "b".into(),
            now: "c".into(),
        },
        SigV4Error::SignatureNotYetCurrent {
            signed: "a".into(),
            latest: "b".into(),
            now: "c".into(),
        },
        SigV4Error::RequestExpired,
    ];
    let table: Vec<String> = all
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.code(ErrorFlavor::Query),
                e.http_status(ErrorFlavor::Query),
                e.code(ErrorFlavor::Json),
                e.http_status(ErrorFlavor::Json)
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            "MissingAuthenticationToken 403 MissingAuthenticationTokenException 400",
            "IncompleteSignature 400 IncompleteSignatureException 400",
            "InvalidClientTokenId 403 UnrecognizedClientException 400",
            "SignatureDoesNotMatch 403 InvalidSignatureException 400",
            "SignatureDoesNotMatch 403 InvalidSignatureException 400",
            "SignatureDoesNotMatch 403 InvalidSignatureException 400",
            "SignatureDoesNotMatch 403 InvalidSignatureException 400",
            "RequestExpired 400 RequestExpired 400",
        ]
    );
    assert_eq!(
        SigV4Error::InvalidClientTokenId.to_string(),
        "The security token included in the request is invalid."
    );
    assert_eq!(
        SigV4Error::SignatureDoesNotMatch.to_string(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn debug_output_hides_the_session_token() {
    let s = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", GOOD),
            ("x-amz-date", "20261124T103000Z"),
            ("x-amz-security-token", "SECRET-SESSION-TOKEN"),
        ],
    )
    .unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("SECRET-SESSION-TOKEN"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

/// Finding 8: a malformed Authorization header was echoed whole (twice) into the answer and
/// the audit event. The wording stays AWS's; each echoed value is cut to 256 bytes and `...`.
#[test]
fn echoed_values_are_cut_to_a_short_prefix() {
    let junk = "x".repeat(200_000);
    let header = format!("AWS4-HMAC-SHA256 {junk}");
    let err = parse_with(
        "http://sts.localhost/",
        &[
            ("authorization", &header),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.len() < 700, "{} bytes", message.len());
    assert!(
        message.starts_with(&format!(
            "'{}...' not a valid key=value pair",
            "x".repeat(256)
        )),
        "{message}"
    );
    assert!(message.ends_with("...'."), "{message}");

    let missing = parse_with(
        "http://sts.localhost/",
        &[("authorization", &format!("Bearer {junk}"))],
    )
    .unwrap_err()
    .to_string();
    assert!(missing.len() < 700, "{} bytes", missing.len());
    assert!(missing.contains("Authorization=Bearer xxx"), "{missing}");
    assert!(missing.ends_with("..."), "{missing}");

    let date = parse_with(
        "http://sts.localhost/",
        &[("authorization", GOOD), ("x-amz-date", &junk)],
    )
    .unwrap_err()
    .to_string();
    assert!(date.len() < 500, "{} bytes", date.len());

    let region = "a".repeat(100_000);
    let scoped = parse_with(
        "http://sts.localhost/",
        &[
            (
                "authorization",
                &GOOD.replace("us-east-1", &format!("{region}_")),
            ),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(scoped.len() < 500, "{} bytes", scoped.len());
    assert!(scoped.starts_with("Credential should be scoped to a valid region, not 'aaa"));
}

/// A short value is still echoed whole, as AWS does.
#[test]
fn short_values_are_echoed_whole() {
    let err = parse_with(
        "http://sts.localhost/",
        &[("authorization", GOOD), ("x-amz-date", "201")],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

/// Finding 10: a header that selects the operation must be signed when present.
#[test]
fn a_present_header_must_be_signed() {
    let signed = parse_with(
        "http://kms.localhost/",
        &[
            ("authorization", GOOD),
            ("x-amz-date", "20261124T103000Z"),
            ("x-amz-target", "TrentService.CreateKey"),
        ],
    )
    .unwrap();
    let (parts, ()) = http::Request::post("http://kms.localhost/")
        .header("x-amz-target", "TrentService.CreateKey")
        .body(())
        .unwrap()
        .into_parts();
    let err = signed
        .require_signed(&parts, "x-amz-target", "X-Amz-Target")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(err.code(ErrorFlavor::Json), "InvalidSignatureException");
    assert_eq!(err.http_status(ErrorFlavor::Json), 400);
    assert_eq!(err.code(ErrorFlavor::Query), "SignatureDoesNotMatch");
    assert_eq!(err.http_status(ErrorFlavor::Query), 403);
    // Absent, or signed: nothing to refuse.
    assert!(
        signed
            .require_signed(&parts, "content-type", "Content-Type")
            .is_ok()
    );
    let with_target = GOOD.replace("host;x-amz-date", "host;x-amz-date;x-amz-target");
    let covered = parse_with(
        "http://kms.localhost/",
        &[
            ("authorization", &with_target),
            ("x-amz-date", "20261124T103000Z"),
        ],
    )
    .unwrap();
    assert!(
        covered
            .require_signed(&parts, "x-amz-target", "X-Amz-Target")
            .is_ok()
    );
}
