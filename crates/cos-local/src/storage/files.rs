//! Small file-system helpers: how files are written ([`Writes`]), listing,
//! removing, writing small files (atomically when asked) and syncing
//! directories.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// How the store writes files: whether it fsyncs them, and whether a full
/// disk is simulated (fault injection: every write of a body, sidecar,
/// upload session or the used-signature log then fails as `ENOSPC` would).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Writes {
    pub(crate) fsync: bool,
    pub(crate) disk_full: bool,
}

impl Writes {
    /// Fails as a full disk would when one is simulated; called before each
    /// write of the store.
    pub(crate) fn check_space(&self, what: &str) -> Result<(), StoreError> {
        if !self.disk_full {
            return Ok(());
        }
        Err(StoreError::io(what)(io::Error::new(
            io::ErrorKind::StorageFull,
            "no space left on device (injected fault: disk_full)",
        )))
    }
}

/// Makes a directory's entries (renames, creations, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(format!("fsync {}", dir.display())))
}

/// The entries of `dir`, sorted; none when it does not exist.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StoreError::io(format!("list {}", dir.display()))(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::io(format!("list {}", dir.display())))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

/// Removes a file or a whole directory; one already gone is no error.
pub(crate) fn remove_any(path: &Path) -> Result<(), StoreError> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(format!("remove {}", path.display()))(e)),
    }
}

/// Writes a small file completely (and fsyncs it when asked).
pub(crate) fn write_file(path: &Path, bytes: &[u8], fsync: bool) -> Result<(), StoreError> {
    let mut f =
        fs::File::create(path).map_err(StoreError::io(format!("create {}", path.display())))?;
    f.write_all(bytes)
        .map_err(StoreError::io(format!("write {}", path.display())))?;
    if fsync {
        f.sync_all()
            .map_err(StoreError::io(format!("fsync {}", path.display())))?;
    }
    Ok(())
}

/// Writes a small file atomically: temp file beside it, fsync, rename.
pub(crate) fn replace_file(path: &Path, bytes: &[u8], fsync: bool) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
    write_file(&tmp, bytes, fsync)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io(format!("rename into {}", path.display()))(e)
    })?;
    if fsync && let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}
