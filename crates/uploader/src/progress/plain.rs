//! Plain progress lines for logs and pipes: every interval, one line with
//! files and bytes done, rate and ETA, and one per file being hashed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Progress, Totals};
use crate::plan::RunPlan;
use crate::report::{FileReport, Summary, human_bytes};

/// Prints lines every `interval` to a writer (stdout when it is not a
/// terminal): files and bytes done, the upload rate and ETA (from the first
/// byte sent; `-` before), and `hashing <file> <done> / <size> | <rate>/s`
/// for each file whose hashing pass is under way.
pub struct PlainProgress {
    totals: Arc<Totals>,
    stop: Arc<AtomicBool>,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
    started: Mutex<Option<Instant>>,
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
            started: Mutex::new(None),
            interval,
        }
    }

    fn write_lines(out: &Mutex<Box<dyn Write + Send>>, totals: &Totals, started: Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        let done = totals.bytes_done();
        let total = totals.bytes.load(Ordering::Relaxed);
        let sending = totals.first_byte.get().map(|t| t.elapsed().as_secs_f64());
        let rate = match sending {
            Some(secs) if secs > 0.0 => done as f64 / secs,
            _ => 0.0,
        };
        let eta = if rate > 0.0 && total > done {
            format!("{:.0}s", (total - done) as f64 / rate)
        } else {
            "-".into()
        };
        let mut text = format!(
            "[{elapsed:>6.1}s] {} | {} / {} | {}/s | ETA {eta}\n",
            totals.files(),
            human_bytes(done),
            human_bytes(total),
            human_bytes(rate as u64),
        );
        for line in totals.hashing_lines() {
            text.push_str(&format!("[{elapsed:>6.1}s] {line}\n"));
        }
        if let Ok(mut o) = out.lock() {
            let _ = o.write_all(text.as_bytes());
            let _ = o.flush();
        }
    }
}

impl Progress for PlainProgress {
    fn begin(&self, plan: &RunPlan) {
        self.totals.files.store(plan.files, Ordering::Relaxed);
        self.totals.bytes.store(plan.bytes, Ordering::Relaxed);
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{}", plan.line());
            let _ = o.flush();
        }
        let totals = self.totals.clone();
        let stop = self.stop.clone();
        let out = self.out.clone();
        let interval = self.interval;
        let started = Instant::now();
        if let Ok(mut s) = self.started.lock() {
            *s = Some(started);
        }
        let handle = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(interval);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    Self::write_lines(&out, &totals, started);
                }
            })
            .ok();
        if let Ok(mut t) = self.ticker.lock() {
            *t = handle;
        }
    }

    fn file_started(&self, file: usize, name: &str, size: u64) {
        self.totals.file_started(file, name, size);
    }

    fn hashed(&self, file: usize, bytes: u64) {
        self.totals.hashed(file, bytes);
    }

    fn bytes(&self, _file: usize, delta: i64) {
        self.totals.bytes(delta);
    }

    fn file_finished(&self, file: usize, report: &FileReport) {
        self.totals.file_finished(file, report.status);
    }

    /// Stops the ticker and prints the last line, as things stand.
    fn finish(&self, _summary: &Summary) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.ticker.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            h.thread().unpark();
            let _ = h.join();
        }
        if let Some(started) = self.started.lock().ok().and_then(|s| *s) {
            Self::write_lines(&self.out, &self.totals, started);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        p.begin(&RunPlan::of(2, 2048));
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

    #[test]
    fn a_file_is_shown_hashing_first_and_the_eta_waits_for_bytes_sent() {
        let buf = Buf::default();
        let text = || String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let p = PlainProgress::new(Box::new(buf.clone()), Duration::from_millis(10));
        p.begin(&RunPlan::of(1, 1 << 20));
        p.file_started(0, "u/7/big.bin", 1 << 20);
        p.hashed(0, 256 * 1024);
        let wait_for = |what: &dyn Fn(&str) -> bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !what(&text()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait_for(&|t| t.contains("hashing"));
        let hashing = text();
        let line = hashing
            .lines()
            .find(|l| l.contains("hashing"))
            .unwrap_or_else(|| panic!("no hashing line: {hashing}"));
        assert!(
            line.contains("] hashing u/7/big.bin 256.0 KiB / 1.0 MiB | ") && line.ends_with("/s"),
            "{hashing}"
        );
        // Nothing sent yet: no rate, no ETA.
        assert!(
            hashing.contains("files 0/1 | 0 B / 1.0 MiB | 0 B/s | ETA -"),
            "{hashing}"
        );

        // Hashed; the upload starts.
        p.hashed(0, 768 * 1024);
        p.bytes(0, 4096);
        let seen = hashing.len();
        wait_for(&|t| t[seen..].contains("4.0 KiB / 1.0 MiB"));
        p.finish(&Summary::default());
        let after = text()[seen..].to_owned();
        let last = after.lines().last().unwrap();
        assert!(!after.contains("hashing"), "{after}");
        assert!(!last.ends_with("ETA -"), "{after}");
    }
}
