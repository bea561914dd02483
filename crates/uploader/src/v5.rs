//! COS v5 (XML API) uploads with signatures from the auth server: PUT Object,
//! POST Object with a policy, and multipart upload for large files.
//!
//! Every object carries `x-cos-meta-sha1` (hex SHA-1 of the content). Before a
//! PUT, POST or multipart upload a `HEAD` of the key decides: absent → upload;
//! same SHA-1 → "already present"; anything else → refused, never overwritten.
//! PUT also sends `x-cos-forbid-overwrite: true`, so on real COS a writer racing
//! between the `HEAD` and the PUT gets a 409 rather than a silent overwrite.

use std::collections::BTreeMap;

use base64::Engine as _;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde::Deserialize;
use shared::wire::{PostPolicyRequest, V5SignRequest, V5SignResponse};

use crate::body::{Source, encode_path};
use crate::error::{Error, snippet};
use crate::journal::{FileIdentity, Record};
use crate::retry::{retry, retry_after};
use crate::upload::{FileCtx, FileJob, Outcome, Prepared, Protocol, Uploader};

const SERVICE: &str = "store";
/// Metadata header holding the content's SHA-1.
pub const META_SHA1: &str = "x-cos-meta-sha1";
/// Refuse to replace an existing object.
pub const FORBID_OVERWRITE: &str = "x-cos-forbid-overwrite";

/// The XML `<Error>` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct XmlError {
    code: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateResult {
    upload_id: String,
}

/// What a `HEAD` tells about an existing object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeadObject {
    /// `x-cos-meta-sha1`, lower-cased; empty when the object has none.
    sha1: String,
    /// `Content-Length`, when sent.
    size: Option<u64>,
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

/// Maps a non-success v5 reply.
fn status_error(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    key: &str,
) -> Error {
    let text = String::from_utf8_lossy(body);
    let xml: XmlError = quick_xml::de::from_str(&text).unwrap_or_default();
    let message = if xml.code.is_empty() {
        snippet(&text)
    } else {
        format!("{}: {}", xml.code, xml.message)
    };
    let retry_after = retry_after(headers);
    match status {
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => Error::Server {
            service: SERVICE,
            status: s.as_u16(),
            message,
            retry_after,
        },
        // An expired signature: the next attempt asks the server for a new one.
        StatusCode::FORBIDDEN
            if xml.code == "RequestTimeTooSkewed" || message.contains("xpired") =>
        {
            Error::Server {
                service: SERVICE,
                status: 403,
                message,
                retry_after: None,
            }
        }
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Error::Sign {
            code: if xml.code.is_empty() {
                status.as_u16().to_string()
            } else {
                xml.code
            },
            message,
        },
        StatusCode::CONFLICT if xml.code == "FileAlreadyExists" || xml.code.is_empty() => {
            Error::Exists {
                key: key.to_owned(),
            }
        }
        s => Error::Upload {
            code: if xml.code.is_empty() {
                s.as_u16().to_string()
            } else {
                xml.code
            },
            message,
        },
    }
}

fn content_type_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("heic") => "image/heic",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

impl Uploader {
    async fn v5_sign(
        &self,
        method: &str,
        job: &FileJob,
        query: &[(&str, String)],
        headers: &[(&str, String)],
    ) -> Result<V5SignResponse, Error> {
        let req = V5SignRequest {
            method: method.to_owned(),
            key: job.key.as_str().to_owned(),
            pathname: None,
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        };
        self.client.sign_v5(&req).await
    }

