//! PutParameter, GetParameter(s), selectors, labels, versions, tiers, quotas, tags, settings.

use serde_json::json;

use super::Harness;

#[test]
fn a_parameter_is_versioned_and_read_by_name_version_and_label() {
    let h = Harness::new();
    let created = h.ok(
        "PutParameter",
        json!({"Name": "/app/db/host", "Value": "one", "Type": "String", "Description": "d"}),
    );
    assert_eq!(created, json!({"Version": 1, "Tier": "Standard"}));
    // Again without Overwrite: AWS's error and text.
    let exists = h.err(
        "PutParameter",
        json!({"Name": "/app/db/host", "Value": "two", "Type": "String"}),
    );
    assert_eq!(exists.code, "ParameterAlreadyExists");
    assert!(exists.message.contains("set the overwrite option"));
    let second = h.ok(
        "PutParameter",
        json!({"Name": "/app/db/host", "Value": "two", "Overwrite": true}),
    );
    assert_eq!(second["Version"], 2);
    let got = h.ok("GetParameter", json!({"Name": "/app/db/host"}));
    let parameter = &got["Parameter"];
    assert_eq!(parameter["Value"], "two");
    assert_eq!(parameter["Version"], 2);
    assert_eq!(parameter["Type"], "String");
    assert_eq!(parameter["DataType"], "text");
    assert_eq!(
        parameter["ARN"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host"
    );
    assert!(parameter.get("Selector").is_none());
    let first = h.ok("GetParameter", json!({"Name": "/app/db/host:1"}));
    assert_eq!(first["Parameter"]["Value"], "one");
    assert_eq!(first["Parameter"]["Selector"], ":1");
    // By ARN.
    let by_arn = h.ok(
        "GetParameter",
        json!({"Name": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host:1"}),
    );
    assert_eq!(by_arn["Parameter"]["Value"], "one");
    let missing = h.err("GetParameter", json!({"Name": "/app/db/host:9"}));
    assert_eq!(missing.code, "ParameterVersionNotFound");
    assert_eq!(
        missing.message,
        "Systems Manager could not find version 9 of /app/db/host. Verify the version and try again."
    );
    // AWS answers ParameterNotFound without a message.
    let absent = h.err("GetParameter", json!({"Name": "/app/db/port"}));
    assert_eq!(
        (absent.code.as_ref(), absent.message.as_str()),
        ("ParameterNotFound", "")
    );
    // Labels: moved between versions, read through a selector.
    let labelled = h.ok(
        "LabelParameterVersion",
        json!({"Name": "/app/db/host", "ParameterVersion": 1, "Labels": ["prod", "1bad", "awsX"]}),
    );
    assert_eq!(
        labelled,
        json!({"InvalidLabels": ["1bad", "awsX"], "ParameterVersion": 1})
    );
    let prod = h.ok("GetParameter", json!({"Name": "/app/db/host:prod"}));
    assert_eq!(prod["Parameter"]["Value"], "one");
    assert_eq!(prod["Parameter"]["Selector"], ":prod");
    // Without a version: the latest; the label moves.
    h.ok(
        "LabelParameterVersion",
        json!({"Name": "/app/db/host", "Labels": ["prod"]}),
    );
    let prod = h.ok("GetParameter", json!({"Name": "/app/db/host:prod"}));
    assert_eq!(prod["Parameter"]["Value"], "two");
    let unlabelled = h.ok(
        "UnlabelParameterVersion",
        json!({"Name": "/app/db/host", "ParameterVersion": 2, "Labels": ["prod", "nope"]}),
    );
    assert_eq!(
        unlabelled,
        json!({"RemovedLabels": ["prod"], "InvalidLabels": ["nope"]})
    );
    let gone = h.err("GetParameter", json!({"Name": "/app/db/host:prod"}));
    assert_eq!(gone.code, "ParameterNotFound");
}

#[test]
fn get_parameters_answers_found_and_invalid_names() {
    let h = Harness::new();
    h.put("a", "1");
    h.put("/b/c", "2");
    let got = h.ok(
        "GetParameters",
        json!({"Names": ["a", "/b/c", "/b/c:7", "missing", "a"]}),
    );
    let names: Vec<&str> = got["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "/b/c"]);
    assert_eq!(got["InvalidParameters"], json!(["/b/c:7", "missing"]));
}

#[test]
fn a_top_level_name_is_one_parameter_with_or_without_its_slash() {
    let h = Harness::new();
    h.ok(
        "PutParameter",
        json!({"Name": "/with-slash", "Value": "v", "Type": "String"}),
    );
    let got = h.ok("GetParameter", json!({"Name": "with-slash"}));
    assert_eq!(
        got["Parameter"]["ARN"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/with-slash"
    );
    let exists = h.err(
        "PutParameter",
        json!({"Name": "with-slash", "Value": "v", "Type": "String"}),
    );
    assert_eq!(exists.code, "ParameterAlreadyExists");
    h.ok("DeleteParameter", json!({"Name": "with-slash"}));
    assert_eq!(
        h.err("GetParameter", json!({"Name": "/with-slash"})).code,
        "ParameterNotFound"
    );
}

#[test]
fn put_refuses_what_aws_refuses() {
    let h = Harness::new();
    let code = |input: serde_json::Value| h.err("PutParameter", input).code.to_string();
    assert_eq!(
        code(json!({"Name": "x", "Value": "v"})),
        "ValidationException",
        "a type is needed to create"
    );
    assert_eq!(
        code(json!({"Name": "x", "Value": "v", "Type": "String", "KeyId": "alias/k"})),
        "ValidationException"
    );
    assert_eq!(
        code(json!({"Name": "x", "Value": "", "Type": "String"})),
        "ValidationException"
    );
    assert_eq!(
        code(json!({"Name": "/aws/x", "Value": "v", "Type": "String"})),
        "AccessDeniedException"
    );
    assert_eq!(
        code(json!({"Name": "x", "Value": "v", "Type": "String", "DataType": "Text"})),
        "ValidationException"
    );
    assert_eq!(
        code(
            json!({"Name": "x", "Value": "ami-123", "Type": "String", "DataType": "aws:ec2:image"})
        ),
        "ValidationException"
    );
    assert_eq!(
        code(
            json!({"Name": "x", "Value": "ami-0123abcd", "Type": "StringList", "DataType": "aws:ec2:image"})
        ),
        "UnsupportedParameterType"
    );
    h.ok(
        "PutParameter",
        json!({"Name": "ami", "Value": "ami-0123abcd", "Type": "String", "DataType": "aws:ec2:image"}),
    );
    h.put("x", "v");
    let tags_and_overwrite = h.err(
        "PutParameter",
        json!({"Name": "x", "Value": "v", "Overwrite": true, "Tags": [{"Key": "a", "Value": "b"}]}),
    );
    assert!(
        tags_and_overwrite
            .message
            .contains("tags and overwrite can't be used together")
    );
    let retyped = h.err(
        "PutParameter",
        json!({"Name": "x", "Value": "v", "Type": "StringList", "Overwrite": true}),
    );
    assert_eq!(retyped.code, "HierarchyTypeMismatchException");
    // AllowedPattern: checked against the value, kept for the next versions.
    h.ok(
        "PutParameter",
        json!({"Name": "port", "Value": "80", "Type": "String", "AllowedPattern": "^\\d+$"}),
    );
    let mismatch = h.err(
        "PutParameter",
        json!({"Name": "port", "Value": "eighty", "Overwrite": true}),
    );
    assert_eq!(mismatch.code, "ParameterPatternMismatchException");
    assert_eq!(
        mismatch.message,
        "Parameter value, cannot be validated against allowedPattern: ^\\d+$"
    );
    let invalid = h.err(
        "PutParameter",
        json!({"Name": "port", "Value": "80", "Overwrite": true, "AllowedPattern": "(\\d"}),
    );
    assert_eq!(invalid.code, "InvalidAllowedPatternException");
}

#[test]
fn a_hundred_versions_are_kept_and_a_labelled_oldest_one_stops_the_next() {
    let h = Harness::new();
    for n in 1..=100 {
        h.put("/v", &n.to_string());
    }
    h.ok(
        "LabelParameterVersion",
        json!({"Name": "/v", "ParameterVersion": 1, "Labels": ["first"]}),
    );
    let full = h.err(
        "PutParameter",
        json!({"Name": "/v", "Value": "101", "Overwrite": true}),
    );
    assert_eq!(full.code, "ParameterMaxVersionLimitExceeded");
    assert!(full.message.contains("Version 1, the oldest version"));
    h.ok(
        "UnlabelParameterVersion",
        json!({"Name": "/v", "ParameterVersion": 1, "Labels": ["first"]}),
    );
    assert_eq!(h.put("/v", "101")["Version"], 101);
    // Version 1 is gone; 2 to 101 remain, oldest first, 50 a page.
    assert_eq!(
        h.err("GetParameter", json!({"Name": "/v:1"})).code,
        "ParameterVersionNotFound"
    );
    let page = h.ok("GetParameterHistory", json!({"Name": "/v"}));
    let versions = page["Parameters"].as_array().unwrap();
    assert_eq!(versions.len(), 50);
    assert_eq!(versions[0]["Version"], 2);
    let token = page["NextToken"].as_str().unwrap();
    let rest = h.ok(
        "GetParameterHistory",
        json!({"Name": "/v", "NextToken": token, "MaxResults": 50}),
    );
    let rest = rest["Parameters"].as_array().unwrap();
    assert_eq!(rest.len(), 50);
    assert_eq!(rest[49]["Version"], 101);
    assert_eq!(rest[49]["Value"], "101");
    let bad = h.err(
        "GetParameterHistory",
        json!({"Name": "/v", "NextToken": "x"}),
    );
    assert_eq!(bad.code, "InvalidNextToken");
}

#[test]
fn a_version_carries_at_most_ten_labels() {
    let h = Harness::new();
    h.put("/l", "v");
    let ten: Vec<String> = (0..10).map(|n| format!("l{n}")).collect();
    h.ok(
        "LabelParameterVersion",
        json!({"Name": "/l", "Labels": ten}),
    );
    let more = h.err(
        "LabelParameterVersion",
        json!({"Name": "/l", "Labels": ["eleventh"]}),
    );
    assert_eq!(more.code, "ParameterVersionLabelLimitExceeded");
    // A label it carries already is no new one.
    h.ok(
        "LabelParameterVersion",
        json!({"Name": "/l", "Labels": ["l0"]}),
    );
    let history = h.ok("GetParameterHistory", json!({"Name": "/l"}));
    assert_eq!(
        history["Parameters"][0]["Labels"].as_array().unwrap().len(),
        10
    );
    let missing = h.err(
        "LabelParameterVersion",
        json!({"Name": "/l", "ParameterVersion": 5, "Labels": ["x"]}),
    );
    assert_eq!(missing.code, "ParameterVersionNotFound");
}

#[test]
fn tiers_sizes_and_quotas_are_awss() {
    let h = Harness::new();
    let big = "x".repeat(5000);
    let too_big = h.err(
        "PutParameter",
        json!({"Name": "/big", "Value": big, "Type": "String"}),
    );
    assert_eq!(too_big.code, "ValidationException");
    assert!(too_big.message.starts_with(
        "Standard tier parameters support a maximum parameter value of 4096 characters"
    ));
    let intelligent = h.ok(
        "PutParameter",
        json!({"Name": "/big", "Value": big, "Type": "String", "Tier": "Intelligent-Tiering"}),
    );
    assert_eq!(intelligent["Tier"], "Advanced");
    let downgrade = h.err(
        "PutParameter",
        json!({"Name": "/big", "Value": "small", "Overwrite": true, "Tier": "Standard"}),
    );
    assert!(downgrade.message.contains("You can't downgrade"));
    // Without a tier, an advanced parameter stays advanced.
    let kept = h.put("/big", "small");
    assert_eq!(kept["Tier"], "Advanced");
    let huge = h.err(
        "PutParameter",
        json!({"Name": "/huge", "Value": "x".repeat(8193), "Type": "String", "Tier": "Advanced"}),
    );
    assert_eq!(huge.code, "ValidationException");
    // The Standard quota: 10,000 per account and Region.
    h.env
        .write(|env, tx| {
            rampart_store::put_json(
                tx,
                "ssm/counts",
                &format!("{}:{}", env.caller.account_id, env.region),
                &json!({"standard": 10_000, "advanced": 1}),
            )
        })
        .unwrap();
    let full = h.err(
        "PutParameter",
        json!({"Name": "/one-more", "Value": "v", "Type": "String"}),
    );
    assert_eq!(full.code, "ParameterLimitExceeded");
    assert_eq!(
        full.message,
        "You have reached the maximum number of standard parameters for this AWS account and \
         Region (10000). To add more parameters, either delete existing parameters or upgrade \
         to the advanced-parameter tier (charges apply)."
    );
    // Intelligent-Tiering goes to Advanced instead; an existing Standard parameter still
    // takes new versions.
    let advanced = h.ok(
        "PutParameter",
        json!({"Name": "/one-more", "Value": "v", "Type": "String", "Tier": "Intelligent-Tiering"}),
    );
    assert_eq!(advanced["Tier"], "Advanced");
}

#[test]
fn the_default_tier_setting_applies_to_new_parameters() {
    let h = Harness::new();
    let id = "/ssm/parameter-store/default-parameter-tier";
    let shown = h.ok("GetServiceSetting", json!({"SettingId": id}));
    assert_eq!(shown["ServiceSetting"]["SettingValue"], "Standard");
    assert_eq!(shown["ServiceSetting"]["Status"], "Default");
    assert_eq!(
        shown["ServiceSetting"]["ARN"],
        format!("arn:aws:ssm:us-east-1:123456789012:servicesetting{id}")
    );
    let bad = h.err(
        "UpdateServiceSetting",
        json!({"SettingId": id, "SettingValue": "Gold"}),
    );
    assert_eq!(bad.code, "ValidationException");
    h.ok(
        "UpdateServiceSetting",
        json!({"SettingId": id, "SettingValue": "Advanced"}),
    );
    assert_eq!(h.put("/t", "v")["Tier"], "Advanced");
    let reset = h.ok("ResetServiceSetting", json!({"SettingId": id}));
    assert_eq!(reset["ServiceSetting"]["SettingValue"], "Standard");
    assert_eq!(reset["ServiceSetting"]["Status"], "Default");
    assert_eq!(h.put("/u", "v")["Tier"], "Standard");
    let unknown = h.err("GetServiceSetting", json!({"SettingId": "/ssm/other"}));
    assert_eq!(unknown.code, "ServiceSettingNotFound");
    let throughput = h.ok(
        "GetServiceSetting",
        json!({"SettingId": "/ssm/parameter-store/high-throughput-enabled"}),
    );
    assert_eq!(throughput["ServiceSetting"]["SettingValue"], "false");
}

#[test]
fn tags_are_added_listed_removed_and_limited() {
    let h = Harness::new();
    h.ok(
        "PutParameter",
        json!({"Name": "/t", "Value": "v", "Type": "String", "Tags": [{"Key": "team", "Value": "red"}]}),
    );
    let resource = |extra: serde_json::Value| {
        let mut input = json!({"ResourceType": "Parameter", "ResourceId": "/t"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        input
    };
    h.ok(
        "AddTagsToResource",
        resource(
            json!({"Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "blue"}]}),
        ),
    );
    let listed = h.ok("ListTagsForResource", resource(json!({})));
    assert_eq!(
        listed["TagList"],
        json!([{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "prod"}])
    );
    h.ok(
        "RemoveTagsFromResource",
        resource(json!({"TagKeys": ["team"]})),
    );
    let listed = h.ok("ListTagsForResource", resource(json!({})));
    assert_eq!(listed["TagList"], json!([{"Key": "env", "Value": "prod"}]));
    let many: Vec<_> = (0..50)
        .map(|n| json!({"Key": format!("k{n}"), "Value": "v"}))
        .collect();
    let too_many = h.err("AddTagsToResource", resource(json!({"Tags": many})));
    assert_eq!(too_many.code, "TooManyTagsError");
    let reserved = h.err(
        "AddTagsToResource",
        resource(json!({"Tags": [{"Key": "aws:x", "Value": "v"}]})),
    );
    assert_eq!(reserved.code, "ValidationException");
    let missing = h.err(
        "ListTagsForResource",
        json!({"ResourceType": "Parameter", "ResourceId": "/nope"}),
    );
    assert_eq!(missing.code, "InvalidResourceId");
}

#[test]
fn deleting_removes_every_version_and_lists_what_was_not_there() {
    let h = Harness::new();
    h.put("/d/one", "1");
    h.put("/d/one", "2");
    h.put("/d/two", "2");
    h.ok("DeleteParameter", json!({"Name": "/d/one"}));
    let again = h.err("DeleteParameter", json!({"Name": "/d/one"}));
    assert_eq!(
        (again.code.as_ref(), again.message.as_str()),
        ("ParameterNotFound", "")
    );
    assert!(!h.everything_stored().contains("/d/one"));
    let deleted = h.ok("DeleteParameters", json!({"Names": ["/d/two", "/d/three"]}));
    assert_eq!(
        deleted,
        json!({"DeletedParameters": ["/d/two"], "InvalidParameters": ["/d/three"]})
    );
    // Recreated, it starts again at version 1.
    assert_eq!(h.put("/d/one", "new")["Version"], 1);
}
