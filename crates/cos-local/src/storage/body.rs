//! Bodies on their way in: streamed into temp files, hashed ([`BlobWriter`]
//! into a [`Blob`]) or not ([`TempBody`] into a [`Staged`] copy). Every one of
//! them removes its file when dropped unless it was handed on.

use std::fs;
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use sha1::Sha1;
use tokio::io::AsyncWriteExt as _;

use super::files::Writes;
use crate::error::StoreError;

/// Streams a body into a temp file, refusing more than `limit` bytes.
/// Dropping it before [`TempBody::finish`] removes the file.
#[derive(Debug)]
pub(crate) struct TempBody {
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    path: PathBuf,
    size: u64,
    limit: u64,
    writes: Writes,
}

impl TempBody {
    pub(crate) async fn create(
        path: PathBuf,
        limit: u64,
        writes: Writes,
    ) -> Result<Self, StoreError> {
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(StoreError::io(format!("create {}", path.display())))?;
        Ok(Self {
            file: Some(tokio::io::BufWriter::with_capacity(256 * 1024, file)),
            path,
            size: 0,
            limit,
            writes,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        let new_size = self.size.saturating_add(chunk.len() as u64);
        if new_size > self.limit {
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::BodyAborted(
                "writer already finished".to_owned(),
            ));
        };
        self.writes
            .check_space(&format!("write {}", self.path.display()))?;
        file.write_all(chunk)
            .await
            .map_err(StoreError::io(format!("write {}", self.path.display())))?;
        self.size = new_size;
        Ok(())
    }

    /// Flushes (and fsyncs, if configured) the file and hands it over.
    pub(crate) async fn finish(mut self) -> Result<Staged, StoreError> {
        let Some(mut file) = self.file.take() else {
            return Err(StoreError::BodyAborted(
                "writer already finished".to_owned(),
            ));
        };
        file.flush()
            .await
            .map_err(StoreError::io(format!("write {}", self.path.display())))?;
        if self.writes.fsync {
            file.get_mut()
                .sync_all()
                .await
                .map_err(StoreError::io(format!("fsync {}", self.path.display())))?;
        }
        drop(file);
        Ok(Staged {
            path: Some(std::mem::take(&mut self.path)),
            size: self.size,
        })
    }
}

impl Drop for TempBody {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A complete body in a temp file whose content nobody hashed (a staging
/// copy). Dropping it removes the file.
#[derive(Debug)]
pub(crate) struct Staged {
    path: Option<PathBuf>,
    pub size: u64,
}

impl Staged {
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Streams a body into a temp file, hashing MD5 and SHA-1 on the way.
/// Dropping it before [`BlobWriter::finish`] removes the file.
#[derive(Debug)]
pub(crate) struct BlobWriter {
    body: TempBody,
    md5: Md5,
    sha1: Sha1,
}

impl BlobWriter {
    pub(crate) async fn create(
        path: PathBuf,
        limit: u64,
        writes: Writes,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            body: TempBody::create(path, limit, writes).await?,
            md5: Md5::new(),
            sha1: Sha1::new(),
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.body.size()
    }

    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.body.write(chunk).await?;
        self.md5.update(chunk);
        self.sha1.update(chunk);
        Ok(())
    }

    pub(crate) async fn finish(self) -> Result<Blob, StoreError> {
        let Self { body, md5, sha1 } = self;
        let mut staged = body.finish().await?;
        Ok(Blob {
            path: staged.path.take(),
            size: staged.size,
            md5: md5.finalize().into(),
            sha1: sha1.finalize().into(),
        })
    }
}

/// A complete body in a temp file. Dropping it removes the file.
#[derive(Debug)]
pub(crate) struct Blob {
    path: Option<PathBuf>,
    pub size: u64,
    pub md5: [u8; 16],
    pub sha1: [u8; 20],
}

impl Blob {
    /// The same file, as a body whose hashes are not needed.
    pub(crate) fn into_staged(mut self) -> Staged {
        Staged {
            path: self.path.take(),
            size: self.size,
        }
    }

    pub(crate) fn take_path(&mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }

    /// Wraps a finished file whose hashes the caller computed.
    pub(crate) fn from_parts(path: PathBuf, size: u64, md5: [u8; 16], sha1: [u8; 20]) -> Self {
        Self {
            path: Some(path),
            size,
            md5,
            sha1,
        }
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}
