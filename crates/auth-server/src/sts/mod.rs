//! Issuing temporary COS credentials for a policy, behind one interface,
//! [`Issuer`], chosen by configuration:
//!
//! * [`mint`]: the server mints them itself in the embedded token format
//!   (`cos_sign::sts`), with the key the store checks them with. Embedded
//!   mode always; with `[cos]` credentials when `sts.token_key` is set (a
//!   standalone cos-local started with the same key).
//! * [`tencent`]: Tencent STS `GetFederationToken` (API 3.0, TC3-signed),
//!   with bounded retries; prefix credentials are reused from [`cache`] until
//!   `sts.reuse_margin_secs` before they expire, as Tencent asks callers to
//!   (the API allows 600 requests a second per account).
//!
//! The policy is built by the caller ([`shared::cam::Policy::for_upload`]);
//! this module never widens or reads it beyond passing it on.

pub mod cache;
pub mod mint;
pub mod tencent;

use std::fmt;
use std::sync::Arc;

use cos_sign::SecretKey;
use shared::cam::Policy;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::config::{Config, CosConfig};
use crate::metrics::Metrics;

/// Where a credential came from (the audit row's `source`, a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Minted by this server.
    Minted,
    /// From Tencent STS.
    Sts,
    /// From Tencent STS earlier, handed out again.
    Cache,
}

impl Source {
    /// `minted`, `sts` or `cache`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minted => "minted",
            Self::Sts => "sts",
            Self::Cache => "cache",
        }
    }
}

/// A credential set, ready for the reply.
#[derive(Clone)]
pub struct Issued {
    /// TmpSecretId.
    pub tmp_secret_id: String,
    /// TmpSecretKey (redacted in `Debug`; read only for the reply).
    pub tmp_secret_key: SecretKey,
    /// SecurityToken.
    pub security_token: String,
    /// StartTime, UNIX seconds.
    pub start_time: u64,
    /// ExpiredTime, UNIX seconds.
    pub expired_time: u64,
    /// Where it came from.
    pub source: Source,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("tmp_secret_id", &self.tmp_secret_id)
            .field("start_time", &self.start_time)
            .field("expired_time", &self.expired_time)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// `ExpiredTime` as STS writes `Expiration`: ISO 8601 in UTC,
/// `2026-12-02T13:23:20Z` (`None` past the year 9999).
pub fn expiration(expired_time: u64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(i64::try_from(expired_time).ok()?).ok()?;
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .ok()
}

/// Why no credential was issued. The text is for the log; clients get a
/// generic message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// Tencent STS could not be reached, or refused (after the retries).
    #[error("Tencent STS: {0}")]
    Unavailable(#[from] tencent::StsError),
    /// Minting failed (e.g. a policy too large for a token).
    #[error("minting failed: {0}")]
    Mint(#[from] cos_sign::sts::MintError),
}

/// What to issue: for whom (the cache key), with which policy, and whether it
/// is a prefix grant (only those are reused).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The user.
    pub user_id: u64,
    /// The policy the credentials carry.
    pub policy: &'a Policy,
    /// A prefix grant (reusable), not a one-key grant.
    pub prefix: bool,
}

/// Issues credentials: minted here, or from Tencent STS.
#[derive(Debug)]
pub enum Issuer {
    /// [`mint::Minter`].
    Mint(mint::Minter),
    /// [`tencent::Client`] with its [`cache::Cache`] of prefix credentials.
    Tencent {
        /// The STS client.
        client: tencent::Client,
        /// Prefix credentials handed out again.
        cache: cache::Cache,
    },
}

impl Issuer {
    /// The issuer the configuration asks for: minting when there is a token
    /// key (embedded mode always has one), else Tencent STS with `cos`'s key.
    pub fn new(
        config: &Config,
        cos: &CosConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        Ok(match &config.sts.token_key {
            Some(key) => Self::Mint(mint::Minter::new(key.clone(), config.sts.duration_secs)),
            None => Self::Tencent {
                client: tencent::Client::new(&config.sts, cos, metrics)?,
                cache: cache::Cache::new(config.sts.reuse_margin_secs),
            },
        })
    }

    /// Where credentials come from, for the startup log.
    pub fn describe(&self) -> String {
        match self {
            Self::Mint(_) => "minted locally (embedded token format)".to_owned(),
            Self::Tencent { client, .. } => format!("Tencent STS at {}", client.url()),
        }
    }

    /// Issues credentials for `req`; `now` is the issue time (UNIX seconds).
    pub async fn issue(&self, req: &Request<'_>, now: u64) -> Result<Issued, IssueError> {
        match self {
            Self::Mint(minter) => Ok(minter.mint(req.policy, now)?),
            Self::Tencent { client, cache } => {
                let policy = req.policy.to_json();
                if req.prefix
                    && let Some(hit) = cache.get(req.user_id, &policy, now)
                {
                    return Ok(hit);
                }
                let issued = client.get_federation_token(&policy).await?;
                if req.prefix {
                    cache.put(req.user_id, policy, issued.clone(), now);
                }
                Ok(issued)
            }
        }
    }
}
