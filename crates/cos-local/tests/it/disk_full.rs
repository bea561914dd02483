//! A full disk: every write answers 507 with a code that says so (v5
//! `InsufficientStorage`, v4 `STORE_FULL`), and nothing partial is kept.

use serde_json::json;
use shared::v4::codes;

use crate::helpers::*;
use crate::v4::slice_op;
use crate::v5::policy_form;

async fn assert_full_v5(what: &str, resp: reqwest::Response) {
    let (status, code, text) = xml_code(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (507, "InsufficientStorage"),
        "{what}: {text}"
    );
    let message = tag(&text, "Message").unwrap_or_default();
    assert!(
        message.contains("disk is full") && message.contains("Retrying will not help"),
        "{what}: {message}"
    );
}

fn assert_full_v4(what: &str, (status, r): (u16, serde_json::Value)) {
    assert_eq!(
        (status, &r["code"]),
        (507, &json!(codes::STORE_FULL)),
        "{what}: {r}"
    );
    let message = r["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("disk is full") && message.contains("retrying will not help"),
        "{what}: {message}"
    );
}

/// With the injected full disk, every path that writes refuses the same way
/// and leaves no object, body, temp file or upload session behind.
#[tokio::test]
async fn every_write_to_a_full_disk_answers_507_and_keeps_nothing() {
    let ts = TestStore::start_with(|c| c.faults.disk_full = true).await;
    assert_full_v5("PUT", ts.put("full/a.jpg", content(300_000, 1)).await).await;
    assert_full_v5("empty PUT", ts.put("full/empty.jpg", Vec::new()).await).await;
    assert_full_v5("directory marker", ts.put("full/dir/", Vec::new()).await).await;
    let form = policy_form(
        &ts,
        "full/p.png",
        vec![cos_sign::policy::Condition::StartsWith(
            "key".into(),
            "full/".into(),
        )],
        &creds(),
        now() - 10,
        now() + 600,
    )
    .part(
        "file",
        reqwest::multipart::Part::bytes(content(5000, 2)).file_name("p.png"),
    );
    let resp = ts.post_form(form).await;
    assert_full_v5("POST Object", resp).await;
    let initiate = ts
        .signed("post", "/full/big.bin", &[("uploads", "")], &[], Vec::new())
        .await;
    assert_full_v5("Initiate Multipart Upload", initiate).await;

    let sign = ts.sign_more(None);
    assert_full_v4(
        "v4 upload",
        ts.v4_upload("/full/v4.jpg", &content(70_000, 3), &[], &sign)
            .await,
    );
    let init = [
        ("op", "upload_slice_init"),
        ("filesize", "200000"),
        ("slice_size", "65536"),
    ];
    let r = slice_op(&ts, "/full/slices.bin", &sign, &init, None).await;
    assert_eq!(r["code"], json!(codes::STORE_FULL), "{r}");
    let single = ts.sign_once("/full/v4.jpg");
    assert_full_v4(
        "v4 delete (the used-signature log)",
        ts.v4_json("/full/v4.jpg", json!({"op": "delete"}), &single)
            .await,
    );

    ts.assert_nothing_stored().await;
    assert_eq!(ts.store.temp_file_count(), 0);
    assert_eq!(ts.upload_sessions(), 0);
}

/// A real `ENOSPC` from the kernel, not an injected one: the used-signature
/// log is pointed at `/dev/full`, so the single-effect delete cannot record
/// its signature and refuses 507 without deleting.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_real_enospc_is_answered_507_and_nothing_happens() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let (status, r) = ts.v4_upload("/kept.jpg", b"kept", &[], &sign).await;
    assert_eq!((status, &r["code"]), (200, &json!(0)), "{r}");
    let log = ts.data_dir().join("used-v4-signatures");
    let _ = std::fs::remove_file(&log);
    std::os::unix::fs::symlink("/dev/full", &log).unwrap();
    let single = ts.sign_once("/kept.jpg");
    assert_full_v4(
        "v4 delete",
        ts.v4_json("/kept.jpg", json!({"op": "delete"}), &single)
            .await,
    );
    assert_eq!(
        ts.get_bytes("kept.jpg").await.as_deref(),
        Some(&b"kept"[..])
    );
}
