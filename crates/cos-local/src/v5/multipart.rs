//! Multipart uploads: initiate, upload part, complete, abort, list parts and
//! list uploads. Each upload is locked by its id while a part is stored or
//! the upload completes or aborts; other uploads go on meanwhile.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::cam::Action;

use super::access::Access;
use super::error::{V5Error, err, file_already_exists, written};
use super::object::{FORBID_OVERWRITE, receive, stored_headers, user_meta, write_mode};
use super::{Ctx, quoted};
use crate::http::{self, param};
use crate::inner::Inner;
use crate::key::{AsStoreKey as _, StoreKey};
use crate::locks::KeyedGuard;
use crate::storage::Mode;
use crate::uploads;
use crate::xml::{Xml, iso8601};

pub(super) async fn initiate(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<HttpResponse, V5Error> {
    let StoreKey::Object(key) = key else {
        return Err(err(
            400,
            "InvalidArgument",
            "A directory marker cannot be uploaded in parts.",
        ));
    };
    // COS takes the header here too: refuse at once rather than after every
    // part is in, and remember it for the complete.
    let mode = write_mode(http::header(req, FORBID_OVERWRITE))?;
    if mode == Mode::InsertOnly && inner.storage.get(&ctx.bucket, key).is_some() {
        return Err(file_already_exists());
    }
    let content_type = http::content_type_for(key, http::header(req, "content-type"));
    let (i, b, k, meta, headers) = (
        Arc::clone(inner),
        ctx.bucket.clone(),
        key.clone(),
        user_meta(req),
        stored_headers(req),
    );
    let now = shared::clock::unix_now();
    let upload = http::blocking(move || {
        let new = uploads::NewUpload {
            content_type: &content_type,
            user_meta: meta,
            headers,
            forbid_overwrite: mode == Mode::InsertOnly,
        };
        uploads::v5_create(&i.storage, &b, &k, new, now)
    })
    .await?;
    let mut x = Xml::new();
    x.open("InitiateMultipartUploadResult")
        .elem("Bucket", &ctx.bucket)
        .elem("Key", key.as_str())
        .elem("UploadId", &upload.id)
        .close("InitiateMultipartUploadResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

fn part_number(ctx: &Ctx) -> Result<u32, V5Error> {
    param(&ctx.params, "partNumber")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            err(
                400,
                "InvalidArgument",
                "partNumber must be an integer from 1 to 10000",
            )
        })
}

pub(super) async fn upload_part(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &StoreKey,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    let number = part_number(ctx)?;
    let upload = load_upload(inner, ctx, key).await?;
    let limit = inner.config.max_part_size.min(inner.config.max_object_size);
    let blob = receive(inner, req, payload, limit).await?;
    let _guard = inner.multipart_upload_locks.lock(upload.id.clone()).await;
    let i = Arc::clone(inner);
    let md5 =
        http::blocking(move || uploads::v5_put_part(&i.storage, &upload, number, blob)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", quoted(&md5)))
        .insert_header(("x-cos-request-id", ctx.rid.as_str()))
        .finish())
}

#[derive(Debug, Deserialize)]
struct CompleteBody {
    #[serde(rename = "Part", default)]
    parts: Vec<CompletePart>,
}

#[derive(Debug, Deserialize)]
struct CompletePart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// Complete Multipart Upload. Under temporary credentials the policy decides
/// `CompleteMultipartUpload` with `cos:content-length` = the assembled
/// object's size (real COS holds size conditions on simple uploads only) and
/// `cos:content-type` = the type given at initiate, once the parts are
/// chosen and before anything is written; a refusal keeps the upload.
pub(super) async fn complete(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &StoreKey,
    access: &Access,
    mut payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    // Refused before the body is read when the key is outside the policy.
    let grant = access.grant(inner, ctx)?;
    let asked = match &grant {
        Some(grant) => Some(grant.object(Action::CompleteMultipartUpload, key)?),
        None => None,
    };
    let forbid_overwrite = write_mode(http::header(req, FORBID_OVERWRITE))? == Mode::InsertOnly;
    let body = http::read_small(&mut payload, 4 * 1024 * 1024).await?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        err(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed.",
        )
    })?;
    let parsed: CompleteBody = quick_xml::de::from_str(text).map_err(|e| {
        err(
            400,
            "MalformedXML",
            format!("The XML you provided was not well-formed: {e}"),
        )
    })?;
    let requested: Vec<(u32, String)> = parsed
        .parts
        .into_iter()
        .map(|p| (p.number, p.etag))
        .collect();
    // Only this upload waits while its parts are copied: part uploads, completes
    // and aborts of other uploads go on. An abort or a part of this upload that
    // arrives meanwhile runs after the copy and finds the upload gone.
    let (_guard, upload) = lock_upload(inner, ctx, key).await?;
    let (i, u) = (Arc::clone(inner), upload.clone());
    let min = inner.config.min_part_size;
    let chosen = http::blocking(move || {
        uploads::v5_choose_parts(&i.storage, &u, &requested, min).map_err(V5Error::from)
    })
    .await?;
    if let (Some(grant), Some(asked)) = (&grant, asked) {
        let total = chosen.iter().map(|p| p.size).sum();
        grant.allow(&asked.length(total).content_type(&upload.content_type))?;
    }
    let i = Arc::clone(inner);
    let now = shared::clock::unix_now();
    let max = inner.config.max_object_size;
    // Refused when the complete or the initiate said so; the upload then
    // stays, to be completed without the header or aborted.
    let mode = if forbid_overwrite || upload.forbid_overwrite {
        Mode::InsertOnly
    } else {
        Mode::Overwrite
    };
    let commit = tokio::task::spawn_blocking(move || {
        uploads::v5_complete(&i.storage, &upload, &chosen, max, mode, now)
    })
    .await
    .map_err(|e| err(500, "InternalError", e.to_string()))??;
    let meta = written(commit)?;
    let base = http::public_base(inner, req, inner.bucket_short(&ctx.bucket));
    let mut x = Xml::new();
    x.open("CompleteMultipartUploadResult")
        .elem("Location", http::object_url(&base, key.store_key()))
        .elem("Bucket", &ctx.bucket)
        .elem("Key", key.store_key())
        .elem("ETag", quoted(&meta.etag))
        .close("CompleteMultipartUploadResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

fn upload_id(ctx: &Ctx) -> &str {
    param(&ctx.params, "uploadId").unwrap_or("")
}

/// Loads an upload off the async threads.
async fn load_upload(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<uploads::V5Upload, V5Error> {
    let id = upload_id(ctx).to_owned();
    let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.clone());
    http::blocking(move || uploads::v5_load(&i.storage, &id, &b, &k).map_err(V5Error::from)).await
}

/// Waits for the upload's lock, then loads it: how complete and abort start.
async fn lock_upload<'a>(
    inner: &'a Arc<Inner>,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<(KeyedGuard<'a, String>, uploads::V5Upload), V5Error> {
    let guard = inner
        .multipart_upload_locks
        .lock(upload_id(ctx).to_owned())
        .await;
    let upload = load_upload(inner, ctx, key).await?;
    Ok((guard, upload))
}

