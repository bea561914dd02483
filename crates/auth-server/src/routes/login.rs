//! `POST /v1/auth/login` (a `wx.login` code exchanged with WeChat) and
//! `POST /v1/auth/dev-login` (a named user, when dev login is on): both upsert
//! the user and answer a token.

use actix_web::{HttpRequest, HttpResponse, web};
use shared::wire::{ApiError, DevLoginRequest, LoginRequest, TokenResponse};

use super::{Data, not_found_error, ok_json};
use crate::auth::{client_ip, prefix_of};
use crate::db::Provider;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::wechat::WechatError;

fn login_limit(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let ip = client_ip(req, state.trust_forwarded_for);
    state.limits.login.check(&ip).map_err(|wait| {
        state.metrics.rate_limited_login.inc();
        AppError::rate_limited(
            ErrorCode::RateLimited,
            "too many login attempts; retry later",
            wait,
        )
    })
}

fn token_response(state: &AppState, user_id: u64) -> Result<HttpResponse, AppError> {
    let now = shared::clock::unix_now();
    let token = state.jwt.issue(user_id, now).map_err(|e| {
        tracing::error!(error = %e, "cannot issue a token");
        AppError::internal()
    })?;
    Ok(ok_json(&TokenResponse {
        access_token: token,
        token_type: "JWT".into(),
        expires_in: state.jwt.ttl_secs(),
        user_id: user_id.to_string(),
        upload_prefix: prefix_of(user_id)?.as_str().to_owned(),
    }))
}

async fn upsert_user(
    state: &Data,
    provider: Provider,
    subject: String,
    unionid: Option<String>,
) -> Result<u64, AppError> {
    let now = shared::clock::unix_now();
    let id = state
        .users
        .upsert(provider, &subject, unionid.as_deref(), now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "user upsert failed");
            AppError::internal()
        })?;
    if id == 0 {
        tracing::error!("user upsert returned id 0");
        return Err(AppError::internal());
    }
    Ok(id)
}

/// Exchange a `wx.login` code for a token.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "`invalid_input`: malformed JSON body, or code is not 1-256 printable ASCII characters", body = ApiError),
        (status = 401, description = "`invalid_code` (40029) or `code_used` (40163)", body = ApiError),
        (status = 403, description = "`user_blocked` (40226)", body = ApiError),
        (status = 429, description = "`rate_limited` (per IP) or `wechat_rate_limited` (45011); see Retry-After", body = ApiError),
        (status = 502, description = "`wechat_busy` (-1), `wechat_error` (other errcode) or `wechat_unavailable`", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
        (status = 503, description = "`login_not_configured`: no WeChat appid/secret", body = ApiError),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: Data,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    login_limit(&state, &req)?;
    let code = body.into_inner().code;
    if code.is_empty() || code.len() > 256 || !code.bytes().all(|b| b.is_ascii_graphic()) {
        state.metrics.login_failed.inc();
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "code must be 1-256 printable ASCII characters",
        ));
    }
    let session = match state.wechat.code_to_session(&code).await {
        Ok(s) => s,
        Err(e) => {
            state.metrics.login_failed.inc();
            return Err(wechat_error(&state, e));
        }
    };
    let id = upsert_user(&state, Provider::Wechat, session.openid, session.unionid).await?;
    state.metrics.login_ok.inc();
    tracing::info!(user_id = id, "login");
    token_response(&state, id)
}

fn wechat_error(state: &AppState, e: WechatError) -> AppError {
    match e {
        WechatError::InvalidCode => {
            AppError::new(ErrorCode::InvalidCode, "the login code is invalid")
        }
        WechatError::CodeUsed => AppError::new(
            ErrorCode::CodeUsed,
            "the login code was already used; call wx.login again",
        ),
        WechatError::Blocked => AppError::new(
            ErrorCode::UserBlocked,
            "WeChat blocked this login (high-risk user)",
        ),
        WechatError::RateLimited => AppError::rate_limited(
            ErrorCode::WechatRateLimited,
            "WeChat's login quota for this user is exhausted; retry in a minute",
            60,
        ),
        WechatError::Busy => {
            state.metrics.wechat_errors.inc();
            AppError::new(ErrorCode::WechatBusy, "WeChat is busy; retry").with_retry_after(1)
        }
        WechatError::Other {
            errcode,
            ref errmsg,
        } => {
            state.metrics.wechat_errors.inc();
            tracing::warn!(errcode, errmsg = %errmsg, "jscode2session error");
            AppError::new(
                ErrorCode::WechatError,
                format!("WeChat refused the login (errcode {errcode})"),
            )
        }
        WechatError::Unavailable(ref why) => {
            state.metrics.wechat_errors.inc();
            tracing::warn!(reason = %why, "jscode2session unavailable");
            AppError::new(
                ErrorCode::WechatUnavailable,
                "WeChat cannot be reached; retry later",
            )
        }
        WechatError::NotConfigured => AppError::new(
            ErrorCode::LoginNotConfigured,
            "WeChat login is not configured on this server",
        ),
    }
}

/// A token for a named user, without WeChat (only when dev login is enabled).
#[utoipa::path(
    post, path = "/v1/auth/dev-login", tag = "auth",
    request_body = DevLoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "`invalid_input`: malformed JSON body, or user does not match [A-Za-z0-9_.-]{1,64}", body = ApiError),
        (status = 404, description = "`not_found`: dev login is disabled", body = ApiError),
        (status = 429, description = "`rate_limited` (per IP); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn dev_login(
    req: HttpRequest,
    state: Data,
    body: web::Json<DevLoginRequest>,
) -> Result<HttpResponse, AppError> {
    if !state.dev_login {
        return Err(not_found_error());
    }
    login_limit(&state, &req)?;
    let user = body.into_inner().user;
    if user.is_empty()
        || user.len() > 64
        || !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        state.metrics.login_failed.inc();
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "user must be 1-64 characters of [A-Za-z0-9_.-]",
        ));
    }
    let id = upsert_user(&state, Provider::Dev, user, None).await?;
    state.metrics.dev_login_ok.inc();
    tracing::info!(user_id = id, "dev login");
    token_response(&state, id)
}
