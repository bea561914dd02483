//! Temporary credentials: requests signed with a TmpSecretKey and carrying
//! the security token are accepted for what the token's CAM policy allows,
//! and every other one is refused without writing anything.

use cos_sign::Credentials;
use cos_sign::policy::Condition;

use crate::helpers::*;
use crate::sts_client::*;
use crate::v5::policy_form;

const KEY: &str = "u/12/photos/20261202/k3j.jpg";

fn jpeg(len: usize) -> Vec<u8> {
    content(len, 7)
}

#[tokio::test]
async fn a_key_credential_puts_and_reads_its_key_however_the_sdk_signs() {
    let ts = sts_store().await;
    let t = temp(&key_policy(KEY, 10_000));
    let path = format!("/{KEY}");
    for (via, body) in [
        (Via::Header, jpeg(500)),
        (Via::SignedTokenHeader, jpeg(600)),
    ] {
        let resp = Req::new("put", &path)
            .header("Content-Type", "image/jpeg")
            .body(body.clone())
            .send(&ts, &t, via)
            .await;
        assert_eq!(resp.status(), 200, "{via:?}: {:?}", refusal(resp).await);
        assert_eq!(ts.get_bytes(KEY).await.unwrap(), body, "{via:?}");
    }
    for via in [
        Via::Header,
        Via::SignedTokenHeader,
        Via::Presigned,
        Via::PresignedSignedToken,
    ] {
        let resp = Req::new("get", &path).send(&ts, &t, via).await;
        assert_eq!(resp.status(), 200, "GET {via:?}");
        assert_eq!(resp.bytes().await.unwrap().to_vec(), jpeg(600), "{via:?}");
        let resp = Req::new("head", &path).send(&ts, &t, via).await;
        assert_eq!(resp.status(), 200, "HEAD {via:?}");
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
    }
    // A presigned GET with response-* parameters: signed, the token after them.
    let resp = Req::new("get", &path)
        .param(
            "response-content-disposition",
            "attachment; filename=\"a.jpg\"",
        )
        .send(&ts, &t, Via::Presigned)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"a.jpg\""
    );
    assert_eq!(ts.keys(), [KEY]);
}

#[tokio::test]
async fn a_prefix_credential_uploads_and_lists_under_its_directory_only() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 10_000));
    for key in ["u/12/a.png", "u/12/album/b.jpg"] {
        let resp = Req::new("put", &format!("/{key}"))
            .body(jpeg(10))
            .send(&ts, &t, Via::Header)
            .await;
        assert_eq!(resp.status(), 200, "{key}: {:?}", refusal(resp).await);
    }
    // Another user's object, put with the permanent key.
    let resp = ts.signed("put", "/u/123/c.jpg", &[], &[], jpeg(10)).await;
    assert_eq!(resp.status(), 200);
    // Its own prefix, with or without a delimiter, as the SDKs list.
    for delimiter in ["", "/"] {
        let resp = Req::new("get", "/")
            .param("prefix", "u/12/")
            .param("delimiter", delimiter)
            .param("marker", "")
            .param("max-keys", "100")
            .send(&ts, &t, Via::Header)
            .await;
        assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
        let text = resp.text().await.unwrap();
        let expected: &[&str] = if delimiter.is_empty() {
            &["u/12/a.png", "u/12/album/b.jpg"]
        } else {
            &["u/12/a.png"]
        };
        assert_eq!(tags(&text, "Key"), expected, "{text}");
    }
    // Any other prefix: refused, whether it is another user's, a string
    // prefix of another user's (`u/12` reaches `u/123/`), or the whole bucket.
    for prefix in ["u/123/", "u/12", "u/", "", "u/1"] {
        let before = ts.snapshot().await;
        let resp = Req::new("get", "/")
            .param("prefix", prefix)
            .send(&ts, &t, Via::Header)
            .await;
        let (status, code, message) = refusal(resp).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{prefix:?}: {message}"
        );
        assert!(
            message.contains("name/cos:GetBucket") && message.contains(&format!("{prefix:?}")),
            "{message}"
        );
        ts.assert_unchanged(&before, prefix).await;
    }
    // ListMultipartUploads likewise, by its prefix.
    let resp = Req::new("get", "/")
        .param("uploads", "")
        .param("prefix", "u/12/x.jpg")
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200);
    let resp = Req::new("get", "/")
        .param("uploads", "")
        .param("prefix", "u/13/")
        .send(&ts, &t, Via::Header)
        .await;
    let (status, code, _) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
}

