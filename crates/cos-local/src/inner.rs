//! The state every clone of a [`crate::Store`] shares.

use std::sync::OnceLock;

use shared::ObjectKey;

use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::faults::Faults;
use crate::locks::KeyedLocks;
use crate::storage::{Storage, Writes};
use crate::uploads;
use crate::used_signs::UsedSigns;

/// An open store: configuration, objects, upload locks, faults and the
/// used-signature log.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: StoreConfig,
    pub(crate) storage: Storage,
    pub(crate) faults: Faults,
    /// Single-effect v4 signatures already used.
    pub(crate) used_signs: UsedSigns,
    /// One lock per target (bucket, key) of a v4 slice upload, held while
    /// `upload_slice_init` finds, resumes, replaces or creates its session, so
    /// a key never has two sessions; inits for other keys proceed in parallel.
    pub(crate) slice_target_locks: KeyedLocks<(String, ObjectKey)>,
    /// One lock per v4 slice session id: its slices are written one at a time
    /// and never while it finishes; different sessions proceed in parallel.
    pub(crate) slice_session_locks: KeyedLocks<String>,
    /// One lock per v5 multipart upload id: a part is stored, the upload
    /// completed (the whole copy of its parts) or aborted one at a time, while
    /// other uploads proceed in parallel.
    pub(crate) multipart_upload_locks: KeyedLocks<String>,
    /// What the sweeps of abandoned uploads reclaimed.
    pub(crate) sweeps: uploads::SweepCounters,
    /// The periodic sweep's task, aborted when the store is dropped.
    pub(crate) sweeper: OnceLock<tokio::task::AbortHandle>,
}

impl Inner {
    /// Checks `config`, then opens (or creates) the store in its data
    /// directory: removes stale temp files, orphaned bodies, half-created
    /// upload sessions and uploads idle for `upload_ttl`, and rebuilds the
    /// index.
    pub(crate) fn open(config: StoreConfig) -> Result<Self, StoreError> {
        config.check()?;
        std::fs::create_dir_all(&config.data_dir).map_err(StoreError::io(format!(
            "create {}",
            config.data_dir.display()
        )))?;
        let writes = Writes {
            fsync: config.fsync,
            disk_full: config.faults.disk_full,
        };
        let storage = Storage::open(&config.data_dir, writes)?;
        uploads::cleanup_at_open(&storage)?;
        let sweeps = uploads::SweepCounters::default();
        uploads::sweep_at_open(
            &storage,
            config.upload_ttl,
            shared::clock::unix_now(),
            &sweeps,
        )?;
        let used_signs = UsedSigns::open(&config.data_dir, writes)?;
        Ok(Self {
            faults: Faults::new(config.faults.clone()),
            config,
            storage,
            used_signs,
            slice_target_locks: KeyedLocks::default(),
            slice_session_locks: KeyedLocks::default(),
            multipart_upload_locks: KeyedLocks::default(),
            sweeps,
            sweeper: OnceLock::new(),
        })
    }

    /// `<short>-<appid>`.
    pub(crate) fn bucket_full(&self, short: &str) -> String {
        format!("{short}-{}", self.config.appid)
    }

    /// The short name of the full bucket name `full` (`full` itself when it
    /// does not end in this store's APPID).
    pub(crate) fn bucket_short<'a>(&self, full: &'a str) -> &'a str {
        full.strip_suffix(&format!("-{}", self.config.appid))
            .unwrap_or(full)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.sweeper.get() {
            task.abort();
        }
        self.faults.log_totals();
    }
}
