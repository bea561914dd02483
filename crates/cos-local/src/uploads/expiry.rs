//! Expiry of abandoned uploads. A v5 multipart upload or v4 slice session
//! whose last activity (its creation, or the last part or slice written) lies
//! more than `StoreConfig::upload_ttl` in the past is removed with its data,
//! as COS's lifecycle rule for incomplete multipart uploads removes them
//! (24 hours by default, the usual setting of that rule).
//!
//! The store sweeps when it is opened, then every `min(ttl / 4, 1 h)` from a
//! tokio task that holds only a weak reference to the store and is aborted
//! when the store is dropped. A sweep takes each stale upload's lock (and a
//! slice session's target lock, which guards its creation and resumption)
//! and looks again under it, so an upload that is being written, completed or
//! resumed is never removed. A part or slice still streaming in when its
//! upload expires is refused once received (`NoSuchUpload`, its temp file
//! removed): with a TTL of hours, only a client that sent nothing for that
//! long meets it. What was reclaimed is counted ([`SweepStats`]).

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, UNIX_EPOCH};

use shared::ObjectKey;

use super::{Kind, SliceSession, load_json};
use crate::error::StoreError;
use crate::http;
use crate::inner::Inner;
use crate::storage::{self, Storage};

/// What the sweeps of abandoned uploads have reclaimed since the store was
/// opened (the sweep at open included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepStats {
    /// v5 multipart uploads removed after `upload_ttl` without a part.
    pub expired_multipart: u64,
    /// v4 slice sessions removed after `upload_ttl` without a slice.
    pub expired_slices: u64,
    /// Disk space those uploads held, in bytes (allocated blocks, so a
    /// slice session's sparse data file counts what was written into it).
    pub bytes_freed: u64,
}

/// The counters behind [`SweepStats`].
#[derive(Debug, Default)]
pub(crate) struct SweepCounters {
    multipart: AtomicU64,
    slices: AtomicU64,
    bytes: AtomicU64,
}

impl SweepCounters {
    fn count(&self, kind: Kind, bytes: u64) {
        let counter = match kind {
            Kind::Multipart => &self.multipart,
            Kind::Slice => &self.slices,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SweepStats {
        SweepStats {
            expired_multipart: self.multipart.load(Ordering::Relaxed),
            expired_slices: self.slices.load(Ordering::Relaxed),
            bytes_freed: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// An upload that looked stale when its directory was scanned.
#[derive(Debug)]
struct Stale {
    kind: Kind,
    id: String,
    /// A slice session's target (bucket and key): its lock guards the
    /// session's creation and resumption.
    target: Option<(String, ObjectKey)>,
}

/// How often the store sweeps: a quarter of the TTL, at most hourly.
fn period(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_millis(10), Duration::from_secs(3600))
}

/// The newest modification time (UNIX seconds) of an upload's directory and
/// of its files: creating it, writing a part or slice (and its log line)
/// and renaming a part into place all move it. `None` when it cannot be read.
fn last_activity(dir: &Path) -> Option<u64> {
    let secs = |path: &Path| {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    let mut newest = secs(dir)?;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        newest = newest.max(secs(&entry.path())?);
    }
    Some(newest)
}

/// Whether the upload in `dir` is complete (has its marker) and has been
/// idle for more than `ttl`. Times are whole seconds, so the comparison is
/// strict: an upload last touched at 10.9 s is not stale at 11.0 s for a TTL
/// of 1 s, only from 12 s on.
fn is_stale(dir: &Path, kind: Kind, ttl: Duration, now: u64) -> bool {
    dir.join(kind.marker()).is_file()
        && last_activity(dir).is_some_and(|last| last.saturating_add(ttl.as_secs()) < now)
}

/// Disk space the files of `dir` hold: allocated blocks where the platform
/// tells them (a sparse file holds less than its length), else lengths.
fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(fs::Metadata::is_file)
        .map(|m| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt as _;
                m.len().min(m.blocks().saturating_mul(512))
            }
            #[cfg(not(unix))]
            {
                m.len()
            }
        })
        .sum()
}

/// Every upload that is stale at `now`.
fn scan(storage: &Storage, ttl: Duration, now: u64) -> Result<Vec<Stale>, StoreError> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for dir in storage::read_dir(&kind.root(storage))? {
            if !is_stale(&dir, kind, ttl, now) {
                continue;
            }
            let Some(id) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            // A session file that does not parse cannot be resumed either: it
            // expires all the same, without its target's lock.
            let target = match kind {
                Kind::Multipart => None,
                Kind::Slice => load_json::<SliceSession>(&dir.join(kind.marker()))
                    .ok()
                    .flatten()
                    .map(|s| (s.bucket, s.key)),
            };
            out.push(Stale { kind, id, target });
        }
    }
    Ok(out)
}

/// Removes the upload `id` when it is (still) stale: what it held, in bytes.
fn remove_if_stale(
    storage: &Storage,
    kind: Kind,
    id: &str,
    ttl: Duration,
    now: u64,
) -> Result<Option<u64>, StoreError> {
    let dir = kind.root(storage).join(id);
    if !is_stale(&dir, kind, ttl, now) {
        return Ok(None);
    }
    let bytes = disk_usage(&dir);
    storage::remove_any(&dir)?;
    tracing::info!(kind = ?kind, upload = id, bytes, "expired an abandoned upload");
    Ok(Some(bytes))
}

/// The sweep at open: nobody else holds the store yet, so no locks.
pub(crate) fn sweep_at_open(
    storage: &Storage,
    ttl: Duration,
    now: u64,
    counters: &SweepCounters,
) -> Result<(), StoreError> {
    for stale in scan(storage, ttl, now)? {
        if let Some(bytes) = remove_if_stale(storage, stale.kind, &stale.id, ttl, now)? {
            counters.count(stale.kind, bytes);
        }
    }
    Ok(())
}

