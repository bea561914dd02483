//! Retrying: how often and how patiently ([`RetryPolicy`]: exponential
//! backoff with jitter, honouring `Retry-After`), which replies are worth
//! sending again (`retryable_status`), the one retry loop every retried
//! request goes through, where its requests are counted, and when to stop
//! waiting for servers that answer nothing (`Contact`).
//!
//! The rules, in one place:
//! * Sent again: requests that got no reply (connection refused or reset,
//!   timeouts, a reply cut off) and replies 408, 429 and 5xx other than 507;
//!   an expired signature is asked for again and the request re-signed.
//! * Not sent again: other 4xx (refused as they are) and 507 (the store is
//!   full: [`Error::StoreFull`]).
//! * A request gets at most [`RetryPolicy::max_attempts`], except that while
//!   no request of the client has had any reply since this one first failed
//!   (the servers are down, not this request unlucky) it keeps waiting.
//! * When no request has had a reply for [`RetryPolicy::give_up_after`],
//!   counted from the first request that got none, every retry loop returns
//!   [`Error::Unreachable`] and the bulk run stops. Any reply counts, of any
//!   status; a request still in flight is bounded by the HTTP client's
//!   connect and read timeouts.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;

use crate::error::Error;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (at least 1).
    pub max_attempts: u32,
    /// Delay cap for the first retry; doubles each time.
    pub base_delay: Duration,
    /// Largest delay between two attempts.
    pub max_delay: Duration,
    /// Stop waiting when no request has had any reply for this long, counted
    /// from the first request that got none (see the module documentation).
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            give_up_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the delay before retry number `retry` (1-based):
    /// `min(max_delay, base_delay * 2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(20);
        self.base_delay
            .saturating_mul(1u32 << shift)
            .min(self.max_delay)
    }

    /// The delay before retry number `retry`: uniformly random in
    /// `[ceiling/2, ceiling]` ("equal jitter", so retries never bunch at zero),
    /// or the server's `Retry-After` when it asks for longer (capped at `max_delay`).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let jitter = if ceiling > half {
            rng.gen_range(half..=ceiling)
        } else {
            ceiling
        };
        match retry_after {
            Some(ra) if ra > jitter => ra.min(self.max_delay.max(jitter)),
            _ => jitter,
        }
    }
}

/// True when a reply with this status may succeed if the request is sent
/// again: 408, 429, and 5xx except 507 (the store is full).
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::INSUFFICIENT_STORAGE)
}

/// When the servers (auth server and store) last answered, shared by every
/// request of a client: the clock behind [`RetryPolicy::give_up_after`].
#[derive(Debug)]
pub(crate) struct Contact {
    state: Mutex<ContactState>,
}

#[derive(Debug)]
struct ContactState {
    /// When a reply last arrived (or the client was made).
    last_reply: Instant,
    /// Since when requests have been failing without a reply, if they are.
    silent_since: Option<Instant>,
    /// Where the last request without a reply went, and why it got none.
    last_failure: Option<(String, String)>,
}

impl Default for Contact {
    fn default() -> Self {
        Self {
            state: Mutex::new(ContactState {
                last_reply: Instant::now(),
                silent_since: None,
                last_failure: None,
            }),
        }
    }
}

impl Contact {
    fn state(&self) -> std::sync::MutexGuard<'_, ContactState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A reply arrived.
    fn replied(&self) {
        let mut s = self.state();
        s.last_reply = Instant::now();
        s.silent_since = None;
    }

    /// A request sent at `sent` failed without a reply: `server` is where
    /// it went, `why` what happened.
    fn unanswered(&self, sent: Instant, server: String, why: String) {
        let mut s = self.state();
        let since = sent.max(s.last_reply);
        s.silent_since.get_or_insert(since);
        s.last_failure = Some((server, why));
    }

    /// How long requests have been failing without a reply, if they are.
    fn silence(&self) -> Option<Duration> {
        self.state().silent_since.map(|t| t.elapsed())
    }

