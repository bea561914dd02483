//! Typed errors, classified by what failed: logging in, getting a signature,
//! the store refusing an upload, the network, verification, local files.

use std::path::PathBuf;
use std::time::Duration;

use crate::redact;

/// Everything the uploader library can fail with.
///
/// [`Error::is_retryable`] says whether the same request may succeed if sent
/// again (no reply, 408, 429, 5xx other than 507); the retry loop in
/// [`crate::retry`] uses it. [`Error::Unreachable`] and [`Error::StoreFull`]
/// stop a bulk run.
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
    /// A server answered with a status or code worth retrying (408, 429, 5xx
    /// other than 507, v4 internal error), or a signature expired.
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
    ///
    /// The message shows the whole cause chain (`error sending request for url
    /// (…): client error (Connect): tcp connect error: Connection refused`), so
    /// the transport error is not also returned by `source()`. Signatures and
    /// tokens in the URL's query (`sign=`, `q-signature=`…) and a password in
    /// it are redacted when the error is made.
    #[error("network error talking to {service}: {}", chain(error))]
    Network {
        /// `auth server` or `store`.
        service: &'static str,
        /// The transport error (its URL redacted).
        error: reqwest::Error,
    },
    /// The server (or store) answered HTTP 507: it has no space left. Never
    /// retried; nothing more can be stored until space is freed.
    #[error(
        "the {service} is full (HTTP 507: {message}): free space on the server, then run the same command again"
    )]
    StoreFull {
        /// `auth server` or `store`.
        service: &'static str,
        /// What the server said.
        message: String,
    },
    /// No request got any reply for [`crate::RetryPolicy::give_up_after`]
    /// (counted from the first that got none): the servers are down or out of
    /// reach.
    #[error("no response from {server} for {silent_secs} s (last error: {last_error})")]
    Unreachable {
        /// Where the last request without a reply went (scheme, host, port).
        server: String,
        /// Seconds without a reply.
        silent_secs: u64,
        /// Why the last request got no reply (`connection refused`…).
        last_error: String,
    },
    /// An `https://` request was answered in plain HTTP: the server does not
    /// speak TLS on that port. Sending it again would not help.
    #[error("{url} answered in plain HTTP, not HTTPS: use {suggestion} instead")]
    PlainHttp {
        /// `auth server` or `store`.
        service: &'static str,
        /// The `https://` origin that was asked.
        url: String,
        /// The same origin with `http://`.
        suggestion: String,
    },
    /// A request could not be built (an invalid header or MIME type). Sending
    /// it again would not help.
    #[error("cannot build {what}: {message}")]
    Request {
        /// What was being built (`the HTTP client`, `a multipart body`…).
        what: &'static str,
        /// What was wrong, with its causes.
        message: String,
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
    /// The journal was written for another destination (server, store or user),
    /// or has no destination record, so its "done" records say nothing about
    /// where this run uploads. Nothing was read from it or written to it.
    #[error(
        "{}: this journal belongs to {found}, but this run uploads to {expected}; use another --journal file, or delete this one to start over (files already in the store are recognised and not sent twice)",
        path.display()
    )]
    JournalMismatch {
        /// The journal.
        path: PathBuf,
        /// What the journal says (or why it says nothing).
        found: String,
        /// Where this run uploads.
        expected: String,
    },
    /// Another run holds the journal's lock.
    #[error(
        "{}: the journal is in use by another cos-upload run; wait for it to finish, or use another --journal file",
        path.display()
    )]
    JournalLocked {
        /// The journal.
        path: PathBuf,
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

    /// True when the error is a server's reply (of any status), so the
    /// server was reached.
    pub(crate) fn replied(&self) -> bool {
        matches!(
            self,
            Error::Auth { .. }
                | Error::Sign { .. }
                | Error::Upload { .. }
                | Error::Exists { .. }
                | Error::Server { .. }
                | Error::StoreFull { .. }
                | Error::PlainHttp { .. }
                | Error::Protocol { .. }
                | Error::Verify { .. }
        )
    }

    /// For a request that got no reply: where it went (scheme, host and port)
    /// and, briefly, why (`connection refused`, `timed out`…).
    pub(crate) fn unanswered(&self) -> Option<(String, String)> {
        let Error::Network { service, error } = self else {
            return None;
        };
        let server = error
            .url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| (*service).to_owned());
        Some((server, brief_cause(error)))
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
            Error::StoreFull { .. } => "store_full",
            Error::Unreachable { .. } => "unreachable",
            Error::Network { .. } => "network",
            Error::PlainHttp { .. } => "plain_http",
            Error::Request { .. } => "request",
            Error::Protocol { .. } => "protocol",
            Error::Verify { .. } => "verify",
            Error::Key { .. } => "key",
            Error::Io { .. } => "io",
            Error::Changed { .. } => "changed",
            Error::JournalMismatch { .. } => "journal",
            Error::JournalLocked { .. } => "journal_locked",
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

    /// A transport error, with secrets in its URL redacted; an `https://`
    /// request answered in plain HTTP is [`Error::PlainHttp`].
    pub(crate) fn network(service: &'static str, error: reqwest::Error) -> Self {
        let error = redact::redacted(error);
        if let Some((url, suggestion)) = plain_http(&error) {
            return Error::PlainHttp {
                service,
                url,
                suggestion,
            };
        }
        Error::Network { service, error }
    }

    /// A request that could not be built.
    pub(crate) fn request(what: &'static str, error: reqwest::Error) -> Self {
        Error::Request {
            what,
            message: chain(&redact::redacted(error)),
        }
    }
}

