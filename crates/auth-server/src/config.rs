//! Configuration: an optional TOML file overlaid by environment variables
//! (12-factor). This is the only module that reads the environment.
//!
//! Every setting has a file key (`section.name`) and an environment variable;
//! the environment wins. See the crate docs for the full table and
//! `config.example.toml` for a commented sample.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cos_local::{FaultConfig, FaultScope};
use cos_sign::{Credentials, SecretKey};
use rand::Rng as _;
use rand::distributions::Alphanumeric;

/// Shortest accepted JWT secret, in bytes (RFC 8725: HS256 keys of at least 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Longest accepted v4 signature / v5 key time lifetime.
pub const MAX_SIGN_TTL_SECS: u64 = 24 * 3600;
/// Longest accepted JWT lifetime.
pub const MAX_JWT_TTL_SECS: u64 = 30 * 24 * 3600;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML file is not valid TOML or has an unexpected shape.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// One setting has a bad value.
    #[error("setting {key} ({env}): {message}")]
    Invalid {
        /// File key, e.g. `jwt.ttl_secs`.
        key: &'static str,
        /// Environment variable, e.g. `AUTH_JWT_TTL_SECS`.
        env: &'static str,
        /// What is wrong (never the value of a secret).
        message: String,
    },
    /// Settings that contradict each other, or a missing required one.
    #[error("{0}")]
    Inconsistent(String),
    /// Embedded mode (no COS credentials) on an address other machines can reach.
    #[error(
        "embedded mode (no COS credentials: local store, dev login on) refuses to listen on \
         {bind}, which is not a loopback address: anyone who can reach it can log in as any \
         user (POST /v1/auth/dev-login) and read, overwrite or delete every upload. Bind to \
         127.0.0.1 (server.bind / AUTH_BIND), configure COS credentials, or, to test from a \
         phone on your LAN, opt in with store.allow_remote = true (AUTH_STORE_ALLOW_REMOTE=true)"
    )]
    EmbeddedNotLoopback {
        /// The configured listen address.
        bind: SocketAddr,
    },
    /// Generated dev secrets could not be persisted in the data directory.
    #[error("cannot persist generated dev secrets in {path}: {source}")]
    DevSecrets {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

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
    /// HS256 key; at least [`MIN_JWT_SECRET_BYTES`] bytes outside dev mode.
    pub secret: SecretKey,
    /// `iss` claim written and required.
    pub issuer: String,
    /// `aud` claim written and required.
    pub audience: String,
    /// Token lifetime (default 2 h).
    pub ttl_secs: u64,
    /// Clock leeway for `exp` and `iat` checks (default 30 s).
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
    /// SQLite database file (default `<data_dir>/auth.sqlite3`).
    pub database: PathBuf,
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
    /// Largest object a POST policy allows, bytes (default 1 GiB).
    pub max_upload_size: u64,
    /// HTTP methods `POST /v1/cos/v5/sign` signs (default PUT, POST, GET, HEAD, DELETE).
    pub v5_methods: Vec<String>,
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
    /// Credentials; `None` = generate and persist in the data directory.
    pub credentials: Option<Credentials>,
    /// Faults injected into the store (tests and demos; off by default).
    pub faults: FaultConfig,
    /// Allow embedded mode on a non-loopback bind address (default `false`:
    /// refused, since anyone who can reach it can log in as any user).
    pub allow_remote: bool,
}

/// The test COS SecretId of `Config::for_tests` (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub const TEST_SECRET_ID: &str = "AKIDTestSecretId00000000000000000000";
/// The test COS SecretKey of `Config::for_tests` (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub const TEST_SECRET_KEY: &str = "TestSecretKey0123456789abcdefABCDEF";