    /// True when a reply arrived at or after `t`.
    fn replied_since(&self, t: Instant) -> bool {
        self.state().last_reply >= t
    }

    /// The error that stops waiting after `silence` without a reply.
    fn unreachable(&self, silence: Duration) -> Error {
        let (server, last_error) = self
            .state()
            .last_failure
            .clone()
            .unwrap_or_else(|| ("the server".into(), "no reply".into()));
        Error::Unreachable {
            server,
            silent_secs: silence.as_secs(),
            last_error,
        }
    }
}

/// Where the requests a retried call sends are counted (one per attempt):
/// a file's [`crate::FileCtx`] counts the store requests made for it.
pub(crate) trait Requests {
    /// Adds `n` requests.
    fn add(&self, n: u32);
}

/// Attempts nobody counts (requests to the auth server, verification downloads).
pub(crate) struct Uncounted;

impl Requests for Uncounted {
    fn add(&self, _n: u32) {}
}

impl Requests for std::sync::atomic::AtomicU32 {
    fn add(&self, n: u32) {
        self.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The one retry loop: runs `op` until it succeeds, fails with an error that
/// is not [`Error::is_retryable`], or `policy.max_attempts` are used up,
/// waiting [`RetryPolicy::delay`] (which honours the error's `Retry-After`)
/// between attempts. Every outcome is reported to `contact`; a request that
/// got no reply follows the rules in this module's documentation (it may
/// wait beyond its attempts, and ends with [`Error::Unreachable`] once the
/// servers have been silent for `policy.give_up_after`; no wait goes past
/// that moment). `on_retry` is called with the error and the delay before
/// each wait (for logging). The attempts made (one request each) are added
/// to `requests` once the call is over (a call abandoned mid-way, by
/// cancellation, adds none).
///
/// Each attempt is a whole new request: `op` builds its body and meter again,
/// and asks for a signature again where one may have expired.
pub(crate) async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    contact: &Contact,
    requests: &impl Requests,
    mut op: F,
    mut on_retry: impl FnMut(&Error, Duration),
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut made = 0;
    // When this request first failed without a reply.
    let mut first_unanswered: Option<Instant> = None;
    let result = loop {
        made += 1;
        let sent = Instant::now();
        let e = match op().await {
            Ok(v) => {
                contact.replied();
                break Ok(v);
            }
            Err(e) => e,
        };
        let unanswered = match e.unanswered() {
            Some((server, why)) => {
                contact.unanswered(sent, server, why);
                true
            }
            None => {
                if e.replied() {
                    contact.replied();
                }
                false
            }
        };
        if !e.is_retryable() {
            break Err(e);
        }
        let out_of_attempts = made >= policy.max_attempts.max(1);
        let mut delay = policy.delay(made, e.retry_after(), &mut rand::thread_rng());
        if unanswered {
            let first = *first_unanswered.get_or_insert_with(Instant::now);
            let silence = contact.silence().unwrap_or_default();
            if silence >= policy.give_up_after {
                break Err(contact.unreachable(silence));
            }
            // Out of attempts: this request fails alone if others got
            // replies since it first failed; otherwise it waits for the servers.
            if out_of_attempts && contact.replied_since(first) {
                break Err(e);
            }
            // Wake up when the servers have been silent for long enough.
            delay = delay.min(policy.give_up_after.saturating_sub(silence));
        } else if out_of_attempts {
            break Err(e);
        }
        on_retry(&e, delay);
        tokio::time::sleep(delay).await;
    };
    requests.add(made);
    result
}

/// The `Retry-After` of a reply, when it is a number of seconds.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;
    use rand::SeedableRng;
    use std::sync::atomic::AtomicU32;

    fn server_error() -> Error {
        Error::Server {
            service: "store",
            status: 503,
            message: "slow down".into(),
            retry_after: None,
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            give_up_after: Duration::from_millis(200),
        }
    }

