//! Test harness: an auth server with its embedded store, logged-in clients,
//! files with known content, and a view of what the store holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha1::{Digest, Sha1};
use uploader::{
    CancellationToken, NoProgress, Progress, Protocol, Report, RetryPolicy, RunOptions,
    ServerClient, UploadConfig,
};

pub use auth_server::testing::{TestApp, spawn_app, spawn_app_with};

/// This suite's helpers on the shared harness.
pub trait Login {
    /// A client logged in as `user`.
    async fn login(&self, user: &str) -> Arc<ServerClient>;
}

impl Login for TestApp {
    async fn login(&self, user: &str) -> Arc<ServerClient> {
        let http = uploader::http_client(8).unwrap();
        let c = Arc::new(ServerClient::new(http, &self.base_url).with_retry(fast_retry()));
        c.login_dev(user).await.unwrap();
        c
    }
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

/// Small thresholds so slice and multipart uploads stay fast.
pub fn small_config() -> UploadConfig {
    UploadConfig {
        large_threshold: 1024 * 1024,
        slice_size: 512 * 1024,
        // The store's smallest part (except the last) is 1 MiB, as on COS.
        part_size: 1024 * 1024,
        parallel_parts: 3,
        in_memory_limit: 64 * 1024,
        retry: fast_retry(),
    }
}

pub fn options(paths: Vec<PathBuf>, protocol: Protocol) -> RunOptions {
    RunOptions {
        paths,
        protocol,
        concurrency: 4,
        upload: small_config(),
        ..RunOptions::default()
    }
}

pub async fn run(client: &Arc<ServerClient>, opts: &RunOptions) -> Report {
    uploader::run(
        client.clone(),
        opts,
        Arc::new(NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap()
}

/// Deterministic pseudo-random content.
pub fn content(size: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn write(dir: &Path, rel: &str, size: usize, seed: u64) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content(size, seed)).unwrap();
    p
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

pub async fn download(url: &str) -> Vec<u8> {
    let resp = reqwest::get(url).await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.bytes().await.unwrap().to_vec()
}

/// Files under `dir` in the store (recursive), as (key, size, sha1), via the v4
/// `op=list` API with a signature from the server.
pub async fn list_store(
    client: &ServerClient,
    dir: &shared::DirPath,
) -> Vec<(String, u64, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        let sign = client.sign_v4(&d).await.unwrap();
        let mut context = String::new();
        loop {
            // Retried: tests with injected faults list too.
            let mut tries = 0;
            let (body, r) = loop {
                tries += 1;
                assert!(tries <= 50, "listing {d} keeps failing");
                let resp = client
                    .http()
                    .get(&sign.upload_url)
                    .query(&[
                        ("op", "list"),
                        ("num", "1000"),
                        ("context", context.as_str()),
                    ])
                    .header("Authorization", &sign.sign)
                    .send()
                    .await;
                let Ok(resp) = resp else { continue };
                let Ok(body) = resp.text().await else {
                    continue;
                };
                let r: shared::v4::Reply<serde_json::Value> =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("list {d}: {e}: {body}"));
                if r.code == shared::v4::codes::INTERNAL && tries < 50 {
                    continue;
                }
                break (body, r);
            };
            if r.code == shared::v4::codes::NOT_FOUND {
                break;
            }
            assert_eq!(r.code, 0, "list {d}: {body}");
            let data: shared::v4::ListData = serde_json::from_value(r.data.unwrap()).unwrap();
            for info in data.infos {
                if info.filesize.is_some() {
                    out.push((
                        format!("{}{}", d.key_prefix(), info.name),
                        info.filesize.unwrap_or(0),
                        info.sha.unwrap_or_default(),
                    ));
                } else {
                    let name = info.name.trim_end_matches('/');
                    dirs.push(shared::DirPath::parse(&format!("{}{name}/", d.as_str())).unwrap());
                }
            }
            if data.listover || data.context.is_empty() {
                break;
            }
            context = data.context;
        }
    }
    out.sort();
    out
}

/// Cancels the run once `after` files have finished.
pub struct CancelAfter {
    pub after: usize,
    pub done: AtomicUsize,
    pub token: CancellationToken,
}

impl Progress for CancelAfter {
    fn file_finished(&self, _file: usize, _report: &uploader::FileReport) {
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.token.cancel();
        }
    }
}

/// Cancels the run once `after` bytes were sent.
pub struct CancelAfterBytes {
    pub after: i64,
    pub sent: std::sync::atomic::AtomicI64,
    pub token: CancellationToken,
}

impl Progress for CancelAfterBytes {
    fn bytes(&self, _file: usize, delta: i64) {
        if self.sent.fetch_add(delta, Ordering::SeqCst) + delta >= self.after {
            self.token.cancel();
        }
    }
}
