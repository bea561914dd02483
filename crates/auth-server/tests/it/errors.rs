//! 404, 405 and malformed input are JSON errors too.

use crate::helpers::*;

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/v1/nope")).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
    let r = app
        .http
        .delete(app.url(shared::routes::V4_SIGN))
        .send()
        .await
        .unwrap();
    expect_error(r, 405, "method_not_allowed").await;
    let r = app
        .http
        .get(app.url(shared::routes::LOGIN))
        .send()
        .await
        .unwrap();
    expect_error(r, 405, "method_not_allowed").await;
    let r = app
        .http
        .post(app.url(shared::routes::HEALTHZ))
        .send()
        .await
        .unwrap();
    expect_error(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn unknown_routes_are_json_404_without_the_embedded_store() {
    // Real-COS mode: no store mounted, so every unknown path is a JSON 404.
    let app = spawn_app_with(|c| {
        c.cos = Some(auth_server::config::CosConfig {
            appid: "1250000000".into(),
            bucket: "metis".into(),
            region: "ap-shanghai".into(),
            credentials: test_creds(),
            v4_endpoint: "https://sh.file.myqcloud.com".into(),
            v5_endpoint: "https://metis-1250000000.cos.ap-shanghai.myqcloud.com".into(),
        });
    })
    .await;
    let r = app
        .http
        .get(app.url("/anything/else"))
        .send()
        .await
        .unwrap();
    expect_error(r, 404, "not_found").await;
    let (token, id) = app.token("alice").await;
    let v: serde_json::Value = app
        .v4(Some(&format!("JWT {token}")), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["upload_url"],
        format!("https://sh.file.myqcloud.com/files/v2/1250000000/metis/u/{id}/")
    );
    let v: serde_json::Value = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &serde_json::json!({"Method": "PUT", "Key": format!("u/{id}/a.jpg")}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["Url"],
        format!("https://metis-1250000000.cos.ap-shanghai.myqcloud.com/u/{id}/a.jpg")
    );
}

#[tokio::test]
async fn malformed_bodies_and_queries_are_400() {
    let app = spawn_app().await;
    let token = app.token_for(1);
    let send = |path: &str, ct: &str, body: &'static str| {
        app.http
            .post(app.url(path))
            .header("Authorization", format!("JWT {token}"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    for path in [
        shared::routes::V5_SIGN,
        shared::routes::POST_POLICY,
        shared::routes::LOGIN,
        shared::routes::DEV_LOGIN,
    ] {
        expect_error(
            send(path, "application/json", "{not json").await.unwrap(),
            400,
            "invalid_input",
        )
        .await;
        expect_error(
            send(path, "text/plain", "{}").await.unwrap(),
            400,
            "invalid_input",
        )
        .await;
    }
    let big = "x".repeat(100 * 1024);
    let r = app
        .http
        .post(app.url(shared::routes::V5_SIGN))
        .header("Authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(format!("{{\"Method\":\"PUT\",\"Key\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_input").await;
    // A repeated or non-UTF-8 query parameter.
    let r = app
        .http
        .get(format!(
            "{}?cos_path=/u/1/&cos_path=/u/2/",
            app.url(shared::routes::V4_SIGN)
        ))
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_input").await;
    let r = app
        .http
        .get(format!(
            "{}?cos_path=/u/1/%FF",
            app.url(shared::routes::V4_SIGN)
        ))
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_input").await;
}
