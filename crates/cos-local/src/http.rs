//! Request plumbing shared by the v4 and v5 front ends: bucket routing, query
//! parsing, body streaming, URLs.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest as _, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt as _;
use shared::ObjectKey;

use crate::error::StoreError;
use crate::inner::Inner;
use crate::storage::{Blob, BlobWriter, TempBody};

/// A new request id (also returned as `x-cos-request-id` / `request_id`).
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The `Host` the client used (header, else the URI authority).
pub(crate) fn host(req: &HttpRequest) -> String {
    req.headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Which bucket a v5 request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BucketRoute {
    /// A bucket of this store: short name.
    Bucket(String),
    /// A virtual host naming a bucket this store does not hold.
    Unknown(String),
}

/// Bucket names: lower-case letters, digits and `-`, not starting or ending with `-`.
pub(crate) fn valid_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 50
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// `<name>-<appid>.<anything>` names bucket `<name>` when `<appid>` is ours; a
/// label of that shape with another long number is an unknown bucket; any other
/// host (an IP, `localhost`, a custom domain) is the default bucket.
pub(crate) fn route_bucket(host: &str, appid: &str, default_bucket: &str) -> BucketRoute {
    let name = host_without_port(host);
    if let Some((label, rest)) = name.split_once('.')
        && !rest.is_empty()
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && let Some((bucket, digits)) = label.rsplit_once('-')
        && !digits.is_empty()
        && digits.bytes().all(|c| c.is_ascii_digit())
    {
        if digits == appid && valid_bucket_name(bucket) {
            return BucketRoute::Bucket(bucket.to_owned());
        }
        if digits.len() >= 8 {
            return BucketRoute::Unknown(label.to_owned());
        }
    }
    BucketRoute::Bucket(default_bucket.to_owned())
}

pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Decoded query pairs (form encoding: `+` is a space), in order.
pub(crate) fn query_pairs(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let replaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Looks a query parameter up (case-sensitive, as COS).
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Request headers as `(name, value)` strings (values that are not UTF-8 are skipped).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect()
}

pub(crate) fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The declared `Content-Length`, if any.
pub(crate) fn content_length(req: &HttpRequest) -> Option<u64> {
    header(req, "content-length").and_then(|v| v.trim().parse().ok())
}

/// The content type an upload is stored with: the one the client gave, or,
/// when it gave none, an empty one or `application/octet-stream` (what SDKs
/// send when they do not know, such as the wx SDK's empty `Content-Type` form
/// field and its Initiate Multipart Upload), the type guessed from the key's
/// extension for common media and text types. HTML and scripts are never
/// guessed. Temporary credentials' `cos:content-type` condition is evaluated
/// against this same value.
pub(crate) fn content_type_for(key: &ObjectKey, given: Option<&str>) -> String {
    if let Some(t) = given.map(str::trim).filter(|t| !t.is_empty())
        && !t.eq_ignore_ascii_case("application/octet-stream")
    {
        return t.to_owned();
    }
    let ext = key
        .file_name()
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let guessed = match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "heic" => "image/heic",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "txt" => "text/plain",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    };
    guessed.to_owned()
}

/// The standard headers an upload may set (PUT and Initiate headers, POST
/// Object form fields) and GET/HEAD return, by their canonical names. A
/// `response-*` query parameter of the GET overrides the stored value.
pub(crate) const STORED_HEADERS: [&str; 4] = [
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Expires",
];

/// The [`STORED_HEADERS`] that `get` (a case-insensitive lookup of headers
/// or form fields) has with a non-empty value, trimmed: an empty value (the
/// wx SDK sends `Cache-Control:` empty) sets nothing.
pub(crate) fn stored_headers(get: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    STORED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = get(name)?.trim().to_owned();
            (!value.is_empty()).then(|| ((*name).to_owned(), value))
        })
        .collect()
}

/// Base URL objects of `bucket` are served from (no trailing `/`).
pub(crate) fn public_base(inner: &Inner, req: &HttpRequest, bucket: &str) -> String {
    if let Some(base) = &inner.config.public_url {
        let base = base.trim_end_matches('/');
        if bucket == inner.config.default_bucket {
            return base.to_owned();
        }
        return match base.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{bucket}-{}.{rest}", inner.config.appid),
            None => format!("{bucket}-{}.{base}", inner.config.appid),
        };
    }
    let host = host(req);
    let scheme = req.connection_info().scheme().to_owned();
    let routed = route_bucket(&host, &inner.config.appid, &inner.config.default_bucket);
    if routed == BucketRoute::Bucket(bucket.to_owned()) {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{bucket}-{}.{host}", inner.config.appid)
    }
}

/// `<base>/<key, percent-encoded per segment>`.
pub(crate) fn object_url(base: &str, key: &str) -> String {
    format!("{base}/{}", cos_sign::encode_path(key))
}

