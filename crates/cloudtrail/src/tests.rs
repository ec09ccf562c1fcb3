//! Handler tests on a real store.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use rampart_service::testing::{ACCOUNT, TestEnv};
use std::sync::Arc;

use rampart_service::{Env, OsEntropy};
use rampart_store::{JournalAppend, StoreError};
use serde_json::json;

use crate::lookup::{LookupEventsInput, lookup_events};
use crate::trails::*;

/// The shared handler harness, with CloudTrail's handlers called on JSON.
struct Harness {
    t: TestEnv,
}

impl Harness {
    fn new() -> Self {
        Self { t: TestEnv::new() }
    }

    fn write<I: serde::de::DeserializeOwned + 'static, O: serde::Serialize + 'static>(
        &self,
        handler: fn(
            &Env<'_>,
            &mut dyn rampart_store::WriteTx,
            I,
        ) -> Result<O, crate::CloudTrailError>,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, rampart_service::AwsError> {
        self.t
            .write(move |env, tx| {
                let input: I = serde_json::from_value(input).unwrap();
                Ok::<_, StoreError>(
                    handler(env, tx, input)
                        .map(|o| serde_json::to_value(o).unwrap())
                        .map_err(rampart_service::AwsError::from),
                )
            })
            .unwrap()
    }

    fn read<I: serde::de::DeserializeOwned, O: serde::Serialize>(
        &self,
        handler: fn(
            &Env<'_>,
            &mut dyn rampart_store::ReadTx,
            I,
        ) -> Result<O, crate::CloudTrailError>,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, rampart_service::AwsError> {
        self.t.read_infallible(|env, tx| {
            let input: I = serde_json::from_value(input).unwrap();
            handler(env, tx, input)
                .map(|o| serde_json::to_value(o).unwrap())
                .map_err(rampart_service::AwsError::from)
        })
    }
}

#[test]
fn trails_are_created_started_stopped_and_deleted() {
    let h = Harness::new();
    let created = h
        .write(
            create_trail,
            json!({"Name": "main", "S3BucketName": "logs", "EnableLogFileValidation": true}),
        )
        .unwrap();
    assert_eq!(
        created["TrailARN"],
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
    );
    assert_eq!(created["LogFileValidationEnabled"], true);
    let again = h
        .write(
            create_trail,
            json!({"Name": "main", "S3BucketName": "logs"}),
        )
        .unwrap_err();
    assert_eq!(again.code, "TrailAlreadyExistsException");
    let status = h.read(get_trail_status, json!({"Name": "main"})).unwrap();
    assert_eq!(status["IsLogging"], false);
    h.write(
        start_logging,
        json!({"Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}),
    )
    .unwrap();
    let status = h.read(get_trail_status, json!({"Name": "main"})).unwrap();
    assert_eq!(status["IsLogging"], true);
    assert_eq!(status["StartLoggingTime"], "2026-11-24T12:00:00Z");
    h.write(stop_logging, json!({"Name": "main"})).unwrap();
    let got = h.read(get_trail, json!({"Name": "main"})).unwrap();
    assert_eq!(got["Trail"]["HomeRegion"], "us-east-1");
    assert_eq!(got["Trail"]["S3BucketName"], "logs");
    let listed = h.read(list_trails, json!({})).unwrap();
    assert_eq!(listed["Trails"].as_array().unwrap().len(), 1);
    h.write(delete_trail, json!({"Name": "main"})).unwrap();
    let gone = h.read(get_trail, json!({"Name": "main"})).unwrap_err();
    assert_eq!(gone.code, "TrailNotFoundException");
    assert_eq!(
        gone.message,
        "Unknown trail: arn:aws:cloudtrail:us-east-1:123456789012:trail/main for the user: 123456789012"
    );
}

#[test]
fn names_buckets_kms_keys_and_quotas_are_checked() {
    let h = Harness::new();
    for (input, code) in [
        (
            json!({"Name": "ab", "S3BucketName": "logs"}),
            "InvalidTrailNameException",
        ),
        (
            json!({"Name": "-abc", "S3BucketName": "logs"}),
            "InvalidTrailNameException",
        ),
        (
            json!({"Name": "a..b", "S3BucketName": "logs"}),
            "InvalidTrailNameException",
        ),
        (
            json!({"Name": "abc", "S3BucketName": "Logs_Bad"}),
            "InvalidS3BucketNameException",
        ),
        (
            json!({"Name": "abc", "S3BucketName": "logs", "S3KeyPrefix": "../up"}),
            "InvalidS3PrefixException",
        ),
        (
            json!({"Name": "abc", "S3BucketName": "logs", "KmsKeyId": "arn:aws:s3:::logs"}),
            "InvalidKmsKeyIdException",
        ),
    ] {
        assert_eq!(h.write(create_trail, input).unwrap_err().code, code);
    }
    for n in 0..5 {
        h.write(
            create_trail,
            json!({"Name": format!("trail{n}"), "S3BucketName": "logs"}),
        )
        .unwrap();
    }
    let sixth = h
        .write(
            create_trail,
            json!({"Name": "trail5", "S3BucketName": "logs"}),
        )
        .unwrap_err();
    assert_eq!(sixth.code, "MaximumNumberOfTrailsExceededException");
    let arn = h
        .read(
            get_trail,
            json!({"Name": "arn:aws:cloudtrail:us-east-1:999999999999:trail/trail0"}),
        )
        .unwrap_err();
    assert_eq!(arn.code, "TrailNotFoundException");
    let bad = h
        .read(get_trail, json!({"Name": "arn:aws:s3:::bucket"}))
        .unwrap_err();
    assert_eq!(bad.code, "CloudTrailARNInvalidException");
}

#[test]
fn event_selectors_default_replace_and_select() {
    let h = Harness::new();
    h.write(
        create_trail,
        json!({"Name": "main", "S3BucketName": "logs"}),
    )
    .unwrap();
    let default = h
        .read(get_event_selectors, json!({"TrailName": "main"}))
        .unwrap();
    assert_eq!(default["EventSelectors"][0]["ReadWriteType"], "All");
    h.write(
        put_event_selectors,
        json!({"TrailName": "main", "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]}),
    )
    .unwrap();
    let both = h
        .write(
            put_event_selectors,
            json!({"TrailName": "main", "EventSelectors": [], "AdvancedEventSelectors": []}),
        )
        .unwrap_err();
    assert_eq!(both.code, "InvalidParameterCombinationException");
    let trail: TrailRecord =
        h.t.store
            .read_with(|tx| rampart_store::get_json(tx, TRAILS_NS, "123456789012/main"))
            .map_err(|e: StoreError| e)
            .unwrap()
            .unwrap();
    let event = |read_only: bool, account: &str| {
        json!({"recipientAccountId": account, "eventSource": "kms.amazonaws.com",
               "awsRegion": "us-east-1", "readOnly": read_only})
    };
    assert!(trail.selects(&event(false, ACCOUNT)));
    assert!(!trail.selects(&event(true, ACCOUNT)), "write-only selector");
    assert!(
        !trail.selects(&event(false, "999999999999")),
        "another account"
    );
}

#[test]
fn lookup_events_pages_newest_first_and_filters() {
    let h = Harness::new();
    let now = time::macros::datetime!(2026-11-24 12:00:00 UTC).unix_timestamp();
    for n in 0..7i64 {
        let event = json!({"eventID": format!("e{n}"), "eventName": if n % 2 == 0 {"CreateUser"} else {"ListUsers"},
            "eventSource": "iam.amazonaws.com", "readOnly": n % 2 == 1,
            "userIdentity": {"type": "Root", "accessKeyId": "AKIAROOT"},
            "resources": [{"ARN": format!("arn:aws:iam::123456789012:user/u{n}"), "accountId": ACCOUNT, "type": "AWS::IAM::User"}]})
        .to_string();
        h.t.write(move |_, tx| {
            let resources = [("AWS::IAM::User".to_owned(), format!("u{n}"))];
            tx.append_journal(&JournalAppend {
                event: event.as_bytes(),
                event_time: now - 100 + n,
                account: Some(ACCOUNT),
                event_id: &format!("e{n}"),
                event_name: if n % 2 == 0 {
                    "CreateUser"
                } else {
                    "ListUsers"
                },
                event_source: "iam.amazonaws.com",
                username: Some("root"),
                access_key_id: Some("AKIAROOT"),
                read_only: n % 2 == 1,
                resources: &resources,
            })
            .map(|_| ())
        })
        .map_err(|e: StoreError| e)
        .unwrap();
    }
    let lookup = |input: serde_json::Value| h.read::<LookupEventsInput, _>(lookup_events, input);
    let page = lookup(json!({"MaxResults": 3})).unwrap();
    let ids: Vec<_> = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].clone())
        .collect();
    assert_eq!(ids, [json!("e6"), json!("e5"), json!("e4")]);
    assert_eq!(page["Events"][0]["Username"], "root");
    assert_eq!(page["Events"][0]["Resources"][0]["ResourceName"], "u6");
    let next = lookup(json!({"MaxResults": 3, "NextToken": page["NextToken"]})).unwrap();
    assert_eq!(next["Events"][0]["EventId"], "e3");
    let writes = lookup(
        json!({"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]}),
    )
    .unwrap();
    assert_eq!(writes["Events"].as_array().unwrap().len(), 4);
    assert!(writes.get("NextToken").is_none());
    let by_resource = lookup(
        json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "u3"}]}),
    )
    .unwrap();
    assert_eq!(by_resource["Events"][0]["EventId"], "e3");
    let windowed =
        lookup(json!({"StartTime": "2026-11-24T11:58:24Z", "EndTime": "2026-11-24T11:58:25Z"}))
            .unwrap();
    assert_eq!(windowed["Events"].as_array().unwrap().len(), 2);
    for (input, code) in [
        (
            json!({"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]}),
            "InvalidLookupAttributesException",
        ),
        (
            json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "a"}, {"AttributeKey": "EventName", "AttributeValue": "b"}]}),
            "InvalidLookupAttributesException",
        ),
        (
            json!({"StartTime": "2026-11-24T12:00:00Z", "EndTime": "2026-11-24T11:00:00Z"}),
            "InvalidTimeRangeException",
        ),
        (json!({"NextToken": "garbage"}), "InvalidNextTokenException"),
    ] {
        assert_eq!(lookup(input).unwrap_err().code, code);
    }
}

