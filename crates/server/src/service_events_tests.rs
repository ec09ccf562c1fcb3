//! The events services record of their own work (`AwsServiceEvent`): written with the work
//! that they describe, in AWS's shapes, found by LookupEvents.

use super::*;

fn events_named(state: &AppState, name: &str) -> Vec<Value> {
    journal(state)
        .into_iter()
        .filter(|e| e["eventName"] == name)
        .collect()
}

/// The envelope every service event has: no caller, nothing requested.
fn assert_service_event(event: &Value, source: &str, invoked_by: &str) {
    assert_eq!(event["eventType"], "AwsServiceEvent", "{event}");
    assert_eq!(event["eventSource"], source);
    assert_eq!(
        event["userIdentity"],
        json!({"accountId": ACCOUNT, "invokedBy": invoked_by})
    );
    assert_eq!(event["sourceIPAddress"], invoked_by);
    assert_eq!(event["userAgent"], invoked_by);
    assert_eq!(event["requestParameters"], Value::Null);
    assert_eq!(event["recipientAccountId"], ACCOUNT);
    assert_eq!(event["awsRegion"], "eu-west-1");
    assert_eq!(event["readOnly"], false);
    assert_eq!(event["managementEvent"], true);
    assert_eq!(event["eventCategory"], "Management");
}

fn assert_secrets_event(event: &Value, arn: &str) {
    assert_service_event(
        event,
        "secretsmanager.amazonaws.com",
        "secretsmanager.amazonaws.com",
    );
    assert_eq!(event["additionalEventData"], json!({"SecretId": arn}));
    assert!(event.get("resources").is_none(), "{event}");
}

