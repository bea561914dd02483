//! Uploading one file: the shared context ([`Uploader`]) and the per-file
//! inputs and outputs. The protocol-specific halves are in `v4` and `v5`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use shared::{DirPath, ObjectKey};

use crate::body::{self, Source};
use crate::client::{ServerClient, SignCache};
use crate::error::Error;
use crate::journal::{FileIdentity, Journal, JournalState, PendingMultipart, PendingSlices};
use crate::progress::{AttemptMeter, NoProgress, Progress};
use crate::retry::{Attempts, RetryPolicy};

/// Which upload protocol to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// COS v4 JSON API, as the mini-program does it: `op=upload` multipart with
    /// the signature from `/v1/qc_cos/config`; slice upload for large files.
    #[default]
    V4,
    /// COS v5 PUT Object with a per-request signature; multipart upload for large files.
    V5Put,
    /// COS v5 POST Object with a server-issued policy; multipart upload for large files.
    V5Post,
}

/// Tuning of single-file uploads.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Files larger than this use slice (v4) or multipart (v5) upload. COS's v4
    /// simple upload takes at most 20 MiB.
    pub large_threshold: u64,
    /// v4 slice size asked for at `upload_slice_init` (the store may choose
    /// another). Default 3 MiB, the largest size COS v4 documents (512 KiB,
    /// 1, 2 and 3 MiB): fewer requests than 1 MiB slices, same memory bound.
    pub slice_size: u64,
    /// v5 multipart part size.
    pub part_size: u64,
    /// Slices or parts of one file in flight at once.
    pub parallel_parts: usize,
    /// Files up to this size are read into memory once (hash and body from one
    /// read); larger files are hashed, then streamed.
    pub in_memory_limit: u64,
    /// Retry policy for store requests.
    pub retry: RetryPolicy,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            large_threshold: 20 * 1024 * 1024,
            slice_size: 3 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
            parallel_parts: 4,
            in_memory_limit: 256 * 1024,
            retry: RetryPolicy::default(),
        }
    }
}

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
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(0);
        Ok(Self {
            sign_dir: key.parent(),
            path,
            size: meta.len(),
            mtime_ns,
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
}

/// How a successful upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The content was sent and stored.
    Uploaded,
    /// The store already held the same content under the key.
    AlreadyPresent,
}

/// The result of a successful single-file upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Sent, or already there.
    pub outcome: Outcome,
    /// The object's URL (`source_url` for v4).
    pub url: String,
    /// Lower-case hex SHA-1 of the content.
    pub sha1: String,
}

/// Per-file context: progress, journal, resume state and the attempt count.
pub struct FileCtx {
    /// Index of the file in the run (for progress).
    pub id: usize,
    /// Where bytes are reported.
    pub progress: Arc<dyn Progress>,
    /// Where slices, parts and completion are recorded.
    pub journal: Option<Arc<Journal>>,
    /// An unfinished v4 slice upload of this key from an earlier run.
    pub pending_slices: Option<PendingSlices>,
    /// An unfinished v5 multipart upload of this key from an earlier run.
    pub pending_multipart: Option<PendingMultipart>,
    attempts: AtomicU32,
    /// Bytes this run stored (acknowledged attempts only).
    stored: Arc<AtomicU64>,
    /// Bytes earlier runs stored (slices or parts resumed).
    resumed: AtomicU64,
}

impl std::fmt::Debug for FileCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCtx")
            .field("id", &self.id)
            .field("attempts", &self.attempts())
            .field("bytes_sent", &self.bytes_sent())
            .field("bytes_resumed", &self.bytes_resumed())
            .finish_non_exhaustive()
    }
}

impl Default for FileCtx {
    fn default() -> Self {
        Self::new(0, Arc::new(NoProgress))
    }
}

impl FileCtx {
    /// A context with no journal.
    pub fn new(id: usize, progress: Arc<dyn Progress>) -> Self {
        Self {
            id,
            progress,
            journal: None,
            pending_slices: None,
            pending_multipart: None,
            attempts: AtomicU32::new(0),
            stored: Arc::default(),
            resumed: AtomicU64::new(0),
        }
    }

    /// Adds a journal, taking this key's unfinished uploads from `state`.
    pub fn with_journal(
        mut self,
        journal: Arc<Journal>,
        state: &JournalState,
        key: &ObjectKey,
    ) -> Self {
        self.pending_slices = state.slices.get(key.as_str()).cloned();
        self.pending_multipart = state.multiparts.get(key.as_str()).cloned();
        self.journal = Some(journal);
        self
    }

    /// Store requests made so far (retries included).
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Bytes of this file the store acknowledged in this run: attempts that
    /// failed, and slices or parts stored by an earlier run, are not counted.
    pub fn bytes_sent(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Bytes of this file an earlier run stored (resumed slices or parts).
    pub fn bytes_resumed(&self) -> u64 {
        self.resumed.load(Ordering::Relaxed)
    }

    /// A meter for one attempt; its bytes count as sent once committed.
    pub(crate) fn meter(&self) -> AttemptMeter {
        AttemptMeter::counting(self.progress.clone(), self.id, self.stored.clone())
    }

    /// Records `bytes` an earlier run stored, counting them as progress.
    pub(crate) fn resumed(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.resumed.fetch_add(bytes, Ordering::Relaxed);
        let keep = AttemptMeter::new(self.progress.clone(), self.id);
        keep.add(bytes);
        keep.commit();
    }
}

impl Attempts for FileCtx {
    fn add(&self, n: u32) {
        self.attempts.add(n);
    }
}

/// Everything single-file uploads share: the HTTP client (one connection pool),
/// the auth server client, the v4 signature cache and the tuning.
pub struct Uploader {
    pub(crate) client: Arc<ServerClient>,
    pub(crate) signs: SignCache,
    pub(crate) config: UploadConfig,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A file's content, ready to upload: its digests and where the body comes from.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) id: FileIdentity,
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) source: Source,
}

