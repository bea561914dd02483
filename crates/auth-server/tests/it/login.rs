//! Code login through the fake WeChat, dev login, and their error paths.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn code_login_upserts_the_user_and_never_leaks_session_key() {
    let app = spawn_app().await;
    let r = app.login("test-alice").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains("SESSION-KEY"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["token_type"], "JWT");
    assert_eq!(v["expires_in"], 7200);
    let id = v["user_id"].as_str().unwrap().to_owned();
    assert_eq!(v["upload_prefix"], format!("/u/{id}/"));

    // The same openid is the same user; another openid is another user.
    let again: Value = app.login("test-alice").await.json().await.unwrap();
    assert_eq!(again["user_id"], v["user_id"]);
    let bob: Value = app.login("test-bob").await.json().await.unwrap();
    assert_ne!(bob["user_id"], v["user_id"]);

    // The token works on the signing endpoint.
    let token = v["access_token"].as_str().unwrap();
    let r = app.v4(Some(&format!("JWT {token}")), None).await;
    assert_eq!(r.status(), 200);

    // Persisted: openid and unionid, no session key anywhere in the database.
    let users: Vec<(i64, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, provider, subject, unionid FROM users ORDER BY id")
            .fetch_all(app.db().await.pool())
            .await
            .unwrap();
    let alice = users.iter().find(|u| u.0.to_string() == id).unwrap();
    assert_eq!(alice.2, "o-alice");
    assert_eq!(alice.3.as_deref(), Some("un-alice"));
    let dump = format!("{users:?}");
    assert!(!dump.contains("SESSION"));
}

#[tokio::test]
async fn wechat_errors_map_to_documented_statuses() {
    let app = spawn_app().await;
    let cases = [
        ("busy", 502, "wechat_busy"),
        ("invalid", 401, "invalid_code"),
        ("used", 401, "code_used"),
        ("quota", 429, "wechat_rate_limited"),
        ("blocked", 403, "user_blocked"),
        ("other", 502, "wechat_error"),
        ("http500", 502, "wechat_unavailable"),
        ("garbage", 502, "wechat_unavailable"),
        ("no-openid", 502, "wechat_unavailable"),
    ];
    for (code, status, error) in cases {
        let r = app.login(code).await;
        if status == 429 {
            assert_eq!(r.headers()["retry-after"], "60");
        }
        if status == 401 {
            // A bad WeChat code is not a token problem: no bearer challenge.
            assert!(!r.headers().contains_key("www-authenticate"));
        }
        if error == "wechat_busy" {
            assert!(r.headers().contains_key("retry-after"));
        }
        expect_error(r, status, error).await;
    }
    assert_eq!(
        app.wechat_calls.load(std::sync::atomic::Ordering::SeqCst),
        cases.len()
    );
}

#[tokio::test]
async fn unreachable_wechat_is_502_and_bad_codes_are_400_without_a_call() {
    let app = spawn_app_with(|c| c.wechat.api_base = "http://127.0.0.1:9".into()).await;
    expect_error(app.login("test-x").await, 502, "wechat_unavailable").await;
    for bad in ["", "a b", "x\u{7f}", &"a".repeat(300)] {
        expect_error(app.login(bad).await, 400, "invalid_input").await;
    }
    let r = app
        .http
        .post(app.url(shared::routes::LOGIN))
        .header("content-type", "application/json")
        .body("{\"code\": 5}")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_input").await;
}

#[tokio::test]
async fn wrong_wechat_secret_is_a_gateway_error_not_a_client_error() {
    let app = spawn_app_with(|c| c.wechat.secret = Some(cos_sign::SecretKey::new("wrong"))).await;
    expect_error(app.login("test-alice").await, 502, "wechat_error").await;
}

#[tokio::test]
async fn login_without_wechat_config_is_503() {
    let app = spawn_app_with(|c| {
        c.wechat.appid = None;
        c.wechat.secret = None;
    })
    .await;
    expect_error(app.login("test-alice").await, 503, "login_not_configured").await;
}

#[tokio::test]
async fn dev_login_validates_names_and_is_stable() {
    let app = spawn_app().await;
    let (_, a) = app.token("alice").await;
    let (_, a2) = app.token("alice").await;
    let (_, b) = app.token("bob.smith_2-x").await;
    assert_eq!(a, a2);
    assert_ne!(a, b);
    // Empty and blank names included: the answer is the input error, naming
    // the allowed pattern, not a refusal that sends the user looking elsewhere.
    for bad in [
        "",
        " ",
        "  ",
        "\t",
        " alice",
        "alice ",
        "a b",
        "a/b",
        "ä",
        &"a".repeat(65),
        "../x",
    ] {
        let v = expect_error(app.dev_login(bad).await, 400, "invalid_input").await;
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("user") && message.contains("[A-Za-z0-9_.-]"),
            "{bad:?}: {v}"
        );
    }
}

#[tokio::test]
async fn dev_login_disabled_is_404() {
    let app = spawn_app_with(|c| c.dev_login = false).await;
    expect_error(app.dev_login("alice").await, 404, "not_found").await;
    // Code login still works.
    assert_eq!(app.login("test-alice").await.status(), 200);
}

#[tokio::test]
async fn login_rate_limit_per_ip_is_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.limits.login_per_minute = 1;
        c.limits.login_burst = 2;
    })
    .await;
    assert_eq!(app.dev_login("a").await.status(), 200);
    assert_eq!(app.login("test-a").await.status(), 200);
    let r = app.dev_login("a").await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    expect_error(r, 429, "rate_limited").await;
    // Refused before WeChat is called.
    expect_error(app.login("test-a").await, 429, "rate_limited").await;
    assert_eq!(
        app.wechat_calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}
