//! Retries against a store that fails, drops connections and is slow; signature renewal.

use std::time::Duration;

use uploader::{Protocol, SignCache};

use crate::helpers::*;

#[tokio::test]
async fn retries_ride_out_injected_errors_and_dropped_connections() {
    let app = spawn_app_with(|c| {
        c.embedded.faults.seed = 7;
        c.embedded.faults.error_rate = 0.25;
        c.embedded.faults.drop_rate = 0.1;
    })
    .await;
    let client = app.login("faults").await;
    let home = client.session().unwrap().upload_prefix;
    let dir = tempfile::tempdir().unwrap();
    let n = 30;
    for i in 0..n {
        write(dir.path(), &format!("{i:02}.jpg"), 2000 + 300 * i, i as u64);
    }
    write(dir.path(), "big.bin", 1700 * 1024, 99);
    for (protocol, prefix) in [(Protocol::V4, "v4"), (Protocol::V5Put, "v5")] {
        let mut opts = options(vec![dir.path().to_owned()], protocol);
        opts.prefix = Some(prefix.into());
        opts.upload.retry.max_attempts = 12;
        opts.verify = true;
        let report = run(&client, &opts).await;
        assert!(report.all_ok(), "{protocol:?}: {report:#?}");
        assert_eq!(
            report.summary.uploaded + report.summary.already_present,
            n as u64 + 1
        );
        let requests: u32 = report.files.iter().map(|f| f.requests).sum();
        assert!(
            requests > n as u32 + 2,
            "{protocol:?}: no retries happened ({requests} requests)"
        );
        // Whatever was retried, the store holds each file once, whole.
        let target = shared::DirPath::parse(&format!("{}{prefix}/", home.as_str())).unwrap();
        let listed = list_store(&client, &target).await;
        assert_eq!(listed.len(), n + 1, "{protocol:?}");
    }
}

#[tokio::test]
async fn v4_signatures_are_renewed_before_they_expire() {
    let app = spawn_app_with(|c| c.sign_ttl_secs = 2).await;
    let client = app.login("renew").await;
    let home = client.session().unwrap().upload_prefix;
    let cache = SignCache::new(client.clone());
    let first = cache.get(&home).await.unwrap();
    let again = cache.get(&home).await.unwrap();
    assert_eq!(
        first.sign.sign, again.sign.sign,
        "a fresh signature is reused"
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let renewed = cache.get(&home).await.unwrap();
    assert_ne!(
        first.sign.sign, renewed.sign.sign,
        "renewed within the last second of its life"
    );
    assert!(renewed.sign.expires_at > first.sign.expires_at);

    // A run that outlives several signature lifetimes never meets an expired one.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        write(dir.path(), &format!("{i}.jpg"), 1000, i);
    }
    let mut opts = options(vec![dir.path().to_owned()], Protocol::V4);
    opts.concurrency = 1;
    let slow = std::sync::Arc::new(SlowStart(Duration::from_millis(900)));
    let report = uploader::run(client.clone(), &opts, slow, Default::default())
        .await
        .unwrap();
    assert!(report.all_ok(), "{report:#?}");
    assert!(report.files.iter().all(|f| f.requests == 1), "{report:#?}");
}

/// Makes each file start late (the progress callback runs on the upload task).
struct SlowStart(Duration);

impl uploader::Progress for SlowStart {
    fn file_started(&self, _file: usize, _name: &str, _size: u64) {
        std::thread::sleep(self.0);
    }
}

/// Appends to a file once the upload of the first file has sent some bytes.
struct GrowFile(std::path::PathBuf, std::sync::atomic::AtomicBool);

impl uploader::Progress for GrowFile {
    fn bytes(&self, _file: usize, delta: i64) {
        if delta > 0 && !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.0)
                .unwrap();
            f.write_all(b"more bytes").unwrap();
        }
    }
}

#[tokio::test]
async fn a_file_that_changes_during_its_upload_is_reported_and_not_journaled() {
    let app = spawn_app().await;
    let client = app.login("changing").await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "growing.log", 1500 * 1024, 5);
    for protocol in [Protocol::V4, Protocol::V5Put] {
        let mut opts = options(vec![path.clone()], protocol);
        opts.journal = Some(work.path().join("j.jsonl"));
        opts.prefix = Some(format!("{protocol:?}"));
        let grow = std::sync::Arc::new(GrowFile(path.clone(), Default::default()));
        let report = uploader::run(client.clone(), &opts, grow, Default::default())
            .await
            .unwrap();
        let f = &report.files[0];
        assert_eq!(f.status, uploader::Status::Failed, "{protocol:?}: {f:?}");
        assert_eq!(
            f.error_kind.as_deref(),
            Some("changed"),
            "{protocol:?}: {f:?}"
        );
        let state = uploader::JournalState::parse(std::io::BufReader::new(
            std::fs::File::open(work.path().join("j.jsonl")).unwrap(),
        ))
        .unwrap();
        assert!(state.done.is_empty(), "{protocol:?}");
    }
}
