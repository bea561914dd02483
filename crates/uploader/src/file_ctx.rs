//! What one file's upload carries along ([`FileCtx`]): where its progress
//! goes, its journal and unfinished uploads from an earlier run, and the
//! counts its report is made of (requests, bytes stored, bytes resumed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use shared::ObjectKey;

use crate::error::Error;
use crate::journal::{Journal, JournalState, PendingMultipart, PendingSlices, Record};
use crate::progress::{AttemptMeter, NoProgress, Progress};
use crate::retry::Requests;

/// Per-file context: progress, journal, resume state and the request count.
pub struct FileCtx {
    /// Index of the file in the run (for progress).
    pub id: usize,
    /// Where bytes are reported.
    pub progress: Arc<dyn Progress>,
    /// Where slices, parts and completion are recorded.
    pub journal: Option<Arc<Journal>>,
    /// An unfinished v4 slice upload of this key from an earlier run.
    pub pending_slices: Option<PendingSlices>,
    /// An unfinished v5 multipart upload of this key from an earlier run.
    pub pending_multipart: Option<PendingMultipart>,
    requests: AtomicU32,
    /// Bytes this run stored (acknowledged attempts only).
    stored: Arc<AtomicU64>,
    /// Bytes earlier runs stored (slices or parts resumed).
    resumed: AtomicU64,
}

impl std::fmt::Debug for FileCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCtx")
            .field("id", &self.id)
            .field("requests", &self.requests())
            .field("bytes_sent", &self.bytes_sent())
            .field("bytes_resumed", &self.bytes_resumed())
            .finish_non_exhaustive()
    }
}

impl Default for FileCtx {
    fn default() -> Self {
        Self::new(0, Arc::new(NoProgress))
    }
}

impl FileCtx {
    /// A context with no journal.
    pub fn new(id: usize, progress: Arc<dyn Progress>) -> Self {
        Self {
            id,
            progress,
            journal: None,
            pending_slices: None,
            pending_multipart: None,
            requests: AtomicU32::new(0),
            stored: Arc::default(),
            resumed: AtomicU64::new(0),
        }
    }

    /// Adds a journal, taking this key's unfinished uploads from `state`.
    pub fn with_journal(
        mut self,
        journal: Arc<Journal>,
        state: &JournalState,
        key: &ObjectKey,
    ) -> Self {
        self.pending_slices = state.slices.get(key.as_str()).cloned();
        self.pending_multipart = state.multiparts.get(key.as_str()).cloned();
        self.journal = Some(journal);
        self
    }

    /// HTTP requests sent to the store for this file so far (retries included).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Bytes of this file the store acknowledged in this run: attempts that
    /// failed, and slices or parts stored by an earlier run, are not counted.
    pub fn bytes_sent(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Bytes of this file an earlier run stored (resumed slices or parts).
    pub fn bytes_resumed(&self) -> u64 {
        self.resumed.load(Ordering::Relaxed)
    }

    /// A meter for one attempt; its bytes count as sent once committed.
    pub(crate) fn meter(&self) -> AttemptMeter {
        AttemptMeter::counting(self.progress.clone(), self.id, self.stored.clone())
    }

    /// Appends `rec` to the journal, if there is one, once it is on disk.
    pub(crate) async fn record(&self, rec: Record) -> Result<(), Error> {
        match &self.journal {
            Some(j) => j.append(&rec).await,
            None => Ok(()),
        }
    }

    /// Records `bytes` an earlier run stored, counting them as progress.
    pub(crate) fn resumed(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.resumed.fetch_add(bytes, Ordering::Relaxed);
        self.progress_done(bytes);
    }

    /// Counts `bytes` as progress that this run does not send (stored by an
    /// earlier run, or a file the journal records as done).
    pub(crate) fn progress_done(&self, bytes: u64) {
        let keep = AttemptMeter::new(self.progress.clone(), self.id);
        keep.add(bytes);
        keep.commit();
    }
}

impl Requests for FileCtx {
    fn add(&self, n: u32) {
        self.requests.add(n);
    }
}
