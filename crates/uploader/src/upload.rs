//! Uploading one file: the tuning ([`UploadConfig`]), what is shared by all
//! files ([`Uploader`]), reading or hashing the file once ([`Prepared`]), and
//! the choice of protocol. The protocols themselves are in `v4` and `v5`.

use std::sync::Arc;

use crate::body::Source;
use crate::client::ServerClient;
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::hash;
use crate::job::FileJob;
use crate::journal::{FileIdentity, Record};
use crate::retry::RetryPolicy;
use crate::sign_cache::SignCache;

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

    /// Reads or hashes the file once, checking it still has the listed size;
    /// the bytes hashed are reported to the context's progress. MD5 is
    /// computed only where it is sent: a v5 single PUT (`Content-MD5`).
    pub(crate) async fn prepare(
        &self,
        protocol: Protocol,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<Prepared, Error> {
        let want_md5 = protocol == Protocol::V5Put && job.size <= self.config.large_threshold;
        if job.size <= self.config.in_memory_limit {
            let (data, h) = hash::read_small(&job.path, job.size).await?;
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
        let (progress, file) = (ctx.progress.clone(), ctx.id);
        let h = hash::hash_file(&job.path, job.size, want_md5, move |n| {
            progress.hashed(file, n);
        })
        .await?;
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
        let h = hash::hash_file(&job.path, job.size, false, |_| {}).await?;
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
        let prepared = self.prepare(protocol, job, ctx).await?;
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
        if streamed && let Some(what) = job.changed() {
            return Err(Error::Changed {
                path: job.path.clone(),
                what,
            });
        }
        let (outcome, url) = result?;
        ctx.record(Record::Done {
            key: job.key.as_str().to_owned(),
            id: id.clone(),
            url: url.clone(),
        })
        .await?;
        Ok(Uploaded {
            outcome,
            url,
            sha1: id.sha1,
        })
    }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use super::*;
    use crate::mock::{self, Response};

    /// A logged-in uploader against a mock whose store answers every upload
    /// (v4 `op=upload`, v5 PUT) with `status`, and `HEAD` with 404.
    async fn store_answering(status: u16) -> (Uploader, mock::Server) {
        let base: Arc<OnceLock<String>> = Arc::default();
        let b = base.clone();
        let srv = mock::serve(move |req| {
            if let Some(r) = mock::auth_routes(b.get().unwrap(), req) {
                return r;
            }
            let body = if req.target.starts_with("/files/") {
                format!(r#"{{"code":-1,"message":"status {status}"}}"#)
            } else {
                format!("<Error><Code>Status{status}</Code><Message>no</Message></Error>")
            };
            match req.method.as_str() {
                "HEAD" => Response::new(404, ""),
                _ => Response::new(status, body),
            }
        })
        .await;
        base.set(srv.base.clone()).unwrap();
        let client = Arc::new(ServerClient::new(reqwest::Client::new(), &srv.base));
        client.login_dev("x").await.unwrap();
        let config = UploadConfig {
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                ..RetryPolicy::default()
            },
            ..UploadConfig::default()
        };
        (Uploader::new(client, config), srv)
    }

    #[tokio::test]
    async fn client_errors_and_a_full_store_are_not_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"content").unwrap();
        let home = shared::DirPath::parse("/u/7/").unwrap();
        let job = FileJob::new(&path, home.join("a.jpg").unwrap()).unwrap();
        for (status, sent) in [
            (400, 1),
            (403, 1),
            (404, 1),
            (408, 3),
            (429, 3),
            (500, 3),
            (503, 3),
            (507, 1),
        ] {
            for protocol in [Protocol::V4, Protocol::V5Put] {
                let (up, srv) = store_answering(status).await;
                let ctx = FileCtx::default();
                let r = up.upload(protocol, &job, &ctx).await;
                let uploads = srv
                    .requests
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|r| r.method != "HEAD" && !r.target.starts_with("/v1/"))
                    .count();
                assert_eq!(uploads, sent, "{status} {protocol:?}: {r:?}");
                if status == 507 {
                    let Err(e @ Error::StoreFull { .. }) = &r else {
                        panic!("{status} {protocol:?}: {r:?}")
                    };
                    let text = e.to_string();
                    assert!(
                        text.starts_with("the store is full (HTTP 507: ")
                            && text.ends_with(
                                "): free space on the server, then run the same command again"
                            ),
                        "{text}"
                    );
                    assert_eq!(e.kind(), "store_full");
                }
            }
        }
    }
}
