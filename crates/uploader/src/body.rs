//! Streaming request bodies from files and file hashing, with memory bounded
//! by a fixed chunk size whatever the file size.

use std::io::{Read, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::Error;
use crate::progress::AttemptMeter;

/// Read size for streaming and hashing.
pub(crate) const CHUNK: usize = 256 * 1024;

/// v4 path encoding: everything but `A-Z a-z 0-9 - _ . ~ /` (as `cos_sign::encode_path`).
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Unreserved characters only (`A-Z a-z 0-9 - _ . ~`), for query names and values.
const COMPONENT: &AsciiSet = &PATH.add(b'/');

/// Percent-encodes a query name or value: everything but `A-Z a-z 0-9 - _ . ~`.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Percent-encodes a key or name for a URL path: UTF-8, upper-case hex,
/// only `A-Z a-z 0-9 - _ . ~ /` left as they are.
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// SHA-1 (lower-case hex) and, when asked, MD5 (raw) of a whole file, read in fixed chunks on
/// a blocking thread. Fails with [`Error::Changed`] when the size read differs
/// from `expected_size`.
pub async fn hash_file(
    path: &Path,
    expected_size: u64,
    want_md5: bool,
) -> Result<FileHashes, Error> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || hash_file_blocking(&p, expected_size, want_md5))
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

/// Where a body comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Already in memory (small files).
    Memory(Bytes),
    /// A byte range of a file, streamed in [`CHUNK`]s.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

impl Source {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Memory(b) => b.len() as u64,
            Source::File { len, .. } => *len,
        }
    }

    /// The bytes `offset..offset + len` of this source (a slice or part of
    /// the file), cut at its end.
    pub(crate) fn range(&self, offset: u64, len: u64) -> Source {
        let start = offset.min(self.len());
        let len = len.min(self.len() - start);
        match self {
            Source::Memory(b) => {
                // Both bounds are at most `b.len()`, so they fit in a usize.
                let start = usize::try_from(start).unwrap_or(b.len());
                let end = usize::try_from(len).map_or(b.len(), |l| start.saturating_add(l));
                Source::Memory(b.slice(start..end.min(b.len())))
            }
            Source::File { path, offset, .. } => Source::File {
                path: path.clone(),
                offset: offset + start,
                len,
            },
        }
    }

    /// A request body for one attempt, counting bytes into `meter`.
    pub(crate) fn body(&self, meter: AttemptMeter) -> reqwest::Body {
        match self {
            Source::Memory(b) => {
                // Counted as a whole: a small body is sent in one go.
                meter.add(b.len() as u64);
                reqwest::Body::from(b.clone())
            }
            Source::File { path, offset, len } => {
                reqwest::Body::wrap_stream(file_stream(path.clone(), *offset, *len, meter))
            }
        }
    }

    /// A multipart file part with a known length, typed `application/octet-stream`.
    pub(crate) fn part(
        &self,
        meter: AttemptMeter,
        file_name: &str,
    ) -> Result<reqwest::multipart::Part, Error> {
        self.part_typed(meter, file_name, "application/octet-stream")
    }

    /// A multipart file part with a known length and the MIME type `mime`. A
    /// MIME type that does not parse is an error, never a part without the body.
    fn part_typed(
        &self,
        meter: AttemptMeter,
        file_name: &str,
        mime: &str,
    ) -> Result<reqwest::multipart::Part, Error> {
        // On a refusal the part and its meter are dropped: bytes counted are taken back.
        let part = match self {
            Source::Memory(b) => {
                meter.add(b.len() as u64);
                reqwest::multipart::Part::stream_with_length(b.clone(), b.len() as u64)
            }
            Source::File { .. } => {
                reqwest::multipart::Part::stream_with_length(self.body(meter), self.len())
            }
        };
        part.file_name(file_name.to_owned())
            .mime_str(mime)
            .map_err(|e| Error::request("a multipart file part", e))
    }
}

