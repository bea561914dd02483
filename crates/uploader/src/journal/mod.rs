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
//!
//! The first record names the [`Destination`] (auth server, store location,
//! user) the journal's objects went to. A journal of another destination, or
//! one without that record, is refused: its "done" records say nothing about
//! where this run uploads. A run holds an exclusive advisory lock on the file
//! ([`std::fs::File::try_lock`]), so a second run on the same journal is refused too.

mod file;
mod record;
mod state;

pub use file::Journal;
pub use record::{Destination, FileIdentity, Record};
pub use state::{JournalState, PendingMultipart, PendingSlices};

/// Records and destinations the tests of the journal share.
#[cfg(test)]
mod fixtures {
    use super::*;

    pub(super) fn id(sha: &str) -> FileIdentity {
        FileIdentity {
            size: 10,
            mtime_ns: 1_700_000_000_000_000_000,
            sha1: sha.into(),
        }
    }

    pub(super) fn dest() -> Destination {
        Destination {
            server: "http://127.0.0.1:8080".into(),
            store: "http://127.0.0.1:8080/files/v2/1250000000/photos".into(),
            user: "7".into(),
        }
    }

    pub(super) fn done(key: &str) -> Record {
        Record::Done {
            key: key.into(),
            id: id("ab"),
            url: format!("http://x/{key}"),
        }
    }
}
