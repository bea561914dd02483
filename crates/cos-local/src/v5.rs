//! The v5 XML API.

use std::ops::Bound;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt as _;
use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::Store;
use crate::error::StoreError;
use crate::faults::InjectedError;
use crate::http::{self, BucketRoute, param};
use crate::inner::Inner;
use crate::storage::{Meta, Mode, NewMeta};
use crate::uploads::{self, UploadError};
use crate::xml::{Xml, http_date, iso8601};

/// A COS XML error.
#[derive(Debug)]
pub(crate) struct V5Error {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn err(status: u16, code: &'static str, message: impl Into<String>) -> V5Error {
    V5Error {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        message: message.into(),
    }
}

impl From<StoreError> for V5Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge { limit } => err(
                400,
                "EntityTooLarge",
                format!(
                    "Your proposed upload exceeds the maximum allowed object size ({limit} bytes)."
                ),
            ),
            StoreError::BodyAborted(m) => err(
                400,
                "IncompleteBody",
                format!("The request body was cut short: {m}"),
            ),
            StoreError::SameContent | StoreError::Exists => {
                err(409, "ObjectAlreadyExists", "The object already exists.")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                err(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            }
        }
    }
}

impl From<UploadError> for V5Error {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Store(s) => s.into(),
            UploadError::NoSuchUpload => err(
                404,
                "NoSuchUpload",
                "The specified multipart upload does not exist.",
            ),
            UploadError::InvalidPart(m) => err(400, "InvalidPart", m),
            UploadError::InvalidPartOrder => err(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order.",
            ),
            UploadError::TooSmall(m) => err(400, "EntityTooSmall", m),
            UploadError::BadRequest(m) => err(400, "InvalidArgument", m),
            UploadError::Incomplete | UploadError::ShaMismatch => {
                err(400, "InvalidArgument", e.to_string())
            }
        }
    }
}

/// What every handler knows about the request.
#[derive(Debug)]
struct Ctx {
    rid: String,
    /// Full bucket name, `<name>-<appid>`.
    bucket: String,
    /// Decoded request path, starting with `/`.
    path: String,
    params: Vec<(String, String)>,
}

impl Ctx {
    fn respond(&self, e: &V5Error) -> HttpResponse {
        if e.status.is_server_error() && e.code != "SlowDown" {
            tracing::warn!(request_id = %self.rid, code = e.code, "{}", e.message);
        }
        let mut x = Xml::new();
        x.open("Error")
            .elem("Code", e.code)
            .elem("Message", &e.message)
            .elem("Resource", format!("{}{}", self.bucket, self.path))
            .elem("RequestId", &self.rid)
            .elem("TraceId", &self.rid)
            .close("Error");
        HttpResponse::build(e.status)
            .content_type("application/xml")
            .insert_header(("x-cos-request-id", self.rid.as_str()))
            .body(x.finish())
    }

    fn xml(&self, status: StatusCode, body: String) -> HttpResponse {
        HttpResponse::build(status)
            .content_type("application/xml")
            .insert_header(("x-cos-request-id", self.rid.as_str()))
            .body(body)
    }

    fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(k, _)| k == name)
    }
}

/// Entry point for everything the v4 routes and the host app do not claim.
pub(crate) async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    store: web::Data<Store>,
) -> HttpResponse {
    crate::access_log::logged(req, |req| handle_inner(req, payload, store)).await
}

