//! The v4 signature: from the `Authorization` header or `?sign=`, verified
//! against the request's bucket and path. Multi-effect signatures may be used
//! again until they expire; a single-effect one is good for one request.

use actix_web::HttpRequest;
use shared::v4::codes;

use super::Ctx;
use super::error::{V4Error, fail};
use crate::http;
use crate::inner::Inner;

/// The signature's effect, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Multi,
    Single,
}

/// Verifies the v4 signature (header `Authorization`, else `?sign=`).
pub(super) fn verify(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
) -> Result<(Effect, String), V4Error> {
    let sign = match http::header(req, "authorization") {
        Some(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => http::query_pairs(req.query_string())
            .into_iter()
            .find(|(k, _)| k == "sign")
            .map(|(_, v)| v)
            .ok_or_else(|| {
                fail(
                    403,
                    codes::SIGN_INVALID,
                    "ERROR_PROXY_SIGN_MISSING: no signature; send it as the Authorization header or ?sign=",
                )
            })?,
    };
    let expect = cos_sign::v4::Expect {
        appid: &inner.config.appid,
        bucket: &ctx.bucket,
        path: &ctx.path,
        now: shared::clock::unix_now(),
        max_skew: inner.config.max_skew_secs,
    };
    let claims = cos_sign::v4::verify(&sign, &inner.config.credentials, &expect).map_err(|e| {
        use cos_sign::VerifyError as E;
        match e {
            E::Expired { .. } => fail(
                403,
                codes::SIGN_EXPIRED,
                format!("ERROR_PROXY_SIGN_EXPIRED: the signature has expired ({e}); ask for a new one"),
            ),
            E::BucketMismatch => fail(
                403,
                codes::SIGN_BUCKET_MISMATCH,
                format!(
                    "ERROR_PROXY_SIGN_BUCKET_NOTMATCH: the signature is for another bucket than {:?}",
                    ctx.bucket
                ),
            ),
            other => fail(
                403,
                codes::SIGN_INVALID,
                format!("ERROR_PROXY_SIGN_INVALID: {other}"),
            ),
        }
    })?;
    let effect = if claims.is_single_effect() {
        Effect::Single
    } else {
        Effect::Multi
    };
    Ok((effect, sign))
}

pub(super) fn require_multi(effect: Effect, op: &str) -> Result<(), V4Error> {
    if effect == Effect::Single {
        return Err(fail(
            403,
            codes::SIGN_INVALID,
            format!("ERROR_PROXY_SIGN_INVALID: op={op} needs a multi-effect signature (e > 0)"),
        ));
    }
    Ok(())
}

/// Single-effect signatures are good for one request: the first use consumes it.
pub(super) fn require_single(
    inner: &Inner,
    effect: Effect,
    sign: &str,
    op: &str,
) -> Result<(), V4Error> {
    if effect == Effect::Multi {
        return Err(fail(
            403,
            codes::SIGN_INVALID,
            format!(
                "ERROR_PROXY_SIGN_INVALID: op={op} needs a single-effect signature (e = 0, bound to the path)"
            ),
        ));
    }
    if !inner.used_signs.consume(sign)? {
        return Err(fail(
            403,
            codes::SIGN_REPLAYED,
            "ERROR_PROXY_SIGN_REPLAYED: this single-effect signature has already been used",
        ));
    }
    Ok(())
}
