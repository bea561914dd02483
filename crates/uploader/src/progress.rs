//! Progress reporting: a trait the bulk runner calls, and three sinks: an
//! indicatif display (overall bar plus lines for active large files), plain
//! periodic lines for logs and pipes, and nothing (`--quiet`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::{FileReport, Summary, human_bytes};

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
    files_done: AtomicU64,
    failed: AtomicU64,
    bytes_done: AtomicI64,
}

impl Totals {
    fn bytes_done(&self) -> u64 {
        u64::try_from(self.bytes_done.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

/// Prints one line every `interval` to a writer (stdout when it is not a
/// terminal): files and bytes done, rate, ETA.
pub struct PlainProgress {
    totals: Arc<Totals>,
    stop: Arc<AtomicBool>,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
    interval: Duration,
}

impl std::fmt::Debug for PlainProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainProgress")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl PlainProgress {
    /// Lines go to `out` every `interval`.
    pub fn new(out: Box<dyn Write + Send>, interval: Duration) -> Self {
        Self {
            totals: Arc::default(),
            stop: Arc::default(),
            out: Arc::new(Mutex::new(out)),
            ticker: Mutex::new(None),
            interval,
        }
    }

    fn line(totals: &Totals, started: Instant) -> String {
        let elapsed = started.elapsed().as_secs_f64();
        let done = totals.bytes_done();
        let total = totals.bytes.load(Ordering::Relaxed);
        let rate = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        let eta = if rate > 0.0 && total > done {
            format!("{:.0}s", (total - done) as f64 / rate)
        } else {
            "-".into()
        };
        let failed = totals.failed.load(Ordering::Relaxed);
        format!(
            "[{elapsed:>6.1}s] files {}/{}{} | {} / {} | {}/s | ETA {eta}",
            totals.files_done.load(Ordering::Relaxed),
            totals.files.load(Ordering::Relaxed),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            human_bytes(done),
            human_bytes(total),
            human_bytes(rate as u64),
        )
    }
}

impl Progress for PlainProgress {
    fn begin(&self, files: u64, bytes: u64) {
        self.totals.files.store(files, Ordering::Relaxed);
        self.totals.bytes.store(bytes, Ordering::Relaxed);
        let totals = self.totals.clone();
        let stop = self.stop.clone();
        let out = self.out.clone();
        let interval = self.interval;
        let started = Instant::now();
        let handle = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(interval);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(mut o) = out.lock() {
                        let _ = writeln!(o, "{}", Self::line(&totals, started));
                        let _ = o.flush();
                    }
                }
            })
            .ok();
        if let Ok(mut t) = self.ticker.lock() {
            *t = handle;
        }
    }

    fn bytes(&self, _file: usize, delta: i64) {
        self.totals.bytes_done.fetch_add(delta, Ordering::Relaxed);
    }

    fn file_finished(&self, _file: usize, report: &FileReport) {
        self.totals.files_done.fetch_add(1, Ordering::Relaxed);
        if !report.status.is_ok() {
            self.totals.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn finish(&self, _summary: &Summary) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.ticker.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

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
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
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
        let failed = self.totals.failed.load(Ordering::Relaxed);
        format!(
            "files {}/{}{}",
            self.totals.files_done.load(Ordering::Relaxed),
            self.totals.files.load(Ordering::Relaxed),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        )
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
        self.totals.files_done.fetch_add(1, Ordering::Relaxed);
        if !report.status.is_ok() {
            self.totals.failed.fetch_add(1, Ordering::Relaxed);
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

    fn finish(&self, _summary: &Summary) {
        if let Ok(mut active) = self.active.lock() {
            for (_, bar) in active.drain() {
                bar.finish_and_clear();
            }
        }
        self.overall.finish_with_message(self.files_msg());
        // indicatif leaves the cursor at the end of the final bar; what follows
        // (the summary line) starts on a line of its own.
        let mut out = std::io::stdout();
        let _ = writeln!(out);
        let _ = out.flush();
    }
}

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

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_progress_prints_periodic_lines_and_stops() {
        let buf = Buf::default();
        let p = PlainProgress::new(Box::new(buf.clone()), Duration::from_millis(10));
        p.begin(2, 2048);
        p.bytes(0, 1024);
        std::thread::sleep(Duration::from_millis(80));
        p.finish(&Summary::default());
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.lines().count() >= 2, "{text}");
        assert!(text.contains("files 0/2"), "{text}");
        assert!(text.contains("1.0 KiB / 2.0 KiB"), "{text}");
        let n = text.lines().count();
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            buf.0
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            n
        );
    }
}
