//! Table tests from AWS's filter-pattern documentation ("Filter pattern syntax for metric
//! filters, subscription filters, filter log events, and Live Tail") and the CIS AWS
//! Foundations Benchmark's monitoring patterns.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use super::*;

/// AWS's example JSON event for its JSON pattern examples.
const JSON_EVENT: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "cond": true,
  "bytes": 1500,
  "latency": 0.5,
  "user": {"id": 1, "email": "John.Doe@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1], [2, 3]]
}"#;

/// Whether `pattern` matches `message`, by both ways of matching (which must agree).
fn matches(pattern: &str, message: &str) -> bool {
    let parsed =
        FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("`{pattern}` does not parse: {e}"));
    let found = parsed.matches(message);
    let json: Option<serde_json::Value> = serde_json::from_str(message).ok();
    assert_eq!(
        parsed.matches_parsed(message, json.as_ref()),
        found,
        "`{pattern}` on `{message}`"
    );
    found.is_some()
}

#[test]
fn text_terms() {
    let cases: &[(&str, &str, bool)] = &[
        ("", "anything at all", true),
        ("\"\"", "anything", true),
        ("ERROR", "[ERROR] 400 BAD REQUEST", true),
        ("ERROR", "[error] lower case", false),
        ("ERROR ARGUMENTS", "[ERROR] Missing ARGUMENTS", true),
        ("ERROR ARGUMENTS", "[ERROR] 400 BAD REQUEST", false),
        (
            "\"INTERNAL SERVER ERROR\"",
            "[ERROR] 500 INTERNAL SERVER ERROR",
            true,
        ),
        (
            "\"INTERNAL SERVER ERROR\"",
            "[ERROR] INTERNAL ERROR SERVER",
            false,
        ),
        (
            "ERROR -Exiting",
            "[ERROR] Caught IllegalArgumentException",
            true,
        ),
        ("ERROR -Exiting", "[ERROR] Exiting due to errors", false),
        ("?ERROR ?WARN", "[WARN] low disk", true),
        ("?ERROR ?WARN", "[ERROR] failed", true),
        ("?ERROR ?WARN", "[INFO] all well", false),
        (
            "-\"Unexpected error\" ERROR",
            "[ERROR] Unexpected error",
            false,
        ),
    ];
    for (pattern, message, expected) in cases {
        assert_eq!(
            matches(pattern, message),
            *expected,
            "`{pattern}` on `{message}`"
        );
    }
}

