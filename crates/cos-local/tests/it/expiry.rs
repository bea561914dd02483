//! Abandoned uploads expire: a v4 slice session or v5 multipart upload left
//! without a slice or part for `upload_ttl` is removed with its data, at open
//! and by the store's periodic sweep, and counted.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use shared::v4::codes;

use crate::helpers::*;
use crate::v4::slice_op;

/// Waits until no upload session is left on disk (the timeout is a hang
/// guard only: with a TTL of 3 s the sweep runs every 750 ms).
async fn wait_until_swept(ts: &TestStore) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while ts.upload_sessions() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the abandoned uploads were never swept");
}

#[tokio::test]
async fn an_abandoned_slice_session_and_multipart_upload_expire_with_their_data() {
    // Long enough that the uploads are not swept while the test writes them.
    let ts = TestStore::start_with(|c| c.upload_ttl = Duration::from_secs(3)).await;
    // A 12 MiB slice upload that failed after its first 1 MiB slice.
    let sign = ts.sign_more(None);
    let init = [
        ("op", "upload_slice_init"),
        ("filesize", "12582912"),
        ("slice_size", "1048576"),
    ];
    let r = slice_op(&ts, "/big.mp4", &sign, &init, None).await;
    assert_eq!(r["code"], 0, "{r}");
    let session = r["data"]["session"].as_str().unwrap().to_owned();
    let slice = content(1024 * 1024, 7);
    let data = [
        ("op", "upload_slice_data"),
        ("session", &session),
        ("offset", "0"),
    ];
    let r = slice_op(&ts, "/big.mp4", &sign, &data, Some(&slice)).await;
    assert_eq!(r["code"], 0, "{r}");
    // A multipart upload with one part, never completed.
    let init = ts
        .signed("post", "/big.bin", &[("uploads", "")], &[], Vec::new())
        .await;
    let upload_id = tag(&init.text().await.unwrap(), "UploadId").unwrap();
    let part = [("partNumber", "1"), ("uploadId", upload_id.as_str())];
    let resp = ts
        .signed("put", "/big.bin", &part, &[], content(4096, 8))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(ts.upload_sessions(), 2);

    wait_until_swept(&ts).await;

    let list = [("op", "upload_slice_list"), ("session", session.as_str())];
    let r = slice_op(&ts, "/big.mp4", &sign, &list, None).await;
    assert_eq!(
        r["code"],
        json!(codes::NOT_FOUND),
        "the session is unknown: {r}"
    );
    let parts = ts
        .signed(
            "get",
            "/big.bin",
            &[("uploadId", upload_id.as_str())],
            &[],
            Vec::new(),
        )
        .await;
    let (status, code, text) = xml_code(parts).await;
    assert_eq!((status, code.as_str()), (404, "NoSuchUpload"), "{text}");
    let stats = ts.store.sweep_stats();
    assert_eq!(
        (stats.expired_slices, stats.expired_multipart),
        (1, 1),
        "{stats:?}"
    );
    assert!(
        stats.bytes_freed >= (1024 * 1024 + 4096) && stats.bytes_freed < 12 * 1024 * 1024,
        "the slice and the part written, not the sparse file's length: {stats:?}"
    );
    assert!(ts.keys().is_empty());
}

/// Opening a store removes uploads idle for the TTL before it serves anything.
#[tokio::test]
async fn opening_a_store_sweeps_uploads_idle_for_the_ttl() {
    let ts = TestStore::start().await;
    let init = ts
        .signed("post", "/old.bin", &[("uploads", "")], &[], Vec::new())
        .await;
    assert_eq!(init.status(), 200);
    let fresh = ts
        .signed("post", "/fresh.bin", &[("uploads", "")], &[], Vec::new())
        .await;
    let fresh_id = tag(&fresh.text().await.unwrap(), "UploadId").unwrap();
    let (dir, tmp) = ts.stop().await;
    // A slice session whose file no longer parses expires too (and does not
    // keep the store from opening).
    let broken = dir.join("uploads/v4/0badc0de");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("session.json"), b"{not json").unwrap();
    // Make every upload but the fresh one two days old.
    let two_days_ago = UNIX_EPOCH + Duration::from_secs(now() - 2 * 24 * 3600);
    let v4 = std::fs::read_dir(dir.join("uploads/v4")).unwrap().flatten();
    for upload in std::fs::read_dir(dir.join("uploads/v5"))
        .unwrap()
        .flatten()
        .chain(v4)
    {
        if upload.file_name().to_str() == Some(fresh_id.as_str()) {
            continue;
        }
        for file in std::fs::read_dir(upload.path()).unwrap().flatten() {
            let f = std::fs::File::options()
                .write(true)
                .open(file.path())
                .unwrap();
            f.set_modified(two_days_ago).unwrap();
        }
        let d = std::fs::File::open(upload.path()).unwrap();
        d.set_modified(two_days_ago).unwrap();
    }
    let ts = TestStore::start_in(&dir, |_| {}).await;
    let _keep = tmp;
    assert_eq!(ts.upload_sessions(), 1, "only the fresh upload is left");
    let stats = ts.store.sweep_stats();
    assert_eq!(
        (stats.expired_multipart, stats.expired_slices),
        (1, 1),
        "{stats:?}"
    );
}
