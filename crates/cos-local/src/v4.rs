//! The v4 JSON API under `/files/v2/<appid>/<bucket>/<path>`.

use std::ops::Bound;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::Serialize;
use shared::v4::{
    ListData, Reply, SliceList, SlicePart, SliceSession, StatData, UploadData, codes,
};

use crate::Store;
use crate::error::StoreError;
use crate::faults::InjectedError;
use crate::http;
use crate::inner::Inner;
use crate::storage::{Blob, Meta, Mode, NewMeta, Staged};
use crate::uploads::{self, UploadError};

/// Smallest and largest accepted slice sizes.
const MIN_SLICE: u64 = 64 * 1024;
const MAX_SLICE: u64 = 8 * 1024 * 1024;

/// A v4 error reply.
#[derive(Debug)]
pub(crate) struct V4Error {
    status: StatusCode,
    code: i64,
    message: String,
    /// Sent with -4018 so a client learns where the existing object is.
    data: Option<serde_json::Value>,
}

fn fail(status: u16, code: i64, message: impl Into<String>) -> V4Error {
    V4Error {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        message: message.into(),
        data: None,
    }
}

fn params_error(message: impl Into<String>) -> V4Error {
    fail(400, codes::PARAMS_ERROR, message)
}

impl From<StoreError> for V4Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge { limit } => fail(
                400,
                codes::TOO_LARGE,
                format!("ERROR_CMD_FILE_TOO_LARGE: the file exceeds the limit of {limit} bytes"),
            ),
            StoreError::BodyAborted(m) => params_error(format!(
                "ERROR_CGI_BODY_INCOMPLETE: the request body was cut short: {m}"
            )),
            StoreError::SameContent => fail(
                409,
                codes::SAME_FILE_UPLOADED,
                "ERROR_CMD_COS_FILE_SAME: the same file has already been uploaded",
            ),
            StoreError::Exists => fail(
                409,
                codes::FILE_EXISTS,
                "ERROR_CMD_COS_FILE_EXIST: the file exists and insertOnly=1",
            ),
            other => {
                tracing::error!(error = %other, "storage failure");
                fail(
                    500,
                    codes::INTERNAL,
                    "ERROR_CMD_COS_ERROR: internal error, try again",
                )
            }
        }
    }
}

impl From<UploadError> for V4Error {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Store(s) => s.into(),
            UploadError::NoSuchUpload => fail(
                404,
                codes::NOT_FOUND,
                "ERROR_CMD_SESSION_NOTEXIST: no such slice-upload session",
            ),
            UploadError::Incomplete => fail(
                400,
                codes::SLICE_UNFINISHED,
                "ERROR_CMD_SLICE_UNFINISHED: some slices are missing; list the session and resume",
            ),
            UploadError::ShaMismatch => fail(
                400,
                codes::SHA_MISMATCH,
                "ERROR_CMD_SHA_NOT_EQU: the content's SHA-1 differs from the declared sha; nothing was stored",
            ),
            other => params_error(other.to_string()),
        }
    }
}

/// What every v4 handler knows.
#[derive(Debug)]
struct Ctx {
    rid: String,
    appid: String,
    /// Short bucket name.
    bucket: String,
    /// Full bucket name.
    bucket_full: String,
    /// Decoded COS path, starting with `/`.
    path: String,
}

impl Ctx {
    fn ok<T: Serialize>(&self, data: T) -> HttpResponse {
        let reply = Reply {
            code: codes::OK,
            message: "SUCCESS".to_owned(),
            request_id: self.rid.clone(),
            data: Some(data),
        };
        HttpResponse::Ok()
            .insert_header(("x-cos-request-id", self.rid.as_str()))
            .json(reply)
    }

    fn fail(&self, e: V4Error) -> HttpResponse {
        let reply = Reply {
            code: e.code,
            message: e.message,
            request_id: self.rid.clone(),
            data: e.data,
        };
        HttpResponse::build(e.status)
            .insert_header(("x-cos-request-id", self.rid.as_str()))
            .json(reply)
    }
}

fn bare_fail(rid: String, e: V4Error) -> HttpResponse {
    let mut builder = HttpResponse::build(e.status);
    builder.insert_header(("x-cos-request-id", rid.as_str()));
    let reply: Reply<serde_json::Value> = Reply {
        code: e.code,
        message: e.message,
        request_id: rid,
        data: None,
    };
    builder.json(reply)
}

