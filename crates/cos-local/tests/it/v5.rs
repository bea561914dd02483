//! The v5 XML API.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Digest as _;

use crate::helpers::*;

#[tokio::test]
async fn put_get_head_delete() {
    let ts = TestStore::start().await;
    let body = content(10_000, 5);
    let resp = ts
        .client
        .put(ts.url("dir/测试 图片.jpg"))
        .header("Authorization", ts.auth("put", "/dir/测试 图片.jpg", &[]))
        .header("Content-Type", "image/jpeg")
        .header("x-cos-meta-owner", "u42")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert!(resp.headers().contains_key("x-cos-request-id"));

    let resp = ts.get("dir/测试 图片.jpg").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert_eq!(resp.headers()["x-cos-meta-owner"], "u42");
    assert_eq!(resp.headers()["content-length"], "10000");
    assert!(resp.headers().contains_key("last-modified"));
    assert_eq!(resp.bytes().await.unwrap().to_vec(), body);

    let resp = ts
        .client
        .head(ts.url("dir/测试 图片.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "10000");
    assert_eq!(resp.headers()["etag"], etag.as_str());

    // Conditional GET.
    let resp = ts
        .client
        .get(ts.url("dir/测试 图片.jpg"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);

    let resp = ts
        .client
        .delete(ts.url("dir/测试 图片.jpg"))
        .header(
            "Authorization",
            ts.auth("delete", "/dir/测试 图片.jpg", &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    ts.assert_nothing_stored().await;
    // Deleting an absent key answers 204 too, like COS.
    let resp = ts
        .client
        .delete(ts.url("dir/测试 图片.jpg"))
        .header(
            "Authorization",
            ts.auth("delete", "/dir/测试 图片.jpg", &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    let (status, code, text) = xml_code(ts.get("dir/测试 图片.jpg").await).await;
    assert_eq!((status, code.as_str()), (404, "NoSuchKey"), "{text}");
    assert!(tag(&text, "RequestId").is_some_and(|r| !r.is_empty()));
    assert_eq!(
        tag(&text, "Resource").unwrap(),
        "metis-1250000000/dir/测试 图片.jpg"
    );
    let resp = ts.client.head(ts.url("missing")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn content_md5_is_checked() {
    let ts = TestStore::start().await;
    let body = b"checked body".to_vec();
    let good = STANDARD.encode(md5::Md5::digest(&body));
    let send = |md5: &str| {
        ts.client
            .put(ts.url("m.txt"))
            .header("Authorization", ts.auth("put", "/m.txt", &[]))
            .header("Content-MD5", md5)
            .body(body.clone())
            .send()
    };
    let (status, code, _) = xml_code(
        send(&STANDARD.encode(md5::Md5::digest(b"x")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "BadDigest"));
    ts.assert_nothing_stored().await;
    let (status, code, _) = xml_code(send("not base64!").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "InvalidDigest"));
    ts.assert_nothing_stored().await;
    assert_eq!(send(&good).await.unwrap().status(), 200);
    assert_eq!(ts.get_bytes("m.txt").await.unwrap(), body);
}

#[tokio::test]
async fn ranges() {
    let ts = TestStore::start().await;
    let body = content(1000, 6);
    assert_eq!(ts.put("r.bin", body.clone()).await.status(), 200);
    let get = |range: &'static str| ts.client.get(ts.url("r.bin")).header("Range", range).send();
    let resp = get("bytes=10-19").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), &body[10..20]);
    let resp = get("bytes=-5").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), &body[995..]);
    let resp = get("bytes=990-").await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().to_vec(), &body[990..]);
    let resp = get("bytes=1000-").await.unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */1000");
    let (_, code, _) = xml_code(resp).await;
    assert_eq!(code, "InvalidRange");
}

#[tokio::test]
async fn size_limit_and_invalid_keys() {
    let ts = TestStore::start_with(|c| c.max_object_size = 100).await;
    let (status, code, _) = xml_code(ts.put("big", content(101, 1)).await).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    ts.assert_nothing_stored().await;
    // Chunked (no Content-Length): the limit applies while streaming.
    let stream = futures_util::stream::iter(
        (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 40]))),
    );
    let resp = ts
        .client
        .put(ts.url("big"))
        .header("Authorization", ts.auth("put", "/big", &[]))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    ts.assert_nothing_stored().await;
    for raw in [
        "/a//b",
        "/a/%2E%2E/b",
        "/a/../b",
        "/./b",
        "/a/%25",
        "/x%3Fy",
        "/a%2F%2Fb",
    ] {
        let decoded = cos_sign::decode(raw).unwrap();
        let request = format!(
            "PUT {raw} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
            ts.host,
            ts.auth("put", &decoded, &[])
        );
        let (status, text) = raw_request(&ts, request.as_bytes()).await;
        assert_eq!(status, 400, "{raw}: {text}");
        assert_eq!(
            tag(&text, "Code").unwrap(),
            "InvalidArgument",
            "{raw}: {text}"
        );
    }
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn list_with_prefix_delimiter_marker_and_pages() {
    let ts = TestStore::start().await;
    for k in ["a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "b/1", "top"] {
        assert_eq!(ts.put(k, k.as_bytes().to_vec()).await.status(), 200);
    }
    let list = |params: Vec<(&'static str, String)>| {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let auth = ts.auth("get", "/", &p);
        ts.client
            .get(format!("{}/", ts.base))
            .query(&params)
            .header("Authorization", auth)
            .send()
    };
    let text = list(vec![]).await.unwrap().text().await.unwrap();
    assert_eq!(tags(&text, "Key").len(), 7, "{text}");
    assert_eq!(tag(&text, "IsTruncated").unwrap(), "false");

    let text = list(vec![("prefix", "a/".into()), ("delimiter", "/".into())])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tags(&text, "Key"), ["a/1", "a/2"], "{text}");
    let prefixes: Vec<String> = tags(&text, "CommonPrefixes")
        .iter()
        .map(|p| tag(p, "Prefix").unwrap())
        .collect();
    assert_eq!(prefixes, ["a/b/", "a/c/"]);
    assert_eq!(tags(&text, "ETag")[0], format!("\"{}\"", md5_hex(b"a/1")));
    assert_eq!(tags(&text, "Size"), ["3", "3"]);

    // Pages of two, with delimiter: a common prefix counts as one entry.
    let mut seen = Vec::new();
    let mut marker = String::new();
    loop {
        let text = list(vec![
            ("delimiter", "/".into()),
            ("max-keys", "2".into()),
            ("marker", marker.clone()),
        ])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        seen.extend(tags(&text, "Key"));
        seen.extend(
            tags(&text, "CommonPrefixes")
                .iter()
                .map(|p| tag(p, "Prefix").unwrap()),
        );
        if tag(&text, "IsTruncated").unwrap() == "false" {
            break;
        }
        marker = tag(&text, "NextMarker").unwrap();
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b/", "top"]);

    // encoding-type=url
    let text = list(vec![
        ("prefix", "a/b".into()),
        ("encoding-type", "url".into()),
    ])
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert_eq!(tags(&text, "Key"), ["a%2Fb%2F1", "a%2Fb%2F2"], "{text}");

    // Listing needs a signature even on a public-read bucket.
    let resp = ts.client.get(format!("{}/", ts.base)).send().await.unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
}

async fn initiate(ts: &TestStore, key: &str) -> String {
    let resp = ts
        .client
        .post(format!("{}?uploads", ts.url(key)))
        .header(
            "Authorization",
            ts.auth("post", &format!("/{key}"), &[("uploads", "")]),
        )
        .header("Content-Type", "video/mp4")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert_eq!(tag(&text, "Key").unwrap(), key);
    tag(&text, "UploadId").unwrap()
}

async fn upload_part(
    ts: &TestStore,
    key: &str,
    id: &str,
    n: u32,
    body: Vec<u8>,
) -> reqwest::Response {
    let n = n.to_string();
    let params = [("partNumber", n.as_str()), ("uploadId", id)];
    ts.client
        .put(ts.url(key))
        .query(&params)
        .header("Authorization", ts.auth("put", &format!("/{key}"), &params))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn complete(
    ts: &TestStore,
    key: &str,
    id: &str,
    parts: &[(u32, String)],
) -> reqwest::Response {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let params = [("uploadId", id)];
    ts.client
        .post(ts.url(key))
        .query(&params)
        .header(
            "Authorization",
            ts.auth("post", &format!("/{key}"), &params),
        )
        .body(xml)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn multipart_upload() {
    let ts = TestStore::start().await;
    let key = "mp/video.mp4";
    let id = initiate(&ts, key).await;
    let parts: Vec<Vec<u8>> = vec![content(2000, 1), content(1500, 2), content(10, 3)];
    let mut etags = Vec::new();
    // Upload out of order, and part 2 twice (the second replaces the first).
    for (i, p) in [
        (2usize, content(1800, 9)),
        (0, parts[0].clone()),
        (2, parts[2].clone()),
        (1, parts[1].clone()),
    ] {
        let resp = upload_part(&ts, key, &id, i as u32 + 1, p.clone()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["etag"],
            format!("\"{}\"", md5_hex(&p)).as_str()
        );
    }
    for p in &parts {
        etags.push(format!("\"{}\"", md5_hex(p)));
    }
    // List parts.
    let params = [("uploadId", id.as_str())];
    let text = ts
        .client
        .get(ts.url(key))
        .query(&params)
        .header("Authorization", ts.auth("get", &format!("/{key}"), &params))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tags(&text, "PartNumber"), ["1", "2", "3"], "{text}");
    assert_eq!(tags(&text, "Size"), ["2000", "1500", "10"]);
    // List uploads.
    let p = [("uploads", "")];
    let text = ts
        .client
        .get(format!("{}/?uploads", ts.base))
        .header("Authorization", ts.auth("get", "/", &p))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tags(&text, "UploadId"), std::slice::from_ref(&id), "{text}");
    assert!(ts.keys().is_empty(), "nothing is visible before complete");

    // Wrong ETag, wrong order, too-small middle part.
    let (status, code, _) = xml_code(complete(&ts, key, &id, &[(1, "\"00\"".into())]).await).await;
    assert_eq!((status, code.as_str()), (400, "InvalidPart"));
    let (status, code, _) = xml_code(
        complete(
            &ts,
            key,
            &id,
            &[(2, etags[1].clone()), (1, etags[0].clone())],
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "InvalidPartOrder"));
    let (status, code, _) = xml_code(
        complete(
            &ts,
            key,
            &id,
            &[(1, etags[0].clone()), (3, etags[2].clone())],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (200, ""),
        "a small last part is fine"
    );
    // That completed with parts 1 and 3; start again for the full object.
    assert_eq!(
        ts.get_bytes(key).await.unwrap(),
        [parts[0].clone(), parts[2].clone()].concat()
    );
    let (status, code, _) = xml_code(complete(&ts, key, &id, &[(1, etags[0].clone())]).await).await;
    assert_eq!((status, code.as_str()), (404, "NoSuchUpload"));

    let id = initiate(&ts, key).await;
    for (i, p) in parts.iter().enumerate() {
        upload_part(&ts, key, &id, i as u32 + 1, p.clone()).await;
    }
    let (status, code, _) = xml_code(
        complete(
            &ts,
            key,
            &id,
            &[
                (1, etags[0].clone()),
                (3, etags[2].clone()),
                (2, etags[1].clone()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "InvalidPartOrder"));
    let resp = upload_part(&ts, key, &id, 2, content(100, 7)).await;
    let small = resp.headers()["etag"].to_str().unwrap().to_owned();
    let (status, code, _) = xml_code(
        complete(
            &ts,
            key,
            &id,
            &[(1, etags[0].clone()), (2, small), (3, etags[2].clone())],
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "EntityTooSmall"));
    upload_part(&ts, key, &id, 2, parts[1].clone()).await;
    let pairs: Vec<(u32, String)> = etags
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u32 + 1, e.clone()))
        .collect();
    let resp = complete(&ts, key, &id, &pairs).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let mut h = md5::Md5::new();
    for p in &parts {
        h.update(md5::Md5::digest(p));
    }
    let expect = format!("\"{}-3\"", hex::encode(h.finalize()));
    assert_eq!(tag(&text, "ETag").unwrap(), expect, "{text}");
    assert_eq!(
        tag(&text, "Location").unwrap(),
        format!("{}/mp/video.mp4", ts.base)
    );
    let resp = ts.get(key).await;
    assert_eq!(resp.headers()["etag"], expect.as_str());
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), parts.concat());
    // Upload dirs are gone; only the object body remains.
    assert_eq!(ts.body_files(), 1);

    // Abort.
    let id = initiate(&ts, "mp/aborted").await;
    upload_part(&ts, "mp/aborted", &id, 1, content(10, 1)).await;
    let params = [("uploadId", id.as_str())];
    let resp = ts
        .client
        .delete(ts.url("mp/aborted"))
        .query(&params)
        .header("Authorization", ts.auth("delete", "/mp/aborted", &params))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = upload_part(&ts, "mp/aborted", &id, 2, content(10, 1)).await;
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (404, "NoSuchUpload"));
    assert_eq!(ts.keys(), ["mp/video.mp4"]);
    // Malformed complete body.
    let id = initiate(&ts, "mp/x").await;
    let params = [("uploadId", id.as_str())];
    let resp = ts
        .client
        .post(ts.url("mp/x"))
        .query(&params)
        .header("Authorization", ts.auth("post", "/mp/x", &params))
        .body("<CompleteMultipartUpload><Part>")
        .send()
        .await
        .unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (400, "MalformedXML"));
}

