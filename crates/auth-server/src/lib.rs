//! The auth server the mini-program (and the `cos-upload` CLI) talks to: it logs
//! users in with WeChat, issues JWTs, and signs COS uploads into each user's own
//! prefix `/u/<user_id>/`. It never hands out the COS secret.
//!
//! # Endpoints
//! | Route | Auth | Purpose |
//! |---|---|---|
//! | `POST /v1/auth/login` `{code}` | – | `jscode2session`, upsert the user, 200 [`TokenResponse`](shared::wire::TokenResponse) |
//! | `POST /v1/auth/dev-login` `{user}` | – | token for a named user; 404 `not_found` when dev login is off |
//! | `GET /v1/qc_cos/config?cos_path=<dir>` | JWT | v4 multi-effect signature bound to `<dir>` (default: the caller's prefix) |
//! | `POST /v1/cos/v5/sign` | JWT | v5 `Authorization` for one request (the SDKs' `getAuthorization` options) |
//! | `POST /v1/cos/v5/post-policy` | JWT | signed POST Object form |
//! | `GET /healthz`, `/metrics`, `/openapi.json` | – | liveness, Prometheus text, OpenAPI 3 |
//!
//! Tokens are sent as `Authorization: JWT <token>` or `Bearer <token>` (exactly
//! one space, case-sensitive scheme). Every error is JSON `{error_code, message}`:
//! 400 bad input (`invalid_input`, `invalid_path`, `invalid_key`, …), 401
//! (`missing_token`, `invalid_token`, `token_expired`, `invalid_code`,
//! `code_used`; with `WWW-Authenticate`), 403 (`outside_prefix`,
//! `user_blocked`), 404 `not_found`, 405 `method_not_allowed`, 429
//! (`rate_limited`, `wechat_rate_limited`; with `Retry-After`), 500
//! `internal_error` (cause logged, not shown), 502 (`wechat_busy`,
//! `wechat_error`, `wechat_unavailable`), 503 `login_not_configured`.
//!
//! # CORS
//! Off by default (no CORS headers at all). With `server.cors_allowed_origins`
//! set, those origins (and only those, echoed, never `*`, no credentials) may
//! call the API and, in embedded mode, the store cross-origin: methods GET,
//! HEAD, PUT, POST, DELETE; request headers `Authorization`, `Content-Type`,
//! `Content-MD5`, the other standard object headers and any `x-cos-*`
//! (a preflight asking for another header gets 400 `cors_refused`); `ETag`,
//! `Content-Length`, `Location`, `x-cos-request-id` and `x-request-id` are
//! exposed. See [`cors`].
//!
//! # Paths
//! A client-chosen `cos_path`/key/prefix must be a valid [`shared::DirPath`] or
//! [`shared::ObjectKey`] (400 with the validator's reason otherwise) and lie
//! inside `/u/<id>/` by whole segments (403 `outside_prefix` otherwise). It is
//! never rewritten.
//!
//! # Configuration
//! [`Config::from_env`] reads an optional TOML file (`--config`, see
//! `config.example.toml`) and then these environment variables, which win:
//!
//! | Variable | File key | Default |
//! |---|---|---|
//! | `AUTH_BIND` | `server.bind` | `127.0.0.1:8080` |
//! | `AUTH_PUBLIC_URL` | `server.public_url` | `http://<bind>` |
//! | `AUTH_DATA_DIR` | `server.data_dir` | `data` |
//! | `AUTH_DATABASE` | `server.database` | `<data_dir>/auth.sqlite3` |
//! | `AUTH_WORKERS` | `server.workers` | number of cores |
//! | `AUTH_TRUST_FORWARDED_FOR` | `server.trust_forwarded_for` | `false` |
//! | `AUTH_AUDIT_QUEUE` | `server.audit_queue` | `65536` |
//! | `AUTH_CORS_ALLOWED_ORIGINS` | `server.cors_allowed_origins` | none (no CORS) |
//! | `AUTH_JWT_SECRET` | `jwt.secret` | required (≥ 32 bytes) unless embedded |
//! | `AUTH_JWT_ISSUER` / `AUTH_JWT_AUDIENCE` | `jwt.issuer` / `jwt.audience` | `metis-auth` / `metis-upload` |
//! | `AUTH_JWT_TTL_SECS` / `AUTH_JWT_LEEWAY_SECS` | `jwt.ttl_secs` / `jwt.leeway_secs` | `7200` / `30` |
//! | `AUTH_COS_APPID` / `AUTH_COS_BUCKET` | `cos.appid` / `cos.bucket` | `1250000000` / `metis` |
//! | `AUTH_COS_REGION` | `cos.region` | required with credentials |
//! | `AUTH_COS_SECRET_ID` / `AUTH_COS_SECRET_KEY` | `cos.secret_id` / `cos.secret_key` | none = embedded store |
//! | `AUTH_COS_V4_ENDPOINT` / `AUTH_COS_V5_ENDPOINT` | `cos.v4_endpoint` / `cos.v5_endpoint` | from region |
//! | `AUTH_WECHAT_APPID` / `AUTH_WECHAT_SECRET` | `wechat.appid` / `wechat.secret` | none (code login answers 503) |
//! | `AUTH_WECHAT_API_BASE` / `AUTH_WECHAT_TIMEOUT_SECS` | `wechat.api_base` / `wechat.timeout_secs` | `https://api.weixin.qq.com` / `5` |
//! | `AUTH_DEV_LOGIN` | `signing.dev_login` | `false` (always on when embedded) |
//! | `AUTH_SIGN_TTL_SECS` | `signing.ttl_secs` | `3600` (max 86400) |
//! | `AUTH_MAX_UPLOAD_SIZE` | `signing.max_upload_size` | 1 GiB |
//! | `AUTH_V5_METHODS` | `signing.v5_methods` | `PUT,POST,GET,HEAD,DELETE` |
//! | `AUTH_LOGIN_PER_MINUTE` / `AUTH_LOGIN_BURST` | `limits.*` | `30` / `10` per IP (0 = off) |
//! | `AUTH_SIGN_PER_SECOND` / `AUTH_SIGN_BURST` | `limits.*` | `20` / `100` per user (0 = off) |
//! | `AUTH_STORE_FAULT_*` (`SEED`, `ERROR_RATE`, `DROP_RATE`, `LOST_REPLY_RATE`, `LATENCY_MS`, `LATENCY_RATE`) | `store.fault_*` | off |
//! | `AUTH_PRINT_BANNER` | `store.print_banner` | `true` |
//! | `AUTH_STORE_ALLOW_REMOTE` | `store.allow_remote` | `false` (embedded mode only on loopback) |
//!
//! # Embedded mode
//! Without COS credentials the server opens a [`cos_local::Store`] in
//! `<data_dir>/store` with credentials generated once and kept (with a
//! generated JWT secret) in `<data_dir>/dev-secrets.toml` (mode 0600), mounts it
//! on the same port after its own routes (so the v4 endpoint is
//! `<public_url>/files/v2/...` and the v5 bucket endpoint is `<public_url>`),
//! turns dev login on and prints how to upload. The store's v5 API answers
//! every path the server does not own, so unknown paths outside `/v1/` get the
//! store's XML errors instead of a JSON 404 in this mode.
//!
//! Since anyone who reaches an embedded server can log in as any user, it
//! refuses to start on a non-loopback bind address (e.g. `0.0.0.0`) unless
//! `store.allow_remote = true` (`AUTH_STORE_ALLOW_REMOTE=true`) opts in, e.g.
//! to test from a phone on the LAN. Dev login enabled together with real COS
//! credentials is allowed but logged as a warning at startup.
//!
//! # Persistence
//! SQLite: `users (id, provider, subject, unionid, …)` — the id is the JWT `sub`
//! — and `signatures (user_id, kind, target, expires_at, ip, issued_at)`, written
//! by one thread in batches from a bounded queue (full queue: the record is
//! dropped and counted in `/metrics`); the queue is flushed at shutdown.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
pub mod cors;
pub mod db;
pub mod error;
pub mod jwt;
pub mod limits;
pub mod metrics;
pub mod state;
pub mod wechat;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle, Service as _, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Condition, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpMessage as _, HttpServer, ResponseError as _, web};
use futures_util::TryFutureExt as _;
use futures_util::future::{Either, ready};
use utoipa::OpenApi as _;