async fn lookup(state: &Arc<AppState>, name: &str) -> Vec<Value> {
    let found = test_support::as_root(
        state,
        ACCOUNT,
        AT,
        ("cloudtrail", "LookupEvents"),
        json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}]}),
    )
    .await;
    found["Events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn rotations_record_when_they_start_succeed_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let created = as_root(&state, "iam", "CreateUser", json!({"UserName": "ops"})).await;
    let ops = Caller {
        account_id: ACCOUNT.to_owned(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/ops"),
        principal_id: created["User"]["UserId"].as_str().unwrap().to_owned(),
        kind: rampart_service::PrincipalKind::IamUser,
        user_name: Some("ops".to_owned()),
        access_key_id: "AKIAOPS".to_owned(),
    };
    let secret = as_caller(
        &state,
        ops.clone(),
        "secretsmanager",
        "CreateSecret",
        json!({"Name": "db", "SecretString": "initial"}),
    )
    .await
    .unwrap();
    let arn = secret["ARN"].as_str().unwrap().to_owned();
    let builtin = format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:function:rampart-random-password");
    // RotateSecret rotates at once through the built-in function.
    let rotated = as_caller(
        &state,
        ops.clone(),
        "secretsmanager",
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": builtin,
               "RotationRules": {"AutomaticallyAfterDays": 1}}),
    )
    .await
    .unwrap();
    let token = rotated["VersionId"].as_str().unwrap();
    let started = events_named(&state, "RotationStarted");
    let succeeded = events_named(&state, "RotationSucceeded");
    assert_eq!((started.len(), succeeded.len()), (1, 1));
    for event in [&started[0], &succeeded[0]] {
        assert_secrets_event(event, &arn);
        assert_eq!(event["requestID"], format!("Rotation-{arn}-{token}"));
        assert!(event.get("errorMessage").is_none());
    }
    assert_eq!(succeeded[0]["responseElements"], Value::Null);
    assert_eq!(lookup(&state, "RotationSucceeded").await.len(), 1);

    // The scheduled rotation, a day later: started and succeeded again.
    let round = run_due(&state, T0 + time::Duration::days(2)).await.unwrap();
    assert_eq!((round.ran, round.failed), (1, 0));
    assert_eq!(events_named(&state, "RotationSucceeded").len(), 2);

    // ops loses the key: the next scheduled rotation fails, and says why.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Action": "kms:GenerateDataKey", "Resource": "*"}]});
    as_root(
        &state,
        "iam",
        "PutUserPolicy",
        json!({"UserName": "ops", "PolicyName": "no-kms", "PolicyDocument": deny.to_string()}),
    )
    .await;
    run_due(&state, T0 + time::Duration::days(4)).await.unwrap();
    let failed = events_named(&state, "RotationFailed");
    assert_eq!(failed.len(), 1);
    assert_secrets_event(&failed[0], &arn);
    let reason = failed[0]["errorMessage"].as_str().unwrap();
    assert!(reason.starts_with(&format!("Error when executing lambda {builtin}")));
    assert!(reason.contains("AccessDenied"), "{reason}");
    assert_eq!(events_named(&state, "RotationStarted").len(), 3);
    assert_eq!(events_named(&state, "RotationSucceeded").len(), 2);

    // RotateSecret starts the function as AWS does, asynchronously: the call succeeds and the
    // function's failure is the rotation's, in its own RotationFailed event.
    let rotated = as_caller(
        &state,
        ops,
        "secretsmanager",
        "RotateSecret",
        json!({"SecretId": "db"}),
    )
    .await
    .unwrap();
    let token = rotated["VersionId"].as_str().unwrap();
    assert_eq!(events_named(&state, "RotationStarted").len(), 4);
    let failed = events_named(&state, "RotationFailed");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1]["requestID"], format!("Rotation-{arn}-{token}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn deletions_record_their_start_cancellation_and_end() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let secret = as_root(
        &state,
        "secretsmanager",
        "CreateSecret",
        json!({"Name": "old", "SecretString": "x"}),
    )
    .await;
    let arn = secret["ARN"].as_str().unwrap().to_owned();
    let delete = json!({"SecretId": "old", "RecoveryWindowInDays": 7});
    as_root(&state, "secretsmanager", "DeleteSecret", delete.clone()).await;
    as_root(
        &state,
        "secretsmanager",
        "RestoreSecret",
        json!({"SecretId": "old"}),
    )
    .await;
    as_root(&state, "secretsmanager", "DeleteSecret", delete).await;
    assert_eq!(events_named(&state, "StartSecretVersionDelete").len(), 2);
    let cancelled = events_named(&state, "CancelSecretVersionDelete");
    assert_eq!(cancelled.len(), 1);
    assert_secrets_event(&cancelled[0], &arn);
    // Not before the window ends.
    run_due(&state, T0 + time::Duration::days(6)).await.unwrap();
    assert!(events_named(&state, "EndSecretVersionDelete").is_empty());
    run_due(&state, T0 + time::Duration::days(8)).await.unwrap();
    let ended = events_named(&state, "EndSecretVersionDelete");
    assert_eq!(ended.len(), 1);
    assert_secrets_event(&ended[0], &arn);
    assert_eq!(
        ended[0]["eventTime"],
        rampart_service::aws_timestamp(T0 + time::Duration::days(8))
    );
    assert!(ended[0].get("requestID").is_none());
    assert_eq!(lookup(&state, "EndSecretVersionDelete").await.len(), 1);

    // Forced: started and ended at once.
    as_root(
        &state,
        "secretsmanager",
        "CreateSecret",
        json!({"Name": "gone", "SecretString": "x"}),
    )
    .await;
    as_root(
        &state,
        "secretsmanager",
        "DeleteSecret",
        json!({"SecretId": "gone", "ForceDeleteWithoutRecovery": true}),
    )
    .await;
    assert_eq!(events_named(&state, "StartSecretVersionDelete").len(), 3);
    assert_eq!(events_named(&state, "EndSecretVersionDelete").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_demand_key_rotation_records_rotate_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let key = kms(&state, "CreateKey", json!({})).await;
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    kms(&state, "RotateKeyOnDemand", json!({"KeyId": key_id})).await;
    let rotations = events_named(&state, "RotateKey");
    assert_eq!(rotations.len(), 1);
    let event = &rotations[0];
    assert_service_event(event, "kms.amazonaws.com", "AWS Internal");
    assert_eq!(
        event["resources"],
        json!([{"ARN": arn, "accountId": ACCOUNT, "type": "AWS::KMS::Key"}])
    );
    let details = &event["serviceEventDetails"];
    assert_eq!(details["rotationType"], "ON_DEMAND");
    assert_eq!(details["keyId"], key_id.as_str());
    assert_eq!(details["keyOrigin"], "AWS_KMS");
    assert!(details["currentKeyMaterialId"].is_string());
    assert!(details["previousKeyMaterialId"].is_string());
    assert_ne!(
        details["currentKeyMaterialId"],
        details["previousKeyMaterialId"]
    );
    // A refused rotation (an asymmetric key cannot rotate) records none.
    let asymmetric = kms(
        &state,
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
    )
    .await;
    let refused = test_support::as_caller(
        &state,
        Caller::root(ACCOUNT, "AKIAROOT"),
        AT,
        ("kms", "RotateKeyOnDemand"),
        json!({"KeyId": asymmetric["KeyMetadata"]["KeyId"]}),
    )
    .await;
    assert!(refused.is_err());
    assert_eq!(events_named(&state, "RotateKey").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn automatic_key_rotation_records_rotate_key_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let key = kms(&state, "CreateKey", json!({})).await;
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    kms(
        &state,
        "EnableKeyRotation",
        json!({"KeyId": key_id, "RotationPeriodInDays": 90}),
    )
    .await;
    run_due(&state, T0 + time::Duration::days(89))
        .await
        .unwrap();
    assert!(events_named(&state, "RotateKey").is_empty());
    let at = T0 + time::Duration::days(91);
    run_due(&state, at).await.unwrap();
    run_due(&state, at).await.unwrap();
    let rotations = events_named(&state, "RotateKey");
    assert_eq!(rotations.len(), 1, "once, however often the scheduler asks");
    let event = &rotations[0];
    assert_service_event(event, "kms.amazonaws.com", "AWS Internal");
    assert_eq!(event["eventTime"], rampart_service::aws_timestamp(at));
    assert_eq!(event["resources"][0]["ARN"], arn.as_str());
    assert_eq!(event["serviceEventDetails"]["rotationType"], "AUTOMATIC");
    assert_eq!(event["serviceEventDetails"]["keyId"], key_id.as_str());
    assert!(event["serviceEventDetails"]["previousKeyMaterialId"].is_string());
    // The rotation is in the key's record: ListKeyRotations shows it.
    let listed = kms(&state, "ListKeyRotations", json!({"KeyId": key_id})).await;
    assert_eq!(
        listed["Rotations"][0]["KeyMaterialId"],
        event["serviceEventDetails"]["currentKeyMaterialId"]
    );
    assert_eq!(lookup(&state, "RotateKey").await.len(), 1);
    // Disabled: no further rotation is recorded.
    kms(&state, "DisableKeyRotation", json!({"KeyId": key_id})).await;
    run_due(&state, T0 + time::Duration::days(200))
        .await
        .unwrap();
    assert_eq!(events_named(&state, "RotateKey").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_deleted_at_the_end_of_its_window_records_delete_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let key = kms(&state, "CreateKey", json!({})).await;
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let kept = kms(&state, "CreateKey", json!({})).await;
    let kept_id = kept["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let window = json!({"PendingWindowInDays": 7});
    for id in [&key_id, &kept_id] {
        let mut input = window.clone();
        input["KeyId"] = json!(id);
        kms(&state, "ScheduleKeyDeletion", input).await;
    }
    // The second key's deletion is cancelled: its timer finds nothing to do.
    kms(&state, "CancelKeyDeletion", json!({"KeyId": kept_id})).await;
    run_due(&state, T0 + time::Duration::days(6)).await.unwrap();
    assert!(events_named(&state, "DeleteKey").is_empty());
    let at = T0 + time::Duration::days(8);
    run_due(&state, at).await.unwrap();
    let deleted = events_named(&state, "DeleteKey");
    assert_eq!(deleted.len(), 1);
    let event = &deleted[0];
    assert_service_event(event, "kms.amazonaws.com", "AWS Internal");
    assert_eq!(event["eventTime"], rampart_service::aws_timestamp(at));
    assert_eq!(
        event["resources"],
        json!([{"ARN": arn, "accountId": ACCOUNT, "type": "AWS::KMS::Key"}])
    );
    assert_eq!(event["responseElements"], json!({"keyId": arn}));
    assert!(event.get("serviceEventDetails").is_none());
    assert_eq!(lookup(&state, "DeleteKey").await.len(), 1);
    // The record is gone; a later purge by CreateKey does not delete (or record) it again.
    kms(&state, "CreateKey", json!({})).await;
    assert_eq!(events_named(&state, "DeleteKey").len(), 1);
    let described = test_support::as_caller(
        &state,
        Caller::root(ACCOUNT, "AKIAROOT"),
        AT,
        ("kms", "DescribeKey"),
        json!({"KeyId": kept_id}),
    )
    .await
    .unwrap();
    // Still there, disabled, as a cancelled deletion leaves a key.
    assert_eq!(described["KeyMetadata"]["KeyState"], "Disabled");
}
