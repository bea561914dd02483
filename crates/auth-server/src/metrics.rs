//! Counters exported as Prometheus text on `/metrics`. Lock-free atomics, so
//! the hot signing path pays one relaxed add per counter.

use std::fmt::Write as _;
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
}

impl Metrics {
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
        out
    }
}
