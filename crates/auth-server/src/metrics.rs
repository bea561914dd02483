//! Counters and one histogram exported as Prometheus text on `/metrics`.
//! Lock-free atomics, so the hot signing path pays one relaxed add per counter.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::sts::Source;

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

/// Upper bounds (seconds) of the STS latency histogram's buckets.
pub const STS_LATENCY_BUCKETS: [f64; 8] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A latency histogram with [`STS_LATENCY_BUCKETS`] (and `+Inf`).
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    buckets: [Counter; STS_LATENCY_BUCKETS.len() + 1],
    sum_micros: Counter,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = STS_LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(STS_LATENCY_BUCKETS.len());
        self.buckets[i].inc();
        self.sum_micros
            .add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(Counter::get).sum()
    }
}

/// What happened to one call (one attempt) to Tencent STS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsOutcome {
    /// Credentials came back.
    Ok,
    /// STS answered with an error (`Response.Error`).
    StsError,
    /// No usable answer: connection, timeout, HTTP status or an unreadable body.
    TransportError,
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
    /// Temporary credentials issued, by scope (key, prefix) and source
    /// (minted, sts, cache).
    credentials_issued: [[Counter; 3]; 2],
    /// Calls to Tencent STS by outcome (ok, sts_error, transport_error).
    sts_calls: [Counter; 3],
    /// Latency of calls to Tencent STS.
    pub sts_latency: Histogram,
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

const SCOPES: [&str; 2] = ["key", "prefix"];
const SOURCES: [Source; 3] = [Source::Minted, Source::Sts, Source::Cache];
const STS_OUTCOMES: [(StsOutcome, &str); 3] = [
    (StsOutcome::Ok, "ok"),
    (StsOutcome::StsError, "sts_error"),
    (StsOutcome::TransportError, "transport_error"),
];

impl Metrics {
    /// Renders the embedded store's counters with the server's own (once the
    /// store is opened; a second store is ignored).
    pub fn show_store(&self, store: cos_local::Store) {
        let _ = self.store.set(store);
    }

    /// Counts one issued credential (`prefix`: prefix scope, else key scope).
    pub fn credential_issued(&self, prefix: bool, source: Source) {
        let s = SOURCES.iter().position(|x| *x == source).unwrap_or(0);
        self.credentials_issued[usize::from(prefix)][s].inc();
    }

    /// Counts one STS call and its latency.
    pub fn sts_call(&self, outcome: StsOutcome, elapsed: Duration) {
        let i = STS_OUTCOMES
            .iter()
            .position(|(o, _)| *o == outcome)
            .unwrap_or(0);
        self.sts_calls[i].inc();
        self.sts_latency.observe(elapsed);
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
        let issued: Vec<(String, u64)> = SCOPES
            .iter()
            .enumerate()
            .flat_map(|(i, scope)| {
                SOURCES.iter().enumerate().map(move |(j, source)| {
                    (
                        format!("scope=\"{scope}\",source=\"{}\"", source.as_str()),
                        self.credentials_issued[i][j].get(),
                    )
                })
            })
            .collect();
        let issued: Vec<(&str, u64)> = issued.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        counter(
            "auth_credentials_issued_total",
            "Temporary COS credentials issued, by scope and source (minted here, from Tencent STS, or reused from the cache).",
            &issued,
        );
        let calls: Vec<(String, u64)> = STS_OUTCOMES
            .iter()
            .enumerate()
            .map(|(i, (_, name))| (format!("outcome=\"{name}\""), self.sts_calls[i].get()))
            .collect();
        let calls: Vec<(&str, u64)> = calls.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        counter(
            "auth_sts_calls_total",
            "Calls (attempts) to Tencent STS GetFederationToken, by outcome.",
            &calls,
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
        self.render_sts_latency(&mut out);
        out
    }

    fn render_sts_latency(&self, out: &mut String) {
        let name = "auth_sts_call_duration_seconds";
        let h = &self.sts_latency;
        let _ = writeln!(
            out,
            "# HELP {name} Latency of calls (attempts) to Tencent STS GetFederationToken."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (le, bucket) in STS_LATENCY_BUCKETS.iter().zip(&h.buckets) {
            cumulative += bucket.get();
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count());
        #[allow(clippy::cast_precision_loss)] // Seconds with microsecond resolution.
        let sum = h.sum_micros.get() as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {}", h.count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_sts_calls_render_with_their_labels() {
        let m = Metrics::default();
        m.credential_issued(false, Source::Minted);
        m.credential_issued(true, Source::Cache);
        m.credential_issued(true, Source::Cache);
        m.sts_call(StsOutcome::Ok, Duration::from_millis(70));
        m.sts_call(StsOutcome::TransportError, Duration::from_secs(20));
        let text = m.render();
        for line in [
            "auth_credentials_issued_total{scope=\"key\",source=\"minted\"} 1",
            "auth_credentials_issued_total{scope=\"prefix\",source=\"cache\"} 2",
            "auth_credentials_issued_total{scope=\"prefix\",source=\"sts\"} 0",
            "auth_sts_calls_total{outcome=\"ok\"} 1",
            "auth_sts_calls_total{outcome=\"transport_error\"} 1",
            "auth_sts_calls_total{outcome=\"sts_error\"} 0",
            "# TYPE auth_sts_call_duration_seconds histogram",
            "auth_sts_call_duration_seconds_bucket{le=\"0.05\"} 0",
            "auth_sts_call_duration_seconds_bucket{le=\"0.1\"} 1",
            "auth_sts_call_duration_seconds_bucket{le=\"10\"} 1",
            "auth_sts_call_duration_seconds_bucket{le=\"+Inf\"} 2",
            "auth_sts_call_duration_seconds_sum 20.07",
            "auth_sts_call_duration_seconds_count 2",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

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
