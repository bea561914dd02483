//! `Config::for_tests` and its fixed store credentials (feature
//! `test-support`; never in a deployed build).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cos_local::FaultConfig;
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, SecretKey};

use super::DatabaseConfig;
use super::dev_secrets::random_text;
use super::{Config, EmbeddedConfig, JwtConfig, RateLimits, StsConfig, StsScheme, WechatConfig};
use crate::db::DatabaseUrl;

/// The test COS SecretId of `Config::for_tests` (feature `test-support`).
pub const TEST_SECRET_ID: &str = "AKIDTestSecretId00000000000000000000";
/// The test COS SecretKey of `Config::for_tests` (feature `test-support`).
pub const TEST_SECRET_KEY: &str = "TestSecretKey0123456789abcdefABCDEF";

impl Config {
    /// A configuration for tests: embedded store in `data_dir` with the known
    /// credentials [`TEST_SECRET_ID`]/[`TEST_SECRET_KEY`] (APPID `1250000000`,
    /// bucket `metis`), a random JWT secret, dev login on, bound to
    /// `127.0.0.1:0`, no banner, generous rate limits, WeChat configured
    /// with appid `wx-test`/secret `wx-test-secret` at an unreachable base URL
    /// (set `wechat.api_base` to a fake), region `ap-guangzhou`, a random STS
    /// token key and the default `[sts]` settings (STS itself at an unreachable
    /// `http://127.0.0.1:9`; point `sts.endpoint` at a fake).
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            data_dir: data_dir.to_owned(),
            database: DatabaseConfig::new(DatabaseUrl::Sqlite(data_dir.join("auth.sqlite3"))),
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
                region: "ap-guangzhou".into(),
                credentials: Some(Credentials::new(TEST_SECRET_ID, TEST_SECRET_KEY)),
                faults: FaultConfig::default(),
                allow_remote: false,
                upload_ttl: Duration::from_secs(24 * 60 * 60),
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
            sts: StsConfig {
                duration_secs: 1800,
                allowed_extensions: "jpg,jpeg,png,gif,webp,heic,heif,avif,bmp,mp4,mov"
                    .split(',')
                    .map(String::from)
                    .collect(),
                allowed_content_types: vec!["image/*".into(), "video/*".into()],
                endpoint: "127.0.0.1:9".into(),
                scheme: StsScheme::Http,
                timeout: Duration::from_secs(5),
                reuse_margin_secs: 300,
                token_key: TokenKey::new(SecretKey::new(random_text(48))).ok(),
            },
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
}