/// Streams any byte stream into `writer`. A stream error (the client went away)
/// aborts; the writer's temp file is removed when it is dropped.
pub(crate) async fn stream_into<W, S, E>(writer: &mut W, stream: &mut S) -> Result<(), StoreError>
where
    W: BodySink,
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| StoreError::BodyAborted(e.to_string()))?;
        writer.write(&chunk).await?;
    }
    Ok(())
}

/// Where [`stream_into`] writes a body: a hashing [`BlobWriter`] or a plain
/// [`TempBody`] (a staging copy).
pub(crate) trait BodySink {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError>;
}

impl BodySink for BlobWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        BlobWriter::write(self, chunk).await
    }
}

impl BodySink for TempBody {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        TempBody::write(self, chunk).await
    }
}

/// A request body as both the handler and its answer hold it (see [`shared_body`]).
pub(crate) struct UnreadBody {
    _held: Rc<RefCell<actix_web::dev::Payload>>,
}

impl UnreadBody {
    /// Keeps what is left of the body with `resp` until it has been sent.
    /// actix decides when it sends the answer: a body the handler neither
    /// read to its end nor dropped makes it close the connection after the
    /// answer (after a short linger), where a dropped chunked body would be
    /// read to its end and thrown away to keep the connection open.
    pub(crate) fn keep_until_sent(self, resp: &mut HttpResponse) {
        resp.extensions_mut().insert(self);
    }
}

/// Reads through the shared body.
struct SharedBody(Rc<RefCell<actix_web::dev::Payload>>);

impl futures_util::Stream for SharedBody {
    type Item = Result<Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.borrow_mut().poll_next_unpin(cx)
    }
}

/// The request body for a handler to read, and a handle on it that an
/// answer can keep ([`UnreadBody::keep_until_sent`]): a refused upload then
/// closes its connection instead of being read to its end.
pub(crate) async fn shared_body(
    req: &HttpRequest,
    payload: web::Payload,
) -> (web::Payload, UnreadBody) {
    let shared = Rc::new(RefCell::new(payload.into_inner()));
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> =
        Box::pin(SharedBody(Rc::clone(&shared)));
    let mut body = actix_web::dev::Payload::from(stream);
    let payload = match web::Payload::from_request(req, &mut body).await {
        Ok(payload) => payload,
        Err(_) => unreachable!("taking a request's payload cannot fail"),
    };
    (payload, UnreadBody { _held: shared })
}

/// Reads a small body completely, refusing more than `limit` bytes.
pub(crate) async fn read_small<S, E>(stream: &mut S, limit: usize) -> Result<Vec<u8>, StoreError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| StoreError::BodyAborted(e.to_string()))?;
        if out.len() + chunk.len() > limit {
            return Err(StoreError::TooLarge {
                limit: limit as u64,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Runs blocking storage work off the async threads.
pub(crate) async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Io {
            what: "blocking task".to_owned(),
            source: std::io::Error::other(e.to_string()),
        }
        .into()),
    }
}

/// Finishes a writer into a blob (flush + fsync).
pub(crate) async fn finish(writer: BlobWriter) -> Result<Blob, StoreError> {
    writer.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_buckets_by_host() {
        let r = |h| route_bucket(h, "1250000000", "metis");
        assert_eq!(r("127.0.0.1:8080"), BucketRoute::Bucket("metis".into()));
        assert_eq!(r("localhost:1"), BucketRoute::Bucket("metis".into()));
        assert_eq!(r("[::1]:1"), BucketRoute::Bucket("metis".into()));
        assert_eq!(
            r("photos-1250000000.cos.ap-shanghai.myqcloud.com"),
            BucketRoute::Bucket("photos".into())
        );
        assert_eq!(
            r("photos-1250000000.127.0.0.1:9000"),
            BucketRoute::Bucket("photos".into())
        );
        assert_eq!(
            r("photos-1300000000.cos.ap-shanghai.myqcloud.com"),
            BucketRoute::Unknown("photos-1300000000".into())
        );
        assert_eq!(r("cos-1.internal:80"), BucketRoute::Bucket("metis".into()));
    }

    #[test]
    fn guesses_media_types_but_never_html() {
        let content_type_for =
            |key: &str, given| content_type_for(&ObjectKey::parse(key).unwrap(), given);
        assert_eq!(content_type_for("a/b.JPG", None), "image/jpeg");
        assert_eq!(
            content_type_for("a/b.png", Some("application/octet-stream")),
            "image/png"
        );
        assert_eq!(
            content_type_for("a/b.png", Some("image/webp")),
            "image/webp"
        );
        assert_eq!(
            content_type_for("a/b.html", None),
            "application/octet-stream"
        );
        assert_eq!(
            content_type_for("a/noext", None),
            "application/octet-stream"
        );
        assert_eq!(
            content_type_for("a.d/noext", None),
            "application/octet-stream"
        );
    }

    #[test]
    fn decodes_query_like_a_form() {
        let q = query_pairs("prefix=a+b%2Fc&uploads&max-keys=2");
        assert_eq!(
            q,
            vec![
                ("prefix".into(), "a b/c".into()),
                ("uploads".into(), String::new()),
                ("max-keys".into(), "2".into())
            ]
        );
    }
}
