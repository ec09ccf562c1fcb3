//! Property tests: invariants of the evaluation logic over random policies
//! drawn from a small vocabulary (so that statements often overlap).

#![expect(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "test code: building JSON by key and failing loudly on generator bugs"
)]

use proptest::prelude::*;
use rampart_policy::{
    Context, DecisionKind, EvaluationInput, Policy, PolicySet, Principal, Request, evaluate,
};
use serde_json::{Value, json};

const ACTIONS: [&str; 7] = [
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "ec2:RunInstances",
    "*",
    "iam:PassRole",
    "S3:PutObject",
];
const RESOURCES: [&str; 4] = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::other/*",
];
const PRINCIPALS: [&str; 3] = [
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:sts::111111111111:assumed-role/Ops/s1",
    "arn:aws:iam::222222222222:user/mallory",
];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(vec!["blue", "red"]).prop_map(|v| Some(json!({"StringEquals": {"aws:PrincipalTag/team": v}}))),
        1 => Just(Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
        1 => Just(Some(json!({"StringNotEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}))),
        1 => Just(Some(json!({"ForAnyValue:StringLike": {"aws:TagKeys": "env*"}}))),
    ]
}

fn statement(with_principal: bool, effect: Option<&'static str>) -> impl Strategy<Value = Value> {
    let effect = match effect {
        Some(e) => Just(e).boxed(),
        None => prop::sample::select(vec!["Allow", "Deny"]).boxed(),
    };
    (
        effect,
        prop::collection::vec(prop::sample::select(ACTIONS.to_vec()), 1..3),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(RESOURCES.to_vec()), 1..3),
        any::<bool>(),
        condition(),
        prop::sample::select(vec![
            "*",
            "111111111111",
            PRINCIPALS[0],
            "arn:aws:iam::111111111111:role/Ops",
            PRINCIPALS[2],
        ]),
    )
        .prop_map(
            move |(effect, actions, not_action, resources, not_resource, condition, principal)| {
                let mut s = json!({"Effect": effect});
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                s[if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }] = json!(resources);
                if let Some(c) = condition {
                    s["Condition"] = c;
                }
                if with_principal {
                    s["Principal"] = json!({"AWS": principal});
                }
                s
            },
        )
}

fn policy(with_principal: bool) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(statement(with_principal, None), 0..5)
}

fn document(statements: &[Value]) -> Policy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    Policy::parse(&text).expect("generated policies parse")
}

#[derive(Debug, Clone)]
struct Scenario {
    identity: Vec<Vec<Value>>,
    resource: Option<Vec<Value>>,
    boundary: Option<Vec<Value>>,
    principal: &'static str,
    action: &'static str,
    resource_arn: &'static str,
    team: Option<&'static str>,
    ip: &'static str,
    resource_account: &'static str,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(policy(false), 0..3),
        prop::option::of(policy(true)),
        prop::option::of(policy(false)),
        prop::sample::select(PRINCIPALS.to_vec()),
        prop::sample::select(vec![
            "s3:GetObject",
            "s3:PutObject",
            "ec2:RunInstances",
            "iam:PassRole",
        ]),
        prop::sample::select(vec!["arn:aws:s3:::bucket/key", "arn:aws:s3:::other/x", "*"]),
        prop::option::of(prop::sample::select(vec!["blue", "red"])),
        prop::sample::select(vec!["10.1.2.3", "192.168.0.1"]),
        prop::sample::select(vec!["111111111111", "222222222222"]),
    )
        .prop_map(
            |(
                identity,
                resource,
                boundary,
                principal,
                action,
                resource_arn,
                team,
                ip,
                resource_account,
            )| Scenario {
                identity,
                resource,
                boundary,
                principal,
                action,
                resource_arn,
                team,
                ip,
                resource_account,
            },
        )
}

fn decide(s: &Scenario) -> (DecisionKind, Option<rampart_policy::PolicyType>) {
    let identity_docs: Vec<Policy> = s.identity.iter().map(|p| document(p)).collect();
    let identity = PolicySet::from_policies(
        identity_docs
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("id{i}"), p)),
    );
    let resource = s
        .resource
        .as_ref()
        .map(|p| PolicySet::single("res", &document(p)));
    let boundary = s
        .boundary
        .as_ref()
        .map(|p| PolicySet::single("pb", &document(p)));
    let mut context = Context::new()
        .with("aws:SourceIp", s.ip)
        .with_multi("aws:TagKeys", ["env-prod"]);
    if let Some(team) = s.team {
        context.insert("aws:PrincipalTag/team", team);
    }
    let request = Request::new(
        Principal::parse(s.principal).expect("principal"),
        s.action,
        s.resource_arn,
    )
    .with_resource_account(s.resource_account)
    .with_context(context);
    let input = EvaluationInput {
        identity_policies: Some(&identity),
        resource_policy: resource.as_ref(),
        permissions_boundary: boundary.as_ref(),
        ..Default::default()
    };
    let decision = evaluate(&request, &input);
    (decision.kind, decision.decided_by)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Adding a Deny statement anywhere never turns a deny into an allow.
    #[test]
    fn adding_a_deny_never_allows_more(s in scenario(), deny in statement(false, Some("Deny")), deny_with_principal in statement(true, Some("Deny")), target in 0usize..3) {
        let before = decide(&s).0;
        let mut after = s.clone();
        match target {
            0 => match after.identity.first_mut() {
                Some(p) => p.push(deny),
                None => after.identity.push(vec![deny]),
            },
            1 => after.resource.get_or_insert_with(Vec::new).push(deny_with_principal),
            _ => after.boundary.get_or_insert_with(|| vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})]).push(deny),
        }
        let after_kind = decide(&after).0;
        if before != DecisionKind::Allow {
            prop_assert_ne!(after_kind, DecisionKind::Allow);
        }
        if before == DecisionKind::ExplicitDeny {
            prop_assert_eq!(after_kind, DecisionKind::ExplicitDeny);
        }
    }

    /// The order of statements within a policy, and of policies within a set, never matters.
    #[test]
    fn statement_order_never_matters(s in scenario(), seed in any::<u64>()) {
        let mut shuffled = s.clone();
        let mut state = seed | 1;
        let mut next = move || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        let mut shuffle = |v: &mut Vec<Value>| {
            for i in (1..v.len()).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                v.swap(i, j);
            }
        };
        for p in &mut shuffled.identity { shuffle(p); }
        shuffled.identity.reverse();
        if let Some(p) = &mut shuffled.resource { shuffle(p); }
        if let Some(p) = &mut shuffled.boundary { shuffle(p); }
        prop_assert_eq!(decide(&s), decide(&shuffled));
    }

    /// A policy and its re-serialization parse to the same policy and decide alike.
    #[test]
    fn reserialization_decides_alike(s in scenario()) {
        let mut round_tripped = s.clone();
        let round_trip = |statements: &Vec<Value>| -> Vec<Value> {
            let policy = document(statements);
            let again = Policy::parse(&policy.to_string()).expect("re-serialized policy parses");
            assert_eq!(again, policy);
            match again.to_json()["Statement"].clone() {
                Value::Array(items) => items,
                other => vec![other],
            }
        };
        round_tripped.identity = s.identity.iter().map(round_trip).collect();
        round_tripped.resource = s.resource.as_ref().map(round_trip);
        round_tripped.boundary = s.boundary.as_ref().map(round_trip);
        prop_assert_eq!(decide(&s), decide(&round_tripped));
    }

    /// The parser never panics, whatever it is given.
    #[test]
    fn parser_never_panics(text in ".{0,200}") {
        let _ = Policy::parse(&text);
    }
}
