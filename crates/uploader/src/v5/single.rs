//! A v5 upload in one request: PUT Object with a per-request signature, or
//! POST Object with a policy the auth server issued. The key was looked at
//! first (`HEAD`, in `v5_upload`); PUT also sends `x-cos-forbid-overwrite`.

use std::collections::BTreeMap;

use base64::Engine as _;
use cos_sign::encode_path;
use reqwest::Method;
use shared::wire::PostPolicyRequest;

use super::request::{SERVICE, error_of, send};
use super::{FORBID_OVERWRITE, META_SHA1};
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::retry::retry;
use crate::upload::{Outcome, Prepared, Uploader};

impl Uploader {
    pub(super) async fn v5_put(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let mut headers: Vec<(&str, String)> = vec![
            ("content-length", job.size.to_string()),
            ("content-type", job.content_type().to_owned()),
            (META_SHA1, p.id.sha1.clone()),
            (FORBID_OVERWRITE, "true".to_owned()),
        ];
        if let Some(md5) = p.md5 {
            headers.push((
                "content-md5",
                base64::engine::general_purpose::STANDARD.encode(md5),
            ));
        }
        let stored = retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (url, rb) = self.v5_signed(Method::PUT, job, &[], &headers).await?;
                let meter = ctx.meter();
                let resp = send(rb.body(p.source.body(meter.clone()))).await?;
                if resp.status().is_success() {
                    meter.commit();
                    return Ok(Some(url));
                }
                match error_of(resp, job.key.as_str()).await {
                    Error::Exists { .. } => Ok(None),
                    e => Err(e),
                }
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying PUT"),
        )
        .await?;
        match stored {
            Some(url) => Ok((Outcome::Uploaded, url)),
            // 409: decide by content (a retry after a lost reply lands here too).
            None => self
                .v5_existing(job, ctx, p)
                .await?
                .ok_or_else(|| Error::Protocol {
                    service: SERVICE,
                    message: "409 for a key that HEAD does not find".into(),
                }),
        }
    }

    pub(super) async fn v5_post(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let content_type = job.content_type();
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let policy = self
                    .client
                    .post_policy(&PostPolicyRequest {
                        key: Some(job.key.as_str().to_owned()),
                        max_size: Some(job.size.max(1)),
                        ..PostPolicyRequest::default()
                    })
                    .await?;
                let mut fields: BTreeMap<String, String> = policy.fields.clone();
                let key = match fields.get("key") {
                    Some(k) if k.ends_with('/') => format!("{k}{}", job.key.file_name()),
                    _ => job.key.as_str().to_owned(),
                };
                fields.insert("key".into(), key.clone());
                fields
                    .entry("Content-Type".into())
                    .or_insert_with(|| content_type.to_owned());
                fields.insert(META_SHA1.into(), p.id.sha1.clone());
                fields.insert("success_action_status".into(), "200".into());
                let meter = ctx.meter();
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                form = form.part("file", p.source.part(meter.clone(), job.key.file_name())?);
                let resp = send(self.http().post(&policy.url).multipart(form)).await?;
                if !resp.status().is_success() {
                    return Err(error_of(resp, job.key.as_str()).await);
                }
                meter.commit();
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let base = policy.url.trim_end_matches('/');
                Ok(location.unwrap_or_else(|| format!("{base}/{}", encode_path(&key))))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying POST Object"),
        )
        .await
        .map(|url| (Outcome::Uploaded, url))
    }
}
