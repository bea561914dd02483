//! Durability, atomicity and fault injection.

use std::time::Duration;

use cos_local::FaultConfig;
use futures_util::StreamExt as _;

use crate::helpers::*;
use crate::v4::slice_op;

#[tokio::test]
async fn restart_keeps_objects_sessions_uploads_and_used_signatures() {
    let ts = TestStore::start().await;
    assert_eq!(ts.put("kept.txt", b"kept".to_vec()).await.status(), 200);
    let sign = ts.sign_more(None);
    ts.v4_upload("/gone.txt", b"x", &[], &sign).await;
    let once = ts.sign_once("/gone.txt");
    let (_, r) = ts
        .v4_json("/gone.txt", serde_json::json!({"op": "delete"}), &once)
        .await;
    assert_eq!(r["code"], 0);
    // A slice session with one of two slices.
    let body = content(65536 + 10, 3);
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[
            ("op", "upload_slice_init"),
            ("filesize", "65546"),
            ("slice_size", "65536"),
        ],
        None,
    )
    .await;
    let session = r["data"]["session"].as_str().unwrap().to_owned();
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[
            ("op", "upload_slice_data"),
            ("session", &session),
            ("offset", "0"),
        ],
        Some(&body[..65536]),
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    // A v5 multipart upload with one part.
    let resp = ts
        .client
        .post(format!("{}?uploads", ts.url("mp.bin")))
        .header(
            "Authorization",
            ts.auth("post", "/mp.bin", &[("uploads", "")]),
        )
        .send()
        .await
        .unwrap();
    let id = tag(&resp.text().await.unwrap(), "UploadId").unwrap();
    let params = [("partNumber", "1"), ("uploadId", id.as_str())];
    let part = content(3000, 8);
    let resp = ts
        .client
        .put(ts.url("mp.bin"))
        .query(&params)
        .header("Authorization", ts.auth("put", "/mp.bin", &params))
        .body(part.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (dir, tmp) = ts.stop().await;
    let mut ts = TestStore::start_in(&dir, |_| {}).await;
    let _keep = tmp;
    assert_eq!(ts.keys(), ["kept.txt"]);
    assert_eq!(ts.get_bytes("kept.txt").await.unwrap(), b"kept");
    // The used single-effect signature stays used.
    ts.v4_upload("/gone.txt", b"x", &[], &sign).await;
    let (_, r) = ts
        .v4_json("/gone.txt", serde_json::json!({"op": "delete"}), &once)
        .await;
    assert_eq!(r["code"], shared::v4::codes::SIGN_REPLAYED, "{r}");
    // The slice session resumes.
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[("op", "upload_slice_list"), ("session", &session)],
        None,
    )
    .await;
    assert_eq!(r["data"]["listparts"].as_array().unwrap().len(), 1, "{r}");
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[
            ("op", "upload_slice_data"),
            ("session", &session),
            ("offset", "65536"),
        ],
        Some(&body[65536..]),
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[("op", "upload_slice_finish"), ("session", &session)],
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(ts.get_bytes("s.bin").await.unwrap(), body);
    // The multipart upload completes.
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{}\"</ETag></Part></CompleteMultipartUpload>",
        md5_hex(&part)
    );
    let p = [("uploadId", id.as_str())];
    let resp = ts
        .client
        .post(ts.url("mp.bin"))
        .query(&p)
        .header("Authorization", ts.auth("post", "/mp.bin", &p))
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(ts.get_bytes("mp.bin").await.unwrap(), part);
    ts.client = reqwest::Client::new();
}

