//! Async locks by name, so operations on one upload are serialised while
//! different uploads proceed in parallel. The store keeps three maps of them
//! (see `Inner`): one lock per v5 multipart upload id, one per v4 slice
//! session id, and one per target key of a v4 slice upload while its session
//! is created or replaced. None is store-wide.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

type Entry = Arc<tokio::sync::Mutex<()>>;

/// A map of named async mutexes. An entry lives only while someone holds or
/// waits for its lock, so abandoned uploads leave nothing behind.
#[derive(Debug)]
pub(crate) struct KeyedLocks<K> {
    map: Mutex<HashMap<K, Entry>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry>> {
        // Every critical section is a single map operation: a panic cannot
        // leave the map half-updated.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for the lock named `name`.
    pub(crate) async fn lock(&self, name: K) -> KeyedGuard<'_, K> {
        let entry = Arc::clone(self.map().entry(name.clone()).or_default());
        let guard = entry.lock_owned().await;
        KeyedGuard {
            locks: self,
            name,
            guard: Some(guard),
        }
    }

    /// Number of names with a live lock (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    /// How many hold or wait for the lock named `name` (tests).
    #[cfg(test)]
    pub(crate) fn users(&self, name: &K) -> usize {
        self.map()
            .get(name)
            .map_or(0, |e| Arc::strong_count(e).saturating_sub(1))
    }
}

/// A held lock; releasing it forgets the name unless someone else waits for it.
#[derive(Debug)]
pub(crate) struct KeyedGuard<'a, K: Eq + Hash + Clone> {
    locks: &'a KeyedLocks<K>,
    name: K,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Eq + Hash + Clone> Drop for KeyedGuard<'_, K> {
    fn drop(&mut self) {
        // Release first: the guard holds a reference to the entry.
        drop(self.guard.take());
        let mut map = self.locks.map();
        // Only the map refers to the entry: nobody holds or waits for it, and
        // nobody can start to without the map lock we hold.
        if map
            .get(&self.name)
            .is_some_and(|e| Arc::strong_count(e) == 1)
        {
            map.remove(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot::error::TryRecvError;

    use super::*;

    #[tokio::test]
    async fn one_name_at_a_time_others_in_parallel_and_nothing_left_over() {
        let locks = Arc::new(KeyedLocks::default());
        let a = locks.lock("a").await;
        // Another name is free while "a" is held (this would hang otherwise).
        let b = locks.lock("b").await;
        assert_eq!(locks.len(), 2);
        drop(b);
        assert_eq!(locks.len(), 1);
        // A second taker of "a" waits until the first lets go.
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let l = Arc::clone(&locks);
        let waiter = tokio::spawn(async move {
            let _g = l.lock("a").await;
            let _ = tx.send(());
        });
        tokio::task::yield_now().await;
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "took a held lock");
        drop(a);
        waiter.await.unwrap();
        assert_eq!(rx.try_recv(), Ok(()));
        assert_eq!(locks.len(), 0, "released names are forgotten");
    }
}
