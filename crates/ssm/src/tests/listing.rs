//! GetParametersByPath and DescribeParameters: levels, paging, filters.

use serde_json::{Value, json};

use super::Harness;

fn names(answer: &Value) -> Vec<String> {
    answer["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap().to_owned())
        .collect()
}

fn tree() -> Harness {
    let h = Harness::new();
    for name in [
        "/app/a",
        "/app/b",
        "/app/sub/c",
        "/app/sub/deep/d",
        "/apps/x",
        "top",
    ] {
        h.put(name, name);
    }
    h.ok(
        "PutParameter",
        json!({"Name": "/app/list", "Value": "1,2", "Type": "StringList",
               "Tags": [{"Key": "team", "Value": "red"}]}),
    );
    h
}

#[test]
fn by_path_reads_one_level_or_every_level() {
    let h = tree();
    let one = h.ok("GetParametersByPath", json!({"Path": "/app"}));
    assert_eq!(names(&one), ["/app/a", "/app/b", "/app/list"]);
    let all = h.ok(
        "GetParametersByPath",
        json!({"Path": "/app/", "Recursive": true}),
    );
    assert_eq!(
        names(&all),
        [
            "/app/a",
            "/app/b",
            "/app/list",
            "/app/sub/c",
            "/app/sub/deep/d"
        ]
    );
    let root = h.ok("GetParametersByPath", json!({"Path": "/"}));
    assert_eq!(names(&root), ["top"]);
    let bad = h.err("GetParametersByPath", json!({"Path": "app"}));
    assert_eq!(bad.code, "ValidationException");
    assert!(bad.message.contains("must begin with a forward slash"));
}

#[test]
fn by_path_pages_and_filters() {
    let h = tree();
    let first = h.ok(
        "GetParametersByPath",
        json!({"Path": "/app", "Recursive": true, "MaxResults": 2}),
    );
    assert_eq!(names(&first), ["/app/a", "/app/b"]);
    let token = first["NextToken"].as_str().unwrap();
    let second = h.ok(
        "GetParametersByPath",
        json!({"Path": "/app", "Recursive": true, "MaxResults": 2, "NextToken": token}),
    );
    assert_eq!(names(&second), ["/app/list", "/app/sub/c"]);
    // A token from another path's listing is refused.
    let other = h.err(
        "GetParametersByPath",
        json!({"Path": "/apps", "NextToken": token}),
    );
    assert_eq!(other.code, "InvalidNextToken");
    let lists = h.ok(
        "GetParametersByPath",
        json!({"Path": "/app", "Recursive": true,
               "ParameterFilters": [{"Key": "Type", "Values": ["StringList"]}]}),
    );
    assert_eq!(names(&lists), ["/app/list"]);
    let bad_key = h.err(
        "GetParametersByPath",
        json!({"Path": "/app", "ParameterFilters": [{"Key": "Name", "Values": ["x"]}]}),
    );
    assert_eq!(bad_key.code, "InvalidFilterKey");
    let bad_option = h.err(
        "GetParametersByPath",
        json!({"Path": "/app", "ParameterFilters": [{"Key": "Label", "Option": "BeginsWith", "Values": ["x"]}]}),
    );
    assert_eq!(bad_option.code, "InvalidFilterOption");
    // A label filter answers the labelled version.
    h.put("/app/a", "newer");
    h.ok(
        "LabelParameterVersion",
        json!({"Name": "/app/a", "ParameterVersion": 1, "Labels": ["stable"]}),
    );
    let stable = h.ok(
        "GetParametersByPath",
        json!({"Path": "/app", "ParameterFilters": [{"Key": "Label", "Values": ["stable"]}]}),
    );
    assert_eq!(names(&stable), ["/app/a"]);
    assert_eq!(stable["Parameters"][0]["Value"], "/app/a");
    assert_eq!(stable["Parameters"][0]["Selector"], ":stable");
}

#[test]
fn describe_filters_by_every_key() {
    let h = tree();
    let all = h.ok("DescribeParameters", json!({"MaxResults": 50}));
    assert_eq!(names(&all).len(), 7);
    assert!(all["Parameters"][0].get("Value").is_none());
    let describe =
        |filters: Value| names(&h.ok("DescribeParameters", json!({"ParameterFilters": filters})));
    assert_eq!(
        describe(json!([{"Key": "Path", "Option": "Recursive", "Values": ["/app/sub"]}])),
        ["/app/sub/c", "/app/sub/deep/d"]
    );
    assert_eq!(
        describe(json!([{"Key": "Path", "Values": ["/app/sub"]}])),
        ["/app/sub/c"]
    );
    assert_eq!(
        describe(json!([{"Key": "Name", "Option": "BeginsWith", "Values": ["/apps"]}])),
        ["/apps/x"]
    );
    assert_eq!(
        describe(json!([{"Key": "Name", "Option": "Contains", "Values": ["dee"]}])),
        ["/app/sub/deep/d"]
    );
    assert_eq!(
        describe(json!([{"Key": "Name", "Values": ["top"]}])),
        ["top"]
    );
    assert_eq!(
        describe(json!([{"Key": "tag:team", "Values": ["red"]}])),
        ["/app/list"]
    );
    assert_eq!(describe(json!([{"Key": "tag:team"}])), ["/app/list"]);
    assert_eq!(
        describe(json!([{"Key": "tag:team", "Values": ["blue"]}])),
        Vec::<String>::new()
    );
    assert_eq!(
        describe(json!([{"Key": "Tier", "Values": ["Standard"]}])).len(),
        7
    );
    assert_eq!(
        describe(json!([{"Key": "DataType", "Values": ["text"]}])).len(),
        7
    );
    let legacy = names(&h.ok(
        "DescribeParameters",
        json!({"Filters": [{"Key": "Type", "Values": ["StringList"]}]}),
    ));
    assert_eq!(legacy, ["/app/list"]);
    let both = h.err(
        "DescribeParameters",
        json!({"Filters": [{"Key": "Type", "Values": ["String"]}],
               "ParameterFilters": [{"Key": "Type", "Values": ["String"]}]}),
    );
    assert_eq!(both.code, "ValidationException");
    let label = h.err(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Label", "Values": ["x"]}]}),
    );
    assert_eq!(label.code, "InvalidFilterKey");
    let twice = h.err(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Type", "Values": ["String"]}, {"Key": "Type", "Values": ["String"]}]}),
    );
    assert_eq!(twice.code, "InvalidFilterKey");
    let no_values = h.err(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Type"}]}),
    );
    assert_eq!(no_values.code, "InvalidFilterValue");
    let bad_type = h.err(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Type", "Values": ["Secret"]}]}),
    );
    assert_eq!(bad_type.code, "InvalidFilterValue");
    let bad_path = h.err(
        "DescribeParameters",
        json!({"ParameterFilters": [{"Key": "Path", "Values": ["app"]}]}),
    );
    assert_eq!(bad_path.code, "ValidationException");
}

#[test]
fn describe_pages_in_name_order() {
    let h = tree();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"MaxResults": 3});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = h.ok("DescribeParameters", input);
        seen.extend(names(&page));
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen, sorted);
}