pub use config::{Config, ConfigError};

use crate::auth::LoggedUser;
use crate::config::CosConfig;
use crate::db::{AuditLog, AuditWriter};
use crate::error::{AppError, ErrorCode};
use crate::metrics::Metrics;
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The embedded store could not be opened.
    #[error("embedded store: {0}")]
    Store(#[from] cos_local::StoreError),
    /// Binding or starting the HTTP server failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP client for WeChat could not be built.
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
    /// The embedded store needs credentials (generated by `Config::from_env`).
    #[error("embedded mode needs store credentials")]
    NoStoreCredentials,
    /// The configuration is refused (e.g. embedded mode on a non-loopback address).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The OpenAPI document could not be rendered.
    #[error("cannot render the OpenAPI document: {0}")]
    OpenApi(#[source] serde_json::Error),
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    base_url: String,
    server: Server,
    audit: AuditLog,
    writer: AuditWriter,
    state: web::Data<AppState>,
    store: Option<cos_local::Store>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

fn request_id(incoming: Option<&HeaderValue>) -> HeaderValue {
    if let Some(v) = incoming
        && v.len() <= 64
        && v.as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !v.is_empty()
    {
        return v.clone();
    }
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{:08x}-{n}", process_tag()))
        .unwrap_or(HeaderValue::from_static("0"))
}

fn process_tag() -> u32 {
    static TAG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TAG.get_or_init(rand::random)
}

/// Renders any non-JSON error response of our own routes (extractor errors,
/// payload limits) as `{error_code, message}`.
fn json_errors<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = res
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let (req, _) = res.into_parts();
    let resp =
        AppError::with_status(status, ErrorCode::for_status(status), message).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp).map_into_right_body(),
    ))
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| {
            AppError::new(ErrorCode::InvalidInput, format!("invalid JSON body: {err}")).into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::new(ErrorCode::InvalidInput, format!("invalid query: {err}")).into()
    })
}