async fn handle_inner(
    req: HttpRequest,
    payload: web::Payload,
    store: web::Data<Store>,
) -> HttpResponse {
    let inner = Arc::clone(&store.inner);
    let rid = http::request_id();
    let host = http::host(&req);
    let bucket = match http::route_bucket(&host, &inner.config.appid, &inner.config.default_bucket)
    {
        BucketRoute::Bucket(b) => inner.bucket_full(&b),
        BucketRoute::Unknown(full) => {
            let ctx = Ctx {
                rid,
                bucket: full,
                path: "/".to_owned(),
                params: Vec::new(),
            };
            return ctx.respond(&err(
                404,
                "NoSuchBucket",
                "The specified bucket does not exist.",
            ));
        }
    };
    let raw_path = req.uri().path().to_owned();
    let path = match cos_sign::v5::decode_path(&raw_path) {
        Ok(p) => p,
        Err(_) => {
            let ctx = Ctx {
                rid,
                bucket,
                path: raw_path,
                params: Vec::new(),
            };
            return ctx.respond(&err(
                400,
                "InvalidURI",
                "The path is not UTF-8 once decoded.",
            ));
        }
    };
    let ctx = Ctx {
        rid,
        bucket,
        path,
        params: http::query_pairs(req.query_string()),
    };
    let method = req.method().as_str().to_ascii_uppercase();
    let write = matches!(method.as_str(), "PUT" | "POST" | "DELETE");
    let (inner, req, ctx, method) = (&inner, &req, &ctx, &method);
    let refuse = |injected| {
        ctx.respond(&match injected {
            InjectedError::Internal => err(
                500,
                "InternalError",
                "We encountered an internal error. Please try again. (injected)",
            ),
            InjectedError::SlowDown => err(
                503,
                "SlowDown",
                "Please reduce your request rate. (injected)",
            ),
        })
    };
    let serve = |payload| async move {
        let mut resp = match route(inner, req, ctx, method, payload).await {
            Ok(resp) => resp,
            Err(e) => ctx.respond(&e),
        };
        // HTTP/1 header names go out as `Content-Length`, `Etag`, `X-Cos-Request-Id`:
        // closer to COS than all-lower-case for clients that copy headers into a
        // case-sensitive dict (the Python SDK reads `Content-Length` that way).
        resp.head_mut().set_camel_case_headers(true);
        resp
    };
    inner
        .faults
        .inject(req, payload, write, refuse, serve)
        .await
}

async fn route(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    method: &str,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    if ctx.path == "/" {
        return match method {
            "GET" if ctx.has("uploads") => {
                authorize(inner, req, ctx, true)?;
                list_uploads(inner, ctx).await
            }
            "GET" if ctx.has("location") => {
                authorize(inner, req, ctx, true)?;
                let mut x = Xml::new();
                x.elem("LocationConstraint", "local");
                Ok(ctx.xml(StatusCode::OK, x.finish()))
            }
            "GET"
                if [
                    "acl",
                    "cors",
                    "tagging",
                    "policy",
                    "lifecycle",
                    "versioning",
                ]
                .iter()
                .any(|s| ctx.has(s)) =>
            {
                authorize(inner, req, ctx, true)?;
                Err(not_implemented())
            }
            "GET" => {
                authorize(inner, req, ctx, true)?;
                list_objects(inner, ctx)
            }
            "HEAD" => {
                authorize(inner, req, ctx, !inner.config.public_read)?;
                Ok(HttpResponse::Ok()
                    .insert_header(("x-cos-request-id", ctx.rid.as_str()))
                    .insert_header(("x-cos-bucket-region", "local"))
                    .finish())
            }
            "POST" => post_object(inner, req, ctx, payload).await,
            "PUT" => {
                authorize(inner, req, ctx, true)?;
                Err(err(
                    409,
                    "BucketAlreadyOwnedByYou",
                    "Every bucket of this APPID exists in the local store.",
                ))
            }
            "OPTIONS" => Err(not_implemented()),
            _ => {
                authorize(inner, req, ctx, true)?;
                Err(not_implemented())
            }
        };
    }
    let key = parse_key(&ctx.path)?;
    match method {
        "PUT" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            upload_part(inner, req, ctx, &key, payload).await
        }
        "PUT" => {
            authorize(inner, req, ctx, true)?;
            put_object(inner, req, ctx, &key, payload).await
        }
        "POST" if ctx.has("uploads") => {
            authorize(inner, req, ctx, true)?;
            initiate(inner, req, ctx, &key).await
        }
        "POST" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            complete(inner, req, ctx, &key, payload).await
        }
        "GET" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            list_parts(inner, ctx, &key).await
        }
        "DELETE" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            abort(inner, ctx, &key).await
        }
        "GET" | "HEAD" if ["acl", "tagging", "torrent"].iter().any(|s| ctx.has(s)) => {
            authorize(inner, req, ctx, true)?;
            Err(not_implemented())
        }
        "GET" => {
            authorize(inner, req, ctx, !inner.config.public_read)?;
            get_object(inner, req, ctx, &key, false).await
        }
        "HEAD" => {
            authorize(inner, req, ctx, !inner.config.public_read)?;
            get_object(inner, req, ctx, &key, true).await
        }
        "DELETE" => {
            authorize(inner, req, ctx, true)?;
            let storage_inner = Arc::clone(inner);
            let (bucket, k) = (ctx.bucket.clone(), key.clone());
            http::blocking(move || storage_inner.storage.delete(&bucket, &k)).await?;
            Ok(HttpResponse::NoContent()
                .insert_header(("x-cos-request-id", ctx.rid.as_str()))
                .finish())
        }
        _ => {
            authorize(inner, req, ctx, true)?;
            Err(err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ))
        }
    }
}

