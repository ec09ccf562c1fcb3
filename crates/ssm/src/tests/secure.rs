//! SecureString: encrypted by KMS (Encrypt for standard, a data key for advanced), kept only
//! as ciphertext, decrypted on request; KMS's refusals as Parameter Store answers them.

use serde_json::json;

use super::Harness;

const SECRET: &str = "correct-horse-battery-staple";

#[test]
fn a_standard_secure_string_is_kept_as_kms_ciphertext_under_the_aws_managed_key() {
    let h = Harness::new();
    let put = h.ok(
        "PutParameter",
        json!({"Name": "/db/password", "Value": SECRET, "Type": "SecureString"}),
    );
    assert_eq!(put["Tier"], "Standard");
    // KMS made alias/aws/ssm, then encrypted directly.
    assert_eq!(*h.kms.calls.lock().unwrap(), ["AwsManagedKey", "Encrypt"]);
    assert!(!h.everything_stored().contains(SECRET));
    let hidden = h.ok("GetParameter", json!({"Name": "/db/password"}));
    let ciphertext = hidden["Parameter"]["Value"].as_str().unwrap();
    assert_ne!(ciphertext, SECRET);
    assert!(!ciphertext.contains(SECRET));
    let shown = h.ok(
        "GetParameter",
        json!({"Name": "/db/password", "WithDecryption": true}),
    );
    assert_eq!(shown["Parameter"]["Value"], SECRET);
    assert_eq!(h.kms.calls.lock().unwrap().last().unwrap(), "Decrypt");
    let described = h.ok("DescribeParameters", json!({}));
    assert_eq!(described["Parameters"][0]["KeyId"], "alias/aws/ssm");
    // A new version without KeyId keeps the key; history decrypts each version.
    h.ok(
        "PutParameter",
        json!({"Name": "/db/password", "Value": "second", "Overwrite": true}),
    );
    let history = h.ok(
        "GetParameterHistory",
        json!({"Name": "/db/password", "WithDecryption": true}),
    );
    let values: Vec<&str> = history["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Value"].as_str().unwrap())
        .collect();
    assert_eq!(values, [SECRET, "second"]);
    assert_eq!(history["Parameters"][1]["KeyId"], "alias/aws/ssm");
    assert!(!h.everything_stored().contains("second"));
}

#[test]
fn an_advanced_secure_string_is_sealed_under_a_data_key() {
    let h = Harness::new();
    let large = format!("{SECRET}{}", "x".repeat(6000));
    let put = h.ok(
        "PutParameter",
        json!({"Name": "/big/secret", "Value": large, "Type": "SecureString",
               "Tier": "Advanced"}),
    );
    assert_eq!(put["Tier"], "Advanced");
    assert_eq!(
        h.kms.calls.lock().unwrap().last().unwrap(),
        "GenerateDataKey"
    );
    assert!(!h.everything_stored().contains(SECRET));
    let shown = h.ok(
        "GetParameter",
        json!({"Name": "/big/secret", "WithDecryption": true}),
    );
    assert_eq!(shown["Parameter"]["Value"], large);
    let by_path = h.ok(
        "GetParametersByPath",
        json!({"Path": "/big", "WithDecryption": true}),
    );
    assert_eq!(by_path["Parameters"][0]["Value"], large);
}

#[test]
fn a_customer_key_is_used_and_a_missing_one_is_invalid() {
    let h = Harness::new();
    let key = h
        .env
        .write(|env, tx| {
            let kms = rampart_kms::Kms::new();
            let rampart_service::Handler::Write(create) =
                &rampart_service::Service::operation(&kms, "CreateKey")
                    .unwrap()
                    .handler
            else {
                unreachable!()
            };
            Ok::<_, rampart_store::StoreError>(create(env, tx, json!({})).unwrap())
        })
        .unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    h.ok(
        "PutParameter",
        json!({"Name": "/c", "Value": SECRET, "Type": "SecureString", "KeyId": key}),
    );
    assert!(
        !h.kms
            .calls
            .lock()
            .unwrap()
            .contains(&"AwsManagedKey".to_owned())
    );
    let described = h.ok("DescribeParameters", json!({}));
    assert_eq!(described["Parameters"][0]["KeyId"], key.as_str());
    let shown = h.ok(
        "GetParameter",
        json!({"Name": "/c", "WithDecryption": true}),
    );
    assert_eq!(shown["Parameter"]["Value"], SECRET);
    let missing = h.err(
        "PutParameter",
        json!({"Name": "/d", "Value": SECRET, "Type": "SecureString",
               "KeyId": "11111111-2222-3333-4444-555555555555"}),
    );
    assert_eq!(missing.code, "InvalidKeyId");
    assert!(
        missing.message.contains(
            "(Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "
        ),
        "{}",
        missing.message
    );
    // Nothing was kept for the refused parameter.
    assert_eq!(
        h.err("GetParameter", json!({"Name": "/d"})).code,
        "ParameterNotFound"
    );
}

#[test]
fn a_kms_refusal_is_answered_as_parameter_stores_access_denied() {
    let h = Harness::new();
    h.ok(
        "PutParameter",
        json!({"Name": "/s", "Value": SECRET, "Type": "SecureString"}),
    );
    *h.kms.deny.lock().unwrap() = true;
    let refused = h.err(
        "GetParameter",
        json!({"Name": "/s", "WithDecryption": true}),
    );
    assert_eq!(refused.code, "AccessDeniedException");
    assert!(refused.message.contains("kms:Decrypt"));
    assert!(
        refused
            .message
            .contains("Error Code: AccessDeniedException")
    );
    assert!(!refused.message.contains(SECRET));
    // Without decryption no KMS call is made, and the ciphertext is answered.
    let hidden = h.ok("GetParameter", json!({"Name": "/s"}));
    assert_ne!(hidden["Parameter"]["Value"], SECRET);
    let put = h.err(
        "PutParameter",
        json!({"Name": "/s2", "Value": SECRET, "Type": "SecureString"}),
    );
    assert_eq!(put.code, "AccessDeniedException");
}