/// `(file key, environment variable)` of every setting.
const KEYS: &[(&str, &str)] = &[
    ("server.bind", "AUTH_BIND"),
    ("server.public_url", "AUTH_PUBLIC_URL"),
    ("server.data_dir", "AUTH_DATA_DIR"),
    ("server.database", "AUTH_DATABASE"),
    ("server.workers", "AUTH_WORKERS"),
    ("server.trust_forwarded_for", "AUTH_TRUST_FORWARDED_FOR"),
    ("server.audit_queue", "AUTH_AUDIT_QUEUE"),
    ("server.cors_allowed_origins", "AUTH_CORS_ALLOWED_ORIGINS"),
    ("jwt.secret", "AUTH_JWT_SECRET"),
    ("jwt.issuer", "AUTH_JWT_ISSUER"),
    ("jwt.audience", "AUTH_JWT_AUDIENCE"),
    ("jwt.ttl_secs", "AUTH_JWT_TTL_SECS"),
    ("jwt.leeway_secs", "AUTH_JWT_LEEWAY_SECS"),
    ("cos.appid", "AUTH_COS_APPID"),
    ("cos.bucket", "AUTH_COS_BUCKET"),
    ("cos.region", "AUTH_COS_REGION"),
    ("cos.secret_id", "AUTH_COS_SECRET_ID"),
    ("cos.secret_key", "AUTH_COS_SECRET_KEY"),
    ("cos.v4_endpoint", "AUTH_COS_V4_ENDPOINT"),
    ("cos.v5_endpoint", "AUTH_COS_V5_ENDPOINT"),
    ("wechat.appid", "AUTH_WECHAT_APPID"),
    ("wechat.secret", "AUTH_WECHAT_SECRET"),
    ("wechat.api_base", "AUTH_WECHAT_API_BASE"),
    ("wechat.timeout_secs", "AUTH_WECHAT_TIMEOUT_SECS"),
    ("signing.dev_login", "AUTH_DEV_LOGIN"),
    ("signing.ttl_secs", "AUTH_SIGN_TTL_SECS"),
    ("signing.max_upload_size", "AUTH_MAX_UPLOAD_SIZE"),
    ("signing.v5_methods", "AUTH_V5_METHODS"),
    ("limits.login_per_minute", "AUTH_LOGIN_PER_MINUTE"),
    ("limits.login_burst", "AUTH_LOGIN_BURST"),
    ("limits.sign_per_second", "AUTH_SIGN_PER_SECOND"),
    ("limits.sign_burst", "AUTH_SIGN_BURST"),
    ("store.fault_seed", "AUTH_STORE_FAULT_SEED"),
    ("store.fault_error_rate", "AUTH_STORE_FAULT_ERROR_RATE"),
    ("store.fault_drop_rate", "AUTH_STORE_FAULT_DROP_RATE"),
    (
        "store.fault_lost_reply_rate",
        "AUTH_STORE_FAULT_LOST_REPLY_RATE",
    ),
    ("store.fault_latency_ms", "AUTH_STORE_FAULT_LATENCY_MS"),
    ("store.fault_latency_rate", "AUTH_STORE_FAULT_LATENCY_RATE"),
    ("store.print_banner", "AUTH_PRINT_BANNER"),
    ("store.allow_remote", "AUTH_STORE_ALLOW_REMOTE"),
];

/// Raw settings: file values overlaid by environment values, as text.
struct Raw(BTreeMap<&'static str, String>);

impl Raw {
    fn env_name(key: &str) -> &'static str {
        KEYS.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| *e)
            .unwrap_or("?")
    }

    fn key(key: &str) -> &'static str {
        KEYS.iter()
            .find(|(k, _)| *k == key)
            .map(|(k, _)| *k)
            .unwrap_or("?")
    }

    fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: Self::key(key),
            env: Self::env_name(key),
            message: message.into(),
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A comma-separated list setting: its items, trimmed, empty ones dropped
    /// (`None` when the setting is absent).
    fn list(&self, key: &str) -> Option<Vec<&str>> {
        self.str(key).map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect()
        })
    }

    fn string_or(&self, key: &str, default: &str) -> String {
        self.str(key).unwrap_or(default).to_owned()
    }

    fn parse<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.str(key) {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|e| Self::invalid(key, format!("cannot parse {s:?}: {e}"))),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.str(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(Self::invalid(
                key,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }

    fn rate(&self, key: &str, default: f64) -> Result<f64, ConfigError> {
        let v: f64 = self.parse(key, default)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(Self::invalid(key, "must lie between 0 and 1"));
        }
        Ok(v)
    }
}

/// A TOML syntax error as `line L, column C: <message>`, without the source
/// text. (`toml::de::Error`'s `Display` quotes the offending line, which may
/// be a `secret = "..."` line.)
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().replace('\n', "; ");
    let message = match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let before = text.get(..start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    };
    ConfigError::Parse {
        path: path.to_owned(),
        message,
    }
}

/// Parses a TOML document into a table, reporting errors without source text.
fn parse_toml_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| toml_error(path, text, &e))
}

