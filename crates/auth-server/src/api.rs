//! The HTTP handlers and the OpenAPI document that describes them.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, web};
use cos_sign::policy::{Condition, PostPolicy};
use cos_sign::v4::Signer;
use cos_sign::v5::{self, KeyTime};
use rand::Rng as _;
use serde::Deserialize;
use shared::wire::{
    ApiError, DevLoginRequest, LoginRequest, PostPolicyRequest, PostPolicyResponse, SignResponse,
    TokenResponse, V5SignRequest, V5SignResponse,
};
use shared::{DirPath, ObjectKey};
use utoipa::{IntoParams, OpenApi};

use crate::auth::{AuthUser, client_ip, prefix_of};
use crate::db::{AuditRecord, Kind, Provider};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::wechat::WechatError;

type Data = web::Data<AppState>;

/// Largest v4 nonce (`r`) plus one: ten decimal digits.
const NONCE_BOUND: u64 = 10_000_000_000;

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

fn ok_json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(body)
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
    let users = state.users.clone();
    let now = shared::clock::unix_now();
    let id = web::block(move || users.upsert(provider, &subject, unionid.as_deref(), now))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "user upsert task failed");
            AppError::internal()
        })?
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

/// Query of the v4 endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct V4Query {
    /// Directory to bind the signature to, inside the caller's prefix
    /// (`/u/<id>/...`, trailing `/` optional). Default: the caller's prefix.
    pub cos_path: Option<String>,
}

fn key_error(code: ErrorCode, e: &shared::KeyError) -> AppError {
    AppError::new(code, e.to_string())
}

/// The directory a client asked for, validated and inside `prefix` (whole
/// segments), exactly as given (`None` = the whole prefix).
pub fn check_dir(
    prefix: &DirPath,
    requested: Option<&str>,
    what: &str,
) -> Result<DirPath, AppError> {
    let dir = match requested {
        None => prefix.clone(),
        Some(p) => DirPath::parse(p).map_err(|e| key_error(ErrorCode::InvalidPath, &e))?,
    };
    if !dir.is_within(prefix) {
        return Err(AppError::outside_prefix(
            &format!("{what} {}", dir.as_str()),
            prefix.as_str(),
        ));
    }
    Ok(dir)
}

/// An object key a client asked for, validated and inside `prefix`.
pub fn check_key(prefix: &DirPath, requested: &str) -> Result<ObjectKey, AppError> {
    let key = ObjectKey::parse(requested).map_err(|e| key_error(ErrorCode::InvalidKey, &e))?;
    if !key.is_within(prefix) {
        return Err(AppError::outside_prefix(
            &format!("key {}", key.as_str()),
            prefix.as_str(),
        ));
    }
    Ok(key)
}

fn count_refusal<T>(state: &AppState, r: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &r
        && e.code() == ErrorCode::OutsidePrefix
    {
        state.metrics.outside_prefix.inc();
    }
    r
}

fn grant_dir(
    state: &AppState,
    prefix: &DirPath,
    requested: Option<&str>,
    what: &str,
) -> Result<DirPath, AppError> {
    count_refusal(state, check_dir(prefix, requested, what))
}

fn grant_key(state: &AppState, prefix: &DirPath, requested: &str) -> Result<ObjectKey, AppError> {
    count_refusal(state, check_key(prefix, requested))
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
    });
    Ok(ok_json(&SignResponse {
        sign,
        expires_at,
        cos_path: dir.as_str().to_owned(),
        upload_url,
    }))
}

/// Headers a v5 signature may cover (besides `x-cos-meta-*`). Any other
/// `x-cos-*` header, e.g. `x-cos-copy-source` (which would read another user's
/// object) or `x-cos-acl`, is refused; other headers (`User-Agent`, `Accept`…)
/// are left out of the signature.
pub(crate) const SIGNABLE_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "content-md5",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "x-cos-storage-class",
    "x-cos-forbid-overwrite",
    "x-cos-content-sha1",
];

fn check_text(what: &str, name: &str, value: &str) -> Result<(), AppError> {
    if value.len() > 1024 || value.chars().any(char::is_control) {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("{what} {name:?} has a control character or is too long"),
        ));
    }
    Ok(())
}

