//! COS v4 (JSON API) uploads: simple `op=upload` and slice upload, exactly as
//! the app sends them (`Authorization: <sign>`, multipart `op` + `filecontent`),
//! plus `sha` and `insertOnly=1` so a retried or repeated upload of committed
//! content answers -4018 instead of writing twice, and different content is
//! never silently overwritten (-177).

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::multipart::Form;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::v4::{Reply, UploadData, codes};

use crate::body::{Source, encode_path};
use crate::client::CachedSign;
use crate::error::{Error, snippet};
use crate::journal::Record;
use crate::retry::{retry, retry_after};
use crate::upload::{FileCtx, FileJob, Outcome, Prepared, Uploader};

const SERVICE: &str = "store";

/// `data` of `upload_slice_init` (a session, or the finished object on an instant hit).
#[derive(Debug, Default, Deserialize)]
struct InitData {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    slice_size: Option<u64>,
    #[serde(default)]
    serial_upload: Option<u64>,
    #[serde(default)]
    source_url: Option<String>,
}

/// `data` of `upload_slice_list`.
#[derive(Debug, Default, Deserialize)]
struct ListData {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    filesize: Option<u64>,
    #[serde(default)]
    slice_size: Option<u64>,
    #[serde(default)]
    listparts: Vec<shared::v4::SlicePart>,
    #[serde(default)]
    source_url: Option<String>,
}

/// A store reply: the code and message, plus `data` when present.
struct V4Reply {
    code: i64,
    message: String,
    data: Option<serde_json::Value>,
}

impl V4Reply {
    fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let v = self.data.clone().ok_or_else(|| Error::Protocol {
            service: SERVICE,
            message: format!("reply without data (code {}, {})", self.code, self.message),
        })?;
        serde_json::from_value(v).map_err(|e| Error::Protocol {
            service: SERVICE,
            message: format!("unexpected data: {e}"),
        })
    }
}

/// Sends one v4 request and reads the JSON envelope. HTTP 5xx (and a v4
/// internal error) become retryable [`Error::Server`].
async fn send(rb: reqwest::RequestBuilder) -> Result<V4Reply, Error> {
    let resp = rb.send().await.map_err(|e| Error::network(SERVICE, e))?;
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
    let parsed = serde_json::from_slice::<Reply<serde_json::Value>>(&body);
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let message = match &parsed {
            Ok(r) => format!("{} ({})", r.message, r.code),
            Err(_) => snippet(&String::from_utf8_lossy(&body)),
        };
        return Err(Error::Server {
            service: SERVICE,
            status: status.as_u16(),
            message,
            retry_after,
        });
    }
    match parsed {
        Ok(r) => Ok(V4Reply {
            code: r.code,
            message: r.message,
            data: r.data,
        }),
        Err(_) => Err(Error::Protocol {
            service: SERVICE,
            message: format!(
                "HTTP {}: not a v4 JSON reply: {}",
                status.as_u16(),
                snippet(&String::from_utf8_lossy(&body))
            ),
        }),
    }
}

/// Maps a non-zero code the caller does not handle itself.
fn code_error(r: &V4Reply, key: &str) -> Error {
    match r.code {
        codes::SIGN_INVALID | codes::SIGN_BUCKET_MISMATCH | codes::SIGN_REPLAYED => Error::Sign {
            code: r.code.to_string(),
            message: r.message.clone(),
        },
        codes::FILE_EXISTS => Error::Exists {
            key: key.to_owned(),
        },
        codes::INTERNAL => Error::Server {
            service: SERVICE,
            status: 500,
            message: format!("{} ({})", r.message, r.code),
            retry_after: None,
        },
        _ => Error::Upload {
            code: r.code.to_string(),
            message: r.message.clone(),
        },
    }
}

/// The retryable error used after a -96 (expired) reply: the signature was
/// dropped from the cache, so the retry fetches a new one.
fn expired() -> Error {
    Error::Server {
        service: SERVICE,
        status: 401,
        message: "signature expired (-96); renewed".into(),
        retry_after: None,
    }
}

impl Uploader {
    fn v4_url(&self, sign: &CachedSign, job: &FileJob) -> Result<String, Error> {
        let name = job.name_in_sign_dir()?;
        let base = &sign.sign.upload_url;
        let sep = if base.ends_with('/') { "" } else { "/" };
        Ok(format!("{base}{sep}{}", encode_path(name)))
    }

    /// One v4 POST with a fresh-enough signature; -96 drops the signature and
    /// asks for a retry.
    async fn v4_post(&self, job: &FileJob, form: Form) -> Result<V4Reply, Error> {
        let sign = self.signs.get(&job.sign_dir).await?;
        let url = self.v4_url(&sign, job)?;
        let r = send(
            self.http()
                .post(url)
                .header(reqwest::header::AUTHORIZATION, sign.sign.sign.as_str())
                .multipart(form),
        )
        .await?;
        if r.code == codes::SIGN_EXPIRED {
            self.signs.invalidate(&job.sign_dir, &sign).await;
            return Err(expired());
        }
        Ok(r)
    }

