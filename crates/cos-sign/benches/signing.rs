//! Signatures per second for every signing and verification path.
//!
//! Run with `cargo bench -p cos-sign`; criterion prints `thrpt: … elem/s`, one
//! element being one signature made or checked. Inputs are the vectors of
//! `tests/vectors.rs`.

use std::hint::black_box;

use cos_sign::Credentials;
use cos_sign::policy::{self, Condition, PostPolicy};
use cos_sign::v4;
use cos_sign::v5::{self, KeyTime, ParsedAuthorization, Request};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const APPID: &str = "1250000000";
const BUCKET: &str = "metis";
const NOW: u64 = 1_500_000_000;
const HOST: &str = "metis-1250000000.cos.ap-shanghai.myqcloud.com";

fn creds() -> Credentials {
    Credentials::new(
        "AKIDExampleSecretId0000000000000000",
        "ExampleSecretKey0123456789abcdef",
    )
}

fn v4_group(c: &mut Criterion) {
    let creds = creds();
    let signer = v4::Signer {
        appid: APPID,
        bucket: BUCKET,
        credentials: &creds,
    };
    let mut g = c.benchmark_group("v4");
    g.throughput(Throughput::Elements(1));
    g.bench_function("multi_effect_sign", |b| {
        let mut nonce = 0u64;
        b.iter(|| {
            nonce = (nonce + 1) % 1_000_000_000;
            signer.multi_effect(
                black_box(Some("/u/12/")),
                black_box(NOW + 3600),
                black_box(NOW),
                nonce,
            )
        });
    });
    g.bench_function("single_effect_sign", |b| {
        b.iter(|| signer.single_effect(black_box("/xrzeti/测试 图片.jpg"), black_box(NOW), 7));
    });
    let sign = signer
        .multi_effect(Some("/u/12/"), NOW + 3600, NOW, 123_456_789)
        .unwrap_or_default();
    let expect = v4::Expect {
        appid: APPID,
        bucket: BUCKET,
        path: "/u/12/a.jpg",
        now: NOW + 10,
        max_skew: 60,
    };
    g.bench_function("multi_effect_verify", |b| {
        b.iter(|| v4::verify(black_box(&sign), &creds, &expect));
    });
    g.finish();
}

fn v5_group(c: &mut Criterion) {
    let creds = creds();
    let kt = KeyTime {
        start: NOW,
        end: NOW + 3600,
    };
    let headers = [
        ("Host", HOST),
        ("Content-Type", "image/jpeg"),
        ("Content-Length", "123456"),
    ];
    let req = Request {
        method: "PUT",
        path: "/u/12/测试 图片.jpg",
        params: &[],
        headers: &headers,
    };
    let mut g = c.benchmark_group("v5");
    g.throughput(Throughput::Elements(1));
    g.bench_function("header_sign", |b| {
        b.iter(|| v5::sign(&creds, black_box(&req), kt).to_authorization());
    });
    let auth = v5::sign(&creds, &req, kt).to_authorization();
    g.bench_function("header_verify", |b| {
        b.iter(|| {
            ParsedAuthorization::from_header(black_box(&auth))
                .and_then(|p| v5::verify(&p, &creds, &req, NOW + 10, 60))
        });
    });
    let policy = PostPolicy::for_upload(
        &creds,
        "metis-1250000000",
        kt,
        vec![
            Condition::StartsWith("key".into(), "u/12/".into()),
            Condition::ContentLengthRange(1, 10 << 20),
        ],
    );
    g.bench_function("policy_sign", |b| {
        b.iter(|| policy::sign(&creds, kt, black_box(&policy)));
    });
    g.finish();
}

criterion_group!(benches, v4_group, v5_group);
criterion_main!(benches);
