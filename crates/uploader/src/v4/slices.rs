//! A v4 slice upload: `upload_slice_init` opens a session (or finds the
//! content already stored), `upload_slice_data` sends each slice (in
//! parallel unless the store asks for serial upload), `upload_slice_finish`
//! closes it. A session recorded in the journal by an earlier run is resumed
//! with `upload_slice_list`: only the slices it does not hold are sent.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::multipart::Form;
use serde::Deserialize;
use shared::v4::codes;

use super::reply::SERVICE;
use crate::body::Source;
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::journal::Record;
use crate::report::Stop;
use crate::retry::retry;
use crate::upload::{Outcome, Prepared, Uploader};

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

/// An open slice session: where the slices go and which are stored already.
struct Session {
    id: String,
    slice_size: u64,
    /// Offsets of the slices the store holds.
    stored: HashSet<u64>,
    /// The store asked for one slice at a time.
    serial: bool,
}

/// Where a slice upload stands before any slice is sent.
enum Start {
    /// Send the slices the session does not hold yet.
    Open(Session),
    /// Nothing to send: the object is there, with this URL.
    Done(Outcome, String),
}

impl Uploader {
    pub(super) async fn v4_slices(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let session = match self.v4_resume(job, ctx, p).await? {
            Some(Start::Open(session)) => session,
            Some(Start::Done(outcome, url)) => {
                // Finished by the earlier run: all of it was stored then.
                ctx.resumed(job.size);
                return Ok((outcome, url));
            }
            None => match self.v4_slice_init(job, ctx, p).await? {
                Start::Open(session) => session,
                Start::Done(outcome, url) => return Ok((outcome, url)),
            },
        };
        let Session {
            id: session,
            slice_size,
            stored,
            serial,
        } = session;

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

        let r = self
            .v4_call(job, ctx, "slice finish", || {
                Form::new()
                    .text("op", "upload_slice_finish")
                    .text("session", session.to_string())
                    .text("filesize", job.size.to_string())
                    .text("sha", p.id.sha1.clone())
            })
            .await?;
        self.v4_finished(&r, job, ctx).await
    }

    /// `op=upload_slice_init`: a new session (recorded in the journal), or
    /// the object when the store already holds this content.
    async fn v4_slice_init(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<Start, Error> {
        let r = self
            .v4_call(job, ctx, "slice init", || {
                Form::new()
                    .text("op", "upload_slice_init")
                    .text("filesize", job.size.to_string())
                    .text("slice_size", self.config.slice_size.to_string())
                    .text("sha", p.id.sha1.clone())
                    .text("insertOnly", "1")
            })
            .await?;
        match r.code {
            codes::OK => {}
            codes::SAME_FILE_UPLOADED => {
                let (outcome, url) = self.already_present(&r, job, ctx).await?;
                return Ok(Start::Done(outcome, url));
            }
            _ => return Err(r.error(job.key.as_str())),
        }
        let init: InitData = r.data()?;
        if let Some(url) = init.source_url {
            // Instant upload: the store already had this content.
            return Ok(Start::Done(Outcome::AlreadyPresent, url));
        }
        let session = init.session.ok_or_else(|| Error::Protocol {
            service: SERVICE,
            message: "upload_slice_init reply without a session".into(),
        })?;
        let slice_size = init
            .slice_size
            .filter(|s| *s > 0)
            .unwrap_or(self.config.slice_size);
        ctx.record(Record::SliceInit {
            key: job.key.as_str().to_owned(),
            id: p.id.clone(),
            session: session.clone(),
            slice_size,
        })
        .await?;
        Ok(Start::Open(Session {
            id: session,
            slice_size,
            stored: HashSet::new(),
            serial: init.serial_upload == Some(1),
        }))
    }

    /// Resumes an earlier session when the journal has one for this same file.
    /// Returns the session with its stored offsets, or the finished object.
    async fn v4_resume(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<Option<Start>, Error> {
        let Some(pending) = ctx.pending_slices.as_ref().filter(|s| s.id == p.id) else {
            return Ok(None);
        };
        // `op=upload_slice_list`: what the session already holds.
        let listed = self
            .v4_call(job, ctx, "slice list", || {
                Form::new()
                    .text("op", "upload_slice_list")
                    .text("session", pending.session.clone())
            })
            .await;
        let r = match listed {
            Ok(r) => r,
            Err(e) if !e.is_retryable() && Stop::caused_by(&e).is_none() => {
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
            return Ok(Some(Start::Done(Outcome::Uploaded, url)));
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
        Ok(Some(Start::Open(Session {
            id: session,
            slice_size,
            stored,
            serial: false,
        })))
    }

    /// `op=upload_slice_data`: one slice, recorded in the journal once stored.
    async fn v4_slice_data(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        session: &str,
        offset: u64,
        slice: &Source,
    ) -> Result<(), Error> {
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let form = Form::new()
                    .text("op", "upload_slice_data")
                    .text("session", session.to_owned())
                    .text("offset", offset.to_string());
                let (r, meter) = self.v4_post_file(job, ctx, form, slice).await?;
                if r.code != codes::OK {
                    return Err(r.error(job.key.as_str()));
                }
                meter.commit();
                Ok(())
            },
            |e, d| tracing::debug!(key = %job.key, offset, error = %e, delay_ms = d.as_millis() as u64, "retrying slice"),
        )
        .await?;
        ctx.record(Record::Slice {
            key: job.key.as_str().to_owned(),
            session: session.to_owned(),
            offset,
            len: slice.len(),
        })
        .await
    }
}
