//! This suite's helpers on the shared harness ([`auth_server::testing`]): one
//! request helper per endpoint, token forging, and the error-body check.

use auth_server::Config;
use auth_server::config::{CosConfig, StsScheme, TEST_SECRET_ID, TEST_SECRET_KEY};
use auth_server::db::Db;
use auth_server::testing::fake_sts::FakeSts;
pub use auth_server::testing::{TestApp, spawn_app, spawn_app_with};
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, SecretKey};
use serde_json::{Value, json};

pub fn test_creds() -> Credentials {
    Credentials::new(TEST_SECRET_ID, TEST_SECRET_KEY)
}

pub fn now() -> u64 {
    shared::clock::unix_now()
}

/// The token key the fake STS mints with (and a store checking its tokens holds).
pub fn sts_token_key() -> TokenKey {
    TokenKey::new(SecretKey::new("fake-sts-token-key-0123456789abcdef")).unwrap()
}

/// The bucket of [`spawn_sts_app`] as Tencent names its v5 endpoint.
pub const COS_V5_ENDPOINT: &str = "https://metis-1250000000.cos.ap-guangzhou.myqcloud.com";

/// The server in real-COS mode (the test credentials, region `ap-guangzhou`)
/// with Tencent STS played by a [`FakeSts`] that accepts those credentials.
pub async fn spawn_sts_app(tweak: impl FnOnce(&mut Config)) -> (TestApp, FakeSts) {
    let fake = FakeSts::start(test_creds(), sts_token_key());
    let host = fake.host.clone();
    let app = spawn_app_with(|c| {
        c.cos = Some(CosConfig {
            appid: "1250000000".into(),
            bucket: "metis".into(),
            region: "ap-guangzhou".into(),
            credentials: test_creds(),
            v4_endpoint: "https://gz.file.myqcloud.com".into(),
            v5_endpoint: COS_V5_ENDPOINT.into(),
        });
        c.sts.token_key = None;
        c.sts.endpoint = host;
        c.sts.scheme = StsScheme::Http;
        tweak(c);
    })
    .await;
    (app, fake)
}

/// Requests and tokens against the app under test.
pub trait Api {
    fn url(&self, path: &str) -> String;
    async fn dev_login(&self, user: &str) -> reqwest::Response;
    /// Logs in and returns `(token, user_id)`.
    async fn token(&self, user: &str) -> (String, u64);
    async fn login(&self, code: &str) -> reqwest::Response;
    async fn v4(&self, auth: Option<&str>, cos_path: Option<&str>) -> reqwest::Response;
    async fn post_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response;
    /// `POST /v1/cos/credentials`.
    async fn credentials(&self, token: &str, body: &Value) -> reqwest::Response;
    /// Asserts that `GET /metrics` has each of `lines`.
    async fn assert_metrics(&self, lines: &[&str]);
    /// Rows of the audit table (signatures and credentials issued).
    async fn issued_count(&self) -> u64;
    /// A token for any user id, signed with the server's secret (tokens are
    /// stateless, so this is what the server itself would issue).
    fn forge(&self, claims: &Value) -> String;
    fn token_for(&self, user_id: u64) -> String;
    /// The server's database, once every queued audit record is written.
    async fn db(&self) -> Db;
}

impl Api for TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn dev_login(&self, user: &str) -> reqwest::Response {
        self.http
            .post(self.url(shared::routes::DEV_LOGIN))
            .json(&json!({ "user": user }))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, user: &str) -> (String, u64) {
        let r = self.dev_login(user).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["user_id"].as_str().unwrap().parse().unwrap(),
        )
    }

    async fn login(&self, code: &str) -> reqwest::Response {
        self.http
            .post(self.url(shared::routes::LOGIN))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    async fn v4(&self, auth: Option<&str>, cos_path: Option<&str>) -> reqwest::Response {
        let mut rb = self.http.get(self.url(shared::routes::V4_SIGN));
        if let Some(p) = cos_path {
            rb = rb.query(&[("cos_path", p)]);
        }
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        rb.send().await.unwrap()
    }

    async fn post_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("Authorization", format!("JWT {token}"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn credentials(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_authed(shared::routes::CREDENTIALS, token, body)
            .await
    }

    async fn assert_metrics(&self, lines: &[&str]) {
        let text = self
            .http
            .get(self.url(shared::routes::METRICS))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in lines {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    async fn issued_count(&self) -> u64 {
        auth_server::db::audit::count(&self.db().await)
            .await
            .unwrap()
    }

    fn forge(&self, claims: &Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(self.jwt_secret.as_bytes()),
        )
        .unwrap()
    }

    fn token_for(&self, user_id: u64) -> String {
        let now = now();
        self.forge(&json!({
            "sub": user_id.to_string(), "iss": "metis-auth", "aud": "metis-upload",
            "iat": now, "exp": now + 600,
        }))
    }

    async fn db(&self) -> Db {
        self.audit.flush();
        Db::connect(&self.config.database).await.unwrap()
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