fn flatten_toml(path: &Path, text: &str) -> Result<BTreeMap<&'static str, String>, ConfigError> {
    let parse_err = |message: String| ConfigError::Parse {
        path: path.to_owned(),
        message,
    };
    let table = parse_toml_table(path, text)?;
    let mut out = BTreeMap::new();
    for (section, value) in table {
        let toml::Value::Table(inner) = value else {
            return Err(parse_err(format!(
                "top-level key {section:?} must be a [section]"
            )));
        };
        for (name, v) in inner {
            let full = format!("{section}.{name}");
            let key = KEYS
                .iter()
                .find(|(k, _)| *k == full)
                .map(|(k, _)| *k)
                .ok_or_else(|| parse_err(format!("unknown setting {full:?}")))?;
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let mut parts = Vec::new();
                    for item in items {
                        match item {
                            toml::Value::String(s) => parts.push(s),
                            _ => return Err(parse_err(format!("{full}: expected strings"))),
                        }
                    }
                    parts.join(",")
                }
                _ => return Err(parse_err(format!("{full}: unsupported value type"))),
            };
            out.insert(key, text);
        }
    }
    Ok(out)
}

/// The v4 (JSON API) short region of a v5 region, for the default v4 endpoint.
fn v4_region(region: &str) -> &str {
    match region {
        "ap-shanghai" => "sh",
        "ap-guangzhou" => "gz",
        "ap-beijing-1" | "ap-tianjin" => "tj",
        "ap-singapore" => "sgp",
        "ap-chengdu" => "cd",
        "ap-beijing" => "bj",
        other => other,
    }
}

fn check_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim_end_matches('/');
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        || trimmed.len() <= "https://".len()
        || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Raw::invalid(key, format!("{url:?} is not an http(s) URL")));
    }
    Ok(trimmed.to_owned())
}

fn check_name(key: &str, value: &str, digits_only: bool) -> Result<String, ConfigError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && if digits_only {
            value.bytes().all(|b| b.is_ascii_digit())
        } else {
            value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
    if !ok {
        let what = if digits_only {
            "digits"
        } else {
            "lowercase letters, digits and '-'"
        };
        return Err(Raw::invalid(key, format!("{value:?} must be 1-64 {what}")));
    }
    Ok(value.to_owned())
}

/// A browser origin as browsers send it in `Origin`: `http(s)://host[:port]`,
/// lower-case, without path or trailing `/`. `*` is refused: origins are
/// listed explicitly.
fn check_origin(origin: &str) -> Result<String, ConfigError> {
    let key = "server.cors_allowed_origins";
    if origin == "*" {
        return Err(Raw::invalid(
            key,
            "\"*\" is not accepted: list each allowed origin, e.g. https://app.example.com",
        ));
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let valid_host = |host: &str| {
        !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'-' | b'.' | b':' | b'[' | b']')
            })
    };
    match rest {
        Some(host) if valid_host(host) && origin.parse::<actix_web::http::Uri>().is_ok() => {
            Ok(origin.to_owned())
        }
        _ => Err(Raw::invalid(
            key,
            format!(
                "{origin:?} is not an origin: expected http(s)://host[:port] in lower case, \
                 without a path or trailing '/'"
            ),
        )),
    }
}

/// True when a JWT secret is long enough and not trivially guessable.
pub fn jwt_secret_is_strong(secret: &str) -> bool {
    let bytes = secret.as_bytes();
    let distinct = bytes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    bytes.len() >= MIN_JWT_SECRET_BYTES && distinct >= 8
}

fn random_text(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Generated secrets persisted in the data directory (embedded/dev mode), so
/// tokens and signatures survive a restart.
#[derive(serde::Serialize)]
struct DevSecrets {
    jwt_secret: String,
    cos_secret_id: String,
    cos_secret_key: String,
}

impl DevSecrets {
    /// Reads the file's three string fields. Errors name the field and the
    /// line, never a value (serde's type errors would quote a mistyped value).
    fn parse(path: &Path, text: &str) -> Result<DevSecrets, ConfigError> {
        let mut table = parse_toml_table(path, text)?;
        let bad = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message,
        };
        const FIELDS: [&str; 3] = ["jwt_secret", "cos_secret_id", "cos_secret_key"];
        if table.keys().any(|k| !FIELDS.contains(&k.as_str())) {
            // Not named: in a damaged file the "key" may be part of a secret.
            return Err(bad(format!(
                "unexpected field (expected only {})",
                FIELDS.join(", ")
            )));
        }
        let mut field = |name: &str| match table.remove(name) {
            Some(toml::Value::String(s)) if !s.is_empty() => Ok(s),
            Some(_) => Err(bad(format!("{name} must be a non-empty string"))),
            None => Err(bad(format!("{name} is missing"))),
        };
        Ok(DevSecrets {
            jwt_secret: field("jwt_secret")?,
            cos_secret_id: field("cos_secret_id")?,
            cos_secret_key: field("cos_secret_key")?,
        })
    }
}

const DEV_SECRETS_FILE: &str = "dev-secrets.toml";

