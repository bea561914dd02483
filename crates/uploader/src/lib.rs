//! The mini-program's upload flow as a library, and bulk uploads on top of it.
//!
//! * [`ServerClient`] talks to the auth server the way the app does: log in
//!   ([`ServerClient::login_dev`], [`ServerClient::login_code`]), then ask for
//!   signatures ([`ServerClient::sign_v4`], [`ServerClient::sign_v5`],
//!   [`ServerClient::post_policy`]). The uploader never holds a COS secret.
//! * [`Uploader`] uploads one file: [`upload_file_v4`] (multipart `op=upload`,
//!   slice upload above [`UploadConfig::large_threshold`]) or [`upload_file_v5`]
//!   (PUT or POST Object, multipart upload for large files). Bodies stream from
//!   disk in fixed chunks; requests are retried with backoff and jitter when
//!   they get no reply or a 408, 429 or 5xx other than 507 (the rules are in
//!   [`retry`]); v4 signatures are renewed before they expire and after a -96.
//! * [`run`] uploads files and directories with bounded concurrency, a resume
//!   [`Journal`], progress, optional verification, and returns a [`Report`].
//!
//! A bulk run is described by [`RunOptions`]; everything not named keeps its
//! default (v4, 8 files at once, slices above 20 MiB, 6 attempts per request,
//! stop after 10 s without any reply):
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use uploader::{Protocol, RetryPolicy, RunOptions, UploadConfig};
//!
//! let opts = RunOptions {
//!     paths: vec!["photos".into()],
//!     prefix: Some("2024".into()),
//!     protocol: Protocol::V5Put,
//!     upload: UploadConfig {
//!         retry: RetryPolicy { max_attempts: 3, ..RetryPolicy::default() },
//!         ..UploadConfig::default()
//!     },
//!     ..RunOptions::default()
//! };
//! assert_eq!(opts.concurrency, 8);
//! assert_eq!(opts.upload.large_threshold, 20 * 1024 * 1024);
//!
//! // The prefix is resolved inside the user's upload directory, never outside it.
//! let home = shared::DirPath::parse("/u/7/")?;
//! let target = uploader::target_dir(&home, opts.prefix.as_deref())?;
//! assert_eq!(target.as_str(), "/u/7/2024/");
//! let outside = uploader::target_dir(&home, Some("/u/8/"));
//! assert!(matches!(outside, Err(uploader::Error::Usage(_))), "{outside:?}");
//! # Ok(()) }
//! ```
//!
//! Logging in and running it against a server:
//!
//! ```no_run
//! # async fn demo() -> Result<(), uploader::Error> {
//! use std::sync::Arc;
//! let client = Arc::new(uploader::ServerClient::new(reqwest::Client::new(), "http://127.0.0.1:8080"));
//! client.login_dev("alice").await?;
//! let opts = uploader::RunOptions { paths: vec!["photos".into()], ..Default::default() };
//! let report = uploader::run(client, &opts, Arc::new(uploader::NoProgress), Default::default()).await?;
//! println!("{}", report.summary.line());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
pub mod client;
pub mod error;
mod file_ctx;
mod hash;
mod job;
pub mod journal;
#[cfg(test)]
mod mock;
mod plan;
pub mod progress;
mod redact;
pub mod report;
pub mod retry;
mod run;
pub mod sign_cache;
mod upload;
mod v4;
mod v5;
mod verify;
pub mod walk;

pub use client::{Login, ServerClient, Session};
pub use cos_sign::{encode_component, encode_path};
pub use error::Error;
pub use file_ctx::FileCtx;
pub use hash::{FileHashes, hash_file};
pub use job::FileJob;
pub use journal::{Destination, FileIdentity, Journal, JournalState, Record};
pub use plan::{RunPlan, target_dir};
pub use progress::{BarProgress, NoProgress, PlainProgress, Progress};
pub use report::{FileReport, Report, Status, Stop, Summary};
pub use retry::RetryPolicy;
pub use run::{RunOptions, run};
pub use sign_cache::SignCache;
pub use tokio_util::sync::CancellationToken;
pub use upload::{
    Outcome, Protocol, UploadConfig, Uploaded, Uploader, upload_file_v4, upload_file_v5,
};
pub use v5::{FORBID_OVERWRITE, META_SHA1};
pub use verify::verify_object;
pub use walk::{LocalFile, Root, Walk, WalkOptions};

/// Builds the HTTP client every request shares: one connection pool with
/// keep-alive, `TCP_NODELAY`, a connect timeout and a read timeout (no total
/// timeout, so large uploads are not cut off).
pub fn http_client(concurrency: usize) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1) * 4)
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .tcp_nodelay(true)
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(120))
        .user_agent(concat!("cos-upload/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::request("the HTTP client", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_encoding_matches_the_cos_rules() {
        assert_eq!(
            encode_path("/a/b(1)!'*~ c.jpg"),
            "/a/b%281%29%21%27%2A~%20c.jpg"
        );
        assert_eq!(
            encode_path("xrzeti/测试 图片.jpg"),
            "xrzeti/%E6%B5%8B%E8%AF%95%20%E5%9B%BE%E7%89%87.jpg"
        );
    }
}
