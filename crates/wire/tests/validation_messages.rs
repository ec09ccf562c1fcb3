//! Validation errors with AWS's exact code, status and message text.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed unwrap is a failed test; base64 indices are masked to 0..64"
)]

use rampart_wire::{AwsError, ServiceModel, Value, decode_json, decode_query};
use serde_json::json;

fn iam(op: &str, pairs: &[(&str, &str)]) -> Result<Value, AwsError> {
    let svc = ServiceModel::by_endpoint_prefix("iam").unwrap();
    let params: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    decode_query(svc, svc.operation(op).unwrap(), &params)
}

fn json_service(prefix: &str, op: &str, body: &Value) -> Result<Value, AwsError> {
    let svc = ServiceModel::by_endpoint_prefix(prefix).unwrap();
    decode_json(svc, svc.operation(op).unwrap(), body.to_string().as_bytes())
}

fn message(result: Result<Value, AwsError>, code: &str) -> String {
    let err = result.unwrap_err();
    assert_eq!(
        (err.code.as_ref(), err.status, err.sender_fault),
        (code, 400, true)
    );
    err.message
}

#[test]
fn iam_pattern() {
    assert_eq!(
        message(iam("CreateUser", &[("UserName", "a b")]), "ValidationError"),
        r"1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
    );
}

