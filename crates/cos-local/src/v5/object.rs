//! PUT, GET, HEAD and DELETE Object: receiving a body (length and
//! `Content-MD5` checked), serving one (ranges, conditional requests,
//! `response-*` overrides).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::error::{V5Error, err, not_implemented, written};
use super::{Ctx, quoted};
use crate::error::StoreError;
use crate::http::{self, param};
use crate::inner::Inner;
use crate::key::StoreKey;
use crate::storage::{Blob, Mode, NewMeta};
use crate::xml::http_date;

/// The header (and POST Object form field) that refuses to replace an
/// existing object: PUT, POST Object, Initiate and Complete Multipart Upload.
pub(super) const FORBID_OVERWRITE: &str = "x-cos-forbid-overwrite";

/// How a write treats an existing key, from the value of
/// `x-cos-forbid-overwrite`: `true` refuses to replace it (even with the same
/// content, as COS does), `false` or no value replaces it.
pub(super) fn write_mode(forbid_overwrite: Option<&str>) -> Result<Mode, V5Error> {
    match forbid_overwrite.map(str::trim) {
        None => Ok(Mode::Overwrite),
        Some(v) if v.eq_ignore_ascii_case("false") || v.is_empty() => Ok(Mode::Overwrite),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Mode::InsertOnly),
        Some(v) => Err(err(
            400,
            "InvalidArgument",
            format!("{FORBID_OVERWRITE} must be true or false, not {v:?}"),
        )),
    }
}

pub(super) fn user_meta(req: &HttpRequest) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-cos-meta-"))
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    out.sort();
    out
}

/// The [`http::STORED_HEADERS`] the request sets.
pub(super) fn stored_headers(req: &HttpRequest) -> Vec<(String, String)> {
    http::stored_headers(|name| http::header(req, name).map(str::to_owned))
}

fn content_md5(req: &HttpRequest) -> Result<Option<[u8; 16]>, V5Error> {
    let Some(value) = http::header(req, "content-md5") else {
        return Ok(None);
    };
    let bytes = STANDARD.decode(value.trim()).map_err(|_| {
        err(
            400,
            "InvalidDigest",
            "The Content-MD5 you specified is not valid base64.",
        )
    })?;
    <[u8; 16]>::try_from(bytes.as_slice())
        .map(Some)
        .map_err(|_| {
            err(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified is not 16 bytes.",
            )
        })
}