#[tokio::test]
async fn stale_temp_files_and_orphans_are_removed_at_open() {
    let ts = TestStore::start().await;
    assert_eq!(ts.put("a", b"a".to_vec()).await.status(), 200);
    let (dir, tmp) = ts.stop().await;
    std::fs::write(dir.join("tmp").join("half-written"), b"partial").unwrap();
    std::fs::write(dir.join("blobs").join("orphan"), b"never committed").unwrap();
    let meta_dir = std::fs::read_dir(dir.join("buckets").join("metis-1250000000").join("meta"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(meta_dir.with_extension("123.tmp"), b"{").unwrap();
    let ts = TestStore::start_in(&dir, |_| {}).await;
    let _keep = tmp;
    assert_eq!(ts.keys(), ["a"]);
    assert_eq!(ts.body_files(), 1, "only the committed body remains");
    assert_eq!(ts.store.temp_file_count(), 0);
    assert_eq!(ts.get_bytes("a").await.unwrap(), b"a");
}

/// The sidecars of the default bucket: key -> (sidecar path, blob id).
fn sidecars(
    dir: &std::path::Path,
) -> std::collections::BTreeMap<String, (std::path::PathBuf, String)> {
    let meta_dir = dir.join("buckets").join("metis-1250000000").join("meta");
    std::fs::read_dir(meta_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let key = v["key"].as_str().unwrap().to_owned();
            let blob = v["blob"].as_str().unwrap_or_default().to_owned();
            (key, (p, blob))
        })
        .collect()
}

#[tokio::test]
async fn open_removes_metadata_whose_body_is_missing_or_torn() {
    let ts = TestStore::start().await;
    for (key, body) in [
        ("missing", b"gone".as_slice()),
        ("torn", b"0123456789"),
        ("fine", b"ok"),
    ] {
        assert_eq!(ts.put(key, body.to_vec()).await.status(), 200);
    }
    let sign = ts.sign_more(None);
    let (_, r) = ts
        .v4_json("/dir/", serde_json::json!({"op": "create"}), &sign)
        .await;
    assert_eq!(r["code"], 0, "{r}");
    let (dir, tmp) = ts.stop().await;
    // What a power loss with --no-fsync can leave: a durable sidecar whose body
    // rename (or data) was lost.
    let before = sidecars(&dir);
    assert_eq!(before.len(), 4);
    std::fs::remove_file(dir.join("blobs").join(&before["missing"].1)).unwrap();
    std::fs::write(dir.join("blobs").join(&before["torn"].1), b"01234").unwrap();

    let ts = TestStore::start_in(&dir, |_| {}).await;
    let _keep = tmp;
    assert_eq!(ts.keys(), ["dir/", "fine"]);
    let after = sidecars(&dir);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        ["dir/", "fine"],
        "the broken sidecars are removed from disk, not only hidden"
    );
    assert_eq!(ts.get("missing").await.status(), 404);
    assert_eq!(ts.get("torn").await.status(), 404);
    assert_eq!(ts.get_bytes("fine").await.unwrap(), b"ok");
    assert_eq!(
        ts.body_files(),
        1,
        "the torn body is an orphan now and removed"
    );
    // The key can be written again.
    assert_eq!(ts.put("missing", b"back".to_vec()).await.status(), 200);
    assert_eq!(ts.get_bytes("missing").await.unwrap(), b"back");
}