impl Uploader {
    /// An uploader using `client` (logged in) for signatures and its HTTP client for the store.
    pub fn new(client: Arc<ServerClient>, config: UploadConfig) -> Self {
        Self {
            signs: SignCache::new(client.clone()),
            client,
            config,
        }
    }

    /// The auth server client.
    pub fn client(&self) -> &Arc<ServerClient> {
        &self.client
    }

    /// The tuning.
    pub fn config(&self) -> &UploadConfig {
        &self.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        self.client.http()
    }

    /// Reads or hashes the file once, checking it still has the listed size.
    /// MD5 is computed only where it is sent: a v5 single PUT (`Content-MD5`).
    pub(crate) async fn prepare(
        &self,
        protocol: Protocol,
        job: &FileJob,
    ) -> Result<Prepared, Error> {
        let want_md5 = protocol == Protocol::V5Put && job.size <= self.config.large_threshold;
        if job.size <= self.config.in_memory_limit {
            let (data, h) = body::read_small(&job.path, job.size).await?;
            return Ok(Prepared {
                id: FileIdentity {
                    size: job.size,
                    mtime_ns: job.mtime_ns,
                    sha1: h.sha1,
                },
                md5: h.md5,
                source: Source::Memory(data),
            });
        }
        let h = body::hash_file(&job.path, job.size, want_md5).await?;
        Ok(Prepared {
            id: FileIdentity {
                size: job.size,
                mtime_ns: job.mtime_ns,
                sha1: h.sha1,
            },
            md5: h.md5,
            source: Source::File {
                path: job.path.clone(),
                offset: 0,
                len: job.size,
            },
        })
    }

    /// The identity (size, mtime, SHA-1) of a job's file, for journal checks.
    pub async fn identify(&self, job: &FileJob) -> Result<FileIdentity, Error> {
        let h = body::hash_file(&job.path, job.size, false).await?;
        Ok(FileIdentity {
            size: job.size,
            mtime_ns: job.mtime_ns,
            sha1: h.sha1,
        })
    }

    /// Uploads one file with `protocol`, recording completion in the context's journal.
    pub async fn upload(
        &self,
        protocol: Protocol,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<Uploaded, Error> {
        let prepared = self.prepare(protocol, job).await?;
        self.upload_prepared(protocol, job, ctx, prepared).await
    }

    pub(crate) async fn upload_prepared(
        &self,
        protocol: Protocol,
        job: &FileJob,
        ctx: &FileCtx,
        prepared: Prepared,
    ) -> Result<Uploaded, Error> {
        let id = prepared.id.clone();
        let streamed = matches!(prepared.source, Source::File { .. });
        let result = match protocol {
            Protocol::V4 => self.v4_upload(job, ctx, prepared).await,
            Protocol::V5Put | Protocol::V5Post => {
                self.v5_upload(protocol, job, ctx, prepared).await
            }
        };
        // A file streamed from disk may have changed after it was hashed: then
        // the failure (or the object) is about a file that no longer exists as
        // hashed. Say so, and never journal it as done.
        if streamed && let Some(what) = changed_since(job) {
            return Err(Error::Changed {
                path: job.path.clone(),
                what,
            });
        }
        let (outcome, url) = result?;
        if let Some(j) = &ctx.journal {
            j.append(&crate::journal::Record::Done {
                key: job.key.as_str().to_owned(),
                id: id.clone(),
                url: url.clone(),
            })
            .await?;
        }
        Ok(Uploaded {
            outcome,
            url,
            sha1: id.sha1,
        })
    }
}

/// What changed in the file since it was listed, if anything (size or mtime).
fn changed_since(job: &FileJob) -> Option<String> {
    let meta = match std::fs::metadata(&job.path) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot stat it any more: {e}")),
    };
    if meta.len() != job.size {
        return Some(format!("size {} became {}", job.size, meta.len()));
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0);
    (mtime != job.mtime_ns).then(|| "modified during the upload".to_owned())
}

/// Uploads one file the mini-program way (COS v4), slice upload above the threshold.
pub async fn upload_file_v4(
    uploader: &Uploader,
    job: &FileJob,
    ctx: &FileCtx,
) -> Result<Uploaded, Error> {
    uploader.upload(Protocol::V4, job, ctx).await
}

/// Uploads one file with COS v5 (`V5Put` or `V5Post`), multipart above the threshold.
pub async fn upload_file_v5(
    uploader: &Uploader,
    protocol: Protocol,
    job: &FileJob,
    ctx: &FileCtx,
) -> Result<Uploaded, Error> {
    let protocol = if protocol == Protocol::V4 {
        Protocol::V5Put
    } else {
        protocol
    };
    uploader.upload(protocol, job, ctx).await
}
