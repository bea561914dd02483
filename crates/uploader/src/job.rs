//! One file to upload ([`FileJob`]): where it is, what it looked like when
//! listed, and the key it goes to; and the one reading of a file's
//! modification time.

use std::path::PathBuf;

use shared::{DirPath, ObjectKey};

use crate::error::Error;

/// One file to upload.
#[derive(Debug, Clone)]
pub struct FileJob {
    /// Local path.
    pub path: PathBuf,
    /// Size when listed (a different size read later fails the file as changed).
    pub size: u64,
    /// Modification time, nanoseconds since the UNIX epoch.
    pub mtime_ns: i64,
    /// Target key.
    pub key: ObjectKey,
    /// v4: the directory whose signature covers `key` (a multi-effect signature
    /// binds a directory prefix, so one signature serves a whole tree).
    pub sign_dir: DirPath,
}

impl FileJob {
    /// A job for `path` uploaded to `key`, signing `key`'s own directory.
    pub fn new(path: impl Into<PathBuf>, key: ObjectKey) -> Result<Self, Error> {
        let path = path.into();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Self {
            sign_dir: key.parent(),
            path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            key,
        })
    }

    /// The key's name relative to `sign_dir`, which the v4 URL appends.
    pub(crate) fn name_in_sign_dir(&self) -> Result<&str, Error> {
        self.key
            .as_str()
            .strip_prefix(self.sign_dir.key_prefix())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "key {} is not inside the signed directory {}",
                    self.key, self.sign_dir
                ))
            })
    }

    /// The `Content-Type` sent with the object, guessed from the key's extension.
    pub(crate) fn content_type(&self) -> &'static str {
        content_type_for(self.key.file_name())
    }

    /// What changed in the file since it was listed, if anything (size or mtime).
    pub(crate) fn changed(&self) -> Option<String> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) => return Some(format!("cannot stat it any more: {e}")),
        };
        if meta.len() != self.size {
            return Some(format!("size {} became {}", self.size, meta.len()));
        }
        (mtime_ns(&meta) != self.mtime_ns).then(|| "modified during the upload".to_owned())
    }
}

/// A file's modification time in nanoseconds since the UNIX epoch; 0 when the
/// platform has none or it is before 1970.
pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// A media type for a file name, from its extension (case-insensitive):
/// common images, video, text and JSON; `application/octet-stream` otherwise.
fn content_type_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("heic") => "image/heic",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type_for("a.JPG"), "image/jpeg");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
    }
}
