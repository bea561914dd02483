//! Deterministic fault injection.
//!
//! # What a request can get
//! * **500 / 503**: answered `InternalError` or `SlowDown` (v4: `-5999`) before
//!   anything is read or written. Nothing is stored.
//! * **drop**: part of the body is read (a seeded fraction of `Content-Length`,
//!   so at least one byte short of a non-empty body; a seeded fraction of
//!   64 KiB when no length is declared), then the connection is closed without
//!   a response. Nothing is stored. The store stops reading once that many bytes
//!   have arrived; a body smaller than one network read arrives whole anyway,
//!   which the client cannot tell apart (its request was sent in full).
//! * **lost reply**: the request is processed completely (an upload is
//!   committed, a delete done) and then the connection is closed before any
//!   byte of the response is sent, as when a proxy or the network loses the
//!   reply. A client must retry idempotently: v4 with `sha` and `insertOnly=1`
//!   (the retry gets `-4018`, "same file already uploaded"), v5 with a HEAD that
//!   compares `x-cos-meta-sha1`, or `x-cos-forbid-overwrite`.
//! * **latency**: the request waits `latency` before it is handled.
//!
//! # How the fractions combine
//! Every request in scope (see [`crate::FaultScope`]; HEAD never) takes four
//! values from one generator seeded with `seed`, always in this order and
//! whatever the outcome: `l` (latency), `u` (outcome), `k` (500 or 503) and `c`
//! (where a drop cuts the body), each uniform in `[0, 1)`.
//! * The outcome is one draw, so the three failures are mutually exclusive:
//!   `u < error_rate` is an error (500 when `k < 0.5`, else 503),
//!   `u < error_rate + drop_rate` a drop, `u < error_rate + drop_rate +
//!   lost_reply_rate` a lost reply, anything else no failure. The fraction of
//!   requests that fail is therefore exactly `error_rate + drop_rate +
//!   lost_reply_rate`, which must not exceed 1: `error_rate = 0.1, drop_rate =
//!   0.05, lost_reply_rate = 0.05` fails 20% of requests (10% errors, 5% drops,
//!   5% lost replies).
//! * Latency is independent: `l < latency_rate` delays the request, whatever
//!   its outcome, so a delayed request may also fail. With `latency_rate =
//!   0.05` added to the example above, 20% fail and 5% are delayed; 24% see at
//!   least one fault (`1 - 0.8 × 0.95`).
//!
//! The same sequence of requests sees the same faults for the same seed
//! (concurrent requests draw in arrival order).
//!
//! # Counting
//! Every injected fault is counted by kind ([`FaultStats`], from
//! [`crate::Store::fault_stats`]), logged at debug
//! level under the target `cos_local::faults`, and the totals are logged at info
//! level when the store is dropped.
//!
//! # Where it happens
//! Both front ends (v4 and v5) hand every request to [`Faults::inject`] once
//! its target has parsed: it draws, waits, refuses, drops or serves, and
//! loses the reply, the same way for both.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::config::FaultConfig;
use crate::http;

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fault {
    /// Serve normally.
    None,
    /// Answer 500 InternalError before doing anything.
    Internal,
    /// Answer 503 SlowDown before doing anything.
    SlowDown,
    /// Read the fraction `cut` (in `[0, 1)`) of the body, then drop the
    /// connection without a response.
    Drop {
        /// Where the body is cut.
        cut: f64,
    },
    /// Serve the request completely, then drop the connection instead of
    /// sending the response.
    LostReply,
}

/// An injected error reply; each front end words it in its own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InjectedError {
    /// 500 InternalError.
    Internal,
    /// 503 SlowDown.
    SlowDown,
}

/// How many injected faults of each kind a store has served since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultStats {
    /// Requests answered 500 InternalError.
    pub internal_errors: u64,
    /// Requests answered 503 SlowDown.
    pub slow_downs: u64,
    /// Connections dropped part-way through the request body.
    pub drops: u64,
    /// Requests served completely whose reply was dropped.
    pub lost_replies: u64,
    /// Requests delayed by the configured latency (they may have failed too).
    pub delayed: u64,
}

