//! Progress reporting: a trait the bulk runner calls, and three sinks: an
//! indicatif display (`bar`: overall bar plus lines for active large files),
//! plain periodic lines for logs and pipes (`plain`), and nothing
//! (`--quiet`). `meter` counts the bytes of one attempt into a sink.
//!
//! A large file is hashed before any of it is sent; that pass is a phase of
//! its own (`hashing <file> <done> / <size> <rate>`), and the upload's rate
//! and ETA start with the first byte sent.

mod bar;
mod meter;
mod plain;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::plan::RunPlan;
use crate::report::{FileReport, Status, Summary, human_bytes};

pub use bar::BarProgress;
pub(crate) use meter::AttemptMeter;
pub use plain::PlainProgress;

/// Receives progress events. Every method has an empty default; `file` is an
/// index into the run's file list. `bytes` can be negative: bytes sent by an
/// attempt that failed are taken back, so the total never overstates what the
/// store holds.
pub trait Progress: Send + Sync {
    /// The run starts: what it will do (sinks that show anything print
    /// [`RunPlan::line`] first).
    fn begin(&self, _plan: &RunPlan) {}
    /// Work on a file starts.
    fn file_started(&self, _file: usize, _name: &str, _size: u64) {}
    /// Bytes of the file were read to compute its digests, before any of it
    /// is sent (files read into memory whole are not reported).
    fn hashed(&self, _file: usize, _bytes: u64) {}
    /// Bytes of the file were sent (or, negative, taken back after a failed attempt).
    fn bytes(&self, _file: usize, _delta: i64) {}
    /// A file is finished (whatever the outcome).
    fn file_finished(&self, _file: usize, _report: &FileReport) {}
    /// The run is over.
    fn finish(&self, _summary: &Summary) {}
}

#[cfg(test)]
impl RunPlan {
    /// A plan of `files` files and `bytes` bytes from `photos` (for sink tests).
    pub(crate) fn of(files: u64, bytes: u64) -> Self {
        RunPlan {
            files,
            bytes,
            from: vec!["photos".into()],
            to: "/u/7/photos/".into(),
            server: "http://127.0.0.1:8080".into(),
            dry_run: false,
        }
    }
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
    /// When the first byte was sent: the upload's rate counts from there.
    first_byte: OnceLock<Instant>,
    /// Files started and not yet finished, with their hashing pass.
    active: Mutex<HashMap<usize, Active>>,
}

/// A file being worked on, as far as its hashing pass goes.
#[derive(Debug)]
struct Active {
    name: String,
    size: u64,
    started: Instant,
    hashed: u64,
}

impl Active {
    /// True while its hashing pass is under way.
    fn hashing(&self) -> bool {
        self.hashed > 0 && self.hashed < self.size
    }

    /// `hashing u/7/big.bin 512.0 MiB / 1.0 GiB | 301.2 MiB/s`.
    fn hashing_line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.hashed as f64 / secs
        } else {
            0.0
        };
        format!(
            "hashing {} {} / {} | {}/s",
            self.name,
            human_bytes(self.hashed),
            human_bytes(self.size),
            human_bytes(rate as u64)
        )
    }
}

impl Totals {
    fn file_started(&self, file: usize, name: &str, size: u64) {
        if let Ok(mut active) = self.active.lock() {
            active.insert(
                file,
                Active {
                    name: name.to_owned(),
                    size,
                    started: Instant::now(),
                    hashed: 0,
                },
            );
        }
    }

    /// Counts hashed bytes; the file's hashing line, if it is still hashing.
    fn hashed(&self, file: usize, bytes: u64) -> Option<String> {
        let mut active = self.active.lock().ok()?;
        let a = active.get_mut(&file)?;
        a.hashed = a.hashed.saturating_add(bytes);
        a.hashing().then(|| a.hashing_line())
    }

    /// Counts bytes sent (or taken back); true for the first byte of the run.
    fn bytes(&self, delta: i64) -> bool {
        self.bytes_done.fetch_add(delta, Ordering::Relaxed);
        delta > 0 && self.first_byte.set(Instant::now()).is_ok()
    }

    /// The hashing line of every file whose hashing pass is under way.
    fn hashing_lines(&self) -> Vec<String> {
        let Ok(active) = self.active.lock() else {
            return Vec::new();
        };
        let mut files: Vec<(&usize, &Active)> =
            active.iter().filter(|(_, a)| a.hashing()).collect();
        files.sort_by_key(|(i, _)| **i);
        files.into_iter().map(|(_, a)| a.hashing_line()).collect()
    }

    fn bytes_done(&self) -> u64 {
        u64::try_from(self.bytes_done.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Counts a finished file by its outcome.
    fn file_finished(&self, file: usize, status: Status) {
        if let Ok(mut active) = self.active.lock() {
            active.remove(&file);
        }
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
