//! Upload sessions that outlive one request: v5 multipart uploads
//! (`multipart.rs`, in `uploads/v5/<id>/`) and v4 slice sessions
//! (`slices.rs`, in `uploads/v4/<id>/`). Both live entirely on disk so they
//! survive a restart; callers serialise state changes per upload with
//! `Inner::multipart_upload_locks` (v5, by upload id) and
//! `Inner::slice_session_locks` (v4, by session id), and the creation of a v4
//! session with `Inner::slice_target_locks` (by target bucket and key).
//! Uploads left without activity for `StoreConfig::upload_ttl` are removed
//! (`expiry.rs`), under the same locks.

mod expiry;
mod multipart;
mod slices;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use self::expiry::SweepStats;
pub(crate) use self::expiry::{SweepCounters, start_sweeper, sweep_at_open};
pub(crate) use self::multipart::{
    NewUpload, V5Upload, v5_abort, v5_choose_parts, v5_complete, v5_create, v5_list, v5_load,
    v5_parts, v5_put_part,
};
pub(crate) use self::slices::{
    SliceSession, v4_create, v4_find, v4_finish, v4_load, v4_remove, v4_slices, v4_write_slice,
};
use crate::error::StoreError;
use crate::storage::{self, Storage};

/// Why an upload-session operation was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the upload does not exist (finished, aborted, expired or never started)")]
    NoSuchUpload,
    #[error("{0}")]
    InvalidPart(String),
    #[error("parts must be listed in ascending order without repeats")]
    InvalidPartOrder,
    #[error("{0}")]
    TooSmall(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("not every slice has been uploaded yet")]
    Incomplete,
    #[error("the content's SHA-1 does not match the declared sha")]
    ShaMismatch,
}

/// Whether `id` can be an upload or session id: letters and digits only (this
/// store hands out UUIDs in hex), so it never names a path outside `uploads/`.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// The two kinds of upload that live on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A v5 multipart upload, `uploads/v5/<id>/`.
    Multipart,
    /// A v4 slice session, `uploads/v4/<id>/`.
    Slice,
}

impl Kind {
    pub(crate) const ALL: [Kind; 2] = [Kind::Multipart, Kind::Slice];

    /// The directory holding one directory per upload of this kind.
    pub(crate) fn root(self, storage: &Storage) -> PathBuf {
        match self {
            Kind::Multipart => multipart::root(storage),
            Kind::Slice => slices::root(storage),
        }
    }

    /// The file written last when an upload is created: an upload directory
    /// without it was being created when the process died.
    pub(crate) fn marker(self) -> &'static str {
        match self {
            Kind::Multipart => "upload.json",
            Kind::Slice => "session.json",
        }
    }
}

/// Removes half-created sessions and temp files left by a crash.
pub(crate) fn cleanup_at_open(storage: &Storage) -> Result<(), StoreError> {
    for kind in Kind::ALL {
        let (root, marker) = (kind.root(storage), kind.marker());
        fs::create_dir_all(&root).map_err(StoreError::io(format!("create {}", root.display())))?;
        for dir in storage::read_dir(&root)? {
            if !dir.join(marker).is_file() {
                storage::remove_any(&dir)?;
                continue;
            }
            for file in storage::read_dir(&dir)? {
                if file.extension().is_some_and(|e| e == "tmp") {
                    storage::remove_any(&file)?;
                }
            }
        }
    }
    Ok(())
}

/// Creates an upload's directory and `fill`s it; when that fails (a full
/// disk, say) the directory is removed again, so no half-created upload is
/// left behind (`cleanup_at_open` would otherwise find it at the next open).
fn create_session_dir(
    storage: &Storage,
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    storage.check_space(&format!("create {}", dir.display()))?;
    fs::create_dir_all(dir).map_err(StoreError::io(format!("create {}", dir.display())))?;
    let filled = fill(dir);
    if filled.is_err() {
        let _ = storage::remove_any(dir);
    }
    filled
}

/// Reads a JSON file; `None` when it does not exist.
fn load_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StoreError> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(format!("read {}", path.display()))(e)),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}