/// Entry point for `/files/v2/...`.
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
    let ctx = match parse_target(&inner, &req, rid.clone()) {
        Ok(c) => c,
        Err(e) => return bare_fail(rid, e),
    };
    let method = req.method().as_str().to_ascii_uppercase();
    let write = method != "GET" && method != "HEAD";
    let (inner, req, ctx) = (&inner, &req, &ctx);
    let refuse = |injected| {
        ctx.fail(match injected {
            InjectedError::Internal => fail(
                500,
                codes::INTERNAL,
                "ERROR_CMD_COS_ERROR: internal error (injected)",
            ),
            InjectedError::SlowDown => fail(
                503,
                codes::INTERNAL,
                "ERROR_CMD_SERVER_BUSY: slow down (injected)",
            ),
        })
    };
    let serve = |payload| async move {
        let result = match method.as_str() {
            "GET" => get_op(inner, req, ctx).await,
            "POST" => post_op(inner, req, ctx, payload).await,
            _ => Err(fail(
                405,
                codes::PARAMS_ERROR,
                "ERROR_CGI_METHOD: use GET or POST",
            )),
        };
        match result {
            Ok(resp) => resp,
            Err(e) => ctx.fail(e),
        }
    };
    inner
        .faults
        .inject(req, payload, write, refuse, serve)
        .await
}

fn parse_target(inner: &Inner, req: &HttpRequest, rid: String) -> Result<Ctx, V4Error> {
    let raw = req.uri().path();
    let rest = raw.strip_prefix("/files/v2/").ok_or_else(|| {
        params_error("ERROR_CGI_PATH: expected /files/v2/<appid>/<bucket>/<path>")
    })?;
    let (appid, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let (bucket, path) = match rest.split_once('/') {
        Some((b, p)) => (b, format!("/{p}")),
        None => (rest, "/".to_owned()),
    };
    if appid != inner.config.appid {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            format!("ERROR_CMD_BUCKET_NOTEXIST: appid {appid:?} is not served by this store"),
        ));
    }
    if !http::valid_bucket_name(bucket) {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            format!("ERROR_CMD_BUCKET_NOTEXIST: {bucket:?} is not a bucket name"),
        ));
    }
    let path = cos_sign::decode(&path)
        .ok_or_else(|| params_error("ERROR_CGI_PATH: the path is not UTF-8 once decoded"))?;
    Ok(Ctx {
        rid,
        appid: appid.to_owned(),
        bucket: bucket.to_owned(),
        bucket_full: inner.bucket_full(bucket),
        path,
    })
}

/// The signature's effect, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Multi,
    Single,
}

