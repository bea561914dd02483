//! The terminal display: an indicatif bar for the whole run and a line per
//! active large file, which shows its hashing pass before its upload.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Progress, Totals};
use crate::plan::RunPlan;
use crate::report::{FileReport, Status, Summary};

/// Files at least this large get their own line while active.
const ACTIVE_LINE_MIN_BYTES: u64 = 256 * 1024;
/// At most this many active-file lines are shown.
const MAX_ACTIVE_LINES: usize = 8;

/// The overall bar before any byte is sent: no rate, no ETA.
const OVERALL_WAITING: &str =
    "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} {msg}";
/// The overall bar once bytes are sent.
const OVERALL_SENDING: &str = "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}";
/// A file's line while it is sent.
const FILE_SENDING: &str = "  {binary_bytes:>10}/{binary_total_bytes:<10} {bar:20} {msg}";
/// A file's line while it is hashed.
const FILE_HASHING: &str =
    "  {binary_bytes:>10}/{binary_total_bytes:<10} {bar:20} {msg} {binary_bytes_per_sec}";

/// An indicatif display on stdout: one overall bar (bytes, files, and once
/// bytes are sent, rate and ETA) and a line per active large file (`hashing
/// <file>` with its rate during its hashing pass, then its upload).
pub struct BarProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    totals: Totals,
    active: Mutex<HashMap<usize, FileLine>>,
}

/// An active file's line.
struct FileLine {
    bar: ProgressBar,
    name: String,
    /// It shows the hashing pass (no byte of the file sent yet).
    hashing: bool,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
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
        overall.set_style(style(OVERALL_WAITING));
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
    fn begin(&self, plan: &RunPlan) {
        let _ = self.multi.println(plan.line());
        self.totals.files.store(plan.files, Ordering::Relaxed);
        self.overall.set_length(plan.bytes);
        self.overall.set_message(self.files_msg());
    }

    fn file_started(&self, file: usize, name: &str, size: u64) {
        self.totals.file_started(file, name, size);
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
        bar.set_style(style(FILE_SENDING));
        bar.set_message(name.to_owned());
        active.insert(
            file,
            FileLine {
                bar,
                name: name.to_owned(),
                hashing: false,
            },
        );
    }

    fn hashed(&self, file: usize, bytes: u64) {
        self.totals.hashed(file, bytes);
        if let Ok(mut active) = self.active.lock()
            && let Some(line) = active.get_mut(&file)
        {
            if !line.hashing {
                line.hashing = true;
                line.bar.set_style(style(FILE_HASHING));
                line.bar.set_message(format!("hashing {}", line.name));
                line.bar.reset();
            }
            line.bar.inc(bytes);
        }
    }

    fn bytes(&self, file: usize, delta: i64) {
        if self.totals.bytes(delta) {
            // The first byte sent: from now on, a rate and an ETA.
            self.overall.set_style(style(OVERALL_SENDING));
            self.overall.reset_eta();
        }
        self.overall.set_position(self.totals.bytes_done());
        if let Ok(mut active) = self.active.lock()
            && let Some(line) = active.get_mut(&file)
        {
            if line.hashing && delta > 0 {
                // Hashed; the upload starts from zero.
                line.hashing = false;
                line.bar.set_style(style(FILE_SENDING));
                line.bar.set_message(line.name.clone());
                line.bar.reset();
            }
            if delta >= 0 {
                line.bar.inc(delta.unsigned_abs());
            } else {
                line.bar
                    .set_position(line.bar.position().saturating_sub(delta.unsigned_abs()));
            }
        }
    }

    fn file_finished(&self, file: usize, report: &FileReport) {
        self.totals.file_finished(file, report.status);
        if report.status == Status::Failed {
            self.overall.println(format!(
                "failed: {}: {}",
                report.path.display(),
                report.error.as_deref().unwrap_or("")
            ));
        }
        if let Ok(mut active) = self.active.lock()
            && let Some(line) = active.remove(&file)
        {
            line.bar.finish_and_clear();
            self.multi.remove(&line.bar);
        }
        self.overall.set_message(self.files_msg());
    }

    /// Clears the active-file lines; the overall bar is full only when every
    /// file ended well, and otherwise stays where it is.
    fn finish(&self, summary: &Summary) {
        if let Ok(mut active) = self.active.lock() {
            for (_, line) in active.drain() {
                line.bar.finish_and_clear();
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
        bar.begin(&RunPlan::of(3, 1000));
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

    #[test]
    fn a_large_file_line_shows_its_hashing_pass_then_its_upload() {
        let bar = BarProgress::drawing_on(ProgressDrawTarget::hidden());
        bar.begin(&RunPlan::of(1, 1 << 20));
        bar.file_started(0, "u/7/big.bin", 1 << 20);
        bar.hashed(0, 512 * 1024);
        let line = |bar: &BarProgress| {
            let active = bar.active.lock().unwrap();
            let l = &active[&0];
            (l.bar.message(), l.bar.position())
        };
        assert_eq!(line(&bar), ("hashing u/7/big.bin".into(), 512 * 1024));
        bar.hashed(0, 512 * 1024);
        bar.bytes(0, 100);
        assert_eq!(line(&bar), ("u/7/big.bin".into(), 100));
        assert_eq!(bar.overall.position(), 100);
    }
}
