//! The v5 XML API: requests on `<bucket>-<appid>.<host>` (or the default
//! bucket on any other host), answered in COS's XML shapes.
//!
//! * `route.rs`: which handler a method, path and sub-resource go to;
//! * `auth.rs`: signature checks (header, presigned query, form field);
//! * `token.rs`: security tokens of temporary credentials;
//! * `access.rs`: what a checked request may do (their CAM policy);
//! * `object.rs`: PUT, GET, HEAD and DELETE Object;
//! * `list.rs`: GET Bucket;
//! * `multipart.rs`: multipart uploads;
//! * `post_object.rs`: HTML-form uploads;
//! * `error.rs`: the `<Error>` replies.

mod access;
mod auth;
mod error;
mod list;
mod multipart;
mod object;
mod post_object;
mod route;
mod token;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::Store;
use crate::faults::InjectedError;
use crate::http::{self, BucketRoute};
use crate::xml::Xml;

use self::error::{V5Error, err};

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
        let (payload, unread) = http::shared_body(req, payload).await;
        let mut resp = match route::route(inner, req, ctx, method, payload).await {
            Ok(resp) => resp,
            Err(e) => {
                // A refused upload may leave most of its body unsent: the
                // connection closes after the answer rather than read what
                // will not be stored.
                let mut resp = ctx.respond(&e);
                unread.keep_until_sent(&mut resp);
                resp
            }
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

/// An ETag as COS sends it, in double quotes.
fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}