/// Verifies the v4 signature (header `Authorization`, else `?sign=`).
fn verify(inner: &Inner, req: &HttpRequest, ctx: &Ctx) -> Result<(Effect, String), V4Error> {
    let sign = match http::header(req, "authorization") {
        Some(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => http::query_pairs(req.query_string())
            .into_iter()
            .find(|(k, _)| k == "sign")
            .map(|(_, v)| v)
            .ok_or_else(|| {
                fail(
                    403,
                    codes::SIGN_INVALID,
                    "ERROR_PROXY_SIGN_MISSING: no signature; send it as the Authorization header or ?sign=",
                )
            })?,
    };
    let expect = cos_sign::v4::Expect {
        appid: &inner.config.appid,
        bucket: &ctx.bucket,
        path: &ctx.path,
        now: shared::clock::unix_now(),
        max_skew: inner.config.max_skew_secs,
    };
    let claims = cos_sign::v4::verify(&sign, &inner.config.credentials, &expect).map_err(|e| {
        use cos_sign::VerifyError as E;
        match e {
            E::Expired { .. } => fail(
                403,
                codes::SIGN_EXPIRED,
                format!("ERROR_PROXY_SIGN_EXPIRED: the signature has expired ({e}); ask for a new one"),
            ),
            E::BucketMismatch => fail(
                403,
                codes::SIGN_BUCKET_MISMATCH,
                format!(
                    "ERROR_PROXY_SIGN_BUCKET_NOTMATCH: the signature is for another bucket than {:?}",
                    ctx.bucket
                ),
            ),
            other => fail(
                403,
                codes::SIGN_INVALID,
                format!("ERROR_PROXY_SIGN_INVALID: {other}"),
            ),
        }
    })?;
    let effect = if claims.is_single_effect() {
        Effect::Single
    } else {
        Effect::Multi
    };
    Ok((effect, sign))
}

fn require_multi(effect: Effect, op: &str) -> Result<(), V4Error> {
    if effect == Effect::Single {
        return Err(fail(
            403,
            codes::SIGN_INVALID,
            format!("ERROR_PROXY_SIGN_INVALID: op={op} needs a multi-effect signature (e > 0)"),
        ));
    }
    Ok(())
}

/// Single-effect signatures are good for one request: the first use consumes it.
fn require_single(inner: &Inner, effect: Effect, sign: &str, op: &str) -> Result<(), V4Error> {
    if effect == Effect::Multi {
        return Err(fail(
            403,
            codes::SIGN_INVALID,
            format!(
                "ERROR_PROXY_SIGN_INVALID: op={op} needs a single-effect signature (e = 0, bound to the path)"
            ),
        ));
    }
    if !inner.used_signs.consume(sign)? {
        return Err(fail(
            403,
            codes::SIGN_REPLAYED,
            "ERROR_PROXY_SIGN_REPLAYED: this single-effect signature has already been used",
        ));
    }
    Ok(())
}

fn file_key(ctx: &Ctx) -> Result<shared::ObjectKey, V4Error> {
    shared::ObjectKey::from_v4_path(&ctx.path)
        .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))
}

fn dir_path(ctx: &Ctx) -> Result<shared::DirPath, V4Error> {
    if !ctx.path.ends_with('/') {
        return Err(params_error(
            "ERROR_CMD_COS_PATH_INVALID: a directory path must end with '/'",
        ));
    }
    let dir = shared::DirPath::parse(&ctx.path)
        .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))?;
    if dir.as_str() != ctx.path {
        return Err(params_error(
            "ERROR_CMD_COS_PATH_INVALID: invalid directory path",
        ));
    }
    Ok(dir)
}

fn upload_data(inner: &Inner, req: &HttpRequest, ctx: &Ctx, key: &str, meta: &Meta) -> UploadData {
    let base = http::public_base(inner, req, &ctx.bucket);
    let source_url = http::object_url(&base, key);
    let encoded = cos_sign::encode_path(key);
    UploadData {
        access_url: source_url.clone(),
        resource_path: format!("/{}/{}/{key}", ctx.appid, ctx.bucket),
        source_url,
        url: format!(
            "{}://{}/files/v2/{}/{}/{encoded}",
            req.connection_info().scheme(),
            http::host(req),
            ctx.appid,
            ctx.bucket
        ),
        vid: format!("{}{}", meta.md5, meta.mtime),
    }
}

fn stat_data(inner: &Inner, req: &HttpRequest, ctx: &Ctx, meta: &Meta, name: String) -> StatData {
    let urls = (!meta.is_dir()).then(|| {
        let base = http::public_base(inner, req, &ctx.bucket);
        http::object_url(&base, &meta.key)
    });
    StatData {
        name,
        biz_attr: meta.biz_attr.clone(),
        filesize: (!meta.is_dir()).then_some(meta.size),
        filelen: (!meta.is_dir()).then_some(meta.size),
        sha: (!meta.is_dir()).then(|| meta.sha1.clone()),
        ctime: meta.ctime.to_string(),
        mtime: meta.mtime.to_string(),
        access_url: urls.clone(),
        source_url: urls,
    }
}

async fn get_op(inner: &Arc<Inner>, req: &HttpRequest, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let query = http::query_pairs(req.query_string());
    let op = http::param(&query, "op").unwrap_or("");
    match op {
        "stat" => {
            let (effect, _) = verify(inner, req, ctx)?;
            require_multi(effect, op)?;
            stat(inner, req, ctx)
        }
        "list" => {
            let (effect, _) = verify(inner, req, ctx)?;
            require_multi(effect, op)?;
            list(inner, req, ctx, &query)
        }
        "" => Err(params_error("ERROR_CGI_PARAM_NO_SUCH_OP: missing op")),
        other => Err(fail(
            400,
            codes::PARAMS_ERROR,
            format!("ERROR_CGI_PARAM_NO_SUCH_OP: op={other} is not a GET operation"),
        )),
    }
}