/// Checks the sub-resource parameters for `method` (v5 object operations and
/// multipart upload only) and returns them lower-cased by name.
fn check_v5_query(method: &str, query: &BTreeMap<String, String>) -> Result<(), AppError> {
    let has = |k: &str| query.contains_key(k);
    let allowed: &[&str] = match method {
        "PUT" => &["partNumber", "uploadId"],
        "POST" => &["uploads", "uploadId"],
        "GET" => &[
            "uploadId",
            "max-parts",
            "part-number-marker",
            "encoding-type",
        ],
        "DELETE" => &["uploadId"],
        _ => &[],
    };
    for (k, v) in query {
        if !allowed.contains(&k.as_str()) {
            return Err(AppError::new(
                ErrorCode::QueryNotAllowed,
                format!("query parameter {k:?} cannot be signed for {method}"),
            ));
        }
        check_text("query parameter", k, v)?;
    }
    let numeric = |k: &str| {
        query
            .get(k)
            .is_none_or(|v| !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
    };
    let valid = match method {
        "PUT" => has("partNumber") == has("uploadId") && numeric("partNumber"),
        "POST" => has("uploads") != has("uploadId"),
        "GET" => numeric("max-parts") && numeric("part-number-marker"),
        _ => true,
    };
    if !valid {
        return Err(AppError::new(
            ErrorCode::QueryNotAllowed,
            format!("this combination of query parameters cannot be signed for {method}"),
        ));
    }
    Ok(())
}

/// `GET /?uploads` (List Multipart Uploads), which `uploadFile`/`sliceUploadFile` of the
/// v5 SDKs call to resume: allowed only with a signed `prefix` inside the caller's own
/// prefix, so the listing cannot show another user's uploads.
fn check_uploads_listing(
    prefix: &DirPath,
    query: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    const ALLOWED: [&str; 7] = [
        "uploads",
        "prefix",
        "delimiter",
        "encoding-type",
        "max-uploads",
        "key-marker",
        "upload-id-marker",
    ];
    for (k, v) in query {
        if !ALLOWED.contains(&k.as_str()) {
            return Err(AppError::new(
                ErrorCode::QueryNotAllowed,
                format!("query parameter {k:?} cannot be signed for a multipart upload listing"),
            ));
        }
        check_text("query parameter", k, v)?;
    }
    let requested = query.get("prefix").map_or("", String::as_str);
    if !requested.starts_with(prefix.key_prefix()) {
        return Err(AppError::outside_prefix(
            &format!("upload listing prefix {requested:?}"),
            prefix.as_str(),
        ));
    }
    Ok(())
}

/// `host[:port]` of a URL, lower-cased (the v5 `host` header).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// Sign one v5 request for a key inside the caller's prefix. The body is the
/// options object the SDKs pass to `getAuthorization`; `host` is always signed.
#[utoipa::path(
    post, path = "/v1/cos/v5/sign", tag = "signing",
    request_body = V5SignRequest,
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Authorization for exactly this request", body = V5SignResponse),
        (status = 400, description = "`invalid_key` (the message says why), `unsupported_method`, `query_not_allowed`, `header_not_allowed`, `host_mismatch` (a Host other than the bucket's) or `invalid_input` (malformed JSON body, a header given twice, a control character or an over-long value)", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: the key (or the upload listing's prefix) is not inside /u/<id>/", body = ApiError),
        (status = 429, description = "`rate_limited` (per user); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn v5_sign(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    body: web::Json<V5SignRequest>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    let body = body.into_inner();
    let method = body.method.to_ascii_uppercase();
    if !state.v5_methods.contains(&method) {
        return Err(AppError::new(
            ErrorCode::UnsupportedMethod,
            format!(
                "method {:?} is not signed here (allowed: {})",
                body.method,
                state.v5_methods.join(", ")
            ),
        ));
    }
    // An object request, or the one bucket-level request the SDKs' resumable
    // uploads make: listing the caller's own unfinished multipart uploads.
    let key =
        if body.object_key().is_empty() && method == "GET" && body.query.contains_key("uploads") {
            count_refusal(&state, check_uploads_listing(&user.prefix, &body.query))?;
            None
        } else {
            let key = grant_key(&state, &user.prefix, body.object_key())?;
            check_v5_query(&method, &body.query)?;
            Some(key)
        };
    let mut headers: Vec<(String, String)> = Vec::with_capacity(body.headers.len() + 1);
    for (name, value) in &body.headers {
        let lower = name.to_ascii_lowercase();
        check_text("header", name, value)?;
        if lower == "host" {
            if !value.eq_ignore_ascii_case(&state.v5_host) {
                return Err(AppError::new(
                    ErrorCode::HostMismatch,
                    format!("Host must be {}", state.v5_host),
                ));
            }
            continue;
        }
        let meta = lower.starts_with("x-cos-meta-") && lower.len() > "x-cos-meta-".len();
        if !meta && !SIGNABLE_HEADERS.contains(&lower.as_str()) && !lower.starts_with("x-cos-") {
            // A transport header such as `User-Agent` (cos-nodejs-sdk-v5 passes it to
            // getAuthorization): it changes nothing the store does, so it is left out
            // of the signature instead of failing the SDK's request.
            continue;
        }
        if !meta && !SIGNABLE_HEADERS.contains(&lower.as_str()) {
            return Err(AppError::new(
                ErrorCode::HeaderNotAllowed,
                format!("header {name:?} cannot be signed"),
            ));
        }
        if headers.iter().any(|(n, _)| *n == lower) {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("header {name:?} is given twice"),
            ));
        }
        headers.push((lower, value.clone()));
    }
    headers.push(("host".to_owned(), state.v5_host.clone()));
    let now = shared::clock::unix_now();
    let end = now + state.sign_ttl_secs;
    let key_time = KeyTime::new(now, end).map_err(|_| AppError::internal())?;
    let path = key
        .as_ref()
        .map_or_else(|| "/".to_owned(), ObjectKey::v4_path);
    let params: Vec<(&str, &str)> = body
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let hdrs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let signature = v5::sign(
        &state.cos.credentials,
        &v5::Request {
            method: &method,
            path: &path,
            params: &params,
            headers: &hdrs,
        },
        key_time,
    );
    state.metrics.signed_v5.inc();
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind: Kind::V5,
        target: match &key {
            Some(k) => format!("{method} {}", k.as_str()),
            None => format!(
                "{method} ?uploads&prefix={}",
                body.query.get("prefix").map_or("", String::as_str)
            ),
        },
        expires_at: end,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
    });
    Ok(ok_json(&V5SignResponse {
        authorization: signature.to_authorization(),
        start_time: now,
        expired_time: end,
        key: key.as_ref().map_or("", ObjectKey::as_str).to_owned(),
        url: format!("{}{}", state.cos.v5_endpoint, cos_sign::encode_path(&path)),
    }))
}