impl Harness {
    /// Calls a KMS operation through its registered handler, as the spine would after
    /// authorizing it.
    fn kms(&self, operation: &str, input: serde_json::Value) -> serde_json::Value {
        let kms = rampart_kms::Kms::new();
        let name = operation.to_owned();
        self.t
            .write(move |env, tx| {
                let op = rampart_service::Service::operation(&kms, &name).unwrap();
                let out = match &op.handler {
                    rampart_service::Handler::Write(h) => h(env, tx, input),
                    rampart_service::Handler::Read(h) => h(env, tx, input),
                };
                Ok::<_, StoreError>(out.unwrap())
            })
            .unwrap()
    }
}

/// KMS as CloudTrail's key check reaches it here: one fixed answer, and the calls asked for.
/// (The spine's authorization of these calls, against real key policies, is tested in the
/// server crate and end to end.)
struct Kms {
    answer: Result<serde_json::Value, &'static str>,
    asked: std::sync::Mutex<Vec<(String, serde_json::Value, String)>>,
}

impl rampart_service::ServiceCalls for Kms {
    fn call(
        &self,
        _: &mut dyn rampart_store::ReadTx,
        call: rampart_service::ServiceCall<'_>,
    ) -> Result<serde_json::Value, rampart_service::AwsError> {
        let principal = match call.principal {
            rampart_service::CallPrincipal::Service {
                principal,
                source_arn,
                source_account,
                via,
            } => format!("{principal} for {source_arn} of {source_account} via {via:?}"),
            rampart_service::CallPrincipal::OnBehalfOfCaller
            | rampart_service::CallPrincipal::CallerItself => "the caller".to_owned(),
            rampart_service::CallPrincipal::Principal { principal, .. } => {
                format!("principal {}", principal.unique_id)
            }
        };
        self.asked.lock().unwrap().push((
            format!("{}:{}", call.service, call.operation),
            call.input,
            principal,
        ));
        self.answer
            .clone()
            .map_err(|code| rampart_service::AwsError::new(code, 400, "refused"))
    }

