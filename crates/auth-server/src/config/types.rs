//! The settings the server runs with, grouped as the TOML file groups them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cos_local::FaultConfig;
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, SecretKey};

use super::ConfigError;
use crate::db::DatabaseUrl;

/// Shortest accepted JWT secret, in bytes (RFC 8725: HS256 keys of at least 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Longest accepted v4 signature / v5 key time lifetime.
pub const MAX_SIGN_TTL_SECS: u64 = 24 * 3600;
/// Longest accepted JWT lifetime.
pub const MAX_JWT_TTL_SECS: u64 = 30 * 24 * 3600;
/// Shortest lifetime of temporary credentials (`sts.duration_secs`).
pub const MIN_STS_DURATION_SECS: u64 = 60;
/// Longest lifetime of temporary credentials: the most Tencent STS grants a
/// root account's key (sub-accounts may ask for up to 129600 s; this server
/// signs with whichever key it is given, so it caps at the lower bound).
pub const MAX_STS_DURATION_SECS: u64 = 7200;
/// Shortest `sts.reuse_margin_secs`: the SDKs ask for new credentials once
/// fewer than 60 s are left, so reusing any closer to expiry would loop.
pub const MIN_STS_REUSE_MARGIN_SECS: u64 = 60;

/// The COS account the server signs for.
#[derive(Debug, Clone)]
pub struct CosConfig {
    /// Numeric COS APPID (not the WeChat appid).
    pub appid: String,
    /// Short bucket name (v4 form, without `-appid`).
    pub bucket: String,
    /// v5 region, e.g. `ap-shanghai`.
    pub region: String,
    /// The key pair used to sign.
    pub credentials: Credentials,
    /// Base of the v4 JSON API, e.g. `https://sh.file.myqcloud.com` (no trailing `/`).
    pub v4_endpoint: String,
    /// The bucket's v5 URL, e.g. `https://metis-1250000000.cos.ap-shanghai.myqcloud.com`
    /// (no trailing `/`).
    pub v5_endpoint: String,
}

impl CosConfig {
    /// The v5 bucket name, `<bucket>-<appid>`.
    pub fn bucket_full(&self) -> String {
        format!("{}-{}", self.bucket, self.appid)
    }
}

/// The WeChat mini-program the server logs users in for.
#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// Mini-program appid (`wx…`); `None` disables code login (503).
    pub appid: Option<String>,
    /// Mini-program secret.
    pub secret: Option<SecretKey>,
    /// API base URL (no trailing `/`), default `https://api.weixin.qq.com`.
    pub api_base: String,
    /// Timeout of one `jscode2session` call.
    pub timeout: Duration,
}

/// JWT settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// HS256 key. Outside dev mode: at least [`MIN_JWT_SECRET_BYTES`] bytes,
    /// an estimated [`super::MIN_JWT_SECRET_BITS`] bits of entropy, and no part
    /// of the COS or WeChat credentials.
    pub secret: SecretKey,
    /// `iss` claim written and required.
    pub issuer: String,
    /// `aud` claim written and required.
    pub audience: String,
    /// Token lifetime (default 2 h).
    pub ttl_secs: u64,
    /// Clock leeway for the `exp`, `nbf` and `iat` checks (default 30 s).
    pub leeway_secs: u64,
}

/// Rate limits. A rate of 0 disables that limiter.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Login attempts (code and dev) per client IP per minute.
    pub login_per_minute: u32,
    /// Burst of login attempts per IP.
    pub login_burst: u32,
    /// Signature requests (all three endpoints) per user per second.
    pub sign_per_second: u32,
    /// Burst of signature requests per user.
    pub sign_burst: u32,
}

/// How `POST /v1/cos/credentials` issues temporary credentials (`[sts]`).
#[derive(Debug, Clone)]
pub struct StsConfig {
    /// Lifetime of issued credentials, seconds (default 1800, within
    /// [`MIN_STS_DURATION_SECS`]..=[`MAX_STS_DURATION_SECS`]).
    pub duration_secs: u64,
    /// File extensions a key may end in, lower case, without the `.`.
    pub allowed_extensions: Vec<String>,
    /// Content types the credentials may upload: exact (`image/jpeg`) or a
    /// whole top-level type (`image/*`), lower case.
    pub allowed_content_types: Vec<String>,
    /// `host[:port]` of Tencent STS (default `sts.tencentcloudapi.com`).
    pub endpoint: String,
    /// `https` (default), or `http` for a local stand-in.
    pub scheme: StsScheme,
    /// Timeout of one `GetFederationToken` call (default 5 s).
    pub timeout: Duration,
    /// Prefix credentials from STS are handed out again, per user and policy,
    /// until this many seconds before they expire (default 300).
    pub reuse_margin_secs: u64,
    /// The key security tokens are minted with, when this server mints them
    /// itself: always in embedded mode (generated into the dev secrets unless
    /// set), and with `[cos]` credentials when set (for a standalone cos-local
    /// holding the same key). `None` with `[cos]` credentials: Tencent STS.
    pub token_key: Option<TokenKey>,
}