#[tokio::test]
async fn keys_outside_the_credential_are_refused_and_nothing_is_written() {
    let ts = sts_store().await;
    let key_t = temp(&key_policy(KEY, 10_000));
    let dir_t = temp(&prefix_policy("u/12/", 10_000));
    // Objects of others to read or delete, put with the permanent key.
    for key in ["u/12/photos/other.jpg", "u/123/x.jpg"] {
        let resp = ts
            .signed("put", &format!("/{key}"), &[], &[], jpeg(5))
            .await;
        assert_eq!(resp.status(), 200);
    }
    let cases: Vec<(&Temp, Req<'_>, &str)> = vec![
        (
            &key_t,
            Req::new("put", "/u/12/photos/other.jpg").body(jpeg(5)),
            "PutObject",
        ),
        (
            &key_t,
            Req::new("put", "/u/13/k3j.jpg").body(jpeg(5)),
            "PutObject",
        ),
        (
            &dir_t,
            Req::new("put", "/u/123/a.jpg").body(jpeg(5)),
            "PutObject",
        ),
        (
            &dir_t,
            Req::new("put", "/u/1/a.jpg").body(jpeg(5)),
            "PutObject",
        ),
        (
            &key_t,
            Req::new("get", "/u/12/photos/other.jpg"),
            "GetObject",
        ),
        (&dir_t, Req::new("get", "/u/123/x.jpg"), "GetObject"),
        (&dir_t, Req::new("head", "/u/123/x.jpg"), "HeadObject"),
        // Granted to nobody: upload policies do not delete.
        (&dir_t, Req::new("delete", "/u/123/x.jpg"), "DeleteObject"),
        (
            &key_t,
            Req::new("delete", &format!("/{KEY}")),
            "DeleteObject",
        ),
        (
            &dir_t,
            Req::new("post", "/u/123/a.jpg").param("uploads", ""),
            "InitiateMultipartUpload",
        ),
        // Directory markers have no resource temporary credentials can name.
        (&dir_t, Req::new("put", "/u/12/dir/"), "directory markers"),
        // Bucket operations outside the upload policies.
        (&dir_t, Req::new("head", "/"), "HeadBucket"),
        (&dir_t, Req::new("put", "/"), "create buckets"),
        (
            &dir_t,
            Req::new("get", "/").param("location", ""),
            "location",
        ),
    ];
    for (t, req, names) in cases {
        let before = ts.snapshot().await;
        let what = format!("{} {}", req.method, req.path);
        let resp = req.send(&ts, t, Via::Header).await;
        if req.method == "head" {
            // No body to say why.
            assert_eq!(resp.status(), 403, "{what}");
        } else {
            let (status, code, message) = refusal(resp).await;
            assert_eq!(
                (status, code.as_str()),
                (403, "AccessDenied"),
                "{what}: {message}"
            );
            assert!(message.contains(names), "{what}: {message}");
            assert!(!message.contains(&t.token), "{what}: the token is echoed");
        }
        ts.assert_unchanged(&before, &what).await;
    }
    // The public-read GET that needs no signature is still bounded by the
    // token it presents.
    let resp = ts.get("u/123/x.jpg").await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn another_bucket_is_outside_the_credential() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 10_000));
    let port = ts.host.rsplit_once(':').unwrap().1;
    for host in [
        format!("photos-{APPID}.cos.ap-guangzhou.myqcloud.com"),
        format!("photos-{APPID}.localhost:{port}"),
    ] {
        let before = ts.snapshot().await;
        let resp = Req::new("put", "/u/12/a.jpg")
            .host(&host)
            .body(jpeg(5))
            .send(&ts, &t, Via::Header)
            .await;
        let (status, code, message) = refusal(resp).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{host}: {message}"
        );
        ts.assert_unchanged(&before, &host).await;
        assert!(ts.store.keys("photos").is_empty());
    }
    // The credential's own bucket by its virtual host: accepted.
    let host = format!("{BUCKET}-{APPID}.cos.ap-guangzhou.myqcloud.com");
    let resp = Req::new("put", "/u/12/a.jpg")
        .host(&host)
        .body(jpeg(5))
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused_before_they_are_stored() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 1000));
    // Simple PUT: judged on Content-Length, before the body is read.
    let before = ts.snapshot().await;
    let resp = Req::new("put", "/u/12/big.jpg")
        .body(jpeg(1001))
        .send(&ts, &t, Via::Header)
        .await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(message.contains("content-length 1001"), "{message}");
    ts.assert_unchanged(&before, "PUT over the limit").await;
    let resp = Req::new("put", "/u/12/ok.jpg")
        .body(jpeg(1000))
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200, "exactly the limit");

    // Chunked, without Content-Length: the size cannot be judged up front.
    let before = ts.snapshot().await;
    let stream = futures_util::stream::iter(
        (0..3).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 10]))),
    );
    let auth = cos_sign::v5::sign(
        &t.creds,
        &cos_sign::v5::Request {
            method: "put",
            path: "/u/12/chunked.jpg",
            params: &[],
            headers: &[("host", ts.host.as_str())],
        },
        cos_sign::v5::KeyTime::new(now() - 10, now() + 600).unwrap(),
    );
    let resp = ts
        .client
        .put(ts.url("u/12/chunked.jpg"))
        .header("Authorization", auth.to_authorization())
        .header("x-cos-security-token", &t.token)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let (status, code, message) = refusal(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (411, "MissingContentLength"),
        "{message}"
    );
    ts.assert_unchanged(&before, "chunked PUT").await;

    // A part over the limit, then parts within it that add up to more:
    // refused at Complete, which keeps the upload.
    let t = temp(&prefix_policy("u/12/", 3000));
    let resp = Req::new("post", "/u/12/mp.jpg")
        .param("uploads", "")
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200);
    let id = tag(&resp.text().await.unwrap(), "UploadId").unwrap();
    let part = |n: u32, body: Vec<u8>| {
        Req::new("put", "/u/12/mp.jpg")
            .param("partNumber", &n.to_string())
            .param("uploadId", &id)
            .body(body)
    };
    let before = ts.snapshot().await;
    let resp = part(1, jpeg(3001)).send(&ts, &t, Via::Header).await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(message.contains("name/cos:UploadPart"), "{message}");
    ts.assert_unchanged(&before, "a part over the limit").await;
    let mut parts = Vec::new();
    for n in 1..=2u32 {
        let body = content(2000, n as u8);
        let resp = part(n, body.clone()).send(&ts, &t, Via::Header).await;
        assert_eq!(resp.status(), 200);
        parts.push((n, md5_hex(&body)));
    }
    let complete = |parts: &[(u32, String)]| {
        Req::new("post", "/u/12/mp.jpg")
            .param("uploadId", &id)
            .body(complete_xml(parts))
    };
    let before = ts.snapshot().await;
    let resp = complete(&parts).send(&ts, &t, Via::Header).await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains("name/cos:CompleteMultipartUpload")
            && message.contains("content-length 4000"),
        "{message}"
    );
    ts.assert_unchanged(&before, "Complete over the limit")
        .await;
    // One part alone is within the limit; the upload is still there.
    let resp = complete(&parts[..1]).send(&ts, &t, Via::Header).await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    assert_eq!(ts.get_bytes("u/12/mp.jpg").await.unwrap(), content(2000, 1));
}

