//! The terminal display: an indicatif bar for the whole run and a line per
//! active large file.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Progress, Totals};
use crate::report::{FileReport, Status, Summary};

/// Files at least this large get their own line while active.
const ACTIVE_LINE_MIN_BYTES: u64 = 256 * 1024;
/// At most this many active-file lines are shown.
const MAX_ACTIVE_LINES: usize = 8;

/// An indicatif display on stdout: one overall bar (bytes, files, rate, ETA)
/// and a line per active large file.
pub struct BarProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    totals: Totals,
    active: Mutex<HashMap<usize, ProgressBar>>,
}

impl std::fmt::Debug for BarProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BarProgress").finish_non_exhaustive()
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl BarProgress {
    /// Draws on stdout.
    pub fn new() -> Self {
        Self::drawing_on(ProgressDrawTarget::stdout())
    }

    fn drawing_on(target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Self {
            multi,
            overall,
            totals: Totals::default(),
            active: Mutex::new(HashMap::new()),
        }
    }

    fn files_msg(&self) -> String {
        self.totals.files()
    }
}

impl Progress for BarProgress {
    fn begin(&self, files: u64, bytes: u64) {
        self.totals.files.store(files, Ordering::Relaxed);
        self.overall.set_length(bytes);
        self.overall.set_message(self.files_msg());
    }

    fn file_started(&self, file: usize, name: &str, size: u64) {
        if size < ACTIVE_LINE_MIN_BYTES {
            return;
        }
        let Ok(mut active) = self.active.lock() else {
            return;
        };
        if active.len() >= MAX_ACTIVE_LINES {
            return;
        }
        let bar = self.multi.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(
                "  {binary_bytes:>10}/{binary_total_bytes:<10} {bar:20} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(name.to_owned());
        active.insert(file, bar);
    }

    fn bytes(&self, file: usize, delta: i64) {
        self.totals.bytes_done.fetch_add(delta, Ordering::Relaxed);
        self.overall.set_position(self.totals.bytes_done());
        if let Ok(active) = self.active.lock()
            && let Some(bar) = active.get(&file)
        {
            if delta >= 0 {
                bar.inc(delta.unsigned_abs());
            } else {
                bar.set_position(bar.position().saturating_sub(delta.unsigned_abs()));
            }
        }
    }

    fn file_finished(&self, file: usize, report: &FileReport) {
        self.totals.file_finished(report.status);
        if report.status == Status::Failed {
            self.overall.println(format!(
                "failed: {}: {}",
                report.path.display(),
                report.error.as_deref().unwrap_or("")
            ));
        }
        if let Ok(mut active) = self.active.lock()
            && let Some(bar) = active.remove(&file)
        {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.set_message(self.files_msg());
    }

    /// Clears the active-file lines; the overall bar is full only when every
    /// file ended well, and otherwise stays where it is.
    fn finish(&self, summary: &Summary) {
        if let Ok(mut active) = self.active.lock() {
            for (_, bar) in active.drain() {
                bar.finish_and_clear();
            }
        }
        if summary.failed == 0 && summary.cancelled == 0 {
            self.overall.finish_with_message(self.files_msg());
        } else {
            self.overall.abandon_with_message(self.files_msg());
        }
        // indicatif leaves the cursor at the end of the final bar; what follows
        // (the summary line) starts on a line of its own.
        let mut out = std::io::stdout();
        let _ = writeln!(out);
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_run_leaves_the_bar_where_it_was_and_says_cancelled() {
        let bar = BarProgress::drawing_on(ProgressDrawTarget::hidden());
        bar.begin(3, 1000);
        bar.bytes(0, 300);
        let done = FileReport {
            status: Status::Uploaded,
            ..FileReport::new("a".into(), "k/a".into(), 300)
        };
        bar.file_finished(0, &done);
        for (i, name) in ["b", "c"].into_iter().enumerate() {
            let cut = FileReport {
                status: Status::Cancelled,
                ..FileReport::new(name.into(), format!("k/{name}"), 350)
            };
            bar.file_finished(i + 1, &cut);
        }
        bar.finish(&Summary {
            uploaded: 1,
            cancelled: 2,
            ..Summary::default()
        });
        assert_eq!(bar.overall.position(), 300);
        assert_eq!(bar.overall.message(), "files 1/3, 2 cancelled");
    }
}
