//! Cost of one SigV4 check: parse + verify of an STS form POST signed by
//! aws-sigv4, with the derived signing key cached (steady state) and
//! derived every time (cold).
//!
//! cargo bench -p rampart-sigv4 --bench verify

#![expect(clippy::unwrap_used, reason = "benchmark setup")]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_sigv4::SigningKeyCache;

fn bench(c: &mut Criterion) {
    let mut req = common::request(
        "POST",
        "http://sts.localhost:4566/",
        &[
            ("host", "sts.localhost:4566"),
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ],
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=s1",
    );
    common::Signer {
        token: Some("FwoGZXIvYXdzEXAMPLEtoken"),
        ..common::Signer::default()
    }
    .sign(&mut req);
    let (parts, body) = req.into_parts();
    let now = common::t0();

    let warm = SigningKeyCache::default();
    let cold = SigningKeyCache::disabled();
    let mut group = c.benchmark_group("sigv4");
    group.bench_function("parse", |b| {
        b.iter(|| rampart_sigv4::parse(black_box(&parts)).unwrap())
    });
    group.bench_function("parse+verify cached key", |b| {
        b.iter(|| {
            let signed = rampart_sigv4::parse(black_box(&parts)).unwrap();
            signed
                .verify(&parts, &body, common::SECRET.as_bytes(), now, &warm)
                .unwrap()
        });
    });
    group.bench_function("parse+verify cold key", |b| {
        b.iter(|| {
            let signed = rampart_sigv4::parse(black_box(&parts)).unwrap();
            signed
                .verify(&parts, &body, common::SECRET.as_bytes(), now, &cold)
                .unwrap()
        });
    });
    // The server benchmark's headline request: GetCallerIdentity as a presigned URL (seven
    // X-Amz-* parameters next to Action and Version), replayed as a GET with no body.
    let mut presigned = common::request(
        "GET",
        "http://sts.localhost:4566/?Action=GetCallerIdentity&Version=2011-06-15",
        &[("host", "sts.localhost:4566")],
        b"",
    );
    common::Signer {
        presign: Some(std::time::Duration::from_secs(604_800)),
        ..common::Signer::default()
    }
    .sign(&mut presigned);
    let (presigned_parts, _) = presigned.into_parts();
    group.bench_function("parse+verify presigned GET, cached key", |b| {
        b.iter(|| {
            let signed = rampart_sigv4::parse(black_box(&presigned_parts)).unwrap();
            signed
                .verify(&presigned_parts, b"", common::SECRET.as_bytes(), now, &warm)
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