/// Mounts the server's own routes (everything but the embedded store).
fn routes(cfg: &mut web::ServiceConfig) {
    use crate::api::*;
    let one = |path: &str, route: actix_web::Route| {
        web::resource(path)
            .route(route)
            .default_service(web::to(method_not_allowed))
    };
    cfg.service(
        web::scope("/v1")
            .wrap(ErrorHandlers::new().default_handler(json_errors))
            .service(one("/auth/login", web::post().to(login)))
            .service(one("/auth/dev-login", web::post().to(dev_login)))
            .service(one("/qc_cos/config", web::get().to(v4_sign)))
            .service(one("/cos/v5/sign", web::post().to(v5_sign)))
            .service(one("/cos/v5/post-policy", web::post().to(post_policy)))
            .default_service(web::to(not_found)),
    )
    .service(one(shared::routes::HEALTHZ, web::get().to(healthz)))
    .service(one(shared::routes::METRICS, web::get().to(metrics)))
    .service(one(shared::routes::OPENAPI, web::get().to(openapi)));
}

impl Application {
    /// Opens the database (and the embedded store), binds the listener and
    /// builds the server. Nothing is served until [`Application::run_until_stopped`].
    pub async fn build(config: Config) -> Result<Application, StartError> {
        // The fields are public: check again what `Config::from_env` checked.
        config.check_exposure()?;
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }
        let openapi_json = api::ApiDoc::openapi().to_json().map_err(|e| {
            tracing::error!(error = %e, "cannot render the OpenAPI document");
            StartError::OpenApi(e)
        })?;
        let metrics = Arc::new(Metrics::default());
        let users = db::Users::new(db::open(&config.database)?);
        let (audit, writer) = db::start_audit(
            db::open(&config.database)?,
            config.audit_queue,
            metrics.clone(),
        );
        let listener = TcpListener::bind(config.bind).map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        let port = local.port();
        let host_ip = if local.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else if local.is_ipv6() {
            format!("[{}]", local.ip())
        } else {
            local.ip().to_string()
        };
        let base_url = format!("http://{host_ip}:{port}");
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.clone());

        let (cos, store) = match &config.cos {
            Some(cos) => (cos.clone(), None),
            None => {
                let creds = config
                    .embedded
                    .credentials
                    .clone()
                    .ok_or(StartError::NoStoreCredentials)?;
                let mut sc = cos_local::StoreConfig::new(
                    config.data_dir.join("store"),
                    config.embedded.appid.clone(),
                    config.embedded.bucket.clone(),
                    vec![creds.clone()],
                );
                sc.public_url = Some(public_url.clone());
                let f = &config.embedded.faults;
                let mut faults = cos_local::FaultConfig::seeded(f.seed);
                faults.error_rate = f.error_rate;
                faults.drop_rate = f.drop_rate;
                faults.lost_reply_rate = f.lost_reply_rate;
                faults.latency = f.latency;
                faults.latency_rate = f.latency_rate;
                sc.faults = faults;
                let store = cos_local::Store::open(sc)?;
                (
                    CosConfig {
                        appid: config.embedded.appid.clone(),
                        bucket: config.embedded.bucket.clone(),
                        region: "local".into(),
                        credentials: creds,
                        v4_endpoint: public_url.clone(),
                        v5_endpoint: public_url.clone(),
                    },
                    Some(store),
                )
            }
        };

        let state = web::Data::new(AppState {
            jwt: jwt::JwtKeys::new(&config.jwt),
            users,
            audit: audit.clone(),
            metrics: metrics.clone(),
            limits: limits::Limits::new(&config.limits),
            wechat: wechat::Client::new(config.wechat.clone())?,
            v5_host: api::host_of(&cos.v5_endpoint),
            bucket_full: cos.bucket_full(),
            cos,
            dev_login: config.dev_login,
            sign_ttl_secs: config.sign_ttl_secs,
            max_upload_size: config.max_upload_size,
            v5_methods: config.v5_methods.clone(),
            trust_forwarded_for: config.trust_forwarded_for,
            openapi_json,
        });

        let app_state = state.clone();
        let store_for_app = store.clone();
        let store_handle = store.clone();
        let origins = config.cors_allowed_origins.clone();
        let mut server = HttpServer::new(move || {
            let metrics = app_state.metrics.clone();
            let store = store_for_app.clone();
            let cors_on = !origins.is_empty();
            App::new()
                .app_data(app_state.clone())
                .app_data(json_config())
                .app_data(query_config())
                .wrap(Condition::new(cors_on, cors::middleware(&origins)))
                .wrap_fn(move |req, srv| {
                    // A preflight asking for a header outside the allow-list is
                    // refused here, without CORS headers: actix-cors (which then
                    // echoes the requested headers) cannot match `x-cos-*`.
                    if cors_on && let Some(why) = cors::refused_preflight(&req) {
                        let res = req.error_response(AppError::new(ErrorCode::CorsRefused, why));
                        return Either::Left(ready(Ok(res.map_into_right_body())));
                    }
                    Either::Right(srv.call(req).map_ok(|mut res| {
                        cors::strip_unless_allowed(res.headers_mut());
                        res.map_into_left_body()
                    }))
                })
                .wrap_fn(move |req, srv| {
                    let started = Instant::now();
                    let rid = request_id(req.headers().get("x-request-id"));
                    let method = req.method().clone();
                    let path = req.path().to_owned();
                    let metrics = metrics.clone();
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        let status = res.status().as_u16();
                        metrics.response(status);
                        let user = res.request().extensions().get::<LoggedUser>().map(|u| u.0);
                        tracing::info!(
                            request_id = %rid.to_str().unwrap_or(""),
                            %method,
                            path = %path,
                            status,
                            user_id = user,
                            elapsed_us = started.elapsed().as_micros() as u64,
                            "request"
                        );
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), rid);
                        Ok::<_, actix_web::Error>(res)
                    }
                })
                .configure(routes)
                .configure(move |cfg| match &store {
                    // The store goes last: its v5 default service answers the rest.
                    Some(store) => cos_local::configure(store.clone())(cfg),
                    None => {
                        cfg.default_service(web::to(api::not_found));
                    }
                })
        })
        .shutdown_timeout(10);
        if let Some(n) = config.workers {
            server = server.workers(n);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?
            .run();

        if store.is_some() && config.print_banner {
            print_banner(&public_url, &state.cos);
        }
        tracing::info!(
            %base_url,
            embedded = store.is_some(),
            dev_login = config.dev_login,
            "auth server listening"
        );
        Ok(Application {
            port,
            base_url,
            server,
            audit,
            writer,
            state,
            store: store_handle,
        })
    }

    /// The embedded store, when the server runs one (no COS credentials);
    /// tests read its fault counters and contents through it.
    pub fn store(&self) -> Option<cos_local::Store> {
        self.store.clone()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>` (the bound address).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The audit queue (tests call [`AuditLog::flush`] before reading the database).
    pub fn audit_log(&self) -> AuditLog {
        self.audit.clone()
    }

    /// Serves until the server is stopped (SIGINT/SIGTERM or [`ServerHandle::stop`]),
    /// then writes every queued audit record.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let shrinker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                state.limits.shrink();
            }
        });
        let result = self.server.await;
        shrinker.abort();
        drop(self.state);
        let writer = self.writer;
        // Joining the writer blocks until the queue is written.
        let _ = tokio::task::spawn_blocking(move || writer.shutdown()).await;
        tracing::info!("auth server stopped; audit log flushed");
        result
    }
}

/// The "how to upload" banner of embedded mode (stdout, once).
#[allow(clippy::print_stdout)] // The banner is the product's console output.
fn print_banner(public_url: &str, cos: &CosConfig) {
    println!(
        "\nauth-server: embedded COS store on {public_url} (APPID {appid}, bucket {bucket}), dev login ON.\n\
         Upload a file as user `alice` with the CLI:\n\
         \n    cargo run -p uploader --bin cos-upload -- --server {public_url} --dev-user alice ./photo.jpg\n\
         \nor with curl:\n\
         \n    TOKEN=$(curl -s -X POST {public_url}/v1/auth/dev-login -H 'content-type: application/json' \\\n\
         \x20       -d '{{\"user\":\"alice\"}}' | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\
         \x20   SIGN=$(curl -s -H \"Authorization: JWT $TOKEN\" '{public_url}/v1/qc_cos/config?cos_path=/u/1/' \\\n\
         \x20       | sed 's/.*\"sign\":\"\\([^\"]*\\)\".*/\\1/')\n\
         \x20   curl -H \"Authorization: $SIGN\" -F op=upload -F filecontent=@photo.jpg \\\n\
         \x20       {public_url}/files/v2/{appid}/{bucket}/u/1/photo.jpg\n\
         \n(`/u/1/` is the first user's prefix; the login reply names yours in `upload_prefix`.)\n",
        appid = cos.appid,
        bucket = cos.bucket,
    );
}