    /// Builds a request to the signed URL with the signed headers and query.
    fn v5_request(
        &self,
        method: reqwest::Method,
        signed: &V5SignResponse,
        query: &[(&str, String)],
        headers: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let mut url = signed.url.clone();
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        crate::body::encode_component(k)
                    } else {
                        format!(
                            "{}={}",
                            crate::body::encode_component(k),
                            crate::body::encode_component(v)
                        )
                    }
                })
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        let mut rb = self.http().request(method, url).header(
            reqwest::header::AUTHORIZATION,
            signed.authorization.as_str(),
        );
        for (k, v) in headers {
            rb = rb.header(*k, v.as_str());
        }
        rb
    }

    /// `HEAD`: the object's URL and, when an object exists, its
    /// `x-cos-meta-sha1` (an empty string when it has no such metadata) and
    /// `Content-Length`.
    async fn v5_head(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
    ) -> Result<(String, Option<HeadObject>), Error> {
        retry(
            &self.config.retry,
            ctx,
            || async {
                let signed = self.v5_sign("HEAD", job, &[], &[]).await?;
                let resp = self
                    .v5_request(reqwest::Method::HEAD, &signed, &[], &[])
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                if status == StatusCode::NOT_FOUND {
                    return Ok((signed.url, None));
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
                Ok((signed.url, Some(HeadObject { sha1, size })))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying HEAD"),
        )
        .await
    }

    /// When the key is taken: the same content counts as present, anything
    /// else is refused (never overwritten).
    async fn v5_existing(
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

    pub(crate) async fn v5_upload(
        &self,
        protocol: Protocol,
        job: &FileJob,
        ctx: &FileCtx,
        p: Prepared,
    ) -> Result<(Outcome, String), Error> {
        if job.size > self.config.large_threshold {
            return self.v5_multipart(job, ctx, &p).await;
        }
        match protocol {
            Protocol::V5Post => self.v5_post(job, ctx, &p).await,
            _ => self.v5_put(job, ctx, &p).await,
        }
    }

    async fn v5_put(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        // Stores that ignore `x-cos-forbid-overwrite` would replace the object:
        // look first. (With the header, a race with another writer still ends in 409.)
        if let Some(done) = self.v5_existing(job, ctx, p).await? {
            return Ok(done);
        }
        let mut headers: Vec<(&str, String)> = vec![
            ("content-length", job.size.to_string()),
            (
                "content-type",
                content_type_for(job.key.file_name()).to_owned(),
            ),
            (META_SHA1, p.id.sha1.clone()),
            (FORBID_OVERWRITE, "true".to_owned()),
        ];
        if let Some(md5) = p.md5 {
            headers.push((
                "content-md5",
                base64::engine::general_purpose::STANDARD.encode(md5),
            ));
        }
        let r = retry(
            &self.config.retry,
            ctx,
            || async {
                let signed = self.v5_sign("PUT", job, &[], &headers).await?;
                let meter = ctx.meter();
                let resp = self
                    .v5_request(reqwest::Method::PUT, &signed, &[], &headers)
                    .body(p.source.body(meter.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                if status.is_success() {
                    meter.commit();
                    return Ok(Some(signed.url));
                }
                let h = resp.headers().clone();
                let body = resp.bytes().await.unwrap_or_default();
                match status_error(status, &h, &body, job.key.as_str()) {
                    Error::Exists { .. } => Ok(None),
                    e => Err(e),
                }
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying PUT"),
        )
        .await;
        match r? {
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

    async fn v5_post(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<(Outcome, String), Error> {
        // POST Object has no "do not overwrite" switch: look first.
        if let Some(done) = self.v5_existing(job, ctx, p).await? {
            return Ok(done);
        }
        let content_type = content_type_for(job.key.file_name());
        let r = retry(
            &self.config.retry,
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
                let resp = self
                    .http()
                    .post(&policy.url)
                    .multipart(form)
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                if status.is_success() {
                    meter.commit();
                    let location = resp
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let base = policy.url.trim_end_matches('/');
                    return Ok(location.unwrap_or_else(|| format!("{base}/{}", encode_path(&key))));
                }
                let h = resp.headers().clone();
                let body = resp.bytes().await.unwrap_or_default();
                Err(status_error(status, &h, &body, job.key.as_str()))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying POST Object"),
        )
        .await;
        r.map(|url| (Outcome::Uploaded, url))
    }

    /// Lists the parts of an earlier upload; `None` when it is gone.
    async fn v5_list_parts(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        upload_id: &str,
    ) -> Result<Option<Vec<ListedPart>>, Error> {
        let query = [("uploadId", upload_id.to_owned())];
        retry(
            &self.config.retry,
            ctx,
            || async {
                let signed = self.v5_sign("GET", job, &query, &[]).await?;
                let resp = self
                    .v5_request(reqwest::Method::GET, &signed, &query, &[])
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                let h = resp.headers().clone();
                let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
                if status == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !status.is_success() {
                    return Err(status_error(status, &h, &body, job.key.as_str()));
                }
                let list: ListPartsResult =
                    quick_xml::de::from_str(&String::from_utf8_lossy(&body)).map_err(|e| {
                        Error::Protocol {
                            service: SERVICE,
                            message: format!("bad ListParts reply: {e}"),
                        }
                    })?;
                Ok(Some(list.parts))
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying list parts"),
        )
        .await
    }

    async fn v5_multipart(
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
                Err(e) if !e.is_retryable() => {
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
                if let Some(j) = &ctx.journal {
                    j.append(&Record::MultipartInit {
                        key: job.key.as_str().to_owned(),
                        id: p.id.clone(),
                        upload_id: id.clone(),
                        part_size,
                    })
                    .await?;
                }
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

    async fn v5_initiate(
        &self,
        job: &FileJob,
        ctx: &FileCtx,
        p: &Prepared,
    ) -> Result<String, Error> {
        let query = [("uploads", String::new())];
        let headers = [
            (
                "content-type",
                content_type_for(job.key.file_name()).to_owned(),
            ),
            (META_SHA1, p.id.sha1.clone()),
        ];
        retry(
            &self.config.retry,
            ctx,
            || async {
                let signed = self.v5_sign("POST", job, &query, &headers).await?;
                let resp = self
                    .v5_request(reqwest::Method::POST, &signed, &query, &headers)
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                let h = resp.headers().clone();
                let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
                if !status.is_success() {
                    return Err(status_error(status, &h, &body, job.key.as_str()));
                }
                let init: InitiateResult = quick_xml::de::from_str(&String::from_utf8_lossy(&body))
                    .map_err(|e| Error::Protocol {
                        service: SERVICE,
                        message: format!("bad InitiateMultipartUpload reply: {e}"),
                    })?;
                Ok(init.upload_id)
            },
            |e, _| tracing::debug!(key = %job.key, error = %e, "retrying initiate"),
        )
        .await
    }

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
        let r = retry(
            &self.config.retry,
            ctx,
            || async {
                let signed = self.v5_sign("PUT", job, &query, &headers).await?;
                let meter = ctx.meter();
                let resp = self
                    .v5_request(reqwest::Method::PUT, &signed, &query, &headers)
                    .body(part.body(meter.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                let h = resp.headers().clone();
                let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
                if !status.is_success() {
                    return Err(status_error(status, &h, &body, job.key.as_str()));
                }
                let etag = h
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
        .await;
        let etag = r?;
        if let Some(j) = &ctx.journal {
            j.append(&Record::Part {
                key: job.key.as_str().to_owned(),
                upload_id: upload_id.to_owned(),
                part: n,
                etag: etag.clone(),
            })
            .await?;
        }
        Ok(etag)
    }

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
            ctx,
            || async {
                let signed = self.v5_sign("POST", job, &query, &headers).await?;
                let resp = self
                    .v5_request(reqwest::Method::POST, &signed, &query, &headers)
                    .body(xml.clone())
                    .send()
                    .await
                    .map_err(|e| Error::network(SERVICE, e))?;
                let status = resp.status();
                let h = resp.headers().clone();
                let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
                if status == StatusCode::NOT_FOUND && is_no_such_upload(&body) {
                    // A retried complete whose first attempt succeeded: the upload id is gone.
                    return Err(Error::Upload {
                        code: "NoSuchUpload".into(),
                        message: "the multipart upload is gone".into(),
                    });
                }
                if !status.is_success() {
                    return Err(status_error(status, &h, &body, job.key.as_str()));
                }
                let text = String::from_utf8_lossy(&body);
                if text.contains("<Error>") {
                    let e: XmlError = quick_xml::de::from_str(&text).unwrap_or_default();
                    return Err(Error::Server {
                        service: SERVICE,
                        status: 500,
                        message: format!("{}: {}", e.code, e.message),
                        retry_after: None,
                    });
                }
                Ok(signed.url)
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
    fn xml_errors_map_to_kinds() {
        let h = reqwest::header::HeaderMap::new();
        let body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>";
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, &h, body, "k"),
            Error::Sign { .. }
        ));
        let body = b"<Error><Code>FileAlreadyExists</Code><Message>x</Message></Error>";
        assert!(matches!(
            status_error(StatusCode::CONFLICT, &h, body, "k"),
            Error::Exists { .. }
        ));
        assert!(
            status_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &h,
                b"<Error><Code>SlowDown</Code></Error>",
                "k"
            )
            .is_retryable()
        );
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

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type_for("a.JPG"), "image/jpeg");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
    }
}