    /// `GET <url>?op=stat`: the object's `source_url` (after a -4018 without data).
    async fn v4_stat_url(&self, job: &FileJob, ctx: &FileCtx) -> Result<String, Error> {
        let r = retry(
            &self.config.retry,
            ctx,
            || async {
                let sign = self.signs.get(&job.sign_dir).await?;
                let url = self.v4_url(&sign, job)?;
                let r = send(
                    self.http()
                        .get(url)
                        .query(&[("op", "stat")])
                        .header(reqwest::header::AUTHORIZATION, sign.sign.sign.as_str()),
                )
                .await?;
                if r.code == codes::SIGN_EXPIRED {
                    self.signs.invalidate(&job.sign_dir, &sign).await;
                    return Err(expired());
                }
                Ok(r)
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying stat"),
        )
        .await;
        let r = r?;
        if r.code != codes::OK {
            return Err(code_error(&r, job.key.as_str()));
        }
        let stat: shared::v4::StatData = r.data()?;
        stat.source_url.ok_or_else(|| Error::Protocol {
            service: SERVICE,
            message: "stat reply without source_url".into(),
        })
    }

    /// The URL of an object the store says it already holds (-4018).
    async fn already_present(
        &self,
        r: &V4Reply,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<(Outcome, String), Error> {
        let from_data = r
            .data
            .as_ref()
            .and_then(|d| d.get("source_url"))
            .and_then(|u| u.as_str())
            .map(str::to_owned);
        let url = match from_data {
            Some(u) => u,
            None => self.v4_stat_url(job, ctx).await?,
        };
        Ok((Outcome::AlreadyPresent, url))
    }

    pub(crate) async fn v4_upload(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        prepared: Prepared,
    ) -> Result<(Outcome, String), Error> {
        if job.size > self.config.large_threshold {
            self.v4_slices(job, ctx, &prepared).await
        } else {
            self.v4_simple(job, ctx, &prepared).await
        }
    }

    async fn v4_simple(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let name = job.key.file_name().to_owned();
        retry(
            &self.config.retry,
            ctx,
            || async {
                let meter = ctx.meter();
                let form = Form::new()
                    .text("op", "upload")
                    .text("sha", p.id.sha1.clone())
                    .text("insertOnly", "1")
                    .part("filecontent", p.source.part(meter.clone(), &name)?);
                let r = self.v4_post(job, form).await?;
                match r.code {
                    codes::OK => {
                        let d: UploadData = r.data()?;
                        meter.commit();
                        Ok((Outcome::Uploaded, d.source_url))
                    }
                    codes::SAME_FILE_UPLOADED => self.already_present(&r, job, ctx).await,
                    _ => Err(code_error(&r, job.key.as_str())),
                }
            },
            |e, d| tracing::debug!(key = %job.key, error = %e, delay_ms = d.as_millis() as u64, "retrying upload"),
        )
        .await
    }

    /// `op=upload_slice_list`: what a session already holds.
    async fn v4_slice_list(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        session: &str,
    ) -> Result<V4Reply, Error> {
        retry(
            &self.config.retry,
            ctx,
            || async {
                let form = Form::new()
                    .text("op", "upload_slice_list")
                    .text("session", session.to_owned());
                self.v4_post(job, form).await
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying slice list"),
        )
        .await
    }

    /// Resumes an earlier session when the journal has one for this same file.
    /// Returns the session, slice size and stored offsets, or the finished object.
    async fn v4_resume(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<Option<Result<(String, u64, HashSet<u64>), (Outcome, String)>>, Error> {
        let Some(pending) = ctx.pending_slices.as_ref().filter(|s| s.id == p.id) else {
            return Ok(None);
        };
        let r = match self.v4_slice_list(job, ctx, &pending.session).await {
            Ok(r) => r,
            Err(e) if !e.is_retryable() => {
                tracing::info!(key = %job.key, error = %e, "cannot list the earlier slice session; starting over");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if r.code != codes::OK {
            tracing::info!(key = %job.key, code = r.code, "earlier slice session is gone; starting over");
            return Ok(None);
        }
        let list: ListData = r.data()?;
        if let Some(url) = list.source_url {
            // The session was finished before the run stopped.
            return Ok(Some(Err((Outcome::Uploaded, url))));
        }
        let (Some(session), Some(slice_size)) = (list.session, list.slice_size.filter(|s| *s > 0))
        else {
            return Ok(None);
        };
        if list.filesize.is_some_and(|s| s != job.size) {
            return Ok(None);
        }
        let stored = list
            .listparts
            .iter()
            .filter(|part| {
                part.offset % slice_size == 0
                    && part.datalen == slice_size.min(job.size - part.offset.min(job.size))
            })
            .map(|part| part.offset)
            .collect();
        tracing::info!(key = %job.key, "resuming slice upload");
        Ok(Some(Ok((session, slice_size, stored))))
    }

    async fn v4_slices(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let (session, slice_size, stored, serial) = match self.v4_resume(job, ctx, p).await? {
            Some(Ok((session, slice_size, stored))) => (session, slice_size, stored, false),
            Some(Err(done)) => {
                // Finished by the earlier run: all of it was stored then.
                ctx.resumed(job.size);
                return Ok(done);
            }
            None => {
                let r = retry(
                    &self.config.retry,
                    ctx,
                    || async {
                        let form = Form::new()
                            .text("op", "upload_slice_init")
                            .text("filesize", job.size.to_string())
                            .text("slice_size", self.config.slice_size.to_string())
                            .text("sha", p.id.sha1.clone())
                            .text("insertOnly", "1");
                        self.v4_post(job, form).await
                    },
                    |e, _| tracing::debug!(key = %job.key, error = %e, "retrying slice init"),
                )
                .await;
                let r = r?;
                match r.code {
                    codes::OK => {}
                    codes::SAME_FILE_UPLOADED => return self.already_present(&r, job, ctx).await,
                    _ => return Err(code_error(&r, job.key.as_str())),
                }
                let init: InitData = r.data()?;
                if let Some(url) = init.source_url {
                    // Instant upload: the store already had this content.
                    return Ok((Outcome::AlreadyPresent, url));
                }
                let session = init.session.ok_or_else(|| Error::Protocol {
                    service: SERVICE,
                    message: "upload_slice_init reply without a session".into(),
                })?;
                let slice_size = init
                    .slice_size
                    .filter(|s| *s > 0)
                    .unwrap_or(self.config.slice_size);
                if let Some(j) = &ctx.journal {
                    j.append(&Record::SliceInit {
                        key: job.key.as_str().to_owned(),
                        id: p.id.clone(),
                        session: session.clone(),
                        slice_size,
                    })
                    .await?;
                }
                (
                    session,
                    slice_size,
                    HashSet::new(),
                    init.serial_upload == Some(1),
                )
            }
        };

        let offsets: Vec<u64> = (0..job.size)
            .step_by(usize::try_from(slice_size).unwrap_or(usize::MAX))
            .filter(|o| !stored.contains(o))
            .collect();
        // Already-stored slices count as progress, not as sent.
        let stored_bytes: u64 = stored.iter().map(|o| slice_size.min(job.size - o)).sum();
        ctx.resumed(stored_bytes);
        let parallel = if serial {
            1
        } else {
            self.config.parallel_parts.max(1)
        };
        let session = Arc::new(session);
        futures_util::stream::iter(offsets)
            .map(|offset| {
                let session = session.clone();
                async move {
                    let len = slice_size.min(job.size - offset);
                    let slice = p.source.range(offset, len);
                    self.v4_slice_data(job, ctx, &session, offset, &slice).await
                }
            })
            .buffer_unordered(parallel)
            .try_collect::<()>()
            .await?;

        let r = retry(
            &self.config.retry,
            ctx,
            || async {
                let form = Form::new()
                    .text("op", "upload_slice_finish")
                    .text("session", session.to_string())
                    .text("filesize", job.size.to_string())
                    .text("sha", p.id.sha1.clone());
                self.v4_post(job, form).await
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying slice finish"),
        )
        .await;
        let r = r?;
        match r.code {
            codes::OK => {
                let d: UploadData = r.data()?;
                Ok((Outcome::Uploaded, d.source_url))
            }
            codes::SAME_FILE_UPLOADED => self.already_present(&r, job, ctx).await,
            _ => Err(code_error(&r, job.key.as_str())),
        }
    }

    async fn v4_slice_data(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        session: &str,
        offset: u64,
        slice: &Source,
    ) -> Result<(), Error> {
        let name = job.key.file_name().to_owned();
        let r = retry(
            &self.config.retry,
            ctx,
            || async {
                let meter = ctx.meter();
                let form = Form::new()
                    .text("op", "upload_slice_data")
                    .text("session", session.to_owned())
                    .text("offset", offset.to_string())
                    .part("filecontent", slice.part(meter.clone(), &name)?);
                let r = self.v4_post(job, form).await?;
                if r.code != codes::OK {
                    return Err(code_error(&r, job.key.as_str()));
                }
                meter.commit();
                Ok(())
            },
            |e, d| tracing::debug!(key = %job.key, offset, error = %e, delay_ms = d.as_millis() as u64, "retrying slice"),
        )
        .await;
        r?;
        if let Some(j) = &ctx.journal {
            j.append(&Record::Slice {
                key: job.key.as_str().to_owned(),
                session: session.to_owned(),
                offset,
                len: slice.len(),
            })
            .await?;
        }
        Ok(())
    }
}
