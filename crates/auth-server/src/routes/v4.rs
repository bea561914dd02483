//! `GET /v1/qc_cos/config`: a v4 multi-effect signature bound to a directory
//! of the caller's prefix (the mini-program's upload flow).

use actix_web::{HttpRequest, HttpResponse, web};
use cos_sign::v4::Signer;
use rand::Rng as _;
use serde::Deserialize;
use shared::wire::{ApiError, SignResponse};
use utoipa::IntoParams;

use super::{Data, grant_dir, ok_json, sign_limit};
use crate::auth::{AuthUser, client_ip};
use crate::db::{AuditRecord, Kind};
use crate::error::{AppError, ErrorCode};

/// Largest v4 nonce (`r`) plus one: ten decimal digits.
const NONCE_BOUND: u64 = 10_000_000_000;

/// Query of the v4 endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct V4Query {
    /// Directory to bind the signature to, inside the caller's prefix
    /// (`/u/<id>/...`, trailing `/` optional). Default: the caller's prefix.
    pub cos_path: Option<String>,
}

/// A v4 multi-effect signature bound to a directory of the caller's prefix.
#[utoipa::path(
    get, path = "/v1/qc_cos/config", tag = "signing",
    params(V4Query),
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Signature", body = SignResponse),
        (status = 400, description = "`invalid_path`: cos_path is not a valid directory (the message says why); `invalid_input`: the query is malformed (e.g. cos_path given twice) or not valid UTF-8 after percent-decoding", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: cos_path is not inside /u/<id>/", body = ApiError),
        (status = 429, description = "`rate_limited` (per user); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn v4_sign(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    query: web::Query<V4Query>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    // The query decoder replaces invalid UTF-8 with U+FFFD; refuse instead of
    // signing a path the client did not send.
    if cos_sign::decode(req.query_string()).is_none() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "the query string is not valid UTF-8 after percent-decoding",
        ));
    }
    let dir = grant_dir(&state, &user.prefix, query.cos_path.as_deref(), "cos_path")?;
    let now = shared::clock::unix_now();
    let expires_at = now + state.sign_ttl_secs;
    let nonce = rand::thread_rng().gen_range(0..NONCE_BOUND);
    let signer = Signer {
        appid: &state.cos.appid,
        bucket: &state.cos.bucket,
        credentials: &state.cos.credentials,
    };
    // Bound with its trailing '/' (v4's directory fileid form): COS documents the
    // binding as a prefix match, and `/u/12` would be a plain-string prefix of
    // `/u/123/...`; `/u/12/` is not.
    let sign = signer
        .multi_effect(Some(dir.as_str()), expires_at, now, nonce)
        .map_err(|e| {
            tracing::error!(error = %e, "v4 signing failed");
            AppError::internal()
        })?;
    let upload_url = format!(
        "{}/files/v2/{}/{}{}",
        state.cos.v4_endpoint,
        state.cos.appid,
        state.cos.bucket,
        cos_sign::encode_path(dir.as_str())
    );
    state.metrics.signed_v4.inc();
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind: Kind::V4,
        target: dir.as_str().to_owned(),
        expires_at,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
        source: None,
    });
    Ok(ok_json(&SignResponse {
        sign,
        expires_at,
        cos_path: dir.as_str().to_owned(),
        upload_url,
    }))
}