fn not_implemented() -> V5Error {
    err(
        501,
        "NotImplemented",
        "The local store does not implement this operation.",
    )
}

/// `/a/b.jpg` → `a/b.jpg`; `/a/b/` → the directory marker `a/b/`. Never normalised.
fn parse_key(path: &str) -> Result<String, V5Error> {
    let bad = |e: shared::KeyError| err(400, "InvalidArgument", format!("invalid object key: {e}"));
    if path.ends_with('/') {
        let dir = shared::DirPath::parse(path).map_err(bad)?;
        if dir.as_str() != path {
            return Err(err(400, "InvalidArgument", "invalid object key"));
        }
        return Ok(dir.key_prefix().to_owned());
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    shared::ObjectKey::parse(rest)
        .map(|k| k.as_str().to_owned())
        .map_err(bad)
}

/// Checks the request's signature (header or presigned query). `required`:
/// anonymous requests are refused; a request that carries a signature is
/// always checked.
fn authorize(inner: &Inner, req: &HttpRequest, ctx: &Ctx, required: bool) -> Result<(), V5Error> {
    let parsed = match http::header(req, "authorization").filter(|v| !v.trim().is_empty()) {
        Some(value) => Some(cos_sign::v5::ParsedAuthorization::from_header(value)),
        None => {
            let pairs: Vec<(&str, &str)> = ctx
                .params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            cos_sign::v5::ParsedAuthorization::from_query(&pairs).transpose()
        }
    };
    let auth = match parsed {
        None if required => {
            return Err(err(
                403,
                "AccessDenied",
                "Access Denied: the request is not signed and this operation needs a signature.",
            ));
        }
        None => return Ok(()),
        Some(Err(e)) => return Err(verify_error(&e)),
        Some(Ok(a)) => a,
    };
    let headers = http::header_pairs(req.headers());
    let params: Vec<(&str, &str)> = ctx
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    verify_with_host_fallback(
        inner,
        &auth,
        req.method().as_str(),
        &ctx.path,
        &params,
        &headers,
    )
}

/// Verifies against the request's headers. The SDKs sign `host` as the URL's
/// host name without the port (Python: `urlparse(url).hostname`) while the
/// `Host` header carries `host:port`; on a mismatch the check is repeated
/// once with the port removed from `host`, which names the same server.
fn verify_with_host_fallback(
    inner: &Inner,
    auth: &cos_sign::v5::ParsedAuthorization,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    headers: &[(String, String)],
) -> Result<(), V5Error> {
    let now = shared::clock::unix_now();
    let check = |headers: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = cos_sign::v5::Request {
            method,
            path,
            params,
            headers: &refs,
        };
        cos_sign::v5::verify(
            auth,
            &inner.config.credentials,
            &request,
            now,
            inner.config.max_skew_secs,
        )
    };
    match check(headers) {
        Err(cos_sign::VerifyError::SignatureMismatch)
            if auth.header_list.iter().any(|h| h == "host") =>
        {
            let stripped: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| {
                    if k.eq_ignore_ascii_case("host") {
                        (k.clone(), http::host_without_port(v).to_owned())
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect();
            if stripped == headers {
                return Err(verify_error(&cos_sign::VerifyError::SignatureMismatch));
            }
            check(&stripped).map_err(|e| verify_error(&e))
        }
        other => other.map_err(|e| verify_error(&e)),
    }
}

fn verify_error(e: &cos_sign::VerifyError) -> V5Error {
    use cos_sign::VerifyError as E;
    match e {
        E::Expired { .. } => err(403, "AccessDenied", format!("Request has expired: {e}")),
        E::NotYetValid { .. } => err(
            403,
            "RequestTimeTooSkewed",
            format!(
                "The difference between the request time and the server's time is too large: {e}"
            ),
        ),
        E::SignatureMismatch | E::SignedHeaderMissing(_) | E::SignedParamMissing(_) => err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "The request signature we calculated does not match the signature you provided: {e}"
            ),
        ),
        E::UnknownSecretId => err(
            403,
            "InvalidAccessKeyId",
            "The SecretId you provided does not exist in our records.",
        ),
        E::PolicyCondition(m) => err(
            403,
            "AccessDenied",
            format!("Invalid according to Policy: {m}"),
        ),
        other => err(403, "AccessDenied", format!("Access Denied: {other}")),
    }
}

