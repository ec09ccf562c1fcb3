//! The AES-256-GCM core of KMS Encrypt and Decrypt: sealing a plaintext into Rampart's
//! ciphertext blob (and opening it), with a 32-byte key as KMS key material, a fresh nonce and
//! an encryption context, exactly as `Encrypt` calls it. bench/kms.sh runs it beside
//! `openssl speed -evp aes-256-gcm` on the same machine and reports the ratio.
//!
//! cargo bench -p rampart-kms --bench aes_gcm

#![expect(clippy::unwrap_used, reason = "benchmark setup")]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_kms::blob::{self, BlobHeader};

fn bench(c: &mut Criterion) {
    let header = BlobHeader {
        account_id: "123456789012".to_owned(),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".to_owned(),
        material_id: "ab".repeat(32),
    };
    let key = [7u8; 32];
    let context = BTreeMap::from([("purpose".to_owned(), "benchmark".to_owned())]);
    let mut group = c.benchmark_group("kms_aes_gcm");
    for size in [4096usize, 16384] {
        let plaintext = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        let mut nonce = 0u64;
        group.bench_function(format!("seal/{size}"), |b| {
            b.iter(|| {
                nonce += 1;
                let mut iv = [0u8; 12];
                iv[..8].copy_from_slice(&nonce.to_le_bytes());
                blob::seal(
                    black_box(&header),
                    &key,
                    iv,
                    &context,
                    black_box(&plaintext),
                )
                .unwrap()
            })
        });
        let sealed = blob::seal(&header, &key, [1; 12], &context, &plaintext).unwrap();
        group.bench_function(format!("open/{size}"), |b| {
            b.iter(|| blob::open(black_box(&sealed), &key, &context).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
