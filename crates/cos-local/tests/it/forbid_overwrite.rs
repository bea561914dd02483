//! `x-cos-forbid-overwrite: true`: PUT Object, POST Object (header or form
//! field), Initiate and Complete Multipart Upload refuse an existing key with
//! 409 `FileAlreadyExists`, even for the same content, and write nothing.

use std::sync::Arc;

use crate::helpers::*;
use crate::v5::policy_form;

const FORBID: (&str, &str) = ("x-cos-forbid-overwrite", "true");

async fn put(ts: &TestStore, key: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let resp = ts
        .signed("put", &format!("/{key}"), &[], headers, body.to_vec())
        .await;
    let (status, code, _) = xml_code(resp).await;
    (status, code)
}

#[tokio::test]
async fn put_object_refuses_an_existing_key_even_with_the_same_content() {
    let ts = TestStore::start().await;
    assert_eq!(
        put(&ts, "a.jpg", &[FORBID], b"first").await,
        (200, String::new())
    );
    for body in [&b"first"[..], b"second"] {
        assert_eq!(
            put(&ts, "a.jpg", &[FORBID], body).await,
            (409, "FileAlreadyExists".to_owned()),
            "{body:?}"
        );
    }
    assert_eq!(ts.get_bytes("a.jpg").await.unwrap(), b"first");
    assert_eq!(ts.store.temp_file_count(), 0);
    // A directory marker too.
    assert_eq!(put(&ts, "d/", &[FORBID], b"").await.0, 200);
    assert_eq!(
        put(&ts, "d/", &[FORBID], b"").await,
        (409, "FileAlreadyExists".to_owned())
    );
    // `false` (or no header) overwrites; any other value is refused.
    let (status, code) = put(&ts, "a.jpg", &[("x-cos-forbid-overwrite", "yes")], b"x").await;
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    let no = ("x-cos-forbid-overwrite", "False");
    assert_eq!(put(&ts, "a.jpg", &[no], b"third").await.0, 200);
    assert_eq!(ts.get_bytes("a.jpg").await.unwrap(), b"third");
    assert_eq!(ts.keys(), ["a.jpg", "d/"]);
}

/// Racing forbid-overwrite PUTs of one new key: exactly one is stored, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_racing_forbid_overwrite_puts_exactly_one_wins() {
    let ts = Arc::new(TestStore::start().await);
    let bodies: Vec<Vec<u8>> = (0..8).map(|i| content(100_000, i)).collect();
    let tasks: Vec<_> = bodies
        .iter()
        .cloned()
        .map(|body| {
            let ts = Arc::clone(&ts);
            tokio::spawn(async move { put(&ts, "race.bin", &[FORBID], &body).await })
        })
        .collect();
    let mut won = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            (200, _) => won.push(i),
            (status, code) => assert_eq!((status, code.as_str()), (409, "FileAlreadyExists")),
        }
    }
    assert_eq!(won.len(), 1, "winners: {won:?}");
    assert_eq!(ts.get_bytes("race.bin").await.unwrap(), bodies[won[0]]);
    assert_eq!(ts.store.temp_file_count(), 0);
}