fn stat(inner: &Inner, req: &HttpRequest, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let not_found = || {
        fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        )
    };
    if ctx.path.ends_with('/') {
        let dir = dir_path(ctx)?;
        let key = dir.key_prefix().to_owned();
        if let Some(meta) = inner.storage.get(&ctx.bucket_full, &key) {
            let name = dir_name(&key);
            return Ok(ctx.ok(stat_data(inner, req, ctx, &meta, name)));
        }
        if key.is_empty() || inner.storage.has_prefix(&ctx.bucket_full, &key, "") {
            // An implied directory (objects below it, no marker).
            return Ok(ctx.ok(StatData {
                name: dir_name(&key),
                biz_attr: String::new(),
                filesize: None,
                filelen: None,
                sha: None,
                ctime: String::new(),
                mtime: String::new(),
                access_url: None,
                source_url: None,
            }));
        }
        return Err(not_found());
    }
    let key = file_key(ctx)?;
    let meta = inner
        .storage
        .get(&ctx.bucket_full, key.as_str())
        .ok_or_else(not_found)?;
    Ok(ctx.ok(stat_data(
        inner,
        req,
        ctx,
        &meta,
        key.file_name().to_owned(),
    )))
}

/// `a/b/` → `b`; root → empty.
fn dir_name(key: &str) -> String {
    key.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn list(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    query: &[(String, String)],
) -> Result<HttpResponse, V4Error> {
    // `/dir/` lists the directory; `/dir/abc` lists entries of `/dir/` whose names start with `abc`.
    let (dir, name_prefix) = match ctx.path.rsplit_once('/') {
        Some((d, p)) => (format!("{d}/"), p.to_owned()),
        None => ("/".to_owned(), String::new()),
    };
    let dir = shared::DirPath::parse(&dir)
        .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))?;
    let num: usize = match http::param(query, "num") {
        None | Some("") => 20,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| params_error("ERROR_CMD_COS_INVALID_LIST_NUM: num must be 1 to 1000"))?,
    };
    let pattern = http::param(query, "pattern").unwrap_or("eListBoth");
    let (want_files, want_dirs) = match pattern {
        "eListBoth" | "" => (true, true),
        "eListFileOnly" => (true, false),
        "eListDirOnly" => (false, true),
        other => {
            return Err(params_error(format!(
                "ERROR_CMD_COS_INVALID_QUERY_FLAG: unknown pattern {other:?}"
            )));
        }
    };
    let context = http::param(query, "context").unwrap_or("").to_owned();
    let base = dir.key_prefix().to_owned();
    let prefix = format!("{base}{name_prefix}");
    let start = if context.is_empty() || context < prefix {
        Bound::Included(prefix.as_str())
    } else {
        Bound::Excluded(context.as_str())
    };
    // Entries: (cursor key, info). A subdirectory's cursor is `base/sub/`, and
    // keys below it are skipped.
    let mut infos: Vec<StatData> = Vec::new();
    let mut last_dir: Option<String> = None;
    let mut cursor = String::new();
    let mut more = false;
    let skip_under = context.ends_with('/').then(|| context.clone());
    inner.storage.scan(&ctx.bucket_full, start, |m| {
        if !m.key.starts_with(&prefix) {
            return false;
        }
        if skip_under
            .as_ref()
            .is_some_and(|s| m.key.starts_with(s.as_str()))
        {
            return true;
        }
        let rest = &m.key[base.len()..];
        let entry = match rest.find('/') {
            Some(i) => {
                let sub = format!("{base}{}", &rest[..=i]);
                if last_dir.as_deref() == Some(sub.as_str()) {
                    return true;
                }
                last_dir = Some(sub.clone());
                if !want_dirs {
                    return true;
                }
                // A directory marker sorts before everything below it, so the
                // first key seen under `sub` is its marker if it has one. (No
                // other storage call here: `scan` holds the index lock.)
                let meta = (m.key == sub).then(|| Arc::clone(m));
                (sub.clone(), rest[..i].to_owned(), meta)
            }
            None => {
                if !want_files || rest.is_empty() {
                    return true;
                }
                (m.key.clone(), rest.to_owned(), Some(Arc::clone(m)))
            }
        };
        if infos.len() >= num {
            more = true;
            return false;
        }
        let (key, name, meta) = entry;
        let info = match meta {
            Some(meta) => stat_data(inner, req, ctx, &meta, name),
            None => StatData {
                name,
                biz_attr: String::new(),
                filesize: None,
                filelen: None,
                sha: None,
                ctime: String::new(),
                mtime: String::new(),
                access_url: None,
                source_url: None,
            },
        };
        infos.push(info);
        cursor = key;
        true
    });
    Ok(ctx.ok(ListData {
        context: if more { cursor } else { String::new() },
        listover: !more,
        infos,
    }))
}

