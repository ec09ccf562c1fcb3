//! Responses checked against AWS's documented examples, compared as parsed trees: member
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]
//! order is free in XML structures (SDKs read by name), list order is not.

use rampart_wire::{
    AwsError, ServiceModel, Value, check_output, encode_json_error, encode_json_response,
    encode_query_error, encode_query_response,
};
use serde_json::json;

/// A parsed element: name, namespace, text, children (structure children sorted by name;
/// the sort is stable, so repeated `<member>` elements keep their order).
#[derive(Debug, PartialEq)]
struct Element {
    name: String,
    namespace: Option<String>,
    text: String,
    children: Vec<Element>,
}

fn tree(node: roxmltree::Node<'_, '_>) -> Element {
    let mut children: Vec<Element> = node
        .children()
        .filter(roxmltree::Node::is_element)
        .map(tree)
        .collect();
    children.sort_by(|a, b| a.name.cmp(&b.name));
    let text = if children.is_empty() {
        node.text().unwrap_or_default().to_owned()
    } else {
        String::new()
    };
    Element {
        name: node.tag_name().name().to_owned(),
        namespace: node.tag_name().namespace().map(str::to_owned),
        text,
        children,
    }
}

fn assert_same_xml(actual: &str, expected: &str) {
    let actual_doc = roxmltree::Document::parse(actual).unwrap();
    let expected_doc = roxmltree::Document::parse(expected).unwrap();
    assert_eq!(
        tree(actual_doc.root_element()),
        tree(expected_doc.root_element()),
        "\nactual:   {actual}\nexpected: {expected}"
    );
}

fn service(prefix: &str) -> &'static ServiceModel {
    ServiceModel::by_endpoint_prefix(prefix).unwrap()
}

fn query_response(prefix: &str, op: &str, output: &Value, request_id: &str) -> String {
    let svc = service(prefix);
    let op = svc.operation(op).unwrap();
    // Strict: a member the model lacks would be left out of the XML, so it fails here.
    check_output(op, output).unwrap();
    encode_query_response(svc, op, output, request_id)
}

#[test]
fn sts_get_caller_identity() {
    // From the STS API reference, GetCallerIdentity example.
    let expected = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
      <GetCallerIdentityResult>
        <Arn>arn:aws:iam::123456789012:user/Alice</Arn>
        <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>
        <Account>123456789012</Account>
      </GetCallerIdentityResult>
      <ResponseMetadata>
        <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
      </ResponseMetadata>
    </GetCallerIdentityResponse>"#;
    let output = json!({"Arn": "arn:aws:iam::123456789012:user/Alice",
        "UserId": "AIDACKCEVSQ6C2EXAMPLE", "Account": "123456789012"});
    let xml = query_response(
        "sts",
        "GetCallerIdentity",
        &output,
        "01234567-89ab-cdef-0123-456789abcdef",
    );
    assert_same_xml(&xml, expected);
    // Members in model order (UserId, Account, Arn), no whitespace.
    assert!(xml.contains(
        "<GetCallerIdentityResult><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Account>123456789012</Account>"
    ));
}

#[test]
fn iam_list_users_with_member_list() {
    // From the IAM API reference, ListUsers example.
    let expected = r#"<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
       <ListUsersResult>
          <Users>
             <member>
                <UserId>AID2MAB8DPLSRHEXAMPLE</UserId>
                <Path>/division_abc/subdivision_xyz/engineering/</Path>
                <UserName>Andrew</UserName>
                <Arn>arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/engineering/Andrew</Arn>
                <CreateDate>2012-09-05T19:38:48Z</CreateDate>
                <PasswordLastUsed>2014-09-08T21:47:36Z</PasswordLastUsed>
             </member>
             <member>
                <UserId>AIDIODR4TAW7CSEXAMPLE</UserId>
                <Path>/division_abc/subdivision_xyz/engineering/</Path>
                <UserName>Jackie</UserName>
                <Arn>arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/engineering/Jackie</Arn>
                <CreateDate>2014-04-09T15:43:45Z</CreateDate>
                <PasswordLastUsed>2014-09-24T16:18:07Z</PasswordLastUsed>
             </member>
          </Users>
          <IsTruncated>false</IsTruncated>
       </ListUsersResult>
       <ResponseMetadata>
          <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>
       </ResponseMetadata>
    </ListUsersResponse>"#;
    let path = "/division_abc/subdivision_xyz/engineering/";
    let output = json!({
        "Users": [
            {"UserId": "AID2MAB8DPLSRHEXAMPLE", "Path": path, "UserName": "Andrew",
             "Arn": format!("arn:aws:iam::123456789012:user{path}Andrew"),
             "CreateDate": "2012-09-05T19:38:48Z", "PasswordLastUsed": "2014-09-08T21:47:36Z"},
            {"UserId": "AIDIODR4TAW7CSEXAMPLE", "Path": path, "UserName": "Jackie",
             "Arn": format!("arn:aws:iam::123456789012:user{path}Jackie"),
             "CreateDate": "2014-04-09T15:43:45Z", "PasswordLastUsed": "2014-09-24T16:18:07Z",
             "Tags": null}
        ],
        "IsTruncated": false,
        "Marker": null
    });
    let xml = query_response(
        "iam",
        "ListUsers",
        &output,
        "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE",
    );
    assert_same_xml(&xml, expected);
}

#[test]
fn iam_get_account_summary_map() {
    let output = json!({"SummaryMap": {"Users": 27, "Groups": 15}});
    let xml = query_response("iam", "GetAccountSummary", &output, "r");
    assert_same_xml(
        &xml,
        r#"<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
          <GetAccountSummaryResult><SummaryMap>
            <entry><key>Groups</key><value>15</value></entry>
            <entry><key>Users</key><value>27</value></entry>
          </SummaryMap></GetAccountSummaryResult>
          <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
        </GetAccountSummaryResponse>"#,
    );
}

