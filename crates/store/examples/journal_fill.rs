//! Fills a data directory's journal with synthetic CloudTrail events, for measuring
//! LookupEvents over a large journal (docs/PERFORMANCE.md).
//!
//! `cargo run --release -p rampart-store --example journal_fill -- <rampart.db> <account> <count>`
//!
//! Events spread evenly over the last 30 days, one transaction per 10,000; names, users,
//! keys and resources vary so that each lookup attribute has rare and common values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark tool"
)]

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rampart_store::{JournalAppend, SqliteStore, Store, StoreError};

const NAMES: [&str; 8] = [
    "GetCallerIdentity",
    "ListUsers",
    "CreateUser",
    "Decrypt",
    "Encrypt",
    "AssumeRole",
    "PutUserPolicy",
    "DeleteUser",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, account, count) = (&args[1], args[2].clone(), args[3].parse::<i64>().unwrap());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(std::path::Path::new(path)).unwrap());
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let span = 30 * 24 * 3600;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    let batch = 10_000;
    let mut n = 0;
    while n < count {
        let (from, to) = (n, (n + batch).min(count));
        let account = account.clone();
        runtime
            .block_on(store.write_with(move |tx| {
                for i in from..to {
                    let time = now - span + span * i / count;
                    let name = NAMES[usize::try_from(i % 8).unwrap()];
                    let user = format!("user{}", i % 1000);
                    let key = format!("AKIABENCH{:011}", i % 1000);
                    let resource = format!("arn:aws:iam::{account}:user/target{}", i % 50_000);
                    let resources = [("AWS::IAM::User".to_owned(), format!("target{}", i % 50_000))];
                    let event_id = format!("00000000-0000-4000-8000-{i:012}");
                    let event = format!(
                        r#"{{"awsRegion":"us-east-1","eventCategory":"Management","eventID":"{event_id}","eventName":"{name}","eventSource":"iam.amazonaws.com","eventTime":"{time}","eventType":"AwsApiCall","eventVersion":"1.11","managementEvent":true,"readOnly":{ro},"recipientAccountId":"{account}","requestID":"{event_id}","requestParameters":{{"userName":"target{t}"}},"resources":[{{"ARN":"{resource}","accountId":"{account}","type":"AWS::IAM::User"}}],"responseElements":null,"sourceIPAddress":"127.0.0.1","userAgent":"bench","userIdentity":{{"accessKeyId":"{key}","accountId":"{account}","arn":"arn:aws:iam::{account}:user/{user}","principalId":"AIDABENCH","type":"IAMUser","userName":"{user}"}}}}"#,
                        ro = i % 2 == 0,
                        t = i % 50_000,
                    );
                    tx.append_journal(&JournalAppend {
                        event: event.as_bytes(),
                        event_time: time,
                        account: Some(&account),
                        event_id: &event_id,
                        event_name: name,
                        event_source: "iam.amazonaws.com",
                        username: Some(&user),
                        access_key_id: Some(&key),
                        read_only: i % 2 == 0,
                        resources: &resources,
                    })?;
                }
                Ok::<_, StoreError>(())
            }))
            .unwrap();
        n = to;
    }
    println!(
        "appended {count} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