/// A parsed POST: text fields plus the received file, if any.
#[derive(Debug, Default)]
struct Form {
    fields: Vec<(String, String)>,
    /// The `filecontent` part of an upload, hashed on the way in.
    file: Option<Blob>,
    /// The `filecontent` part of `upload_slice_data`: a staging copy, not
    /// hashed (the finished file is).
    slice: Option<Staged>,
    /// The file part's own `Content-Type`, if it had one.
    file_type: Option<String>,
}

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str) -> Result<Option<u64>, V4Error> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| params_error(format!("ERROR_CGI_PARAM: {name} must be a number"))),
        }
    }

    /// `insertOnly`: 1 (the default, as in the SDKs) refuses to overwrite.
    fn insert_only(&self) -> Result<bool, V4Error> {
        match self.get("insertOnly").map(str::trim) {
            None | Some("") | Some("1") => Ok(true),
            Some("0") => Ok(false),
            Some(other) => Err(params_error(format!(
                "ERROR_CGI_PARAM: insertOnly must be 0 or 1, not {other:?}"
            ))),
        }
    }
}

async fn read_form(
    inner: &Inner,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Form, V4Error> {
    let content_type = http::header(req, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") || content_type.starts_with("text/") {
        let mut payload = payload;
        let body = http::read_small(&mut payload, 64 * 1024).await?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            params_error(format!(
                "ERROR_CGI_PARAM: the JSON body does not parse: {e}"
            ))
        })?;
        let obj = value
            .as_object()
            .ok_or_else(|| params_error("ERROR_CGI_PARAM: the JSON body must be an object"))?;
        let fields = obj
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect();
        return Ok(Form {
            fields,
            file: None,
            slice: None,
            file_type: None,
        });
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(params_error(
            "ERROR_CGI_PARAM: send multipart/form-data (or JSON for create/delete/update)",
        ));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = Form::default();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| {
            params_error(format!(
                "ERROR_CGI_PARAM: the multipart body is malformed: {e}"
            ))
        })?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "filecontent" || name == "fileContent" {
            if form.file.is_some() || form.slice.is_some() {
                return Err(params_error(
                    "ERROR_CGI_PARAM: more than one filecontent field",
                ));
            }
            let slice = form.get("op") == Some("upload_slice_data");
            let limit = if slice {
                MAX_SLICE
            } else {
                inner
                    .config
                    .max_simple_upload
                    .min(inner.config.max_object_size)
            };
            form.file_type = field.content_type().map(ToString::to_string);
            // A slice is copied into its session's data file, which is fsync'd
            // before the slice is acknowledged and hashed whole at the finish:
            // its own copy needs neither hashes nor an fsync.
            if slice {
                let mut writer = inner.storage.staging_writer(limit).await?;
                http::stream_into(&mut writer, &mut field).await?;
                form.slice = Some(writer.finish().await?);
            } else {
                let mut writer = inner.storage.writer(limit).await?;
                http::stream_into(&mut writer, &mut field).await?;
                form.file = Some(http::finish(writer).await?);
            }
        } else {
            let value = http::read_small(&mut field, 64 * 1024)
                .await
                .map_err(|e| match e {
                    StoreError::TooLarge { .. } => {
                        params_error(format!("ERROR_CGI_PARAM: form field {name:?} is too large"))
                    }
                    other => other.into(),
                })?;
            total += value.len();
            if total > 1024 * 1024 {
                return Err(params_error(
                    "ERROR_CGI_PARAM: the form fields are too large",
                ));
            }
            form.fields
                .push((name, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    Ok(form)
}

async fn post_op(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    payload: web::Payload,
) -> Result<HttpResponse, V4Error> {
    // The signature is checked before a byte of the body is read.
    let (effect, sign) = verify(inner, req, ctx)?;
    let form = read_form(inner, req, payload).await?;
    let op = form.get("op").unwrap_or("").to_owned();
    match op.as_str() {
        "upload" => {
            require_multi(effect, &op)?;
            upload(inner, req, ctx, form).await
        }
        "create" => {
            require_multi(effect, &op)?;
            create(inner, ctx, &form).await
        }
        "delete" => {
            require_single(inner, effect, &sign, &op)?;
            delete(inner, ctx).await
        }
        "update" => {
            require_single(inner, effect, &sign, &op)?;
            update(inner, ctx, &form).await
        }
        "upload_slice_init" => {
            require_multi(effect, &op)?;
            slice_init(inner, req, ctx, &form).await
        }
        "upload_slice_data" => {
            require_multi(effect, &op)?;
            slice_data(inner, ctx, form).await
        }
        "upload_slice_finish" => {
            require_multi(effect, &op)?;
            slice_finish(inner, req, ctx, &form).await
        }
        "upload_slice_list" => {
            require_multi(effect, &op)?;
            slice_list(inner, ctx, &form).await
        }
        "" => Err(params_error("ERROR_CGI_PARAM_NO_SUCH_OP: missing op")),
        other => Err(params_error(format!(
            "ERROR_CGI_PARAM_NO_SUCH_OP: op={other} is not supported"
        ))),
    }
}

fn check_sha(declared: Option<&str>, blob: &Blob) -> Result<(), V4Error> {
    if let Some(sha) = declared.map(str::trim).filter(|s| !s.is_empty())
        && !sha.eq_ignore_ascii_case(&hex::encode(blob.sha1))
    {
        return Err(UploadError::ShaMismatch.into());
    }
    Ok(())
}

/// Turns an insertOnly refusal into the reply COS gives, with the existing
/// object's URLs when the content is the same.
fn conflict(inner: &Inner, req: &HttpRequest, ctx: &Ctx, key: &str, e: StoreError) -> V4Error {
    let same = matches!(e, StoreError::SameContent);
    let mut err = V4Error::from(e);
    if same && let Some(meta) = inner.storage.get(&ctx.bucket_full, key) {
        err.data = serde_json::to_value(upload_data(inner, req, ctx, key, &meta)).ok();
    }
    err
}

async fn upload(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    mut form: Form,
) -> Result<HttpResponse, V4Error> {
    let key = file_key(ctx)?;
    let blob = form
        .file
        .take()
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing filecontent"))?;
    check_sha(form.get("sha"), &blob)?;
    let mode = if form.insert_only()? {
        Mode::InsertOnly
    } else {
        Mode::Overwrite
    };
    let new = NewMeta {
        content_type: http::content_type_for(key.as_str(), form.file_type.as_deref()),
        biz_attr: form.get("biz_attr").unwrap_or("").to_owned(),
        user_meta: Vec::new(),
        etag: None,
    };
    let (i, b, k) = (
        Arc::clone(inner),
        ctx.bucket_full.clone(),
        key.as_str().to_owned(),
    );
    let now = shared::clock::unix_now();
    let meta = http::blocking(move || i.storage.commit(&b, &k, blob, new, mode, now))
        .await
        .map_err(|e| conflict(inner, req, ctx, key.as_str(), e))?;
    Ok(ctx.ok(upload_data(inner, req, ctx, key.as_str(), &meta)))
}

#[derive(Debug, Serialize)]
struct CreateData {
    ctime: String,
    resource_path: String,
}

async fn create(inner: &Arc<Inner>, ctx: &Ctx, form: &Form) -> Result<HttpResponse, V4Error> {
    let dir = dir_path(ctx)?;
    if dir.as_str() == "/" {
        return Err(params_error(
            "ERROR_CMD_COS_PATH_INVALID: the bucket root always exists",
        ));
    }
    let biz = form.get("biz_attr").unwrap_or("").to_owned();
    let (i, b, k) = (
        Arc::clone(inner),
        ctx.bucket_full.clone(),
        dir.key_prefix().to_owned(),
    );
    let now = shared::clock::unix_now();
    let meta = http::blocking(move || i.storage.put_dir(&b, &k, &biz, Mode::InsertOnly, now))
        .await
        .map_err(|e| match e {
            StoreError::Exists | StoreError::SameContent => fail(
                409,
                codes::PATH_CONFLICT,
                "ERROR_CMD_COS_PATH_CONFLICT: the directory already exists",
            ),
            other => other.into(),
        })?;
    Ok(ctx.ok(CreateData {
        ctime: meta.ctime.to_string(),
        resource_path: format!("/{}/{}{}", ctx.appid, ctx.bucket, dir.as_str()),
    }))
}

async fn delete(inner: &Arc<Inner>, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let key = if ctx.path.ends_with('/') {
        let dir = dir_path(ctx)?;
        let key = dir.key_prefix().to_owned();
        if key.is_empty() {
            return Err(params_error(
                "ERROR_CMD_COS_PATH_INVALID: the bucket root cannot be deleted",
            ));
        }
        if inner.storage.has_prefix(&ctx.bucket_full, &key, &key) {
            return Err(fail(
                409,
                codes::DIR_NOT_EMPTY,
                "ERROR_CMD_COS_DIR_NOT_EMPTY: the directory is not empty",
            ));
        }
        key
    } else {
        file_key(ctx)?.as_str().to_owned()
    };
    let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
    let removed = http::blocking(move || i.storage.delete(&b, &key)).await?;
    if removed.is_none() {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        ));
    }
    Ok(ctx.ok(serde_json::json!({})))
}

