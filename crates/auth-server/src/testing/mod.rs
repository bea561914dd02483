//! The test harness every suite uses (feature `test-support`; never in a
//! deployed build): [`spawn_app`] starts the real server in-process on
//! `127.0.0.1:0` with [`Config::for_tests`] (embedded store, dev login on) in a
//! fresh data directory, and WeChat pointed at a fake ([`fake_wechat`]).
//! [`fake_sts`] stands in for Tencent STS in tests of the real-COS mode.
//! Suites keep their own request helpers on top of [`TestApp`]; a test that
//! needs its own SQLite or PostgreSQL database gets one from [`database`].
// Test support: a harness that cannot start should fail the test loudly.
#![allow(clippy::expect_used)]

pub mod database;
pub mod fake_sts;
pub mod fake_wechat;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use cos_sign::Credentials;

use crate::db::AuditLog;
use crate::{Application, Config};

/// A running server and what tests need to know about it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The port.
    pub port: u16,
    /// Data directory (database, embedded store, dev secrets); removed on drop.
    pub dir: tempfile::TempDir,
    /// A shared HTTP client.
    pub http: reqwest::Client,
    /// The configuration the server was built from.
    pub config: Config,
    /// The server's JWT secret (to forge correctly signed tokens with bad claims).
    pub jwt_secret: String,
    /// The APPID signatures are issued for (the embedded store's, unless the
    /// configuration names a COS account).
    pub appid: String,
    /// The bucket (short name) signatures are issued for.
    pub bucket: String,
    /// The key pair the server signs with.
    pub creds: Credentials,
    /// The embedded store (`None` when the configuration names a COS account).
    pub store: Option<cos_local::Store>,
    /// Stops the server.
    pub handle: ServerHandle,
    /// The audit queue ([`AuditLog::flush`] before reading the database).
    pub audit: AuditLog,
    /// The server task; it ends once the server stopped and the audit queue is written.
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Base URL of the fake WeChat (`config.wechat.api_base` unless a test changed it).
    pub wechat_url: String,
    /// Requests the fake WeChat has answered.
    pub wechat_calls: Arc<AtomicUsize>,
}

/// Starts the server with [`Config::for_tests`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with a chance to change the configuration first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(dir.path());
    let (wechat_url, wechat_calls) = fake_wechat::start();
    config.wechat.api_base = wechat_url.clone();
    tweak(&mut config);
    let jwt_secret = config.jwt.secret.expose_secret().to_owned();
    let (appid, bucket, creds) = match &config.cos {
        Some(cos) => (
            cos.appid.clone(),
            cos.bucket.clone(),
            cos.credentials.clone(),
        ),
        None => (
            config.embedded.appid.clone(),
            config.embedded.bucket.clone(),
            config
                .embedded
                .credentials
                .clone()
                .expect("for_tests sets store credentials"),
        ),
    };
    let app = Application::build(config.clone())
        .await
        .expect("server starts");
    let port = app.port();
    let base_url = app.base_url();
    let handle = app.handle();
    let audit = app.audit_log();
    let store = app.store();
    let join = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    TestApp {
        base_url,
        port,
        dir,
        http,
        config,
        jwt_secret,
        appid,
        bucket,
        creds,
        store,
        handle,
        audit,
        join,
        wechat_url,
        wechat_calls,
    }
}