#[test]
fn json_patterns() {
    let cases: &[(&str, bool)] = &[
        (r#"{ $.eventType = "UpdateTrail" }"#, true),
        (r#"{ $.eventType = UpdateTrail }"#, true),
        (r#"{ $.eventType != "UpdateTrail" }"#, false),
        ("{ $.sourceIPAddress != 123.123.* }", true),
        ("{ $.sourceIPAddress = 111.111.* }", true),
        (r#"{ $.eventType = "Update*" }"#, true),
        (r#"{ $.eventType = "*Trail" }"#, true),
        (r#"{ $.eventType = "*Key" }"#, false),
        (r#"{ $.arrayKey[0] = "value" }"#, true),
        (r#"{ $.arrayKey[1] = "value" }"#, false),
        ("{ $.objectList[1].id = 2 }", true),
        ("{ $.objectList[1].id = 1 }", false),
        ("{ $.SomeObject IS NULL }", true),
        ("{ $.eventType IS NULL }", false),
        ("{ $.SomeOtherObject NOT EXISTS }", true),
        ("{ $.SomeObject NOT EXISTS }", false),
        ("{ $.cond IS TRUE }", true),
        ("{ $.cond IS FALSE }", false),
        ("{ $.bytes > 1000 }", true),
        ("{ $.bytes >= 1500 }", true),
        ("{ $.bytes < 1500 }", false),
        ("{ $.bytes <= 1500 }", true),
        ("{ $.bytes != 1500 }", false),
        ("{ $.latency < 1 }", true),
        ("{ $.missing > 0 }", false),
        ("{ $.missing != 0 }", false),
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[0] = "GET" }"#,
            true,
        ),
        (
            r#"{ $.user.email = "John.Doe@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            true,
        ),
        ("{ $.coordinates[1][0] = 2 }", true),
        (
            r#"{ (($.user.id = 1)) && (($.actions[1] = "PUT") || ($.bytes < 10)) }"#,
            true,
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern, JSON_EVENT), *expected, "`{pattern}`");
    }
    // A JSON pattern never matches a message that is not JSON.
    assert!(!matches(
        r#"{ $.eventType = "UpdateTrail" }"#,
        "eventType UpdateTrail"
    ));
}

/// AWS's space-delimited example: a web server's access log line.
const ACCESS_LOG: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;

#[test]
fn space_delimited_patterns() {
    let cases: &[(&str, bool)] = &[
        (
            "[ip, user, username, timestamp, request, status_code, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 404, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 5*, bytes]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code != 200, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request = \"*gif*\", status_code, bytes > 1000]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code, bytes < 1000]",
            false,
        ),
        ("[ip, user, ..., status_code = 404, bytes]", true),
        ("[..., status_code = 404, bytes]", true),
        ("[ip = 127.0.0.1, ...]", true),
        ("[ip = 10.*, ...]", false),
        (
            "[ip, user, ..., status_code = 4* || status_code = 5*, bytes]",
            true,
        ),
        (
            "[ip, user, ..., status_code >= 400 && status_code < 500, bytes]",
            true,
        ),
        (
            "[ip, user, ..., status_code >= 400 && status_code < 404, bytes]",
            false,
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern, ACCESS_LOG), *expected, "`{pattern}`");
    }
    let found = FilterPattern::parse("[ip, user, username, timestamp, request, status, bytes]")
        .unwrap()
        .matches(ACCESS_LOG)
        .unwrap();
    assert_eq!(found.value("$bytes").as_deref(), Some("2326"));
    assert_eq!(
        found.value("$timestamp").as_deref(),
        Some("10/Oct/2000:13:25:15 -0700")
    );
    assert_eq!(
        found.value("$request").as_deref(),
        Some("GET /apache_pb.gif HTTP/1.0")
    );
    assert_eq!(found.value("$nothing"), None);
}

/// The CIS AWS Foundations Benchmark's metric filter patterns (section "Monitoring"), each with
/// a CloudTrail event it must match and one it must not.
pub(crate) const CIS: &[(&str, &str)] = &[
    (
        "unauthorized API calls",
        r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
    ),
    (
        "console sign-in without MFA",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    ),
    (
        "root account use",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    ),
    (
        "IAM policy changes",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    ),
    (
        "CloudTrail configuration changes",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    ),
    (
        "console authentication failures",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    ),
    (
        "disabling or deleting CMKs",
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    ),
    (
        "S3 bucket policy changes",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    ),
    (
        "AWS Config changes",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    ),
    (
        "security group changes",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    ),
    (
        "NACL changes",
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    ),
    (
        "network gateway changes",
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    ),
    (
        "route table changes",
        "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    ),
    (
        "VPC changes",
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    ),
    (
        "Organizations changes",
        r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    ),
];

/// A CloudTrail event with the members the CIS patterns read.
pub(crate) fn cloudtrail_event(
    source: &str,
    name: &str,
    identity_type: &str,
    extra: &str,
) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"{identity_type}","accountId":"111122223333"}},"eventTime":"2026-12-07T19:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","eventType":"AwsApiCall"{extra}}}"#
    )
}

#[test]
fn cis_patterns_match_their_events_and_no_others() {
    // The event each pattern is for, in CIS order.
    let offending = [
        cloudtrail_event(
            "ec2.amazonaws.com",
            "DescribeInstances",
            "IAMUser",
            r#","errorCode":"Client.UnauthorizedOperation""#,
        ),
        cloudtrail_event(
            "signin.amazonaws.com",
            "ConsoleLogin",
            "IAMUser",
            r#","additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"}"#,
        ),
        cloudtrail_event("iam.amazonaws.com", "ListUsers", "Root", ""),
        cloudtrail_event("iam.amazonaws.com", "PutUserPolicy", "IAMUser", ""),
        cloudtrail_event("cloudtrail.amazonaws.com", "StopLogging", "IAMUser", ""),
        cloudtrail_event(
            "signin.amazonaws.com",
            "ConsoleLogin",
            "IAMUser",
            r#","errorMessage":"Failed authentication""#,
        ),
        cloudtrail_event("kms.amazonaws.com", "ScheduleKeyDeletion", "IAMUser", ""),
        cloudtrail_event("s3.amazonaws.com", "PutBucketPolicy", "IAMUser", ""),
        cloudtrail_event(
            "config.amazonaws.com",
            "StopConfigurationRecorder",
            "IAMUser",
            "",
        ),
        cloudtrail_event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "IAMUser",
            "",
        ),
        cloudtrail_event("ec2.amazonaws.com", "CreateNetworkAclEntry", "IAMUser", ""),
        cloudtrail_event("ec2.amazonaws.com", "CreateInternetGateway", "IAMUser", ""),
        cloudtrail_event("ec2.amazonaws.com", "CreateRoute", "IAMUser", ""),
        cloudtrail_event("ec2.amazonaws.com", "CreateVpc", "IAMUser", ""),
        cloudtrail_event(
            "organizations.amazonaws.com",
            "LeaveOrganization",
            "IAMUser",
            "",
        ),
    ];
    assert_eq!(offending.len(), CIS.len());
    let harmless = cloudtrail_event("sts.amazonaws.com", "GetCallerIdentity", "IAMUser", "");
    for (i, (control, pattern)) in CIS.iter().enumerate() {
        let parsed = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{control}: {e}"));
        for (j, event) in offending.iter().enumerate() {
            assert_eq!(
                parsed.matches(event).is_some(),
                i == j,
                "{control} on event {j}"
            );
        }
        assert!(
            parsed.matches(&harmless).is_none(),
            "{control} on a harmless call"
        );
    }
    // Root use through an AWS service, and sign-in with MFA, are not offences.
    let root = FilterPattern::parse(CIS[2].1).unwrap();
    let by_service = cloudtrail_event("iam.amazonaws.com", "ListUsers", "Root", "").replace(
        r#""accountId":"111122223333""#,
        r#""accountId":"111122223333","invokedBy":"support.amazonaws.com""#,
    );
    assert!(root.matches(&by_service).is_none());
    let mfa = FilterPattern::parse(CIS[1].1).unwrap();
    let with_mfa = cloudtrail_event(
        "signin.amazonaws.com",
        "ConsoleLogin",
        "IAMUser",
        r#","additionalEventData":{"MFAUsed":"Yes"},"responseElements":{"ConsoleLogin":"Success"}"#,
    );
    assert!(mfa.matches(&with_mfa).is_none());
}

