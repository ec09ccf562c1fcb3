#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::Path;

use rampart_service::timers::{earliest_due, parse_timer_key, scan_due, timer_key};
use rampart_service::{
    CallPrincipal, Env, Operation, Operations, RunAs, ServiceCall, Timers, Value,
};
use rampart_store::{ReadTx, SqliteStore, WriteTx, get_json, put_json};
use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::test_support;
use crate::{Registry, ServerConfig};

const ACCOUNT: &str = "123456789012";
/// The chores' timer index: `<due>|<name>` → what to do.
const CHORES: &str = "chores/due";
/// Done chores: name → who did it, where, when.
const DONE: &str = "chores/done";
/// While this document exists, chores fail (after writing: the write must be undone).
const BROKEN: &str = "chores/broken";

/// A service whose only work is timed chores, each done once.
struct Chores {
    operations: Operations,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Chore {
    /// A KMS key to encrypt with, if any: as the service's principal, or as `runs_as`.
    key: Option<String>,
    #[serde(default)]
    runs_as: Option<RunAs>,
}

impl Service for Chores {
    fn name(&self) -> &'static str {
        "chores"
    }
    fn event_source(&self) -> &'static str {
        "chores.amazonaws.com"
    }
    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
    fn operation_names(&self) -> Vec<&'static str> {
        self.operations.names()
    }
    fn timers(&self) -> Option<&dyn Timers> {
        Some(self)
    }
}

impl Timers for Chores {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        Ok(scan_due(tx, CHORES, now, limit)?
            .into_iter()
            .filter_map(|(key, _)| {
                let (due, _) = parse_timer_key(&key)?;
                Some(DueWork {
                    key,
                    account: ACCOUNT.to_owned(),
                    region: "eu-west-1".to_owned(),
                    due,
                })
            })
            .collect())
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, CHORES)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        let store = |e: StoreError| AwsError::new("InternalFailure", 500, e.to_string());
        let Some(chore) = get_json::<Chore>(tx, CHORES, &work.key).map_err(store)? else {
            return Ok(());
        };
        tx.delete(CHORES, &work.key).map_err(store)?;
        let done = json!({"caller": env.caller.arn, "account": env.caller.account_id,
                          "region": env.region, "at": env.now.unix_timestamp()});
        put_json(tx, DONE, &work.key, &done).map_err(store)?;
        if let Some(key) = chore.key {
            let principal = match &chore.runs_as {
                Some(principal) => CallPrincipal::Principal {
                    principal,
                    session_name: "chore-function",
                },
                None => CallPrincipal::Service {
                    principal: "chores.amazonaws.com",
                    source_arn: "arn:aws:chores:eu-west-1:123456789012:chore/x",
                    source_account: ACCOUNT,
                    via: None,
                },
            };
            env.calls.call_write(
                tx,
                ServiceCall {
                    service: "kms",
                    operation: "Encrypt",
                    input: json!({"KeyId": key, "Plaintext": "eA=="}),
                    principal,
                },
            )?;
        }
        if tx.get(BROKEN, "flag").map_err(store)?.is_some() {
            return Err(AwsError::new("ChoreFailed", 500, "the chore failed"));
        }
        Ok(())
    }
}

fn state(path: &Path) -> Arc<AppState> {
    let store = SqliteStore::open_with_options(
        &path.join("rampart.db"),
        &rampart_store::SqliteOptions::small(),
    )
    .unwrap();
    let mut registry = Registry::with_all_services();
    registry.add(Arc::new(Chores {
        operations: Operations::new(Vec::new()),
    }));
    Arc::new(AppState::new(
        Arc::new(store),
        Arc::new(rampart_crypto::RootKey::generate()),
        registry,
        ServerConfig {
            region: "us-east-1".into(),
            enable_reset: false,
        },
    ))
}

