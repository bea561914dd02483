//! `POST /v1/cos/credentials` in embedded mode: the key the server picks, the
//! reply's shape and times, the token (opened with the store's key) and
//! exactly what its policy allows, refusals an app can show, audit and metrics.

use cos_sign::sts;
use serde_json::{Value, json};
use shared::ObjectKey;
use shared::cam::{Action, Bucket, Decision, Policy, RequestContext, Scope, UploadLimits};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::helpers::*;

fn bucket() -> Bucket {
    Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap()
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

fn today() -> String {
    OffsetDateTime::from_unix_timestamp(now() as i64)
        .unwrap()
        .format(format_description!("[year][month][day]"))
        .unwrap()
}

/// Asserts a 200 and returns the reply.
async fn granted(r: reqwest::Response) -> Value {
    let status = r.status();
    assert_eq!(
        r.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// Opens the reply's token with the store's key: the claims are the reply's,
/// the TmpSecretKey derives from the id; returns the policy.
fn open(app: &TestApp, v: &Value) -> Policy {
    let token_key = app.config.sts.token_key.as_ref().unwrap();
    let claims = sts::open(token_key, v["SecurityToken"].as_str().unwrap()).unwrap();
    assert_eq!(claims.id.as_str(), v["TmpSecretId"]);
    assert_eq!(claims.start_time, v["StartTime"].as_u64().unwrap());
    assert_eq!(claims.expired_time, v["ExpiredTime"].as_u64().unwrap());
    assert_eq!(
        sts::derive_tmp_secret_key(token_key, &claims.id).expose_to_client(),
        v["TmpSecretKey"]
    );
    Policy::from_json(&claims.policy).unwrap()
}

/// The times the SDKs check: 10 digits, ExpiredTime − StartTime = the duration.
fn check_times(v: &Value, duration: u64) {
    let start = v["StartTime"].as_u64().unwrap();
    let end = v["ExpiredTime"].as_u64().unwrap();
    assert_eq!((start.to_string().len(), end.to_string().len()), (10, 10));
    assert_eq!(end - start, duration, "{v}");
    assert!(start.abs_diff(now()) < 60, "{v}");
    let expiration = OffsetDateTime::parse(
        v["Expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expiration.unix_timestamp() as u64, end);
    assert!(v["Expiration"].as_str().unwrap().ends_with('Z'), "{v}");
}

fn decide(policy: &Policy, req: &RequestContext) -> Decision {
    policy.evaluate(req)
}

#[tokio::test]
async fn key_scope_grants_one_new_key_the_server_picks() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let v = granted(
        app.credentials(
            &token,
            &json!({"scope": "key", "ext": "JPG", "dir": "photos",
                    "content_type": "image/jpeg", "size": 123_456}),
        )
        .await,
    )
    .await;
    // `<prefix><dir>/<yyyymmdd>/<128 random bits in hex>.<ext>`.
    let k = v["Key"].as_str().unwrap();
    let head = format!("u/{id}/photos/{}/", today());
    let name = k.strip_prefix(&head).unwrap_or_else(|| panic!("{k}"));
    let random = name.strip_suffix(".jpg").unwrap();
    assert_eq!(random.len(), 32, "{k}");
    assert!(
        random
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{k}"
    );
    assert!(v.get("Prefix").is_none(), "{v}");
    assert_eq!(v["Bucket"], "metis-1250000000");
    assert_eq!(v["Region"], "ap-guangzhou");
    assert_eq!(v["Endpoint"], app.base_url);
    let id_text = v["TmpSecretId"].as_str().unwrap();
    assert!(id_text.starts_with("AKID") && id_text.len() == 36, "{v}");
    check_times(&v, 1800);

    let policy = open(&app, &v);
    let limits = UploadLimits {
        max_size: 123_456,
        content_types: vec!["image/jpeg".into()],
    };
    assert_eq!(
        policy,
        Policy::for_upload(&bucket(), &Scope::Key(key(k)), &limits)
    );
    let b = bucket();
    let on = |action: Action, k: &str| RequestContext::object(action, &b, &key(k));
    let put = |k: &str, len: u64, ct: &str| {
        on(Action::PutObject, k)
            .with_content_length(len)
            .with_content_type(ct)
    };
    // The key's upload flows, reads and the SDK's resume listing: allowed.
    for req in [
        put(k, 123_456, "image/jpeg"),
        put(k, 0, "image/jpeg"),
        on(Action::PostObject, k)
            .with_content_length(1)
            .with_content_type("image/jpeg"),
        on(Action::InitiateMultipartUpload, k).with_content_type("image/jpeg"),
        on(Action::UploadPart, k).with_content_length(100_000),
        on(Action::CompleteMultipartUpload, k).with_content_length(123_456),
        on(Action::ListParts, k),
        on(Action::AbortMultipartUpload, k),
        on(Action::HeadObject, k),
        on(Action::GetObject, k),
        RequestContext::listing(Action::ListMultipartUploads, &b, k),
    ] {
        assert_eq!(decide(&policy, &req), Decision::Allow, "{req:?}");
    }
    // Anything else: refused.
    let other_bucket = Bucket::new("ap-guangzhou", "1250000000", "other").unwrap();
    let other_region = Bucket::new("ap-shanghai", "1250000000", "metis").unwrap();
    for req in [
        put(k, 123_457, "image/jpeg"),
        put(k, 1, "image/png"),
        put(k, 1, "text/html"),
        on(Action::PutObject, k).with_content_length(1),
        on(Action::InitiateMultipartUpload, k).with_content_type("video/mp4"),
        on(Action::CompleteMultipartUpload, k).with_content_length(123_457),
        on(Action::DeleteObject, k),
        put(&format!("{head}other.jpg"), 1, "image/jpeg"),
        put(&format!("u/{id}/a.jpg"), 1, "image/jpeg"),
        put(&format!("u/{}/{name}", id + 1), 1, "image/jpeg"),
        on(Action::GetObject, &format!("{head}other.jpg")),
        RequestContext::listing(Action::GetBucket, &b, &format!("u/{id}/")),
        RequestContext::listing(Action::ListMultipartUploads, &b, &format!("u/{id}/")),
        RequestContext::object(Action::PutObject, &other_bucket, &key(k))
            .with_content_length(1)
            .with_content_type("image/jpeg"),
        RequestContext::object(Action::PutObject, &other_region, &key(k))
            .with_content_length(1)
            .with_content_type("image/jpeg"),
        RequestContext::bucket(Action::HeadBucket, &b),
    ] {
        assert_eq!(decide(&policy, &req), Decision::NotAllowed, "{req:?}");
    }

    // Without dir, content_type and size: the prefix's date directory, the
    // allow-list and the server's limit.
    let v2 = granted(
        app.credentials(&token, &json!({"scope": "key", "ext": "mp4"}))
            .await,
    )
    .await;
    let k2 = v2["Key"].as_str().unwrap();
    assert!(
        k2.starts_with(&format!("u/{id}/{}/", today())) && k2.ends_with(".mp4"),
        "{k2}"
    );
    let limits = UploadLimits {
        max_size: app.config.max_upload_size,
        content_types: vec!["image/*".into(), "video/*".into()],
    };
    assert_eq!(
        open(&app, &v2),
        Policy::for_upload(&bucket(), &Scope::Key(key(k2)), &limits)
    );
    // Every key credential is new.
    assert_ne!(v["TmpSecretId"], v2["TmpSecretId"]);
}

#[tokio::test]
async fn prefix_scope_grants_the_whole_prefix_or_a_directory_and_nothing_beside() {
    let app = spawn_app().await;
    // User 12, beside user 123 (a plain string prefix of whose directory it is).
    let token = app.token_for(12);
    let b = bucket();
    let put = |k: &str| {
        RequestContext::object(Action::PutObject, &b, &key(k))
            .with_content_length(10)
            .with_content_type("image/png")
    };
    let list = |p: &str| RequestContext::listing(Action::GetBucket, &b, p);

    let v = granted(app.credentials(&token, &json!({"scope": "prefix"})).await).await;
    assert_eq!(v["Prefix"], "u/12/");
    assert!(v.get("Key").is_none(), "{v}");
    check_times(&v, 1800);
    let policy = open(&app, &v);
    let limits = UploadLimits {
        max_size: app.config.max_upload_size,
        content_types: vec!["image/*".into(), "video/*".into()],
    };
    let dir = shared::DirPath::parse("/u/12/").unwrap();
    assert_eq!(policy, Policy::for_upload(&b, &Scope::Prefix(dir), &limits));
    for (req, want) in [
        (put("u/12/a.png"), Decision::Allow),
        (put("u/12/x/y/z.png"), Decision::Allow),
        (list("u/12/"), Decision::Allow),
        (list("u/12/x/"), Decision::Allow),
        (put("u/123/a.png"), Decision::NotAllowed),
        (put("u/1/a.png"), Decision::NotAllowed),
        (put("a.png"), Decision::NotAllowed),
        (list("u/123/"), Decision::NotAllowed),
        (list("u/12"), Decision::NotAllowed),
        (list("u/1"), Decision::NotAllowed),
        (list(""), Decision::NotAllowed),
        (
            RequestContext::object(Action::DeleteObject, &b, &key("u/12/a.png")),
            Decision::NotAllowed,
        ),
    ] {
        assert_eq!(decide(&policy, &req), want, "{req:?}");
    }

    // A directory inside it, relative or absolute: only that directory.
    for dir in ["album/2026", "/u/12/album/2026/"] {
        let v = granted(
            app.credentials(
                &token,
                &json!({"scope": "prefix", "dir": dir, "content_type": "image/png", "size": 10}),
            )
            .await,
        )
        .await;
        assert_eq!(v["Prefix"], "u/12/album/2026/", "{dir}");
        let policy = open(&app, &v);
        for (req, want) in [
            (put("u/12/album/2026/a.png"), Decision::Allow),
            (list("u/12/album/2026/"), Decision::Allow),
            (put("u/12/album/a.png"), Decision::NotAllowed),
            (put("u/12/album/20260/a.png"), Decision::NotAllowed),
            (put("u/12/a.png"), Decision::NotAllowed),
            (list("u/12/"), Decision::NotAllowed),
            (
                put("u/12/album/2026/a.png").with_content_length(11),
                Decision::NotAllowed,
            ),
            (
                put("u/12/album/2026/a.png").with_content_type("image/jpeg"),
                Decision::NotAllowed,
            ),
        ] {
            assert_eq!(decide(&policy, &req), want, "{dir}: {req:?}");
        }
    }
    // Minted credentials are never reused (minting costs nothing).
    let again = granted(app.credentials(&token, &json!({"scope": "prefix"})).await).await;
    assert_ne!(again["TmpSecretId"], v["TmpSecretId"]);
}

#[tokio::test]
async fn refusals_carry_a_message_an_app_can_show() {
    let app = spawn_app_with(|c| c.max_upload_size = 10 << 20).await;
    let (token, id) = app.token("alice").await;
    let refused = |body: Value, status: u16, code: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let r = app.credentials(&token, &body).await;
            assert_eq!(r.status().as_u16(), status, "{body}");
            expect_error(r, status, code).await
        }
    };
    let v = refused(
        json!({"scope": "key", "ext": "exe"}),
        400,
        "extension_not_allowed",
    )
    .await;
    assert_eq!(
        v["message"],
        "this server does not allow uploading .exe files; allowed: jpg, jpeg, png, gif, webp, \
         heic, heif, avif, bmp, mp4, mov"
    );
    let v = refused(
        json!({"scope": "key", "ext": "jpg", "content_type": "text/html"}),
        400,
        "invalid_content_type",
    )
    .await;
    assert_eq!(
        v["message"],
        "this server does not allow uploading files of type text/html; allowed: image/*, video/*"
    );
    let v = refused(
        json!({"scope": "key", "ext": "jpg", "size": (10 << 20) + 1}),
        400,
        "too_large",
    )
    .await;
    assert_eq!(
        v["message"],
        "the file is 10.0 MiB (10485761 bytes); this server accepts files of at most 10.0 MiB \
         (10485760 bytes)"
    );
    let v = refused(
        json!({"scope": "prefix", "dir": format!("/u/{}/", id + 1)}),
        403,
        "outside_prefix",
    )
    .await;
    assert_eq!(
        v["message"],
        format!("dir /u/{}/ is outside your upload prefix /u/{id}/", id + 1)
    );
    let v = refused(json!({"scope": "key"}), 400, "invalid_input").await;
    assert!(v["message"].as_str().unwrap().contains("needs ext"), "{v}");
    for body in [
        json!({"scope": "prefix", "ext": "jpg"}),
        json!({"scope": "bucket"}),
        json!({}),
        json!({"scope": "key", "ext": "jpg", "Size": 1}),
        json!({"scope": "key", "ext": "jpg", "size": -1}),
    ] {
        refused(body, 400, "invalid_input").await;
    }
    // Hostile directories: refused, never rewritten.
    for dir in [
        "..",
        "../13",
        "a/../../13",
        "./a",
        "a//b",
        "%2e%2e",
        "a\\b",
        "a\u{0}b",
        "a\u{202E}b",
        "\u{FF0E}\u{FF0E}",
        "a\u{2215}b",
    ] {
        for scope in ["key", "prefix"] {
            let mut body = json!({"scope": scope, "dir": dir});
            if scope == "key" {
                body["ext"] = json!("jpg");
            }
            refused(body, 400, "invalid_path").await;
        }
    }
    for dir in [
        "/".to_owned(),
        "/u/".to_owned(),
        format!("/u/{id}0/"),
        format!("/u/{}", id + 1),
        "/other/".to_owned(),
    ] {
        refused(
            json!({"scope": "prefix", "dir": dir}),
            403,
            "outside_prefix",
        )
        .await;
    }
    // Without a token: 401, like the other routes.
    let r = app
        .http
        .post(app.url(shared::routes::CREDENTIALS))
        .json(&json!({"scope": "prefix"}))
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "missing_token").await;
    // Refusals issue nothing.
    assert_eq!(app.issued_count().await, 0);
}

#[tokio::test]
async fn every_credential_is_audited_and_counted() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let k = granted(
        app.credentials(&token, &json!({"scope": "key", "ext": "png"}))
            .await,
    )
    .await;
    granted(
        app.credentials(&token, &json!({"scope": "prefix", "dir": "album"}))
            .await,
    )
    .await;
    app.credentials(&token, &json!({"scope": "key", "ext": "exe"}))
        .await;
    let db = app.db().await;
    let rows: Vec<(i64, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT user_id, kind, target, expires_at - issued_at, source FROM signatures \
         ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let id = id as i64;
    assert_eq!(
        rows,
        [
            (
                id,
                "sts-key".to_owned(),
                k["Key"].as_str().unwrap().to_owned(),
                1800,
                Some("minted".to_owned())
            ),
            (
                id,
                "sts-prefix".to_owned(),
                format!("u/{id}/album/*"),
                1800,
                Some("minted".to_owned())
            ),
        ]
    );
    app.assert_metrics(&[
        "auth_credentials_issued_total{scope=\"key\",source=\"minted\"} 1",
        "auth_credentials_issued_total{scope=\"prefix\",source=\"minted\"} 1",
        "auth_credentials_issued_total{scope=\"prefix\",source=\"sts\"} 0",
        "auth_sts_calls_total{outcome=\"ok\"} 0",
    ])
    .await;
}
