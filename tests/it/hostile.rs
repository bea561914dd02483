//! Hostile input against the running system: forged tokens, crafted paths, broken multipart
//! bodies, oversized fields, and wrong, expired or replayed signatures at the store. Every
//! one gets a clear error, and nothing is written.

use cos_sign::v4;
use serde_json::Value;
use system_tests::{TestApp, bytes, forge, proved, spawn_app, wx};

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
