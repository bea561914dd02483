//! Typed errors, classified by what failed: logging in, getting a signature,
//! the store refusing an upload, the network, verification, local files.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the uploader library can fail with.
///
/// [`Error::is_retryable`] says whether the same request may succeed if sent
/// again (network trouble, 5xx, 503 slow-down, 429); the retry loop in
/// [`crate::retry`] uses it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The auth server refused the login or the token (HTTP 401), or no login
    /// was done before asking for a signature.
    #[error("authentication failed: {message}")]
    Auth {
        /// The server's `error_code`, or a local reason.
        code: String,
        /// Human-readable explanation.
        message: String,
    },
    /// The auth server refused to sign (HTTP 400/403: outside the caller's
    /// prefix, bad key, size limit…), or the store rejected a signature
    /// (v4 -97/-61, v5 403).
    #[error("signature refused: {message}")]
    Sign {
        /// The server's `error_code` or the store's error code.
        code: String,
        /// Human-readable explanation.
        message: String,
    },
    /// The store refused the upload for a reason that sending it again will not fix.
    #[error("the store refused the upload: {message} (code {code})")]
    Upload {
        /// v4 negative code, or the v5 XML `<Code>`.
        code: String,
        /// The store's message.
        message: String,
    },
    /// An object with different content already exists under this key; it was not
    /// overwritten (v4 -177 with `insertOnly=1`, v5 `x-cos-forbid-overwrite`).
    #[error("an object with different content already exists at {key}")]
    Exists {
        /// The object key.
        key: String,
    },
    /// A server answered with a status or code worth retrying (5xx, 503
    /// slow-down, 429, v4 internal error).
    #[error("server error from {service}: HTTP {status}: {message}")]
    Server {
        /// `auth server` or `store`.
        service: &'static str,
        /// HTTP status.
        status: u16,
        /// What the server said (shortened).
        message: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The request did not complete: connection refused or reset, timeout,
    /// truncated body.
    #[error("network error talking to {service}: {source}")]
    Network {
        /// `auth server` or `store`.
        service: &'static str,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A reply could not be understood.
    #[error("unexpected reply from {service}: {message}")]
    Protocol {
        /// `auth server` or `store`.
        service: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The downloaded object does not match the local file.
    #[error("verification failed for {url}: {message}")]
    Verify {
        /// What was downloaded.
        url: String,
        /// Expected versus found.
        message: String,
    },
    /// A local file name cannot become an object key.
    #[error("{path}: cannot be used as an object key: {source}")]
    Key {
        /// The local path (or relative name).
        path: String,
        /// Why the key was refused.
        #[source]
        source: shared::KeyError,
    },
    /// Reading a local file, or the journal, failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The local file changed while it was being uploaded.
    #[error("{}: the file changed during the upload ({what})", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// What changed.
        what: String,
    },
    /// Bad options (glob, prefix outside the caller's directory…).
    #[error("invalid options: {0}")]
    Usage(String),
    /// The run was cancelled before this file completed.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// True when sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Server { .. } | Error::Network { .. })
    }

    /// `Retry-After` hint from the server, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short, stable name of the kind, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Auth { .. } => "auth",
            Error::Sign { .. } => "sign",
            Error::Upload { .. } => "upload",
            Error::Exists { .. } => "exists",
            Error::Server { .. } => "server",
            Error::Network { .. } => "network",
            Error::Protocol { .. } => "protocol",
            Error::Verify { .. } => "verify",
            Error::Key { .. } => "key",
            Error::Io { .. } => "io",
            Error::Changed { .. } => "changed",
            Error::Usage(_) => "usage",
            Error::Cancelled => "cancelled",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn network(service: &'static str, source: reqwest::Error) -> Self {
        Error::Network { service, source }
    }
}

/// Shortens a server message for error text (bodies can be HTML pages).
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 300;
    let t = body.trim();
    if t.len() <= MAX {
        return t.to_owned();
    }
    let mut end = MAX;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &t[..end])
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