impl FaultStats {
    /// Requests that failed in any way: errors, drops and lost replies (not delays).
    pub fn failures(&self) -> u64 {
        self.internal_errors + self.slow_downs + self.drops + self.lost_replies
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    internal_errors: AtomicU64,
    slow_downs: AtomicU64,
    drops: AtomicU64,
    lost_replies: AtomicU64,
    delayed: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> FaultStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FaultStats {
            internal_errors: get(&self.internal_errors),
            slow_downs: get(&self.slow_downs),
            drops: get(&self.drops),
            lost_replies: get(&self.lost_replies),
            delayed: get(&self.delayed),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Faults {
    config: FaultConfig,
    rng: Mutex<StdRng>,
    counters: Counters,
}

impl Faults {
    /// A generator for `config`.
    pub(crate) fn new(config: FaultConfig) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            config,
            counters: Counters::default(),
        }
    }

    /// Draws (and counts) the faults of one request. `write` says whether it
    /// is a write; requests outside the configured scope never draw (so they
    /// do not shift the sequence others see).
    pub(crate) fn draw(&self, write: bool, head: bool) -> (Option<Duration>, Fault) {
        let c = &self.config;
        if c.draws_nothing() || head || (write && !c.scope.writes) || (!write && !c.scope.reads) {
            return (None, Fault::None);
        }
        // Four draws, always in this order, whatever the outcome.
        let (l, u, k, cut) = {
            let mut rng = self
                .rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let l: f64 = rng.r#gen();
            let u: f64 = rng.r#gen();
            let k: f64 = rng.r#gen();
            let cut: f64 = rng.r#gen();
            (l, u, k, cut)
        };
        let latency = (l < c.latency_rate && !c.latency.is_zero()).then_some(c.latency);
        let fault = outcome(c, u, k, cut);
        let n = &self.counters;
        if latency.is_some() {
            n.delayed.fetch_add(1, Ordering::Relaxed);
        }
        let (counter, kind) = match fault {
            Fault::None => (None, ""),
            Fault::Internal => (Some(&n.internal_errors), "500"),
            Fault::SlowDown => (Some(&n.slow_downs), "503"),
            Fault::Drop { .. } => (Some(&n.drops), "drop"),
            Fault::LostReply => (Some(&n.lost_replies), "lost_reply"),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if latency.is_some() || counter.is_some() {
            tracing::debug!(
                target: "cos_local::faults",
                fault = kind,
                delayed = latency.is_some(),
                "injecting a fault"
            );
        }
        (latency, fault)
    }

    /// Runs one request under fault injection, the same way for both front
    /// ends: draws its faults (`write` says whether it is a write; a `HEAD`
    /// never draws), waits out any latency, then answers an injected error in
    /// the front end's own words (`refuse`), or drops the connection part-way
    /// through the body, or serves the request (`serve`) and, for a lost
    /// reply, drops the connection instead of sending what it answered.
    pub(crate) async fn inject<Serve, Served>(
        &self,
        req: &HttpRequest,
        mut payload: web::Payload,
        write: bool,
        refuse: impl FnOnce(InjectedError) -> HttpResponse,
        serve: Serve,
    ) -> HttpResponse
    where
        Serve: FnOnce(web::Payload) -> Served,
        Served: Future<Output = HttpResponse>,
    {
        let head = req.method().as_str().eq_ignore_ascii_case("HEAD");
        let (latency, fault) = self.draw(write, head);
        if let Some(d) = latency {
            tokio::time::sleep(d).await;
        }
        match fault {
            Fault::None | Fault::LostReply => {}
            Fault::Internal => return refuse(InjectedError::Internal),
            Fault::SlowDown => return refuse(InjectedError::SlowDown),
            Fault::Drop { cut } => return drop_mid_body(req, &mut payload, cut).await,
        }
        let resp = serve(payload).await;
        if matches!(fault, Fault::LostReply) {
            return lose_reply(&resp);
        }
        resp
    }

    /// What has been injected so far.
    pub(crate) fn stats(&self) -> FaultStats {
        self.counters.snapshot()
    }

    /// Logs the totals (when any fault was configured).
    pub(crate) fn log_totals(&self) {
        if self.config.is_off() {
            return;
        }
        let s = self.stats();
        tracing::info!(
            target: "cos_local::faults",
            internal_errors = s.internal_errors,
            slow_downs = s.slow_downs,
            drops = s.drops,
            lost_replies = s.lost_replies,
            delayed = s.delayed,
            failures = s.failures(),
            "injected faults"
        );
    }
}

/// The outcome for the uniform values `u` (which failure, if any), `k` (500 or
/// 503) and `cut` (where a drop cuts the body).
fn outcome(c: &FaultConfig, u: f64, k: f64, cut: f64) -> Fault {
    let drop_from = c.error_rate;
    let lost_from = drop_from + c.drop_rate;
    let none_from = lost_from + c.lost_reply_rate;
    if u < drop_from {
        if k < 0.5 {
            Fault::Internal
        } else {
            Fault::SlowDown
        }
    } else if u < lost_from {
        Fault::Drop { cut }
    } else if u < none_from {
        Fault::LostReply
    } else {
        Fault::None
    }
}

/// How many bytes of a body an injected drop reads: the fraction `cut` (in
/// `[0, 1)`) of the declared length, so at least one byte short of a
/// non-empty body; without a declared length, that fraction of 64 KiB.
fn drop_point(declared: Option<u64>, cut: f64) -> u64 {
    let cut = cut.clamp(0.0, 1.0);
    match declared {
        // f64 → u64 saturates; the min keeps the cut inside the body.
        Some(len) => ((len as f64 * cut) as u64).min(len.saturating_sub(1)),
        None => (64.0 * 1024.0 * cut) as u64,
    }
}

/// Reads a body until at least `limit` bytes arrived (fault injection: the
/// connection is then dropped) and returns how many did. Stops without
/// reading anything when `limit` is 0, and never asks for more once `limit`
/// is reached, so the end of the body is only seen when the chunk that
/// crosses `limit` also ends it.
async fn read_some<S, E>(stream: &mut S, limit: u64) -> u64
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut seen = 0u64;
    while seen < limit {
        match stream.next().await {
            Some(Ok(chunk)) => seen += chunk.len() as u64,
            _ => break,
        }
    }
    seen
}

/// Reads part of the body as [`drop_point`] says, then answers with a
/// connection that closes without a response (fault injection: "drop").
async fn drop_mid_body<S, E>(req: &HttpRequest, stream: &mut S, cut: f64) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    let declared = http::content_length(req);
    let limit = drop_point(declared, cut);
    let read = read_some(stream, limit).await;
    tracing::debug!(
        target: "cos_local::faults",
        declared,
        read,
        "dropping the connection mid-body"
    );
    dropped_connection()
}

