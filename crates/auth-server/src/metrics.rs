//! Counters exported as Prometheus text on `/metrics`. Lock-free atomics, so
//! the hot signing path pays one relaxed add per counter.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every counter the server keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Successful code logins.
    pub login_ok: Counter,
    /// Successful dev logins.
    pub dev_login_ok: Counter,
    /// Failed logins (any reason).
    pub login_failed: Counter,
    /// WeChat calls that failed (busy, unavailable, unknown error).
    pub wechat_errors: Counter,
    /// v4 signatures issued.
    pub signed_v4: Counter,
    /// v5 signatures issued.
    pub signed_v5: Counter,
    /// POST policies issued.
    pub signed_policy: Counter,
    /// Requests refused with 401.
    pub auth_failed: Counter,
    /// Requests refused with 403 `outside_prefix`.
    pub outside_prefix: Counter,
    /// Requests refused by the login limiter.
    pub rate_limited_login: Counter,
    /// Requests refused by the signing limiter.
    pub rate_limited_sign: Counter,
    /// Audit records written.
    pub audit_written: Counter,
    /// Audit records dropped because the queue was full.
    pub audit_dropped: Counter,
    /// Audit records lost to a database error.
    pub audit_failed: Counter,
    /// Responses by status class (1xx..5xx).
    pub responses: [Counter; 5],
    /// The embedded store, whose counters are rendered too (see [`Metrics::show_store`]).
    store: OnceLock<cos_local::Store>,
}

impl Metrics {
    /// Renders the embedded store's counters with the server's own (once the
    /// store is opened; a second store is ignored).
    pub fn show_store(&self, store: cos_local::Store) {
        let _ = self.store.set(store);
    }

    /// Counts one response.
    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (labels, v) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        };
        counter(
            "auth_logins_total",
            "Login attempts by outcome.",
            &[
                ("kind=\"wechat\",outcome=\"ok\"", self.login_ok.get()),
                ("kind=\"dev\",outcome=\"ok\"", self.dev_login_ok.get()),
                ("kind=\"any\",outcome=\"failed\"", self.login_failed.get()),
            ],
        );
        counter(
            "auth_wechat_errors_total",
            "jscode2session calls that failed on WeChat's side.",
            &[("", self.wechat_errors.get())],
        );
        counter(
            "auth_signatures_issued_total",
            "COS credentials issued, by kind.",
            &[
                ("kind=\"v4\"", self.signed_v4.get()),
                ("kind=\"v5\"", self.signed_v5.get()),
                ("kind=\"post-policy\"", self.signed_policy.get()),
            ],
        );
        counter(
            "auth_refused_total",
            "Requests refused, by reason.",
            &[
                ("reason=\"unauthorized\"", self.auth_failed.get()),
                ("reason=\"outside_prefix\"", self.outside_prefix.get()),
                (
                    "reason=\"rate_limited_login\"",
                    self.rate_limited_login.get(),
                ),
                ("reason=\"rate_limited_sign\"", self.rate_limited_sign.get()),
            ],
        );
        counter(
            "auth_audit_records_total",
            "Audit records by fate (dropped = queue full).",
            &[
                ("fate=\"written\"", self.audit_written.get()),
                ("fate=\"dropped\"", self.audit_dropped.get()),
                ("fate=\"failed\"", self.audit_failed.get()),
            ],
        );
        counter(
            "auth_http_responses_total",
            "HTTP responses by status class.",
            &[
                ("class=\"1xx\"", self.responses[0].get()),
                ("class=\"2xx\"", self.responses[1].get()),
                ("class=\"3xx\"", self.responses[2].get()),
                ("class=\"4xx\"", self.responses[3].get()),
                ("class=\"5xx\"", self.responses[4].get()),
            ],
        );
        if let Some(store) = self.store.get() {
            let swept = store.sweep_stats();
            counter(
                "cos_local_expired_uploads_total",
                "Unfinished uploads the embedded store removed after going without a part for store.upload_ttl_secs, by kind.",
                &[
                    ("kind=\"multipart\"", swept.expired_multipart),
                    ("kind=\"slice\"", swept.expired_slices),
                ],
            );
            counter(
                "cos_local_expired_upload_bytes_total",
                "Disk space those expired uploads held, in bytes.",
                &[("", swept.bytes_freed)],
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_store_s_expired_uploads_are_rendered_once_it_is_shown() {
        let metrics = Metrics::default();
        assert!(!metrics.render().contains("cos_local_"));
        // A multipart upload abandoned long ago, which the store expires at open.
        let dir = tempfile::tempdir().unwrap();
        let upload = dir.path().join("uploads/v5/0123abcd");
        std::fs::create_dir_all(&upload).unwrap();
        std::fs::write(upload.join("upload.json"), b"{}").unwrap();
        std::fs::write(upload.join("p00001.0123"), vec![7u8; 65_536]).unwrap();
        for path in [
            upload.join("upload.json"),
            upload.join("p00001.0123"),
            upload,
        ] {
            let f = std::fs::File::options().read(true).open(path).unwrap();
            f.set_modified(std::time::UNIX_EPOCH).unwrap();
        }
        let creds = cos_sign::Credentials::new("AKIDmetrics", "metrics-test-secret");
        let config = cos_local::StoreConfig::new(dir.path(), "1250000000", "metis", vec![creds]);
        metrics.show_store(cos_local::Store::open(config).unwrap());
        let text = metrics.render();
        for line in [
            "# TYPE cos_local_expired_uploads_total counter",
            "cos_local_expired_uploads_total{kind=\"multipart\"} 1",
            "cos_local_expired_uploads_total{kind=\"slice\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        // The part's 64 KiB at least (a file system may count the tiny
        // upload.json as no block at all).
        let bytes = text
            .lines()
            .find_map(|l| l.strip_prefix("cos_local_expired_upload_bytes_total "))
            .and_then(|v| v.parse::<u64>().ok());
        assert!(bytes.is_some_and(|b| b >= 65_536), "{bytes:?} in\n{text}");
    }
}
