//! 200 parallel clients, each logging in, signing and uploading for 10 seconds: no error,
//! no lost file, every object byte-identical.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use crate::harness::{bytes, proved, sha1_hex, spawn_app, wx};

const CLIENTS: usize = 200;
const RUN_FOR: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_clients_sign_and_upload_for_ten_seconds() {
    let app = Arc::new(spawn_app().await);
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN_FOR;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let app = app.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let token = app.dev_login(&format!("client{c}")).await;
            let mut done = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                // Ask for a fresh signature each time, as the app does before each upload.
                let sign = app.sign_v4(&token.access_token, &token.upload_prefix).await;
                let content = bytes((c as u64) << 32 | i, 1024 + (i as usize % 7) * 512);
                let name = format!("c{c}-{i}.jpg");
                let url = format!("{}{name}", sign.upload_url);
                match wx::upload_file(&app.http, &url, &sign.sign, &name, &content).await {
                    Ok(a) if a.json["code"] == 0 => {
                        let key = format!("{}{name}", token.upload_prefix.trim_start_matches('/'));
                        done.push((key, sha1_hex(&content)));
                    }
                    Ok(a) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("client {c}: upload {name} refused: {}", a.text);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("client {c}: upload {name} failed: {e}");
                    }
                }
                i += 1;
            }
            done
        }));
    }
    let mut uploaded = Vec::new();
    for t in tasks {
        uploaded.extend(t.await.expect("client task"));
    }
    assert_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "uploads failed under concurrency"
    );
    assert!(
        uploaded.len() >= CLIENTS,
        "every client uploaded at least once"
    );

    // Nothing lost: every acknowledged upload is listed and reads back identical.
    let listed: std::collections::BTreeSet<String> =
        app.list_keys("u/").await.into_iter().collect();
    for (key, _) in &uploaded {
        assert!(listed.contains(key), "{key} acknowledged but not listed");
    }
    assert_eq!(
        listed.len(),
        uploaded.len(),
        "the store lists objects nobody uploaded"
    );
    futures_util::stream::iter(uploaded.iter())
        .for_each_concurrent(64, |(key, sha)| {
            let app = app.clone();
            async move {
                let got = app.get_object(key).await.expect("object readable");
                assert_eq!(&sha1_hex(&got), sha, "{key}");
            }
        })
        .await;
    proved(
        "concurrency",
        format!(
            "{CLIENTS} clients for {}s: {} sign+upload round trips, 0 errors, all {} objects listed and byte-identical",
            RUN_FOR.as_secs(),
            uploaded.len(),
            uploaded.len()
        ),
    );
}
