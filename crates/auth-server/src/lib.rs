//! The auth server the mini-program (and the `cos-upload` CLI) talks to: it logs
//! users in with WeChat, issues JWTs, and grants COS uploads into each user's
//! own prefix `/u/<user_id>/`: temporary credentials scoped by a policy to that
//! prefix or to one key, or signatures of single requests. Its permanent COS
//! secret never leaves it.
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
//! | `POST /v1/cos/credentials` `{scope, ext, dir, content_type, size}` | JWT | temporary credentials for one new key or a directory ([below](#temporary-credentials)); the flow Tencent recommends |
//! | `POST /v1/cos/v5/sign` | JWT | v5 `Authorization` for one request (the SDKs' `getAuthorization` options): an object of the caller's prefix (`response-*` parameters allowed on GET), or a listing of it (`GET /?prefix=u/<id>/…`, `GET /?uploads&prefix=…`) |
//! | `POST /v1/cos/v5/post-policy` | JWT | signed POST Object form |
//! | `GET /healthz`, `/metrics`, `/openapi.json` | – | liveness, Prometheus text, OpenAPI 3 |
//! | `GET /readyz` | – | readiness: 200 while the database answers within 2 s, else 503 `database_unavailable` |
//!
//! Tokens are sent as `Authorization: JWT <token>` or `Bearer <token>` (exactly
//! one space, case-sensitive scheme). Every error is JSON `{error_code, message}`:
//! 400 bad input (`invalid_input`, `invalid_path`, `invalid_key`,
//! `extension_not_allowed`, `invalid_content_type`, `too_large`, …), 401
//! (`missing_token`, `invalid_token`, `token_expired`, `invalid_code`,
//! `code_used`; with `WWW-Authenticate`), 403 (`outside_prefix`,
//! `user_blocked`), 404 `not_found`, 405 `method_not_allowed`, 429
//! (`rate_limited`, `wechat_rate_limited`; with `Retry-After`), 500
//! `internal_error` (cause logged, not shown), 502 (`wechat_busy`,
//! `wechat_error`, `wechat_unavailable`), 503 (`login_not_configured`,
//! `sts_unavailable`). The OpenAPI document lists each route's codes.
//!
//! # Temporary credentials
//! `POST /v1/cos/credentials` is the flow Tencent recommends today for
//! mini-programs and browsers: temporary keys for direct uploads
//! (<https://cloud.tencent.com/document/product/436/68283>), with the server
//! choosing a random key from the file's extension and a timestamp
//! (<https://www.tencentcloud.com/document/product/436/77182>). The app gets
//! a TmpSecretId, TmpSecretKey and SecurityToken whose CAM policy
//! allows uploading only where the server said, and cos-wx-sdk-v5,
//! cos-js-sdk-v5 or cos-nodejs-sdk-v5 sign every request themselves, multipart
//! uploads and retries included, without asking the server again. The v4
//! endpoint (`qc_cos/config`) stays for apps written against the Metis v4
//! flow while they migrate; the v5 signing endpoints stay for clients that
//! want one signature per request.
//!
//! Request (JSON; unknown fields are refused):
//! ```json
//! {"scope": "key",    "ext": "jpg", "dir": "photos", "content_type": "image/jpeg", "size": 123456}
//! {"scope": "prefix", "dir": "album/2026"}
//! ```
//! * `scope = "key"`: one new key the server picks,
//!   `u/<id>/<dir>/<yyyymmdd>/<32 hex digits>.<ext>` (UTC date, 128 random
//!   bits; no `<dir>/` without `dir`). `ext` is required, case-insensitive,
//!   and must be in `sts.allowed_extensions`. Key credentials are never reused.
//! * `scope = "prefix"`: anything under `u/<id>/`, or `u/<id>/<dir>/`; `ext`
//!   is refused.
//! * `dir`: relative to the caller's prefix (`photos`, `album/2026`), or
//!   absolute inside it (`/u/<id>/photos`; another user's is 403
//!   `outside_prefix`); validated like every path here, never rewritten.
//! * `content_type`: `type/subtype`, within `sts.allowed_content_types`; the
//!   policy then allows exactly it (lower-cased), else the whole allow-list.
//!   The SDKs send the type of the key's extension, so declare that one.
//! * `size`: at most `signing.max_upload_size` (else 400 `too_large`); the
//!   policy's size limit is `size`, else the server's limit.
//!
//! Reply 200, handed unchanged to the SDKs' `getAuthorization` callback:
//! ```json
//! {"TmpSecretId": "AKID…", "TmpSecretKey": "…", "SecurityToken": "…",
//!  "StartTime": 1764680000, "ExpiredTime": 1764681800, "Expiration": "2025-12-02T13:23:20Z",
//!  "Bucket": "metis-1250000000", "Region": "ap-guangzhou",
//!  "Key": "u/12/photos/20251202/….jpg",   (scope key; "Prefix": "u/12/album/2026/" for scope prefix)
//!  "Endpoint": "http://127.0.0.1:8080"}
//! ```
//! Times are 10-digit UNIX seconds (the wx SDK checks), `ExpiredTime −
//! StartTime = sts.duration_secs`. `Endpoint` is where to send COS requests:
//! the bucket's v5 endpoint, or this server's URL in embedded mode (give the
//! SDK its host as `Domain` and its scheme as `Protocol`, e.g. `Domain:
//! '127.0.0.1:8080', Protocol: 'http:'`).
//!
//! The policy ([`shared::cam::Policy::for_upload`], on the key or on
//! `<prefix>*`): PutObject and PostObject up to the size limit and of an
//! allowed type; InitiateMultipartUpload of an allowed type; UploadPart and
//! CompleteMultipartUpload up to the size limit; ListParts,
//! AbortMultipartUpload, ListMultipartUploads, HeadObject and GetObject; for a
//! prefix also GetBucket, listing only under it. No DeleteObject, no other key,
//! prefix or bucket.
//!
//! Where credentials come from ([`sts`]): minted here in the embedded token
//! format when there is a token key (always in embedded mode, where the
//! mounted store holds the same key; with `[cos]` credentials when
//! `sts.token_key` is set, for a standalone cos-local started with that key),
//! otherwise from Tencent STS `GetFederationToken` (API 3.0, TC3-signed with
//! the `[cos]` key, region `cos.region`; StartTime = ExpiredTime − duration).
//! STS calls time out after `sts.timeout_secs` and are tried three times in
//! all on transport errors, HTTP 5xx, `InternalError*` and
//! `RequestLimitExceeded*`; any other error, or three failures, is 503
//! `sts_unavailable` with a generic message (the cause is logged). Prefix
//! credentials from STS are handed out again to the same user for the same
//! policy until `sts.reuse_margin_secs` before they expire (Tencent asks
//! callers to reuse them; the API takes 600 requests a second per account).
//! Every credential handed out is an audit row (`sts-key` or `sts-prefix`,
//! the key or `prefix*`, its expiry, `source` `minted`, `sts` or `cache`) and
//! counts in `auth_credentials_issued_total{scope,source}`; STS calls count in
//! `auth_sts_calls_total{outcome}` (`ok`, `sts_error`, `transport_error`) and
//! `auth_sts_call_duration_seconds`. The endpoint shares the signing rate limit.
//!
//! Refusals are `{error_code, message}` with a message an app can show as it
//! is, e.g. 400 `extension_not_allowed` "this server does not allow uploading
//! .exe files; allowed: jpg, jpeg, png, …", `invalid_content_type` "… files
//! of type text/html; allowed: image/*, video/*", `too_large` "the file is
//! 1.5 GiB (…); this server accepts files of at most 1.0 GiB (…)", 403
//! `outside_prefix`, 503 `sts_unavailable` "upload credentials are not
//! available right now …; try again in a minute". The SDKs cannot show them:
//! their `getAuthorization` callback takes no error, and passing it this body
//! fails the upload with `getAuthorization callback params missing
//! "TmpSecretId"` (cos-wx-sdk-v5, cos-js-sdk-v5, cos-nodejs-sdk-v5), while
//! never calling it leaves the upload waiting. So an app checks the status,
//! shows `message`, and then calls the callback with the body (or `{}`) to
//! end the SDK's task. Python apps build `CosConfig` from the reply
//! themselves and read `message` the same way.
//!
//! # CORS
//! Off by default (no CORS headers at all). With `server.cors_allowed_origins`
//! set, those origins (and only those, echoed, never `*`, no credentials) may
//! call the API and, in embedded mode, the store cross-origin: methods GET,
//! HEAD, PUT, POST, DELETE; request headers `Authorization`, `Content-Type`,
//! `Content-MD5`, `Cache-Control`, `Range`, the other standard object headers
//! and any `x-cos-*` (`x-cos-security-token`, `x-cos-sdk-retry`,
//! `x-cos-meta-*`; a preflight asking for another header gets 400
//! `cors_refused`). `Access-Control-Expose-Headers` is `*` (every header:
//! the wildcard holds for requests without credentials, the only kind
//! allowed here), followed by the headers cos-js-sdk-v5 reads, named for
//! browsers that take `*` literally: `ETag`, `Content-Length`,
//! `Content-Range`, `Content-Disposition`, `Cache-Control`, `Date`,
//! `Location`, `x-cos-request-id`, `x-cos-version-id`, … See [`cors`].
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
//! | `AUTH_COS_REGION` | `cos.region` | required with credentials; embedded store: `ap-guangzhou` |
//! | `AUTH_COS_SECRET_ID` / `AUTH_COS_SECRET_KEY` | `cos.secret_id` / `cos.secret_key` | none = embedded store |
//! | `AUTH_COS_V4_ENDPOINT` / `AUTH_COS_V5_ENDPOINT` | `cos.v4_endpoint` / `cos.v5_endpoint` | from region |
//! | `AUTH_WECHAT_APPID` / `AUTH_WECHAT_SECRET` | `wechat.appid` / `wechat.secret` | none (code login answers 503) |
//! | `AUTH_WECHAT_API_BASE` / `AUTH_WECHAT_TIMEOUT_SECS` | `wechat.api_base` / `wechat.timeout_secs` | `https://api.weixin.qq.com` / `5` |
//! | `AUTH_DEV_LOGIN` | `signing.dev_login` | `false` (always on when embedded) |
//! | `AUTH_SIGN_TTL_SECS` | `signing.ttl_secs` | `3600` (max 86400) |
//! | `AUTH_MAX_UPLOAD_SIZE` | `signing.max_upload_size` | 1 GiB (POST policies and temporary credentials) |
//! | `AUTH_V5_METHODS` | `signing.v5_methods` | `PUT,POST,GET,HEAD,DELETE` |
//! | `AUTH_STS_DURATION_SECS` | `sts.duration_secs` | `1800`, within 60..=7200 (7200 s is the longest Tencent STS grants a root account's key; a sub-account's may go to 129600 s, but this server caps at 7200) |
//! | `AUTH_STS_ALLOWED_EXTENSIONS` | `sts.allowed_extensions` | `jpg,jpeg,png,gif,webp,heic,heif,avif,bmp,mp4,mov` |
//! | `AUTH_STS_ALLOWED_CONTENT_TYPES` | `sts.allowed_content_types` | `image/*,video/*` (each `type/subtype` or `type/*`) |
//! | `AUTH_STS_ENDPOINT` / `AUTH_STS_SCHEME` | `sts.endpoint` / `sts.scheme` | `sts.tencentcloudapi.com` / `https` (`http` for a local stand-in) |
//! | `AUTH_STS_TIMEOUT_SECS` | `sts.timeout_secs` | `5` per call (3 calls at most) |
//! | `AUTH_STS_REUSE_MARGIN_SECS` | `sts.reuse_margin_secs` | `300` (at least 60) |
//! | `AUTH_STS_TOKEN_KEY` | `sts.token_key` | embedded: generated into `dev-secrets.toml`; with COS credentials: none (Tencent STS); set it (≥ 32 bytes) to mint for a standalone cos-local holding the same key |
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
//! `<data_dir>/store` (region `cos.region`, default `ap-guangzhou`) with
//! credentials generated once and kept (with a generated JWT secret and the
//! key of temporary credentials' security tokens, which the store shares) in
//! `<data_dir>/dev-secrets.toml` (mode 0600), mounts it
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
//! (user_id, kind, target, expires_at, ip, issued_at, source)` (`source` only
//! for temporary credentials: `minted`, `sts` or `cache`), written by one thread
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
pub mod sts;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod wechat;

pub use app::{Application, StartError};
pub use config::{Config, ConfigError};
