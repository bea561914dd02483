//! The per-file outcome and the run's summary, as written by `--report`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Uploaded by this run.
    Uploaded,
    /// The store already held this exact content under the key (v4 -4018, or a
    /// v5 object with the same SHA-1): nothing was sent again, nothing duplicated.
    AlreadyPresent,
    /// The journal records this file (same size, mtime and SHA-1) as uploaded.
    Skipped,
    /// `--dry-run`: would be uploaded.
    DryRun,
    /// Failed; see `error`.
    Failed,
    /// The run stopped before this file finished.
    Cancelled,
}

impl Status {
    /// True for outcomes that leave the object correctly in place.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            Status::Uploaded | Status::AlreadyPresent | Status::Skipped | Status::DryRun
        )
    }
}

/// One file's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// Local path.
    pub path: PathBuf,
    /// Object key (empty when no key could be built).
    pub key: String,
    /// Outcome.
    pub status: Status,
    /// The object's `source_url` (or v5 object URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-1 of the content, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// Bytes of this file the store acknowledged in this run (failed attempts
    /// and pieces stored by an earlier run not counted).
    #[serde(default)]
    pub bytes_sent: u64,
    /// Bytes of this file an earlier run stored (resumed slices or parts).
    #[serde(default)]
    pub bytes_resumed: u64,
    /// HTTP requests sent to the store for this file, retries included (a
    /// file of 9 v4 slices takes 11: init, 9 slices, finish). Requests to the
    /// auth server for signatures are not counted. Older reports call it
    /// `attempts`.
    #[serde(alias = "attempts")]
    pub requests: u32,
    /// Wall time spent on the file, in milliseconds.
    pub duration_ms: u64,
    /// `Some(true)` when `--verify` downloaded the object and it matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Error kind (`auth`, `network`, `verify`…) when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Error message when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileReport {
    /// An entry for `path` → `key` with nothing known yet (status `Failed`
    /// until something says otherwise).
    pub fn new(path: PathBuf, key: String, size: u64) -> Self {
        Self {
            path,
            key,
            status: Status::Failed,
            url: None,
            size,
            sha1: None,
            bytes_sent: 0,
            bytes_resumed: 0,
            requests: 0,
            duration_ms: 0,
            verified: None,
            error_kind: None,
            error: None,
        }
    }

    /// A failed entry.
    pub fn failed(path: PathBuf, key: String, size: u64, err: &crate::Error) -> Self {
        Self {
            error_kind: Some(err.kind().to_owned()),
            error: Some(err.to_string()),
            ..Self::new(path, key, size)
        }
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Files considered (after filtering).
    pub files: u64,
    /// Uploaded by this run.
    pub uploaded: u64,
    /// Already in the store with the same content.
    pub already_present: u64,
    /// Skipped thanks to the journal.
    pub skipped: u64,
    /// Dry-run entries.
    pub dry_run: u64,
    /// Failed.
    pub failed: u64,
    /// Not finished because the run was cancelled.
    pub cancelled: u64,
    /// Verified by download (`--verify`).
    pub verified: u64,
    /// Bytes the store acknowledged from this run: the sum of the files'
    /// `bytes_sent` (pieces of files that failed later included; failed
    /// attempts, content already present and pieces stored by earlier runs
    /// not).
    pub bytes_uploaded: u64,
    /// Bytes of this run's files that earlier runs had stored (resumed slice
    /// or multipart uploads); not part of `bytes_uploaded`.
    #[serde(default)]
    pub bytes_resumed: u64,
    /// Total size of the files considered.
    pub bytes_total: u64,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
}

impl Summary {
    /// Uploaded files per second of wall time.
    pub fn files_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.uploaded as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// Uploaded bytes per second of wall time.
    pub fn bytes_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.bytes_uploaded as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// One human line: `uploaded 10, already present 2, skipped 0, failed 1 of 13 files; 12.0 MiB in 1.2s (10.0 MiB/s, 8.3 files/s)`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "uploaded {}, already present {}, skipped {}, failed {}",
            self.uploaded, self.already_present, self.skipped, self.failed
        );
        if self.cancelled > 0 {
            s.push_str(&format!(", cancelled {}", self.cancelled));
        }
        if self.dry_run > 0 {
            s.push_str(&format!(", would upload {}", self.dry_run));
        }
        s.push_str(&format!(
            " of {} files; {} in {:.1}s ({}/s, {:.1} files/s)",
            self.files,
            human_bytes(self.bytes_uploaded),
            self.elapsed_secs,
            human_bytes(self.bytes_per_sec() as u64),
            self.files_per_sec()
        ));
        if self.bytes_resumed > 0 {
            s.push_str(&format!(
                "; {} stored by earlier runs",
                human_bytes(self.bytes_resumed)
            ));
        }
        if self.verified > 0 {
            s.push_str(&format!("; verified {}", self.verified));
        }
        s
    }
}

