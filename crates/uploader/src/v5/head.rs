//! `HEAD` of the key before an upload, and what it decides: absent → upload;
//! the same SHA-1 → already present; anything else → refused, never
//! overwritten.

use reqwest::{Method, StatusCode};

use super::META_SHA1;
use super::request::{send, status_error};
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::retry::retry;
use crate::upload::{Outcome, Prepared, Uploader};

/// What a `HEAD` tells about an existing object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HeadObject {
    /// `x-cos-meta-sha1`, lower-cased; empty when the object has none.
    pub(super) sha1: String,
    /// `Content-Length`, when sent.
    pub(super) size: Option<u64>,
}

impl Uploader {
    /// `HEAD`: the object's URL and, when an object exists, its
    /// `x-cos-meta-sha1` (an empty string when it has no such metadata) and
    /// `Content-Length`.
    pub(super) async fn v5_head(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<(String, Option<HeadObject>), Error> {
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (url, rb) = self.v5_signed(Method::HEAD, job, &[], &[]).await?;
                let resp = send(rb).await?;
                let status = resp.status();
                if status == StatusCode::NOT_FOUND {
                    return Ok((url, None));
                }
                if !status.is_success() {
                    return Err(status_error(status, resp.headers(), b"", job.key.as_str()));
                }
                let headers = resp.headers();
                let sha1 = headers
                    .get(META_SHA1)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let size = headers
                    .get(reqwest::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                Ok((url, Some(HeadObject { sha1, size })))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying HEAD"),
        )
        .await
    }

    /// When the key is taken: the same content counts as present, anything
    /// else is refused (never overwritten).
    pub(super) async fn v5_existing(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<Option<(Outcome, String)>, Error> {
        match self.v5_head(job, ctx).await? {
            (_, None) => Ok(None),
            (url, Some(o)) if o.sha1 == p.id.sha1 => Ok(Some((Outcome::AlreadyPresent, url))),
            _ => Err(Error::Exists {
                key: job.key.as_str().to_owned(),
            }),
        }
    }
}
