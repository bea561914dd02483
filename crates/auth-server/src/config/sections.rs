//! From the settings as text to a [`Config`]: one function per section of the
//! file (`[server]`, `[cos]`, `[jwt]`, `[wechat]`, `[signing]`, `[sts]`,
//! `[limits]`, `[store]`, `[database]`), each checking its values. A refused value names its file key
//! and environment variable, never a secret's value.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cos_local::{FaultConfig, FaultScope};
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, SecretKey};

use super::DatabaseConfig;
use super::dev_secrets::{DevSecrets, load_or_create_dev_secrets};
use super::secret_strength::{RULE, Weakness, check_jwt_secret};
use super::source::{Raw, setting};
use super::{
    Config, ConfigError, CosConfig, EmbeddedConfig, JwtConfig, MAX_JWT_TTL_SECS, MAX_SIGN_TTL_SECS,
    MAX_STS_DURATION_SECS, MIN_STS_DURATION_SECS, MIN_STS_REUSE_MARGIN_SECS, RateLimits, StsConfig,
    StsScheme, WechatConfig,
};
use crate::db::DatabaseUrl;

/// The methods `POST /v1/cos/v5/sign` can sign (and signs by default).
const V5_METHODS: [&str; 5] = ["PUT", "POST", "GET", "HEAD", "DELETE"];

/// Builds and checks the whole configuration.
///
/// Without COS credentials this is embedded mode: the dev secrets are read
/// from the data directory, or generated and written there.
pub(super) fn from_raw(raw: &Raw) -> Result<Config, ConfigError> {
    let server = server(raw)?;
    let database = database(raw, server.database)?;
    let cos = cos(raw)?;
    let dev_secrets = match cos.account {
        None => Some(load_or_create_dev_secrets(&server.data_dir)?),
        Some(_) => None,
    };
    let jwt = jwt(raw, dev_secrets.as_ref())?;
    let wechat = wechat(raw)?;
    let signing = signing(raw, dev_secrets.is_some())?;
    let sts = sts(raw, dev_secrets.as_ref())?;
    let limits = limits(raw)?;
    let store = store(raw, cos.appid, cos.bucket, cos.region, dev_secrets.as_ref())?;
    let config = Config {
        bind: server.bind,
        public_url: server.public_url,
        data_dir: server.data_dir,
        database,
        jwt,
        cos: cos.account,
        embedded: store.embedded,
        wechat,
        dev_login: signing.dev_login,
        sign_ttl_secs: signing.ttl_secs,
        max_upload_size: signing.max_upload_size,
        v5_methods: signing.v5_methods,
        sts,
        limits,
        trust_forwarded_for: server.trust_forwarded_for,
        workers: server.workers,
        audit_queue: server.audit_queue,
        print_banner: store.print_banner,
        cors_allowed_origins: server.cors_allowed_origins,
    };
    config.check_exposure()?;
    Ok(config)
}

/// `[server]`.
struct Server {
    bind: SocketAddr,
    public_url: Option<String>,
    data_dir: PathBuf,
    database: PathBuf,
    workers: Option<usize>,
    audit_queue: usize,
    trust_forwarded_for: bool,
    cors_allowed_origins: Vec<String>,
}