#[tokio::test]
async fn a_dropped_connection_leaves_nothing() {
    let ts = TestStore::start().await;
    // Declare 10 MiB, send 1 MiB, then fail the body stream: the client aborts.
    let chunks = (0..17).map(|i| {
        if i < 16 {
            Ok(bytes::Bytes::from(vec![1u8; 64 * 1024]))
        } else {
            Err(std::io::Error::other("client gave up"))
        }
    });
    let stream = futures_util::stream::iter(chunks);
    let result = ts
        .client
        .put(ts.url("cut.bin"))
        .header("Authorization", ts.auth("put", "/cut.bin", &[]))
        .header("Content-Length", 10 * 1024 * 1024)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    if let Ok(resp) = &result {
        assert_ne!(resp.status(), 200, "a cut-off body was stored: {resp:?}");
    }
    ts.assert_nothing_stored().await;

    // The same through the v4 form upload.
    let stream = futures_util::stream::iter((0..9).map(|i| {
        if i < 8 {
            Ok(bytes::Bytes::from(vec![2u8; 64 * 1024]))
        } else {
            Err(std::io::Error::other("client gave up"))
        }
    }));
    let form = reqwest::multipart::Form::new().text("op", "upload").part(
        "filecontent",
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream)).file_name("x"),
    );
    let result = ts
        .client
        .post(ts.v4_url("/cut.bin"))
        .header("Authorization", ts.sign_more(None))
        .multipart(form)
        .send()
        .await;
    if let Ok(resp) = &result {
        assert_ne!(resp.status(), 200, "a cut-off body was stored: {resp:?}");
    }
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn concurrent_writers_of_one_key_never_tear() {
    let ts = std::sync::Arc::new(TestStore::start().await);
    let bodies: Vec<Vec<u8>> = (0..8)
        .map(|i| content(200_000 + i * 1000, i as u8))
        .collect();
    let mut tasks = Vec::new();
    for b in bodies.clone() {
        let ts = ts.clone();
        tasks.push(tokio::spawn(
            async move { ts.put("same", b).await.status() },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let resp = ts.get("same").await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let got = resp.bytes().await.unwrap().to_vec();
    assert!(bodies.contains(&got), "the object is one whole body");
    assert_eq!(etag, format!("\"{}\"", md5_hex(&got)));
    assert_eq!(ts.body_files(), 1, "replaced bodies are removed");
}

async fn statuses(seed: u64, n: usize) -> Vec<u16> {
    let ts = TestStore::start_with(|c| {
        let mut f = FaultConfig::seeded(seed);
        f.error_rate = 0.5;
        c.faults = f;
    })
    .await;
    let mut out = Vec::new();
    for i in 0..n {
        let resp = ts.put(&format!("k{i}"), b"v".to_vec()).await;
        out.push(resp.status().as_u16());
    }
    // Every failed request stored nothing.
    let ok = out.iter().filter(|s| **s == 200).count();
    assert_eq!(ts.keys().len(), ok);
    // The counters saw exactly the faults the client saw.
    let count = |code| out.iter().filter(|s| **s == code).count() as u64;
    let stats = ts.store.fault_stats();
    assert_eq!(
        (stats.internal_errors, stats.slow_downs, stats.failures()),
        (count(500), count(503), (n - ok) as u64),
        "{stats:?}"
    );
    out
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let a = statuses(7, 24).await;
    let b = statuses(7, 24).await;
    let c = statuses(8, 24).await;
    assert_eq!(a, b, "same seed, same faults");
    assert_ne!(a, c, "another seed, other faults");
    assert!(
        a.contains(&200) && (a.contains(&500) || a.contains(&503)),
        "{a:?}"
    );
    assert!(a.iter().all(|s| [200, 500, 503].contains(s)), "{a:?}");
}

/// A request whose connection the store drops: the client gets no response at
/// all (not even a status line), whatever the body's size.
fn assert_no_response(what: &str, result: Result<reqwest::Response, reqwest::Error>) {
    match result {
        Err(e) => assert!(!e.is_timeout(), "{what}: {e}"),
        Ok(r) => panic!("{what}: a response came through: {}", r.status()),
    }
}

#[tokio::test]
async fn injected_drops_cut_the_body_and_never_answer() {
    let ts = TestStore::start_with(|c| {
        let mut f = FaultConfig::seeded(1);
        f.drop_rate = 1.0;
        f.scope = cos_local::FaultScope::new(true, false);
        c.faults = f;
    })
    .await;
    for (key, len) in [("tiny", 1usize), ("small", 100), ("large", 4 * 1024 * 1024)] {
        let result = ts
            .client
            .put(ts.url(key))
            .header("Authorization", ts.auth("put", &format!("/{key}"), &[]))
            .body(content(len, 1))
            .send()
            .await;
        assert_no_response(key, result);
    }
    // A body sent slowly, in pieces: the store stops reading part-way, so the
    // client is cut off before it has sent everything.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let total = 64usize;
    let chunks = futures_util::stream::iter(0..total).then(move |_| {
        let counter = counter.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![5u8; 16 * 1024]))
        }
    });
    let result = ts
        .client
        .put(ts.url("trickle"))
        .header("Authorization", ts.auth("put", "/trickle", &[]))
        .header("Content-Length", total * 16 * 1024)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    assert_no_response("trickle", result);
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < total,
        "the whole body was taken before the drop ({sent} chunks)"
    );
    // The v4 form upload too.
    let form = reqwest::multipart::Form::new().text("op", "upload").part(
        "filecontent",
        reqwest::multipart::Part::bytes(content(50, 2)).file_name("x"),
    );
    let result = ts
        .client
        .post(ts.v4_url("/v4.bin"))
        .header("Authorization", ts.sign_more(None))
        .multipart(form)
        .send()
        .await;
    assert_no_response("v4", result);
    ts.assert_nothing_stored().await;
    let stats = ts.store.fault_stats();
    assert_eq!((stats.drops, stats.failures()), (5, 5), "{stats:?}");
    // Reads are out of scope here.
    assert_eq!(ts.get("tiny").await.status(), 404);
}