#[tokio::test]
async fn post_object_takes_the_header_or_the_form_field() {
    use cos_sign::policy::Condition;
    let ts = TestStore::start().await;
    assert_eq!(ts.put("u/1/p.png", b"kept".to_vec()).await.status(), 200);
    let conditions = || {
        vec![
            Condition::Exact("key".into(), "u/1/p.png".into()),
            Condition::StartsWith("x-cos-forbid-overwrite".into(), String::new()),
        ]
    };
    let form = || {
        policy_form(
            &ts,
            "u/1/p.png",
            conditions(),
            &creds(),
            now() - 10,
            now() + 600,
        )
    };
    let file = || reqwest::multipart::Part::bytes(b"replaced".to_vec()).file_name("p.png");
    let post = |form: reqwest::multipart::Form, header: Option<&'static str>| {
        let mut rb = ts.client.post(format!("{}/", ts.base)).multipart(form);
        if let Some(v) = header {
            rb = rb.header("x-cos-forbid-overwrite", v);
        }
        async move { xml_code(rb.send().await.unwrap()).await }
    };
    let (status, code, text) = post(form().part("file", file()), Some("true")).await;
    assert_eq!(
        (status, code.as_str()),
        (409, "FileAlreadyExists"),
        "{text}"
    );
    let field = form()
        .text("x-cos-forbid-overwrite", "true")
        .part("file", file());
    let (status, code, text) = post(field, None).await;
    assert_eq!(
        (status, code.as_str()),
        (409, "FileAlreadyExists"),
        "{text}"
    );
    assert_eq!(ts.get_bytes("u/1/p.png").await.unwrap(), b"kept");
    assert_eq!(ts.store.temp_file_count(), 0);
    let (status, _, text) = post(form().part("file", file()), None).await;
    assert_eq!(status, 204, "{text}");
    assert_eq!(ts.get_bytes("u/1/p.png").await.unwrap(), b"replaced");
}

async fn initiate(ts: &TestStore, key: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let params = [("uploads", "")];
    let resp = ts
        .signed("post", &format!("/{key}"), &params, headers, Vec::new())
        .await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        tag(&text, "UploadId")
            .or(tag(&text, "Code"))
            .unwrap_or(text),
    )
}

async fn part(ts: &TestStore, key: &str, id: &str, body: &[u8]) -> String {
    let params = [("partNumber", "1"), ("uploadId", id)];
    let resp = ts
        .signed("put", &format!("/{key}"), &params, &[], body.to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    resp.headers()["etag"].to_str().unwrap().to_owned()
}

async fn complete(
    ts: &TestStore,
    key: &str,
    id: &str,
    etag: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let params = [("uploadId", id)];
    let resp = ts
        .signed(
            "post",
            &format!("/{key}"),
            &params,
            headers,
            xml.into_bytes(),
        )
        .await;
    let (status, code, _) = xml_code(resp).await;
    (status, code)
}

#[tokio::test]
async fn multipart_upload_honours_it_at_initiate_and_at_complete() {
    let ts = TestStore::start().await;
    assert_eq!(ts.put("m.bin", b"kept".to_vec()).await.status(), 200);
    // Initiate refuses at once; no upload is started.
    assert_eq!(
        initiate(&ts, "m.bin", &[FORBID]).await,
        (409, "FileAlreadyExists".to_owned())
    );
    let uploads = ts
        .signed("get", "/", &[("uploads", "")], &[], Vec::new())
        .await;
    let text = uploads.text().await.unwrap();
    assert_eq!(tags(&text, "UploadId"), Vec::<String>::new(), "{text}");

    // Complete refuses; the upload stays, to be completed without the header.
    let (status, id) = initiate(&ts, "m.bin", &[]).await;
    assert_eq!(status, 200, "{id}");
    let etag = part(&ts, "m.bin", &id, &content(2048, 1)).await;
    assert_eq!(
        complete(&ts, "m.bin", &id, &etag, &[FORBID]).await,
        (409, "FileAlreadyExists".to_owned())
    );
    assert_eq!(ts.get_bytes("m.bin").await.unwrap(), b"kept");
    assert_eq!(ts.store.temp_file_count(), 0);
    assert_eq!(complete(&ts, "m.bin", &id, &etag, &[]).await.0, 200);
    assert_eq!(ts.get_bytes("m.bin").await.unwrap(), content(2048, 1));

    // Initiated with the header for a free key that is taken meanwhile: the
    // complete refuses even without the header.
    let (status, id) = initiate(&ts, "n.bin", &[FORBID]).await;
    assert_eq!(status, 200, "{id}");
    let etag = part(&ts, "n.bin", &id, &content(2048, 2)).await;
    assert_eq!(ts.put("n.bin", b"first".to_vec()).await.status(), 200);
    assert_eq!(
        complete(&ts, "n.bin", &id, &etag, &[]).await,
        (409, "FileAlreadyExists".to_owned())
    );
    assert_eq!(ts.get_bytes("n.bin").await.unwrap(), b"first");
}