/// When `error` is a TLS handshake that got a plain-HTTP reply (rustls reads
/// the reply's first bytes as a record of type `InvalidContentType`): the
/// `https://` origin asked and the `http://` one to use instead.
fn plain_http(error: &reqwest::Error) -> Option<(String, String)> {
    if !chain(error).contains("InvalidContentType") {
        return None;
    }
    let url = error.url()?;
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let asked = url.origin().ascii_serialization();
    Some((asked, format!("http://{host}:{port}")))
}

/// Why a request got no reply, in a few words: the kind of the innermost
/// I/O error (`connection refused`, `connection reset`), `timed out`, or
/// the innermost cause's text.
fn brief_cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".into();
    }
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    let mut io_kind = None;
    while let Some(c) = innermost.source() {
        innermost = c;
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() != std::io::ErrorKind::Other
        {
            io_kind = Some(io.kind());
        }
    }
    match io_kind {
        Some(kind) => kind.to_string(),
        None => innermost.to_string(),
    }
}

/// An error's message followed by its causes (`source()` chain), joined by
/// `": "`; a cause whose text is already in the message is not repeated.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let m = c.to_string();
        if !m.is_empty() && !text.contains(&m) {
            text.push_str(": ");
            text.push_str(&m);
        }
        cause = c.source();
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    fn closed_port() -> u16 {
        // Bound then released: nothing listens there for the test's lifetime
        // (barring a race with another process picking the same port).
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap()
    }

    #[tokio::test]
    async fn a_refused_connection_shows_its_cause_and_no_secrets() {
        let port = closed_port();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!(
            "http://user:hunter2@127.0.0.1:{port}/files/v2/1/b/u/7/a.jpg?op=stat&sign=SECRETSIGN&q-signature=SECRETSIG&x-cos-security-token=SECRETTOKEN"
        );
        let e = http
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, "SECRETAUTH")
            .send()
            .await
            .unwrap_err();
        // reqwest's own message names the URL with its query: the reason to redact.
        assert!(e.to_string().contains("SECRETSIGN"), "{e}");
        let err = Error::network("store", e);
        let text = err.to_string();
        assert!(
            text.starts_with("network error talking to store: error sending request for url ("),
            "{text}"
        );
        // The cause chain down to the OS error.
        assert!(
            text.to_ascii_lowercase().contains("connection refused"),
            "{text}"
        );
        for secret in [
            "SECRETSIGN",
            "SECRETSIG",
            "SECRETTOKEN",
            "SECRETAUTH",
            "hunter2",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
            assert!(
                !format!("{err:?}").contains(secret),
                "{secret} leaked: {err:?}"
            );
        }
        assert!(text.contains("op=stat"), "{text}");
        assert!(text.contains("sign=redacted"), "{text}");
        assert!(err.is_retryable(), "{err:?}");
        assert_eq!(err.kind(), "network");
    }

    #[test]
    fn a_chain_does_not_repeat_a_cause_already_in_the_message() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
        #[derive(Debug, thiserror::Error)]
        #[error("top")]
        struct Top(#[source] Outer);
        assert_eq!(chain(&Top(e)), "top: outer: inner");
    }
}
