//! The headers an upload stores and a download returns: `Cache-Control`,
//! `Content-Disposition`, `Content-Encoding` and `Expires` from PUT, POST
//! Object fields and Initiate Multipart Upload; the `response-*` overrides of
//! GET; the content type guessed when an upload gives none, an empty one or
//! `application/octet-stream`.

use crate::helpers::*;

const SET: [(&str, &str); 4] = [
    ("Cache-Control", "max-age=31536000"),
    ("Content-Disposition", "attachment; filename=\"a b.png\""),
    ("Content-Encoding", "identity"),
    ("Expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
];

/// GET and HEAD of `key` return every header of [`SET`] and `content_type`.
async fn assert_served(ts: &TestStore, key: &str, content_type: &str) {
    let get = ts.get(key).await;
    let head = ts.client.head(ts.url(key)).send().await.unwrap();
    for resp in [&get, &head] {
        assert_eq!(resp.status(), 200, "{key}");
        assert_eq!(resp.headers()["content-type"], content_type, "{key}");
        for (name, value) in SET {
            assert_eq!(resp.headers()[name], value, "{key}: {name}");
        }
    }
}

#[tokio::test]
async fn put_post_and_multipart_store_the_headers_get_and_head_return() {
    let ts = TestStore::start().await;
    // PUT.
    let mut headers = SET.to_vec();
    headers.push(("Content-Type", "image/png"));
    let resp = ts
        .signed("put", "/h/put.png", &[], &headers, b"png".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    assert_served(&ts, "h/put.png", "image/png").await;

    // POST Object: the form fields.
    let mut form = reqwest::multipart::Form::new()
        .text("key", "h/post.png")
        .text("Signature", ts.auth("post", "/", &[]));
    for (name, value) in SET {
        form = form.text(name, value);
    }
    let form = form.part(
        "file",
        reqwest::multipart::Part::bytes(b"png".to_vec()).file_name("x.png"),
    );
    let resp = ts.post_form(form).await;
    assert_eq!(resp.status(), 204);
    assert_served(&ts, "h/post.png", "image/png").await;

    // Multipart: given at initiate, on the completed object.
    let resp = ts
        .signed("post", "/h/mp.png", &[("uploads", "")], &SET, Vec::new())
        .await;
    let id = tag(&resp.text().await.unwrap(), "UploadId").unwrap();
    let part = [("partNumber", "1"), ("uploadId", id.as_str())];
    let resp = ts
        .signed("put", "/h/mp.png", &part, &[], b"part".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{}\"</ETag></Part>\
         </CompleteMultipartUpload>",
        md5_hex(b"part")
    );
    let resp = ts
        .signed(
            "post",
            "/h/mp.png",
            &[("uploadId", id.as_str())],
            &[],
            xml.into(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Initiate named no type: guessed from the key.
    assert_served(&ts, "h/mp.png", "image/png").await;

    // An empty value (the wx SDK sends `Cache-Control:` empty) stores nothing.
    let resp = ts
        .signed(
            "put",
            "/h/empty.png",
            &[],
            &[("Cache-Control", ""), ("Content-Disposition", "")],
            b"png".to_vec(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = ts.get("h/empty.png").await;
    assert!(!resp.headers().contains_key("cache-control"), "{resp:?}");
    assert!(
        !resp.headers().contains_key("content-disposition"),
        "{resp:?}"
    );
}

#[tokio::test]
async fn response_parameters_override_what_get_serves() {
    let ts = TestStore::start().await;
    let mut headers = SET.to_vec();
    headers.push(("Content-Type", "image/png"));
    let resp = ts
        .signed("put", "/h/o.png", &[], &headers, b"png".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    let overrides = [
        ("response-content-type", "Content-Type", "application/pdf"),
        (
            "response-content-disposition",
            "Content-Disposition",
            "attachment; filename=\"x y.pdf\"",
        ),
        ("response-cache-control", "Cache-Control", "no-cache"),
        ("response-content-encoding", "Content-Encoding", "gzip"),
        ("response-content-language", "Content-Language", "zh-CN"),
        (
            "response-expires",
            "Expires",
            "Thu, 01 Jan 2037 00:00:00 GMT",
        ),
    ];
    let params: Vec<(&str, &str)> = overrides.iter().map(|(p, _, v)| (*p, *v)).collect();
    // Signed, as the SDKs send them (the parameters are in q-url-param-list),
    // by a client that leaves Content-Encoding alone.
    let resp = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(ts.url("h/o.png"))
        .query(&params)
        .header("Authorization", ts.auth("get", "/h/o.png", &params))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for (_, header, value) in overrides {
        assert_eq!(resp.headers()[header], value, "{header}");
    }
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"png");
    // Without them, what the object was stored with.
    assert_served(&ts, "h/o.png", "image/png").await;
}

#[tokio::test]
async fn an_empty_or_octet_stream_type_is_guessed_from_the_key() {
    let ts = TestStore::start().await;
    for (key, given) in [
        ("g/none.jpg", None),
        ("g/empty.jpg", Some("")),
        ("g/octet.jpg", Some("application/octet-stream")),
    ] {
        let headers: Vec<(&str, &str)> = given.map(|t| ("Content-Type", t)).into_iter().collect();
        let path = format!("/{key}");
        let resp = ts
            .signed("put", &path, &[], &headers, b"jpg".to_vec())
            .await;
        assert_eq!(resp.status(), 200, "{key}");
        let resp = ts.get(key).await;
        assert_eq!(resp.headers()["content-type"], "image/jpeg", "{key}");
    }
    // The wx SDK's form: an empty Content-Type field, the file part typed
    // application/octet-stream.
    let form = reqwest::multipart::Form::new()
        .text("key", "g/form.jpg")
        .text("Signature", ts.auth("post", "/", &[]))
        .text("Content-Type", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"jpg".to_vec())
                .file_name("tmp_123.jpg")
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    assert_eq!(ts.post_form(form).await.status(), 204);
    let resp = ts.get("g/form.jpg").await;
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    // A type that says something is kept.
    let resp = ts
        .signed(
            "put",
            "/g/kept.jpg",
            &[],
            &[("Content-Type", "image/webp")],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        ts.get("g/kept.jpg").await.headers()["content-type"],
        "image/webp"
    );
}
