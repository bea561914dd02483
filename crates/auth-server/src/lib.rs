//! The auth server the mini-program (and the `cos-upload` CLI) talks to: it logs
//! users in with WeChat, issues JWTs, and signs COS uploads into each user's own
//! prefix `/u/<user_id>/`. It never hands out the COS secret.
//!
//! # Running it
//! What `main` does, here in embedded mode on a free port with its data in a
//! temporary directory: read the configuration, build the [`Application`],
//! serve, and stop.
//!
//! ```
//! use auth_server::{Application, Config};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = tempfile::tempdir()?;
//! let data_dir = data.path().to_str().ok_or("not UTF-8")?.to_owned();
//! // The TOML file (none here), then the AUTH_* variables, then these overrides.
//! let config = Config::from_env_with(
//!     None,
//!     &[
//!         ("server.bind", "127.0.0.1:0".to_owned()),
//!         ("server.data_dir", data_dir),
//!         ("store.print_banner", "false".to_owned()),
//!     ],
//! )?;
//! // No COS credentials: the embedded store, with generated dev secrets.
//! assert!(config.is_embedded() && config.dev_login);
//! actix_web::rt::System::new().block_on(async move {
//!     let app = Application::build(config).await?;
//!     let health = format!("{}/healthz", app.base_url());
//!     let stop = app.handle();
//!     let server = actix_web::rt::spawn(app.run_until_stopped());
//!     let body = reqwest::get(&health).await?.text().await?;
//!     assert_eq!(body, r#"{"status":"ok"}"#);
//!     stop.stop(true).await;
//!     server.await??;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```
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
//! | `AUTH_DATABASE` | `server.database` | `<data_dir>/auth.sqlite3` (unused when `database.url` is set) |
//! | `AUTH_WORKERS` | `server.workers` | number of cores |
//! | `AUTH_TRUST_FORWARDED_FOR` | `server.trust_forwarded_for` | `false` |
//! | `AUTH_AUDIT_QUEUE` | `server.audit_queue` | `65536` |
//! | `AUTH_CORS_ALLOWED_ORIGINS` | `server.cors_allowed_origins` | none (no CORS) |
//! | `AUTH_DATABASE_URL` | `database.url` | the SQLite file `server.database`; else `sqlite://<path>` or `postgres://user:password@host/db` |
//! | `AUTH_DATABASE_MAX_CONNECTIONS` / `AUTH_DATABASE_CONNECT_TIMEOUT_SECS` | `database.max_connections` / `database.connect_timeout_secs` | `10` / `10` |
//! | `AUTH_JWT_SECRET` | `jwt.secret` | required unless embedded: ≥ 32 bytes, an estimated ≥ 128 bits of entropy ([`config::jwt_secret_is_strong`]), nothing shared with the COS or WeChat credentials |
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
//! | `AUTH_LOGIN_PER_MINUTE` / `AUTH_LOGIN_BURST` | `limits.login_per_minute` / `limits.login_burst` | `30` / `10` per IP (0 = off) |
//! | `AUTH_SIGN_PER_SECOND` / `AUTH_SIGN_BURST` | `limits.sign_per_second` / `limits.sign_burst` | `20` / `100` per user (0 = off) |
//! | `AUTH_STORE_FAULT_SEED` | `store.fault_seed` | `0` |
//! | `AUTH_STORE_FAULT_ERROR_RATE` / `AUTH_STORE_FAULT_DROP_RATE` / `AUTH_STORE_FAULT_LOST_REPLY_RATE` | `store.fault_error_rate` / `store.fault_drop_rate` / `store.fault_lost_reply_rate` | `0` (off) |
//! | `AUTH_STORE_FAULT_LATENCY_MS` / `AUTH_STORE_FAULT_LATENCY_RATE` | `store.fault_latency_ms` / `store.fault_latency_rate` | `0` (off) |
//! | `AUTH_PRINT_BANNER` | `store.print_banner` | `true` |
//! | `AUTH_STORE_ALLOW_REMOTE` | `store.allow_remote` | `false` (embedded mode only on loopback) |
//! | `AUTH_STORE_UPLOAD_TTL_SECS` | `store.upload_ttl_secs` | `86400` (unfinished uploads removed after a day without a part) |
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
//! SQLite by default (`server.database`, one file); PostgreSQL with
//! `database.url = "postgres://…"`, which several replicas can share. Both
//! hold the same schema, brought up to date at start by the migrations in
//! `migrations/` ([`db`]): `users (id, provider, subject, unionid, …)` — the
//! id is the JWT `sub`, assigned by the database, unique per (provider,
//! subject), so a user has one id on every replica — and `signatures
//! (user_id, kind, target, expires_at, ip, issued_at)`, written by one thread
//! in batches from a bounded queue (full queue: the record is dropped and
//! counted in `/metrics`); the queue is flushed at shutdown. The user upsert
//! at login is the only write a request waits for. The URL's password never
//! shows in logs, errors or `Debug`. A data directory the server creates gets
//! a `.gitignore` of `*` ([`data_dir`]), so the database, the dev secrets and
//! the embedded store's objects never land in a git repository the directory
//! happens to be in.
//!
//! Replicas share nothing but the database (and the JWT secret, so a token
//! one issues is good on all): rate limits are counted per replica, so behind
//! a load balancer over N replicas a client gets up to N times the configured
//! rates.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod config;
pub mod cors;
pub mod data_dir;
pub mod db;
pub mod error;
pub mod grant;
pub mod jwt;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod wechat;

pub use app::{Application, StartError};
pub use config::{Config, ConfigError};
