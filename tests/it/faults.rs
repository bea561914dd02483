//! Reliability: the store failing one request in five (errors, connections dropped
//! mid-body, replies lost after the write committed) plus latency, and the uploader
//! process killed with SIGKILL in the middle of a run.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cos_local::FaultConfig;

use crate::harness::{TestApp, make_files, procs, proved, sha1_hex, spawn_app_with};

/// Every file of `expected` (name → sha1) is stored exactly once under `prefix`, with the
/// right content, and nothing else is there.
async fn assert_stored_exactly(app: &TestApp, prefix: &str, expected: &BTreeMap<String, String>) {
    let keys = app.list_keys(prefix).await;
    let names: Vec<&str> = keys.iter().map(|k| &k[prefix.len()..]).collect();
    let want: Vec<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(names, want, "stored keys differ from the files uploaded");
    for (name, sha) in expected {
        let got = app
            .get_object(&format!("{prefix}{name}"))
            .await
            .expect("listed object readable");
        assert_eq!(&sha1_hex(&got), sha, "{name} has the wrong content");
    }
}

fn faults(seed: u64) -> FaultConfig {
    FaultConfig {
        seed,
        error_rate: 0.10,
        drop_rate: 0.05,
        lost_reply_rate: 0.05,
        latency: Duration::from_millis(50),
        latency_rate: 0.05,
        ..FaultConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_files_survive_twenty_percent_faults() {
    let app = spawn_app_with(|c| c.embedded.faults = faults(20_26)).await;
    let src = tempfile::tempdir().unwrap();
    let photos = src.path().join("photos");
    let expected = make_files(&photos, 500, 4096, 1);
    let client = Arc::new(uploader::ServerClient::new(app.http.clone(), &app.base_url));
    let session = client.login_dev("faulty").await.unwrap();
    let opts = uploader::RunOptions {
        paths: vec![photos],
        concurrency: 16,
        ..Default::default()
    };
    let report = uploader::run(
        client,
        &opts,
        Arc::new(uploader::NoProgress),
        uploader::CancellationToken::new(),
    )
    .await
    .unwrap();
    let failed: Vec<_> = report.files.iter().filter(|f| !f.status.is_ok()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let requests: u64 = report.files.iter().map(|f| u64::from(f.requests)).sum();
    let retried = requests - report.files.len() as u64;
    assert!(
        retried > 0,
        "faults were configured but no request was retried"
    );
    // A directory keeps its name under the upload prefix.
    let prefix = format!("{}photos/", session.upload_prefix.key_prefix());
    assert_stored_exactly(&app, &prefix, &expected).await;
    let f = app.store.fault_stats();
    assert!(
        f.internal_errors + f.slow_downs > 0 && f.drops > 0 && f.lost_replies > 0,
        "every kind of fault should have been injected: {f:?}"
    );
    proved(
        "faults",
        format!(
            "500 files under 20% failing requests (10% 500/503, 5% dropped mid-body, 5% reply lost after the write) plus 5% +50 ms: injected {} 500s, {} 503s, {} drops, {} lost replies, {} delays; {retried} retries; every file stored exactly once with the right SHA-1",
            f.internal_errors, f.slow_downs, f.drops, f.lost_replies, f.delayed
        ),
    );
}

fn journal_lines(path: &Path) -> usize {
    std::fs::File::open(path)
        .map(|f| std::io::BufReader::new(f).lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkilled_uploader_resumes_without_loss_or_duplicates() {
    // Latency on some requests keeps the run long enough to kill it in the middle.
    let app = spawn_app_with(|c| {
        c.embedded.faults = FaultConfig {
            seed: 9,
            latency: Duration::from_millis(40),
            latency_rate: 0.5,
            ..FaultConfig::default()
        };
    })
    .await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("photos");
    let expected = make_files(&src, 300, 32 * 1024, 100);
    let journal = work.path().join("journal.jsonl");
    let report1 = work.path().join("report1.json");
    let report2 = work.path().join("report2.json");
    let bin = procs::bin("uploader", "cos-upload");
    let run = |report: &Path| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--server",
            &app.base_url,
            "--dev-user",
            "killed",
            "-j",
            "4",
            "--quiet",
        ])
        .arg("--journal")
        .arg(&journal)
        .arg("--report")
        .arg(report)
        .arg(&src)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        cmd
    };

    // First run: SIGKILL once some files are journalled.
    let mut child = run(&report1).spawn().expect("start cos-upload");
    let started = Instant::now();
    while journal_lines(&journal) < 40 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "cos-upload finished before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress in 60 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed run must not report success");
    let journalled = journal_lines(&journal);

    // Between the runs: whatever is listed is complete and correct (no partial object).
    let token = app.dev_login("killed").await; // the same user the CLI logged in as
    // The directory `photos` keeps its name under the upload prefix.
    let prefix = &format!("{}photos/", token.upload_prefix.trim_start_matches('/'));
    let listed = app.list_keys(prefix).await;
    assert!(
        listed.len() < expected.len(),
        "the kill came too late to prove anything"
    );
    for key in &listed {
        let name = &key[prefix.len()..];
        let got = app.get_object(key).await.expect("listed object readable");
        assert_eq!(
            Some(&sha1_hex(&got)),
            expected.get(name),
            "partial or wrong object {key} visible after SIGKILL"
        );
    }

    // Second run: completes, uploads only what is missing.
    let status = run(&report2).status().expect("rerun cos-upload");
    assert!(status.success(), "resumed run failed");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report2).unwrap()).unwrap();
    let summary = &report["summary"];
    let uploaded = summary["uploaded"].as_u64().unwrap();
    let skipped = summary["skipped"].as_u64().unwrap();
    let present = summary["already_present"].as_u64().unwrap();
    assert_eq!(summary["failed"], 0);
    assert_eq!(
        uploaded + skipped + present,
        expected.len() as u64,
        "{summary}"
    );
    assert!(skipped >= 1, "the journal was not used: {summary}");
    assert_stored_exactly(&app, prefix, &expected).await;
    proved(
        "faults",
        format!(
            "cos-upload SIGKILLed after {journalled} journal lines with {} objects stored (all complete); rerun: {skipped} skipped by journal, {present} found already stored, {uploaded} uploaded; 300/300 stored exactly once",
            listed.len()
        ),
    );
}