async fn update(inner: &Arc<Inner>, ctx: &Ctx, form: &Form) -> Result<HttpResponse, V4Error> {
    let key = if ctx.path.ends_with('/') {
        dir_path(ctx)?.key_prefix().to_owned()
    } else {
        file_key(ctx)?.as_str().to_owned()
    };
    let biz = form.get("biz_attr").map(str::to_owned);
    let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
    let updated = http::blocking(move || i.storage.update_biz_attr(&b, &key, biz)).await?;
    if !updated {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        ));
    }
    Ok(ctx.ok(serde_json::json!({})))
}

async fn slice_init(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let key = file_key(ctx)?;
    let filesize = form
        .number("filesize")?
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing filesize"))?;
    if filesize == 0 {
        return Err(params_error(
            "ERROR_CGI_PARAM: filesize must be positive; use op=upload for empty files",
        ));
    }
    if filesize > inner.config.max_object_size {
        return Err(StoreError::TooLarge {
            limit: inner.config.max_object_size,
        }
        .into());
    }
    let slice_size = form.number("slice_size")?.unwrap_or(1024 * 1024);
    if !(MIN_SLICE..=MAX_SLICE).contains(&slice_size) {
        return Err(params_error(format!(
            "ERROR_CGI_PARAM: slice_size must be from {MIN_SLICE} to {MAX_SLICE} bytes"
        )));
    }
    let sha = form
        .get("sha")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(s) = &sha
        && (s.len() != 40 || !s.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(params_error(
            "ERROR_CGI_PARAM: sha must be 40 hex digits (SHA-1 of the whole file)",
        ));
    }
    let insert_only = form.insert_only()?;
    if insert_only && let Some(existing) = inner.storage.get(&ctx.bucket_full, key.as_str()) {
        let e = if sha.as_deref() == Some(existing.sha1.as_str()) {
            StoreError::SameContent
        } else {
            StoreError::Exists
        };
        return Err(conflict(inner, req, ctx, key.as_str(), e));
    }
    let _guard = inner.uploads_lock.lock().await;
    let wanted = uploads::SliceSession {
        session: uuid::Uuid::new_v4().simple().to_string(),
        bucket: ctx.bucket_full.clone(),
        key: key.as_str().to_owned(),
        filesize,
        slice_size,
        sha,
        biz_attr: form.get("biz_attr").unwrap_or("").to_owned(),
        insert_only,
        created: shared::clock::unix_now(),
    };
    let i = Arc::clone(inner);
    let session = http::blocking(move || {
        if let Some(old) = uploads::v4_find(&i.storage, &wanted.bucket, &wanted.key)? {
            if old.filesize == wanted.filesize
                && old.slice_size == wanted.slice_size
                && old.sha == wanted.sha
            {
                // Same upload again: resume the existing session.
                return Ok(old);
            }
            uploads::v4_remove(&i.storage, &old.session)?;
        }
        uploads::v4_create(&i.storage, &wanted)?;
        Ok::<_, StoreError>(wanted)
    })
    .await?;
    Ok(ctx.ok(SliceSession {
        session: session.session,
        slice_size: session.slice_size,
        offset: 0,
    }))
}