    fn call_write(
        &self,
        tx: &mut dyn rampart_store::WriteTx,
        call: rampart_service::ServiceCall<'_>,
    ) -> Result<serde_json::Value, rampart_service::AwsError> {
        self.call(tx, call)
    }
}

fn answering(answer: Result<serde_json::Value, &'static str>) -> (Harness, Arc<Kms>) {
    let kms = Arc::new(Kms {
        answer,
        asked: std::sync::Mutex::new(Vec::new()),
    });
    let mut h = Harness::new();
    h.t.calls = Arc::clone(&kms) as Arc<dyn rampart_service::ServiceCalls>;
    (h, kms)
}

#[test]
fn a_kms_key_is_checked_by_cloudtrails_own_data_key_call() {
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let (h, kms) = answering(Ok(
        json!({"KeyId": arn, "Plaintext": "", "CiphertextBlob": ""}),
    ));
    let input = json!({"Name": "enc", "S3BucketName": "logs", "KmsKeyId": "alias/trail"});
    let created = h.write(create_trail, input).unwrap();
    // The trail keeps the key's ARN, whatever name it was given by.
    assert_eq!(created["KmsKeyId"], arn.as_str());
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/enc");
    let asked = kms.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [(
            "kms:GenerateDataKey".to_owned(),
            json!({"KeyId": "alias/trail", "KeySpec": "AES_256",
                   "EncryptionContext": {"aws:cloudtrail:arn": trail_arn}}),
            format!("cloudtrail.amazonaws.com for {trail_arn} of {ACCOUNT} via None"),
        )]
    );
    // A malformed key ID never reaches KMS.
    let bad = json!({"Name": "enc", "KmsKeyId": "arn:aws:s3:::logs"});
    assert_eq!(
        h.write(update_trail, bad).unwrap_err().code,
        "InvalidKmsKeyIdException"
    );
    assert_eq!(kms.asked.lock().unwrap().len(), 1);
}

