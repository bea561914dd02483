//! Signatures per second for every signing and verification path.
//!
//! Run with `cargo bench -p cos-sign`; criterion prints `thrpt: … elem/s`, one
//! element being one signature made or checked, or one security token minted
//! or opened. Inputs are the vectors of `tests/vectors.rs`, an STS call and a
//! token carrying a policy of typical size.

use std::hint::black_box;

use cos_sign::policy::{self, Condition, PostPolicy};
use cos_sign::sts::{self, TmpSecretId, TokenClaims, TokenKey};
use cos_sign::v5::{self, KeyTime, ParsedAuthorization, Request};
use cos_sign::{Credentials, SecretKey, tc3, v4};
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

fn tc3_group(c: &mut Criterion) {
    let creds = creds();
    let body = br#"{"Name": "cos-upload-kit", "Policy": "%7B%22version%22%3A%222.0%22%7D", "DurationSeconds": 1800}"#;
    let req = tc3::Request {
        service: "sts",
        host: "sts.tencentcloudapi.com",
        method: tc3::Method::Post { payload: body },
        content_type: "application/json",
        extra_headers: &[("X-TC-Action", "GetFederationToken")],
        timestamp: NOW,
    };
    let mut g = c.benchmark_group("tc3");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| tc3::sign(&creds, black_box(&req)).map(|s| s.authorization()));
    });
    g.finish();
}

const STATEMENT: &str = concat!(
    r#"{"effect":"allow","action":["name/cos:PutObject","name/cos:PostObject"],"#,
    r#""resource":["qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/*"],"#,
    r#""condition":{"numeric_less_than_equal":{"cos:content-length":[10485760]}}}"#,
);

/// What the store does for every request that carries a security token:
/// open it and derive the TmpSecretKey the request is verified with.
fn sts_group(c: &mut Criterion) {
    let Ok(key) = TokenKey::new(SecretKey::new("bench-token-key-0123456789abcdef-0123")) else {
        return;
    };
    let Ok(id) = TmpSecretId::parse("AKIDabcdefghijklmnopqrstuvwxyz012345") else {
        return;
    };
    let claims = TokenClaims {
        id,
        start_time: NOW,
        expired_time: NOW + 1800,
        // About the size of a prefix-scope upload policy (1.5 KiB).
        policy: format!(
            r#"{{"version":"2.0","statement":[{}]}}"#,
            [STATEMENT; 5].join(",")
        ),
    };
    let Ok(minted) = sts::mint(&key, &claims) else {
        return;
    };
    let mut g = c.benchmark_group("sts");
    g.throughput(Throughput::Elements(1));
    g.bench_function("open_and_derive", |b| {
        b.iter(|| {
            sts::open(&key, black_box(&minted.security_token))
                .map(|claims| sts::derive_tmp_secret_key(&key, &claims.id))
        });
    });
    g.bench_function("mint", |b| b.iter(|| sts::mint(&key, black_box(&claims))));
    g.finish();
}

criterion_group!(benches, v4_group, v5_group, tc3_group, sts_group);
criterion_main!(benches);