#[tokio::test]
async fn a_streamed_post_over_the_limit_is_cut_off_and_not_stored() {
    use tokio::io::AsyncWriteExt as _;
    let ts = sts_store().await;
    let t = temp(&key_policy(KEY, 64 * 1024));
    let before = ts.snapshot().await;
    // The wx SDK's form, its file chunked and up to 256 MiB long, written
    // by a client that keeps sending until the connection fails (as
    // wx.uploadFile does not stop at an early answer).
    let boundary = "wxshim0123456789";
    let mut form = String::new();
    for (name, value) in [
        ("key", KEY.to_owned()),
        ("success_action_status", "200".to_owned()),
        ("Signature", wx_signature(&ts.host, &t)),
        ("x-cos-security-token", t.token.clone()),
        ("Content-Type", String::new()),
    ] {
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k3j.jpg\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    ));
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nx-cos-security-token: {}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{form}\r\n",
        ts.host,
        wx_signature(&ts.host, &t),
        t.token,
        form.len()
    );
    let stream = tokio::net::TcpStream::connect(&ts.host).await.unwrap();
    let (rx, mut tx) = stream.into_split();
    let reader = tokio::spawn(read_answer(rx));
    tx.write_all(head.as_bytes()).await.unwrap();
    let chunk = [b"10000\r\n".as_slice(), &[0u8; 0x10000], b"\r\n"].concat();
    let writer = tokio::spawn(async move {
        // Until the store closes the connection (or 256 MiB, the body never ends).
        for _ in 0..4096 {
            if tx.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let answer = reader.await.unwrap();
    let (head, message) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(message.contains("larger than the 65536 bytes"), "{answer}");
    // The store stopped reading at the limit and kept the rest of the body
    // unread, so actix closes the connection (after its short linger)
    // instead of reading the rest to keep it open.
    assert!(
        head.to_ascii_lowercase().contains("\r\nconnection: close"),
        "{answer}"
    );
    writer.abort();
    ts.assert_unchanged(&before, "POST over the limit").await;
}

#[tokio::test]
async fn types_outside_the_credential_are_refused() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 10_000));
    let cases: Vec<(Req<'_>, &str)> = vec![
        (
            Req::new("put", "/u/12/a.jpg")
                .header("Content-Type", "text/html")
                .body(jpeg(5)),
            "\"text/html\"",
        ),
        // No type: the stored type is guessed from the key, and judged.
        (
            Req::new("put", "/u/12/a.txt").body(jpeg(5)),
            "\"text/plain\"",
        ),
        (
            Req::new("put", "/u/12/a.bin").body(jpeg(5)),
            "\"application/octet-stream\"",
        ),
        (
            Req::new("post", "/u/12/v.jpg")
                .param("uploads", "")
                .header("Content-Type", "text/plain"),
            "name/cos:InitiateMultipartUpload",
        ),
        (
            Req::new("post", "/u/12/v.txt")
                .param("uploads", "")
                .header("Content-Type", "application/octet-stream"),
            "\"text/plain\"",
        ),
    ];
    for (req, names) in cases {
        let before = ts.snapshot().await;
        let what = format!("{} {}", req.method, req.path);
        let (status, code, message) = refusal(req.send(&ts, &t, Via::Header).await).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{what}: {message}"
        );
        assert!(message.contains(names), "{what}: {message}");
        ts.assert_unchanged(&before, &what).await;
    }
    // POST Object with a Content-Type field.
    let before = ts.snapshot().await;
    let form = wx_form(&ts.host, &t, "u/12/f.jpg")
        .text("Content-Type", "text/html")
        .part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(5)).file_name("f.jpg"),
        );
    let (status, code, message) = refusal(wx_post(&ts, &ts.host, &t, form).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(message.contains("name/cos:PostObject"), "{message}");
    ts.assert_unchanged(&before, "POST text/html").await;
}

