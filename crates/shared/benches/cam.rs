//! CAM policy decisions per second: what the local store spends on every
//! request made with temporary credentials, once the token is open.
//!
//! Run with `cargo bench -p shared`; criterion prints `thrpt: … elem/s`, one
//! element being one decision (or one policy parsed, as the store parses the
//! policy a token carries).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shared::cam::{Action, Bucket, Policy, RequestContext, Scope, UploadLimits};
use shared::{DirPath, ObjectKey};

fn cam_group(c: &mut Criterion) {
    let (Ok(bucket), Ok(dir), Ok(key)) = (
        Bucket::new("ap-guangzhou", "1250000000", "metis"),
        DirPath::parse("/u/12/album 2026"),
        ObjectKey::parse("u/12/album 2026/20261202/k3j5q.jpg"),
    ) else {
        return;
    };
    let limits = UploadLimits {
        max_size: 10 << 20,
        content_types: vec!["image/*".into(), "video/*".into()],
    };
    let policy = Policy::for_upload(&bucket, &Scope::Prefix(dir), &limits);
    let json = policy.to_json();
    let put = RequestContext::object(Action::PutObject, &bucket, &key)
        .with_content_length(3 << 20)
        .with_content_type("image/jpeg");
    let list = RequestContext::listing(Action::GetBucket, &bucket, "u/12/album 2026/");
    let refused = RequestContext::object(Action::DeleteObject, &bucket, &key);

    let mut g = c.benchmark_group("cam");
    g.throughput(Throughput::Elements(1));
    g.bench_function("evaluate_put_allowed", |b| {
        b.iter(|| policy.evaluate(black_box(&put)));
    });
    g.bench_function("evaluate_list_allowed", |b| {
        b.iter(|| policy.evaluate(black_box(&list)));
    });
    g.bench_function("evaluate_refused", |b| {
        b.iter(|| policy.evaluate(black_box(&refused)));
    });
    g.bench_function("parse", |b| b.iter(|| Policy::from_json(black_box(&json))));
    g.finish();
}

criterion_group!(benches, cam_group);
criterion_main!(benches);
