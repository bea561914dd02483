//! `/healthz`, `/metrics`, `/openapi.json`, the audit table and graceful shutdown.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_openapi_describe_every_route() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(app.url(shared::routes::HEALTHZ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    let r = app
        .http
        .get(app.url(shared::routes::READYZ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.json::<Value>().await.unwrap()),
        (200, json!({"status": "ready"}))
    );
    let doc: Value = app
        .http
        .get(app.url(shared::routes::OPENAPI))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        shared::routes::LOGIN,
        shared::routes::DEV_LOGIN,
        shared::routes::V4_SIGN,
        shared::routes::V5_SIGN,
        shared::routes::POST_POLICY,
        shared::routes::CREDENTIALS,
        shared::routes::HEALTHZ,
        shared::routes::READYZ,
        shared::routes::METRICS,
        shared::routes::OPENAPI,
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(
        doc["paths"][shared::routes::LOGIN]["post"]["responses"]
            .get("200")
            .is_some()
    );
    assert!(doc["components"]["securitySchemes"].get("jwt").is_some());
    assert!(doc["components"]["schemas"].get("ApiError").is_some());
}

#[tokio::test]
async fn metrics_count_signatures_refusals_and_logins() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let auth = format!("JWT {token}");
    for _ in 0..3 {
        assert_eq!(app.v4(Some(&auth), None).await.status(), 200);
    }
    app.v4(Some("JWT nope"), None).await;
    app.v4(Some(&auth), Some(&format!("/u/{}/", id + 1))).await;
    let r = app
        .http
        .get(app.url(shared::routes::METRICS))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for line in [
        "auth_signatures_issued_total{kind=\"v4\"} 3",
        "auth_refused_total{reason=\"unauthorized\"} 1",
        "auth_refused_total{reason=\"outside_prefix\"} 1",
        "auth_logins_total{kind=\"dev\",outcome=\"ok\"} 1",
        "auth_audit_records_total{fate=\"dropped\"} 0",
        "# TYPE auth_http_responses_total counter",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

#[tokio::test]
async fn the_embedded_store_gets_its_upload_ttl_and_shows_its_sweeps_in_metrics() {
    let ttl = std::time::Duration::from_secs(3 * 60 * 60);
    let app = spawn_app_with(|c| c.embedded.upload_ttl = ttl).await;
    let store = app.store.clone().expect("embedded mode runs the store");
    assert_eq!(store.config().upload_ttl, ttl);
    let text = app
        .http
        .get(app.url(shared::routes::METRICS))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "cos_local_expired_uploads_total{kind=\"multipart\"} 0",
        "cos_local_expired_uploads_total{kind=\"slice\"} 0",
        "cos_local_expired_upload_bytes_total 0",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

#[tokio::test]
async fn users_survive_a_restart_with_persisted_dev_secrets() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let build = || {
        let d = d.clone();
        async move {
            let config = auth_server::Config::from_env_with(
                None,
                &[
                    ("server.data_dir", d),
                    ("server.bind", "127.0.0.1:0".into()),
                    ("store.print_banner", "false".into()),
                ],
            )
            .unwrap();
            let app = auth_server::Application::build(config).await.unwrap();
            let base = app.base_url();
            let handle = app.handle();
            let join = tokio::spawn(app.run_until_stopped());
            (base, handle, join)
        }
    };
    let http = reqwest::Client::new();
    let (base, handle, join) = build().await;
    let v: Value = http
        .post(format!("{base}{}", shared::routes::DEV_LOGIN))
        .json(&serde_json::json!({"user": "alice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    handle.stop(true).await;
    join.await.unwrap().unwrap();
    let (base2, handle2, _join2) = build().await;
    // The old token is still valid after the restart (persisted JWT secret).
    let r = http
        .get(format!("{base2}{}", shared::routes::V4_SIGN))
        .header(
            "Authorization",
            format!("JWT {}", v["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    handle2.stop(true).await;
}

/// Asserts that the OpenAPI document lists `code` under the status `r` has
/// for `method path`, and returns the code.
async fn documented(doc: &Value, method: &str, path: &str, r: reqwest::Response) -> String {
    let status = r.status().as_u16().to_string();
    let body: Value = r.json().await.unwrap();
    let code = body["error_code"].as_str().unwrap().to_owned();
    let description = doc["paths"][path][method]["responses"][&status]["description"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} {path}: status {status} ({code}) is not documented"));
    assert!(
        description.contains(&format!("`{code}`")),
        "{method} {path}: {status} `{code}` is not in {description:?}"
    );
    code
}

#[tokio::test]
async fn every_error_a_route_returns_is_in_its_openapi_responses() {
    let app = spawn_app_with(|c| c.limits.login_burst = 1000).await;
    let doc: Value = app
        .http
        .get(app.url(shared::routes::OPENAPI))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (token, id) = app.token("alice").await;
    let jwt = format!("JWT {token}");
    let raw = |path: &str, ct: &str, body: &'static str| {
        app.http
            .post(app.url(path))
            .header("Authorization", &jwt)
            .header("content-type", ct)
            .body(body)
            .send()
    };

    // v4
    let v4 = shared::routes::V4_SIGN;
    let mut seen = Vec::new();
    for r in [
        app.v4(Some(&jwt), Some("/u/../x/")).await,
        app.v4(Some(&jwt), Some("/u/999999/")).await,
        app.v4(None, None).await,
        app.v4(Some("JWT nope"), None).await,
        app.http
            .get(format!("{}?cos_path=/u/{id}/%FF", app.url(v4)))
            .header("Authorization", &jwt)
            .send()
            .await
            .unwrap(),
        app.http
            .get(format!(
                "{}?cos_path=/u/{id}/&cos_path=/u/{id}/a/",
                app.url(v4)
            ))
            .header("Authorization", &jwt)
            .send()
            .await
            .unwrap(),
    ] {
        seen.push(documented(&doc, "get", v4, r).await);
    }
    let expired = app.forge(&json!({
        "sub": id.to_string(), "iss": "metis-auth", "aud": "metis-upload",
        "iat": now() - 7200, "exp": now() - 3600,
    }));
    seen.push(
        documented(
            &doc,
            "get",
            v4,
            app.v4(Some(&format!("JWT {expired}")), None).await,
        )
        .await,
    );
    for code in [
        "invalid_path",
        "outside_prefix",
        "missing_token",
        "invalid_token",
        "invalid_input",
        "token_expired",
    ] {
        assert!(
            seen.iter().any(|c| c == code),
            "{code} not triggered: {seen:?}"
        );
    }

    // v5
    let v5 = shared::routes::V5_SIGN;
    let mut seen = Vec::new();
    for body in [
        json!({"Method": "PUT", "Key": "u/../a"}),
        json!({"Method": "PUT", "Key": "u/999999/a"}),
        json!({"Method": "PATCH", "Key": format!("u/{id}/a")}),
        json!({"Method": "PUT", "Key": format!("u/{id}/a"), "Query": {"acl": ""}}),
        json!({"Method": "PUT", "Key": format!("u/{id}/a"), "Headers": {"x-cos-acl": "public-read"}}),
        json!({"Method": "PUT", "Key": format!("u/{id}/a"), "Headers": {"Host": "evil.example"}}),
        json!({"Method": "PUT", "Key": format!("u/{id}/a"), "Headers": {"Content-Type": "a", "content-type": "b"}}),
    ] {
        seen.push(documented(&doc, "post", v5, app.post_authed(v5, &token, &body).await).await);
    }
    seen.push(
        documented(
            &doc,
            "post",
            v5,
            raw(v5, "application/json", "{").await.unwrap(),
        )
        .await,
    );
    for code in [
        "invalid_key",
        "outside_prefix",
        "unsupported_method",
        "query_not_allowed",
        "header_not_allowed",
        "host_mismatch",
        "invalid_input",
    ] {
        assert!(
            seen.iter().any(|c| c == code),
            "{code} not triggered: {seen:?}"
        );
    }

    // POST policy
    let pp = shared::routes::POST_POLICY;
    let mut seen = Vec::new();
    for body in [
        json!({"key": "u/../a"}),
        json!({"prefix": "/u/../"}),
        json!({"prefix": "/u/999999/"}),
        json!({"content_type": "a\"b"}),
        json!({"expires_in": 0}),
        json!({"min_size": 10, "max_size": 5}),
    ] {
        seen.push(documented(&doc, "post", pp, app.post_authed(pp, &token, &body).await).await);
    }
    seen.push(documented(&doc, "post", pp, raw(pp, "text/plain", "{}").await.unwrap()).await);
    for code in [
        "invalid_key",
        "invalid_path",
        "outside_prefix",
        "invalid_content_type",
        "invalid_input",
    ] {
        assert!(
            seen.iter().any(|c| c == code),
            "{code} not triggered: {seen:?}"
        );
    }

    // Temporary credentials
    let cr = shared::routes::CREDENTIALS;
    let mut seen = Vec::new();
    for body in [
        json!({"scope": "key", "ext": "exe"}),
        json!({"scope": "key", "ext": "jpg", "content_type": "text/html"}),
        json!({"scope": "key", "ext": "jpg", "size": u64::MAX}),
        json!({"scope": "prefix", "dir": "../x"}),
        json!({"scope": "prefix", "dir": "/u/999999/"}),
        json!({"scope": "key"}),
    ] {
        seen.push(documented(&doc, "post", cr, app.post_authed(cr, &token, &body).await).await);
    }
    seen.push(
        documented(
            &doc,
            "post",
            cr,
            raw(cr, "application/json", "{").await.unwrap(),
        )
        .await,
    );
    let r = app
        .http
        .post(app.url(cr))
        .json(&json!({"scope": "prefix"}))
        .send()
        .await
        .unwrap();
    seen.push(documented(&doc, "post", cr, r).await);
    seen.push(
        documented(
            &doc,
            "post",
            cr,
            app.post_authed(cr, "nope", &json!({"scope": "prefix"}))
                .await,
        )
        .await,
    );
    let (sts_app, fake) = spawn_sts_app(|_| {}).await;
    fake.fail_always(Some(auth_server::testing::fake_sts::Failure::Error(
        "UnauthorizedOperation".into(),
    )));
    let t = sts_app.token_for(5);
    seen.push(
        documented(
            &doc,
            "post",
            cr,
            sts_app
                .post_authed(cr, &t, &json!({"scope": "prefix"}))
                .await,
        )
        .await,
    );
    for code in [
        "extension_not_allowed",
        "invalid_content_type",
        "too_large",
        "invalid_path",
        "outside_prefix",
        "invalid_input",
        "missing_token",
        "invalid_token",
        "sts_unavailable",
    ] {
        assert!(
            seen.iter().any(|c| c == code),
            "{code} not triggered: {seen:?}"
        );
    }

    // Logins
    let login = shared::routes::LOGIN;
    let mut seen = Vec::new();
    for code in [
        "", "invalid", "used", "blocked", "quota", "busy", "other", "http500",
    ] {
        seen.push(documented(&doc, "post", login, app.login(code).await).await);
    }
    seen.push(
        documented(
            &doc,
            "post",
            login,
            raw(login, "application/json", "{").await.unwrap(),
        )
        .await,
    );
    assert_eq!(seen.len(), 9);
    let dev = shared::routes::DEV_LOGIN;
    for r in [
        app.dev_login("bad user").await,
        raw(dev, "application/json", "[]").await.unwrap(),
    ] {
        assert_eq!(documented(&doc, "post", dev, r).await, "invalid_input");
    }

    let off = spawn_app_with(|c| {
        c.dev_login = false;
        c.wechat.appid = None;
        c.wechat.secret = None;
        c.limits.sign_per_second = 1;
        c.limits.sign_burst = 1;
    })
    .await;
    assert_eq!(
        documented(&doc, "post", dev, off.dev_login("alice").await).await,
        "not_found"
    );
    assert_eq!(
        documented(&doc, "post", login, off.login("test-alice").await).await,
        "login_not_configured"
    );
    let t = off.token_for(3);
    off.v4(Some(&format!("JWT {t}")), None).await;
    for (method, path, r) in [
        ("get", v4, off.v4(Some(&format!("JWT {t}")), None).await),
        (
            "post",
            v5,
            off.post_authed(v5, &t, &json!({"Method": "PUT", "Key": "u/3/a"}))
                .await,
        ),
        ("post", pp, off.post_authed(pp, &t, &json!({})).await),
        (
            "post",
            cr,
            off.post_authed(cr, &t, &json!({"scope": "prefix"})).await,
        ),
    ] {
        assert_eq!(documented(&doc, method, path, r).await, "rate_limited");
    }
    let limited = spawn_app_with(|c| {
        c.limits.login_per_minute = 1;
        c.limits.login_burst = 1;
    })
    .await;
    limited.dev_login("a").await;
    assert_eq!(
        documented(&doc, "post", dev, limited.dev_login("a").await).await,
        "rate_limited"
    );
    assert_eq!(
        documented(&doc, "post", login, limited.login("test-a").await).await,
        "rate_limited"
    );
}
