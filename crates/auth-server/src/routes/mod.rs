//! The HTTP routes, one file per route family: [`login`] (WeChat and dev
//! login), [`v4`] (`qc_cos/config`), [`v5`] (v5 request signatures and POST
//! policies), [`credentials`] (temporary credentials), [`ops`] (health,
//! metrics, the OpenAPI document). A new family is a
//! new file here, one line in [`configure`] and its handlers in
//! [`crate::openapi::ApiDoc`].
//!
//! Handlers authenticate ([`crate::auth::AuthUser`]), rate-limit, ask
//! [`crate::grant`] what may be signed, sign, audit and count. Every refusal is
//! an [`AppError`].

pub mod credentials;
pub mod login;
pub mod ops;
pub mod v4;
pub mod v5;

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlers;
use actix_web::{HttpResponse, ResponseError as _, web};
use shared::{DirPath, ObjectKey};

use crate::auth::AuthUser;
use crate::error::{AppError, ErrorCode, json_errors};
use crate::grant::{check_dir, check_key};
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Mounts the server's own routes (everything but the embedded store).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let one = |path: &str, route: actix_web::Route| {
        web::resource(path)
            .route(route)
            .default_service(web::to(method_not_allowed))
    };
    cfg.service(
        web::scope("/v1")
            .wrap(ErrorHandlers::new().default_handler(json_errors))
            .service(one("/auth/login", web::post().to(login::login)))
            .service(one("/auth/dev-login", web::post().to(login::dev_login)))
            .service(one("/qc_cos/config", web::get().to(v4::v4_sign)))
            .service(one("/cos/v5/sign", web::post().to(v5::v5_sign)))
            .service(one("/cos/v5/post-policy", web::post().to(v5::post_policy)))
            .service(one(
                "/cos/credentials",
                web::post().to(credentials::credentials),
            ))
            .default_service(web::to(not_found)),
    )
    .service(one(shared::routes::HEALTHZ, web::get().to(ops::healthz)))
    .service(one(shared::routes::READYZ, web::get().to(ops::readyz)))
    .service(one(shared::routes::METRICS, web::get().to(ops::metrics)))
    .service(one(shared::routes::OPENAPI, web::get().to(ops::openapi)));
}

/// 200 with a JSON body that no cache keeps (tokens, signatures).
fn ok_json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(body)
}

/// The per-user limiter of the signing and credentials routes.
fn sign_limit(state: &AppState, user: &AuthUser) -> Result<(), AppError> {
    state.limits.sign.check(&user.id).map_err(|wait| {
        state.metrics.rate_limited_sign.inc();
        AppError::rate_limited(
            ErrorCode::RateLimited,
            "too many signature requests; slow down",
            wait,
        )
    })
}

/// Counts an `outside_prefix` refusal in `/metrics`.
fn count_refusal<T>(state: &AppState, r: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &r
        && e.code() == ErrorCode::OutsidePrefix
    {
        state.metrics.outside_prefix.inc();
    }
    r
}

/// [`check_dir`], counting a refusal.
fn grant_dir(
    state: &AppState,
    prefix: &DirPath,
    requested: Option<&str>,
    what: &str,
) -> Result<DirPath, AppError> {
    count_refusal(state, check_dir(prefix, requested, what))
}

/// [`check_key`], counting a refusal.
fn grant_key(state: &AppState, prefix: &DirPath, requested: &str) -> Result<ObjectKey, AppError> {
    count_refusal(state, check_key(prefix, requested))
}

/// JSON 404 for unknown routes.
pub fn not_found_error() -> AppError {
    AppError::new(ErrorCode::NotFound, "no such endpoint")
}

/// Default service: JSON 404.
pub async fn not_found() -> HttpResponse {
    not_found_error().error_response()
}

/// Default service of a known path: JSON 405.
pub async fn method_not_allowed() -> HttpResponse {
    AppError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not accept that method",
    )
    .error_response()
}