#[tokio::test]
async fn tokens_that_do_not_check_out_are_refused() {
    let ts = sts_store().await;
    let policy = key_policy(KEY, 10_000);
    let put = Req::new("put", &format!("/{KEY}")).body(jpeg(5));
    let good = temp(&policy);
    let before = ts.snapshot().await;
    let refused = |resp: reqwest::Response, status: u16, code: &'static str, what: String| {
        let ts = &ts;
        let before = &before;
        async move {
            let (s, c, message) = refusal(resp).await;
            assert_eq!((s, c.as_str()), (status, code), "{what}: {message}");
            ts.assert_unchanged(before, &what).await;
            message
        }
    };

    // Expired beyond the clock skew, and not valid yet.
    let expired = mint(&token_key(), &policy, now() - 7200, now() - 120);
    let message = refused(
        put.send(&ts, &expired, Via::Header).await,
        400,
        "ExpiredToken",
        "expired".into(),
    )
    .await;
    assert!(message.contains("expired"), "{message}");
    let early = mint(&token_key(), &policy, now() + 600, now() + 1800);
    refused(
        put.send(&ts, &early, Via::Header).await,
        400,
        "ExpiredToken",
        "not yet valid".into(),
    )
    .await;

    // Any byte of the payload or the MAC changed.
    let token = good.token.as_bytes();
    for i in "cul1.".len()..token.len() {
        if token[i] == b'.' {
            continue;
        }
        let mut tampered = token.to_vec();
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = Temp {
            creds: good.creds.clone(),
            token: String::from_utf8(tampered).unwrap(),
        };
        let (status, code, message) = refusal(put.send(&ts, &tampered, Via::Header).await).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "InvalidToken"),
            "byte {i} changed: {message}"
        );
    }
    ts.assert_unchanged(&before, "tampered tokens").await;

    // Minted with another key.
    let other_key = cos_sign::sts::TokenKey::new(cos_sign::SecretKey::new(
        "another store's STS token key, also 32+ bytes",
    ))
    .unwrap();
    let foreign = mint(&other_key, &policy, now() - 60, now() + 1800);
    let message = refused(
        put.send(&ts, &foreign, Via::Header).await,
        400,
        "InvalidToken",
        "another key".into(),
    )
    .await;
    assert!(!message.contains(&foreign.token), "{message}");

    // q-ak is not the token's TmpSecretId: another credential's, or a
    // permanent key's.
    let other = temp(&policy);
    for (creds, what) in [
        (&other.creds, "another TmpSecretId"),
        (&creds(), "a permanent key"),
    ] {
        refused(
            put.send_as(&ts, creds, Some(&good.token), Via::Header)
                .await,
            403,
            "InvalidAccessKeyId",
            what.into(),
        )
        .await;
    }
    // Signed with the TmpSecretKey but without the token: an unknown SecretId.
    refused(
        put.send_as(&ts, &good.creds, None, Via::Header).await,
        403,
        "InvalidAccessKeyId",
        "no token".into(),
    )
    .await;
    // The token without a signature.
    let resp = ts
        .client
        .put(ts.url(KEY))
        .header("x-cos-security-token", &good.token)
        .body(jpeg(5))
        .send()
        .await
        .unwrap();
    refused(resp, 403, "AccessDenied", "unsigned".into()).await;
    // Two different tokens: the header and the query.
    let resp = put
        .clone()
        .param("x-cos-security-token", &other.token)
        .send(&ts, &good, Via::Header)
        .await;
    refused(resp, 400, "InvalidToken", "two tokens".into()).await;
    // The token checks out, and the signature is still checked.
    let wrong_key = Credentials::new(good.creds.secret_id.clone(), "not the TmpSecretKey");
    refused(
        put.send_as(&ts, &wrong_key, Some(&good.token), Via::Header)
            .await,
        403,
        "SignatureDoesNotMatch",
        "wrong TmpSecretKey".into(),
    )
    .await;
    // After all that, the good one.
    assert_eq!(put.send(&ts, &good, Via::Header).await.status(), 200);
}

