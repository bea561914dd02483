//! Every signature failure answers the right error and writes nothing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::Credentials;
use serde_json::json;
use shared::v4::codes;

use crate::helpers::*;
use crate::v5::policy_form;

async fn v4_refused(ts: &TestStore, path: &str, sign: &str, code: i64) {
    let (status, r) = ts.v4_upload(path, b"forged", &[], sign).await;
    assert_eq!(status, 403, "{r}");
    assert_eq!(r["code"], code, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("ERROR_PROXY_SIGN"),
        "{r}"
    );
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn v4_signature_failures_write_nothing() {
    let ts = TestStore::start().await;
    let wrong = Credentials::new(SECRET_ID, "not-the-secret");
    // Wrong secret.
    let sign = sign_more_with(&wrong, BUCKET, None, now() + 600, now());
    v4_refused(&ts, "/a.jpg", &sign, codes::SIGN_INVALID).await;
    // Unknown SecretId.
    let sign = sign_more_with(
        &Credentials::new("AKIDother", SECRET_KEY),
        BUCKET,
        None,
        now() + 600,
        now(),
    );
    v4_refused(&ts, "/a.jpg", &sign, codes::SIGN_INVALID).await;
    // Tampered: the plaintext's expiry changed after signing.
    let good = ts.sign_more(None);
    let mut raw = STANDARD.decode(&good).unwrap();
    let text = String::from_utf8(raw[20..].to_vec()).unwrap();
    let e_at = text.find("&e=").unwrap() + 3;
    raw[20 + e_at] = if raw[20 + e_at] == b'9' { b'8' } else { b'9' };
    v4_refused(&ts, "/a.jpg", &STANDARD.encode(&raw), codes::SIGN_INVALID).await;
    // Garbage.
    v4_refused(&ts, "/a.jpg", "bm90IGEgc2lnbmF0dXJl", codes::SIGN_INVALID).await;
    // Expired (beyond the 60 s skew).
    let sign = sign_more_with(&creds(), BUCKET, None, now() - 120, now() - 3600);
    v4_refused(&ts, "/a.jpg", &sign, codes::SIGN_EXPIRED).await;
    // Issued in the future.
    let sign = sign_more_with(&creds(), BUCKET, None, now() + 7200, now() + 3600);
    v4_refused(&ts, "/a.jpg", &sign, codes::SIGN_INVALID).await;
    // Wrong path: bound to /u/1, used for /u/12/ and /u/2/.
    let sign = ts.sign_more(Some("/u/1"));
    v4_refused(&ts, "/u/12/a.jpg", &sign, codes::SIGN_INVALID).await;
    v4_refused(&ts, "/u/2/a.jpg", &sign, codes::SIGN_INVALID).await;
    // Wrong bucket: signed for "other", sent to metis.
    let sign = sign_more_with(&creds(), "other", None, now() + 600, now());
    v4_refused(&ts, "/a.jpg", &sign, codes::SIGN_BUCKET_MISMATCH).await;
    // Missing.
    let form = reqwest::multipart::Form::new().text("op", "upload").part(
        "filecontent",
        reqwest::multipart::Part::bytes(b"x".to_vec()),
    );
    let resp = ts
        .client
        .post(ts.v4_url("/a.jpg"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, r) = json_reply(resp).await;
    assert_eq!(
        (status, r["code"].as_i64()),
        (403, Some(codes::SIGN_INVALID)),
        "{r}"
    );
    // A single-effect signature cannot upload.
    let once = ts.sign_once("/a.jpg");
    v4_refused(&ts, "/a.jpg", &once, codes::SIGN_INVALID).await;
    // The bound signature does work where it should.
    let (_, r) = ts
        .v4_upload("/u/1/a.jpg", b"ok", &[], &ts.sign_more(Some("/u/1")))
        .await;
    assert_eq!(r["code"], 0, "{r}");
}

#[tokio::test]
async fn v4_single_effect_signature_is_good_once() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    ts.v4_upload("/a.txt", b"a", &[], &sign).await;
    ts.v4_upload("/b.txt", b"b", &[], &sign).await;
    let once = ts.sign_once("/a.txt");
    let (_, r) = ts.v4_json("/a.txt", json!({"op": "delete"}), &once).await;
    assert_eq!(r["code"], 0, "{r}");
    // Replayed: refused before anything happens.
    ts.v4_upload("/a.txt", b"a", &[], &sign).await;
    let (status, r) = ts.v4_json("/a.txt", json!({"op": "delete"}), &once).await;
    assert_eq!(
        (status, r["code"].as_i64()),
        (403, Some(codes::SIGN_REPLAYED)),
        "{r}"
    );
    assert_eq!(ts.keys(), ["a.txt", "b.txt"]);
    // Bound to another path: refused.
    let once_b = ts.sign_once("/b.txt");
    let (_, r) = ts.v4_json("/a.txt", json!({"op": "delete"}), &once_b).await;
    assert_eq!(r["code"], codes::SIGN_INVALID, "{r}");
    assert_eq!(ts.keys(), ["a.txt", "b.txt"]);
}

async fn v5_refused(ts: &TestStore, auth: &str, status: u16, code: &str) {
    let resp = ts
        .client
        .put(ts.url("a.jpg"))
        .header("Authorization", auth)
        .body("forged")
        .send()
        .await
        .unwrap();
    let (got_status, got_code, text) = xml_code(resp).await;
    assert_eq!((got_status, got_code.as_str()), (status, code), "{text}");
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn v5_signature_failures_write_nothing() {
    let ts = TestStore::start().await;
    let (start, end) = (now() - 10, now() + 600);
    let wrong = Credentials::new(SECRET_ID, "not-the-secret");
    let auth = auth_with(&wrong, &ts.host, "put", "/a.jpg", &[], start, end);
    v5_refused(&ts, &auth, 403, "SignatureDoesNotMatch").await;
    // Signed for another key.
    let auth = ts.auth("put", "/b.jpg", &[]);
    v5_refused(&ts, &auth, 403, "SignatureDoesNotMatch").await;
    // Signed for another method.
    let auth = ts.auth("get", "/a.jpg", &[]);
    v5_refused(&ts, &auth, 403, "SignatureDoesNotMatch").await;
    // Signed for another host (bucket).
    let auth = auth_with(
        &creds(),
        "photos-1250000000.cos.local",
        "put",
        "/a.jpg",
        &[],
        start,
        end,
    );
    v5_refused(&ts, &auth, 403, "SignatureDoesNotMatch").await;
    // Tampered sign time.
    let good = ts.auth("put", "/a.jpg", &[]);
    let tampered = good.replacen(
        &format!("q-sign-time={start}"),
        &format!("q-sign-time={}", start - 1),
        1,
    );
    v5_refused(&ts, &tampered, 403, "SignatureDoesNotMatch").await;
    // Expired.
    let auth = auth_with(
        &creds(),
        &ts.host,
        "put",
        "/a.jpg",
        &[],
        now() - 7200,
        now() - 3600,
    );
    v5_refused(&ts, &auth, 403, "AccessDenied").await;
    // Not yet valid.
    let auth = auth_with(
        &creds(),
        &ts.host,
        "put",
        "/a.jpg",
        &[],
        now() + 3600,
        now() + 7200,
    );
    v5_refused(&ts, &auth, 403, "RequestTimeTooSkewed").await;
    // Unknown SecretId.
    let auth = auth_with(
        &Credentials::new("AKIDother", SECRET_KEY),
        &ts.host,
        "put",
        "/a.jpg",
        &[],
        start,
        end,
    );
    v5_refused(&ts, &auth, 403, "InvalidAccessKeyId").await;
    // Malformed.
    v5_refused(&ts, "q-sign-algorithm=sha1&q-ak=x", 403, "AccessDenied").await;
    // Anonymous write.
    let resp = ts
        .client
        .put(ts.url("a.jpg"))
        .body("anon")
        .send()
        .await
        .unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    ts.assert_nothing_stored().await;
    // Expired message says so.
    let auth = auth_with(
        &creds(),
        &ts.host,
        "put",
        "/a.jpg",
        &[],
        now() - 7200,
        now() - 3600,
    );
    let resp = ts
        .client
        .put(ts.url("a.jpg"))
        .header("Authorization", auth)
        .body("x")
        .send()
        .await
        .unwrap();
    let (_, _, text) = xml_code(resp).await;
    assert!(
        tag(&text, "Message")
            .unwrap()
            .starts_with("Request has expired"),
        "{text}"
    );
    // A presigned GET URL cannot be used to PUT.
    let kt = cos_sign::v5::KeyTime::new(start, end).unwrap();
    let headers = [("host", ts.host.as_str())];
    let sig = cos_sign::v5::sign(
        &creds(),
        &cos_sign::v5::Request {
            method: "get",
            path: "/a.jpg",
            params: &[],
            headers: &headers,
        },
        kt,
    );
    let resp = ts
        .client
        .put(ts.url("a.jpg"))
        .query(&sig.to_query_pairs())
        .body("x")
        .send()
        .await
        .unwrap();
    let (status, code, _) = xml_code(resp).await;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
    ts.assert_nothing_stored().await;
    // A bad signature on a public GET is still refused.
    let auth = auth_with(&wrong, &ts.host, "get", "/a.jpg", &[], start, end);
    let resp = ts
        .client
        .get(ts.url("a.jpg"))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn post_policy_failures_write_nothing() {
    use cos_sign::policy::Condition;
    let ts = TestStore::start().await;
    let file = || reqwest::multipart::Part::bytes(vec![7u8; 2000]).file_name("p.png");
    let post = |form: reqwest::multipart::Form| async {
        let resp = ts.post_form(form).await;
        xml_code(resp).await
    };
    let prefix = || vec![Condition::StartsWith("key".into(), "u/1/".into())];
    // Key outside the allowed prefix.
    let form = policy_form(
        &ts,
        "u/2/p.png",
        prefix(),
        &creds(),
        now() - 10,
        now() + 600,
    )
    .part("file", file());
    let (status, code, text) = post(form).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{text}");
    // Wrong secret.
    let wrong = Credentials::new(SECRET_ID, "nope");
    let form = policy_form(&ts, "u/1/p.png", prefix(), &wrong, now() - 10, now() + 600)
        .part("file", file());
    let (status, code, _) = post(form).await;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
    // Expired.
    let form = policy_form(
        &ts,
        "u/1/p.png",
        prefix(),
        &creds(),
        now() - 7200,
        now() - 3600,
    )
    .part("file", file());
    let (status, code, text) = post(form).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{text}");
    // Body larger than content-length-range.
    let mut conds = prefix();
    conds.push(Condition::ContentLengthRange(1, 1000));
    let form = policy_form(&ts, "u/1/p.png", conds, &creds(), now() - 10, now() + 600)
        .part("file", file());
    let (status, code, _) = post(form).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    // Tampered field: the policy requires Content-Type image/png.
    let mut conds = prefix();
    conds.push(Condition::Eq("Content-Type".into(), "image/png".into()));
    let form = policy_form(&ts, "u/1/p.png", conds, &creds(), now() - 10, now() + 600)
        .text("Content-Type", "text/html")
        .part("file", file());
    let (status, code, _) = post(form).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    // No policy and no signature.
    let form = reqwest::multipart::Form::new()
        .text("key", "u/1/p.png")
        .part("file", file());
    let (status, code, _) = post(form).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    ts.assert_nothing_stored().await;
}

/// A policy must name every form field but the signature fields, file,
/// policy and x-cos-security-token; a field added to a server-issued form is
/// refused and nothing is stored.
#[tokio::test]
async fn a_policy_must_cover_every_form_field() {
    use cos_sign::policy::Condition;
    let ts = TestStore::start().await;
    let file = || reqwest::multipart::Part::bytes(b"png!".to_vec()).file_name("p.png");
    let post = |form: reqwest::multipart::Form| async {
        let resp = ts.post_form(form).await;
        xml_code(resp).await
    };
    // What the auth server issues: the key and a content type prefix.
    let issued = || {
        vec![
            Condition::StartsWith("key".into(), "u/1/".into()),
            Condition::StartsWith("Content-Type".into(), "image/".into()),
        ]
    };
    let form = |conditions| {
        policy_form(
            &ts,
            "u/1/p.png",
            conditions,
            &creds(),
            now() - 10,
            now() + 600,
        )
        .text("Content-Type", "image/png")
    };
    for (name, value) in [
        ("x-cos-acl", "public-read-write"),
        (
            "X-Cos-Meta-Sha1",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        ("success_action_status", "201"),
        ("success_action_redirect", "https://evil.example/"),
        ("x-cos-forbid-overwrite", "false"),
    ] {
        let (status, code, text) =
            post(form(issued()).text(name, value).part("file", file())).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "AccessDenied"),
            "{name}: {text}"
        );
        let message = tag(&text, "Message").unwrap_or_default();
        assert!(message.contains(&format!("{name:?}")), "{name}: {text}");
    }
    // The key too: a policy without a key condition does not let any key through.
    let (status, code, text) = post(
        form(vec![Condition::StartsWith(
            "Content-Type".into(),
            "image/".into(),
        )])
        .part("file", file()),
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{text}");
    let message = tag(&text, "Message").unwrap_or_default();
    assert!(message.contains("\"key\""), "{text}");
    ts.assert_nothing_stored().await;

    // Covered (an empty starts-with allows any value): stored. (The exempt
    // x-cos-security-token field comes with temporary credentials: sts.rs.)
    let mut conditions = issued();
    conditions.push(Condition::StartsWith(
        "x-cos-meta-sha1".into(),
        String::new(),
    ));
    conditions.push(Condition::Eq("success_action_status".into(), "200".into()));
    let (status, _, text) = post(
        form(conditions)
            .text("x-cos-meta-sha1", "abc")
            .text("success_action_status", "200")
            .part("file", file()),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(ts.keys(), ["u/1/p.png"]);
}
