//! The journal file ([`Journal`]): opened and locked for a run, read back,
//! and appended to by one writer thread that commits lines in groups.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Destination, JournalState, Record};
use crate::error::Error;

type Ack = oneshot::Sender<Result<(), String>>;

/// An open journal, locked for this run. Cheap to share behind an `Arc`;
/// appends are durable when [`Journal::append`] returns. Dropping it waits for
/// the writer thread, so the lock is released when the drop returns.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    tx: Option<mpsc::Sender<(Vec<u8>, Ack)>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Journal {
    /// Opens the journal at `path` for a run uploading to `dest`, creating it
    /// (with `dest` as its first record, and the directory entry `fsync`'d)
    /// if missing, and reads what it holds.
    ///
    /// Fails with [`Error::JournalLocked`] when another run holds it, and with
    /// [`Error::JournalMismatch`] when it belongs to another destination (or
    /// names none); the file is then left as it was.
    pub fn open(path: &Path, dest: &Destination) -> Result<(Self, JournalState), Error> {
        let io = |e| Error::io(path, e);
        let (mut file, created) = match OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(path)
        {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(path)
                    .map_err(io)?,
                false,
            ),
            Err(e) => return Err(io(e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::JournalLocked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut state = JournalState::parse(BufReader::new(&mut file)).map_err(io)?;
        state.check_destination(path, dest)?;
        // A torn last line (killed mid-write) must not swallow the next record.
        let len = file.metadata().map_err(io)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(io)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")
                    .and_then(|()| file.sync_data())
                    .map_err(io)?;
            }
        }
        if state.records == 0 {
            let rec = Record::Destination { dest: dest.clone() };
            file.write_all(&line(path, &rec)?)
                .and_then(|()| file.sync_data())
                .map_err(io)?;
            state.apply(rec);
        }
        if created {
            sync_parent(path).map_err(io)?;
        }
        let (tx, rx) = mpsc::channel::<(Vec<u8>, Ack)>();
        let writer = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer(file, rx))
            .map_err(io)?;
        Ok((
            Self {
                path: path.to_owned(),
                tx: Some(tx),
                writer: Some(writer),
            },
            state,
        ))
    }

    /// Reads the journal at `path` without creating, locking or changing it
    /// (for `--dry-run`); a missing journal reads as empty. Fails with
    /// [`Error::JournalMismatch`] as [`Journal::open`] does.
    pub fn read(path: &Path, dest: &Destination) -> Result<JournalState, Error> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(JournalState::default());
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let state = JournalState::parse(BufReader::new(file)).map_err(|e| Error::io(path, e))?;
        state.check_destination(path, dest)?;
        Ok(state)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record and waits until it is on disk.
    pub async fn append(&self, rec: &Record) -> Result<(), Error> {
        let line = line(&self.path, rec)?;
        let (ack_tx, ack_rx) = oneshot::channel();
        let closed = || {
            Error::io(
                &self.path,
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "journal writer stopped"),
            )
        };
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.send((line, ack_tx)).map_err(|_| closed())?;
        match ack_rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(Error::io(&self.path, std::io::Error::other(msg))),
            Err(_) => Err(closed()),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Closing the channel ends the writer after its last batch; joining it
        // closes the file, which releases the lock.
        drop(self.tx.take());
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// A record as one JSON line.
fn line(path: &Path, rec: &Record) -> Result<Vec<u8>, Error> {
    let mut line = serde_json::to_vec(rec).map_err(|e| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    line.push(b'\n');
    Ok(line)
}

/// `fsync`s the directory holding `path`, so a new file's entry is durable.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
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
    use crate::journal::fixtures::{dest, done, id};

    #[tokio::test]
    async fn a_new_journal_starts_with_its_destination_and_resumes_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (j, state) = Journal::open(&path, &dest()).unwrap();
            assert_eq!(state.destination, Some(dest()));
            j.append(&done("u/7/a")).await.unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let first: Record = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first, Record::Destination { dest: dest() });
        assert_eq!(text.lines().count(), 2);
        // Reopened for the same destination: resumes, the header is not repeated.
        let (j, state) = Journal::open(&path, &dest()).unwrap();
        assert!(state.done.contains_key("u/7/a"));
        j.append(&done("u/7/b")).await.unwrap();
        drop(j);
        let state = Journal::read(&path, &dest()).unwrap();
        assert_eq!(state.done.len(), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[tokio::test]
    async fn a_journal_of_another_destination_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (j, _) = Journal::open(&path, &dest()).unwrap();
            j.append(&done("u/7/a")).await.unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let others = [
            Destination {
                server: "http://10.0.0.1:8080".into(),
                ..dest()
            },
            Destination {
                store: "https://other.example/files/v2/1250000000/photos".into(),
                ..dest()
            },
            Destination {
                user: "8".into(),
                ..dest()
            },
        ];
        for other in others {
            let err = Journal::open(&path, &other).unwrap_err();
            assert!(matches!(err, Error::JournalMismatch { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains(&dest().to_string()), "{msg}");
            assert!(msg.contains(&other.to_string()), "{msg}");
            let read = Journal::read(&path, &other);
            assert!(
                matches!(read, Err(Error::JournalMismatch { .. })),
                "{read:?}"
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_journal_without_a_destination_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.jsonl");
        let line = serde_json::to_string(&done("u/7/a")).unwrap();
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let err = Journal::open(&path, &dest()).unwrap_err();
        assert!(
            matches!(&err, Error::JournalMismatch { found, .. } if found.contains("no recorded destination")),
            "{err}"
        );
        // Two journals joined: the second destination is refused too.
        let path = dir.path().join("joined.jsonl");
        let a = serde_json::to_string(&Record::Destination { dest: dest() }).unwrap();
        let b = serde_json::to_string(&Record::Destination {
            dest: Destination {
                user: "8".into(),
                ..dest()
            },
        })
        .unwrap();
        std::fs::write(&path, format!("{a}\n{line}\n{b}\n")).unwrap();
        let joined = Journal::open(&path, &dest());
        assert!(
            matches!(joined, Err(Error::JournalMismatch { .. })),
            "{joined:?}"
        );
    }

    #[tokio::test]
    async fn a_second_run_on_a_locked_journal_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (j, _) = Journal::open(&path, &dest()).unwrap();
        let err = Journal::open(&path, &dest()).unwrap_err();
        assert!(matches!(err, Error::JournalLocked { .. }), "{err:?}");
        assert!(err.to_string().contains("in use by another"), "{err}");
        // The first run still writes; once it is dropped the lock is free.
        j.append(&done("u/7/a")).await.unwrap();
        drop(j);
        let (_j, state) = Journal::open(&path, &dest()).unwrap();
        assert!(state.done.contains_key("u/7/a"));
    }

    #[test]
    fn a_torn_destination_record_is_written_again() {
        // Killed while creating the journal: only part of the header is there.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, "{\"t\":\"destination\",\"ser").unwrap();
        let (_j, state) = Journal::open(&path, &dest()).unwrap();
        assert_eq!(state.destination, Some(dest()));
        assert_eq!(state.bad_lines, 1);
        drop(_j);
        let again = Journal::read(&path, &dest()).unwrap();
        assert_eq!(again.destination, Some(dest()));
        assert_eq!(again.records, 1);
    }

    #[test]
    fn reading_a_missing_journal_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let state = Journal::read(&path, &dest()).unwrap();
        assert_eq!(state.records, 0);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn records_survive_reopen_and_fold_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (j, state) = Journal::open(&path, &dest()).unwrap();
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
        let (_j, state) = Journal::open(&path, &dest()).unwrap();
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
        let header = serde_json::to_string(&Record::Destination { dest: dest() }).unwrap();
        std::fs::write(
            &path,
            format!("{header}\n{done}\n{{\"t\":\"done\",\"key\":\"k2\",\"si"),
        )
        .unwrap();
        {
            let (j, state) = Journal::open(&path, &dest()).unwrap();
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
        let (_j, state) = Journal::open(&path, &dest()).unwrap();
        assert_eq!(state.bad_lines, 1);
        assert!(state.done.contains_key("k3"));
        assert!(!state.done.contains_key("k2"));
    }

    #[tokio::test]
    async fn concurrent_appends_are_all_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (j, _) = Journal::open(&path, &dest()).unwrap();
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