/// An exact MIME type, or a type prefix `<type>/` (one `/`, at the end).
fn valid_content_type(ct: &str) -> bool {
    let printable = !ct.is_empty()
        && ct.len() <= 128
        && ct
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'));
    let prefix_ok = match ct.strip_suffix('/') {
        Some(ty) => !ty.is_empty() && !ty.contains('/'),
        None => true,
    };
    printable && prefix_ok
}

/// A signed POST Object form for a key, or a key prefix, inside the caller's prefix.
#[utoipa::path(
    post, path = "/v1/cos/v5/post-policy", tag = "signing",
    request_body = PostPolicyRequest,
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Form fields; POST them with the `file` part last to `url`. The policy allows files of min_size..=max_size bytes (`content-length-range`) and, with content_type, either exactly that Content-Type (returned as a fixed `Content-Type` field) or, for a prefix ending in `/` such as `image/`, any Content-Type starting with it (`[\"starts-with\", \"$Content-Type\", \"image/\"]`; the client sends its own `Content-Type` field)", body = PostPolicyResponse),
        (status = 400, description = "`invalid_key`, `invalid_path`, `invalid_content_type` (not a printable MIME type of at most 128 characters, or a prefix other than `<type>/`) or `invalid_input` (malformed JSON body, both key and prefix, zero expiry, min_size above the effective max_size)", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: the key or prefix is not inside /u/<id>/", body = ApiError),
        (status = 429, description = "`rate_limited` (per user); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn post_policy(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    body: web::Json<PostPolicyRequest>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    let body = body.into_inner();
    let (key_field, key_condition, target) = match (&body.key, &body.prefix) {
        (Some(_), Some(_)) => {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "give either key or prefix, not both",
            ));
        }
        (Some(k), None) => {
            let key = grant_key(&state, &user.prefix, k)?;
            let k = key.as_str().to_owned();
            (k.clone(), Condition::Exact("key".into(), k.clone()), k)
        }
        (None, p) => {
            let dir = grant_dir(&state, &user.prefix, p.as_deref(), "prefix")?;
            let kp = dir.key_prefix().to_owned();
            (
                kp.clone(),
                Condition::StartsWith("key".into(), kp.clone()),
                format!("{kp}*"),
            )
        }
    };
    let max_size = body
        .max_size
        .unwrap_or(state.max_upload_size)
        .min(state.max_upload_size);
    let min_size = body.min_size.unwrap_or(0);
    if min_size > max_size {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("min_size {min_size} exceeds the largest allowed size {max_size}"),
        ));
    }
    let ttl = body
        .expires_in
        .unwrap_or(state.sign_ttl_secs)
        .min(state.sign_ttl_secs);
    if ttl == 0 {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "expires_in must be at least 1",
        ));
    }
    let mut conditions = vec![
        key_condition,
        Condition::ContentLengthRange(min_size, max_size),
    ];
    let mut fixed_type = None;
    if let Some(ct) = &body.content_type {
        if !valid_content_type(ct) {
            return Err(AppError::new(
                ErrorCode::InvalidContentType,
                "content_type must be a printable MIME type of at most 128 characters, \
                 or a type prefix such as image/",
            ));
        }
        if ct.ends_with('/') {
            conditions.push(Condition::StartsWith("Content-Type".into(), ct.clone()));
        } else {
            conditions.push(Condition::Eq("Content-Type".into(), ct.clone()));
            fixed_type = Some(ct.clone());
        }
    }
    let now = shared::clock::unix_now();
    let key_time = KeyTime::new(now, now + ttl).map_err(|_| AppError::internal())?;
    let policy = PostPolicy::for_upload(
        &state.cos.credentials,
        &state.bucket_full,
        key_time,
        conditions,
    );
    let form = cos_sign::policy::sign(&state.cos.credentials, key_time, &policy).map_err(|e| {
        tracing::error!(error = %e, "policy signing failed");
        AppError::internal()
    })?;
    let mut fields = BTreeMap::new();
    fields.insert("key".to_owned(), key_field);
    fields.insert("policy".to_owned(), form.policy);
    fields.insert(
        "q-sign-algorithm".to_owned(),
        form.q_sign_algorithm.to_owned(),
    );
    fields.insert("q-ak".to_owned(), form.q_ak);
    fields.insert("q-key-time".to_owned(), form.q_key_time);
    fields.insert("q-signature".to_owned(), form.q_signature);
    if let Some(ct) = fixed_type {
        fields.insert("Content-Type".to_owned(), ct);
    }
    state.metrics.signed_policy.inc();
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind: Kind::Policy,
        target,
        expires_at: now + ttl,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
    });
    Ok(ok_json(&PostPolicyResponse {
        url: format!("{}/", state.cos.v5_endpoint),
        fields,
        expires_at: now + ttl,
        max_size,
    }))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "`{\"status\":\"ok\"}`")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
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

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Send `Authorization: JWT <token>` (Metis style) or `Bearer <token>`; \
                         exactly one space, case-sensitive scheme.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3 description of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "metis auth-server",
        description = "Logs mini-program users in (WeChat jscode2session) and signs COS uploads \
                       into each user's own prefix /u/<user_id>/. Every error is \
                       {error_code, message}."
    ),
    paths(login, dev_login, v4_sign, v5_sign, post_policy, healthz, metrics, openapi),
    components(schemas(
        ApiError, LoginRequest, DevLoginRequest, TokenResponse, SignResponse, V5SignRequest,
        V5SignResponse, PostPolicyRequest, PostPolicyResponse
    )),
    modifiers(&SecurityAddon),
    tags(
        (name = "auth", description = "Login"),
        (name = "signing", description = "COS signatures for the caller's prefix"),
        (name = "ops", description = "Health, metrics, this document"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Path-ish strings: a likely prefix (ours, a look-alike, another user's)
    /// followed by segments drawn from pieces that include the dangerous
    /// characters, so grants and both kinds of refusal are all common.
    fn pathish() -> impl Strategy<Value = String> {
        let head = prop::sample::select(vec![
            "/u/12/", "/u/12", "/u/123/", "/u/1/", "/u/12//", "/", "", "u/12/", "/U/12/",
        ]);
        let piece = prop::sample::select(vec![
            "a", "12", ".", "..", "%2e", "\\", "\u{FF0E}", "\u{202E}", " ", "\u{0}", "测试",
            ".jpg", "/", "?",
        ]);
        (head, prop::collection::vec(piece, 0..8))
            .prop_map(|(h, pieces)| format!("{h}{}", pieces.concat()))
    }

    proptest! {
        #[test]
        fn a_granted_directory_is_inside_the_prefix_and_exactly_what_was_asked(
            asked in pathish(),
        ) {
            let prefix = DirPath::parse("/u/12/").unwrap();
            match check_dir(&prefix, Some(&asked), "cos_path") {
                Ok(dir) => {
                    prop_assert!(dir.as_str().starts_with("/u/12/"));
                    // Never rewritten: only the optional trailing '/' may differ.
                    let without = asked.strip_suffix('/').unwrap_or(&asked);
                    prop_assert_eq!(dir.without_trailing_slash(), without);
                    prop_assert!(!dir.as_str().split('/').any(|s| s == "." || s == ".."));
                    prop_assert_eq!(DirPath::parse(dir.as_str()).unwrap(), dir.clone());
                    // The v4 binding (the directory with its trailing '/') covers
                    // files below it and nothing beside it, even as a plain string
                    // prefix (which is how COS may match it).
                    let bound = dir.as_str();
                    prop_assert!(bound.ends_with('/'));
                    let file = format!("{bound}f.jpg");
                    prop_assert!(cos_sign::v4::path_within(&file, bound));
                    prop_assert!(!cos_sign::v4::path_within("/u/123/f.jpg", bound));
                    prop_assert!(!"/u/123/f.jpg".starts_with(bound));
                    let sibling = format!("{}0/f.jpg", dir.without_trailing_slash());
                    prop_assert!(!cos_sign::v4::path_within(&sibling, bound));
                    prop_assert!(!sibling.starts_with(bound));
                }
                Err(e) => prop_assert!(matches!(e.code(), ErrorCode::InvalidPath | ErrorCode::OutsidePrefix), "{e}"),
            }
        }

        #[test]
        fn a_granted_key_is_inside_the_prefix_and_exactly_what_was_asked(asked in pathish()) {
            let prefix = DirPath::parse("/u/12/").unwrap();
            let body = asked.strip_prefix('/').unwrap_or(&asked).to_owned();
            match check_key(&prefix, &body) {
                Ok(key) => {
                    prop_assert_eq!(key.as_str(), body.as_str());
                    prop_assert!(key.as_str().starts_with("u/12/"));
                }
                Err(e) => prop_assert!(matches!(e.code(), ErrorCode::InvalidKey | ErrorCode::OutsidePrefix), "{e}"),
            }
        }
    }

    #[test]
    fn the_openapi_document_renders() {
        let json = ApiDoc::openapi().to_json().unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(doc["paths"].as_object().is_some_and(|p| p.len() == 8));
        // The request schema documents the optional fields.
        let props = &doc["components"]["schemas"]["PostPolicyRequest"]["properties"];
        assert!(props.get("min_size").is_some() && props.get("content_type").is_some());
    }

    #[test]
    fn content_types_are_exact_or_a_type_prefix() {
        for ok in [
            "image/jpeg",
            "image/",
            "application/octet-stream",
            "text/plain;charset=utf-8",
        ] {
            assert!(valid_content_type(ok), "{ok}");
        }
        for bad in [
            "",
            "/",
            "image//",
            "a/b/",
            "image/jpeg\"x",
            "image/ jpeg",
            "a\\b",
        ] {
            assert!(!valid_content_type(bad), "{bad}");
        }
    }

    #[test]
    fn query_rules_per_method() {
        let q = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        let code = |method: &str, pairs: &[(&str, &str)]| {
            check_v5_query(method, &q(pairs)).map_err(|e| e.code())
        };
        assert_eq!(code("PUT", &[]), Ok(()));
        assert_eq!(
            code("PUT", &[("partNumber", "1"), ("uploadId", "x")]),
            Ok(())
        );
        assert_eq!(
            code("PUT", &[("partNumber", "1")]),
            Err(ErrorCode::QueryNotAllowed)
        );
        assert_eq!(
            code("PUT", &[("partNumber", "x"), ("uploadId", "x")]),
            Err(ErrorCode::QueryNotAllowed)
        );
        assert_eq!(code("PUT", &[("acl", "")]), Err(ErrorCode::QueryNotAllowed));
        assert_eq!(code("POST", &[("uploads", "")]), Ok(()));
        assert_eq!(code("POST", &[("uploadId", "x")]), Ok(()));
        assert_eq!(code("POST", &[]), Err(ErrorCode::QueryNotAllowed));
        assert_eq!(code("GET", &[("uploadId", "x")]), Ok(()));
        assert_eq!(
            code("HEAD", &[("uploadId", "x")]),
            Err(ErrorCode::QueryNotAllowed)
        );
        assert_eq!(code("DELETE", &[("uploadId", "x")]), Ok(()));
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(
            host_of("https://B-1.cos.ap-shanghai.myqcloud.com/x"),
            "b-1.cos.ap-shanghai.myqcloud.com"
        );
    }
}
