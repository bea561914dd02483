//! Every error response of the server's own routes: the stable codes, the one
//! error type handlers return (rendered as `{error_code, message}`), and the
//! same rendering for errors the framework raises (malformed JSON bodies and
//! queries, payload limits).

use std::fmt;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError, web};
use shared::wire::ApiError;

/// The stable `error_code` of every error the server answers. Clients match on
/// [`ErrorCode::as_str`]; the OpenAPI document lists, per route, the codes it
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400 `invalid_input`: a malformed body, query or value.
    InvalidInput,
    /// 400 `invalid_path`: a directory that does not validate.
    InvalidPath,
    /// 400 `invalid_key`: an object key that does not validate.
    InvalidKey,
    /// 400 `invalid_content_type`: a POST policy content type that is not a
    /// printable MIME type or `<type>/` prefix.
    InvalidContentType,
    /// 400 `extension_not_allowed`: a file extension outside `sts.allowed_extensions`.
    ExtensionNotAllowed,
    /// 400 `too_large`: a declared size above `signing.max_upload_size`.
    TooLarge,
    /// 400 `unsupported_method`: a v5 method the server does not sign.
    UnsupportedMethod,
    /// 400 `query_not_allowed`: a v5 query parameter that cannot be signed.
    QueryNotAllowed,
    /// 400 `header_not_allowed`: an `x-cos-*` header that cannot be signed.
    HeaderNotAllowed,
    /// 400 `host_mismatch`: a `Host` other than the bucket's.
    HostMismatch,
    /// 400 `cors_refused`: a CORS preflight asking for a header outside the allow-list.
    CorsRefused,
    /// 401 `missing_token`: no `Authorization` header.
    MissingToken,
    /// 401 `invalid_token`: a token that does not verify.
    InvalidToken,
    /// 401 `token_expired`.
    TokenExpired,
    /// 401 `invalid_code`: WeChat refused the login code (40029).
    InvalidCode,
    /// 401 `code_used`: the login code was already used (40163).
    CodeUsed,
    /// 403 `outside_prefix`: a path outside the caller's `/u/<id>/`.
    OutsidePrefix,
    /// 403 `user_blocked`: WeChat blocked the login (40226).
    UserBlocked,
    /// 404 `not_found`.
    NotFound,
    /// 405 `method_not_allowed`.
    MethodNotAllowed,
    /// 413 `payload_too_large`.
    PayloadTooLarge,
    /// 429 `rate_limited`: this server's limiter.
    RateLimited,
    /// 429 `wechat_rate_limited`: WeChat's login quota (45011).
    WechatRateLimited,
    /// 500 `internal_error`: a server fault (the cause is logged, not shown).
    InternalError,
    /// 502 `wechat_busy`: WeChat answered -1.
    WechatBusy,
    /// 502 `wechat_error`: WeChat answered another error code.
    WechatError,
    /// 502 `wechat_unavailable`: WeChat could not be reached or understood.
    WechatUnavailable,
    /// 503 `login_not_configured`: no WeChat appid/secret.
    LoginNotConfigured,
    /// 503 `sts_unavailable`: Tencent STS could not be reached or refused
    /// (the cause is logged, not shown).
    StsUnavailable,
    /// 503 `database_unavailable`: the database did not answer the readiness
    /// check (`GET /readyz`).
    DatabaseUnavailable,
    /// `error`: any other framework error, answered with the framework's status.
    Other,
}

