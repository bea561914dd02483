//! What a journal says, folded by key ([`JournalState`]): files done,
//! unfinished slice and multipart uploads, and its destination.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use super::{Destination, FileIdentity, Record};
use crate::error::Error;

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
    /// Records folded in.
    pub records: usize,
    /// The destination, when the first record names one.
    pub destination: Option<Destination>,
    /// A later destination record named another destination (journals of two
    /// destinations were joined).
    pub mixed_destinations: bool,
}

impl JournalState {
    /// Why this journal cannot be used for `expected`, if it cannot: it has
    /// records but none naming a destination first, or names another one.
    pub fn destination_mismatch(&self, expected: &Destination) -> Option<String> {
        if self.records == 0 {
            return None;
        }
        match &self.destination {
            None => Some(
                "no recorded destination (its first record does not say where its files went)"
                    .to_owned(),
            ),
            Some(d) if d != expected => Some(d.to_string()),
            Some(_) if self.mixed_destinations => {
                Some("more than one destination (journals were joined)".to_owned())
            }
            Some(_) => None,
        }
    }

    /// [`JournalState::destination_mismatch`] as [`Error::JournalMismatch`]
    /// for the journal at `path`.
    pub(super) fn check_destination(
        &self,
        path: &Path,
        expected: &Destination,
    ) -> Result<(), Error> {
        match self.destination_mismatch(expected) {
            Some(found) => Err(Error::JournalMismatch {
                path: path.to_owned(),
                found,
                expected: expected.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Folds one record into the state.
    pub fn apply(&mut self, rec: Record) {
        let first = self.records == 0;
        self.records += 1;
        match rec {
            Record::Destination { dest } => {
                if first {
                    self.destination = Some(dest);
                } else if self.destination.as_ref() != Some(&dest) {
                    self.mixed_destinations = true;
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::fixtures::id;

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
}
