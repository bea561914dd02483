//! Progress reporting: a trait the bulk runner calls, and three sinks: an
//! indicatif display (`bar`: overall bar plus lines for active large files),
//! plain periodic lines for logs and pipes (`plain`), and nothing
//! (`--quiet`). `meter` counts the bytes of one attempt into a sink.

mod bar;
mod meter;
mod plain;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::report::{FileReport, Status, Summary};

pub use bar::BarProgress;
pub(crate) use meter::AttemptMeter;
pub use plain::PlainProgress;

/// Receives progress events. Every method has an empty default; `file` is an
/// index into the run's file list. `bytes` can be negative: bytes sent by an
/// attempt that failed are taken back, so the total never overstates what the
/// store holds.
pub trait Progress: Send + Sync {
    /// The run starts with this many files and bytes to consider.
    fn begin(&self, _files: u64, _bytes: u64) {}
    /// Work on a file starts.
    fn file_started(&self, _file: usize, _name: &str, _size: u64) {}
    /// Bytes of the file were sent (or, negative, taken back after a failed attempt).
    fn bytes(&self, _file: usize, _delta: i64) {}
    /// A file is finished (whatever the outcome).
    fn file_finished(&self, _file: usize, _report: &FileReport) {}
    /// The run is over.
    fn finish(&self, _summary: &Summary) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Shared counters behind the plain and bar sinks.
#[derive(Debug, Default)]
struct Totals {
    files: AtomicU64,
    bytes: AtomicU64,
    /// Files finished (well or failed); cancelled files are not.
    files_done: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    bytes_done: AtomicI64,
}

impl Totals {
    fn bytes_done(&self) -> u64 {
        u64::try_from(self.bytes_done.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Counts a finished file by its outcome.
    fn file_finished(&self, status: Status) {
        if status == Status::Cancelled {
            self.cancelled.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.files_done.fetch_add(1, Ordering::Relaxed);
        if status == Status::Failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `files 30/304, 2 failed, 272 cancelled`.
    fn files(&self) -> String {
        let mut s = format!(
            "files {}/{}",
            self.files_done.load(Ordering::Relaxed),
            self.files.load(Ordering::Relaxed)
        );
        for (n, what) in [(&self.failed, "failed"), (&self.cancelled, "cancelled")] {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                s.push_str(&format!(", {n} {what}"));
            }
        }
        s
    }
}