async fn load_session(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    form: &Form,
) -> Result<uploads::SliceSession, V4Error> {
    let key = file_key(ctx)?;
    let id = form
        .get("session")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing session"))?
        .to_owned();
    let i = Arc::clone(inner);
    let s = http::blocking(move || uploads::v4_load(&i.storage, &id))
        .await?
        .ok_or(UploadError::NoSuchUpload)?;
    if s.bucket != ctx.bucket_full || s.key != key.as_str() {
        return Err(params_error(
            "ERROR_CGI_PARAM: the session belongs to another file",
        ));
    }
    Ok(s)
}

async fn slice_data(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    mut form: Form,
) -> Result<HttpResponse, V4Error> {
    let s = load_session(inner, ctx, &form).await?;
    let offset = form
        .number("offset")?
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing offset"))?;
    // `filecontent` is staged when `op` came first, as clients send it.
    let blob = form
        .slice
        .take()
        .or_else(|| form.file.take().map(Blob::into_staged))
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing filecontent"))?;
    let _guard = inner.session_locks.lock(&s.session).await;
    let i = Arc::clone(inner);
    let s2 = s.clone();
    tokio::task::spawn_blocking(move || uploads::v4_write_slice(&i.storage, &s2, offset, &blob))
        .await
        .map_err(|e| fail(500, codes::INTERNAL, e.to_string()))??;
    Ok(ctx.ok(SliceSession {
        session: s.session,
        slice_size: s.slice_size,
        offset,
    }))
}

