//! One access-log line per request.

use std::future::Future;

use actix_web::{HttpRequest, HttpResponse};

/// Runs a handler and writes one access-log line for it, at debug level under the
/// target `cos_local::access` (a host app usually logs requests itself). Only the path
/// is logged: a presigned query carries a signature.
pub(crate) async fn logged<F, Fut>(req: HttpRequest, handler: F) -> HttpResponse
where
    F: FnOnce(HttpRequest) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = handler(req).await;
    let rid = resp
        .headers()
        .get("x-cos-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::debug!(
        target: "cos_local::access",
        request_id = rid,
        %method,
        path,
        status = resp.status().as_u16(),
        elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    resp
}
