//! Counting the bytes of one attempt ([`AttemptMeter`]): forwarded to the
//! progress sink as they are sent, taken back if the attempt fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::Progress;

/// Counts the bytes one attempt sends, forwards them to the progress sink, and
/// takes them back when the attempt is dropped without [`AttemptMeter::commit`].
/// A committed attempt's bytes are also added to its `stored` counter, if any.
#[derive(Clone)]
pub(crate) struct AttemptMeter(Arc<MeterInner>);

struct MeterInner {
    progress: Arc<dyn Progress>,
    file: usize,
    sent: AtomicU64,
    committed: AtomicBool,
    stored: Option<Arc<AtomicU64>>,
}

impl std::fmt::Debug for AttemptMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptMeter")
            .field("file", &self.0.file)
            .finish_non_exhaustive()
    }
}

impl AttemptMeter {
    pub(crate) fn new(progress: Arc<dyn Progress>, file: usize) -> Self {
        Self::with_stored(progress, file, None)
    }

    /// A meter whose committed bytes are also added to `stored`.
    pub(crate) fn counting(
        progress: Arc<dyn Progress>,
        file: usize,
        stored: Arc<AtomicU64>,
    ) -> Self {
        Self::with_stored(progress, file, Some(stored))
    }

    fn with_stored(
        progress: Arc<dyn Progress>,
        file: usize,
        stored: Option<Arc<AtomicU64>>,
    ) -> Self {
        Self(Arc::new(MeterInner {
            progress,
            file,
            sent: AtomicU64::new(0),
            committed: AtomicBool::new(false),
            stored,
        }))
    }

    pub(crate) fn add(&self, n: u64) {
        self.0.sent.fetch_add(n, Ordering::Relaxed);
        self.0
            .progress
            .bytes(self.0.file, i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Keeps the bytes counted: the attempt succeeded.
    pub(crate) fn commit(&self) {
        if !self.0.committed.swap(true, Ordering::Relaxed)
            && let Some(stored) = &self.0.stored
        {
            stored.fetch_add(self.0.sent.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

impl Drop for MeterInner {
    fn drop(&mut self) {
        if !self.committed.load(Ordering::Relaxed) {
            let sent = self.sent.load(Ordering::Relaxed);
            if sent > 0 {
                self.progress
                    .bytes(self.file, -i64::try_from(sent).unwrap_or(i64::MAX));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    #[derive(Default)]
    struct Sum(AtomicI64);
    impl Progress for Sum {
        fn bytes(&self, _file: usize, delta: i64) {
            self.0.fetch_add(delta, Ordering::Relaxed);
        }
    }

    #[test]
    fn failed_attempts_take_their_bytes_back() {
        let sum = Arc::new(Sum::default());
        {
            let m = AttemptMeter::new(sum.clone(), 0);
            m.add(100);
            let m2 = m.clone();
            m2.add(50);
            assert_eq!(sum.0.load(Ordering::Relaxed), 150);
        }
        assert_eq!(sum.0.load(Ordering::Relaxed), 0);
        {
            let m = AttemptMeter::new(sum.clone(), 0);
            m.add(70);
            m.commit();
        }
        assert_eq!(sum.0.load(Ordering::Relaxed), 70);
        // Only committed attempts count as stored, once each.
        let stored = Arc::new(AtomicU64::new(0));
        {
            let failed = AttemptMeter::counting(sum.clone(), 0, stored.clone());
            failed.add(30);
        }
        let ok = AttemptMeter::counting(sum.clone(), 0, stored.clone());
        ok.add(20);
        ok.commit();
        ok.commit();
        assert_eq!(stored.load(Ordering::Relaxed), 20);
        assert_eq!(sum.0.load(Ordering::Relaxed), 90);
    }
}
