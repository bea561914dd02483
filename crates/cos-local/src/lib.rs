//! A local COS-compatible object store: the embedded default of this workspace,
//! for running and testing the whole upload flow without cloud credentials (as
//! MinIO or Garage are for S3).
//!
//! It speaks both wire protocols of Tencent COS and verifies every signed
//! request with [`cos_sign`]:
//!
//! * **v4 JSON API** under `/files/v2/<appid>/<bucket>/<path>`: `op=upload`
//!   (multipart with `filecontent` or `fileContent`, optional `sha`, `biz_attr`,
//!   `insertOnly`), slice upload (`upload_slice_init`, `upload_slice_data`,
//!   `upload_slice_finish`, `upload_slice_list`), `stat`, `list`, `create`,
//!   `delete`. Replies are [`shared::v4::Reply`] JSON with the COS codes in
//!   [`shared::v4::codes`]. The signature comes from the `Authorization`
//!   header or the `sign` query parameter. Uploads, slices, `stat`, `list` and
//!   `create` need a multi-effect signature; `delete` and `update` need a
//!   single-effect one, which is good for exactly one request (a reuse answers
//!   `-95`). Refusals: expired `-96`, another bucket `-61`, anything else
//!   `-97`, all with HTTP 403. `insertOnly=1` (the default, as in the SDKs)
//!   answers `-4018` (with the existing object's URLs) for the same content and
//!   `-177` for different content; `insertOnly=0` overwrites.
//! * **v5 XML API**: PUT Object (`Content-MD5` checked, `ETag` = MD5), POST
//!   Object (form upload with a signed policy or a `Signature` field,
//!   `${filename}`, `success_action_status` 200/201/204,
//!   `success_action_redirect`), GET (with `Range`) and HEAD Object, DELETE
//!   Object, GET Bucket (prefix, delimiter, marker, max-keys, `encoding-type=url`),
//!   HEAD Bucket, and multipart upload (initiate, upload part, complete, abort,
//!   list parts, list uploads). Errors are COS `<Error>` documents. The
//!   signature comes from the `Authorization` header or presigned `q-*` query
//!   parameters. `x-cos-forbid-overwrite: true` on PUT, POST Object (header or
//!   form field), Initiate or Complete Multipart Upload refuses an existing
//!   key, even with the same content, with 409 `FileAlreadyExists` and writes
//!   nothing; given at Initiate, it is refused there at once and remembered
//!   for the complete, and a refused complete keeps the upload (complete it
//!   without the header, or abort it).
//!
//! # Sub-resources
//! COS turns a request into another operation with a sub-resource query
//! parameter (`PUT /<key>?acl` sets an ACL, `DELETE /<key>?tagging` removes
//! tags). [`shared::subresource`] lists every one COS defines and which the
//! store implements: multipart upload (`?uploads`, `?uploadId`,
//! `?partNumber`), `GET /?uploads` and `GET /?location`. Every other one,
//! with any method, on an object or the bucket, in any case, is answered
//! `501 NotImplemented` naming it, after the signature check and before the
//! body is read: nothing is read, written or deleted. Query parameters that
//! are no sub-resource (a cache buster such as `t=123`, `response-*`,
//! presigned `q-*`, `x-cos-security-token`, image-processing parameters) do
//! not change the operation.
//!
//! # POST policies
//! As in S3's rules, a policy must name every form field in a condition except
//! the signature fields (`q-sign-algorithm`, `q-ak`, `q-key-time`,
//! `q-signature`, `Signature`), `file`, `policy` and `x-cos-security-token`:
//! `key`, `Content-Type`, `success_action_status`, `success_action_redirect`,
//! `x-cos-meta-*`, `x-cos-acl`, `x-cos-forbid-overwrite` included. A field no
//! condition names is refused with 403 `AccessDenied` naming it, before
//! anything is stored. (`["starts-with", "$<field>", ""]` allows any value.)
//!
//! # Temporary credentials
//! With a token key ([`StoreConfig::sts_token_key`], shared with whoever mints
//! the credentials: the auth server in embedded mode), the store accepts
//! Tencent STS-style temporary credentials, as COS does: the client signs
//! with the TmpSecretId and TmpSecretKey and presents the SecurityToken (the
//! embedded `cul1.` format of [`cos_sign::sts`]: claims and CAM policy under
//! a MAC, so the store needs no shared state).
//!
//! **Where the token travels.** The `x-cos-security-token` header; for
//! presigned URLs the `x-cos-security-token` query parameter, appended
//! unsigned (the JS SDKs' `getObjectUrl`) or signed (the Python SDK's
//! `Params`); for POST Object the form field of that name (the wx SDK sends
//! the field and the header). Two different tokens on one request are
//! refused.
//!
//! **How a token is checked**, in this order, before anything else:
//! 1. the store has a token key, else 403 `AccessDenied` ("this store does not
//!    accept temporary credentials");
//! 2. the token opens under it (format, version, MAC checked in constant
//!    time), else 400 `InvalidToken` (S3's code: Tencent's list has none for a
//!    token that is not valid);
//! 3. now is within StartTime..=ExpiredTime, widened by `max_skew_secs`, else
//!    400 `ExpiredToken` (COS's code);
//! 4. the signature's `q-ak` is the token's TmpSecretId, else 403
//!    `InvalidAccessKeyId`: a permanent key's signature presenting a token is
//!    refused, and a TmpSecretId without its token is an unknown SecretId;
//! 5. the signature verifies with the TmpSecretKey derived from the
//!    TmpSecretId, exactly as a permanent key's: the `Authorization` header,
//!    presigned `q-*` parameters, POST Object's `Signature` field, or a POST
//!    policy form (whose rules below still apply);
//! 6. the policy the token carries parses (else 403 `AccessDenied`) and is
//!    evaluated for the request.
//!
//! A token presented without a signature is refused (403 `AccessDenied`).
//! Tokens are never logged or echoed.
//!
//! **What is evaluated.** Every v5 request made with temporary credentials is
//! its CAM action on a resource `qcs::cos:<region>:uid/<appid>:<bucket>/<key>`
//! ([`StoreConfig::region`]): PUT Object `PutObject`, POST Object
//! `PostObject`, GET/HEAD Object `GetObject`/`HeadObject`, DELETE Object
//! `DeleteObject`, GET Bucket `GetBucket` and GET `?uploads`
//! `ListMultipartUploads` (resource `<bucket>/<prefix>`, `cos:prefix` the
//! `prefix` parameter), HEAD Bucket `HeadBucket`, and multipart
//! `InitiateMultipartUpload`, `UploadPart`, `CompleteMultipartUpload`,
//! `ListParts`, `AbortMultipartUpload`. A public-read GET or HEAD that
//! presents a token is evaluated too: the token was presented, so it is
//! checked, as a presented signature is. Directory markers (keys ending in
//! `/`), PUT Bucket and GET `?location` are refused to temporary credentials.
//! The condition values are:
//! * `cos:content-length`: PUT Object's and Upload Part's `Content-Length`
//!   (a body without one, chunked, is refused 411 `MissingContentLength`);
//!   POST Object's file size; Complete Multipart Upload's assembled size.
//! * `cos:content-type`: the type the object is stored with: the declared
//!   one (PUT header, POST field, Initiate header), or, when that is absent,
//!   empty or `application/octet-stream`, the type guessed from the key (see
//!   *Compatibility notes*); Complete is judged with the type given at
//!   Initiate.
//! * `cos:prefix`: the listing's `prefix` parameter, decoded (a policy writes
//!   it URL-encoded, as COS reads it).
//!
//! Evaluation follows CAM ([`shared::cam`]): default deny, an explicit deny
//! wins, and a condition key or operator the store does not know fails
//! closed. A refusal is 403 `AccessDenied` naming the action, the key (or
//! prefix) and the condition values, and comes before any byte of the body
//! is read (PUT, Upload Part, POST Object's file) and before anything is
//! written; Complete is judged once the parts are chosen and, refused, keeps
//! the upload. POST Object's file is cut off as soon as it grows past the
//! largest size the policy allows: its temp file is removed, nothing is
//! stored, and the connection is closed after the answer rather than read to
//! its end.
//!
//! **Forms.** A POST policy form signed with the TmpSecretKey is held to its
//! POST policy (every field covered, see below) and to the CAM policy. A form
//! without a POST policy (the wx SDK's `Signature` field, a header-style
//! Authorization over `post /` with only `host` signed) is bound by the CAM
//! policy alone, so it may carry only the fields the store honours and that
//! policy binds or that change nothing but the reply and the object's own
//! headers: `key`, `Signature`, `x-cos-security-token`,
//! `success_action_status`, `success_action_redirect`, `Content-Type`,
//! `Content-MD5`, `Cache-Control`, `Content-Disposition`, `Content-Encoding`,
//! `Expires`, `x-cos-forbid-overwrite` and `x-cos-meta-*`. Any other field
//! (`acl`, `x-cos-acl`, `x-cos-grant-*`, `x-cos-storage-class`, …) asks for
//! something the store does not implement and the policy cannot allow, and
//! is refused (403 `AccessDenied` naming it) rather than ignored.
//!
//! The v4 JSON API has no temporary credentials: a v4 signature made with a
//! TmpSecretId is an unknown SecretId.
//!
//! # Buckets
//! Buckets are `<name>-<appid>`. A virtual host `<name>-<appid>.<anything>`
//! names the bucket; any other host (`127.0.0.1:port`, `localhost`, a custom
//! domain) addresses the configured default bucket, so SDKs configured with a
//! custom domain work. Every bucket of the store's APPID exists implicitly; any
//! configured credential may act on any of them. A virtual host naming another
//! APPID answers `NoSuchBucket`.
//!
//! # Access
//! All writes, deletes and listings need a valid signature; nothing is written
//! before the signature is checked. Objects are **public-read** by default
//! ([`StoreConfig::public_read`]), like a typical image bucket, so the
//! `source_url` returned by a v4 upload (`<public base>/<key>`) can be shown by
//! the app without a signature. With `public_read = false`, GET and HEAD need a
//! signature too. A request that carries a signature or a security token
//! always has it checked, even where none is required. A refused request
//! whose body was not read to its end has its connection closed after the
//! answer (after actix's short linger), rather than the rest of a chunked
//! body being read and thrown away.
//!
//! # Storage
//! Bodies are streamed to a temp file while MD5 and SHA-1 are computed (v4
//! slices are staged unhashed; the finished slice file is hashed whole); they
//! are never held in memory. A write becomes visible at one atomic rename of its
//! metadata sidecar, made only once the body is durable in place (`fsync` of
//! the body, its rename into `blobs/`, `fsync` of `blobs/`, then the sidecar's
//! own `fsync`, rename and directory `fsync`), so a crash or a dropped
//! connection never leaves a partial object visible or listed; stale temp
//! files and orphaned bodies are removed at open. With `fsync` off, a machine
//! crash can leave a sidecar whose body is missing or short: open logs a
//! warning and removes it. Keys are never used as file names (sidecars are
//! named by the SHA-1 of the key). Concurrent writers
//! of one key: the last commit wins, whole; of concurrent writers with
//! `x-cos-forbid-overwrite: true` (or v4 `insertOnly=1`) of a new key exactly
//! one is stored. v4 slice sessions and v5 multipart uploads live on disk and
//! survive a restart.
//!
//! A full disk (`ENOSPC`, or `EDQUOT` for a quota) on any write (a body, a
//! sidecar, an upload session, the used-signature log) is answered **507**
//! with a message saying the store is full and that retrying will not help
//! until space is freed: v5 code `InsufficientStorage` (COS has no code for
//! this; its storage does not fill up, so the store uses the HTTP status's
//! name) and v4 code [`shared::v4::codes::STORE_FULL`] (`-5998`,
//! `ERROR_CMD_STORE_FULL`, this workspace's own). Nothing partial is kept: the
//! temp file is removed and no sidecar or session is written.
//!
//! # Abandoned uploads
//! A v5 multipart upload or v4 slice session that goes
//! [`StoreConfig::upload_ttl`] (24 hours by default, as COS's lifecycle rule
//! for incomplete multipart uploads is usually set) without a part or slice
//! is removed with its data. The store sweeps when it is opened and then
//! every quarter of the TTL (at most hourly) from a task on the tokio runtime
//! it was opened in, which ends when the store is dropped. Each upload is
//! looked at again under its lock, so one being written, completed or resumed
//! stays. Its upload id then answers `NoSuchUpload`, its v4 session
//! `ERROR_CMD_SESSION_NOTEXIST`. [`Store::sweep_stats`] counts the uploads
//! removed, by kind, and the bytes freed.
//!
//! # Compatibility notes
//! * Tencent's `cos-python-sdk-v5` and `coscmd` work against the store (see
//!   `tests/interop/python/`): point the SDK at the store with
//!   `CosConfig(Domain="127.0.0.1:<port>", Scheme="http")` (default bucket), or
//!   keep `Endpoint=...` and route through the store as an HTTP proxy
//!   (`Proxies=`/`HTTP_PROXY`) so the Host header names the bucket.
//! * The SDKs sign `host` without the port (`urlparse(url).hostname`) while the
//!   `Host` header carries `host:port`; when a signature over `host` does not
//!   match, it is checked once more with the port removed.
//! * v5 response header names are sent Camel-Case (`Content-Length`, `Etag`,
//!   `X-Cos-Request-Id`): clients that copy headers into a case-sensitive map
//!   (the Python SDK does) find `Content-Length`; COS itself spells `ETag`,
//!   which actix cannot produce, so look it up case-insensitively.
//! * When an upload (v4, v5 PUT, POST Object, Initiate Multipart Upload) names
//!   no content type, an empty one or `application/octet-stream` (what the wx
//!   SDK sends: an empty `Content-Type` form field, `application/octet-stream`
//!   on Initiate), the object is stored with a media type guessed from the
//!   key's extension (images, video, audio, text, JSON, PDF; never HTML),
//!   `application/octet-stream` when none fits. Served objects carry
//!   `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`.
//! * `Cache-Control`, `Content-Disposition`, `Content-Encoding` and `Expires`
//!   given to PUT, POST Object (as form fields) or Initiate Multipart Upload
//!   (for the completed object) are stored and returned by GET and HEAD; an
//!   empty value stores nothing. GET's `response-content-type`,
//!   `response-content-disposition`, `response-cache-control`,
//!   `response-content-encoding`, `response-content-language` and
//!   `response-expires` replace the served header for that request.
//! * Single-effect v4 signatures are remembered (by SHA-1, in
//!   `used-v4-signatures` in the data directory) for as long as the data
//!   directory lives, so a replay is refused even after a restart.
//!
//! # Differences from real COS
//! * The v4 namespace is flat, like v5: uploading `/a/b/c.jpg` does not need
//!   `/a/b/` to exist (2016 COS required the directory). `create` writes an
//!   explicit directory marker (`a/b/` in v5 listings); `delete` of a directory
//!   refuses with `-173` while anything lies below it.
//! * Keys must pass [`shared::ObjectKey`] validation (no `//`, `.`/`..`
//!   segments, `%`, control characters, COS's forbidden characters, look-alikes);
//!   invalid keys are refused with 400 / `-1`, never normalised.
//! * v4 slice upload ignores `uploadparts` and does not offer "instant upload";
//!   any slice size from 64 KiB to 8 MiB is accepted.
//! * No ACLs, versioning, storage classes, lifecycle, CORS, copy, tagging,
//!   or bucket management: their sub-resources (see above), `PUT Bucket` and
//!   `x-cos-copy-source` answer `NotImplemented`. `x-cos-meta-*` headers are
//!   stored and returned.
//! * Objects are public-read unless configured otherwise (see above).
//! * `access_url` equals `source_url` (there is no CDN).
//! * A v5 key starting with `files/v2/` cannot be addressed: that prefix is
//!   the v4 API.
//! * One process per data directory: opening a store clears its temp files,
//!   so two stores on one directory would break each other's uploads.
//! * Path-style v5 requests (`/<bucket>/<key>` on a bare host) are not
//!   recognised: the first segment is part of the key in the default bucket.
//! * Temporary credentials (see above): only tokens minted with the store's
//!   token key are accepted, not Tencent STS's own. The size condition
//!   (`cos:content-length`) is also held at Complete Multipart Upload, against
//!   the assembled object, where real COS applies it to simple uploads only;
//!   so a size limit bounds multipart uploads too. `cos:content-type` is
//!   evaluated against the type the object will be stored with (the guessed
//!   one when the request gives none, an empty one or
//!   `application/octet-stream`), where real COS looks at the request's
//!   `Content-Type` header alone. Only `cos:content-length`,
//!   `cos:content-type` and `cos:prefix` are known condition keys; any other
//!   (`qcs:ip`, `cos:x-cos-acl`, …) keeps an allow from applying.
//!
//! # Fault injection
//! [`FaultConfig`] makes the store fail a deterministic (seeded) fraction of
//! requests, for testing clients:
//! * **500/503** before anything is read or stored;
//! * **drop**: a seeded part of the body is read (never all of a non-empty
//!   body), then the connection is closed without a response; nothing is stored;
//! * **lost reply**: the request is served completely (the object *is*
//!   committed), then the connection is closed before any byte of the reply, so
//!   the client sees a failure for a request that took effect and must retry
//!   idempotently (v4 `sha` + `insertOnly=1` answers `-4018`; v5 HEAD with
//!   `x-cos-meta-sha1`, or `x-cos-forbid-overwrite`);
//! * **latency** added before the request is handled;
//! * **a full disk** ([`FaultConfig::disk_full`]): every write fails as
//!   `ENOSPC` would, so every request that stores anything answers 507.
//!
//! The failures are exclusive slices of one uniform draw, so exactly
//! `error_rate + drop_rate + lost_reply_rate` of the requests in scope fail
//! (`0.1 + 0.05 + 0.05`: 20%); latency is drawn independently and may hit a
//! failing request too. No fault ever leaves a partial object. Injected faults
//! are counted by kind ([`Store::fault_stats`]; an embedding server hands out
//! its [`Store`] for that); each is logged at debug level under
//! `cos_local::faults`, and the totals at info level when the store is dropped.
//!
//! # Mounting
//! [`configure`] mounts the store on any actix `App` (after the app's own
//! routes); [`serve`] runs it alone on a listener.
//!
//! ```
//! use actix_web::{App, test, web};
//! use cos_local::{Store, StoreConfig};
//! use cos_sign::Credentials;
//!
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let credentials = vec![Credentials::new("AKIDexample", "example-secret-key")];
//! let store = Store::open(StoreConfig::new(dir.path(), "1250000000", "photos", credentials))?;
//!
//! let app = test::init_service(
//!     App::new()
//!         .route("/healthz", web::get().to(|| async { "ok" }))
//!         .configure(cos_local::configure(store.clone())),
//! )
//! .await;
//! // The app's own routes answer first; everything else is the store's.
//! let get = |uri| test::TestRequest::get().uri(uri).to_request();
//! assert!(test::call_service(&app, get("/healthz")).await.status().is_success());
//! // A public-read GET of a key nobody uploaded: 404 NoSuchKey.
//! assert_eq!(test::call_service(&app, get("/u/1/a.jpg")).await.status(), 404);
//! assert!(store.keys("photos").is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Alone, on a port of its own (this serves until the process is stopped):
//!
//! ```no_run
//! use cos_local::{Store, StoreConfig};
//! use cos_sign::Credentials;
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let credentials = vec![Credentials::new("AKIDexample", "example-secret-key")];
//!     let config = StoreConfig::new("./cos-data", "1250000000", "photos", credentials);
//!     let store = Store::open(config)?;
//!     let listener = std::net::TcpListener::bind("127.0.0.1:9000")?;
//!     cos_local::serve(listener, store)?.await?;
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access_log;
mod config;
mod error;
mod faults;
mod http;
mod inner;
mod key;
mod locks;
mod storage;
#[cfg(test)]
mod testing;
mod uploads;
mod used_signs;
mod v4;
mod v5;
mod xml;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};

