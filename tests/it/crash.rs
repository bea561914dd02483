//! Crash safety of the store: SIGKILL it in the middle of uploads; after a restart on the
//! same data directory no partial object is listed or served, and nothing is left behind.

use std::time::Duration;

use cos_sign::{Credentials, v4, v5};
use futures_util::StreamExt as _;

use crate::harness::procs::StoreProcess;
use crate::harness::{bytes, proved};

const APPID: &str = "1250000000";
const BUCKET: &str = "crash";
const SID: &str = "AKIDCrashTestSecretId000000000000000";
const SKEY: &str = "CrashTestSecretKey0123456789abcdef";

/// A body that sends `chunks` of 256 KiB slowly, so the upload is in flight when the
/// store dies.
fn slow_body(seed: u64, chunks: usize) -> reqwest::Body {
    let stream = futures_util::stream::iter(0..chunks).then(move |i| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok::<_, std::io::Error>(bytes(seed + i as u64, 256 * 1024))
    });
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_store_shows_no_partial_object_after_restart() {
    let data = tempfile::tempdir().unwrap();
    let creds = Credentials::new(SID, SKEY);
    let mut store = StoreProcess::start(data.path(), APPID, BUCKET, SID, SKEY);
    let http = reqwest::Client::new();
    let now = shared::clock::unix_now();

    // One complete object first, to show that committed data survives.
    let host = format!("127.0.0.1:{}", store.port);
    let put_auth = |key: &str| {
        v5::sign(
            &creds,
            &v5::Request {
                method: "PUT",
                path: &format!("/{key}"),
                params: &[],
                headers: &[("host", &host)],
            },
            v5::KeyTime::new(now - 10, now + 600).unwrap(),
        )
        .to_authorization()
    };
    let done = bytes(1, 100_000);
    let res = http
        .put(format!("{}/done.bin", store.url()))
        .header("Authorization", put_auth("done.bin"))
        .body(done.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Two uploads in flight: a v5 PUT and a v4 op=upload, each 16 MiB sent slowly.
    let put = http
        .put(format!("{}/partial-put.bin", store.url()))
        .header("Authorization", put_auth("partial-put.bin"))
        .header("Content-Length", (64 * 256 * 1024).to_string())
        .body(slow_body(10, 64))
        .send();
    let sign = v4::Signer {
        appid: APPID,
        bucket: BUCKET,
        credentials: &creds,
    }
    .multi_effect(None, now + 600, now, 7)
    .unwrap();
    let form = reqwest::multipart::Form::new().text("op", "upload").part(
        "filecontent",
        reqwest::multipart::Part::stream(slow_body(20, 64)).file_name("partial-v4.bin"),
    );
    let v4 = http
        .post(format!(
            "{}/files/v2/{APPID}/{BUCKET}/partial-v4.bin",
            store.url()
        ))
        .header("Authorization", sign)
        .multipart(form)
        .send();
    let uploads = tokio::spawn(async move { futures_util::future::join(put, v4).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    store.kill9();
    let (put_res, v4_res) = uploads.await.unwrap();
    // Both were connected and cut mid-request: reqwest reports a request error
    // (connection reset, or closed before a complete reply). The PUT may also
    // have been answered with an error status.
    let cut_mid_request = |r: &reqwest::Result<reqwest::Response>| match r {
        Err(e) => e.is_request() && !e.is_connect(),
        Ok(_) => false,
    };
    assert!(
        cut_mid_request(&put_res) || matches!(&put_res, Ok(r) if !r.status().is_success()),
        "PUT completed despite the kill: {put_res:?}"
    );
    assert!(
        cut_mid_request(&v4_res),
        "v4 upload completed despite the kill: {v4_res:?}"
    );

    // Restart on the same directory.
    let store = StoreProcess::start(data.path(), APPID, BUCKET, SID, SKEY);
    let host2 = format!("127.0.0.1:{}", store.port);
    let list_auth = v5::sign(
        &creds,
        &v5::Request {
            method: "GET",
            path: "/",
            params: &[],
            headers: &[("host", &host2)],
        },
        v5::KeyTime::new(now - 10, now + 600).unwrap(),
    )
    .to_authorization();
    let listing = http
        .get(format!("{}/", store.url()))
        .header("Authorization", list_auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let keys = crate::harness::xml_values(&listing, "Key");
    assert_eq!(
        keys,
        vec!["done.bin".to_owned()],
        "listing after restart: {listing}"
    );
    for key in ["partial-put.bin", "partial-v4.bin"] {
        let res = http
            .get(format!("{}/{key}", store.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{key} is served after the crash");
    }
    let res = http
        .get(format!("{}/done.bin", store.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), done.as_slice());
    drop(store);

    // And the directory holds no leftover temp files once the store has reopened it.
    let reopened = cos_local::Store::open(cos_local::StoreConfig::new(
        data.path(),
        APPID,
        BUCKET,
        vec![creds.clone()],
    ))
    .unwrap();
    assert_eq!(reopened.temp_file_count(), 0);
    assert_eq!(reopened.keys(BUCKET), vec!["done.bin".to_owned()]);
    proved(
        "crash",
        "store SIGKILLed during a 16 MiB v5 PUT and a 16 MiB v4 upload: after restart only the committed object is listed/served, no temp files remain",
    );
}
