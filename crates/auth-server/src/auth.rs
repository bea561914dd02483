//! The `Authorization: JWT <token>` / `Bearer <token>` extractor and the
//! client-IP helper.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use shared::DirPath;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user id (JWT `sub`).
    pub id: u64,
    /// The caller's upload prefix, `/u/<id>/`.
    pub prefix: DirPath,
}

/// Stored in request extensions so the access log can name the user.
#[derive(Debug, Clone, Copy)]
pub struct LoggedUser(pub u64);

/// Splits `JWT <t>` / `Bearer <t>`: the scheme is case-sensitive, exactly one
/// space, and the token has no whitespace.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    if scheme != "JWT" && scheme != "Bearer" {
        return None;
    }
    if token.is_empty() || token.bytes().any(|b| !b.is_ascii_graphic()) {
        return None;
    }
    Some(token)
}

/// The upload prefix of a user, `/u/<id>/`.
///
/// Fails closed: if the prefix ever failed to parse (it is digits only, so it
/// cannot today), the request is refused with a 500 instead of falling back
/// to a wider prefix such as the whole bucket.
pub fn prefix_of(user_id: u64) -> Result<DirPath, AppError> {
    DirPath::parse(&format!("/u/{user_id}/")).map_err(|e| {
        tracing::error!(user_id, error = %e, "the user's upload prefix does not parse");
        AppError::internal()
    })
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(AppError::internal)?;
    let fail = |code: ErrorCode, msg: &str| {
        state.metrics.auth_failed.inc();
        AppError::new(code, msg)
    };
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(fail(
            ErrorCode::MissingToken,
            "send Authorization: JWT <token> (log in first)",
        ));
    };
    if values.next().is_some() {
        return Err(fail(
            ErrorCode::InvalidToken,
            "more than one Authorization header",
        ));
    }
    let token = value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
        fail(
            ErrorCode::InvalidToken,
            "Authorization must be 'JWT <token>' or 'Bearer <token>'",
        )
    })?;
    match state.jwt.verify(token, shared::clock::unix_now()) {
        Ok(id) => {
            req.extensions_mut().insert(LoggedUser(id));
            Ok(AuthUser {
                id,
                prefix: prefix_of(id)?,
            })
        }
        Err(e) => {
            tracing::debug!(reason = %e, "token refused");
            let (code, msg) = match e {
                crate::jwt::TokenError::Expired => (
                    ErrorCode::TokenExpired,
                    "the token has expired; log in again",
                ),
                crate::jwt::TokenError::NotYetValid | crate::jwt::TokenError::IssuedInFuture => (
                    ErrorCode::InvalidToken,
                    "the token is not valid yet (its nbf or iat lies in the future: \
                     check the clocks); log in again",
                ),
                _ => (
                    ErrorCode::InvalidToken,
                    "the token is not valid; log in again",
                ),
            };
            Err(fail(code, msg))
        }
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// The client's IP: the peer address, or, when the server is configured to
/// trust its proxy, the last `X-Forwarded-For` entry (the one that proxy
/// appended; earlier entries are whatever the client chose to send).
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip;
    }
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_parsing_is_strict() {
        assert_eq!(bearer_token("JWT abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer a.b.c"), Some("a.b.c"));
        for bad in [
            "jwt abc",
            "JWT  abc",
            "JWT",
            "JWT ",
            "abc",
            "Basic abc",
            "JWT a b",
            "bearer x",
            "JWT\tabc",
        ] {
            assert_eq!(bearer_token(bad), None, "{bad:?}");
        }
        assert_eq!(prefix_of(12).unwrap().as_str(), "/u/12/");
        assert_eq!(
            prefix_of(u64::MAX).unwrap().as_str(),
            format!("/u/{}/", u64::MAX)
        );
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted_and_only_its_last_entry() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.9:1234".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.7"))
            .to_http_request();
        assert_eq!(client_ip(&req, false).to_string(), "10.0.0.9");
        assert_eq!(client_ip(&req, true).to_string(), "203.0.113.7");
        let garbage = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.9:1234".parse().unwrap())
            .insert_header(("x-forwarded-for", "not-an-ip"))
            .to_http_request();
        assert_eq!(client_ip(&garbage, true).to_string(), "10.0.0.9");
    }
}