#[test]
fn sts_assume_role_timestamps_and_nesting() {
    let output = json!({
        "Credentials": {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalr/K7MDENG",
            "SessionToken": "AQoDYXdzEPT", "Expiration": "2019-11-09T13:34:41.123Z"},
        "AssumedRoleUser": {"AssumedRoleId": "ARO123EXAMPLE123:Bob",
            "Arn": "arn:aws:sts::123456789012:assumed-role/demo/Bob"},
        "PackedPolicySize": 8,
        "SourceIdentity": "Alice"
    });
    let xml = query_response(
        "sts",
        "AssumeRole",
        &output,
        "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
    );
    assert_same_xml(
        &xml,
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <SourceIdentity>Alice</SourceIdentity>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/demo/Bob</Arn>
              <AssumedRoleId>ARO123EXAMPLE123:Bob</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <SessionToken>AQoDYXdzEPT</SessionToken>
              <SecretAccessKey>wJalr/K7MDENG</SecretAccessKey>
              <Expiration>2019-11-09T13:34:41.123Z</Expiration>
              <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
            </Credentials>
            <PackedPolicySize>8</PackedPolicySize>
          </AssumeRoleResult>
          <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
        </AssumeRoleResponse>"#,
    );
}

#[test]
fn operation_without_output_has_no_result_element() {
    let xml = query_response("iam", "DeleteUser", &json!({}), "req-9");
    assert_eq!(
        xml,
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <ResponseMetadata><RequestId>req-9</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
}

#[test]
fn text_is_escaped() {
    let nasty = "a&b<c>d\"e'f\r\n\u{1}z";
    let output = json!({"User": {"UserName": nasty, "Path": "/", "UserId": "AIDA", "Arn": "arn",
        "CreateDate": "2026-11-24T15:23:48Z"}});
    let xml = query_response("iam", "GetUser", &output, "</RequestId>");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let name = doc
        .descendants()
        .find(|n| n.has_tag_name("UserName"))
        .unwrap();
    assert_eq!(name.text().unwrap(), "a&b<c>d\"e'f\r\n\u{FFFD}z");
    let id = doc
        .descendants()
        .find(|n| n.has_tag_name("RequestId"))
        .unwrap();
    assert_eq!(id.text().unwrap(), "</RequestId>");
}

#[test]
fn iam_error_envelope() {
    let err = AwsError::new(
        "NoSuchEntity",
        404,
        "The user with name bob cannot be found.",
    );
    let xml = encode_query_error(
        Some(service("iam")),
        &err,
        "4a8b0f0f-0c8f-4b3a-9a4e-EXAMPLE",
    );
    assert_eq!(
        xml,
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
         <Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error>\
         <RequestId>4a8b0f0f-0c8f-4b3a-9a4e-EXAMPLE</RequestId></ErrorResponse>"
    );
    let err = AwsError::new("ServiceFailure", 500, "x < y");
    let xml = encode_query_error(None, &err, "r");
    assert_same_xml(
        &xml,
        "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code>\
         <Message>x &lt; y</Message></Error><RequestId>r</RequestId></ErrorResponse>",
    );
}

#[test]
fn kms_json_error_and_output() {
    let err = AwsError::new(
        "NotFoundException",
        400,
        "Alias arn:aws:kms:us-east-1:111122223333:alias/x is not found.",
    );
    let body: Value = serde_json::from_slice(&encode_json_error(&err)).unwrap();
    assert_eq!(
        body,
        json!({"__type": "NotFoundException",
               "message": "Alias arn:aws:kms:us-east-1:111122223333:alias/x is not found."})
    );
    let kms = service("kms");
    let out = json!({"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "AWSAccountId": "111122223333",
        "CreationDate": "2017-07-05T14:04:55.123Z", "Enabled": true, "KeyState": "Enabled",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": false}});
    let create_key = kms.operation("CreateKey").unwrap();
    check_output(create_key, &out).unwrap();
    let body: Value = serde_json::from_slice(&encode_json_response(kms, create_key, &out)).unwrap();
    assert_eq!(
        body["KeyMetadata"]["CreationDate"],
        json!(1_499_263_495.123)
    );
    assert_eq!(
        body["KeyMetadata"]["EncryptionAlgorithms"],
        json!(["SYMMETRIC_DEFAULT"])
    );
    assert_eq!(body["KeyMetadata"]["MultiRegion"], json!(false));
}

#[test]
fn a_member_the_model_lacks_is_left_out_and_reported() {
    let sts = service("sts");
    let op = sts.operation("GetCallerIdentity").unwrap();
    let output = json!({"Arn": "arn:aws:iam::123456789012:user/Alice",
        "UserId": "AIDACKCEVSQ6C2EXAMPLE", "Account": "123456789012", "AccountId": "123456789012"});
    let xml = encode_query_response(sts, op, &output, "r");
    assert!(xml.contains("<Account>123456789012</Account>"), "{xml}");
    assert!(!xml.contains("AccountId"), "{xml}");
    let err = check_output(op, &output).unwrap_err();
    assert_eq!(err.operation(), "GetCallerIdentity");
    assert_eq!(
        err.problems(),
        ["`AccountId`: not a member of `GetCallerIdentityResponse`"]
    );
    assert_eq!(
        err.to_string(),
        "the output of `GetCallerIdentity` does not match its API model: \
         `AccountId`: not a member of `GetCallerIdentityResponse`"
    );
}