#[test]
fn kms_refusals_are_answered_as_cloudtrail_names_them() {
    for (kms_code, code) in [
        ("NotFoundException", "KmsKeyNotFoundException"),
        (
            "AccessDeniedException",
            "InsufficientEncryptionPolicyException",
        ),
        ("DisabledException", "KmsException"),
        ("KMSInvalidStateException", "KmsException"),
        ("InvalidKeyUsageException", "KmsException"),
        ("InternalFailure", "KmsException"),
    ] {
        let (h, _) = answering(Err(kms_code));
        let input = json!({"Name": "enc", "S3BucketName": "logs", "KmsKeyId": "alias/k"});
        assert_eq!(
            h.write(create_trail, input).unwrap_err().code,
            code,
            "{kms_code}"
        );
        // Nothing was created.
        assert_eq!(
            h.read(get_trail, json!({"Name": "enc"})).unwrap_err().code,
            "TrailNotFoundException"
        );
    }
}

#[test]
fn a_log_file_is_sealed_under_its_data_key_and_kms_decrypt_opens_it() {
    let h = Harness::new();
    let key = h.kms("CreateKey", json!({}))["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let trail: TrailRecord = {
        h.write(create_trail, json!({"Name": "enc", "S3BucketName": "logs"}))
            .unwrap();
        h.t.store
            .read_with(|tx| rampart_store::get_json(tx, TRAILS_NS, &format!("{ACCOUNT}/enc")))
            .unwrap()
            .unwrap()
    };
    let object = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/f.json.gz";
    let context = crate::encryption::log_file_context(&trail, object);
    let generated = h.kms(
        "GenerateDataKey",
        json!({"KeyId": key, "KeySpec": "AES_256", "EncryptionContext": context}),
    );
    let gz = crate::files::gzip(b"{\"Records\":[]}").unwrap();
    let stored =
        crate::encryption::seal_log_file(&generated, context.clone(), &OsEntropy, &gz).unwrap();
    assert!(crate::sse_kms::is_encrypted(&stored));
    let header = crate::sse_kms::header(&stored).unwrap();
    assert_eq!(header.kms_key_arn, key);
    assert_eq!(header.encryption_context, context);
    assert_eq!(
        header.encryption_context["aws:s3:arn"],
        format!("arn:aws:s3:::logs/{object}")
    );
    // KMS Decrypt of the data key, with the file's context, opens it.
    let decrypted = h.kms(
        "Decrypt",
        json!({"CiphertextBlob": header.encrypted_data_key,
               "EncryptionContext": header.encryption_context}),
    );
    let data_key = data_encoding::BASE64
        .decode(decrypted["Plaintext"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(crate::sse_kms::open(&stored, &data_key).unwrap(), gz);
    // A data key KMS never answered seals nothing.
    let broken = json!({"KeyId": key, "Plaintext": "not base64!", "CiphertextBlob": ""});
    let refused = crate::encryption::seal_log_file(&broken, context, &OsEntropy, &gz);
    assert_eq!(refused.unwrap_err().code, "InternalError");
}
