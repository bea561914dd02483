//! The resume journal: an append-only JSON-lines file.
//!
//! One line per event, written and `fsync`'d before the event is reported as
//! done: a file fully uploaded ([`Record::Done`]), a v4 slice session opened
//! and each slice stored, a v5 multipart upload started and each part stored.
//! A run killed at any point (even `kill -9`) leaves at worst a torn last line,
//! which is ignored when the journal is read back.
//!
//! Appends from concurrent uploads are group-committed: one writer thread
//! writes every pending line, calls `fsync` once, then acknowledges them all,
//! so durability costs one `fsync` per batch rather than per file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::Error;

/// What identifies the content of a local file: size, modification time and SHA-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the UNIX epoch.
    pub mtime_ns: i64,
    /// Lower-case hex SHA-1 of the content.
    pub sha1: String,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// The object `key` holds this file's content.
    Done {
        /// Object key.
        key: String,
        /// The local file it came from.
        #[serde(flatten)]
        id: FileIdentity,
        /// The object's URL (`source_url`).
        url: String,
    },
    /// A v4 slice session was opened for `key`.
    SliceInit {
        /// Object key.
        key: String,
        /// The local file being uploaded.
        #[serde(flatten)]
        id: FileIdentity,
        /// The store's session id.
        session: String,
        /// Slice size the store asked for.
        slice_size: u64,
    },
    /// One v4 slice was stored.
    Slice {
        /// Object key.
        key: String,
        /// Session id.
        session: String,
        /// Byte offset.
        offset: u64,
        /// Length.
        len: u64,
    },
    /// A v5 multipart upload was initiated for `key`.
    MultipartInit {
        /// Object key.
        key: String,
        /// The local file being uploaded.
        #[serde(flatten)]
        id: FileIdentity,
        /// The store's upload id.
        upload_id: String,
        /// Part size used.
        part_size: u64,
    },
    /// One v5 part was stored.
    Part {
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// 1-based part number.
        part: u32,
        /// The part's ETag.
        etag: String,
    },
}

/// An unfinished v4 slice upload found in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSlices {
    /// The file being uploaded when the run stopped.
    pub id: FileIdentity,
    /// Session id.
    pub session: String,
    /// Slice size.
    pub slice_size: u64,
    /// Offsets recorded as stored.
    pub offsets: Vec<u64>,
}

/// An unfinished v5 multipart upload found in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMultipart {
    /// The file being uploaded when the run stopped.
    pub id: FileIdentity,
    /// Upload id.
    pub upload_id: String,
    /// Part size.
    pub part_size: u64,
    /// Stored parts: number → ETag.
    pub parts: HashMap<u32, String>,
}

/// What a journal says, folded by key.
#[derive(Debug, Default, Clone)]
pub struct JournalState {
    /// Completed objects: key → (identity, url).
    pub done: HashMap<String, (FileIdentity, String)>,
    /// Unfinished slice uploads by key.
    pub slices: HashMap<String, PendingSlices>,
    /// Unfinished multipart uploads by key.
    pub multiparts: HashMap<String, PendingMultipart>,
    /// Lines that could not be parsed (a torn last line after a crash, or damage).
    pub bad_lines: usize,
}

impl JournalState {
    /// Folds one record into the state.
    pub fn apply(&mut self, rec: Record) {
        match rec {
            Record::Done { key, id, url } => {
                self.slices.remove(&key);
                self.multiparts.remove(&key);
                self.done.insert(key, (id, url));
            }
            Record::SliceInit {
                key,
                id,
                session,
                slice_size,
            } => {
                self.slices.insert(
                    key,
                    PendingSlices {
                        id,
                        session,
                        slice_size,
                        offsets: Vec::new(),
                    },
                );
            }
            Record::Slice {
                key,
                session,
                offset,
                ..
            } => {
                if let Some(p) = self.slices.get_mut(&key)
                    && p.session == session
                {
                    p.offsets.push(offset);
                }
            }
            Record::MultipartInit {
                key,
                id,
                upload_id,
                part_size,
            } => {
                self.multiparts.insert(
                    key,
                    PendingMultipart {
                        id,
                        upload_id,
                        part_size,
                        parts: HashMap::new(),
                    },
                );
            }
            Record::Part {
                key,
                upload_id,
                part,
                etag,
            } => {
                if let Some(p) = self.multiparts.get_mut(&key)
                    && p.upload_id == upload_id
                {
                    p.parts.insert(part, etag);
                }
            }
        }
    }

    /// Parses journal text (tolerating bad lines, which are counted).
    pub fn parse(reader: impl BufRead) -> std::io::Result<Self> {
        let mut state = Self::default();
        for line in reader.split(b'\n') {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(&line) {
                Ok(rec) => state.apply(rec),
                Err(_) => state.bad_lines += 1,
            }
        }
        Ok(state)
    }
}

type Ack = oneshot::Sender<Result<(), String>>;

