//! A v4 simple upload: the whole file in one `op=upload` request.

use reqwest::multipart::Form;

use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::retry::retry;
use crate::upload::{Outcome, Prepared, Uploader};

impl Uploader {
    pub(super) async fn v4_simple(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let form = Form::new()
                    .text("op", "upload")
                    .text("sha", p.id.sha1.clone())
                    .text("insertOnly", "1");
                let (r, meter) = self.v4_post_file(job, ctx, form, &p.source).await?;
                let done = self.v4_finished(&r, job, ctx).await?;
                if done.0 == Outcome::Uploaded {
                    meter.commit();
                }
                Ok(done)
            },
            |e, d| tracing::debug!(key = %job.key, error = %e, delay_ms = d.as_millis() as u64, "retrying upload"),
        )
        .await
    }
}