pub(super) async fn abort(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<HttpResponse, V5Error> {
    let (_guard, upload) = lock_upload(inner, ctx, key).await?;
    let i = Arc::clone(inner);
    http::blocking(move || uploads::v5_abort(&i.storage, &upload)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("x-cos-request-id", ctx.rid.as_str()))
        .finish())
}

pub(super) async fn list_parts(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<HttpResponse, V5Error> {
    let upload = load_upload(inner, ctx, key).await?;
    let (i, u) = (Arc::clone(inner), upload.clone());
    let parts = http::blocking(move || uploads::v5_parts(&i.storage, &u)).await?;
    let marker: u32 = param(&ctx.params, "part-number-marker")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max_parts: usize = param(&ctx.params, "max-parts")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let rest: Vec<_> = parts.iter().filter(|p| p.number > marker).collect();
    let truncated = rest.len() > max_parts;
    let shown = &rest[..rest.len().min(max_parts)];
    let mut x = Xml::new();
    x.open("ListPartsResult")
        .elem("Bucket", &ctx.bucket)
        .elem("Encoding-type", "")
        .elem("Key", key.store_key())
        .elem("UploadId", &upload.id)
        .principal("Initiator", &inner.config.appid)
        .principal("Owner", &inner.config.appid)
        .elem("StorageClass", "STANDARD")
        .elem("PartNumberMarker", marker.to_string())
        .elem(
            "NextPartNumberMarker",
            shown.last().map_or(marker, |p| p.number).to_string(),
        )
        .elem("MaxParts", max_parts.to_string())
        .elem("IsTruncated", truncated.to_string());
    for p in shown {
        x.open("Part")
            .elem("PartNumber", p.number.to_string())
            .elem("LastModified", iso8601(p.mtime))
            .elem("ETag", quoted(&p.md5))
            .elem("Size", p.size.to_string())
            .close("Part");
    }
    x.close("ListPartsResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

pub(super) async fn list_uploads(inner: &Arc<Inner>, ctx: &Ctx) -> Result<HttpResponse, V5Error> {
    let prefix = param(&ctx.params, "prefix").unwrap_or("");
    let (i, b) = (Arc::clone(inner), ctx.bucket.clone());
    let all = http::blocking(move || uploads::v5_list(&i.storage, &b)).await?;
    let mut x = Xml::new();
    x.open("ListMultipartUploadsResult")
        .elem("Bucket", &ctx.bucket)
        .elem("Encoding-Type", "")
        .elem("KeyMarker", "")
        .elem("UploadIdMarker", "")
        .elem("NextKeyMarker", "")
        .elem("NextUploadIdMarker", "")
        .elem("MaxUploads", "1000")
        .elem("IsTruncated", "false")
        .elem("Prefix", prefix)
        .elem("Delimiter", "");
    for u in all.iter().filter(|u| u.key.as_str().starts_with(prefix)) {
        x.open("Upload")
            .elem("Key", u.key.as_str())
            .elem("UploadId", &u.id)
            .elem("StorageClass", "STANDARD")
            .principal("Initiator", &inner.config.appid)
            .principal("Owner", &inner.config.appid)
            .elem("Initiated", iso8601(u.initiated))
            .close("Upload");
    }
    x.close("ListMultipartUploadsResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

#[cfg(test)]
mod tests {
    use crate::testing::Running;

    fn complete_xml(etag: &str) -> Vec<u8> {
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{etag}\"</ETag></Part></CompleteMultipartUpload>"
        )
        .into_bytes()
    }

    /// While one upload is completing (it holds its own lock for the whole copy
    /// of its parts), parts and completes of other uploads go through, and a
    /// part of the completing upload waits for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_completing_upload_holds_up_only_itself() {
        use md5::Digest as _;
        let run = Running::start().await;
        let a = run.initiate("a.bin").await;
        let b = run.initiate("b.bin").await;
        let (pa, pb) = (
            [("partNumber", "1"), ("uploadId", a.as_str())],
            [("partNumber", "1"), ("uploadId", b.as_str())],
        );
        // The timeout is a hang guard only: with one lock for every upload the
        // requests for `b` would wait forever.
        tokio::time::timeout(std::time::Duration::from_secs(120), async {
            let held = run.store.inner.multipart_upload_locks.lock(a.clone()).await;
            let mut part_of_a = std::pin::pin!(run.send("put", "a.bin", &pa, b"part a".to_vec()));
            let other_upload = async {
                let (status, text) = run.send("put", "b.bin", &pb, b"part b".to_vec()).await;
                assert_eq!(status, 200, "{text}");
                let etag = hex::encode(md5::Md5::digest(b"part b"));
                let (status, text) = run
                    .send("post", "b.bin", &[("uploadId", &b)], complete_xml(&etag))
                    .await;
                assert_eq!(status, 200, "{text}");
            };
            tokio::select! {
                biased;
                r = &mut part_of_a => panic!("a part of a locked upload went through: {r:?}"),
                () = other_upload => {}
            }
            assert_eq!(run.store.keys("metis"), ["b.bin"]);
            drop(held);
            let (status, text) = part_of_a.await;
            assert_eq!(
                status, 200,
                "the waiting part is stored once the lock is free: {text}"
            );
            let etag = hex::encode(md5::Md5::digest(b"part a"));
            let (status, text) = run
                .send("post", "a.bin", &[("uploadId", &a)], complete_xml(&etag))
                .await;
            assert_eq!(status, 200, "{text}");
        })
        .await
        .unwrap();
        assert_eq!(run.store.keys("metis"), ["a.bin", "b.bin"]);
        assert_eq!(
            run.store.inner.multipart_upload_locks.len(),
            0,
            "no lock outlives its upload"
        );
        run.handle.stop(true).await;
    }
}