#[test]
fn iam_required() {
    assert_eq!(
        message(iam("CreateUser", &[]), "ValidationError"),
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn iam_nested_list_member_path() {
    // Real IAM answer quoted in SWO-GS/auto-tag#90 (tag value with a comma).
    let value = "SourceIP: 1.2.3.4, UserAgent: aws-cli/2.1.17";
    let msg = message(
        iam(
            "TagUser",
            &[
                ("UserName", "bob"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", value),
            ],
        ),
        "ValidationError",
    );
    assert_eq!(
        msg,
        format!(
            r"1 validation error detected: Value '{value}' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{{L}}\p{{Z}}\p{{N}}_.:/=+\-@]*"
        )
    );
}

#[test]
fn several_violations_joined() {
    let long = "a".repeat(65);
    let msg = message(
        iam("CreateUser", &[("UserName", &long), ("Path", "no-slash")]),
        "ValidationError",
    );
    assert_eq!(
        msg,
        format!(
            "2 validation errors detected: \
             Value 'no-slash' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); \
             Value '{long}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"
        )
    );
}

#[test]
fn numeric_range_and_enum() {
    assert_eq!(
        message(iam("ListUsers", &[("MaxItems", "0")]), "ValidationError"),
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        message(iam("ListUsers", &[("MaxItems", "1001")]), "ValidationError"),
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
    assert_eq!(
        message(
            iam(
                "UpdateAccessKey",
                &[("AccessKeyId", "AKIAIOSFODNN7EXAMPLE"), ("Status", "On")]
            ),
            "ValidationError"
        ),
        "1 validation error detected: Value 'On' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
    );
    assert!(iam("ListUsers", &[("MaxItems", "1000")]).is_ok());
}

#[test]
fn json_service_codes_and_list_constraints() {
    assert_eq!(
        message(
            json_service("kms", "CreateKey", &json!({"KeySpec": "AES"})),
            "ValidationException"
        ),
        "1 validation error detected: Value 'AES' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: \
         [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SYMMETRIC_DEFAULT, \
         HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519, ML_KEM_512, \
         ML_KEM_768, ML_KEM_1024]"
    );
    let tokens: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    assert_eq!(
        message(
            json_service("kms", "ListKeys", &json!({"Limit": 0})),
            "ValidationException"
        ),
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let msg = message(
        json_service(
            "kms",
            "Decrypt",
            &json!({"CiphertextBlob": "aGk=", "GrantTokens": tokens}),
        ),
        "ValidationException",
    );
    assert_eq!(
        msg,
        format!(
            "1 validation error detected: Value '[{}]' at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10",
            tokens.join(", ")
        )
    );
    // A list of scalars is reported once, at the list, listing its member's constraints.
    assert_eq!(
        message(
            json_service(
                "kms",
                "Decrypt",
                &json!({"CiphertextBlob": "aGk=", "GrantTokens": ["ok", ""]})
            ),
            "ValidationException"
        ),
        "1 validation error detected: Value '[ok, ]' at 'grantTokens' failed to satisfy constraint: Member must satisfy \
         constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]"
    );
}

#[test]
fn map_keys() {
    let msg = message(
        json_service(
            "cognito-idp",
            "CreateUserPool",
            &json!({"PoolName": "p", "UserPoolTags": {"": "v"}}),
        ),
        "InvalidParameterException",
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value '{=v}' at 'userPoolTags' failed to satisfy constraint: Map keys must satisfy \
         constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
    );
}

#[test]
fn sensitive_values_are_never_echoed() {
    // Cognito's own answer for its sensitive `password`: "Value at 'password' failed …".
    let secret = "hunter 2";
    let msg = message(
        json_service(
            "cognito-idp",
            "SignUp",
            &json!({"ClientId": "c", "Username": "u", "Password": secret}),
        ),
        "InvalidParameterException",
    );
    assert_eq!(
        msg,
        r"1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\S]+"
    );
    // KMS plaintext is a sensitive blob; its length is checked on the decoded bytes.
    let big = data_encoding_b64(&vec![0u8; 4097]);
    let msg = message(
        json_service("kms", "Encrypt", &json!({"KeyId": "k", "Plaintext": big})),
        "ValidationException",
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
    assert!(!msg.contains("AAAA"));
    assert!(
        json_service(
            "kms",
            "Encrypt",
            &json!({"KeyId": "k", "Plaintext": data_encoding_b64(&[0u8; 4096])})
        )
        .is_ok()
    );
}

#[test]
fn string_length_counts_code_points() {
    let name = "é".repeat(64);
    let svc = ServiceModel::by_endpoint_prefix("secretsmanager").unwrap();
    let op = svc.operation("CreateSecret").unwrap();
    assert!(
        decode_json(
            svc,
            op,
            json!({"Name": "x".repeat(512)}).to_string().as_bytes()
        )
        .is_ok()
    );
    assert!(decode_json(svc, op, json!({"Name": name}).to_string().as_bytes()).is_ok());
    assert!(
        decode_json(
            svc,
            op,
            json!({"Name": "x".repeat(513)}).to_string().as_bytes()
        )
        .is_err()
    );
}

/// Standard base64 without a dependency in the test (tiny and obviously correct).
fn data_encoding_b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Organizations answers InvalidInputException with a `Reason` naming the first broken rule
/// and that reason's sentence, e.g. "You provided a value that does not match the required
/// pattern." (quoted from real responses in public issues).
#[test]
fn organizations_invalid_input_reasons() {
    let reason_of = |op: &str, body: Value| {
        let err = json_service("organizations", op, &body).unwrap_err();
        assert_eq!(err.code, "InvalidInputException");
        assert_eq!(err.status, 400);
        let reason = err
            .members
            .iter()
            .find(|(name, _)| *name == "Reason")
            .map(|(_, r)| r.clone())
            .unwrap();
        (reason, err.message)
    };
    assert_eq!(
        reason_of("DescribeAccount", json!({"AccountId": "123"})),
        (
            "INVALID_PATTERN".to_owned(),
            "You provided a value that does not match the required pattern.".to_owned()
        )
    );
    assert_eq!(
        reason_of("DescribeAccount", json!({})).0,
        "INPUT_REQUIRED".to_owned()
    );
    assert_eq!(
        reason_of("ListAccounts", json!({"MaxResults": 21})).0,
        "MAX_VALUE_EXCEEDED".to_owned()
    );
    assert_eq!(
        reason_of("ListPolicies", json!({"Filter": "NOPE"})).0,
        "INVALID_ENUM_POLICY_TYPE".to_owned()
    );
    assert_eq!(
        reason_of(
            "ListChildren",
            json!({"ParentId": "r-ab12", "ChildType": "NOPE"})
        )
        .0,
        "INVALID_ENUM".to_owned()
    );
    let body = rampart_wire::encode_json_error(
        &json_service("organizations", "DescribeAccount", &json!({})).unwrap_err(),
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["__type"], "InvalidInputException");
    assert_eq!(body["Reason"], "INPUT_REQUIRED");
}

/// Finding 8: an 8 MB `KeyId` was echoed whole into the answer (and its audit event). AWS's
/// wording stays; the value is quoted by its first 256 bytes and an ellipsis.
#[test]
fn a_long_value_is_quoted_by_a_short_prefix() {
    let long = "k".repeat(1_000_000);
    let msg = message(
        json_service("kms", "DescribeKey", &json!({"KeyId": long})),
        "ValidationException",
    );
    assert_eq!(
        msg,
        format!(
            "1 validation error detected: Value '{}...' at 'keyId' failed to satisfy constraint: \
             Member must have length less than or equal to 2048",
            "k".repeat(256)
        )
    );
    // A list is cut the same way, after its first items.
    let names: Vec<String> = (0..100_000).map(|i| format!("alias/{i}")).collect();
    let msg = message(
        json_service(
            "kms",
            "CreateGrant",
            &json!({"KeyId": "k", "GranteePrincipal": "p", "Operations": names}),
        ),
        "ValidationException",
    );
    assert!(msg.len() < 2_000, "{} bytes", msg.len());
    assert!(msg.contains("Value '[alias/0, alias/1, "), "{msg}");
    assert!(msg.contains("...' at 'operations'"), "{msg}");
    // Query decoding quotes a value it cannot read as the member's type the same way.
    let long_number = "9".repeat(100_000);
    let msg = message(
        iam("ListUsers", &[("MaxItems", &long_number)]),
        "ValidationError",
    );
    assert!(msg.len() < 600, "{} bytes", msg.len());
    assert!(msg.contains(&format!("'{}...'", "9".repeat(256))), "{msg}");
}

/// A value at the bound is still quoted whole: only longer ones are cut.
#[test]
fn a_value_within_the_bound_is_quoted_whole() {
    let name = "é".repeat(128); // 256 bytes of two-byte characters
    let msg = message(iam("CreateUser", &[("UserName", &name)]), "ValidationError");
    assert!(
        msg.contains(&format!("Value '{name}' at 'userName'")),
        "{msg}"
    );
    // One more character is cut at a character boundary, never inside one.
    let longer = "é".repeat(129);
    let msg = message(
        iam("CreateUser", &[("UserName", &longer)]),
        "ValidationError",
    );
    assert!(
        msg.contains(&format!("Value '{name}...' at 'userName'")),
        "{msg}"
    );
}

/// Many violations are counted exactly; the first ten are listed.
#[test]
fn many_violations_are_counted_and_the_first_ten_listed() {
    let tags: Vec<Value> = (0..5_000)
        .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v".repeat(300)}))
        .collect();
    let msg = message(
        json_service("kms", "TagResource", &json!({"KeyId": "k", "Tags": tags})),
        "ValidationException",
    );
    assert!(
        msg.starts_with("5000 validation errors detected: Value '"),
        "{}",
        &msg[..80]
    );
    assert_eq!(msg.matches("failed to satisfy constraint").count(), 10);
    assert!(msg.len() < 8_000, "{} bytes", msg.len());
}
