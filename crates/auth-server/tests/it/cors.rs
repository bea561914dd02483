//! CORS: off by default; with configured origins, browser preflights for the
//! API and the embedded store get exactly the allowed origin, methods and headers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const APP: &str = "https://app.example.com";

async fn cors_app() -> TestApp {
    spawn_app_with(|c| {
        c.cors_allowed_origins = vec![APP.to_owned(), "http://localhost:5173".to_owned()];
    })
    .await
}

async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> reqwest::Response {
    let mut rb = app
        .http
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if !headers.is_empty() {
        rb = rb.header("Access-Control-Request-Headers", headers);
    }
    rb.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
}

fn no_cors_headers(r: &reqwest::Response) {
    for (name, _) in r.headers() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "unexpected {name}: {:?}",
            r.headers()
        );
    }
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_gets_the_cors_headers() {
    let app = cors_app().await;
    let r = preflight(
        &app,
        shared::routes::V5_SIGN,
        APP,
        "POST",
        "authorization,content-type",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    let methods = header(&r, "access-control-allow-methods").unwrap();
    for m in ["get", "head", "put", "post", "delete"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&r, "access-control-allow-headers").unwrap();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(
        r.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    assert_eq!(header(&r, "access-control-max-age").unwrap(), "600");
    // The second configured origin works too, and is echoed (never `*`).
    let r = preflight(
        &app,
        shared::routes::POST_POLICY,
        "http://localhost:5173",
        "POST",
        "content-type",
    )
    .await;
    assert_eq!(
        header(&r, "access-control-allow-origin").unwrap(),
        "http://localhost:5173"
    );

    // The actual request from the page: the sign endpoint answers with the
    // origin allowed and the request id readable.
    let (token, id) = app.token("alice").await;
    let r = app
        .http
        .post(app.url(shared::routes::V5_SIGN))
        .header("Origin", APP)
        .header("Authorization", format!("JWT {token}"))
        .json(&json!({"Method": "PUT", "Key": format!("u/{id}/a.jpg")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    let exposed = header(&r, "access-control-expose-headers").unwrap();
    for h in ["etag", "x-cos-request-id", "location", "x-request-id"] {
        assert!(exposed.contains(h), "{h} not in {exposed}");
    }
    // Errors carry the headers too, so the page can read them.
    let r = app
        .http
        .post(app.url(shared::routes::V5_SIGN))
        .header("Origin", APP)
        .json(&json!({"Method": "PUT", "Key": "u/1/a.jpg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    expect_error(r, 401, "missing_token").await;
}

#[tokio::test]
async fn preflight_for_the_embedded_store_allows_the_cos_sdk_headers() {
    let app = cors_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/web.jpg");
    let r = preflight(
        &app,
        &format!("/{key}"),
        APP,
        "PUT",
        "authorization, content-type, content-md5, x-cos-meta-sha1, x-cos-storage-class",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    let allowed = header(&r, "access-control-allow-headers").unwrap();
    for h in ["content-md5", "x-cos-meta-sha1", "x-cos-storage-class"] {
        assert!(allowed.contains(h), "{h} not in {allowed}");
    }
    // The v4 form POST too.
    let r = preflight(
        &app,
        &format!("/files/v2/1250000000/metis/u/{id}/a.jpg"),
        APP,
        "POST",
        "authorization",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);

    // The upload itself: the page can read ETag and x-cos-request-id.
    let v: Value = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Key": key, "Headers": {"Content-Type": "image/jpeg"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .http
        .put(v["Url"].as_str().unwrap())
        .header("Origin", APP)
        .header("Authorization", v["Authorization"].as_str().unwrap())
        .header("Content-Type", "image/jpeg")
        .body("jpeg")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    assert!(r.headers().contains_key("etag"));
    assert!(
        header(&r, "access-control-expose-headers")
            .unwrap()
            .contains("etag")
    );
}

#[tokio::test]
async fn a_preflight_asking_for_another_header_gets_no_cors_headers() {
    let app = cors_app().await;
    for headers in ["authorization, cookie", "x-forwarded-for", "x-cos-"] {
        let r = preflight(&app, shared::routes::V5_SIGN, APP, "POST", headers).await;
        no_cors_headers(&r);
        expect_error(r, 400, "cors_refused").await;
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let app = cors_app().await;
    for origin in [
        "https://evil.example.com",
        "https://app.example.com.evil.example",
        "http://app.example.com",
        "null",
    ] {
        let r = preflight(
            &app,
            shared::routes::V5_SIGN,
            origin,
            "POST",
            "authorization",
        )
        .await;
        assert!(r.status().is_client_error(), "{origin}: {}", r.status());
        no_cors_headers(&r);
        let r = preflight(&app, "/u/1/a.jpg", origin, "PUT", "").await;
        no_cors_headers(&r);
        // A simple request from it is served (non-browser clients), without CORS headers.
        let r = app
            .http
            .get(app.url(shared::routes::HEALTHZ))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        no_cors_headers(&r);
    }
}

#[tokio::test]
async fn the_default_config_sends_no_cors_headers() {
    let app = spawn_app().await;
    assert!(app.config.cors_allowed_origins.is_empty());
    let r = preflight(&app, shared::routes::V5_SIGN, APP, "POST", "authorization").await;
    no_cors_headers(&r);
    // Without CORS the API keeps answering OPTIONS with its JSON 405.
    expect_error(r, 405, "method_not_allowed").await;
    let r = preflight(&app, "/u/1/a.jpg", APP, "PUT", "authorization").await;
    no_cors_headers(&r);
    let (token, _) = app.token("alice").await;
    let r = app
        .http
        .get(app.url(shared::routes::V4_SIGN))
        .header("Origin", APP)
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    no_cors_headers(&r);
    assert!(r.headers().get("vary").is_none());
}

#[tokio::test]
async fn the_browser_sdk_with_temporary_credentials_passes_preflight_and_reads_its_headers() {
    let app = cors_app().await;
    let (token, id) = app.token("alice").await;
    // The credentials endpoint, called from the page.
    let r = preflight(
        &app,
        shared::routes::CREDENTIALS,
        APP,
        "POST",
        "authorization,content-type",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    // What cos-js-sdk-v5 asks for before its requests (PUT with a typed
    // Blob, Initiate, UploadPart, Complete, a retried request, a ranged GET).
    for (method, headers) in [
        (
            "PUT",
            "authorization,cache-control,content-type,x-cos-security-token",
        ),
        (
            "POST",
            "authorization,cache-control,content-type,x-cos-security-token",
        ),
        ("PUT", "authorization,x-cos-security-token"),
        (
            "POST",
            "authorization,content-md5,content-type,x-cos-security-token",
        ),
        (
            "PUT",
            "authorization,content-md5,x-cos-sdk-retry,x-cos-security-token,x-cos-meta-sha1",
        ),
        ("GET", "authorization,range,x-cos-security-token"),
    ] {
        let r = preflight(&app, &format!("/u/{id}/a.jpg"), APP, method, headers).await;
        assert_eq!(r.status(), 200, "{method} {headers}");
        let allowed = header(&r, "access-control-allow-headers").unwrap();
        for h in headers.split(',') {
            assert!(allowed.contains(h), "{h} not in {allowed}");
        }
    }
    // A download: the page reads the headers the SDK reads, x-cos-meta-* included.
    let key = format!("u/{id}/a.txt");
    let v: Value = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Key": key,
                    "Headers": {"Content-Type": "text/plain", "x-cos-meta-note": "hi"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .http
        .put(v["Url"].as_str().unwrap())
        .header("Authorization", v["Authorization"].as_str().unwrap())
        .header("Content-Type", "text/plain")
        .header("x-cos-meta-note", "hi")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .get(v["Url"].as_str().unwrap())
        .header("Origin", APP)
        .header("Range", "bytes=0-1")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin").unwrap(), APP);
    let exposed = header(&r, "access-control-expose-headers").unwrap();
    let names: Vec<&str> = exposed.split(',').map(str::trim).collect();
    for h in [
        "*",
        "etag",
        "content-length",
        "content-range",
        "content-disposition",
        "cache-control",
        "date",
        "x-cos-version-id",
        "x-cos-request-id",
        "x-request-id",
    ] {
        assert!(names.contains(&h), "{h} not in {exposed}");
    }
    assert!(
        r.headers().contains_key("x-cos-meta-note"),
        "{:?}",
        r.headers()
    );
}