async fn slice_finish(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let s = load_session(inner, ctx, form).await?;
    if let Some(size) = form.number("filesize")?
        && size != s.filesize
    {
        return Err(fail(
            400,
            codes::FILE_SIZE_MISMATCH,
            format!(
                "ERROR_CMD_COS_FILE_SIZE_NOT_EQU: filesize {size} differs from {} given at init",
                s.filesize
            ),
        ));
    }
    let sha = form
        .get("sha")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if s.sha.is_some() && sha.is_none() {
        return Err(params_error(
            "ERROR_CMD_SHA_MISSING: sha was given at init and is required at finish",
        )
        .with_code(-29094));
    }
    let _guard = inner.session_locks.lock(&s.session).await;
    let i = Arc::clone(inner);
    let now = shared::clock::unix_now();
    let key = s.key.clone();
    let result = tokio::task::spawn_blocking(move || {
        uploads::v4_finish(&i.storage, &s, sha.as_deref(), now)
    })
    .await
    .map_err(|e| fail(500, codes::INTERNAL, e.to_string()))?;
    let meta = result.map_err(|e| match e {
        UploadError::Store(s @ (StoreError::SameContent | StoreError::Exists)) => {
            conflict(inner, req, ctx, &key, s)
        }
        other => other.into(),
    })?;
    Ok(ctx.ok(upload_data(inner, req, ctx, &key, &meta)))
}

impl V4Error {
    fn with_code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }
}

async fn slice_list(inner: &Arc<Inner>, ctx: &Ctx, form: &Form) -> Result<HttpResponse, V4Error> {
    let s = if form.get("session").is_some_and(|v| !v.is_empty()) {
        load_session(inner, ctx, form).await?
    } else {
        let key = file_key(ctx)?.as_str().to_owned();
        let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
        http::blocking(move || uploads::v4_find(&i.storage, &b, &key))
            .await?
            .ok_or(UploadError::NoSuchUpload)?
    };
    let (i, s2) = (Arc::clone(inner), s.clone());
    let parts = http::blocking(move || uploads::v4_slices(&i.storage, &s2)).await?;
    Ok(ctx.ok(SliceList {
        session: s.session.clone(),
        filesize: s.filesize,
        slice_size: s.slice_size,
        listparts: parts
            .into_iter()
            .map(|(offset, datalen)| SlicePart { offset, datalen })
            .collect(),
    }))
}