fn server(raw: &Raw) -> Result<Server, ConfigError> {
    let bind: SocketAddr = raw.parse("server.bind", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
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
    Ok(Server {
        bind,
        public_url,
        data_dir,
        database,
        workers,
        audit_queue,
        trust_forwarded_for: raw.bool("server.trust_forwarded_for", false)?,
        cors_allowed_origins,
    })
}

/// `[database]`: `database.url` when set, else the SQLite file
/// `server.database` (the setting from before there was a choice, which
/// defaults to `<data_dir>/auth.sqlite3`).
fn database(raw: &Raw, sqlite_path: PathBuf) -> Result<DatabaseConfig, ConfigError> {
    let url = match raw.str("database.url") {
        // The message never quotes the URL, so never its password.
        Some(text) => {
            DatabaseUrl::parse(text).map_err(|why| Raw::invalid("database.url", why.to_string()))?
        }
        None => DatabaseUrl::Sqlite(sqlite_path),
    };
    let max_connections = raw.parse(
        "database.max_connections",
        DatabaseConfig::DEFAULT_MAX_CONNECTIONS,
    )?;
    if max_connections == 0 {
        return Err(Raw::invalid(
            "database.max_connections",
            "must be at least 1",
        ));
    }
    let key = "database.connect_timeout_secs";
    let connect_timeout = match raw.parse(key, DatabaseConfig::DEFAULT_CONNECT_TIMEOUT.as_secs())? {
        0 => return Err(Raw::invalid(key, "must be at least 1 (seconds)")),
        secs => Duration::from_secs(secs),
    };
    Ok(DatabaseConfig {
        url,
        max_connections,
        connect_timeout,
    })
}

/// `[cos]`: the bucket's identity, and the account when credentials are set
/// (`None`: embedded mode).
struct Cos {
    appid: String,
    bucket: String,
    region: String,
    account: Option<CosConfig>,
}

/// The region of the embedded store's bucket when `cos.region` is not set.
const EMBEDDED_REGION: &str = "ap-guangzhou";

fn cos(raw: &Raw) -> Result<Cos, ConfigError> {
    let secret_id = raw.str("cos.secret_id");
    let secret_key = raw.str("cos.secret_key");
    let credentials = match (secret_id, secret_key) {
        (Some(id), Some(key)) => Some((id, key)),
        (None, None) => None,
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
    let Some((id, key)) = credentials else {
        let region = check_name(
            "cos.region",
            &raw.string_or("cos.region", EMBEDDED_REGION),
            false,
        )?;
        return Ok(Cos {
            appid,
            bucket,
            region,
            account: None,
        });
    };
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
    let account = CosConfig {
        appid: appid.clone(),
        bucket: bucket.clone(),
        region: region.clone(),
        credentials: Credentials::new(id, key),
        v4_endpoint,
        v5_endpoint,
    };
    Ok(Cos {
        appid,
        bucket,
        region,
        account: Some(account),
    })
}

/// `[jwt]`. In embedded mode (`dev` secrets present) a missing secret is the
/// generated one and a weak one is accepted; otherwise the secret must meet
/// the rule of [`check_jwt_secret`].
fn jwt(raw: &Raw, dev: Option<&DevSecrets>) -> Result<JwtConfig, ConfigError> {
    let secret = match (raw.str("jwt.secret"), dev) {
        (Some(s), _) => {
            if dev.is_none() {
                let credentials: Vec<(&'static str, &str)> = CREDENTIALS
                    .iter()
                    .filter_map(|&key| raw.str(key).map(|value| (key, value)))
                    .collect();
                check_jwt_secret(s, &credentials)
                    .map_err(|why| Raw::invalid("jwt.secret", weakness_message(why)))?;
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
    Ok(JwtConfig {
        secret,
        issuer: raw.string_or("jwt.issuer", "metis-auth"),
        audience: raw.string_or("jwt.audience", "metis-upload"),
        ttl_secs,
        leeway_secs,
    })
}

/// The settings a JWT secret must share nothing with: the other secrets, and
/// the public ids (a secret containing one is partly public).
const CREDENTIALS: [&str; 4] = [
    "cos.secret_key",
    "cos.secret_id",
    "wechat.secret",
    "wechat.appid",
];

/// What a refused JWT secret is told: the rule, or the setting it reuses;
/// never the secret.
fn weakness_message(why: Weakness) -> String {
    match why {
        Weakness::TooWeak => format!("too weak: {RULE}"),
        Weakness::Shares(key) => {
            let env = setting(key).map_or("?", |(_, env)| env);
            format!(
                "must not equal, contain or be part of {key} ({env}): use a separate \
                 random secret (e.g. `openssl rand -base64 48`)"
            )
        }
    }
}

/// `[wechat]`.
fn wechat(raw: &Raw) -> Result<WechatConfig, ConfigError> {
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
    Ok(wechat)
}

/// `[signing]`.
struct Signing {
    dev_login: bool,
    ttl_secs: u64,
    max_upload_size: u64,
    v5_methods: Vec<String>,
}

/// `[signing]`; dev login is always on in embedded mode.
fn signing(raw: &Raw, embedded: bool) -> Result<Signing, ConfigError> {
    let dev_login = raw.bool("signing.dev_login", false)? || embedded;
    let ttl_secs = raw.parse("signing.ttl_secs", 3600u64)?;
    if ttl_secs == 0 || ttl_secs > MAX_SIGN_TTL_SECS {
        return Err(Raw::invalid(
            "signing.ttl_secs",
            format!("must lie in 1..={MAX_SIGN_TTL_SECS}"),
        ));
    }
    let max_upload_size = raw.parse("signing.max_upload_size", 1u64 << 30)?;
    let v5_methods = match raw.list("signing.v5_methods") {
        None => V5_METHODS.map(String::from).to_vec(),
        Some(list) => {
            let mut out = Vec::new();
            for m in list {
                let m = m.to_ascii_uppercase();
                if !V5_METHODS.contains(&m.as_str()) {
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
    Ok(Signing {
        dev_login,
        ttl_secs,
        max_upload_size,
        v5_methods,
    })
}

/// The extensions `POST /v1/cos/credentials` allows by default: photos and
/// the videos phones record.
const DEFAULT_EXTENSIONS: &str = "jpg,jpeg,png,gif,webp,heic,heif,avif,bmp,mp4,mov";

/// `[sts]`. The token key: `sts.token_key` when set (at least 32 bytes), else
/// in embedded mode the generated one.
fn sts(raw: &Raw, dev: Option<&DevSecrets>) -> Result<StsConfig, ConfigError> {
    let duration_secs = raw.parse("sts.duration_secs", 1800u64)?;
    if !(MIN_STS_DURATION_SECS..=MAX_STS_DURATION_SECS).contains(&duration_secs) {
        return Err(Raw::invalid(
            "sts.duration_secs",
            format!(
                "must lie in {MIN_STS_DURATION_SECS}..={MAX_STS_DURATION_SECS} (7200 s is the \
                 longest Tencent STS grants a root account's key)"
            ),
        ));
    }
    let allowed_extensions =
        list_setting(raw, "sts.allowed_extensions", DEFAULT_EXTENSIONS, |e| {
            let e = e.to_ascii_lowercase();
            let ok = !e.is_empty() && e.len() <= 16 && e.bytes().all(|c| c.is_ascii_alphanumeric());
            ok.then_some(e)
                .ok_or("an extension is 1-16 letters or digits, without the '.'")
        })?;
    let allowed_content_types =
        list_setting(raw, "sts.allowed_content_types", "image/*,video/*", |t| {
            let t = t.to_ascii_lowercase();
            crate::grant::credentials::content_type_pattern(&t)
                .then_some(t)
                .ok_or("a content type is type/subtype or type/* (e.g. image/jpeg, image/*)")
        })?;
    let endpoint = raw.string_or("sts.endpoint", "sts.tencentcloudapi.com");
    let host_ok = !endpoint.is_empty()
        && endpoint.len() <= 253
        && endpoint
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'));
    if !host_ok {
        return Err(Raw::invalid(
            "sts.endpoint",
            format!("{endpoint:?} is not host[:port] (no scheme, no path)"),
        ));
    }
    let scheme = match raw
        .str("sts.scheme")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("https") => StsScheme::Https,
        Some("http") => StsScheme::Http,
        Some(other) => {
            return Err(Raw::invalid(
                "sts.scheme",
                format!("expected https or http, got {other:?}"),
            ));
        }
    };
    let reuse_margin_secs = raw.parse("sts.reuse_margin_secs", 300u64)?;
    if reuse_margin_secs < MIN_STS_REUSE_MARGIN_SECS {
        return Err(Raw::invalid(
            "sts.reuse_margin_secs",
            format!(
                "must be at least {MIN_STS_REUSE_MARGIN_SECS}: the SDKs ask for new credentials \
                 once fewer than 60 s are left"
            ),
        ));
    }
    let token_key = match (raw.str("sts.token_key"), dev) {
        (Some(key), _) => Some(key.to_owned()),
        (None, Some(dev)) => Some(dev.sts_token_key.clone()),
        (None, None) => None,
    }
    .map(|key| TokenKey::new(SecretKey::new(key)))
    .transpose()
    .map_err(|e| Raw::invalid("sts.token_key", e.to_string()))?;
    Ok(StsConfig {
        duration_secs,
        allowed_extensions,
        allowed_content_types,
        endpoint,
        scheme,
        timeout: Duration::from_secs(raw.parse("sts.timeout_secs", 5u64)?.max(1)),
        reuse_margin_secs,
        token_key,
    })
}

/// A non-empty comma-separated list setting (default `default`), each item
/// checked by `item`; duplicates dropped.
fn list_setting(
    raw: &Raw,
    key: &str,
    default: &str,
    item: impl Fn(&str) -> Result<String, &'static str>,
) -> Result<Vec<String>, ConfigError> {
    let items = raw
        .list(key)
        .unwrap_or_else(|| default.split(',').collect());
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let v = item(i).map_err(|why| Raw::invalid(key, format!("{i:?}: {why}")))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(Raw::invalid(key, "must list at least one item"));
    }
    Ok(out)
}

/// `[limits]`.
fn limits(raw: &Raw) -> Result<RateLimits, ConfigError> {
    Ok(RateLimits {
        login_per_minute: raw.parse("limits.login_per_minute", 30u32)?,
        login_burst: raw.parse("limits.login_burst", 10u32)?,
        sign_per_second: raw.parse("limits.sign_per_second", 20u32)?,
        sign_burst: raw.parse("limits.sign_burst", 100u32)?,
    })
}

/// `[store]`: the embedded store (used when there are no COS credentials).
struct Store {
    embedded: EmbeddedConfig,
    print_banner: bool,
}

fn store(
    raw: &Raw,
    appid: String,
    bucket: String,
    region: String,
    dev: Option<&DevSecrets>,
) -> Result<Store, ConfigError> {
    let faults = FaultConfig {
        seed: raw.parse("store.fault_seed", 0u64)?,
        error_rate: raw.rate("store.fault_error_rate", 0.0)?,
        drop_rate: raw.rate("store.fault_drop_rate", 0.0)?,
        lost_reply_rate: raw.rate("store.fault_lost_reply_rate", 0.0)?,
        latency: Duration::from_millis(raw.parse("store.fault_latency_ms", 0u64)?),
        latency_rate: raw.rate("store.fault_latency_rate", 0.0)?,
        // No setting: faults apply to reads and writes alike.
        scope: FaultScope::default(),
        // No setting: tests simulate a full disk in code.
        disk_full: false,
    };
    let embedded = EmbeddedConfig {
        appid,
        bucket,
        region,
        credentials: dev
            .map(|d| Credentials::new(d.cos_secret_id.clone(), d.cos_secret_key.clone())),
        faults,
        allow_remote: raw.bool("store.allow_remote", false)?,
        upload_ttl: upload_ttl(raw)?,
    };
    Ok(Store {
        embedded,
        print_banner: raw.bool("store.print_banner", true)?,
    })
}

/// `store.upload_ttl_secs`: at least one second (default a day).
fn upload_ttl(raw: &Raw) -> Result<Duration, ConfigError> {
    let key = "store.upload_ttl_secs";
    match raw.parse(key, 24 * 60 * 60u64)? {
        0 => Err(Raw::invalid(key, "must be at least 1 (seconds)")),
        secs => Ok(Duration::from_secs(secs)),
    }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::dev_secrets::DEV_SECRETS_FILE;
    use crate::config::secret_strength::STRONG_TEST_SECRET;
    use crate::config::source::{flatten_toml, raw};

    #[test]
    fn embedded_mode_generates_and_persists_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(a.is_embedded() && a.dev_login);
        let b = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert_eq!(a.jwt.secret.expose_secret(), b.jwt.secret.expose_secret());
        assert!(crate::config::jwt_secret_is_strong(
            a.jwt.secret.expose_secret()
        ));
        let ca = a.embedded.credentials.unwrap();
        let cb = b.embedded.credentials.unwrap();
        assert_eq!(ca.secret_id, cb.secret_id);
        assert_eq!(ca.secret_key.expose_secret(), cb.secret_key.expose_secret());
        assert_eq!(a.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(a.sign_ttl_secs, 3600);
        assert_eq!(a.jwt.ttl_secs, 7200);
    }

    #[test]
    fn database_url_wins_over_the_sqlite_path_and_never_shows_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let db = |pairs: &[(&'static str, &'static str)]| {
            let mut all = vec![("server.data_dir", d)];
            all.extend_from_slice(pairs);
            from_raw(&raw(&all)).map(|c| c.database)
        };
        let default = db(&[]).unwrap();
        assert_eq!(
            default.url,
            DatabaseUrl::Sqlite(dir.path().join("auth.sqlite3"))
        );
        assert_eq!(
            (default.max_connections, default.connect_timeout),
            (10, Duration::from_secs(10))
        );
        let path = db(&[("server.database", "/var/lib/a.db")]).unwrap();
        assert_eq!(path.url, DatabaseUrl::Sqlite("/var/lib/a.db".into()));
        let pg = db(&[
            ("server.database", "/var/lib/a.db"),
            ("database.url", "postgres://app:hunter2@db:5432/auth"),
            ("database.max_connections", "4"),
            ("database.connect_timeout_secs", "3"),
        ])
        .unwrap();
        assert!(matches!(pg.url, DatabaseUrl::Postgres(_)), "{pg:?}");
        assert_eq!(
            (pg.max_connections, pg.connect_timeout),
            (4, Duration::from_secs(3))
        );
        assert!(!format!("{pg:?}").contains("hunter2"), "{pg:?}");
        for (key, bad, env) in [
            (
                "database.url",
                "mysql://app:hunter2@db/auth",
                "AUTH_DATABASE_URL",
            ),
            (
                "database.url",
                "postgres://app:hunter2@/auth",
                "AUTH_DATABASE_URL",
            ),
            (
                "database.max_connections",
                "0",
                "AUTH_DATABASE_MAX_CONNECTIONS",
            ),
            (
                "database.connect_timeout_secs",
                "0",
                "AUTH_DATABASE_CONNECT_TIMEOUT_SECS",
            ),
        ] {
            let e = db(&[(key, bad)]).unwrap_err().to_string();
            assert!(e.contains(env) && !e.contains("hunter2"), "{bad}: {e}");
        }
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
        let err = from_raw(&raw(&cos)).unwrap_err();
        assert!(err.to_string().contains("AUTH_JWT_SECRET"), "{err}");
        let mut weak = cos.to_vec();
        weak.push(("jwt.secret", "secret"));
        let e = from_raw(&raw(&weak)).unwrap_err();
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
        let e = from_raw(&raw(&repeated)).unwrap_err();
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
        // Patterned, or a credential the server holds: refused, naming the
        // rule or the setting, never the value.
        let abcdefgh = "abcdefgh".repeat(4);
        let cos_key = "Zq4Lm8Xv2Rt6Nw0Pk3Hs7Jd1Fb5Gc9Ye";
        let wechat_secret = "9e107d9d372bb6826bd81d3542a419d6";
        for (secret, names) in [
            (
                abcdefgh.as_str(),
                "at least 32 bytes and an estimated 128 bits",
            ),
            (cos_key, "AUTH_COS_SECRET_KEY"),
            (wechat_secret, "AUTH_WECHAT_SECRET"),
        ] {
            let mut settings = cos.to_vec();
            settings[2] = ("cos.secret_key", cos_key);
            settings.extend([
                ("wechat.appid", "wx1234567890abcdef"),
                ("wechat.secret", wechat_secret),
                ("jwt.secret", secret),
            ]);
            let e = from_raw(&raw(&settings)).unwrap_err();
            let text = e.to_string();
            assert!(
                matches!(
                    e,
                    ConfigError::Invalid {
                        key: "jwt.secret",
                        ..
                    }
                ),
                "{text}"
            );
            assert!(text.contains(names), "{text}");
            assert!(!text.contains(secret), "{text}");
        }
        let mut good = cos.to_vec();
        good.push(("jwt.secret", STRONG_TEST_SECRET));
        let c = from_raw(&raw(&good)).unwrap();
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
        let e = from_raw(&raw(&[
            ("server.data_dir", d),
            ("signing.ttl_secs", "999999"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("AUTH_SIGN_TTL_SECS"), "{e}");
        let e = from_raw(&raw(&[("server.data_dir", d), ("cos.secret_id", "AKID")])).unwrap_err();
        assert!(e.to_string().contains("AUTH_COS_SECRET_KEY"), "{e}");
        let e = from_raw(&raw(&[
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
        let e = from_raw(&raw(&[("server.data_dir", d), ("limits.sign_burst", "x")])).unwrap_err();
        assert!(e.to_string().contains("limits.sign_burst"), "{e}");
    }

    #[test]
    fn embedded_mode_on_a_non_loopback_address_needs_an_explicit_opt_in() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for bind in ["0.0.0.0:8080", "[::]:8080", "192.0.2.7:8080"] {
            let e = from_raw(&raw(&[("server.data_dir", d), ("server.bind", bind)])).unwrap_err();
            assert!(matches!(e, ConfigError::EmbeddedNotLoopback { .. }), "{e}");
            let text = e.to_string();
            for part in [
                "log in as any user",
                "AUTH_STORE_ALLOW_REMOTE=true",
                "store.allow_remote",
            ] {
                assert!(text.contains(part), "{part} not in {text}");
            }
            let c = from_raw(&raw(&[
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
            let c = from_raw(&raw(&[("server.data_dir", d), ("server.bind", bind)])).unwrap();
            assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        }
        // With real COS credentials any address is fine.
        let c = from_raw(&raw(&[
            ("server.data_dir", d),
            ("server.bind", "0.0.0.0:8080"),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", STRONG_TEST_SECRET),
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
        let c = from_raw(&raw(&[
            ("server.data_dir", d),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", STRONG_TEST_SECRET),
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
        let e = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(e.dev_login && e.warnings().is_empty());
    }

    #[test]
    fn the_store_upload_ttl_is_whole_seconds_of_at_least_one() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let ttl = |v: &'static str| {
            from_raw(&raw(&[
                ("server.data_dir", d),
                ("store.upload_ttl_secs", v),
            ]))
            .map(|c| c.embedded.upload_ttl)
        };
        let default = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert_eq!(default.embedded.upload_ttl, Duration::from_secs(86_400));
        assert_eq!(ttl("90").unwrap(), Duration::from_secs(90));
        for bad in ["0", "-1", "1.5", "a day"] {
            let e = ttl(bad).unwrap_err().to_string();
            assert!(e.contains("AUTH_STORE_UPLOAD_TTL_SECS"), "{bad}: {e}");
        }
    }

    #[test]
    fn cors_origins_are_exact_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let c = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(c.cors_allowed_origins.is_empty());
        let c = from_raw(&raw(&[
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
            let e = from_raw(&raw(&[
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

    #[test]
    fn sts_settings_have_defaults_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let c = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert_eq!(c.sts.duration_secs, 1800);
        assert_eq!(c.sts.allowed_extensions.len(), 11);
        assert_eq!(c.sts.allowed_content_types, ["image/*", "video/*"]);
        assert_eq!(c.sts.endpoint, "sts.tencentcloudapi.com");
        assert_eq!(c.sts.scheme, StsScheme::Https);
        assert_eq!(c.sts.timeout, Duration::from_secs(5));
        assert_eq!(c.sts.reuse_margin_secs, 300);
        // Embedded: the generated token key, and the default region.
        assert!(c.sts.token_key.is_some());
        assert_eq!(c.embedded.region, "ap-guangzhou");
        let c = from_raw(&raw(&[
            ("server.data_dir", d),
            ("cos.region", "ap-shanghai"),
            ("sts.duration_secs", "60"),
            ("sts.allowed_extensions", "JPG, .png"),
            ("sts.allowed_content_types", "image/jpeg,Video/*"),
            ("sts.endpoint", "127.0.0.1:9000"),
            ("sts.scheme", "HTTP"),
            ("sts.reuse_margin_secs", "60"),
        ]));
        let e = c.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("AUTH_STS_ALLOWED_EXTENSIONS") && e.contains("\".png\""),
            "{e}"
        );
        let c = from_raw(&raw(&[
            ("server.data_dir", d),
            ("cos.region", "ap-shanghai"),
            ("sts.duration_secs", "7200"),
            ("sts.allowed_extensions", "JPG, png,jpg"),
            ("sts.allowed_content_types", "image/jpeg,Video/*"),
            ("sts.endpoint", "127.0.0.1:9000"),
            ("sts.scheme", "HTTP"),
            ("sts.reuse_margin_secs", "60"),
        ]))
        .unwrap();
        assert_eq!(c.embedded.region, "ap-shanghai");
        assert_eq!(c.sts.allowed_extensions, ["jpg", "png"]);
        assert_eq!(c.sts.allowed_content_types, ["image/jpeg", "video/*"]);
        assert_eq!(c.sts.scheme, StsScheme::Http);
        for (key, value, env) in [
            ("sts.duration_secs", "59", "AUTH_STS_DURATION_SECS"),
            ("sts.duration_secs", "7201", "AUTH_STS_DURATION_SECS"),
            ("sts.reuse_margin_secs", "59", "AUTH_STS_REUSE_MARGIN_SECS"),
            (
                "sts.allowed_content_types",
                "image",
                "AUTH_STS_ALLOWED_CONTENT_TYPES",
            ),
            (
                "sts.allowed_content_types",
                "*/*",
                "AUTH_STS_ALLOWED_CONTENT_TYPES",
            ),
            (
                "sts.allowed_extensions",
                "tar.gz",
                "AUTH_STS_ALLOWED_EXTENSIONS",
            ),
            (
                "sts.endpoint",
                "https://sts.tencentcloudapi.com",
                "AUTH_STS_ENDPOINT",
            ),
            (
                "sts.endpoint",
                "sts.tencentcloudapi.com/x",
                "AUTH_STS_ENDPOINT",
            ),
            ("sts.scheme", "ftp", "AUTH_STS_SCHEME"),
            ("sts.token_key", "hunter2-too-short", "AUTH_STS_TOKEN_KEY"),
            ("cos.region", "AP_X", "AUTH_COS_REGION"),
        ] {
            let e = from_raw(&raw(&[("server.data_dir", d), (key, value)])).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(env), "{key}={value}: {text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        // With COS credentials: Tencent STS unless a token key is set.
        let cos = [
            ("server.data_dir", d),
            ("cos.secret_id", "AKIDx"),
            ("cos.secret_key", "k"),
            ("cos.region", "ap-shanghai"),
            ("jwt.secret", STRONG_TEST_SECRET),
        ];
        assert!(from_raw(&raw(&cos)).unwrap().sts.token_key.is_none());
        let key = "t".repeat(32);
        let mut with_key = cos.to_vec();
        with_key.push(("sts.token_key", &key));
        assert!(from_raw(&raw(&with_key)).unwrap().sts.token_key.is_some());
    }
}