#[tokio::test]
async fn a_store_without_a_token_key_refuses_temporary_credentials() {
    let ts = TestStore::start().await;
    let t = temp(&key_policy(KEY, 10_000));
    let before = ts.snapshot().await;
    for via in [Via::Header, Via::SignedTokenHeader, Via::Presigned] {
        let resp = Req::new("put", &format!("/{KEY}"))
            .body(jpeg(5))
            .send(&ts, &t, via)
            .await;
        let (status, code, message) = refusal(resp).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{via:?}: {message}"
        );
        assert!(
            message.contains("does not accept temporary credentials"),
            "{message}"
        );
        ts.assert_unchanged(&before, "no token key").await;
    }
    let form = wx_form(&ts.host, &t, KEY).part(
        "file",
        reqwest::multipart::Part::bytes(jpeg(5)).file_name("k3j.jpg"),
    );
    let (status, code, _) = refusal(wx_post(&ts, &ts.host, &t, form).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    ts.assert_unchanged(&before, "no token key, POST").await;
}

#[tokio::test]
async fn a_post_policy_form_signed_with_the_tmp_secret_key() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 10_000));
    let form = |key: &str, conditions: Vec<Condition>| {
        policy_form(&ts, key, conditions, &t.creds, now() - 10, now() + 600)
            .text("x-cos-security-token", t.token.clone())
            .text("Content-Type", "image/png")
    };
    let issued = |key: &str| {
        vec![
            Condition::Exact("key".into(), key.into()),
            Condition::StartsWith("Content-Type".into(), "image/".into()),
        ]
    };
    let file = || reqwest::multipart::Part::bytes(jpeg(100)).file_name("p.png");
    // Accepted: the token field needs no condition.
    let resp = ts
        .post_form(form("u/12/p.png", issued("u/12/p.png")).part("file", file()))
        .await;
    assert_eq!(resp.status(), 204, "{:?}", refusal(resp).await);
    assert_eq!(ts.keys(), ["u/12/p.png"]);

    // A POST policy for a key the credential does not cover.
    let before = ts.snapshot().await;
    let resp = ts
        .post_form(form("u/13/p.png", issued("u/13/p.png")).part("file", file()))
        .await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains("name/cos:PostObject on key \"u/13/p.png\""),
        "{message}"
    );
    ts.assert_unchanged(&before, "outside").await;
    // Every field must still be covered by the POST policy.
    let resp = ts
        .post_form(
            form("u/12/q.png", issued("u/12/q.png"))
                .text("x-cos-acl", "public-read")
                .part("file", file()),
        )
        .await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(message.contains("\"x-cos-acl\""), "{message}");
    ts.assert_unchanged(&before, "uncovered field").await;
    // Over the credential's size limit (a POST policy allowing more).
    let mut conditions = issued("u/12/big.png");
    conditions.push(Condition::ContentLengthRange(0, 1 << 20));
    let resp = ts
        .post_form(form("u/12/big.png", conditions).part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(10_001)).file_name("big.png"),
        ))
        .await;
    let (status, code, message) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    ts.assert_unchanged(&before, "over the size").await;
    // A POST policy signed with the permanent key, with the token: refused.
    let resp = ts
        .post_form(
            policy_form(
                &ts,
                "u/12/r.png",
                issued("u/12/r.png"),
                &creds(),
                now() - 10,
                now() + 600,
            )
            .text("x-cos-security-token", t.token.clone())
            .text("Content-Type", "image/png")
            .part("file", file()),
        )
        .await;
    let (status, code, _) = refusal(resp).await;
    assert_eq!((status, code.as_str()), (403, "InvalidAccessKeyId"));
    ts.assert_unchanged(&before, "permanent q-ak").await;
}