/// A response that never completes: its body fails before the head is
/// written, so actix closes the connection and the client gets no status
/// (fault injection: "drop" and "lost reply").
fn dropped_connection() -> HttpResponse {
    let body = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
    });
    HttpResponse::InternalServerError()
        .no_chunking(1 << 20)
        .force_close()
        .streaming(body)
}

/// Fault injection "lost reply": the request has been served (`served` is its
/// real response, already complete on the store's side); the client gets a
/// closed connection instead.
fn lose_reply(served: &HttpResponse) -> HttpResponse {
    tracing::debug!(
        target: "cos_local::faults",
        status = served.status().as_u16(),
        "served; dropping the reply"
    );
    dropped_connection()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(error: f64, drop: f64, lost: f64) -> FaultConfig {
        let mut c = FaultConfig::seeded(3);
        c.error_rate = error;
        c.drop_rate = drop;
        c.lost_reply_rate = lost;
        c
    }

    #[test]
    fn failures_are_exclusive_slices_of_one_draw() {
        let c = config(0.1, 0.05, 0.05);
        assert_eq!(outcome(&c, 0.0, 0.2, 0.5), Fault::Internal);
        assert_eq!(outcome(&c, 0.099, 0.7, 0.5), Fault::SlowDown);
        assert_eq!(outcome(&c, 0.1, 0.2, 0.5), Fault::Drop { cut: 0.5 });
        assert_eq!(outcome(&c, 0.149, 0.2, 0.5), Fault::Drop { cut: 0.5 });
        assert_eq!(outcome(&c, 0.151, 0.2, 0.5), Fault::LostReply);
        assert_eq!(outcome(&c, 0.199, 0.2, 0.5), Fault::LostReply);
        assert_eq!(outcome(&c, 0.201, 0.2, 0.5), Fault::None);
        assert_eq!(outcome(&c, 0.99, 0.2, 0.5), Fault::None);
    }

    #[test]
    fn the_configured_total_is_the_failing_fraction_and_counted() {
        let mut c = config(0.1, 0.05, 0.05);
        c.latency = Duration::from_millis(1);
        c.latency_rate = 0.05;
        let faults = Faults::new(c);
        let n = 40_000;
        let mut failed = 0u64;
        let mut delayed = 0u64;
        for _ in 0..n {
            let (latency, fault) = faults.draw(true, false);
            failed += u64::from(fault != Fault::None);
            delayed += u64::from(latency.is_some());
            if let Fault::Drop { cut } = fault {
                assert!((0.0..1.0).contains(&cut));
            }
        }
        let s = faults.stats();
        assert_eq!(s.failures(), failed);
        assert_eq!(s.delayed, delayed);
        // 20% ± 1% over 40 000 draws (the standard deviation is 0.2%).
        let rate = failed as f64 / f64::from(n);
        assert!((0.19..0.21).contains(&rate), "{rate} {s:?}");
        let share = |x: u64| x as f64 / f64::from(n);
        assert!(
            (0.09..0.11).contains(&share(s.internal_errors + s.slow_downs)),
            "{s:?}"
        );
        assert!((0.04..0.06).contains(&share(s.drops)), "{s:?}");
        assert!((0.04..0.06).contains(&share(s.lost_replies)), "{s:?}");
        assert!((0.04..0.06).contains(&share(s.delayed)), "{s:?}");
    }

    #[test]
    fn out_of_scope_and_head_requests_neither_draw_nor_count() {
        let mut c = config(1.0, 0.0, 0.0);
        c.scope = crate::FaultScope::new(true, false);
        let faults = Faults::new(c);
        assert_eq!(faults.draw(false, false), (None, Fault::None));
        assert_eq!(faults.draw(true, true), (None, Fault::None));
        assert_eq!(faults.stats(), FaultStats::default());
        assert!(matches!(
            faults.draw(true, false).1,
            Fault::Internal | Fault::SlowDown
        ));
        assert_eq!(faults.stats().failures(), 1);
    }

    #[test]
    fn a_drop_cuts_inside_the_body() {
        for cut in [0.0, 0.3, 0.5, 0.999_999, 0.999_999_999_999_9] {
            for len in [1u64, 2, 10, 65_536, 300_000, u64::MAX] {
                let at = drop_point(Some(len), cut);
                assert!(at < len, "cut {cut} of {len} at {at}");
            }
            assert_eq!(drop_point(Some(0), cut), 0);
            assert!(drop_point(None, cut) < 64 * 1024);
        }
        assert_eq!(drop_point(Some(1000), 0.5), 500);
    }

    #[tokio::test]
    async fn read_some_stops_at_the_limit_without_reaching_the_end() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let polled = AtomicUsize::new(0);
        // 100 chunks of 10 bytes; count how many the reader asks for.
        let mut stream = futures_util::stream::iter(0..100)
            .map(|_| {
                polled.fetch_add(1, Ordering::Relaxed);
                Ok::<_, std::io::Error>(Bytes::from_static(&[7u8; 10]))
            })
            .boxed();
        let read = read_some(&mut stream, drop_point(Some(1000), 0.25)).await;
        assert_eq!(read, 250);
        assert_eq!(polled.load(Ordering::Relaxed), 25);
        // Nothing at all for a cut at 0.
        assert_eq!(read_some(&mut stream, 0).await, 0);
        assert_eq!(polled.load(Ordering::Relaxed), 25);
    }
}