/// Streams `len` bytes of `path` from `offset`; errors if the file is shorter.
fn file_stream(
    path: PathBuf,
    offset: u64,
    len: u64,
    meter: AttemptMeter,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    struct St {
        file: Option<tokio::fs::File>,
        path: PathBuf,
        offset: u64,
        left: u64,
        meter: AttemptMeter,
    }
    let st = St {
        file: None,
        path,
        offset,
        left: len,
        meter,
    };
    futures_util::stream::try_unfold(st, |mut st| async move {
        if st.left == 0 {
            return Ok(None);
        }
        if st.file.is_none() {
            let mut f = tokio::fs::File::open(&st.path).await?;
            f.seek(SeekFrom::Start(st.offset)).await?;
            st.file = Some(f);
        }
        let want = usize::try_from(st.left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let mut buf = BytesMut::with_capacity(want);
        let Some(f) = st.file.as_mut() else {
            return Ok(None);
        };
        while buf.len() < want {
            let n = f.read_buf(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{} became shorter during the upload", st.path.display()),
                ));
            }
        }
        st.left -= buf.len() as u64;
        st.meter.add(buf.len() as u64);
        Ok(Some((buf.freeze(), st)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use futures_util::TryStreamExt;
    use std::sync::Arc;

    #[test]
    fn path_encoding_matches_the_cos_rules() {
        assert_eq!(
            encode_path("/a/b(1)!'*~ c.jpg"),
            "/a/b%281%29%21%27%2A~%20c.jpg"
        );
        assert_eq!(
            encode_path("xrzeti/测试 图片.jpg"),
            "xrzeti/%E6%B5%8B%E8%AF%95%20%E5%9B%BE%E7%89%87.jpg"
        );
    }

    #[test]
    fn a_bad_mime_type_is_an_error_not_an_empty_part() {
        let sum = Arc::new(Counted::default());
        let src = Source::Memory(Bytes::from_static(b"content"));
        let err = src
            .part_typed(
                AttemptMeter::new(sum.clone(), 0),
                "a.jpg",
                "not a mime type",
            )
            .unwrap_err();
        assert!(matches!(err, Error::Request { .. }), "{err:?}");
        assert_eq!(err.kind(), "request");
        assert!(!err.is_retryable());
        // The bytes counted for the refused part were taken back.
        assert_eq!(sum.0.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(src.part(AttemptMeter::new(sum, 0), "a.jpg").is_ok());
    }

    #[tokio::test]
    async fn a_range_of_a_file_or_of_memory_holds_the_same_bytes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let file = Source::File {
            path: p,
            offset: 0,
            len: data.len() as u64,
        };
        let memory = Source::Memory(Bytes::from(data.clone()));
        for (offset, len, want) in [
            (0, 1000, 0..1000),
            (100, 250, 100..350),
            (900, 500, 900..1000),
        ] {
            for src in [&file, &memory] {
                let piece = src.range(offset, len);
                assert_eq!(piece.len(), want.len() as u64, "{piece:?}");
                let got: Vec<u8> = match &piece {
                    Source::Memory(b) => b.to_vec(),
                    Source::File { path, offset, len } => {
                        let meter = AttemptMeter::new(Arc::new(NoProgress), 0);
                        let chunks: Vec<Bytes> = file_stream(path.clone(), *offset, *len, meter)
                            .try_collect()
                            .await
                            .unwrap();
                        chunks.concat()
                    }
                };
                assert_eq!(got, &data[want.clone()], "{piece:?}");
            }
        }
    }

    #[derive(Default)]
    struct Counted(std::sync::atomic::AtomicI64);
    impl crate::progress::Progress for Counted {
        fn bytes(&self, _file: usize, delta: i64) {
            self.0
                .fetch_add(delta, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[tokio::test]
    async fn hashes_and_streams_ranges() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let h = hash_file(&p, data.len() as u64, true).await.unwrap();
        assert_eq!(h.sha1, hex::encode(Sha1::digest(&data)));
        assert_eq!(
            hash_file(&p, data.len() as u64, false).await.unwrap().md5,
            None
        );
        let (bytes, h2) = read_small(&p, data.len() as u64).await.unwrap();
        assert_eq!(bytes.as_ref(), &data[..]);
        assert_eq!(h, h2);
        assert!(matches!(
            hash_file(&p, 5, false).await,
            Err(Error::Changed { .. })
        ));

        let meter = AttemptMeter::new(Arc::new(NoProgress), 0);
        let got: Vec<Bytes> = file_stream(p.clone(), 10, CHUNK as u64 + 5, meter)
            .try_collect()
            .await
            .unwrap();
        let flat: Vec<u8> = got.concat();
        assert_eq!(flat, &data[10..10 + CHUNK + 5]);
        assert!(got.iter().all(|c| c.len() <= CHUNK));

        let meter = AttemptMeter::new(Arc::new(NoProgress), 0);
        let short: Result<Vec<Bytes>, _> = file_stream(p, data.len() as u64 - 3, 10, meter)
            .try_collect()
            .await;
        assert_eq!(short.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