#[tokio::test]
async fn refusals_come_before_a_body_byte_is_read() {
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 1 << 20));
    let before = ts.snapshot().await;
    // PUT and UploadPart heads declaring a body, and no body: outside the
    // credential, too large, of another type.
    let sign = |path: &str, params: &[(&str, &str)]| {
        let request = cos_sign::v5::Request {
            method: "put",
            path,
            params,
            headers: &[("host", ts.host.as_str())],
        };
        cos_sign::v5::sign(
            &t.creds,
            &request,
            cos_sign::v5::KeyTime::new(now() - 10, now() + 600).unwrap(),
        )
        .to_authorization()
    };
    for (path, query, length, content_type, names) in [
        ("/u/13/a.jpg", "", 1000, "image/jpeg", "\"u/13/a.jpg\""),
        (
            "/u/12/a.jpg",
            "",
            2 << 20,
            "image/jpeg",
            "content-length 2097152",
        ),
        ("/u/12/a.jpg", "", 1000, "text/html", "\"text/html\""),
        (
            "/u/13/a.jpg",
            "?partNumber=1&uploadId=x",
            1000,
            "",
            "name/cos:UploadPart",
        ),
    ] {
        let params: Vec<(&str, &str)> = if query.is_empty() {
            Vec::new()
        } else {
            vec![("partNumber", "1"), ("uploadId", "x")]
        };
        let request = format!(
            "PUT {path}{query} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
             x-cos-security-token: {}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {length}\r\n\r\n",
            ts.host,
            sign(path, &params),
            t.token
        );
        let answer = answer_to(&ts, &request).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{path}: {answer}");
        let message = tag(&answer, "Message").unwrap_or_default();
        assert!(message.contains(names), "{path}: {answer}");
    }
    // POST Object: the fields, the file's head, and not a byte of the file.
    let boundary = "wxshim0123456789";
    let mut form = String::new();
    for (name, value) in [
        ("key", "u/13/a.jpg".to_owned()),
        ("Signature", wx_signature(&ts.host, &t)),
        ("x-cos-security-token", t.token.clone()),
    ] {
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
    ));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n{form}",
        ts.host,
        form.len() + 100_000
    );
    let answer = answer_to(&ts, &request).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("name/cos:PostObject"), "{answer}");
    ts.assert_unchanged(&before, "refused heads").await;
}

