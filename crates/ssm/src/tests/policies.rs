//! Parameter policies through the timers the server's scheduler runs: due at their times,
//! each run once, their events raised in EventBridge's namespace.

use rampart_service::bus_events::bus_events_after;
use rampart_service::{Caller, DueWork, Timers};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::Harness;
use crate::scheduled::PolicyTimers;

fn policies(expires: OffsetDateTime, extra: &str) -> String {
    let at = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    format!(
        r#"[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{at}"}}}}{extra}]"#
    )
}

impl Harness {
    fn due(&self, at: OffsetDateTime) -> Vec<DueWork> {
        self.env
            .read_infallible(|_, tx| PolicyTimers.due(tx, at, 100).unwrap())
    }

    /// Runs every item due at `at` as the scheduler does: as ssm.amazonaws.com.
    fn run_due(&mut self, at: OffsetDateTime) -> usize {
        let due = self.due(at);
        let ran = due.len();
        let (caller, now) = (self.env.caller.clone(), self.env.now);
        self.env.caller = Caller::service("ssm.amazonaws.com", &caller.account_id);
        self.env.now = at;
        for work in due {
            self.env
                .write(move |env, tx| {
                    PolicyTimers.run(env, tx, &work).unwrap();
                    Ok::<_, rampart_store::StoreError>(())
                })
                .unwrap();
        }
        (self.env.caller, self.env.now) = (caller, now);
        ran
    }

    fn events(&self) -> Vec<Value> {
        self.env.read_infallible(|_, tx| {
            bus_events_after(tx, None, 100)
                .unwrap()
                .into_iter()
                .map(|(_, e)| serde_json::to_value(e).unwrap())
                .collect()
        })
    }
}

#[test]
fn an_expiration_deletes_the_parameter_once_at_its_time() {
    let mut h = Harness::new();
    let expires = h.env.now + Duration::seconds(30);
    let standard = h.err(
        "PutParameter",
        json!({"Name": "/tmp/token", "Value": "v", "Type": "String",
               "Policies": policies(expires, "")}),
    );
    assert_eq!(
        standard.code, "ValidationException",
        "policies need Advanced"
    );
    let put = h.ok(
        "PutParameter",
        json!({"Name": "/tmp/token", "Value": "v", "Type": "String",
               "Tier": "Intelligent-Tiering", "Policies": policies(expires, "")}),
    );
    assert_eq!(put["Tier"], "Advanced");
    let described = h.ok("DescribeParameters", json!({}));
    let policy = &described["Parameters"][0]["Policies"][0];
    assert_eq!(policy["PolicyType"], "Expiration");
    assert_eq!(policy["PolicyStatus"], "Pending");
    // An update leaves the expiration where it is.
    h.put("/tmp/token", "v2");
    assert!(h.due(expires - Duration::seconds(1)).is_empty());
    let due = h.due(expires);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].account, "123456789012");
    assert_eq!(due[0].region, "us-east-1");
    assert_eq!(h.run_due(expires), 1);
    assert_eq!(
        h.err("GetParameter", json!({"Name": "/tmp/token"})).code,
        "ParameterNotFound"
    );
    // Nothing is left to run, and nothing of the parameter is left.
    assert_eq!(h.run_due(expires + Duration::hours(1)), 0);
    h.env.read_infallible(|_, tx| {
        for ns in ["ssm/parameters", "ssm/versions", "ssm/timers"] {
            assert!(tx.scan(ns, "", None, 10).unwrap().is_empty(), "{ns}");
        }
    });
    let events = h.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["source"], "aws.ssm");
    assert_eq!(event["detail-type"], "Parameter Store Policy Action");
    assert_eq!(event["account"], "123456789012");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:ssm:us-east-1:123456789012:parameter/tmp/token"])
    );
    assert_eq!(event["detail"]["parameter-name"], "/tmp/token");
    assert_eq!(event["detail"]["policy-type"], "Expiration");
    assert_eq!(event["detail"]["action-status"], "Finished");
    // The quota counts it no more.
    let counts = h
        .env
        .read_infallible(|env, tx| crate::records::counts(tx, env).unwrap());
    assert_eq!(counts.advanced, 0);
}

#[test]
fn notifications_are_raised_once_and_a_change_restarts_no_change() {
    let mut h = Harness::new();
    let now = h.env.now;
    let expires = now + Duration::days(10);
    let extra = r#",{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Days"}},{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Hours"}}"#;
    h.ok(
        "PutParameter",
        json!({"Name": "/n", "Value": "v", "Type": "String", "Tier": "Advanced",
               "Policies": policies(expires, extra)}),
    );
    // A change after an hour moves NoChangeNotification to three hours after it.
    h.env.now = now + Duration::hours(1);
    h.put("/n", "v2");
    h.env.now = now;
    assert_eq!(h.run_due(now + Duration::hours(3)), 0);
    assert_eq!(h.run_due(now + Duration::hours(4)), 1);
    assert_eq!(h.run_due(expires - Duration::days(2)), 1);
    assert_eq!(h.run_due(expires - Duration::days(1)), 0);
    let kinds: Vec<Value> = h
        .events()
        .iter()
        .map(|e| e["detail"]["policy-type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("NoChangeNotification"),
            json!("ExpirationNotification")
        ]
    );
    let described = h.ok("DescribeParameters", json!({}));
    let statuses: Vec<(Value, Value)> = described["Parameters"][0]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["PolicyType"].clone(), p["PolicyStatus"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!("Expiration"), json!("Pending")),
            (json!("ExpirationNotification"), json!("Finished")),
            (json!("NoChangeNotification"), json!("Finished")),
        ]
    );
    // Deleting the parameter removes its timers: the expiration never runs.
    h.ok("DeleteParameter", json!({"Name": "/n"}));
    assert!(h.due(expires + Duration::days(1)).is_empty());
}

#[test]
fn bad_policies_get_their_own_errors() {
    let h = Harness::new();
    let put = |policies: &str| {
        h.err(
            "PutParameter",
            json!({"Name": "/p", "Value": "v", "Type": "String", "Tier": "Advanced",
                   "Policies": policies}),
        )
        .code
    };
    assert_eq!(
        put(r#"[{"Type":"Rotate","Version":"1.0","Attributes":{}}]"#),
        "InvalidPolicyTypeException"
    );
    assert_eq!(put("[{]"), "InvalidPolicyAttributeException");
    let expiration = policies(h.env.now + Duration::days(1), "");
    let twice = format!(
        "[{0},{0}]",
        expiration.trim_start_matches('[').trim_end_matches(']')
    );
    assert_eq!(put(&twice), "IncompatiblePolicyException");
    let eleven = format!(
        "[{}]",
        [expiration.trim_start_matches('[').trim_end_matches(']'); 11].join(",")
    );
    assert_eq!(put(&eleven), "PoliciesLimitExceededException");
}