#[tokio::test]
async fn a_lost_reply_stores_the_object_and_an_idempotent_retry_sees_it() {
    let ts = TestStore::start_with(|c| {
        let mut f = FaultConfig::seeded(1);
        f.lost_reply_rate = 1.0;
        f.scope = cos_local::FaultScope::new(true, false);
        c.faults = f;
    })
    .await;
    let v5_body = content(200_000, 4);
    let v5_sha = sha1_hex(&v5_body);
    let result = ts
        .client
        .put(ts.url("lost/v5.bin"))
        .header("Authorization", ts.auth("put", "/lost/v5.bin", &[]))
        .header("x-cos-meta-sha1", &v5_sha)
        .body(v5_body.clone())
        .send()
        .await;
    assert_no_response("v5 PUT", result);
    let v4_body = content(3000, 5);
    let v4_sha = sha1_hex(&v4_body);
    let sign = ts.sign_more(None);
    let form = reqwest::multipart::Form::new()
        .text("op", "upload")
        .text("sha", v4_sha.clone())
        .text("insertOnly", "1")
        .part(
            "filecontent",
            reqwest::multipart::Part::bytes(v4_body.clone()).file_name("x"),
        );
    let result = ts
        .client
        .post(ts.v4_url("/lost/v4.bin"))
        .header("Authorization", &sign)
        .multipart(form)
        .send()
        .await;
    assert_no_response("v4 upload", result);
    // Both were committed although no client heard of it.
    assert_eq!(ts.keys(), ["lost/v4.bin", "lost/v5.bin"]);
    assert_eq!(ts.get_bytes("lost/v5.bin").await.unwrap(), v5_body);
    assert_eq!(ts.get_bytes("lost/v4.bin").await.unwrap(), v4_body);
    let stats = ts.store.fault_stats();
    assert_eq!((stats.lost_replies, stats.failures()), (2, 2), "{stats:?}");

    // The retries a client makes, once replies get through again.
    let (dir, tmp) = ts.stop().await;
    let ts = TestStore::start_in(&dir, |_| {}).await;
    let _keep = tmp;
    let (status, r) = ts
        .v4_upload(
            "/lost/v4.bin",
            &v4_body,
            &[("sha", &v4_sha), ("insertOnly", "1")],
            &sign,
        )
        .await;
    assert_eq!(
        (status, &r["code"]),
        (
            409,
            &serde_json::json!(shared::v4::codes::SAME_FILE_UPLOADED)
        ),
        "{r}"
    );
    assert!(r["data"]["source_url"].as_str().is_some(), "{r}");
    let head = ts.client.head(ts.url("lost/v5.bin")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["x-cos-meta-sha1"], v5_sha.as_str());
    assert_eq!(ts.keys(), ["lost/v4.bin", "lost/v5.bin"]);
}

#[tokio::test]
async fn injected_latency_applies_to_the_scope_only() {
    let ts = TestStore::start_with(|c| {
        let mut f = FaultConfig::seeded(1);
        f.latency = Duration::from_millis(1000);
        f.latency_rate = 1.0;
        f.scope = cos_local::FaultScope::new(true, false);
        c.faults = f;
    })
    .await;
    let t = std::time::Instant::now();
    assert_eq!(ts.put("slow", b"s".to_vec()).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(1000));
    // Reads are out of scope here: no delay, and not counted.
    assert_eq!(ts.get("slow").await.status(), 200);
    let stats = ts.store.fault_stats();
    assert_eq!((stats.delayed, stats.failures()), (1, 0), "{stats:?}");
}