pub use config::{FaultConfig, FaultScope, StoreConfig};
pub use error::StoreError;
pub use faults::FaultStats;
pub use uploads::SweepStats;

use crate::inner::Inner;

/// A handle on an open store. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.inner.config.data_dir)
            .field("appid", &self.inner.config.appid)
            .field("default_bucket", &self.inner.config.default_bucket)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) a store in `config.data_dir`: removes stale temp
    /// files and orphaned bodies and rebuilds the index.
    ///
    /// Called inside a tokio runtime (as actix apps and tests are), it starts
    /// the periodic sweep of abandoned uploads there, a task that ends when the
    /// last clone of the store is dropped; elsewhere only the sweep at open runs.
    pub fn open(config: StoreConfig) -> Result<Store, StoreError> {
        let inner = Arc::new(Inner::open(config)?);
        match uploads::start_sweeper(&inner) {
            Some(task) => {
                let _ = inner.sweeper.set(task);
            }
            None => tracing::warn!(
                "no tokio runtime: abandoned uploads are swept only when a store is opened"
            ),
        }
        Ok(Store { inner })
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.inner.storage.root()
    }

    /// Number of temp files currently in the data directory (bodies being
    /// received). Zero when the store is idle: tests use it to show that failed
    /// or dropped uploads leave nothing behind.
    pub fn temp_file_count(&self) -> usize {
        self.inner.storage.tmp_count()
    }

    /// How many faults of each kind have been injected since the store was opened.
    pub fn fault_stats(&self) -> FaultStats {
        self.inner.faults.stats()
    }

    /// How many abandoned uploads expired (by kind) and how many bytes that
    /// freed, since the store was opened.
    pub fn sweep_stats(&self) -> SweepStats {
        self.inner.sweeps.snapshot()
    }

    /// Keys stored in a bucket (short name), in order, directory markers included.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let full = self.inner.bucket_full(bucket);
        let mut out = Vec::new();
        self.inner
            .storage
            .scan(&full, std::ops::Bound::Unbounded, |m| {
                out.push(m.key.clone());
                true
            });
        out
    }
}

/// Mounts the store's routes on an actix `App`: `/files/v2/...` (v4 JSON API)
/// and a default service for the v5 XML API. Register the app's own routes
/// first; the v5 default service answers everything else.
pub fn configure(store: Store) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(store.clone()))
            .service(web::resource("/files/v2/{tail:.*}").to(v4::handle))
            .default_service(web::to(v5::handle));
    }
}

/// Runs the store alone on `listener` (tests bind `127.0.0.1:0`).
pub fn serve(
    listener: std::net::TcpListener,
    store: Store,
) -> std::io::Result<actix_web::dev::Server> {
    let server = HttpServer::new(move || App::new().configure(configure(store.clone())))
        .listen(listener)?
        .run();
    Ok(server)
}
