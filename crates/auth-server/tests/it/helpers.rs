//! `spawn_app()`, a fake WeChat, and token forging helpers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use auth_server::config::{TEST_SECRET_ID, TEST_SECRET_KEY};
use auth_server::{Application, Config};
use cos_sign::Credentials;
use serde_json::{Value, json};

/// A running server with its fake WeChat.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub jwt_secret: String,
    pub config: Config,
    pub handle: actix_web::dev::ServerHandle,
    pub audit: auth_server::db::AuditLog,
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    pub wechat_calls: Arc<AtomicUsize>,
    pub _data: tempfile::TempDir,
}

/// The fake `jscode2session`: `test-<user>` → openid `o-<user>`; other codes
/// produce each error WeChat documents.
async fn jscode2session(
    q: web::Query<std::collections::HashMap<String, String>>,
    calls: web::Data<Arc<AtomicUsize>>,
) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("appid") != "wx-test" || get("secret") != "wx-test-secret" {
        return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    if get("grant_type") != "authorization_code" {
        return HttpResponse::Ok().json(json!({"errcode": 40002, "errmsg": "invalid grant_type"}));
    }
    let code = get("js_code");
    if let Some(user) = code.strip_prefix("test-") {
        return HttpResponse::Ok().json(json!({
            "openid": format!("o-{user}"),
            "session_key": "SESSION-KEY-NEVER-LEAKS",
            "unionid": format!("un-{user}"),
        }));
    }
    match code {
        "busy" => HttpResponse::Ok().json(json!({"errcode": -1, "errmsg": "system error"})),
        "invalid" => HttpResponse::Ok().json(json!({"errcode": 40029, "errmsg": "invalid code"})),
        "used" => HttpResponse::Ok().json(json!({"errcode": "40163", "errmsg": "code been used"})),
        "quota" => HttpResponse::Ok()
            .json(json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})),
        "blocked" => HttpResponse::Ok().json(json!({"errcode": 40226, "errmsg": "code blocked"})),
        "other" => {
            HttpResponse::Ok().json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}))
        }
        "http500" => HttpResponse::InternalServerError().body("oops"),
        "garbage" => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>not json</html>"),
        "no-openid" => HttpResponse::Ok().json(json!({"session_key": "x"})),
        _ => HttpResponse::Ok().json(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}

async fn fake_wechat() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(c.clone()))
            .route("/sns/jscode2session", web::get().to(jscode2session))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), calls)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(data.path());
    let (wechat, calls) = fake_wechat().await;
    config.wechat.api_base = wechat;
    tweak(&mut config);
    let jwt_secret = config.jwt.secret.expose_secret().to_owned();
    let app = Application::build(config.clone()).await.unwrap();
    let base = app.base_url();
    let handle = app.handle();
    let audit = app.audit_log();
    let join = tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        http: reqwest::Client::new(),
        jwt_secret,
        config,
        handle,
        audit,
        join,
        wechat_calls: calls,
        _data: data,
    }
}

pub fn test_creds() -> Credentials {
    Credentials::new(TEST_SECRET_ID, TEST_SECRET_KEY)
}

pub fn now() -> u64 {
    shared::clock::unix_now()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn dev_login(&self, user: &str) -> reqwest::Response {
        self.http
            .post(self.url(shared::routes::DEV_LOGIN))
            .json(&json!({ "user": user }))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns `(token, user_id)`.
    pub async fn token(&self, user: &str) -> (String, u64) {
        let r = self.dev_login(user).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["user_id"].as_str().unwrap().parse().unwrap(),
        )
    }

    pub async fn login(&self, code: &str) -> reqwest::Response {
        self.http
            .post(self.url(shared::routes::LOGIN))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    pub async fn v4(&self, auth: Option<&str>, cos_path: Option<&str>) -> reqwest::Response {
        let mut rb = self.http.get(self.url(shared::routes::V4_SIGN));
        if let Some(p) = cos_path {
            rb = rb.query(&[("cos_path", p)]);
        }
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        rb.send().await.unwrap()
    }

    pub async fn post_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("Authorization", format!("JWT {token}"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A token for any user id, signed with the server's secret (tokens are
    /// stateless, so this is what the server itself would issue).
    pub fn forge(&self, claims: &Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(self.jwt_secret.as_bytes()),
        )
        .unwrap()
    }

    pub fn token_for(&self, user_id: u64) -> String {
        let now = now();
        self.forge(&json!({
            "sub": user_id.to_string(), "iss": "metis-auth", "aud": "metis-upload",
            "iat": now, "exp": now + 600,
        }))
    }

    pub fn db(&self) -> rusqlite::Connection {
        self.audit.flush();
        rusqlite::Connection::open(&self.config.database).unwrap()
    }
}

/// Asserts status and `error_code`, returns the body.
pub async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert!(
        ct.starts_with("application/json"),
        "content-type {ct:?}, body {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error_code"], code, "body: {text}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    v
}
