//! COS v4 (JSON API) uploads: simple `op=upload` and slice upload, exactly as
//! the app sends them (`Authorization: <sign>`, multipart `op` + `filecontent`),
//! plus `sha` and `insertOnly=1` so a retried or repeated upload of committed
//! content answers -4018 instead of writing twice, and different content is
//! never silently overwritten (-177).
//!
//! This file holds what both kinds share: the signed request, the object's
//! URL, and the answer "already uploaded". `simple` sends a file in one
//! request; `slices` opens, resumes, fills and finishes a slice session.

mod reply;
mod simple;
mod slices;

use cos_sign::encode_path;
use reqwest::Method;
use reqwest::multipart::Form;
use shared::v4::{UploadData, codes};

use crate::body::Source;
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::progress::AttemptMeter;
use crate::retry::retry;
use crate::sign_cache::CachedSign;
use crate::upload::{Outcome, Prepared, Uploader};

use reply::{SERVICE, V4Reply, expired, send};

impl Uploader {
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

    fn v4_url(&self, sign: &CachedSign, job: &FileJob) -> Result<String, Error> {
        let name = job.name_in_sign_dir()?;
        let base = &sign.sign.upload_url;
        let sep = if base.ends_with('/') { "" } else { "/" };
        Ok(format!("{base}{sep}{}", encode_path(name)))
    }

    /// One v4 request to the job's URL with a fresh-enough signature of its
    /// directory; `with` adds the rest (form, query). A -96 (expired) drops
    /// the signature and asks for a retry.
    async fn v4_send(
        &self,
        job: &FileJob,
        method: Method,
        with: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<V4Reply, Error> {
        let sign = self.signs.get(&job.sign_dir).await?;
        let url = self.v4_url(&sign, job)?;
        let rb = self
            .http()
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, sign.sign.sign.as_str());
        let r = send(with(rb)).await?;
        if r.code == codes::SIGN_EXPIRED {
            self.signs.invalidate(&job.sign_dir, &sign).await;
            return Err(expired());
        }
        Ok(r)
    }

    /// One v4 POST of `form` (see [`Uploader::v4_send`]).
    async fn v4_post(&self, job: &FileJob, form: Form) -> Result<V4Reply, Error> {
        self.v4_send(job, Method::POST, |rb| rb.multipart(form))
            .await
    }

    /// One v4 POST of `form` with `body` as its `filecontent` part: the reply,
    /// and the attempt's meter to commit once the store has acknowledged it.
    async fn v4_post_file(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        form: Form,
        body: &Source,
    ) -> Result<(V4Reply, AttemptMeter), Error> {
        let meter = ctx.meter();
        let form = form.part(
            "filecontent",
            body.part(meter.clone(), job.key.file_name())?,
        );
        let r = self.v4_post(job, form).await?;
        Ok((r, meter))
    }

    /// A v4 POST without a file (`upload_slice_init`, `_list`, `_finish`),
    /// retried; `form` builds the form again for each attempt.
    async fn v4_call(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        what: &str,
        form: impl Fn() -> Form,
    ) -> Result<V4Reply, Error> {
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || self.v4_post(job, form()),
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying {what}"),
        )
        .await
    }

    /// The end of an upload (`op=upload` or `upload_slice_finish`): stored,
    /// already there (-4018), or refused.
    async fn v4_finished(
        &self,
        r: &V4Reply,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<(Outcome, String), Error> {
        match r.code {
            codes::OK => {
                let d: UploadData = r.data()?;
                Ok((Outcome::Uploaded, d.source_url))
            }
            codes::SAME_FILE_UPLOADED => self.already_present(r, job, ctx).await,
            _ => Err(r.error(job.key.as_str())),
        }
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

    /// `GET <url>?op=stat`: the object's `source_url` (after a -4018 without data).
    async fn v4_stat_url(&self, job: &FileJob, ctx: &FileCtx) -> Result<String, Error> {
        let r = retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || self.v4_send(job, Method::GET, |rb| rb.query(&[("op", "stat")])),
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying stat"),
        )
        .await?;
        if r.code != codes::OK {
            return Err(r.error(job.key.as_str()));
        }
        let stat: shared::v4::StatData = r.data()?;
        stat.source_url.ok_or_else(|| Error::Protocol {
            service: SERVICE,
            message: "stat reply without source_url".into(),
        })
    }
}
