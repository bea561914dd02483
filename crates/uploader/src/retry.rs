//! Exponential backoff with full jitter for retryable failures.

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

/// Runs `op` until it succeeds, fails with a non-retryable error, or the
/// attempts run out. `attempts` is incremented for every attempt made.
/// `on_retry` is called with the error before each wait (for logging).
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    attempts: &mut u32,
    mut op: F,
    mut on_retry: impl FnMut(&Error, Duration),
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut retry_no = 0;
    loop {
        *attempts += 1;
        retry_no += 1;
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && retry_no < policy.max_attempts.max(1) => {
                let delay = policy.delay(retry_no, e.retry_after(), &mut rand::thread_rng());
                on_retry(&e, delay);
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

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

    #[tokio::test]
    async fn retries_retryable_errors_then_succeeds() {
        let p = fast();
        let mut attempts = 0;
        let mut calls = 0;
        let mut logged = 0;
        let r = retry(
            &p,
            &mut attempts,
            || {
                calls += 1;
                let n = calls;
                async move { if n < 3 { Err(server_error()) } else { Ok(n) } }
            },
            |_, _| logged += 1,
        )
        .await;
        assert_eq!(r.unwrap(), 3);
        assert_eq!(attempts, 3);
        assert_eq!(logged, 2);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_and_never_retries_fatal_errors() {
        let p = RetryPolicy {
            max_attempts: 4,
            ..fast()
        };
        let mut attempts = 0;
        let r: Result<(), _> = retry(
            &p,
            &mut attempts,
            || async { Err(server_error()) },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Server { .. })));
        assert_eq!(attempts, 4);

        let mut attempts = 0;
        let r: Result<(), _> = retry(
            &p,
            &mut attempts,
            || async { Err(Error::Exists { key: "k".into() }) },
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(Error::Exists { .. })));
        assert_eq!(attempts, 1);
    }
}