/// The Authorization the wx SDK's postObject computes: `post`, path `/`, only
/// `host` signed.
pub fn wx_signature(host: &str, t: &Temp) -> String {
    let request = cos_sign::v5::Request {
        method: "post",
        path: "/",
        params: &[],
        headers: &[("host", host)],
    };
    cos_sign::v5::sign(
        &t.creds,
        &request,
        cos_sign::v5::KeyTime::new(now() - 60, now() + 1800).unwrap(),
    )
    .to_authorization()
}

/// The wx SDK's postObject form up to the file, in its order: `key`,
/// `success_action_status`, `Signature`, `x-cos-security-token`.
pub fn wx_form(host: &str, t: &Temp, key: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("key", key.to_owned())
        .text("success_action_status", "200")
        .text("Signature", wx_signature(host, t))
        .text("x-cos-security-token", t.token.clone())
}

/// Sends a wx postObject form to `host`: the same Authorization and the
/// token as headers too.
pub async fn wx_post(
    ts: &TestStore,
    host: &str,
    t: &Temp,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    ts.client
        .post(format!("{}/", ts.base))
        .header("Host", host)
        .header("Authorization", wx_signature(host, t))
        .header("x-cos-security-token", &t.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The wx SDK's file part: its temp file name, typed application/octet-stream.
fn wx_file(body: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(body)
        .file_name("tmp_5c1d0a.jpg")
        .mime_str("application/octet-stream")
        .unwrap()
}

#[tokio::test]
async fn the_wx_sdks_post_object_form_uploads_what_the_credential_allows() {
    let ts = sts_store().await;
    let t = temp(&key_policy(KEY, 10_000));
    // The SDK signs and sends the bucket's virtual host.
    let host = format!("{BUCKET}-{APPID}.cos.ap-guangzhou.myqcloud.com");
    // Exactly its fields, in its order: the empty Content-Type before the file.
    let form = wx_form(&host, &t, KEY)
        .text("Content-Type", "")
        .part("file", wx_file(jpeg(3000)));
    let resp = wx_post(&ts, &host, &t, form).await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    assert_eq!(
        resp.headers()["etag"],
        format!("\"{}\"", md5_hex(&jpeg(3000))).as_str()
    );
    let got = ts.get(KEY).await;
    // Stored with the type guessed from the key, which the policy allowed.
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), jpeg(3000));

    // Fields the store honours and the credential may set: stored.
    let form = wx_form(&host, &t, KEY)
        .text("Cache-Control", "max-age=60")
        .text("x-cos-meta-sha1", sha1_hex(&jpeg(10)))
        .text("Content-Type", "image/png")
        .part("file", wx_file(jpeg(10)));
    let resp = wx_post(&ts, &host, &t, form).await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    let got = ts.get(KEY).await;
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.headers()["cache-control"], "max-age=60");
    assert_eq!(
        got.headers()["x-cos-meta-sha1"],
        sha1_hex(&jpeg(10)).as_str()
    );

    // Another key, and fields the store would not honour: refused.
    let cases: Vec<(reqwest::multipart::Form, &str)> = vec![
        (
            wx_form(&host, &t, "u/12/photos/20261202/other.jpg"),
            "name/cos:PostObject",
        ),
        (wx_form(&host, &t, "u/13/k3j.jpg"), "\"u/13/k3j.jpg\""),
        (
            wx_form(&host, &t, KEY).text("x-cos-acl", "private"),
            "\"x-cos-acl\"",
        ),
        (
            wx_form(&host, &t, KEY).text("acl", "public-read"),
            "\"acl\"",
        ),
        (
            wx_form(&host, &t, KEY).text("x-cos-storage-class", "ARCHIVE"),
            "\"x-cos-storage-class\"",
        ),
        (
            wx_form(&host, &t, KEY).text("x-cos-grant-read", "id=\"100000000001\""),
            "\"x-cos-grant-read\"",
        ),
    ];
    for (form, names) in cases {
        let before = ts.snapshot().await;
        let form = form
            .text("Content-Type", "")
            .part("file", wx_file(jpeg(20)));
        let (status, code, message) = refusal(wx_post(&ts, &host, &t, form).await).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{names}: {message}"
        );
        assert!(message.contains(names), "{message}");
        ts.assert_unchanged(&before, names).await;
    }
    assert_eq!(ts.keys(), [KEY]);
}

