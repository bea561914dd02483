//! Hostile input against the running system: forged tokens, crafted paths, broken multipart
//! bodies, oversized fields, and wrong, expired or replayed signatures at the store. Every
//! one gets a clear error, and nothing is written.

use cos_sign::v4;
use serde_json::Value;

use crate::harness::{TestApp, bytes, forge, proved, spawn_app, wx};

async fn user_and_sign(
    app: &TestApp,
    user: &str,
) -> (shared::wire::TokenResponse, shared::wire::SignResponse) {
    let token = app.dev_login(user).await;
    let sign = app.sign_v4(&token.access_token, &token.upload_prefix).await;
    (token, sign)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    let token = app.dev_login("mallory").await;
    let now = shared::clock::unix_now();
    let dir = cos_sign::encode_component(&token.upload_prefix);
    let mut refused = 0;
    for (name, forged) in forge::battery(&token.access_token, app.jwt_secret.as_bytes(), now) {
        let (status, body) = app.v4_config(Some(&format!("JWT {forged}")), &dir).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert!(
            body["error_code"].is_string(),
            "{name}: JSON error body, got {body}"
        );
        assert!(
            !body.to_string().contains(&app.jwt_secret),
            "{name}: secret echoed"
        );
        refused += 1;
    }
    let t = &token.access_token;
    let headers = [
        None,
        Some(String::new()),
        Some(t.clone()),
        Some(format!("jwt {t}")),
        Some(format!("JWT  {t}")),
        Some(format!("Basic {t}")),
        Some("JWT".to_owned()),
        Some(format!("JWT {t} extra")),
    ];
    for h in &headers {
        let (status, body) = app.v4_config(h.as_deref(), &dir).await;
        assert_eq!(status, 401, "header {h:?}: {body}");
        refused += 1;
    }
    // Control: the genuine token works with both schemes.
    assert_eq!(app.v4_config(Some(&format!("JWT {t}")), &dir).await.0, 200);
    assert_eq!(
        app.v4_config(Some(&format!("Bearer {t}")), &dir).await.0,
        200
    );
    proved(
        "hostile",
        format!("{refused} forged or malformed tokens/headers refused with 401 and a JSON error"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_paths_are_refused_not_rewritten() {
    let app = spawn_app().await;
    let token = app.dev_login("eve").await;
    let auth = format!("JWT {}", token.access_token);
    let me = token.upload_prefix.trim_end_matches('/').to_owned(); // /u/<id>
    let enc = cos_sign::encode_component;
    // (raw query value as sent, expected status)
    let cases: Vec<(String, u16)> = vec![
        (enc(&format!("{me}/../other")), 400),
        (enc(&format!("../{me}")), 400),
        (enc(&format!("{me}/./x")), 400),
        (enc(&format!("{me}/.")), 400),
        (enc(&format!("{me}//x")), 400),
        (enc(&format!("/{me}")), 400),
        // `%2e%2e` survives one decode: refused, never decoded a second time.
        (format!("{}%252e%252e%2Fx", enc(&format!("{me}/"))), 400),
        (enc(&format!("{me}\\..\\x")), 400),
        (enc(&format!("{me}/x\u{0}y")), 400),
        (enc(&format!("{me}/x\ny")), 400),
        (enc(&format!("{me}/x\u{7f}")), 400),
        (enc(&format!("{me}/\u{202E}gpj.exe")), 400),
        (enc(&format!("{me}/\u{FF0E}\u{FF0E}/x")), 400),
        (enc(&format!("{me}\u{FF0F}x")), 400),
        (enc(&format!("{me}/{}", "a".repeat(900))), 400),
        (enc("relative/dir"), 400),
        // Valid paths outside the caller's prefix.
        (enc(&format!("{me}0")), 403),
        (enc(&format!("{me}0/x")), 403),
        (enc("/u/"), 403),
        (enc("/"), 403),
        (enc("/u/999999/photos"), 403),
    ];
    for (raw, want) in &cases {
        let (status, body) = app.v4_config(Some(&auth), raw).await;
        assert_eq!(status, *want, "cos_path={raw}: {body}");
        let code = body["error_code"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "cos_path={raw}: no error_code in {body}");
    }
    // Control: a subdirectory of the caller's own prefix is fine, and is not rewritten.
    let (status, body) = app
        .v4_config(Some(&auth), &enc(&format!("{me}/photos/2026")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cos_path"], format!("{me}/photos/2026/"));
    // v5 keys outside the prefix or invalid are refused too.
    for (key, want) in [
        (format!("{}x.jpg", "u/999999/"), 403),
        (format!("{}/../x.jpg", me.trim_start_matches('/')), 400),
        (format!("{}0/x.jpg", me.trim_start_matches('/')), 403),
    ] {
        let (status, body) = app
            .post_json(
                shared::routes::V5_SIGN,
                &token.access_token,
                &serde_json::json!({"Method": "PUT", "Key": key}),
            )
            .await;
        assert_eq!(status, want, "v5 key {key}: {body}");
    }
    assert!(
        app.list_keys("").await.is_empty(),
        "nothing may have been written"
    );
    proved(
        "hostile",
        format!(
            "{} crafted cos_paths and 3 crafted v5 keys refused (400/403), none rewritten",
            cases.len()
        ),
    );
}

/// Uploads `body` with `sign` and asserts the store refused it with `code` and wrote nothing.
async fn refused(
    app: &TestApp,
    url: &str,
    authorization: &str,
    body: &wx::Multipart,
    what: &str,
) -> Value {
    let before = app.list_keys("").await;
    let answer = wx::send(&app.http, url, authorization, body).await;
    let after = app.list_keys("").await;
    assert_eq!(before, after, "{what}: the store changed");
    match answer {
        Ok(a) => {
            assert_ne!(a.json["code"], 0, "{what}: accepted: {}", a.text);
            assert!(
                a.status != 200 || a.json["code"].as_i64().is_some_and(|c| c < 0),
                "{what}: {}",
                a.text
            );
            a.json
        }
        // A connection closed on a hostile body is a refusal too.
        Err(e) => Value::String(e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_bad_signatures_and_bad_bodies_without_writing() {
    let app = spawn_app().await;
    let (token, sign) = user_and_sign(&app, "trudy").await;
    let content = bytes(9, 20_000);
    let url = format!("{}x.jpg", sign.upload_url);
    let good = wx::Multipart::new(&[("op", "upload")], "filecontent", "x.jpg", &content);
    let now = shared::clock::unix_now();
    let creds = &app.creds;
    let signer = v4::Signer {
        appid: &app.appid,
        bucket: &app.bucket,
        credentials: creds,
    };
    let prefix = token.upload_prefix.trim_end_matches('/');
    let mut count = 0;

    // Signature problems, each with the code COS uses.
    let wrong_secret = cos_sign::Credentials::new(creds.secret_id.clone(), "not-the-secret");
    let cases: Vec<(&str, String, i64)> = vec![
        ("no signature", String::new(), -97),
        ("garbage signature", "bm90IGEgc2lnbmF0dXJl".into(), -97),
        (
            "wrong secret",
            v4::Signer {
                appid: &app.appid,
                bucket: &app.bucket,
                credentials: &wrong_secret,
            }
            .multi_effect(Some(prefix), now + 600, now, 1)
            .unwrap(),
            -97,
        ),
        (
            "expired",
            signer
                .multi_effect(Some(prefix), now - 3600, now - 7200, 2)
                .unwrap(),
            -96,
        ),
        (
            "other user's directory",
            signer
                .multi_effect(Some("/u/999999"), now + 600, now, 3)
                .unwrap(),
            -97,
        ),
        (
            "other bucket",
            v4::Signer {
                appid: &app.appid,
                bucket: "otherbucket",
                credentials: creds,
            }
            .multi_effect(None, now + 600, now, 4)
            .unwrap(),
            -61,
        ),
    ];
    for (what, s, code) in &cases {
        let body = refused(&app, &url, s, &good, what).await;
        assert_eq!(body["code"], *code, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
        count += 1;
    }
    // A tampered signature: flip one character of the real one.
    let mut t = sign.sign.clone().into_bytes();
    t[5] = if t[5] == b'A' { b'B' } else { b'A' };
    let body = refused(
        &app,
        &url,
        std::str::from_utf8(&t).unwrap(),
        &good,
        "tampered",
    )
    .await;
    assert_eq!(body["code"], -97, "{body}");
    count += 1;

    // Broken bodies with a valid signature.
    let no_file = wx::Multipart::new(&[("op", "upload")], "notthefile", "x.jpg", &content);
    refused(&app, &url, &sign.sign, &no_file, "no filecontent part").await;
    let no_op = wx::Multipart::new(&[], "filecontent", "x.jpg", &content);
    refused(&app, &url, &sign.sign, &no_op, "no op field").await;
    let bad_op = wx::Multipart::new(&[("op", "format_disk")], "filecontent", "x.jpg", &content);
    refused(&app, &url, &sign.sign, &bad_op, "unknown op").await;
    let bad_sha = wx::Multipart::new(
        &[("op", "upload"), ("sha", &"0".repeat(40))],
        "filecontent",
        "x.jpg",
        &content,
    );
    refused(&app, &url, &sign.sign, &bad_sha, "sha mismatch").await;
    let mut truncated = good.clone();
    truncated.body.truncate(good.body.len() / 2);
    refused(&app, &url, &sign.sign, &truncated, "truncated body").await;
    let mut no_boundary = good.clone();
    no_boundary.boundary = "not-the-boundary".into();
    refused(&app, &url, &sign.sign, &no_boundary, "wrong boundary").await;
    let huge_field = "x".repeat(2 * 1024 * 1024);
    let oversized = wx::Multipart::new(
        &[("op", "upload"), ("biz_attr", &huge_field)],
        "filecontent",
        "x.jpg",
        &content,
    );
    refused(&app, &url, &sign.sign, &oversized, "2 MiB text field").await;
    count += 7;

    // Keys the validator refuses, even with a valid signature for the directory.
    for bad in ["..%2Fescape.jpg", "a%00b.jpg", "%E2%80%AEgpj.exe"] {
        let u = format!("{}{bad}", sign.upload_url);
        refused(&app, &u, &sign.sign, &good, bad).await;
        count += 1;
    }

    // Single-effect signatures are good once: the replayed delete is refused.
    let ok = wx::send(&app.http, &url, &sign.sign, &good).await.unwrap();
    assert_eq!(ok.json["code"], 0, "control upload: {}", ok.text);
    let key_path = format!("{}/x.jpg", prefix);
    let once = signer
        .single_effect(&key_path, shared::clock::unix_now(), 42)
        .unwrap();
    let delete = |s: String| {
        let http = app.http.clone();
        let url = url.clone();
        async move {
            http.post(&url)
                .header("Authorization", s)
                .json(&serde_json::json!({"op": "delete"}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // Re-upload after the first delete so the replay has something to destroy.
    assert_eq!(delete(once.clone()).await["code"], 0);
    let ok = wx::send(&app.http, &url, &sign.sign, &good).await.unwrap();
    assert_eq!(ok.json["code"], 0, "{}", ok.text);
    let replay = delete(once).await;
    assert_ne!(
        replay["code"], 0,
        "replayed single-effect delete accepted: {replay}"
    );
    assert_eq!(
        app.list_keys(&key_path[1..]).await.len(),
        1,
        "the replay deleted the object"
    );
    count += 1;
    proved(
        "hostile",
        format!(
            "{count} bad signatures, bodies and keys refused by the store with a COS error code and no write; single-effect replay refused"
        ),
    );
}

/// What the store answered a hostile v5 request: status, XML `<Code>`, and whether the
/// bucket listing and the store's temp directory are unchanged.
async fn refused_v5(app: &TestApp, what: &str, req: reqwest::RequestBuilder) -> (u16, String) {
    let before = app.list_keys("").await;
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let code = crate::harness::xml_values(&text, "Code")
        .into_iter()
        .next()
        .unwrap_or_default();
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx refusal, got {status}: {text}"
    );
    assert!(!code.is_empty(), "{what}: no COS <Code> in {text}");
    assert_eq!(before, app.list_keys("").await, "{what}: the store changed");
    assert!(
        crate::harness::temp_files(app).is_empty(),
        "{what}: temp files left behind: {:?}",
        crate::harness::temp_files(app)
    );
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_bad_v5_signatures_and_policies_without_writing() {
    use base64::Engine as _;
    use cos_sign::v5;
    let b64 = base64::engine::general_purpose::STANDARD;

    let app = spawn_app().await;
    let token = app.dev_login("oscar").await;
    let prefix = token.upload_prefix.trim_start_matches('/').to_owned(); // u/<id>/
    let host = format!("127.0.0.1:{}", app.port);
    let body = bytes(31, 40_000);
    let sign_put = |key: String| {
        let app = &app;
        let token = &token;
        let host = host.clone();
        async move {
            let (status, signed) = app
                .post_json(
                    shared::routes::V5_SIGN,
                    &token.access_token,
                    &serde_json::json!({"Method": "PUT", "Key": key, "Headers": {"Host": host}}),
                )
                .await;
            assert_eq!(status, 200, "{signed}");
            signed["Authorization"].as_str().unwrap().to_owned()
        }
    };
    let url = |key: &str| format!("{}/{}", app.base_url, cos_sign::encode_path(key));
    let a = format!("{prefix}a.jpg");
    let b = format!("{prefix}b.jpg");
    let auth_a = sign_put(a.clone()).await;
    let mut refusals = Vec::new();

    // A signature for one key used for another key of the same user.
    let r = app
        .http
        .put(url(&b))
        .header("Authorization", &auth_a)
        .body(body.clone());
    refusals.push(refused_v5(&app, "signature for another key", r).await);
    // A PUT signature used for a DELETE of the same key.
    let r = app.http.delete(url(&a)).header("Authorization", &auth_a);
    refusals.push(refused_v5(&app, "PUT signature used for DELETE", r).await);
    // No signature, and garbage.
    let r = app.http.put(url(&a)).body(body.clone());
    refusals.push(refused_v5(&app, "no Authorization", r).await);
    let r = app
        .http
        .put(url(&a))
        .header("Authorization", "q-sign-algorithm=sha1&q-ak=nope")
        .body(body.clone());
    refusals.push(refused_v5(&app, "garbage Authorization", r).await);
    // One hex digit of q-signature changed.
    let mut tampered = auth_a.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let r = app
        .http
        .put(url(&a))
        .header("Authorization", String::from_utf8(tampered).unwrap())
        .body(body.clone());
    refusals.push(refused_v5(&app, "tampered q-signature", r).await);
    // Right request, wrong secret; and the right secret but a key time that has passed.
    let now = shared::clock::unix_now();
    let path = format!("/{a}");
    let request = v5::Request {
        method: "PUT",
        path: &path,
        params: &[],
        headers: &[("host", &host)],
    };
    let wrong = cos_sign::Credentials::new(app.creds.secret_id.clone(), "not-the-secret");
    let forged = v5::sign(
        &wrong,
        &request,
        v5::KeyTime::new(now - 10, now + 600).unwrap(),
    );
    let r = app
        .http
        .put(url(&a))
        .header("Authorization", forged.to_authorization())
        .body(body.clone());
    refusals.push(refused_v5(&app, "wrong secret", r).await);
    let expired = v5::sign(
        &app.creds,
        &request,
        v5::KeyTime::new(now - 7200, now - 3600).unwrap(),
    );
    let r = app
        .http
        .put(url(&a))
        .header("Authorization", expired.to_authorization())
        .body(body.clone());
    refusals.push(refused_v5(&app, "expired key time", r).await);

    // POST Object: a server policy for the user's v5/ directory.
    let (status, form) = app
        .post_json(
            shared::routes::POST_POLICY,
            &token.access_token,
            &serde_json::json!({"prefix": format!("{}v5/", token.upload_prefix), "max_size": 50_000}),
        )
        .await;
    assert_eq!(status, 200, "{form}");
    let fields = form["fields"].as_object().unwrap().clone();
    let post = |key: &str, policy: Option<String>, file: Vec<u8>| {
        let mut multipart = reqwest::multipart::Form::new();
        for (k, v) in &fields {
            let v = v.as_str().unwrap().to_owned();
            let v = match k.as_str() {
                "key" => key.to_owned(),
                "policy" => policy.clone().unwrap_or(v),
                _ => v,
            };
            multipart = multipart.text(k.clone(), v);
        }
        multipart = multipart.part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name("p.jpg"),
        );
        app.http
            .post(form["url"].as_str().unwrap())
            .multipart(multipart)
    };
    // A key outside the policy's prefix (the user's own prefix, but not v5/).
    let r = post(&format!("{prefix}elsewhere.jpg"), None, body.clone());
    refusals.push(refused_v5(&app, "POST key outside the policy prefix", r).await);
    // Another user's key, with the policy rewritten to allow it (signature unchanged).
    let text = String::from_utf8(
        b64.decode(fields["policy"].as_str().unwrap())
            .expect("policy is base64"),
    )
    .unwrap();
    let widened = text.replace(&format!("{prefix}v5/"), "u/");
    assert_ne!(widened, text, "the policy names the prefix: {text}");
    let r = post(
        "u/999999/stolen.jpg",
        Some(b64.encode(widened)),
        body.clone(),
    );
    refusals.push(refused_v5(&app, "POST with a widened policy", r).await);
    // A file larger than the policy's content-length-range.
    let r = post(&format!("{prefix}v5/big.jpg"), None, bytes(32, 50_001));
    let (status, code) = refused_v5(&app, "POST over max_size", r).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    refusals.push((status, code));

    // Controls: the genuine requests are accepted.
    let res = app
        .http
        .put(url(&a))
        .header("Authorization", &auth_a)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = post(&format!("{prefix}v5/ok.jpg"), None, bytes(33, 50_000))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        app.list_keys("").await,
        vec![a.clone(), format!("{prefix}v5/ok.jpg")]
    );
    for (status, code) in &refusals {
        assert!(
            matches!(
                (status, code.as_str()),
                (403, "SignatureDoesNotMatch" | "AccessDenied")
                    | (400, "EntityTooLarge")
                    | (400, "InvalidArgument" | "InvalidPolicyDocument")
            ),
            "unexpected refusal {status} {code}"
        );
    }
    let codes: std::collections::BTreeSet<_> =
        refusals.iter().map(|(s, c)| format!("{s} {c}")).collect();
    proved(
        "hostile",
        format!(
            "{} bad v5 requests (wrong key, method, secret, expired, tampered, no or garbage Authorization, POST outside or widening its policy, over max_size) refused ({}) with no object and no temp file",
            refusals.len(),
            codes.into_iter().collect::<Vec<_>>().join(", ")
        ),
    );
}
