//! v4 signatures cached per directory ([`SignCache`]): one multi-effect
//! signature serves every upload into its directory until it is close to
//! expiring, and one the store calls expired (-96) is dropped at once.

use std::collections::HashMap;
use std::sync::Arc;

use shared::DirPath;
use shared::wire::SignResponse;

use crate::client::ServerClient;
use crate::error::Error;

/// Caches v4 signatures per directory and renews them before they expire.
///
/// A signature is renewed when less than `margin` of its life is left, where
/// `margin` is a fifth of its lifetime, between 1 and 120 seconds; after a
/// store answers -96 (expired) the caller calls [`SignCache::invalidate`].
pub struct SignCache {
    client: Arc<ServerClient>,
    entries: tokio::sync::Mutex<HashMap<DirPath, Arc<CachedSign>>>,
}

impl std::fmt::Debug for SignCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignCache").finish_non_exhaustive()
    }
}

/// A cached signature.
#[derive(Debug)]
pub struct CachedSign {
    /// What the server returned.
    pub sign: SignResponse,
    renew_at: u64,
}

impl SignCache {
    /// An empty cache.
    pub fn new(client: Arc<ServerClient>) -> Self {
        Self {
            client,
            entries: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// A valid signature for `dir`, fetched or renewed when needed.
    pub async fn get(&self, dir: &DirPath) -> Result<Arc<CachedSign>, Error> {
        let mut entries = self.entries.lock().await;
        let now = shared::clock::unix_now();
        if let Some(c) = entries.get(dir)
            && now < c.renew_at
        {
            return Ok(c.clone());
        }
        let sign = self.client.sign_v4(dir).await?;
        let now = shared::clock::unix_now();
        let ttl = sign.expires_at.saturating_sub(now);
        let margin = (ttl / 5).clamp(1, 120);
        let c = Arc::new(CachedSign {
            renew_at: sign.expires_at.saturating_sub(margin),
            sign,
        });
        entries.insert(dir.clone(), c.clone());
        Ok(c)
    }

    /// Drops `stale` (the store said it expired) so the next `get` fetches a new one.
    pub async fn invalidate(&self, dir: &DirPath, stale: &Arc<CachedSign>) {
        let mut entries = self.entries.lock().await;
        if entries.get(dir).is_some_and(|c| Arc::ptr_eq(c, stale)) {
            entries.remove(dir);
        }
    }
}
