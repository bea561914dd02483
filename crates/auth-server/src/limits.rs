//! Keyed rate limiters (governor): logins per client IP, signatures per user.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimits;

/// One keyed limiter, or none when its rate is 0.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(quota: Option<Quota>) -> Self {
        Self {
            inner: quota.map(governor::RateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` when `key` may proceed, else the seconds to wait (at least 1).
    pub fn check(&self, key: &K) -> Result<(), u64> {
        let Some(l) = &self.inner else {
            return Ok(());
        };
        l.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets keys whose state is back to full capacity.
    pub fn shrink(&self) {
        if let Some(l) = &self.inner {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The server's limiters.
#[derive(Debug)]
pub struct Limits {
    /// Logins per client IP.
    pub login: Limiter<IpAddr>,
    /// Signature requests per user id.
    pub sign: Limiter<u64>,
}

fn quota(per: Duration, count: u32, burst: u32) -> Option<Quota> {
    let count = NonZeroU32::new(count)?;
    let period = per / count.get();
    let burst = NonZeroU32::new(burst).unwrap_or(count);
    Quota::with_period(period.max(Duration::from_nanos(1))).map(|q| q.allow_burst(burst))
}

impl Limits {
    /// Builds the limiters from the configuration.
    pub fn new(c: &RateLimits) -> Self {
        Self {
            login: Limiter::new(quota(
                Duration::from_secs(60),
                c.login_per_minute,
                c.login_burst,
            )),
            sign: Limiter::new(quota(
                Duration::from_secs(1),
                c.sign_per_second,
                c.sign_burst,
            )),
        }
    }

    /// Forgets idle keys (called periodically).
    pub fn shrink(&self) {
        self.login.shrink();
        self.sign.shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_with_retry_after() {
        let l = Limits::new(&RateLimits {
            login_per_minute: 1,
            login_burst: 2,
            sign_per_second: 0,
            sign_burst: 0,
        });
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(l.login.check(&ip), Ok(()));
        assert_eq!(l.login.check(&ip), Ok(()));
        let wait = l.login.check(&ip).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // Other keys are independent; a zero rate disables the limiter.
        assert_eq!(l.login.check(&[10, 0, 0, 2].into()), Ok(()));
        for _ in 0..1000 {
            assert_eq!(l.sign.check(&7), Ok(()));
        }
    }
}
