//! The v4 JSON API under `/files/v2/<appid>/<bucket>/<path>`: one route,
//! the operation named by `op` (a query parameter for GET, a form field for
//! POST).
//!
//! * `auth.rs`: the v4 signature and its effect (multi or single);
//! * `form.rs`: reading a POST body (multipart form or JSON);
//! * `objects.rs`: `upload`, `stat`, `list`, `create`, `delete`, `update`;
//! * `slices.rs`: slice upload sessions (`upload_slice_*`);
//! * `error.rs`: the error replies.

mod auth;
mod error;
mod form;
mod objects;
mod slices;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use shared::v4::{Reply, codes};

use crate::Store;
use crate::faults::InjectedError;
use crate::http;
use crate::inner::Inner;
use crate::key::StoreKey;

use self::auth::{require_multi, require_single, verify};
use self::error::{V4Error, fail, params_error};
use self::form::read_form;

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
    /// The path as an object key (`/a/b.jpg` → `a/b.jpg`). A path ending in
    /// `/` names a directory: the file name is missing from the URL.
    fn file_key(&self) -> Result<shared::ObjectKey, V4Error> {
        if self.path.ends_with('/') {
            return Err(params_error(format!(
                "ERROR_CMD_COS_PATH_INVALID: the URL names the directory {:?}, not a file: \
                 append the file name to it (.../files/v2/{}/{}{}<file name>)",
                self.path, self.appid, self.bucket, self.path
            )));
        }
        shared::ObjectKey::from_v4_path(&self.path)
            .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))
    }

    /// The path as a stored entry's name: a directory marker when it ends
    /// with `/`, else an object key.
    fn store_key(&self) -> Result<StoreKey, V4Error> {
        if self.path.ends_with('/') {
            Ok(StoreKey::Dir(self.dir_path()?))
        } else {
            Ok(StoreKey::Object(self.file_key()?))
        }
    }

    /// The path as a directory (it must end with `/` and be canonical).
    fn dir_path(&self) -> Result<shared::DirPath, V4Error> {
        if !self.path.ends_with('/') {
            return Err(params_error(
                "ERROR_CMD_COS_PATH_INVALID: a directory path must end with '/'",
            ));
        }
        let dir = shared::DirPath::parse(&self.path)
            .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))?;
        if dir.as_str() != self.path {
            return Err(params_error(
                "ERROR_CMD_COS_PATH_INVALID: invalid directory path",
            ));
        }
        Ok(dir)
    }

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

/// An error reply for a request whose target did not parse (no [`Ctx`]).
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
        let (payload, unread) = http::shared_body(req, payload).await;
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
            Err(e) => {
                // As in v5: a refused upload's unread body closes the connection.
                let mut resp = ctx.fail(e);
                unread.keep_until_sent(&mut resp);
                resp
            }
        }
    };
    inner
        .faults
        .inject(req, payload, write, refuse, serve)
        .await
}

/// Splits `/files/v2/<appid>/<bucket>/<path>`: the APPID must be this store's,
/// the bucket name valid; the path is decoded once.
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

/// GET: `op=stat` and `op=list`, with a multi-effect signature.
async fn get_op(inner: &Arc<Inner>, req: &HttpRequest, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let query = http::query_pairs(req.query_string());
    let op = http::param(&query, "op").unwrap_or("");
    match op {
        "stat" => {
            let (effect, _) = verify(inner, req, ctx)?;
            require_multi(effect, op)?;
            objects::stat(inner, req, ctx)
        }
        "list" => {
            let (effect, _) = verify(inner, req, ctx)?;
            require_multi(effect, op)?;
            objects::list(inner, req, ctx, &query)
        }
        "" => Err(params_error("ERROR_CGI_PARAM_NO_SUCH_OP: missing op")),
        other => Err(fail(
            400,
            codes::PARAMS_ERROR,
            format!("ERROR_CGI_PARAM_NO_SUCH_OP: op={other} is not a GET operation"),
        )),
    }
}

/// POST: every other operation. The signature is checked first, then the
/// form is read and its `op` dispatched with the effect it needs.
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
            objects::upload(inner, req, ctx, form).await
        }
        "create" => {
            require_multi(effect, &op)?;
            objects::create(inner, ctx, &form).await
        }
        "delete" => {
            require_single(inner, effect, &sign, &op)?;
            objects::delete(inner, ctx).await
        }
        "update" => {
            require_single(inner, effect, &sign, &op)?;
            objects::update(inner, ctx, &form).await
        }
        "upload_slice_init" => {
            require_multi(effect, &op)?;
            slices::slice_init(inner, req, ctx, &form).await
        }
        "upload_slice_data" => {
            require_multi(effect, &op)?;
            slices::slice_data(inner, ctx, form).await
        }
        "upload_slice_finish" => {
            require_multi(effect, &op)?;
            slices::slice_finish(inner, req, ctx, &form).await
        }
        "upload_slice_list" => {
            require_multi(effect, &op)?;
            slices::slice_list(inner, ctx, &form).await
        }
        "" => Err(params_error("ERROR_CGI_PARAM_NO_SUCH_OP: missing op")),
        other => Err(params_error(format!(
            "ERROR_CGI_PARAM_NO_SUCH_OP: op={other} is not supported"
        ))),
    }
}