/// One sweep of a running store, as if the time were `now`: each stale
/// upload is looked at again, and removed, under its locks.
pub(crate) async fn sweep(inner: &Arc<Inner>, now: u64) -> Result<(), StoreError> {
    let ttl = inner.config.upload_ttl;
    let i = Arc::clone(inner);
    let stale = http::blocking(move || scan(&i.storage, ttl, now)).await?;
    for Stale { kind, id, target } in stale {
        // Target lock before session lock, as upload_slice_init takes them.
        let _target = match target {
            Some(t) => Some(inner.slice_target_locks.lock(t).await),
            None => None,
        };
        let _upload = match kind {
            Kind::Multipart => inner.multipart_upload_locks.lock(id.clone()).await,
            Kind::Slice => inner.slice_session_locks.lock(id.clone()).await,
        };
        let i = Arc::clone(inner);
        let removed =
            http::blocking(move || remove_if_stale(&i.storage, kind, &id, ttl, now)).await?;
        if let Some(bytes) = removed {
            inner.sweeps.count(kind, bytes);
        }
    }
    Ok(())
}

/// Starts the periodic sweep on the current tokio runtime: a task that holds
/// the store only weakly, so it never keeps it alive; the store aborts it
/// when dropped. `None` outside a runtime (then only the sweep at open runs).
pub(crate) fn start_sweeper(inner: &Arc<Inner>) -> Option<tokio::task::AbortHandle> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let every = period(inner.config.upload_ttl);
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let task = runtime.spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if let Err(e) = sweep(&inner, shared::clock::unix_now()).await {
                tracing::warn!(error = %e, "sweeping abandoned uploads failed; trying again later");
            }
        }
    });
    Some(task.abort_handle())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Running;

    #[test]
    fn sweeps_every_quarter_ttl_at_most_hourly() {
        assert_eq!(period(Duration::from_secs(1)), Duration::from_millis(250));
        assert_eq!(
            period(Duration::from_secs(86_400)),
            Duration::from_secs(3600)
        );
    }

    /// Sets the modification time of an upload's directory and files.
    fn age(dir: &Path, secs_ago: u64) {
        let when = UNIX_EPOCH + Duration::from_secs(shared::clock::unix_now() - secs_ago);
        for entry in fs::read_dir(dir).unwrap().flatten() {
            fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        fs::File::open(dir).unwrap().set_modified(when).unwrap();
    }

    fn upload_dir(run: &Running, kind: Kind, id: &str) -> std::path::PathBuf {
        kind.root(&run.store.inner.storage).join(id)
    }

    /// An upload idle for longer than the TTL goes; one with fresh activity,
    /// or one whose lock is held (a part being stored, a complete), stays.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_idle_unlocked_uploads_expire() {
        let run = Running::start().await;
        let ttl = run.store.config().upload_ttl.as_secs();
        let idle = run.initiate("idle.bin").await;
        let active = run.initiate("active.bin").await;
        let locked = run.initiate("locked.bin").await;
        for id in [&idle, &active, &locked] {
            age(&upload_dir(&run, Kind::Multipart, id), ttl + 60);
        }
        // Fresh activity: a part written now.
        let params = [("partNumber", "1"), ("uploadId", active.as_str())];
        let (status, text) = run
            .send("put", "active.bin", &params, b"part".to_vec())
            .await;
        assert_eq!(status, 200, "{text}");

        let inner = &run.store.inner;
        let held = inner.multipart_upload_locks.lock(locked.clone()).await;
        let mut sweeping = std::pin::pin!(sweep(inner, shared::clock::unix_now()));
        // Drive the sweep until it waits for the held lock (its second user).
        let waiting = async {
            while inner.multipart_upload_locks.users(&locked) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        // The timeout is a hang guard only.
        tokio::time::timeout(Duration::from_secs(120), async {
            tokio::select! {
                biased;
                r = &mut sweeping => panic!("the sweep went past a held lock: {r:?}"),
                () = waiting => {}
            }
        })
        .await
        .unwrap();
        assert!(upload_dir(&run, Kind::Multipart, &locked).exists());
        // Activity while the lock was held (the part it guarded), then release.
        fs::File::options()
            .write(true)
            .open(upload_dir(&run, Kind::Multipart, &locked).join("upload.json"))
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::from_secs(shared::clock::unix_now()))
            .unwrap();
        drop(held);
        tokio::time::timeout(Duration::from_secs(120), sweeping)
            .await
            .unwrap()
            .unwrap();

        assert!(!upload_dir(&run, Kind::Multipart, &idle).exists());
        assert!(upload_dir(&run, Kind::Multipart, &active).exists());
        assert!(upload_dir(&run, Kind::Multipart, &locked).exists());
        let stats = run.store.sweep_stats();
        assert_eq!(
            (stats.expired_multipart, stats.expired_slices),
            (1, 0),
            "{stats:?}"
        );
        run.handle.stop(true).await;
    }

    /// The periodic task holds the store weakly and ends when it is dropped.
    #[tokio::test]
    async fn the_sweeper_ends_with_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let creds = cos_sign::Credentials::new("AKIDunit", "unit-test-secret-key");
        let config = crate::StoreConfig::new(dir.path(), "1250000000", "metis", vec![creds]);
        let store = crate::Store::open(config).unwrap();
        let task = store.inner.sweeper.get().cloned().expect("a sweeper task");
        assert!(!task.is_finished());
        drop(store);
        for _ in 0..1000 {
            if task.is_finished() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(task.is_finished(), "the sweeper outlived its store");
    }
}