async fn abort_upload(ts: &TestStore, key: &str, id: &str) -> reqwest::Response {
    let params = [("uploadId", id)];
    ts.client
        .delete(ts.url(key))
        .query(&params)
        .header(
            "Authorization",
            ts.auth("delete", &format!("/{key}"), &params),
        )
        .send()
        .await
        .unwrap()
}

/// Complete and abort of one upload race while another upload receives parts
/// and completes: exactly one of the two wins, and every state is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn complete_and_abort_race_while_other_uploads_go_on() {
    let ts = std::sync::Arc::new(TestStore::start().await);
    let a_parts: Vec<Vec<u8>> = (0..4).map(|i| content(256 * 1024, i)).collect();
    let b_parts: Vec<Vec<u8>> = (0..3).map(|i| content(64 * 1024, 10 + i)).collect();
    let mut completed = 0;
    for round in 0..6 {
        let (ka, kb) = (format!("race/a{round}"), format!("race/b{round}"));
        let a = initiate(&ts, &ka).await;
        let b = initiate(&ts, &kb).await;
        let mut a_list = Vec::new();
        for (i, p) in a_parts.iter().enumerate() {
            let n = i as u32 + 1;
            assert_eq!(upload_part(&ts, &ka, &a, n, p.clone()).await.status(), 200);
            a_list.push((n, format!("\"{}\"", md5_hex(p))));
        }
        let finish_a = {
            let (ts, ka, a) = (ts.clone(), ka.clone(), a.clone());
            tokio::spawn(async move { complete(&ts, &ka, &a, &a_list).await.status().as_u16() })
        };
        let abort_a = {
            let (ts, ka, a) = (ts.clone(), ka.clone(), a.clone());
            tokio::spawn(async move { abort_upload(&ts, &ka, &a).await.status().as_u16() })
        };
        let other = {
            let (ts, kb, b, parts) = (ts.clone(), kb.clone(), b.clone(), b_parts.clone());
            tokio::spawn(async move {
                let mut list = Vec::new();
                for (i, p) in parts.iter().enumerate() {
                    let n = i as u32 + 1;
                    assert_eq!(upload_part(&ts, &kb, &b, n, p.clone()).await.status(), 200);
                    list.push((n, format!("\"{}\"", md5_hex(p))));
                }
                complete(&ts, &kb, &b, &list).await.status().as_u16()
            })
        };
        let (fa, ab, ob) = (
            finish_a.await.unwrap(),
            abort_a.await.unwrap(),
            other.await.unwrap(),
        );
        assert_eq!(ob, 200, "round {round}: the other upload completes");
        assert!(
            matches!((fa, ab), (200, 404) | (404, 204)),
            "round {round}: complete {fa}, abort {ab}: exactly one must win"
        );
        if fa == 200 {
            completed += 1;
            assert_eq!(ts.get_bytes(&ka).await.unwrap(), a_parts.concat());
        } else {
            assert_eq!(ts.get(&ka).await.status(), 404);
        }
        assert_eq!(ts.get_bytes(&kb).await.unwrap(), b_parts.concat());
        // Whoever lost finds the upload gone, and so does a late part.
        let late = upload_part(&ts, &ka, &a, 9, content(10, 1)).await;
        assert_eq!(xml_code(late).await.1, "NoSuchUpload");
    }
    // Nothing is left of the uploads: one body per stored object.
    assert_eq!(ts.body_files(), ts.keys().len());
    assert_eq!(ts.keys().len(), 6 + completed);
    let resp = ts
        .client
        .get(format!("{}/?uploads", ts.base))
        .header("Authorization", ts.auth("get", "/", &[("uploads", "")]))
        .send()
        .await
        .unwrap();
    assert!(tags(&resp.text().await.unwrap(), "UploadId").is_empty());
}

