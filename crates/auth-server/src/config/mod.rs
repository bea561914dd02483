//! Configuration: an optional TOML file overlaid by environment variables
//! (12-factor). This is the only module that reads the environment.
//!
//! Every setting has a file key (`section.name`) and an environment variable;
//! the environment wins. See the crate docs for the full table and
//! `config.example.toml` for a commented sample.
//!
//! - `source.rs`: the table of settings, and reading them as text from the
//!   TOML file, the environment and command-line overrides;
//! - `sections.rs`: turning that text into a [`Config`], one function per
//!   section, with the checks of each value;
//! - `dev_secrets.rs`: the JWT secret and store credentials generated once and
//!   kept in the data directory in embedded mode;
//! - `secret_strength.rs`: the rule a JWT secret meets outside embedded mode
//!   (length, estimated entropy, no reused credential);
//! - `types.rs`: the [`Config`] the server runs with;
//! - `for_tests.rs`: `Config::for_tests` (feature `test-support`).

mod dev_secrets;
#[cfg(any(test, feature = "test-support"))]
mod for_tests;
mod secret_strength;
mod sections;
mod source;
mod types;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[cfg(any(test, feature = "test-support"))]
pub use for_tests::{TEST_SECRET_ID, TEST_SECRET_KEY};
pub use secret_strength::{MIN_JWT_SECRET_BITS, estimated_bits, jwt_secret_is_strong};
pub use types::DatabaseConfig;
pub use types::{
    Config, CosConfig, EmbeddedConfig, JwtConfig, MAX_JWT_TTL_SECS, MAX_SIGN_TTL_SECS,
    MAX_STS_DURATION_SECS, MIN_JWT_SECRET_BYTES, MIN_STS_DURATION_SECS, MIN_STS_REUSE_MARGIN_SECS,
    RateLimits, StsConfig, StsScheme, WechatConfig,
};

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
        sections::from_raw(&source::read(file, overrides)?)
    }
}
