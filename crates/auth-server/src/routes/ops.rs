//! `GET /healthz`, `/readyz`, `/metrics` and `/openapi.json`.

use std::time::Duration;

use actix_web::HttpResponse;

use super::Data;
use crate::error::{AppError, ErrorCode};

/// How long the readiness check waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "`{\"status\":\"ok\"}`")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness, for a load balancer: 200 when the database answers a query
/// within 2 s, else 503 `database_unavailable` (the cause is logged). A
/// replica whose database is gone stops getting traffic, while `/healthz`
/// (liveness) keeps saying the process runs.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "`{\"status\":\"ready\"}`"),
              (status = 503, description = "`database_unavailable`", body = shared::wire::ApiError)))]
pub async fn readyz(state: Data) -> Result<HttpResponse, AppError> {
    match state.db.ping(READY_TIMEOUT).await {
        Ok(()) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            Err(AppError::new(
                ErrorCode::DatabaseUnavailable,
                "the database does not answer",
            ))
        }
    }
}

/// Prometheus counters.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
pub async fn metrics(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}