/// The scheme of the STS endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsScheme {
    /// `https://` (Tencent).
    Https,
    /// `http://` (a local stand-in in tests).
    Http,
}

impl StsScheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }
}

/// The database: which one, how many connections, how long to wait for one.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `database.url`, else the SQLite file `server.database`, else
    /// `<data_dir>/auth.sqlite3`. `Debug` hides a PostgreSQL password.
    pub url: DatabaseUrl,
    /// Most connections of the request pool (default 10); the audit writer
    /// has one more of its own.
    pub max_connections: u32,
    /// Longest wait to connect, or for a free connection (default 10 s).
    pub connect_timeout: Duration,
}

impl DatabaseConfig {
    /// Default of [`DatabaseConfig::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
    /// Default of [`DatabaseConfig::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// `url` with the default pool size and timeout.
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Everything the server needs. Build with [`Config::from_env`] (production),
/// or `Config::for_tests` (tests; feature `test-support`), then adjust the public fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    pub bind: SocketAddr,
    /// URL clients reach this server at (no trailing `/`); default `http://<bind>`
    /// (with the actual port once bound). Used as the embedded store's endpoint.
    pub public_url: Option<String>,
    /// Data directory: SQLite database, embedded store, generated dev secrets.
    pub data_dir: PathBuf,
    /// The database of users and the audit (default the SQLite file
    /// `<data_dir>/auth.sqlite3`).
    pub database: DatabaseConfig,
    /// JWT settings.
    pub jwt: JwtConfig,
    /// The COS account; `None` = embedded store with generated dev credentials.
    pub cos: Option<CosConfig>,
    /// Embedded store: APPID, bucket and credentials (used when `cos` is `None`).
    pub embedded: EmbeddedConfig,
    /// WeChat login.
    pub wechat: WechatConfig,
    /// `POST /v1/auth/dev-login` enabled (always on in embedded mode).
    pub dev_login: bool,
    /// Lifetime of issued COS signatures and policies, seconds (default 3600,
    /// at most [`MAX_SIGN_TTL_SECS`]).
    pub sign_ttl_secs: u64,
    /// Largest object a POST policy or temporary credentials allow, bytes
    /// (default 1 GiB).
    pub max_upload_size: u64,
    /// HTTP methods `POST /v1/cos/v5/sign` signs (default PUT, POST, GET, HEAD, DELETE).
    pub v5_methods: Vec<String>,
    /// Temporary credentials.
    pub sts: StsConfig,
    /// Rate limits.
    pub limits: RateLimits,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a
    /// trusted proxy that appends it).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads (default: number of cores).
    pub workers: Option<usize>,
    /// Capacity of the audit queue; records beyond it are dropped and counted.
    pub audit_queue: usize,
    /// Print the "how to upload" banner on stdout at start (embedded mode).
    pub print_banner: bool,
    /// Browser origins allowed to call the API (and, in embedded mode, the
    /// store) cross-origin, e.g. `https://app.example.com`. Empty (the
    /// default): no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
}

/// The embedded store's identity.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Numeric APPID (default `1250000000`).
    pub appid: String,
    /// Short bucket name (default `metis`).
    pub bucket: String,
    /// Region named in the policies of temporary credentials and in their
    /// reply (`cos.region`, default `ap-guangzhou`).
    pub region: String,
    /// Credentials; `None` = generate and persist in the data directory.
    pub credentials: Option<Credentials>,
    /// Faults injected into the store (tests and demos; off by default).
    pub faults: FaultConfig,
    /// Allow embedded mode on a non-loopback bind address (default `false`:
    /// refused, since anyone who can reach it can log in as any user).
    pub allow_remote: bool,
    /// How long an unfinished multipart or slice upload may go without a part
    /// before the store removes it (default 24 hours; see
    /// [`cos_local::StoreConfig::upload_ttl`]).
    pub upload_ttl: Duration,
}

impl Config {
    /// True when the embedded store is mounted (no COS credentials configured).
    pub fn is_embedded(&self) -> bool {
        self.cos.is_none()
    }

    /// Refuses embedded mode on a non-loopback bind address unless
    /// `store.allow_remote` opts in: in embedded mode dev login is on, so
    /// anyone who can reach the server can log in as any user.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if self.is_embedded() && !self.bind.ip().is_loopback() && !self.embedded.allow_remote {
            return Err(ConfigError::EmbeddedNotLoopback { bind: self.bind });
        }
        Ok(())
    }

    /// Risky but accepted settings, to log as warnings at startup.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.dev_login && !self.is_embedded() {
            out.push(
                "dev login is enabled (signing.dev_login / AUTH_DEV_LOGIN) with real COS \
                 credentials: anyone who can reach POST /v1/auth/dev-login can log in as any \
                 user and upload into the real bucket; turn it off outside development"
                    .to_owned(),
            );
        }
        if self.is_embedded() && !self.bind.ip().is_loopback() {
            out.push(format!(
                "embedded mode listens on {} (store.allow_remote): anyone who can reach it can \
                 log in as any user",
                self.bind
            ));
        }
        out
    }
}