/// An open journal. Cheap to share behind an `Arc`; appends are durable when
/// [`Journal::append`] returns.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    tx: mpsc::Sender<(Vec<u8>, Ack)>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and reads what it holds.
    pub fn open(path: &Path) -> Result<(Self, JournalState), Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let state =
            JournalState::parse(BufReader::new(&mut file)).map_err(|e| Error::io(path, e))?;
        // A torn last line (killed mid-write) must not swallow the next record.
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| Error::io(path, e))?;
            if last[0] != b'\n' {
                file.write_all(b"\n")
                    .and_then(|()| file.sync_data())
                    .map_err(|e| Error::io(path, e))?;
            }
        }
        let (tx, rx) = mpsc::channel::<(Vec<u8>, Ack)>();
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer(file, rx))
            .map_err(|e| Error::io(path, e))?;
        Ok((
            Self {
                path: path.to_owned(),
                tx,
            },
            state,
        ))
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record and waits until it is on disk.
    pub async fn append(&self, rec: &Record) -> Result<(), Error> {
        let mut line = serde_json::to_vec(rec).map_err(|e| {
            Error::io(
                &self.path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        line.push(b'\n');
        let (ack_tx, ack_rx) = oneshot::channel();
        let closed = || {
            Error::io(
                &self.path,
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "journal writer stopped"),
            )
        };
        self.tx.send((line, ack_tx)).map_err(|_| closed())?;
        match ack_rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(Error::io(&self.path, std::io::Error::other(msg))),
            Err(_) => Err(closed()),
        }
    }
}

/// The writer thread: group commit.
fn writer(mut file: File, rx: mpsc::Receiver<(Vec<u8>, Ack)>) {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut acks: Vec<Ack> = Vec::new();
    while let Ok((line, ack)) = rx.recv() {
        buf.extend_from_slice(&line);
        acks.push(ack);
        while let Ok((line, ack)) = rx.try_recv() {
            buf.extend_from_slice(&line);
            acks.push(ack);
        }
        let result = file
            .write_all(&buf)
            .and_then(|()| file.sync_data())
            .map_err(|e| e.to_string());
        buf.clear();
        for ack in acks.drain(..) {
            // The waiter may have been cancelled; nothing to do then.
            let _ = ack.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sha: &str) -> FileIdentity {
        FileIdentity {
            size: 10,
            mtime_ns: 1_700_000_000_000_000_000,
            sha1: sha.into(),
        }
    }

    #[tokio::test]
    async fn records_survive_reopen_and_fold_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (j, state) = Journal::open(&path).unwrap();
            assert!(state.done.is_empty());
            j.append(&Record::SliceInit {
                key: "u/1/big".into(),
                id: id("aa"),
                session: "s1".into(),
                slice_size: 4,
            })
            .await
            .unwrap();
            for off in [0, 4] {
                j.append(&Record::Slice {
                    key: "u/1/big".into(),
                    session: "s1".into(),
                    offset: off,
                    len: 4,
                })
                .await
                .unwrap();
            }
            j.append(&Record::Done {
                key: "u/1/a".into(),
                id: id("bb"),
                url: "http://x/u/1/a".into(),
            })
            .await
            .unwrap();
        }
        let (_j, state) = Journal::open(&path).unwrap();
        assert_eq!(state.done["u/1/a"].0, id("bb"));
        assert_eq!(state.slices["u/1/big"].offsets, vec![0, 4]);
        assert_eq!(state.bad_lines, 0);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_ignored_and_does_not_corrupt_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let done = serde_json::to_string(&Record::Done {
            key: "k1".into(),
            id: id("cc"),
            url: "u".into(),
        })
        .unwrap();
        std::fs::write(
            &path,
            format!("{done}\n{{\"t\":\"done\",\"key\":\"k2\",\"si"),
        )
        .unwrap();
        {
            let (j, state) = Journal::open(&path).unwrap();
            assert_eq!(state.bad_lines, 1);
            assert!(state.done.contains_key("k1"));
            j.append(&Record::Done {
                key: "k3".into(),
                id: id("dd"),
                url: "u3".into(),
            })
            .await
            .unwrap();
        }
        let (_j, state) = Journal::open(&path).unwrap();
        assert_eq!(state.bad_lines, 1);
        assert!(state.done.contains_key("k3"));
        assert!(!state.done.contains_key("k2"));
    }

    #[test]
    fn done_supersedes_pending_uploads() {
        let mut s = JournalState::default();
        s.apply(Record::MultipartInit {
            key: "k".into(),
            id: id("aa"),
            upload_id: "up".into(),
            part_size: 8,
        });
        s.apply(Record::Part {
            key: "k".into(),
            upload_id: "up".into(),
            part: 1,
            etag: "\"e1\"".into(),
        });
        // A part of another upload id is not mixed in.
        s.apply(Record::Part {
            key: "k".into(),
            upload_id: "old".into(),
            part: 2,
            etag: "\"e2\"".into(),
        });
        assert_eq!(s.multiparts["k"].parts.len(), 1);
        s.apply(Record::Done {
            key: "k".into(),
            id: id("aa"),
            url: "u".into(),
        });
        assert!(s.multiparts.is_empty());
        assert!(s.done.contains_key("k"));
    }

    #[tokio::test]
    async fn concurrent_appends_are_all_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (j, _) = Journal::open(&path).unwrap();
        let j = std::sync::Arc::new(j);
        let mut tasks = Vec::new();
        for i in 0..200 {
            let j = j.clone();
            tasks.push(tokio::spawn(async move {
                j.append(&Record::Done {
                    key: format!("k{i}"),
                    id: id("ee"),
                    url: String::new(),
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let state = JournalState::parse(BufReader::new(File::open(&path).unwrap())).unwrap();
        assert_eq!(state.done.len(), 200);
    }
}
