//! Prefix credentials from Tencent STS, handed out again per (user, policy)
//! until `sts.reuse_margin_secs` before they expire. The policy text holds the
//! prefix and the limits, so a request with another content type or size
//! gets credentials of its own. One-key credentials are never put here: each
//! names a new key.
//!
//! Bounded: at most [`MAX_ENTRIES`]; when full, expired entries are dropped
//! and, if that frees nothing, the new credential is simply not kept.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Issued, Source};

/// Most credentials kept at once.
pub const MAX_ENTRIES: usize = 10_000;

/// The cache.
#[derive(Debug)]
pub struct Cache {
    margin_secs: u64,
    entries: Mutex<HashMap<(u64, String), Issued>>,
}

impl Cache {
    /// A cache that stops handing a credential out `margin_secs` before it expires.
    pub fn new(margin_secs: u64) -> Self {
        Self {
            margin_secs,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// A credential for `user` and `policy` with more than the margin left at `now`.
    pub fn get(&self, user: u64, policy: &str, now: u64) -> Option<Issued> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user, policy.to_owned());
        match entries.get(&key) {
            Some(hit) if self.fresh(hit, now) => Some(Issued {
                source: Source::Cache,
                ..hit.clone()
            }),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `issued` for `user` and `policy`.
    pub fn put(&self, user: u64, policy: String, issued: Issued, now: u64) {
        if !self.fresh(&issued, now) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, v| now + self.margin_secs < v.expired_time);
        }
        if entries.len() < MAX_ENTRIES {
            entries.insert((user, policy), issued);
        }
    }

    /// Credentials kept (tests).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn fresh(&self, issued: &Issued, now: u64) -> bool {
        now.saturating_add(self.margin_secs) < issued.expired_time
    }
}

#[cfg(test)]
mod tests {
    use cos_sign::SecretKey;

    use super::*;

    fn issued(expired_time: u64) -> Issued {
        Issued {
            tmp_secret_id: format!("AKID{expired_time}"),
            tmp_secret_key: SecretKey::new("k"),
            security_token: "t".into(),
            start_time: expired_time.saturating_sub(1800),
            expired_time,
            source: Source::Sts,
        }
    }

    #[test]
    fn reused_per_user_and_policy_until_the_margin() {
        let c = Cache::new(300);
        c.put(1, "p".into(), issued(2000), 200);
        let hit = c.get(1, "p", 1000).unwrap();
        assert_eq!(
            (hit.source, hit.tmp_secret_id.as_str()),
            (Source::Cache, "AKID2000")
        );
        assert!(c.get(2, "p", 1000).is_none());
        assert!(c.get(1, "q", 1000).is_none());
        assert!(c.get(1, "p", 1699).is_some());
        // 300 s before expiry it is dropped.
        assert!(c.get(1, "p", 1700).is_none());
        assert!(c.is_empty());
        // Too close to expiry to keep at all.
        c.put(1, "p".into(), issued(2000), 1800);
        assert!(c.is_empty());
    }

    #[test]
    fn full_caches_drop_expired_entries_then_stop_keeping() {
        let c = Cache::new(60);
        for i in 0..MAX_ENTRIES as u64 {
            c.put(
                i,
                "p".into(),
                issued(if i % 2 == 0 { 500 } else { 5000 }),
                0,
            );
        }
        assert_eq!(c.len(), MAX_ENTRIES);
        c.put(u64::MAX, "p".into(), issued(5000), 1000);
        assert_eq!(c.len(), MAX_ENTRIES / 2 + 1);
        for i in 0..MAX_ENTRIES as u64 {
            c.put(i + MAX_ENTRIES as u64, "p".into(), issued(5000), 1000);
        }
        assert_eq!(c.len(), MAX_ENTRIES);
        assert!(c.get(u64::MAX, "p", 1000).is_some());
    }
}