#[tokio::test]
async fn the_wx_sdks_multipart_sequence_with_a_key_credential() {
    let ts = sts_store().await;
    let t = temp(&key_policy(KEY, 10_000));
    let path = format!("/{KEY}");
    // 1. ListMultipartUploads of the key (an error here fails the upload).
    let resp = Req::new("get", "/")
        .param("uploads", "")
        .param("prefix", KEY)
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    assert!(tags(&resp.text().await.unwrap(), "UploadId").is_empty());
    // 2. Initiate: an empty Cache-Control, application/octet-stream.
    let resp = Req::new("post", &path)
        .param("uploads", "")
        .header("Cache-Control", "")
        .header("Content-Type", "application/octet-stream")
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    let id = tag(&resp.text().await.unwrap(), "UploadId").unwrap();
    // 3. The parts, with Content-MD5 (signed).
    let bodies = [content(4000, 1), content(1500, 2)];
    let mut parts = Vec::new();
    for (n, body) in (1u32..).zip(&bodies) {
        let md5 = {
            use base64::Engine as _;
            use md5::Digest as _;
            base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
        };
        let resp = Req::new("put", &path)
            .param("partNumber", &n.to_string())
            .param("uploadId", &id)
            .header("Content-MD5", &md5)
            .body(body.clone())
            .send(&ts, &t, Via::Header)
            .await;
        assert_eq!(resp.status(), 200, "part {n}: {:?}", refusal(resp).await);
        assert_eq!(
            resp.headers()["etag"],
            format!("\"{}\"", md5_hex(body)).as_str()
        );
        parts.push((n, md5_hex(body)));
    }
    // With a cached UploadId the SDK lists the parts first.
    let resp = Req::new("get", &path)
        .param("uploadId", &id)
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(tags(&resp.text().await.unwrap(), "PartNumber"), ["1", "2"]);
    // 4. Complete.
    let xml = complete_xml(&parts);
    let md5 = {
        use base64::Engine as _;
        use md5::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()))
    };
    let resp = Req::new("post", &path)
        .param("uploadId", &id)
        .header("Content-Type", "application/xml")
        .header("Content-MD5", &md5)
        .body(xml)
        .send(&ts, &t, Via::Header)
        .await;
    assert_eq!(resp.status(), 200, "{:?}", refusal(resp).await);
    let got = ts.get(KEY).await;
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bodies.concat());
    assert_eq!(ts.upload_sessions(), 0);
}

pub fn complete_xml(parts: &[(u32, String)]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>&quot;{etag}&quot;</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}
