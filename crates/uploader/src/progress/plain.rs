//! Plain progress lines for logs and pipes: one line every interval with
//! files and bytes done, rate and ETA.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Progress, Totals};
use crate::report::{FileReport, Summary, human_bytes};

/// Prints one line every `interval` to a writer (stdout when it is not a
/// terminal): files and bytes done, rate, ETA.
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
        format!(
            "[{elapsed:>6.1}s] {} | {} / {} | {}/s | ETA {eta}",
            totals.files(),
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
        self.totals.file_finished(report.status);
    }

    /// Stops the ticker and prints the last line, as things stand.
    fn finish(&self, _summary: &Summary) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.ticker.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            h.thread().unpark();
            let _ = h.join();
        }
        let started = self.started.lock().ok().and_then(|s| *s);
        if let (Some(started), Ok(mut o)) = (started, self.out.lock()) {
            let _ = writeln!(o, "{}", Self::line(&self.totals, started));
            let _ = o.flush();
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