/// A policy form for `key_field`, with extra conditions.
pub fn policy_form(
    ts: &TestStore,
    key_field: &str,
    extra: Vec<cos_sign::policy::Condition>,
    creds: &cos_sign::Credentials,
    start: u64,
    end: u64,
) -> reqwest::multipart::Form {
    let kt = cos_sign::v5::KeyTime::new(start, end).unwrap();
    let policy = cos_sign::policy::PostPolicy::for_upload(creds, "metis-1250000000", kt, extra);
    let signed = cos_sign::policy::sign_text(creds, kt, &policy.to_json());
    let _ = ts;
    reqwest::multipart::Form::new()
        .text("key", key_field.to_owned())
        .text("policy", signed.policy)
        .text("q-sign-algorithm", "sha1")
        .text("q-ak", signed.q_ak)
        .text("q-key-time", signed.q_key_time)
        .text("q-signature", signed.q_signature)
}

#[tokio::test]
async fn post_object_with_policy() {
    use cos_sign::policy::Condition;
    let ts = TestStore::start().await;
    let c = creds();
    let file = || reqwest::multipart::Part::bytes(b"form body".to_vec()).file_name("pic.png");

    // Default: 204, Location and ETag headers, ${filename}. Every field the
    // form sends is named by a condition of the policy.
    let form = policy_form(
        &ts,
        "u/1/${filename}",
        vec![
            Condition::StartsWith("key".into(), "u/1/".into()),
            Condition::StartsWith("Content-Type".into(), "image/".into()),
        ],
        &c,
        now() - 10,
        now() + 600,
    )
    .text("Content-Type", "image/png")
    .part("file", file());
    let resp = ts.post_form(form).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["location"],
        format!("{}/u/1/pic.png", ts.base).as_str()
    );
    assert_eq!(
        resp.headers()["etag"],
        format!("\"{}\"", md5_hex(b"form body")).as_str()
    );
    let got = ts.get("u/1/pic.png").await;
    assert_eq!(got.headers()["content-type"], "image/png");

    // success_action_status 201: an XML PostResponse.
    let conditions = vec![
        Condition::Exact("key".into(), "u/1/b.png".into()),
        Condition::Eq("success_action_status".into(), "201".into()),
    ];
    let form = policy_form(&ts, "u/1/b.png", conditions, &c, now() - 10, now() + 600)
        .text("success_action_status", "201")
        .part("file", file());
    let resp = ts.post_form(form).await;
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert_eq!(tag(&text, "Key").unwrap(), "u/1/b.png");
    assert_eq!(tag(&text, "Bucket").unwrap(), "metis-1250000000");

    // 200: empty body.
    let conditions = vec![
        Condition::Exact("key".into(), "u/1/c.png".into()),
        Condition::Eq("success_action_status".into(), "200".into()),
    ];
    let form = policy_form(&ts, "u/1/c.png", conditions, &c, now() - 10, now() + 600)
        .text("success_action_status", "200")
        .part("file", file());
    let resp = ts.post_form(form).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(ts.keys(), ["u/1/b.png", "u/1/c.png", "u/1/pic.png"]);

    // success_action_redirect: 303 to the target with bucket, key and etag.
    let conditions = vec![
        Condition::Exact("key".into(), "u/1/d.png".into()),
        Condition::StartsWith(
            "success_action_redirect".into(),
            "https://app.example/".into(),
        ),
    ];
    let form = policy_form(&ts, "u/1/d.png", conditions, &c, now() - 10, now() + 600)
        .text("success_action_redirect", "https://app.example/done?x=1")
        .part("file", file());
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .post(format!("{}/", ts.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(
            "https://app.example/done?x=1&bucket=metis-1250000000&key=u%2F1%2Fd.png&etag="
        ),
        "{location}"
    );

    // The `Signature` field variant: a whole v5 Authorization for POST /.
    let form = reqwest::multipart::Form::new()
        .text("key", "u/1/e.png")
        .text("Signature", ts.auth("post", "/", &[]))
        .part("file", file());
    let resp = ts.post_form(form).await;
    assert_eq!(resp.status(), 204);
    let form = reqwest::multipart::Form::new()
        .text("key", "u/1/f.png")
        .text("Signature", ts.auth("post", "/other", &[]))
        .part("file", file());
    let (status, code, _) = xml_code(ts.post_form(form).await).await;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
    assert_eq!(
        ts.keys(),
        [
            "u/1/b.png",
            "u/1/c.png",
            "u/1/d.png",
            "u/1/e.png",
            "u/1/pic.png"
        ]
    );
}

