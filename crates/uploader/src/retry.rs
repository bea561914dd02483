//! Retrying: how often and how patiently ([`RetryPolicy`]: exponential
//! backoff with jitter, honouring `Retry-After`), the one retry loop every
//! retried request goes through, and where its requests are counted.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
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
/// between attempts. `on_retry` is called with the error and the delay before
/// each wait (for logging). The attempts made (one request each) are added
/// to `requests` once the call is over (a call abandoned mid-way, by
/// cancellation, adds none).
///
/// Each attempt is a whole new request: `op` builds its body and meter again,
/// and asks for a signature again where one may have expired.
pub(crate) async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    requests: &impl Requests,
    mut op: F,
    mut on_retry: impl FnMut(&Error, Duration),
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut made = 0;
    let result = loop {
        made += 1;
        match op().await {
            Ok(v) => break Ok(v),
            Err(e) if e.is_retryable() && made < policy.max_attempts.max(1) => {
                let delay = policy.delay(made, e.retry_after(), &mut rand::thread_rng());
                on_retry(&e, delay);
                tokio::time::sleep(delay).await;
            }
            Err(e) => break Err(e),
        }
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
        }
    }

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
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
        let r: Result<(), _> =
            retry(&p, &attempts, || async { Err(server_error()) }, |_, _| {}).await;
        assert!(matches!(r, Err(Error::Server { .. })), "{r:?}");
        assert_eq!(attempts.into_inner(), 4);

        let attempts = AtomicU32::new(0);
        let r: Result<(), _> = retry(
            &p,
            &attempts,
            || async { Err(Error::Exists { key: "k".into() }) },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Exists { .. })), "{r:?}");
        assert_eq!(attempts.into_inner(), 1);
    }
}
