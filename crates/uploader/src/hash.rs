//! Digests of a local file: SHA-1 (the content's identity, sent with every
//! upload) and, where a request carries `Content-MD5`, MD5. Files are read in
//! fixed chunks on a blocking thread, so memory is bounded whatever the size.

use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha1::{Digest, Sha1};

use crate::body::CHUNK;
use crate::error::Error;

/// SHA-1 (lower-case hex) and, when asked, MD5 (raw) of a whole file, read in fixed chunks on
/// a blocking thread; `on_read` is called with the length of each chunk read.
/// Fails with [`Error::Changed`] when the size read differs from `expected_size`.
pub async fn hash_file(
    path: &Path,
    expected_size: u64,
    want_md5: bool,
    on_read: impl FnMut(u64) + Send + 'static,
) -> Result<FileHashes, Error> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || hash_file_blocking(&p, expected_size, want_md5, on_read))
        .await
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?
}

/// Digests of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHashes {
    /// Lower-case hex SHA-1.
    pub sha1: String,
    /// Raw MD5 (for `Content-MD5`), when computed.
    pub md5: Option<[u8; 16]>,
}

fn hash_file_blocking(
    path: &PathBuf,
    expected_size: u64,
    want_md5: bool,
    mut on_read: impl FnMut(u64),
) -> Result<FileHashes, Error> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut sha = Sha1::new();
    let mut md5 = want_md5.then(md5::Md5::new);
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        if let Some(m) = md5.as_mut() {
            m.update(&buf[..n]);
        }
        total += n as u64;
        on_read(n as u64);
    }
    if total != expected_size {
        return Err(Error::Changed {
            path: path.clone(),
            what: format!("size was {expected_size} bytes, read {total}"),
        });
    }
    Ok(FileHashes {
        sha1: hex::encode(sha.finalize()),
        md5: md5.map(|m| m.finalize().into()),
    })
}

/// Reads a small file whole (for files under the in-memory limit), returning
/// its content and digests: one read instead of two.
pub async fn read_small(path: &Path, expected_size: u64) -> Result<(Bytes, FileHashes), Error> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let data = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        if data.len() as u64 != expected_size {
            return Err(Error::Changed {
                path: p.clone(),
                what: format!("size was {expected_size} bytes, read {}", data.len()),
            });
        }
        let hashes = FileHashes {
            sha1: hex::encode(Sha1::digest(&data)),
            md5: Some(md5::Md5::digest(&data).into()),
        };
        Ok((Bytes::from(data), hashes))
    })
    .await
    .map_err(|e| Error::io(path, std::io::Error::other(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_whole_files_and_small_files_alike() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = read.clone();
        let count = move |n| {
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let h = hash_file(&p, data.len() as u64, true, count).await.unwrap();
        assert_eq!(h.sha1, hex::encode(Sha1::digest(&data)));
        assert_eq!(
            read.load(std::sync::atomic::Ordering::Relaxed),
            data.len() as u64
        );
        assert_eq!(
            hash_file(&p, data.len() as u64, false, |_| {})
                .await
                .unwrap()
                .md5,
            None
        );
        let (bytes, h2) = read_small(&p, data.len() as u64).await.unwrap();
        assert_eq!(bytes.as_ref(), &data[..]);
        assert_eq!(h, h2);
        let short = hash_file(&p, 5, false, |_| {}).await;
        assert!(matches!(short, Err(Error::Changed { .. })), "{short:?}");
    }
}