/// Why a run stopped before every file was done. Files cut short are
/// [`Status::Cancelled`]; nothing about them is in the journal, so the same
/// run started again resumes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// The caller cancelled the run (Ctrl-C).
    Cancelled,
    /// No request got any reply for too long ([`crate::Error::Unreachable`]).
    Unreachable {
        /// What happened, e.g. `no response from http://127.0.0.1:8080 for 10 s
        /// (last error: connection refused)`.
        message: String,
    },
    /// The store answered that it is full ([`crate::Error::StoreFull`]).
    StoreFull {
        /// What the store said, and what to do.
        message: String,
    },
}

impl Stop {
    /// The stop an error calls for: one that every other file would meet too
    /// (no server answers, the store is full) ends the run.
    pub fn caused_by(e: &crate::Error) -> Option<Stop> {
        match e {
            crate::Error::Unreachable { .. } => Some(Stop::Unreachable {
                message: e.to_string(),
            }),
            crate::Error::StoreFull { .. } => Some(Stop::StoreFull {
                message: e.to_string(),
            }),
            _ => None,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Totals.
    pub summary: Summary,
    /// Why the run stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// One entry per file, in walk order.
    pub files: Vec<FileReport>,
}

impl Report {
    /// Builds the summary from the entries.
    pub fn from_files(files: Vec<FileReport>, elapsed: Duration) -> Self {
        let mut s = Summary {
            files: files.len() as u64,
            elapsed_secs: elapsed.as_secs_f64(),
            ..Summary::default()
        };
        for f in &files {
            s.bytes_total += f.size;
            s.bytes_uploaded += f.bytes_sent;
            s.bytes_resumed += f.bytes_resumed;
            match f.status {
                Status::Uploaded => s.uploaded += 1,
                Status::AlreadyPresent => s.already_present += 1,
                Status::Skipped => s.skipped += 1,
                Status::DryRun => s.dry_run += 1,
                Status::Failed => s.failed += 1,
                Status::Cancelled => s.cancelled += 1,
            }
            if f.verified == Some(true) {
                s.verified += 1;
            }
        }
        Self {
            summary: s,
            stopped: None,
            files,
        }
    }

    /// True when every file ended well.
    pub fn all_ok(&self) -> bool {
        self.files.iter().all(|f| f.status.is_ok())
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &std::path::Path) -> Result<(), crate::Error> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| {
            crate::Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        std::fs::write(path, text).map_err(|e| crate::Error::io(path, e))
    }
}

/// `1.5 MiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status, size: u64) -> FileReport {
        FileReport {
            status,
            bytes_sent: if status == Status::Uploaded { size } else { 0 },
            requests: 1,
            duration_ms: 1,
            ..FileReport::new("p".into(), "k".into(), size)
        }
    }

    #[test]
    fn summary_counts_each_status_and_only_uploaded_bytes() {
        let r = Report::from_files(
            vec![
                entry(Status::Uploaded, 100),
                entry(Status::AlreadyPresent, 10),
                entry(Status::Skipped, 1),
                entry(Status::Failed, 5),
            ],
            Duration::from_secs(2),
        );
        assert_eq!(r.summary.uploaded, 1);
        assert_eq!(r.summary.already_present, 1);
        assert_eq!(r.summary.skipped, 1);
        assert_eq!(r.summary.failed, 1);
        assert_eq!(r.summary.bytes_uploaded, 100);
        assert_eq!(r.summary.bytes_total, 116);
        assert!(!r.all_ok());
        assert!((r.summary.bytes_per_sec() - 50.0).abs() < 1e-9);
        assert!(
            r.summary
                .line()
                .starts_with("uploaded 1, already present 1, skipped 1, failed 1 of 4 files")
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"status\":\"already_present\""));
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn resumed_uploads_count_only_the_bytes_this_run_sent() {
        let resumed = FileReport {
            bytes_sent: 30,
            bytes_resumed: 70,
            ..entry(Status::Uploaded, 100)
        };
        // A file that failed after storing a piece: that piece was sent.
        let failed = FileReport {
            bytes_sent: 8,
            ..entry(Status::Failed, 50)
        };
        let r = Report::from_files(
            vec![resumed, entry(Status::Uploaded, 10), failed],
            Duration::from_secs(1),
        );
        assert_eq!(r.summary.bytes_uploaded, 30 + 10 + 8);
        assert_eq!(r.summary.bytes_resumed, 70);
        assert_eq!(r.summary.bytes_total, 160);
        assert!(
            r.summary.line().contains("; 70 B stored by earlier runs"),
            "{}",
            r.summary.line()
        );
        // Reports written before these fields existed still read.
        let mut v = serde_json::to_value(&r).unwrap();
        v["summary"]
            .as_object_mut()
            .unwrap()
            .remove("bytes_resumed");
        v["files"][0].as_object_mut().unwrap().remove("bytes_sent");
        // `requests` was called `attempts`.
        let requests = v["files"][0]
            .as_object_mut()
            .unwrap()
            .remove("requests")
            .unwrap();
        v["files"][0]["attempts"] = requests;
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back.files[0].bytes_sent, 0);
        assert_eq!(back.files[0].requests, r.files[0].requests);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(1 << 30), "1.0 GiB");
    }
}