#[tokio::test]
async fn a_killed_process_leaves_no_partial_object() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cos-local"))
        .arg("--data-dir")
        .arg(&dir)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--appid",
            APPID,
            "--bucket",
            BUCKET,
        ])
        .args(["--secret-id", SECRET_ID])
        .env("COS_LOCAL_SECRET_KEY", SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    // "cos-local listening on http://127.0.0.1:PORT (default bucket …)"
    let host = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();

    // A 100 MiB PUT that trickles in, so the process dies mid-body.
    let auth = auth_with(
        &creds(),
        &host,
        "put",
        "/crash.bin",
        &[],
        now() - 10,
        now() + 600,
    );
    let chunks = futures_util::stream::unfold(0u32, |i| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![3u8; 64 * 1024])),
            i + 1,
        ))
    });
    let url = format!("http://{host}/crash.bin");
    let upload = tokio::spawn(async move {
        reqwest::Client::new()
            .put(url)
            .header("Authorization", auth)
            .header("Content-Length", 100 * 1024 * 1024)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
    });
    // Wait until part of the body is on disk, then kill -9.
    let tmp_dir = dir.join("tmp");
    let mut partial = false;
    for _ in 0..500 {
        let written: u64 = std::fs::read_dir(&tmp_dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if written > 256 * 1024 {
            partial = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(partial, "the body never started arriving");
    if let Ok(resp) = upload.await.unwrap() {
        panic!("the upload cannot have succeeded: {resp:?}");
    }
    assert!(
        std::fs::read_dir(&tmp_dir).unwrap().count() > 0,
        "the crash left a partial temp file behind (the point of this test)"
    );

    // Reopen on the same directory: nothing visible, the temp file is gone.
    let ts = TestStore::start_in(&dir, |_| {}).await;
    assert!(ts.keys().is_empty());
    assert_eq!(ts.body_files(), 0);
    assert_eq!(ts.get("crash.bin").await.status(), 404);
    drop(tmp);
}

#[tokio::test]
async fn open_refuses_bad_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let open = |f: &dyn Fn(&mut cos_local::StoreConfig)| {
        let mut c = cos_local::StoreConfig::new(tmp.path(), APPID, BUCKET, vec![creds()]);
        f(&mut c);
        cos_local::Store::open(c)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(open(&|_| {}), Ok(()));
    assert!(
        open(&|c| c.appid = "12ab".into())
            .unwrap_err()
            .contains("APPID")
    );
    for bucket in ["metis-1250000000.x", "Metis"] {
        let e = open(&|c| c.default_bucket = bucket.into()).unwrap_err();
        assert!(e.contains("default bucket"), "{bucket}: {e}");
    }
    assert!(
        open(&|c| c.credentials.clear())
            .unwrap_err()
            .contains("SecretId")
    );
    assert!(
        open(&|c| c.faults.error_rate = 1.5)
            .unwrap_err()
            .contains("fault rate")
    );
    assert!(
        open(&|c| {
            c.faults.error_rate = 0.5;
            c.faults.drop_rate = 0.3;
            c.faults.lost_reply_rate = 0.3;
        })
        .unwrap_err()
        .contains("add up to more than 1")
    );
    assert_eq!(
        open(&|c| {
            c.faults.error_rate = 0.5;
            c.faults.drop_rate = 0.25;
            c.faults.lost_reply_rate = 0.25;
            c.faults.latency_rate = 1.0;
        }),
        Ok(())
    );
}

#[tokio::test]
async fn mounts_after_the_host_apps_own_routes() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let tmp = tempfile::tempdir().unwrap();
    let store = cos_local::Store::open(cos_local::StoreConfig::new(
        tmp.path(),
        APPID,
        BUCKET,
        vec![creds()],
    ))
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let s = store.clone();
    let server = HttpServer::new(move || {
        App::new()
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("app") }),
            )
            .configure(cos_local::configure(s.clone()))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    let client = reqwest::Client::new();
    let body = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "app");
    let host = addr.to_string();
    let auth = auth_with(
        &creds(),
        &host,
        "put",
        "/k.txt",
        &[],
        now() - 10,
        now() + 600,
    );
    let resp = client
        .put(format!("http://{addr}/k.txt"))
        .header("Authorization", auth)
        .body("mounted")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got = client
        .get(format!("http://{addr}/k.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "mounted");
    assert_eq!(store.keys(BUCKET), ["k.txt"]);
    handle.stop(true).await;
}
