//! Decision latency: a principal with 10 identity policies of 5 statements
//! each (all with conditions), and the same principal with 1,000 further
//! policies that cannot apply to the request (other services), to show that
//! cost follows the statements that can apply, not the policy count.
//!
//! Criterion reports mean times; the percentile pass at the end times each
//! decision separately and prints p50/p99/p99.9.

#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use rampart_policy::{Context, EvaluationInput, Policy, PolicySet, Principal, Request, evaluate};
use serde_json::json;

const SERVICES: [&str; 5] = ["s3", "ec2", "dynamodb", "kms", "sqs"];

/// Policy `i`: five statements, one per service, each with conditions.
fn applicable_policy(i: usize) -> Policy {
    let statements: Vec<_> = SERVICES
        .iter()
        .enumerate()
        .map(|(j, service)| {
            json!({
                "Sid": format!("P{i}S{j}"),
                "Effect": if j == 4 && i.is_multiple_of(3) { "Deny" } else { "Allow" },
                "Action": [format!("{service}:Get*"), format!("{service}:List*"), format!("{service}:Describe*")],
                "Resource": [format!("arn:aws:{service}:::team-{i}/*"), "arn:aws:s3:::shared/${aws:username}/*"],
                "Condition": {
                    "StringEquals": {"aws:PrincipalTag/team": ["blue", format!("team-{i}")]},
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                    "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
                }
            })
        })
        .collect();
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements}).to_string())
        .expect("policy")
}

/// A policy about a service the request never uses.
fn unrelated_policy(i: usize) -> Policy {
    let statements: Vec<_> = (0..5)
        .map(|j| {
            json!({
                "Effect": "Allow",
                "Action": [format!("svc{i}:Action{j}"), format!("svc{i}:Get*")],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}
            })
        })
        .collect();
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements}).to_string())
        .expect("policy")
}

fn request() -> Request {
    Request::new(
        Principal::parse("arn:aws:iam::111111111111:user/alice").expect("principal"),
        "s3:GetObject",
        "arn:aws:s3:::shared/alice/report.csv",
    )
    .with_context(
        Context::new()
            .with("aws:PrincipalTag/team", "blue")
            .with("aws:SourceIp", "10.1.2.3")
            .with("aws:CurrentTime", "2025-06-01T12:00:00Z"),
    )
}

fn sets() -> (PolicySet, PolicySet) {
    let applicable: Vec<Policy> = (0..10).map(applicable_policy).collect();
    let unrelated: Vec<Policy> = (0..1000).map(unrelated_policy).collect();
    let small = PolicySet::from_policies(
        applicable
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("p{i}"), p)),
    );
    let large = PolicySet::from_policies(
        applicable
            .iter()
            .chain(&unrelated)
            .enumerate()
            .map(|(i, p)| (format!("p{i}"), p)),
    );
    (small, large)
}

fn percentiles(name: &str, set: &PolicySet, request: &Request) {
    let input = EvaluationInput {
        identity_policies: Some(set),
        ..Default::default()
    };
    for _ in 0..10_000 {
        black_box(evaluate(black_box(request), &input));
    }
    let mut samples: Vec<Duration> = (0..200_000)
        .map(|_| {
            let start = Instant::now();
            black_box(evaluate(black_box(request), &input));
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name}: p50 {:?}  p99 {:?}  p99.9 {:?}  max {:?}  (200000 decisions, {} statements in the set)",
        at(0.50),
        at(0.99),
        at(0.999),
        samples[samples.len() - 1],
        set.statement_count()
    );
}

fn main() {
    let (small, large) = sets();
    let request = request();
    let allowed = evaluate(
        &request,
        &EvaluationInput {
            identity_policies: Some(&small),
            ..Default::default()
        },
    );
    assert!(
        allowed.is_allowed(),
        "the benchmark request must exercise the allow path"
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("evaluate");
    for (name, set) in [
        ("10x5_with_conditions", &small),
        ("plus_1000_unrelated_policies", &large),
    ] {
        let input = EvaluationInput {
            identity_policies: Some(set),
            ..Default::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| evaluate(black_box(&request), black_box(&input)))
        });
    }
    group.finish();
    criterion.final_summary();

    percentiles("10x5_with_conditions", &small, &request);
    percentiles("plus_1000_unrelated_policies", &large, &request);
}
