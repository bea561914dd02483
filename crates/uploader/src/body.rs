//! Where request bodies come from ([`Source`]): a small file read into
//! memory, or a byte range of a file streamed in fixed chunks, so memory is
//! bounded whatever the file size. Every body sent is built from the file's
//! prepared source or a range of it.

use std::io::SeekFrom;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::Error;
use crate::progress::AttemptMeter;

/// Read size for streaming and hashing.
pub(crate) const CHUNK: usize = 256 * 1024;

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
        assert!(!err.is_retryable(), "{err:?}");
        // The bytes counted for the refused part were taken back.
        assert_eq!(sum.0.load(std::sync::atomic::Ordering::Relaxed), 0);
        let good = src.part(AttemptMeter::new(sum, 0), "a.jpg");
        assert!(good.is_ok(), "{:?}", good.err());
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
    async fn streams_ranges_in_chunks() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();

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