/// Streams the request body to a temp file and checks its length and MD5.
pub(super) async fn receive(
    inner: &Inner,
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: u64,
) -> Result<Blob, V5Error> {
    let declared = http::content_length(req);
    if let Some(len) = declared
        && len > limit
    {
        return Err(StoreError::TooLarge { limit }.into());
    }
    let md5 = content_md5(req)?;
    let mut writer = inner.storage.writer(limit).await?;
    http::stream_into(&mut writer, &mut payload).await?;
    if let Some(len) = declared
        && writer.size() != len
    {
        return Err(err(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ));
    }
    let blob = http::finish(writer).await?;
    if let Some(expected) = md5
        && expected != blob.md5
    {
        return Err(err(
            400,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    Ok(blob)
}

pub(super) async fn put_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &StoreKey,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    if req.headers().contains_key("x-cos-copy-source") {
        return Err(not_implemented());
    }
    let mode = write_mode(http::header(req, FORBID_OVERWRITE))?;
    let blob = receive(inner, req, payload, inner.config.max_object_size).await?;
    let now = shared::clock::unix_now();
    let commit = match key {
        StoreKey::Dir(dir) => {
            if blob.size != 0 {
                return Err(err(
                    400,
                    "InvalidArgument",
                    "A key ending in '/' is a directory marker and must be empty.",
                ));
            }
            let (i, b, d) = (Arc::clone(inner), ctx.bucket.clone(), dir.clone());
            http::blocking(move || i.storage.put_dir(&b, &d, "", mode, now)).await?
        }
        StoreKey::Object(key) => {
            let new = NewMeta {
                content_type: http::content_type_for(key, http::header(req, "content-type")),
                biz_attr: String::new(),
                user_meta: user_meta(req),
                headers: stored_headers(req),
                etag: None,
            };
            let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.clone());
            http::blocking(move || i.storage.commit(&b, &k, blob, new, mode, now)).await?
        }
    };
    let meta = written(commit)?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", quoted(&meta.etag)))
        .insert_header(("x-cos-request-id", ctx.rid.as_str()))
        .finish())
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n`. `Ok(None)`: serve everything (no or
/// multiple ranges). `Err(())`: unsatisfiable.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        if start >= size {
            return Err(());
        }
        let end = if b.is_empty() {
            size - 1
        } else {
            let e: u64 = b.parse().map_err(|_| ())?;
            if e < start {
                return Ok(None);
            }
            e.min(size - 1)
        };
        (start, end)
    };
    Ok(Some(range))
}

pub(super) async fn get_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &StoreKey,
    head: bool,
) -> Result<HttpResponse, V5Error> {
    let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.clone());
    let found = http::blocking(move || i.storage.open_object(&b, &k)).await?;
    let Some((meta, file)) = found else {
        return Err(err(404, "NoSuchKey", "The specified key does not exist."));
    };
    let etag = quoted(&meta.etag);
    if let Some(inm) = http::header(req, "if-none-match")
        && inm.split(',').any(|t| t.trim() == etag || t.trim() == "*")
    {
        return Ok(HttpResponse::NotModified()
            .insert_header(("ETag", etag))
            .insert_header(("x-cos-request-id", ctx.rid.as_str()))
            .finish());
    }
    if let Some(im) = http::header(req, "if-match")
        && !im.split(',').any(|t| t.trim() == etag || t.trim() == "*")
    {
        return Err(err(
            412,
            "PreconditionFailed",
            "At least one of the preconditions you specified did not hold.",
        ));
    }
    let size = meta.size;
    let range = match http::header(req, "range").map(|r| parse_range(r, size)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(r))) => Some(r),
        Some(Err(())) => {
            let mut resp = ctx.respond(&err(
                416,
                "InvalidRange",
                "The requested range is not satisfiable.",
            ));
            if let Ok(v) =
                actix_web::http::header::HeaderValue::from_str(&format!("bytes */{size}"))
            {
                resp.headers_mut()
                    .insert(actix_web::http::header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    let (status, start, len) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        None => (StatusCode::OK, 0, size),
    };
    let mut builder = HttpResponse::build(status);
    let content_type = param(&ctx.params, "response-content-type")
        .map(str::to_owned)
        .unwrap_or_else(|| meta.content_type.clone());
    builder
        .insert_header(("Content-Type", content_type))
        .insert_header(("ETag", etag))
        .insert_header(("Last-Modified", http_date(meta.mtime)))
        .insert_header(("Accept-Ranges", "bytes"))
        // Stored content is served as data: no sniffing, and any HTML runs
        // sandboxed (the store may share an origin with the auth server).
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox"))
        .insert_header(("x-cos-request-id", ctx.rid.as_str()));
    for (name, value) in &meta.headers {
        builder.insert_header((name.as_str(), value.as_str()));
    }
    // Each `response-*` parameter replaces what the object was stored with.
    for (name, header) in [
        ("response-content-disposition", "Content-Disposition"),
        ("response-cache-control", "Cache-Control"),
        ("response-content-language", "Content-Language"),
        ("response-content-encoding", "Content-Encoding"),
        ("response-expires", "Expires"),
    ] {
        if let Some(v) = param(&ctx.params, name) {
            builder.insert_header((header, v.to_owned()));
        }
    }
    for (k, v) in &meta.user_meta {
        builder.insert_header((k.as_str(), v.as_str()));
    }
    if let Some((a, b)) = range {
        builder.insert_header(("Content-Range", format!("bytes {a}-{b}/{size}")));
    }
    if head {
        // A body-less stream with an explicit length: actix sends the header
        // and, for HEAD, no body.
        builder.no_chunking(len);
        return Ok(builder.streaming(futures_util::stream::empty::<
            Result<bytes::Bytes, std::io::Error>,
        >()));
    }
    let Some(file) = file else {
        return Ok(builder.body(Vec::<u8>::new()));
    };
    let mut file = tokio::fs::File::from_std(file);
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| V5Error::from(StoreError::io("seek")(e)))?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
    builder.no_chunking(len);
    Ok(builder.streaming(stream))
}

/// DELETE Object: removing a key that does not exist succeeds too.
pub(super) async fn delete_object(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    key: &StoreKey,
) -> Result<HttpResponse, V5Error> {
    let storage_inner = Arc::clone(inner);
    let (bucket, k) = (ctx.bucket.clone(), key.clone());
    http::blocking(move || storage_inner.storage.delete(&bucket, &k)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("x-cos-request-id", ctx.rid.as_str()))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-200", 100), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=0-0", 0), Err(()));
    }
}