#[test]
fn values_for_metric_filters() {
    let found = FilterPattern::parse("{ $.bytes > 0 }")
        .unwrap()
        .matches(JSON_EVENT)
        .unwrap();
    assert_eq!(found.value("$.bytes").as_deref(), Some("1500"));
    assert_eq!(
        found.value("$.user.email").as_deref(),
        Some("John.Doe@example.com")
    );
    assert_eq!(found.value("$.objectList[1].id").as_deref(), Some("2"));
    assert_eq!(found.value("$.nothing"), None);
    assert_eq!(found.value("$.user"), None);
}

#[test]
fn malformed_patterns_are_errors() {
    for pattern in [
        "{ $.a = }",
        "{ $.a = 1",
        "{ a = 1 }",
        "{ $. = 1 }",
        "{ $.a > abc }",
        "{ $.a > \"1\" }",
        "{ $.a IS MAYBE }",
        "{ $.a NOT THERE }",
        "{ ($.a = 1 }",
        "{ $.a = 1 } trailing",
        "{ $.a[x] = 1 }",
        "[a, b",
        "[a,, b]",
        "[a = 1 || b = 2]",
        "\"unterminated",
        "%regex%",
        "ab\"c",
    ] {
        assert!(FilterPattern::parse(pattern).is_err(), "`{pattern}` parsed");
    }
    let deep = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(FilterPattern::parse(&deep).is_err());
    let fine = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(FilterPattern::parse(&fine).is_ok());
    assert!(FilterPattern::parse(&"a".repeat(MAX_LENGTH + 1)).is_err());
}

#[test]
fn wildcards() {
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a*c", "abbbc"));
    assert!(wildcard_match("*a*a*a*", "xaxaxa"));
    assert!(!wildcard_match("a*c", "abbbd"));
    assert!(!wildcard_match("abc", "abcd"));
    assert!(wildcard_match("4*", "404"));
}

#[test]
fn several_gaps_in_a_space_delimited_pattern() {
    let cases: &[(&str, bool)] = &[
        ("[..., request = \"*gif*\", ..., bytes]", true),
        (
            "[ip, ..., username = frank, ..., status_code = 404, ...]",
            true,
        ),
        (
            "[ip, ..., username = bob, ..., status_code = 404, ...]",
            false,
        ),
        ("[..., ...]", true),
        ("[...]", true),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern, ACCESS_LOG), *expected, "`{pattern}`");
    }
    let found = FilterPattern::parse("[ip, ..., user = frank, ..., bytes]")
        .unwrap()
        .matches(ACCESS_LOG)
        .unwrap();
    assert_eq!(found.value("$user").as_deref(), Some("frank"));
    assert_eq!(found.value("$bytes").as_deref(), Some("2326"));
}

/// Parsing and matching deterministic garbage built from the language's own characters never
/// panics (the fuzz target does the same at length; this runs with every `cargo test`).
#[test]
fn garbage_patterns_parse_or_fail_cleanly() {
    const PIECES: &[&str] = &[
        "{", "}", "[", "]", "(", ")", "$.", "$", "a", "b", "0", "1.5", "-", "?", "\"", "\\", "*",
        " ", ",", "...", "=", "!=", "<", "<=", ">", ">=", "&&", "||", "IS", "NULL", "TRUE", "NOT",
        "EXISTS", "[0]", ".", "%",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let messages = [JSON_EVENT, ACCESS_LOG, "", "a b \"c d\" [e f]"];
    for _ in 0..20_000 {
        let len = next() % 24;
        let pattern: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            for message in messages {
                if let Some(found) = parsed.matches(message) {
                    let _ = parsed.extracted(&found);
                }
            }
        }
    }
}