fn user_meta(req: &HttpRequest) -> Vec<(String, String)> {
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
async fn receive(
    inner: &Inner,
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: u64,
) -> Result<crate::storage::Blob, V5Error> {
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

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

async fn put_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &str,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    if req.headers().contains_key("x-cos-copy-source") {
        return Err(not_implemented());
    }
    let blob = receive(inner, req, payload, inner.config.max_object_size).await?;
    let now = shared::clock::unix_now();
    let meta = if key.ends_with('/') {
        if blob.size != 0 {
            return Err(err(
                400,
                "InvalidArgument",
                "A key ending in '/' is a directory marker and must be empty.",
            ));
        }
        let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.to_owned());
        http::blocking(move || i.storage.put_dir(&b, &k, "", Mode::Overwrite, now)).await?
    } else {
        let new = NewMeta {
            content_type: http::content_type_for(key, http::header(req, "content-type")),
            biz_attr: String::new(),
            user_meta: user_meta(req),
            etag: None,
        };
        let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.to_owned());
        http::blocking(move || i.storage.commit(&b, &k, blob, new, Mode::Overwrite, now)).await?
    };
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

async fn get_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &str,
    head: bool,
) -> Result<HttpResponse, V5Error> {
    let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.to_owned());
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

fn list_objects(inner: &Inner, ctx: &Ctx) -> Result<HttpResponse, V5Error> {
    let prefix = param(&ctx.params, "prefix").unwrap_or("");
    let delimiter = param(&ctx.params, "delimiter").unwrap_or("");
    let marker = param(&ctx.params, "marker").unwrap_or("");
    let url_encode = param(&ctx.params, "encoding-type") == Some("url");
    let max_keys = match param(&ctx.params, "max-keys") {
        None | Some("") => 1000,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| {
                err(
                    400,
                    "InvalidArgument",
                    "max-keys must be a non-negative integer",
                )
            })?
            .min(1000),
    };
    let mut contents: Vec<Arc<Meta>> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    let mut last = String::new();
    let start = if marker.is_empty() || marker < prefix {
        Bound::Included(prefix)
    } else {
        Bound::Excluded(marker)
    };
    let skip_under_marker = !delimiter.is_empty()
        && marker.ends_with(delimiter)
        && marker.starts_with(prefix)
        && !marker.is_empty();
    inner.storage.scan(&ctx.bucket, start, |m| {
        if !m.key.starts_with(prefix) {
            return false;
        }
        if skip_under_marker && m.key.starts_with(marker) {
            return true;
        }
        let rest = &m.key[prefix.len()..];
        let entry = if !delimiter.is_empty()
            && let Some(i) = rest.find(delimiter)
        {
            let cp = format!("{prefix}{}", &rest[..i + delimiter.len()]);
            if prefixes.last() == Some(&cp) {
                return true;
            }
            Err(cp)
        } else {
            Ok(m)
        };
        if contents.len() + prefixes.len() >= max_keys {
            truncated = true;
            return false;
        }
        match entry {
            Ok(m) => {
                last = m.key.clone();
                contents.push(Arc::clone(m));
            }
            Err(cp) => {
                last = cp.clone();
                prefixes.push(cp);
            }
        }
        true
    });
    let enc = |s: &str| -> String {
        if url_encode {
            cos_sign::encode_component(s)
        } else {
            s.to_owned()
        }
    };
    let mut x = Xml::new();
    x.open("ListBucketResult")
        .elem("Name", &ctx.bucket)
        .elem("EncodingType", if url_encode { "url" } else { "" })
        .elem("Prefix", enc(prefix))
        .elem("Marker", enc(marker))
        .elem("MaxKeys", max_keys.to_string())
        .elem("Delimiter", enc(delimiter))
        .elem("IsTruncated", truncated.to_string());
    if truncated {
        x.elem("NextMarker", enc(&last));
    }
    for p in &prefixes {
        x.open("CommonPrefixes")
            .elem("Prefix", enc(p))
            .close("CommonPrefixes");
    }
    for m in &contents {
        x.open("Contents")
            .elem("Key", enc(&m.key))
            .elem("LastModified", iso8601(m.mtime))
            .elem("ETag", quoted(&m.etag))
            .elem("Size", m.size.to_string())
            .open("Owner")
            .elem("ID", &inner.config.appid)
            .elem("DisplayName", &inner.config.appid)
            .close("Owner")
            .elem("StorageClass", "STANDARD")
            .close("Contents");
    }
    x.close("ListBucketResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

async fn initiate(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &str,
) -> Result<HttpResponse, V5Error> {
    if key.ends_with('/') {
        return Err(err(
            400,
            "InvalidArgument",
            "A directory marker cannot be uploaded in parts.",
        ));
    }
    let content_type = http::content_type_for(key, http::header(req, "content-type"));
    let (i, b, k, meta) = (
        Arc::clone(inner),
        ctx.bucket.clone(),
        key.to_owned(),
        user_meta(req),
    );
    let now = shared::clock::unix_now();
    let upload =
        http::blocking(move || uploads::v5_create(&i.storage, &b, &k, &content_type, meta, now))
            .await?;
    let mut x = Xml::new();
    x.open("InitiateMultipartUploadResult")
        .elem("Bucket", &ctx.bucket)
        .elem("Key", key)
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

async fn upload_part(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &str,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    let number = part_number(ctx)?;
    let upload = load_upload(inner, ctx, key).await?;
    let limit = inner.config.max_part_size.min(inner.config.max_object_size);
    let blob = receive(inner, req, payload, limit).await?;
    let _guard = inner.upload_locks.lock(&upload.id).await;
    let i = Arc::clone(inner);
    let md5 = http::blocking(move || {
        uploads::v5_put_part(&i.storage, &upload, number, blob).map_err(|e| match e {
            UploadError::Store(s) => s,
            other => StoreError::BodyAborted(other.to_string()),
        })
    })
    .await
    .map_err(|e| match e {
        StoreError::BodyAborted(_) => V5Error::from(UploadError::NoSuchUpload),
        other => other.into(),
    })?;
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

async fn complete(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &str,
    mut payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
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
    let _guard = inner.upload_locks.lock(upload_id(ctx)).await;
    let upload = load_upload(inner, ctx, key).await?;
    let i = Arc::clone(inner);
    let now = shared::clock::unix_now();
    let (min, max) = (inner.config.min_part_size, inner.config.max_object_size);
    let meta = tokio::task::spawn_blocking(move || {
        uploads::v5_complete(&i.storage, &upload, &requested, min, max, now)
    })
    .await
    .map_err(|e| err(500, "InternalError", e.to_string()))??;
    let base = http::public_base(inner, req, inner.bucket_short(&ctx.bucket));
    let mut x = Xml::new();
    x.open("CompleteMultipartUploadResult")
        .elem("Location", http::object_url(&base, key))
        .elem("Bucket", &ctx.bucket)
        .elem("Key", key)
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
    key: &str,
) -> Result<uploads::V5Upload, V5Error> {
    let id = upload_id(ctx).to_owned();
    let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.to_owned());
    http::blocking(move || uploads::v5_load(&i.storage, &id, &b, &k).map_err(V5Error::from)).await
}

async fn abort(inner: &Arc<Inner>, ctx: &Ctx, key: &str) -> Result<HttpResponse, V5Error> {
    let _guard = inner.upload_locks.lock(upload_id(ctx)).await;
    let upload = load_upload(inner, ctx, key).await?;
    let i = Arc::clone(inner);
    http::blocking(move || uploads::v5_abort(&i.storage, &upload)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("x-cos-request-id", ctx.rid.as_str()))
        .finish())
}

async fn list_parts(inner: &Arc<Inner>, ctx: &Ctx, key: &str) -> Result<HttpResponse, V5Error> {
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
        .elem("Key", key)
        .elem("UploadId", &upload.id)
        .open("Initiator")
        .elem("ID", &inner.config.appid)
        .elem("DisplayName", &inner.config.appid)
        .close("Initiator")
        .open("Owner")
        .elem("ID", &inner.config.appid)
        .elem("DisplayName", &inner.config.appid)
        .close("Owner")
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

async fn list_uploads(inner: &Arc<Inner>, ctx: &Ctx) -> Result<HttpResponse, V5Error> {
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
    for u in all.iter().filter(|u| u.key.starts_with(prefix)) {
        x.open("Upload")
            .elem("Key", &u.key)
            .elem("UploadId", &u.id)
            .elem("StorageClass", "STANDARD")
            .open("Initiator")
            .elem("ID", &inner.config.appid)
            .elem("DisplayName", &inner.config.appid)
            .close("Initiator")
            .open("Owner")
            .elem("ID", &inner.config.appid)
            .elem("DisplayName", &inner.config.appid)
            .close("Owner")
            .elem("Initiated", iso8601(u.initiated))
            .close("Upload");
    }
    x.close("ListMultipartUploadsResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}

/// POST Object: an HTML-form upload authorised by a signed policy (or a
/// `Signature` field, or an `Authorization` header).
async fn post_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut total = 0usize;
    let get = |fields: &[(String, String)], name: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| {
            err(
                400,
                "MalformedPOSTRequest",
                format!(
                    "The body of your POST request is not well-formed multipart/form-data: {e}"
                ),
            )
        })?;
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        if name != "file" {
            let value = http::read_small(&mut field, 64 * 1024).await.map_err(|_| {
                err(
                    400,
                    "MalformedPOSTRequest",
                    format!("form field {name:?} is too large"),
                )
            })?;
            total += value.len();
            if total > 1024 * 1024 {
                return Err(err(
                    400,
                    "MalformedPOSTRequest",
                    "the form fields are too large",
                ));
            }
            fields.push((name, String::from_utf8_lossy(&value).into_owned()));
            continue;
        }
        // The file: every field that matters came before it (COS ignores later ones).
        let raw_key = get(&fields, "key")
            .ok_or_else(|| err(400, "InvalidArgument", "the form has no key field"))?;
        let now = shared::clock::unix_now();
        let accepted = if get(&fields, "policy").is_some() {
            let lookup = |n: &str| get(&fields, n);
            Some(
                cos_sign::policy::verify(
                    &inner.config.credentials,
                    &lookup,
                    &ctx.bucket,
                    now,
                    inner.config.max_skew_secs,
                )
                .map_err(|e| verify_error(&e))?,
            )
        } else if let Some(sig) = get(&fields, "Signature") {
            verify_form_signature(inner, req, &sig)?;
            None
        } else {
            authorize(inner, req, ctx, true)?;
            None
        };
        let fname = filename.unwrap_or_default();
        let key_text = raw_key.replace("${filename}", &fname);
        let key = shared::ObjectKey::parse(&key_text)
            .map_err(|e| err(400, "InvalidArgument", format!("invalid object key: {e}")))?;
        let content_type = http::content_type_for(
            key.as_str(),
            get(&fields, "Content-Type")
                .filter(|v| !v.is_empty())
                .or_else(|| field.content_type().map(ToString::to_string))
                .as_deref(),
        );
        let mut writer = inner.storage.writer(inner.config.max_object_size).await?;
        http::stream_into(&mut writer, &mut field).await?;
        let blob = http::finish(writer).await?;
        if let Some(a) = &accepted {
            a.check_size(blob.size).map_err(|e| {
                let too_small = a
                    .content_length_range
                    .is_some_and(|(min, _)| blob.size < min);
                if too_small {
                    err(
                        400,
                        "EntityTooSmall",
                        format!("Your proposed upload is smaller than the policy allows: {e}"),
                    )
                } else {
                    err(
                        400,
                        "EntityTooLarge",
                        format!("Your proposed upload exceeds the policy's maximum: {e}"),
                    )
                }
            })?;
        }
        if let Some(md5) = get(&fields, "Content-MD5") {
            let expected = STANDARD.decode(md5.trim()).map_err(|_| {
                err(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified is not valid base64.",
                )
            })?;
            if expected != blob.md5 {
                return Err(err(
                    400,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        let meta_fields: Vec<(String, String)> = fields
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-cos-meta-"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let new = NewMeta {
            content_type,
            biz_attr: String::new(),
            user_meta: meta_fields,
            etag: None,
        };
        let (i, b, k) = (
            Arc::clone(inner),
            ctx.bucket.clone(),
            key.as_str().to_owned(),
        );
        let meta =
            http::blocking(move || i.storage.commit(&b, &k, blob, new, Mode::Overwrite, now))
                .await?;
        // Drain whatever follows the file (COS ignores it). The file field must
        // be dropped first: the form does not advance while it is alive.
        drop(field);
        while let Some(rest) = form.next().await {
            if let Ok(mut f) = rest {
                while f.next().await.is_some() {}
            }
        }
        let base = http::public_base(inner, req, inner.bucket_short(&ctx.bucket));
        let location = http::object_url(&base, key.as_str());
        let etag = quoted(&meta.etag);
        if let Some(redirect) = get(&fields, "success_action_redirect").filter(|r| !r.is_empty()) {
            let sep = if redirect.contains('?') { '&' } else { '?' };
            let target = format!(
                "{redirect}{sep}bucket={}&key={}&etag={}",
                cos_sign::encode_component(&ctx.bucket),
                cos_sign::encode_component(key.as_str()),
                cos_sign::encode_component(&etag)
            );
            return Ok(HttpResponse::SeeOther()
                .insert_header(("Location", target))
                .insert_header(("ETag", etag))
                .insert_header(("x-cos-request-id", ctx.rid.as_str()))
                .finish());
        }
        let status = match get(&fields, "success_action_status").as_deref() {
            Some("200") => StatusCode::OK,
            Some("201") => StatusCode::CREATED,
            _ => StatusCode::NO_CONTENT,
        };
        let mut builder = HttpResponse::build(status);
        builder
            .insert_header(("ETag", etag.clone()))
            .insert_header(("Location", location.clone()))
            .insert_header(("x-cos-request-id", ctx.rid.as_str()));
        if status == StatusCode::CREATED {
            let mut x = Xml::new();
            x.open("PostResponse")
                .elem("Location", &location)
                .elem("Bucket", &ctx.bucket)
                .elem("Key", key.as_str())
                .elem("ETag", &etag)
                .close("PostResponse");
            return Ok(builder.content_type("application/xml").body(x.finish()));
        }
        return Ok(builder.finish());
    }
    Err(err(400, "InvalidArgument", "the form has no file field"))
}

/// The `Signature` form field: a whole v5 Authorization computed for `POST /`.
fn verify_form_signature(inner: &Inner, req: &HttpRequest, sig: &str) -> Result<(), V5Error> {
    let auth = cos_sign::v5::ParsedAuthorization::from_header(sig).map_err(|e| verify_error(&e))?;
    let headers = http::header_pairs(req.headers());
    verify_with_host_fallback(inner, &auth, "post", "/", &[], &headers)
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

    /// A v5 request against a store running on 127.0.0.1:0.
    struct Running {
        store: crate::Store,
        host: String,
        creds: cos_sign::Credentials,
        client: reqwest::Client,
        handle: actix_web::dev::ServerHandle,
        _dir: tempfile::TempDir,
    }

    impl Running {
        async fn start() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let creds = cos_sign::Credentials::new("AKIDunit", "unit-test-secret-key");
            let mut config =
                crate::StoreConfig::new(dir.path(), "1250000000", "metis", vec![creds.clone()]);
            config.min_part_size = 1;
            let store = crate::Store::open(config).unwrap();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let host = listener.local_addr().unwrap().to_string();
            let server = crate::serve(listener, store.clone()).unwrap();
            let handle = server.handle();
            tokio::spawn(server);
            Self {
                store,
                host,
                creds,
                client: reqwest::Client::new(),
                handle,
                _dir: dir,
            }
        }

        async fn send(
            &self,
            method: &str,
            key: &str,
            params: &[(&str, &str)],
            body: Vec<u8>,
        ) -> (u16, String) {
            let now = shared::clock::unix_now();
            let headers = [("host", self.host.as_str())];
            let request = cos_sign::v5::Request {
                method,
                path: &format!("/{key}"),
                params,
                headers: &headers,
            };
            let auth = cos_sign::v5::sign(
                &self.creds,
                &request,
                cos_sign::v5::KeyTime::new(now - 10, now + 600).unwrap(),
            )
            .to_authorization();
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = self
                .client
                .request(method, format!("http://{}/{key}", self.host))
                .query(params)
                .header("Authorization", auth)
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }

        async fn initiate(&self, key: &str) -> String {
            let (status, text) = self.send("post", key, &[("uploads", "")], Vec::new()).await;
            assert_eq!(status, 200, "{text}");
            let start = text.find("<UploadId>").unwrap() + "<UploadId>".len();
            let end = text.find("</UploadId>").unwrap();
            text[start..end].to_owned()
        }
    }

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
            let held = run.store.inner.upload_locks.lock(&a).await;
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
            run.store.inner.upload_locks.len(),
            0,
            "no lock outlives its upload"
        );
        run.handle.stop(true).await;
    }

    #[test]
    fn keys_are_validated_not_normalised() {
        assert_eq!(parse_key("/a/b.jpg").unwrap(), "a/b.jpg");
        assert_eq!(parse_key("/a/b/").unwrap(), "a/b/");
        assert!(parse_key("/a//b").is_err());
        assert!(parse_key("/a/../b").is_err());
        assert!(parse_key("//").is_err());
    }
}