impl ErrorCode {
    /// The code as it appears in `error_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::InvalidPath => "invalid_path",
            Self::InvalidKey => "invalid_key",
            Self::InvalidContentType => "invalid_content_type",
            Self::ExtensionNotAllowed => "extension_not_allowed",
            Self::TooLarge => "too_large",
            Self::UnsupportedMethod => "unsupported_method",
            Self::QueryNotAllowed => "query_not_allowed",
            Self::HeaderNotAllowed => "header_not_allowed",
            Self::HostMismatch => "host_mismatch",
            Self::CorsRefused => "cors_refused",
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::InvalidCode => "invalid_code",
            Self::CodeUsed => "code_used",
            Self::OutsidePrefix => "outside_prefix",
            Self::UserBlocked => "user_blocked",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::WechatRateLimited => "wechat_rate_limited",
            Self::InternalError => "internal_error",
            Self::WechatBusy => "wechat_busy",
            Self::WechatError => "wechat_error",
            Self::WechatUnavailable => "wechat_unavailable",
            Self::LoginNotConfigured => "login_not_configured",
            Self::StsUnavailable => "sts_unavailable",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::Other => "error",
        }
    }

    /// The status the server answers this code with. (Errors the framework
    /// raises keep the framework's status: see [`ErrorCode::for_status`].)
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidInput
            | Self::InvalidPath
            | Self::InvalidKey
            | Self::InvalidContentType
            | Self::ExtensionNotAllowed
            | Self::TooLarge
            | Self::UnsupportedMethod
            | Self::QueryNotAllowed
            | Self::HeaderNotAllowed
            | Self::HostMismatch
            | Self::CorsRefused
            | Self::Other => StatusCode::BAD_REQUEST,
            Self::MissingToken
            | Self::InvalidToken
            | Self::TokenExpired
            | Self::InvalidCode
            | Self::CodeUsed => StatusCode::UNAUTHORIZED,
            Self::OutsidePrefix | Self::UserBlocked => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited | Self::WechatRateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::WechatBusy | Self::WechatError | Self::WechatUnavailable => {
                StatusCode::BAD_GATEWAY
            }
            Self::LoginNotConfigured | Self::StsUnavailable | Self::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The code of an error response the framework produced itself (a body
    /// extractor or payload limit refusing the request, an unknown route).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 | 411 | 415 | 422 => Self::InvalidInput,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            413 => Self::PayloadTooLarge,
            s if s >= 500 => Self::InternalError,
            _ => Self::Other,
        }
    }

    /// The `WWW-Authenticate` challenge of the token codes (RFC 6750 §3: no
    /// `error` attribute when no token was sent). Login failures (a bad
    /// WeChat code) carry none.
    fn challenge(self) -> Option<&'static str> {
        match self {
            Self::MissingToken => Some("Bearer realm=\"metis\""),
            Self::InvalidToken | Self::TokenExpired => {
                Some("Bearer realm=\"metis\", error=\"invalid_token\"")
            }
            _ => None,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client-visible error: status, stable code and a message without secrets.
#[derive(Debug, Clone)]
pub struct AppError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    retry_after: Option<u64>,
}

impl AppError {
    /// An error with its code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::with_status(code.status(), code, message)
    }

    /// An error with a status the framework chose (see [`ErrorCode::for_status`]).
    pub fn with_status(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 403 `outside_prefix`.
    pub fn outside_prefix(what: &str, prefix: &str) -> Self {
        Self::new(
            ErrorCode::OutsidePrefix,
            format!("{what} is outside your upload prefix {prefix}"),
        )
    }

    /// A 429 code with `Retry-After`.
    pub fn rate_limited(code: ErrorCode, message: impl Into<String>, retry_after: u64) -> Self {
        Self::new(code, message).with_retry_after(retry_after)
    }

    /// 500; the cause is logged by the caller, not shown.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalError,
            "internal error; see the server log",
        )
    }

    /// Adds `Retry-After: <secs>`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if let Some(challenge) = self.code.challenge() {
            resp.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            ));
        }
        if let Some(secs) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        resp.json(ApiError {
            error_code: self.code.as_str().to_owned(),
            message: self.message.clone(),
        })
    }
}

/// Renders any non-JSON error response of our own routes (extractor errors,
/// payload limits) as `{error_code, message}`.
pub(crate) fn json_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = res
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let (req, _) = res.into_parts();
    let resp =
        AppError::with_status(status, ErrorCode::for_status(status), message).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp).map_into_right_body(),
    ))
}

/// JSON bodies: at most 64 KiB; a malformed one is 400 `invalid_input`.
pub(crate) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| {
            AppError::new(ErrorCode::InvalidInput, format!("invalid JSON body: {err}")).into()
        })
}

/// A malformed query is 400 `invalid_input`.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::new(ErrorCode::InvalidInput, format!("invalid query: {err}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_status_keeps_its_code() {
        for (status, code) in [
            (400, ErrorCode::InvalidInput),
            (411, ErrorCode::InvalidInput),
            (415, ErrorCode::InvalidInput),
            (422, ErrorCode::InvalidInput),
            (404, ErrorCode::NotFound),
            (405, ErrorCode::MethodNotAllowed),
            (413, ErrorCode::PayloadTooLarge),
            (500, ErrorCode::InternalError),
            (503, ErrorCode::InternalError),
            (408, ErrorCode::Other),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(ErrorCode::for_status(status), code, "{status}");
        }
    }
}
