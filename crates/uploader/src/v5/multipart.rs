//! A v5 multipart upload, for files above the large-file threshold:
//! InitiateMultipartUpload (after a `HEAD` of the key), the parts (in
//! parallel, each recorded in the journal), CompleteMultipartUpload. An
//! upload recorded by an earlier run is resumed with ListParts: only the
//! parts it does not hold are sent.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::META_SHA1;
use super::head::HeadObject;
use super::request::{SERVICE, V5Reply, XmlError, send};
use crate::body::Source;
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::journal::{FileIdentity, Record};
use crate::report::Stop;
use crate::retry::retry;
use crate::upload::{Outcome, Prepared, Uploader};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateResult {
    upload_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListPartsResult {
    #[serde(rename = "Part")]
    parts: Vec<ListedPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedPart {
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    size: u64,
}

impl Uploader {
    pub(super) async fn v5_multipart(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        let part_size = self.config.part_size.max(1);
        let mut done: BTreeMap<u32, String> = BTreeMap::new();
        let mut upload: Option<(String, u64)> = None;
        if let Some(pending) = ctx.pending_multipart.as_ref().filter(|m| m.id == p.id) {
            match self.v5_list_parts(job, ctx, &pending.upload_id).await {
                Ok(Some(parts)) => {
                    let ps = pending.part_size;
                    for part in parts {
                        let start = u64::from(part.part_number.saturating_sub(1)) * ps;
                        if part.part_number >= 1
                            && start < job.size
                            && part.size == ps.min(job.size - start)
                        {
                            done.insert(part.part_number, part.etag);
                        }
                    }
                    tracing::info!(key = %job.key, parts = done.len(), "resuming multipart upload");
                    upload = Some((pending.upload_id.clone(), ps));
                }
                Ok(None) => {}
                Err(e) if !e.is_retryable() && Stop::caused_by(&e).is_none() => {
                    tracing::info!(key = %job.key, error = %e, "cannot resume the multipart upload; starting over");
                }
                Err(e) => return Err(e),
            }
        }
        let (upload_id, part_size) = match upload {
            Some(u) => u,
            None => {
                // Refuse early when the key holds other content; same content is done.
                if let Some(done) = self.v5_existing(job, ctx, p).await? {
                    return Ok(done);
                }
                let id = self.v5_initiate(job, ctx, p).await?;
                ctx.record(Record::MultipartInit {
                    key: job.key.as_str().to_owned(),
                    id: p.id.clone(),
                    upload_id: id.clone(),
                    part_size,
                })
                .await?;
                (id, part_size)
            }
        };

        let count = job.size.div_ceil(part_size).max(1);
        let stored_bytes: u64 = done
            .keys()
            .map(|n| {
                let start = u64::from(n - 1) * part_size;
                part_size.min(job.size - start)
            })
            .sum();
        ctx.resumed(stored_bytes);
        let todo: Vec<u32> = (1..=u32::try_from(count).unwrap_or(u32::MAX))
            .filter(|n| !done.contains_key(n))
            .collect();
        let uploaded: Vec<(u32, String)> = futures_util::stream::iter(todo)
            .map(|n| {
                let upload_id = upload_id.as_str();
                async move {
                    let start = u64::from(n - 1) * part_size;
                    let len = part_size.min(job.size - start);
                    let part = p.source.range(start, len);
                    let etag = self.v5_part(job, ctx, upload_id, n, &part).await?;
                    Ok::<_, Error>((n, etag))
                }
            })
            .buffer_unordered(self.config.parallel_parts.max(1))
            .try_collect()
            .await?;
        done.extend(uploaded);
        let url = self.v5_complete(job, ctx, &p.id, &upload_id, &done).await?;
        Ok((Outcome::Uploaded, url))
    }

    /// ListParts of an earlier upload; `None` when it is gone.
    async fn v5_list_parts(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        upload_id: &str,
    ) -> Result<Option<Vec<ListedPart>>, Error> {
        let query = [("uploadId", upload_id.to_owned())];
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (_, rb) = self.v5_signed(Method::GET, job, &query, &[]).await?;
                let reply = V5Reply::read(send(rb).await?).await?;
                if reply.status == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                let list: ListPartsResult = reply.success(job.key.as_str())?.xml("ListParts")?;
                Ok(Some(list.parts))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying list parts"),
        )
        .await
    }

    /// InitiateMultipartUpload: the new upload's id.
    async fn v5_initiate(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<String, Error> {
        let query = [("uploads", String::new())];
        let headers = [
            ("content-type", job.content_type().to_owned()),
            (META_SHA1, p.id.sha1.clone()),
        ];
        retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (_, rb) = self.v5_signed(Method::POST, job, &query, &headers).await?;
                let reply = V5Reply::read(send(rb).await?).await?;
                let init: InitiateResult = reply
                    .success(job.key.as_str())?
                    .xml("InitiateMultipartUpload")?;
                Ok(init.upload_id)
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying initiate"),
        )
        .await
    }

    /// UploadPart: part `n`, recorded in the journal once stored; its ETag.
    async fn v5_part(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        upload_id: &str,
        n: u32,
        part: &Source,
    ) -> Result<String, Error> {
        let query = [
            ("partNumber", n.to_string()),
            ("uploadId", upload_id.to_owned()),
        ];
        let headers = [("content-length", part.len().to_string())];
        let etag = retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (_, rb) = self.v5_signed(Method::PUT, job, &query, &headers).await?;
                let meter = ctx.meter();
                let resp = send(rb.body(part.body(meter.clone()))).await?;
                let reply = V5Reply::read(resp).await?.success(job.key.as_str())?;
                let etag = reply
                    .headers
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| Error::Protocol {
                        service: SERVICE,
                        message: format!("part {n} stored without an ETag"),
                    })?
                    .to_owned();
                meter.commit();
                Ok(etag)
            },
            |e, _| tracing::debug!(key = %job.key, part = n, error = %e, "retrying part"),
        )
        .await?;
        ctx.record(Record::Part {
            key: job.key.as_str().to_owned(),
            upload_id: upload_id.to_owned(),
            part: n,
            etag: etag.clone(),
        })
        .await?;
        Ok(etag)
    }

    /// CompleteMultipartUpload. A `NoSuchUpload` answer (an earlier attempt
    /// may have completed it, its reply lost) is settled by a `HEAD` of the
    /// key: see [`completed_object`].
    async fn v5_complete(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        id: &FileIdentity,
        upload_id: &str,
        parts: &BTreeMap<u32, String>,
    ) -> Result<String, Error> {
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (n, etag) in parts {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                quick_xml::escape::escape(etag.as_str())
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let query = [("uploadId", upload_id.to_owned())];
        let headers = [("content-type", "application/xml".to_owned())];
        let r = retry(
            &self.config.retry,
            self.client.contact(),
            ctx,
            || async {
                let (url, rb) = self.v5_signed(Method::POST, job, &query, &headers).await?;
                let reply = V5Reply::read(send(rb.body(xml.clone())).await?).await?;
                if reply.status == StatusCode::NOT_FOUND && is_no_such_upload(&reply.body) {
                    // A retried complete whose first attempt succeeded: the upload id is gone.
                    return Err(Error::Upload {
                        code: "NoSuchUpload".into(),
                        message: "the multipart upload is gone".into(),
                    });
                }
                let reply = reply.success(job.key.as_str())?;
                let text = String::from_utf8_lossy(&reply.body);
                if text.contains("<Error>") {
                    let e: XmlError = quick_xml::de::from_str(&text).unwrap_or_default();
                    return Err(Error::Server {
                        service: SERVICE,
                        status: 500,
                        message: format!("{}: {}", e.code, e.message),
                        retry_after: None,
                    });
                }
                Ok(url)
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying complete"),
        )
        .await;
        match r {
            Err(Error::Upload { code, .. }) if code == "NoSuchUpload" => {
                // Maybe completed by an attempt whose reply was lost: the object
                // at the key is ours only if it holds exactly this file.
                let (url, found) = self.v5_head(job, ctx).await?;
                completed_object(job, id, url, found)
            }
            other => other,
        }
    }
}

/// Decides, after CompleteMultipartUpload answered `NoSuchUpload`, whether
/// the object now at the key is this upload (same `x-cos-meta-sha1` and size
/// as the local file). Anything else, including an object without the
/// metadata or without a size, is not taken for ours.
fn completed_object(
    job: &FileJob,
    id: &FileIdentity,
    url: String,
    found: Option<HeadObject>,
) -> Result<String, Error> {
    let code = "NoSuchUpload".to_owned();
    let Some(o) = found else {
        return Err(Error::Upload {
            code,
            message: "the multipart upload vanished before completion and no object is at the key"
                .into(),
        });
    };
    if o.sha1 == id.sha1 && o.size == Some(id.size) {
        return Ok(url);
    }
    let sha = if o.sha1.is_empty() {
        "no x-cos-meta-sha1".to_owned()
    } else {
        format!("x-cos-meta-sha1 {}", o.sha1)
    };
    let size = o
        .size
        .map_or_else(|| "no size".to_owned(), |s| format!("{s} bytes"));
    Err(Error::Upload {
        code,
        message: format!(
            "the multipart upload vanished before completion, and the object at {} is not this file ({sha}, {size}; the file has SHA-1 {} and {} bytes)",
            job.key, id.sha1, id.size
        ),
    })
}

fn is_no_such_upload(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("NoSuchUpload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_replies_parse() {
        let init: InitiateResult = quick_xml::de::from_str(
            "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUploadResult>",
        )
        .unwrap();
        assert_eq!(init.upload_id, "abc");
        let list: ListPartsResult = quick_xml::de::from_str(
            "<ListPartsResult><UploadId>abc</UploadId><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag><Size>5</Size></Part><Part><PartNumber>2</PartNumber><ETag>\"f\"</ETag><Size>3</Size></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(list.parts.len(), 2);
        assert_eq!(list.parts[1].etag, "\"f\"");
    }

    fn job_and_id() -> (FileJob, FileIdentity) {
        let home = shared::DirPath::parse("/u/7/").unwrap();
        let job = FileJob {
            path: "big.bin".into(),
            size: 5,
            mtime_ns: 0,
            key: home.join("big.bin").unwrap(),
            sign_dir: home,
        };
        let id = FileIdentity {
            size: 5,
            mtime_ns: 0,
            sha1: "a".repeat(40),
        };
        (job, id)
    }

    #[test]
    fn a_vanished_upload_is_ours_only_with_the_same_sha1_and_size() {
        let (job, id) = job_and_id();
        let obj = |sha1: &str, size: Option<u64>| {
            Some(HeadObject {
                sha1: sha1.to_owned(),
                size,
            })
        };
        let sha = id.sha1.clone();
        assert_eq!(
            completed_object(&job, &id, "u".into(), obj(&sha, Some(5))).unwrap(),
            "u"
        );
        for (found, says) in [
            (obj(&"b".repeat(40), Some(5)), "x-cos-meta-sha1 bbbb"),
            (obj(&sha, Some(6)), "6 bytes"),
            (obj("", Some(5)), "no x-cos-meta-sha1"),
            (obj(&sha, None), "no size"),
            (None, "no object is at the key"),
        ] {
            let err = completed_object(&job, &id, "u".into(), found).unwrap_err();
            assert!(
                matches!(&err, Error::Upload { code, .. } if code == "NoSuchUpload"),
                "{err:?}"
            );
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    /// The whole path: CompleteMultipartUpload answers NoSuchUpload, the
    /// fallback HEADs the key and decides by the object's metadata.
    #[tokio::test]
    async fn complete_after_no_such_upload_checks_the_object_at_the_key() {
        use crate::mock::{self, Response};
        use std::sync::{Arc, OnceLock};

        let (job, id) = job_and_id();
        let cases = [
            (Some(id.sha1.clone()), "5", true),
            (Some("b".repeat(40)), "5", false),
            (None, "5", false),
            (Some(id.sha1.clone()), "4", false),
        ];
        for (sha, len, ours) in cases {
            let base: Arc<OnceLock<String>> = Arc::default();
            let b = base.clone();
            let head_sha = sha.clone();
            let srv = mock::serve(move |req| {
                if let Some(r) = mock::auth_routes(b.get().unwrap(), req) {
                    return r;
                }
                match req.method.as_str() {
                    "POST" if req.target.contains("uploadId=up1") => Response::new(
                        404,
                        "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>",
                    ),
                    "HEAD" => {
                        let r = Response::new(200, "").header("content-length", len);
                        match &head_sha {
                            Some(s) => r.header(META_SHA1, s),
                            None => r,
                        }
                    }
                    _ => Response::new(500, "unexpected"),
                }
            })
            .await;
            base.set(srv.base.clone()).unwrap();
            let client =
                std::sync::Arc::new(crate::ServerClient::new(reqwest::Client::new(), &srv.base));
            client.login_dev("x").await.unwrap();
            let up = Uploader::new(client, crate::UploadConfig::default());
            let parts = BTreeMap::from([(1u32, "\"e1\"".to_owned())]);
            let r = up
                .v5_complete(&job, &FileCtx::default(), &id, "up1", &parts)
                .await;
            if ours {
                assert_eq!(r.unwrap(), format!("{}/u/7/big.bin", srv.base));
            } else {
                let err = r.unwrap_err();
                assert!(
                    err.to_string().contains("is not this file"),
                    "{sha:?} {len}: {err}"
                );
            }
            let methods: Vec<String> = srv
                .requests
                .lock()
                .unwrap()
                .iter()
                .filter(|r| !r.target.starts_with("/v1/"))
                .map(|r| r.method.clone())
                .collect();
            assert_eq!(methods, ["POST", "HEAD"]);
        }
    }
}