    /// A server nobody listens on (bound then released: nothing listens
    /// there for the test's lifetime, barring a race with another process).
    fn closed_server() -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        format!("http://127.0.0.1:{port}")
    }

    /// A request to `server`, refused: no reply.
    async fn refused(server: &str) -> Error {
        let e = reqwest::Client::new()
            .get(format!("{server}/x"))
            .send()
            .await
            .unwrap_err();
        Error::network("store", e)
    }

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        let got: Vec<u128> = (1..=6).map(|r| p.ceiling(r).as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_stays_within_half_and_full_ceiling() {
        let p = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut distinct = std::collections::BTreeSet::new();
        for retry in 1..=8 {
            for _ in 0..50 {
                let d = p.delay(retry, None, &mut rng);
                let c = p.ceiling(retry);
                assert!(d >= c / 2 && d <= c, "{d:?} outside [{:?}, {c:?}]", c / 2);
                distinct.insert(d);
            }
        }
        assert!(distinct.len() > 100, "jitter should spread delays");
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let d = p.delay(1, Some(Duration::from_secs(3)), &mut rng);
        assert_eq!(d, Duration::from_secs(3));
        let d = p.delay(1, Some(Duration::from_secs(3600)), &mut rng);
        assert_eq!(d, p.max_delay);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        // An HTTP date is not understood: no hint.
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[tokio::test]
    async fn retries_retryable_errors_then_succeeds() {
        let p = fast();
        let attempts = AtomicU32::new(0);
        let mut calls = 0;
        let mut logged = 0;
        let r = retry(
            &p,
            &Contact::default(),
            &attempts,
            || {
                calls += 1;
                let n = calls;
                async move { if n < 3 { Err(server_error()) } else { Ok(n) } }
            },
            |_, _| logged += 1,
        )
        .await;
        assert_eq!(r.unwrap(), 3);
        assert_eq!(attempts.into_inner(), 3);
        assert_eq!(logged, 2);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_and_never_retries_fatal_errors() {
        let p = RetryPolicy {
            max_attempts: 4,
            ..fast()
        };
        let attempts = AtomicU32::new(0);
        let r: Result<(), _> = retry(
            &p,
            &Contact::default(),
            &attempts,
            || async { Err(server_error()) },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Server { .. })), "{r:?}");
        assert_eq!(attempts.into_inner(), 4);

        let attempts = AtomicU32::new(0);
        let r: Result<(), _> = retry(
            &p,
            &Contact::default(),
            &attempts,
            || async { Err(Error::Exists { key: "k".into() }) },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Exists { .. })), "{r:?}");
        assert_eq!(attempts.into_inner(), 1);
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_but_a_full_store_are_sent_again() {
        let sent_again: Vec<u16> = (400..600)
            .filter(|s| retryable_status(StatusCode::from_u16(*s).unwrap()))
            .collect();
        let mut want = vec![408, 429];
        want.extend((500..600).filter(|s| *s != 507));
        assert_eq!(sent_again, want);
    }

    #[tokio::test]
    async fn a_silent_server_is_waited_for_beyond_the_attempts_then_given_up() {
        let p = RetryPolicy {
            max_attempts: 2,
            ..fast()
        };
        let server = closed_server();
        let requests = AtomicU32::new(0);
        let r: Result<(), _> = retry(
            &p,
            &Contact::default(),
            &requests,
            || refused(&server).map(Err),
            |_, _| {},
        )
        .await;
        let Err(e @ Error::Unreachable { .. }) = &r else {
            panic!("{r:?}")
        };
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("no response from {server} for "))
                && text.ends_with(" s (last error: connection refused)"),
            "{text}"
        );
        // It kept trying while nothing answered.
        assert!(requests.into_inner() > 2);
    }

    #[tokio::test]
    async fn a_request_failing_alone_fails_after_its_attempts() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..fast()
        };
        let contact = Contact::default();
        let server = closed_server();
        let requests = AtomicU32::new(0);
        let r: Result<(), _> = retry(
            &p,
            &contact,
            &requests,
            || {
                // Other requests get replies meanwhile.
                contact.replied();
                refused(&server).map(Err)
            },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Network { .. })), "{r:?}");
        assert_eq!(requests.into_inner(), 3);
    }
}