fn load_or_create_dev_secrets(data_dir: &Path) -> Result<DevSecrets, ConfigError> {
    let path = data_dir.join(DEV_SECRETS_FILE);
    let err = |source| ConfigError::DevSecrets {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return DevSecrets::parse(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let secrets = DevSecrets {
        jwt_secret: random_text(48),
        cos_secret_id: format!("AKIDdev{}", random_text(29)),
        cos_secret_key: random_text(32),
    };
    let text = toml::to_string(&secrets).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    write_private(&path, text.as_bytes()).map_err(err)?;
    Ok(secrets)
}

/// Writes a file only the owner can read, atomically (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Config {
    /// Reads the optional TOML `file`, overlays the environment, validates.
    ///
    /// Without COS credentials the server runs in embedded (dev) mode: the
    /// local store is mounted on the same port with generated credentials,
    /// dev login is on, and a missing JWT secret is generated and persisted in
    /// the data directory. With COS credentials, a missing or weak JWT secret
    /// is an error.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::from_env_with(file, &[])
    }

    /// [`Config::from_env`] with command-line overrides (`("server.bind", "…")`),
    /// which win over the environment and the file.
    pub fn from_env_with(
        file: Option<&Path>,
        overrides: &[(&str, String)],
    ) -> Result<Config, ConfigError> {
        let mut map = BTreeMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            map = flatten_toml(path, &text)?;
        }
        for (key, env) in KEYS {
            // The one sanctioned place that reads the process environment.
            #[allow(clippy::disallowed_methods)]
            let value = std::env::var_os(env);
            if let Some(v) = value {
                let v = v
                    .into_string()
                    .map_err(|_| Raw::invalid(key, "is not valid UTF-8"))?;
                map.insert(*key, v);
            }
        }
        for (key, value) in overrides {
            let key = KEYS
                .iter()
                .find(|(k, _)| k == key)
                .map(|(k, _)| *k)
                .ok_or_else(|| ConfigError::Inconsistent(format!("unknown setting {key:?}")))?;
            map.insert(key, value.clone());
        }
        Self::from_raw(&Raw(map))
    }

    fn from_raw(raw: &Raw) -> Result<Config, ConfigError> {
        let bind: SocketAddr =
            raw.parse("server.bind", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let public_url = raw
            .str("server.public_url")
            .map(|u| check_url("server.public_url", u))
            .transpose()?;
        let data_dir = PathBuf::from(raw.string_or("server.data_dir", "data"));
        let database = raw
            .str("server.database")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("auth.sqlite3"));
        let workers = match raw.parse::<usize>("server.workers", 0)? {
            0 => None,
            n => Some(n),
        };
        let audit_queue = raw.parse("server.audit_queue", 65_536usize)?.max(1);
        let cors_allowed_origins = match raw.list("server.cors_allowed_origins") {
            None => Vec::new(),
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for o in list {
                    let o = check_origin(o)?;
                    if !out.contains(&o) {
                        out.push(o);
                    }
                }
                out
            }
        };

        let secret_id = raw.str("cos.secret_id");
        let secret_key = raw.str("cos.secret_key");
        let embedded_mode = match (secret_id, secret_key) {
            (Some(_), Some(_)) => false,
            (None, None) => true,
            _ => {
                return Err(ConfigError::Inconsistent(
                    "set both cos.secret_id (AUTH_COS_SECRET_ID) and cos.secret_key \
                     (AUTH_COS_SECRET_KEY), or neither for the embedded store"
                        .into(),
                ));
            }
        };
        let appid = check_name("cos.appid", &raw.string_or("cos.appid", "1250000000"), true)?;
        let bucket = check_name("cos.bucket", &raw.string_or("cos.bucket", "metis"), false)?;

        let dev_secrets = if embedded_mode {
            Some(load_or_create_dev_secrets(&data_dir)?)
        } else {
            None
        };

        let cos = match (secret_id, secret_key) {
            (Some(id), Some(key)) => {
                if id.chars().any(|c| c == '&' || c == '=' || c.is_control()) {
                    return Err(Raw::invalid(
                        "cos.secret_id",
                        "contains '&', '=' or a control character",
                    ));
                }
                let region = raw.str("cos.region").ok_or_else(|| {
                    Raw::invalid(
                        "cos.region",
                        "required with COS credentials (e.g. ap-shanghai)",
                    )
                })?;
                let region = check_name("cos.region", region, false)?;
                let v4_endpoint = match raw.str("cos.v4_endpoint") {
                    Some(u) => check_url("cos.v4_endpoint", u)?,
                    None => format!("https://{}.file.myqcloud.com", v4_region(&region)),
                };
                let v5_endpoint = match raw.str("cos.v5_endpoint") {
                    Some(u) => check_url("cos.v5_endpoint", u)?,
                    None => format!("https://{bucket}-{appid}.cos.{region}.myqcloud.com"),
                };
                Some(CosConfig {
                    appid: appid.clone(),
                    bucket: bucket.clone(),
                    region,
                    credentials: Credentials::new(id, key),
                    v4_endpoint,
                    v5_endpoint,
                })
            }
            _ => None,
        };

        let jwt_secret = match (raw.str("jwt.secret"), &dev_secrets) {
            (Some(s), _) => {
                if !jwt_secret_is_strong(s) && !embedded_mode {
                    return Err(Raw::invalid(
                        "jwt.secret",
                        format!(
                            "too weak: use at least {MIN_JWT_SECRET_BYTES} random bytes \
                             (e.g. `openssl rand -base64 48`)"
                        ),
                    ));
                }
                SecretKey::new(s)
            }
            (None, Some(dev)) => SecretKey::new(dev.jwt_secret.clone()),
            (None, None) => {
                return Err(Raw::invalid(
                    "jwt.secret",
                    "required outside dev mode (at least 32 random bytes)",
                ));
            }
        };
        let ttl_secs = raw.parse("jwt.ttl_secs", 7200u64)?;
        if ttl_secs == 0 || ttl_secs > MAX_JWT_TTL_SECS {
            return Err(Raw::invalid(
                "jwt.ttl_secs",
                format!("must lie in 1..={MAX_JWT_TTL_SECS}"),
            ));
        }
        let leeway_secs = raw.parse("jwt.leeway_secs", 30u64)?;
        if leeway_secs > 300 {
            return Err(Raw::invalid("jwt.leeway_secs", "must be at most 300"));
        }
        let jwt = JwtConfig {
            secret: jwt_secret,
            issuer: raw.string_or("jwt.issuer", "metis-auth"),
            audience: raw.string_or("jwt.audience", "metis-upload"),
            ttl_secs,
            leeway_secs,
        };

        let api_base = check_url(
            "wechat.api_base",
            &raw.string_or("wechat.api_base", "https://api.weixin.qq.com"),
        )?;
        let wechat = WechatConfig {
            appid: raw.str("wechat.appid").map(str::to_owned),
            secret: raw.str("wechat.secret").map(SecretKey::new),
            api_base,
            timeout: Duration::from_secs(raw.parse("wechat.timeout_secs", 5u64)?.max(1)),
        };
        if wechat.appid.is_some() != wechat.secret.is_some() {
            return Err(ConfigError::Inconsistent(
                "set both wechat.appid (AUTH_WECHAT_APPID) and wechat.secret \
                 (AUTH_WECHAT_SECRET), or neither"
                    .into(),
            ));
        }

        let dev_login = raw.bool("signing.dev_login", false)? || embedded_mode;
        let sign_ttl_secs = raw.parse("signing.ttl_secs", 3600u64)?;
        if sign_ttl_secs == 0 || sign_ttl_secs > MAX_SIGN_TTL_SECS {
            return Err(Raw::invalid(
                "signing.ttl_secs",
                format!("must lie in 1..={MAX_SIGN_TTL_SECS}"),
            ));
        }
        let max_upload_size = raw.parse("signing.max_upload_size", 1u64 << 30)?;
        let v5_methods = match raw.list("signing.v5_methods") {
            None => ["PUT", "POST", "GET", "HEAD", "DELETE"]
                .map(String::from)
                .to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for m in list {
                    let m = m.to_ascii_uppercase();
                    if !["PUT", "POST", "GET", "HEAD", "DELETE"].contains(&m.as_str()) {
                        return Err(Raw::invalid(
                            "signing.v5_methods",
                            format!("unsupported method {m:?}"),
                        ));
                    }
                    out.push(m);
                }
                out
            }
        };
        let limits = RateLimits {
            login_per_minute: raw.parse("limits.login_per_minute", 30u32)?,
            login_burst: raw.parse("limits.login_burst", 10u32)?,
            sign_per_second: raw.parse("limits.sign_per_second", 20u32)?,
            sign_burst: raw.parse("limits.sign_burst", 100u32)?,
        };
        let faults = FaultConfig {
            seed: raw.parse("store.fault_seed", 0u64)?,
            error_rate: raw.rate("store.fault_error_rate", 0.0)?,
            drop_rate: raw.rate("store.fault_drop_rate", 0.0)?,
            lost_reply_rate: raw.rate("store.fault_lost_reply_rate", 0.0)?,
            latency: Duration::from_millis(raw.parse("store.fault_latency_ms", 0u64)?),
            latency_rate: raw.rate("store.fault_latency_rate", 0.0)?,
            // No setting: faults apply to reads and writes alike.
            scope: FaultScope::default(),
        };
        let embedded = EmbeddedConfig {
            appid,
            bucket,
            credentials: dev_secrets
                .as_ref()
                .map(|d| Credentials::new(d.cos_secret_id.clone(), d.cos_secret_key.clone())),
            faults,
            allow_remote: raw.bool("store.allow_remote", false)?,
        };
        let config = Config {
            bind,
            public_url,
            data_dir,
            database,
            jwt,
            cos,
            embedded,
            wechat,
            dev_login,
            sign_ttl_secs,
            max_upload_size,
            v5_methods,
            limits,
            trust_forwarded_for: raw.bool("server.trust_forwarded_for", false)?,
            workers,
            audit_queue,
            print_banner: raw.bool("store.print_banner", true)?,
            cors_allowed_origins,
        };
        config.check_exposure()?;
        Ok(config)
    }

    /// A configuration for tests: embedded store in `data_dir` with the known
    /// credentials [`TEST_SECRET_ID`]/[`TEST_SECRET_KEY`] (APPID `1250000000`,
    /// bucket `metis`), a random JWT secret, dev login on, bound to
    /// `127.0.0.1:0`, no banner, generous rate limits, and WeChat configured
    /// with appid `wx-test`/secret `wx-test-secret` at an unreachable base URL
    /// (set `wechat.api_base` to a fake).
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            data_dir: data_dir.to_owned(),
            database: data_dir.join("auth.sqlite3"),
            jwt: JwtConfig {
                secret: SecretKey::new(random_text(48)),
                issuer: "metis-auth".into(),
                audience: "metis-upload".into(),
                ttl_secs: 7200,
                leeway_secs: 30,
            },
            cos: None,
            embedded: EmbeddedConfig {
                appid: "1250000000".into(),
                bucket: "metis".into(),
                credentials: Some(Credentials::new(TEST_SECRET_ID, TEST_SECRET_KEY)),
                faults: FaultConfig::default(),
                allow_remote: false,
            },
            wechat: WechatConfig {
                appid: Some("wx-test".into()),
                secret: Some(SecretKey::new("wx-test-secret")),
                api_base: "http://127.0.0.1:9".into(),
                timeout: Duration::from_secs(5),
            },
            dev_login: true,
            sign_ttl_secs: 3600,
            max_upload_size: 1 << 30,
            v5_methods: ["PUT", "POST", "GET", "HEAD", "DELETE"]
                .map(String::from)
                .to_vec(),
            limits: RateLimits {
                login_per_minute: 100_000,
                login_burst: 10_000,
                sign_per_second: 100_000,
                sign_burst: 10_000,
            },
            trust_forwarded_for: false,
            workers: Some(2),
            audit_queue: 65_536,
            print_banner: false,
            cors_allowed_origins: Vec::new(),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&'static str, &str)]) -> Raw {
        Raw(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    #[test]
    fn embedded_mode_generates_and_persists_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = Config::from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(a.is_embedded() && a.dev_login);
        let b = Config::from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert_eq!(a.jwt.secret.expose_secret(), b.jwt.secret.expose_secret());
        assert!(jwt_secret_is_strong(a.jwt.secret.expose_secret()));
        let ca = a.embedded.credentials.unwrap();
        let cb = b.embedded.credentials.unwrap();
        assert_eq!(ca.secret_id, cb.secret_id);
        assert_eq!(ca.secret_key.expose_secret(), cb.secret_key.expose_secret());
        assert_eq!(a.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(a.sign_ttl_secs, 3600);
        assert_eq!(a.jwt.ttl_secs, 7200);
    }

    #[test]
    fn production_mode_refuses_missing_or_weak_jwt_secret() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let cos = [
            ("server.data_dir", d),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
        ];
        let err = Config::from_raw(&raw(&cos)).unwrap_err();
        assert!(err.to_string().contains("AUTH_JWT_SECRET"), "{err}");
        let mut weak = cos.to_vec();
        weak.push(("jwt.secret", "secret"));
        let e = Config::from_raw(&raw(&weak)).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    key: "jwt.secret",
                    ..
                }
            ),
            "{e}"
        );
        let mut repeated = cos.to_vec();
        let aaaa = "a".repeat(64);
        repeated.push(("jwt.secret", &aaaa));
        let e = Config::from_raw(&raw(&repeated)).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    key: "jwt.secret",
                    ..
                }
            ),
            "{e}"
        );
        let mut good = cos.to_vec();
        good.push(("jwt.secret", "0123456789abcdefghijklmnopqrstuvwxyzABCD"));
        let c = Config::from_raw(&raw(&good)).unwrap();
        assert!(!c.is_embedded() && !c.dev_login);
        let cos = c.cos.unwrap();
        assert_eq!(cos.v4_endpoint, "https://sh.file.myqcloud.com");
        assert_eq!(
            cos.v5_endpoint,
            "https://metis-1250000000.cos.ap-shanghai.myqcloud.com"
        );
        // Nothing was generated in production mode.
        assert!(!dir.path().join(DEV_SECRETS_FILE).exists());
    }

    #[test]
    fn bad_values_name_the_setting_and_never_echo_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let e = Config::from_raw(&raw(&[
            ("server.data_dir", d),
            ("signing.ttl_secs", "999999"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("AUTH_SIGN_TTL_SECS"), "{e}");
        let e = Config::from_raw(&raw(&[("server.data_dir", d), ("cos.secret_id", "AKID")]))
            .unwrap_err();
        assert!(e.to_string().contains("AUTH_COS_SECRET_KEY"), "{e}");
        let e = Config::from_raw(&raw(&[
            ("server.data_dir", d),
            ("cos.secret_id", "AKID"),
            ("cos.secret_key", "hunter2-super-secret"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", "tooshort-hunter3"),
        ]))
        .unwrap_err();
        let text = e.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("hunter3"),
            "{text}"
        );
        let e = Config::from_raw(&raw(&[("server.data_dir", d), ("limits.sign_burst", "x")]))
            .unwrap_err();
        assert!(e.to_string().contains("limits.sign_burst"), "{e}");
    }

    #[test]
    fn toml_file_is_flattened_and_unknown_keys_refused() {
        let p = Path::new("x.toml");
        let m = flatten_toml(
            p,
            "[server]\nbind = \"0.0.0.0:9000\"\n[signing]\nttl_secs = 600\nv5_methods = [\"PUT\", \"post\"]\n",
        )
        .unwrap();
        assert_eq!(m.get("server.bind").unwrap(), "0.0.0.0:9000");
        assert_eq!(m.get("signing.ttl_secs").unwrap(), "600");
        assert_eq!(m.get("signing.v5_methods").unwrap(), "PUT,post");
        for bad in ["[server]\nbnd = 1\n", "bind = 1\n"] {
            let r = flatten_toml(p, bad);
            assert!(matches!(r, Err(ConfigError::Parse { .. })), "{r:?}");
        }
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config.example.toml");
        let m = flatten_toml(Path::new("config.example.toml"), text).unwrap();
        assert!(!m.is_empty());
        assert_eq!(m.get("store.allow_remote").unwrap(), "false");
        assert_eq!(m.get("server.cors_allowed_origins").unwrap(), "");
        // The example, with its data_dir pointed elsewhere, is a valid configuration.
        let dir = tempfile::tempdir().unwrap();
        let mut m = m;
        m.insert("server.data_dir", dir.path().to_str().unwrap().to_owned());
        let c = Config::from_raw(&Raw(m)).unwrap();
        assert!(c.cors_allowed_origins.is_empty() && !c.embedded.allow_remote);
    }

    #[test]
    fn toml_syntax_errors_give_the_line_but_never_the_source_text() {
        let p = Path::new("bad.toml");
        for (text, line) in [
            ("[jwt]\nsecret = \"hunter2-unterminated\n", 2),
            ("[jwt]\nsecret = hunter2-bare-value\n", 2),
            (
                "[server]\nbind = \"127.0.0.1:1\"\n[cos]\nsecret_key = \"hunter2\" trailing\n",
                4,
            ),
            ("[cos]\nsecret_key = 'hunter2' = 'x'\n", 2),
            (
                "[cos]\nsecret_key = \"hunter2\"\nsecret_key = \"hunter2\"\n",
                3,
            ),
        ] {
            // The old rendering (toml's Display) quotes the offending line.
            let display = text.parse::<toml::Table>().unwrap_err().to_string();
            assert!(display.contains("hunter2"), "{display}");
            let e = flatten_toml(p, text).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{text:?} -> {e}");
            assert!(e.contains("bad.toml"), "{e}");
            assert!(
                e.contains(&format!("line {line}, column ")),
                "{text:?} -> {e}"
            );
        }
    }

    #[test]
    fn a_damaged_dev_secrets_file_is_refused_without_echoing_it() {
        for text in [
            "jwt_secret = \"hunter2-abcdefghijklmnopqrstuvwxyz0123456789\ncos_secret_id",
            "jwt_secret = 123456789\ncos_secret_id = \"AKIDhunter2\"\ncos_secret_key = \"hunter2\"\n",
            "jwt_secret = \"hunter2\"\ncos_secret_id = \"AKIDhunter2\"\n",
            "jwt_secret = \"hunter2\"\ncos_secret_id = \"AKIDhunter2\"\ncos_secret_key = \"hunter2\"\nhunter2 = 1\n",
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(DEV_SECRETS_FILE), text).unwrap();
            let d = dir.path().to_str().unwrap();
            let e = match Config::from_raw(&raw(&[("server.data_dir", d)])) {
                Ok(_) => panic!("{text:?} was accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(DEV_SECRETS_FILE), "{e}");
            assert!(
                !e.contains("hunter2") && !e.contains("123456789"),
                "{text:?} -> {e}"
            );
        }
        // A good file round-trips.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = Config::from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        let text = std::fs::read_to_string(dir.path().join(DEV_SECRETS_FILE)).unwrap();
        let parsed = DevSecrets::parse(Path::new("x"), &text).unwrap();
        assert_eq!(parsed.jwt_secret, a.jwt.secret.expose_secret());
    }

    #[test]
    fn embedded_mode_on_a_non_loopback_address_needs_an_explicit_opt_in() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for bind in ["0.0.0.0:8080", "[::]:8080", "192.0.2.7:8080"] {
            let e = Config::from_raw(&raw(&[("server.data_dir", d), ("server.bind", bind)]))
                .unwrap_err();
            assert!(matches!(e, ConfigError::EmbeddedNotLoopback { .. }), "{e}");
            let text = e.to_string();
            for part in [
                "log in as any user",
                "AUTH_STORE_ALLOW_REMOTE=true",
                "store.allow_remote",
            ] {
                assert!(text.contains(part), "{part} not in {text}");
            }
            let c = Config::from_raw(&raw(&[
                ("server.data_dir", d),
                ("server.bind", bind),
                ("store.allow_remote", "true"),
            ]))
            .unwrap();
            assert!(c.is_embedded() && c.embedded.allow_remote);
            let r = c.check_exposure();
            assert!(matches!(r, Ok(())), "{r:?}");
            assert!(
                c.warnings()
                    .iter()
                    .any(|w| w.contains("log in as any user"))
            );
        }
        for bind in ["127.0.0.1:8080", "127.0.0.2:0", "[::1]:8080"] {
            let c =
                Config::from_raw(&raw(&[("server.data_dir", d), ("server.bind", bind)])).unwrap();
            assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        }
        // With real COS credentials any address is fine.
        let c = Config::from_raw(&raw(&[
            ("server.data_dir", d),
            ("server.bind", "0.0.0.0:8080"),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", "0123456789abcdefghijklmnopqrstuvwxyzABCD"),
        ]))
        .unwrap();
        assert!(!c.is_embedded() && c.warnings().is_empty());
        // Fields are public: a config changed after loading is checked again.
        let mut tests = Config::for_tests(dir.path());
        tests.bind = "0.0.0.0:0".parse().unwrap();
        let r = tests.check_exposure();
        assert!(
            matches!(r, Err(ConfigError::EmbeddedNotLoopback { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn dev_login_with_real_cos_credentials_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let c = Config::from_raw(&raw(&[
            ("server.data_dir", d),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", "0123456789abcdefghijklmnopqrstuvwxyzABCD"),
            ("signing.dev_login", "true"),
        ]))
        .unwrap();
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("AUTH_DEV_LOGIN") && w[0].contains("real COS"),
            "{w:?}"
        );
        // Embedded mode has dev login on by design: no warning on loopback.
        let e = Config::from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(e.dev_login && e.warnings().is_empty());
    }

    #[test]
    fn cors_origins_are_exact_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let c = Config::from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(c.cors_allowed_origins.is_empty());
        let c = Config::from_raw(&raw(&[
            ("server.data_dir", d),
            (
                "server.cors_allowed_origins",
                "https://app.example.com, http://localhost:5173,https://app.example.com",
            ),
        ]))
        .unwrap();
        assert_eq!(
            c.cors_allowed_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
        for bad in [
            "*",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "ftp://app.example.com",
            "app.example.com",
            "https://",
            "null",
            "https://user@app.example.com",
        ] {
            let e = Config::from_raw(&raw(&[
                ("server.data_dir", d),
                ("server.cors_allowed_origins", bad),
            ]))
            .unwrap_err();
            assert!(
                e.to_string().contains("AUTH_CORS_ALLOWED_ORIGINS"),
                "{bad}: {e}"
            );
        }
        // From a file: an array of strings.
        let m = flatten_toml(
            Path::new("x.toml"),
            "[server]\ncors_allowed_origins = [\"https://a.example\", \"https://b.example\"]\n",
        )
        .unwrap();
        assert_eq!(
            m.get("server.cors_allowed_origins").unwrap(),
            "https://a.example,https://b.example"
        );
    }
}