#[tokio::test]
async fn virtual_host_routing_and_private_buckets() {
    let ts = TestStore::start_with(|c| c.public_read = false).await;
    let host = format!(
        "photos-1250000000.cos.example.com:{}",
        ts.host.rsplit(':').next().unwrap()
    );
    let auth = auth_with(
        &creds(),
        &host,
        "put",
        "/v.txt",
        &[],
        now() - 10,
        now() + 600,
    );
    let resp = ts
        .client
        .put(ts.url("v.txt"))
        .header("Host", &host)
        .header("Authorization", auth)
        .body("vhost")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(ts.store.keys("photos"), ["v.txt"]);
    assert!(ts.keys().is_empty());

    // Another APPID's bucket does not exist here.
    let resp = ts
        .client
        .get(ts.url("v.txt"))
        .header("Host", "photos-1300000000.cos.example.com")
        .send()
        .await
        .unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (404, "NoSuchBucket"));

    // Private: an anonymous GET is refused, a signed one and a presigned URL work.
    assert_eq!(ts.put("p.txt", b"private".to_vec()).await.status(), 200);
    let (status, code, _) = xml_code(ts.get("p.txt").await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    let resp = ts
        .client
        .get(ts.url("p.txt"))
        .header("Authorization", ts.auth("get", "/p.txt", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kt = cos_sign::v5::KeyTime::new(now() - 10, now() + 600).unwrap();
    let headers = [("host", ts.host.as_str())];
    let sig = cos_sign::v5::sign(
        &creds(),
        &cos_sign::v5::Request {
            method: "get",
            path: "/p.txt",
            params: &[],
            headers: &headers,
        },
        kt,
    );
    let resp = ts
        .client
        .get(ts.url("p.txt"))
        .query(&sig.to_query_pairs())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"private");
}
