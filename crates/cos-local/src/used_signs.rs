//! The log of used single-effect v4 signatures.
//!
//! A single-effect signature is good for exactly one request, so every one
//! used is remembered by its SHA-1, one hex line each appended to
//! `used-v4-signatures` in the data directory, for as long as the data
//! directory lives: a replay is refused even after a restart.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha1::{Digest as _, Sha1};

use crate::error::StoreError;
use crate::storage::Writes;

/// The log's file name in the data directory.
const FILE_NAME: &str = "used-v4-signatures";

/// The used signatures, in memory and on disk.
#[derive(Debug)]
pub(crate) struct UsedSigns {
    seen: Mutex<HashSet<[u8; 20]>>,
    path: PathBuf,
    writes: Writes,
}

impl UsedSigns {
    /// Loads the log of the store in `data_dir`.
    pub(crate) fn open(data_dir: &Path, writes: Writes) -> Result<Self, StoreError> {
        let path = data_dir.join(FILE_NAME);
        Ok(Self {
            seen: Mutex::new(load(&path)?),
            path,
            writes,
        })
    }

    /// Records a single-effect v4 signature as used. False when it was used before.
    pub(crate) fn consume(&self, sign: &str) -> Result<bool, StoreError> {
        let digest: [u8; 20] = Sha1::digest(sign.trim().as_bytes()).into();
        let mut used = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.contains(&digest) {
            return Ok(false);
        }
        self.writes
            .check_space("append to the used-signature log")?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(StoreError::io("open the used-signature log"))?;
        file.write_all(format!("{}\n", hex::encode(digest)).as_bytes())
            .map_err(StoreError::io("append to the used-signature log"))?;
        if self.writes.fsync {
            file.sync_all()
                .map_err(StoreError::io("fsync the used-signature log"))?;
        }
        used.insert(digest);
        Ok(true)
    }
}

fn load(path: &Path) -> Result<HashSet<[u8; 20]>, StoreError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(StoreError::io("read the used-signature log")(e)),
    };
    let mut set = HashSet::new();
    for line in text.lines() {
        let mut d = [0u8; 20];
        // A torn last line (crash mid-append) is skipped.
        if hex::decode_to_slice(line.trim(), &mut d).is_ok() {
            set.insert(d);
        }
    }
    Ok(set)
}