async fn write(state: &Arc<AppState>, f: impl FnOnce(&mut dyn WriteTx) + Send + 'static) {
    state
        .store
        .write_with(move |tx| {
            f(tx);
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

async fn schedule(state: &Arc<AppState>, due: OffsetDateTime, name: &str, chore: Chore) {
    let key = timer_key(due, name);
    write(state, move |tx| put_json(tx, CHORES, &key, &chore).unwrap()).await;
}

fn done(state: &Arc<AppState>) -> Vec<(String, Value)> {
    state
        .store
        .read_with(|tx| rampart_store::scan_json(tx, DONE, "", None, 100))
        .unwrap()
}

const T0: OffsetDateTime = datetime!(2026-11-24 12:00:00 UTC);
/// Where and when set-up calls run.
const AT: (&str, OffsetDateTime) = ("eu-west-1", T0);

#[tokio::test(flavor = "multi_thread")]
async fn due_work_runs_once_at_its_time_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = state(dir.path());
    schedule(
        &first,
        T0 + time::Duration::seconds(60),
        "sweep",
        Chore {
            key: None,
            runs_as: None,
        },
    )
    .await;
    // Not yet due: nothing runs, and the scheduler knows when to wake.
    let round = run_due(&first, T0).await.unwrap();
    assert_eq!((round.ran, round.failed), (0, 0));
    assert_eq!(round.next_due, Some(T0 + time::Duration::seconds(60)));
    assert!(done(&first).is_empty());
    let wait = wait_after(&round, T0, Duration::from_secs(300));
    assert_eq!(wait, Duration::from_secs(60));
    // The server restarts: what is due was in the store.
    drop(first);
    let second = state(dir.path());
    let due = T0 + time::Duration::seconds(60);
    let round = run_due(&second, due).await.unwrap();
    assert_eq!((round.ran, round.failed, round.next_due), (1, 0, None));
    let runs = done(&second);
    assert_eq!(runs.len(), 1);
    let (_, run) = &runs[0];
    // It ran as the service's own principal, in the item's account and region, at the
    // scheduler's time.
    assert_eq!(run["caller"], "chores.amazonaws.com");
    assert_eq!(run["account"], ACCOUNT);
    assert_eq!(run["region"], "eu-west-1");
    assert_eq!(run["at"], due.unix_timestamp());
    // Asked again, later: it does not run twice.
    let round = run_due(&second, due + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(round.ran, 0);
    assert_eq!(done(&second).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_work_is_undone_and_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    schedule(
        &state,
        T0,
        "flaky",
        Chore {
            key: None,
            runs_as: None,
        },
    )
    .await;
    write(&state, |tx| tx.put(BROKEN, "flag", b"1").unwrap()).await;
    let round = run_due(&state, T0).await.unwrap();
    assert_eq!((round.ran, round.failed), (0, 1));
    // What the failed work wrote is undone, and the item is still due.
    assert!(done(&state).is_empty());
    assert_eq!(round.next_due, Some(T0));
    // A failure is not retried at once.
    let interval = Duration::from_secs(7);
    assert_eq!(wait_after(&round, T0, interval), interval);
    write(&state, |tx| {
        tx.delete(BROKEN, "flag").unwrap();
    })
    .await;
    let round = run_due(&state, T0 + time::Duration::seconds(7))
        .await
        .unwrap();
    assert_eq!((round.ran, round.failed), (1, 0));
    assert_eq!(done(&state).len(), 1);
}

/// Runs a KMS operation's handler as the account's root user (set-up, not under test).
async fn kms(state: &Arc<AppState>, operation: &'static str, input: Value) -> Value {
    as_root(state, "kms", operation, input).await
}

/// Runs `service`'s `operation` as the account's root user (set-up, not under test).
async fn as_root(
    state: &Arc<AppState>,
    service: &'static str,
    operation: &'static str,
    input: Value,
) -> Value {
    test_support::as_root(state, ACCOUNT, AT, (service, operation), input).await
}

/// Runs `service`'s `operation` as `caller`.
async fn as_caller(
    state: &Arc<AppState>,
    caller: Caller,
    service: &'static str,
    operation: &'static str,
    input: Value,
) -> Result<Value, AwsError> {
    test_support::as_caller(state, caller, AT, (service, operation), input).await
}

fn journal(state: &AppState) -> Vec<Value> {
    state
        .store
        .read_with(|tx| tx.journal_after(0, 1000))
        .unwrap()
        .iter()
        .map(|e| serde_json::from_slice(&e.event).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_made_by_due_work_are_authorized_and_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    // The key's policy lets the chores service encrypt for its own account only.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "chores.amazonaws.com"},
         "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]});
    let key = kms(&state, "CreateKey", json!({"Policy": policy.to_string()})).await["KeyMetadata"]
        ["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    schedule(
        &state,
        T0,
        "encrypt",
        Chore {
            key: Some(key.clone()),
            runs_as: None,
        },
    )
    .await;
    let round = run_due(&state, T0).await.unwrap();
    assert_eq!((round.ran, round.failed), (1, 0));
    // A key whose policy does not name the service: the call is refused, the work undone,
    // and the refusal journaled all the same.
    let other = kms(&state, "CreateKey", json!({})).await["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    schedule(
        &state,
        T0,
        "refused",
        Chore {
            key: Some(other.clone()),
            runs_as: None,
        },
    )
    .await;
    let round = run_due(&state, T0).await.unwrap();
    assert_eq!((round.ran, round.failed), (0, 1));
    assert_eq!(done(&state).len(), 1);
    let events = journal(&state);
    let encrypts: Vec<&Value> = events
        .iter()
        .filter(|e| e["eventName"] == "Encrypt")
        .collect();
    let [allowed, refused] = encrypts.as_slice() else {
        panic!("two Encrypt events: {events:?}")
    };
    for (event, arn) in [(allowed, &key), (refused, &other)] {
        assert_eq!(
            event["userIdentity"],
            json!({"type": "AWSService", "invokedBy": "chores.amazonaws.com"})
        );
        assert_eq!(event["awsRegion"], "eu-west-1");
        assert_eq!(event["resources"][0]["ARN"], arn.as_str());
    }
    assert!(allowed.get("errorCode").is_none(), "{allowed}");
    assert_eq!(refused["errorCode"], "AccessDenied");
}

/// The unique ID IAM gave a user or role, from its Create* answer.
fn unique_id(created: &Value, member: &str, id: &str) -> RunAs {
    RunAs {
        account: ACCOUNT.to_owned(),
        unique_id: created[member][id].as_str().unwrap().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn work_run_as_a_principal_has_its_permissions_as_they_are_now() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    // The key's policy leaves access to identity policies.
    let key = kms(&state, "CreateKey", json!({})).await["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let may_encrypt = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": key,
         "Condition": {"StringEquals": {"kms:ViaService": "chores.eu-west-1.amazonaws.com"}}}]})
    .to_string();
    let alice = as_root(
        &state,
        "iam",
        "CreateUser",
        json!({"UserName": "alice", "Path": "/ops/"}),
    )
    .await;
    let alice = unique_id(&alice, "User", "UserId");
    as_root(
        &state,
        "iam",
        "PutUserPolicy",
        json!({"UserName": "alice",
        "PolicyName": "encrypt", "PolicyDocument": may_encrypt.clone()}),
    )
    .await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = as_root(
        &state,
        "iam",
        "CreateRole",
        json!({"RoleName": "rotator",
        "Path": "/fn/", "AssumeRolePolicyDocument": trust.to_string()}),
    )
    .await;
    let role = unique_id(&role, "Role", "RoleId");
    as_root(
        &state,
        "iam",
        "PutRolePolicy",
        json!({"RoleName": "rotator",
        "PolicyName": "encrypt", "PolicyDocument": may_encrypt}),
    )
    .await;
    let bob = as_root(&state, "iam", "CreateUser", json!({"UserName": "bob"})).await;
    let bob = unique_id(&bob, "User", "UserId");
    let chore = |runs_as: &RunAs| Chore {
        key: Some(key.clone()),
        runs_as: Some(runs_as.clone()),
    };
    // Allowed by its identity policy: a user, and a role in a session named by the work.
    schedule(&state, T0, "as-alice", chore(&alice)).await;
    schedule(&state, T0, "as-role", chore(&role)).await;
    // Bob has no policy: refused.
    schedule(&state, T0, "as-bob", chore(&bob)).await;
    let round = run_due(&state, T0).await.unwrap();
    assert_eq!((round.ran, round.failed), (2, 1));
    let events = journal(&state);
    let encrypts: Vec<&Value> = events
        .iter()
        .filter(|e| e["eventName"] == "Encrypt")
        .collect();
    // In the order of their timers' keys.
    let [by_alice, by_bob, by_role] = encrypts.as_slice() else {
        panic!("three Encrypt events: {events:?}")
    };
    assert_eq!(by_alice["userIdentity"]["type"], "IAMUser");
    assert_eq!(
        by_alice["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/ops/alice")
    );
    assert_eq!(
        by_alice["userIdentity"]["invokedBy"],
        "chores.amazonaws.com"
    );
    assert!(by_alice.get("errorCode").is_none(), "{by_alice}");
    assert_eq!(by_role["userIdentity"]["type"], "AssumedRole");
    assert_eq!(
        by_role["userIdentity"]["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/rotator/chore-function")
    );
    assert_eq!(
        by_role["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/fn/rotator")
    );
    assert!(by_role.get("errorCode").is_none(), "{by_role}");
    assert_eq!(by_bob["errorCode"], "AccessDenied");
    // Alice is deleted and another alice made: the work does not become hers.
    as_root(
        &state,
        "iam",
        "DeleteUserPolicy",
        json!({"UserName": "alice", "PolicyName": "encrypt"}),
    )
    .await;
    as_root(&state, "iam", "DeleteUser", json!({"UserName": "alice"})).await;
    let new_alice = as_root(
        &state,
        "iam",
        "CreateUser",
        json!({"UserName": "alice", "Path": "/ops/"}),
    )
    .await;
    assert_ne!(unique_id(&new_alice, "User", "UserId"), alice);
    let later = T0 + time::Duration::hours(1);
    schedule(&state, later, "as-old-alice", chore(&alice)).await;
    let round = run_due(&state, later).await.unwrap();
    assert_eq!((round.ran, round.failed), (0, 2), "bob's and old alice's");
    let encrypts = journal(&state)
        .iter()
        .filter(|e| e["eventName"] == "Encrypt")
        .count();
    assert_eq!(
        encrypts, 4,
        "bob's second refusal, and nothing as a principal that is gone"
    );
}

/// A secret's scheduled rotation by the built-in function calls KMS as the principal that
/// configured it, with that principal's permissions when it runs.
#[tokio::test(flavor = "multi_thread")]
async fn scheduled_built_in_rotation_runs_as_who_configured_it() {
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
    let root = Caller::root(ACCOUNT, "AKIAROOT");
    // The AWS managed key's policy lets the account's principals use it through Secrets
    // Manager: ops needs no KMS permission of its own.
    let read = |state: &Arc<AppState>| {
        let state = Arc::clone(state);
        let root = root.clone();
        async move {
            as_caller(
                &state,
                root,
                "secretsmanager",
                "GetSecretValue",
                json!({"SecretId": "db"}),
            )
            .await
            .unwrap()
        }
    };
    as_caller(
        &state,
        ops.clone(),
        "secretsmanager",
        "CreateSecret",
        json!({"Name": "db", "SecretString": "initial"}),
    )
    .await
    .unwrap();
    let builtin = format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:function:rampart-random-password");
    as_caller(
        &state,
        ops.clone(),
        "secretsmanager",
        "RotateSecret",
        json!({"SecretId": "db", "RotationLambdaARN": builtin, "RotateImmediately": false,
               "RotationRules": {"AutomaticallyAfterDays": 1}}),
    )
    .await
    .unwrap();
    let first = T0 + time::Duration::days(2);
    let round = run_due(&state, first).await.unwrap();
    assert_eq!((round.ran, round.failed), (1, 0));
    let rotated = read(&state).await;
    let value = rotated["SecretString"].as_str().unwrap();
    assert_ne!(value, "initial");
    assert_eq!(value.chars().count(), 32);
    let by_rotation = journal(&state)
        .into_iter()
        .rfind(|e| e["eventName"] == "GenerateDataKey")
        .unwrap();
    assert_eq!(by_rotation["userIdentity"]["arn"], ops.arn);
    assert_eq!(
        by_rotation["userIdentity"]["invokedBy"],
        "secretsmanager.amazonaws.com"
    );
    assert!(by_rotation.get("errorCode").is_none(), "{by_rotation}");
    // Now ops is denied the key: the next scheduled rotation fails and changes nothing.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Action": "kms:GenerateDataKey", "Resource": "*"}]});
    as_root(
        &state,
        "iam",
        "PutUserPolicy",
        json!({"UserName": "ops",
        "PolicyName": "no-kms", "PolicyDocument": deny.to_string()}),
    )
    .await;
    let round = run_due(&state, first + time::Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        round.ran, 1,
        "the rotation ran, failed, and set its next window"
    );
    assert_eq!(read(&state).await["SecretString"], value);
    let refused = journal(&state)
        .into_iter()
        .rfind(|e| e["eventName"] == "GenerateDataKey")
        .unwrap();
    assert_eq!(refused["userIdentity"]["arn"], ops.arn);
    assert_eq!(refused["errorCode"], "AccessDenied");
}

#[test]
fn the_interval_comes_from_the_environment_or_defaults() {
    // Read only here: no other test sets it.
    assert_eq!(SchedulerConfig::from_env().interval, DEFAULT_INTERVAL);
    let round = Round {
        more: true,
        ..Round::default()
    };
    assert_eq!(wait_after(&round, T0, DEFAULT_INTERVAL), MIN_WAIT);
    let idle = Round::default();
    assert_eq!(wait_after(&idle, T0, DEFAULT_INTERVAL), DEFAULT_INTERVAL);
}

#[path = "service_events_tests.rs"]
mod service_events;
