//! Temporary credentials: the security token a request presents (header,
//! query parameter or POST Object form field), opened with the store's token
//! key and checked against the clock and the request's `q-ak`. The signature
//! itself is then verified with the TmpSecretKey derived here, exactly as a
//! permanent key's (`auth.rs`), and the token's policy decides what the
//! request may do (`access.rs`).
//!
//! A token is never logged nor echoed: refusals say which check failed.

use actix_web::HttpRequest;
use cos_sign::Credentials;
use cos_sign::sts::{self, TmpSecretId, TokenError};
use shared::cam::Policy;

use super::Ctx;
use super::error::{V5Error, err};
use crate::http;
use crate::inner::Inner;

/// The header, query parameter and POST Object form field that carry it.
pub(super) const SECURITY_TOKEN: &str = "x-cos-security-token";

/// The token the request presents, wherever it travels: the header, the
/// query (a presigned URL; the JS SDKs append it unsigned, the Python SDK
/// signs it) and, for POST Object, the form field (the wx SDK sends both the
/// field and the header). Two different tokens on one request are refused.
pub(super) fn presented(
    req: &HttpRequest,
    ctx: &Ctx,
    form_field: Option<String>,
) -> Result<Option<String>, V5Error> {
    let header = http::header(req, SECURITY_TOKEN).map(str::to_owned);
    let query = http::param(&ctx.params, SECURITY_TOKEN).map(str::to_owned);
    let mut found: Option<String> = None;
    for token in [header, query, form_field]
        .into_iter()
        .flatten()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        match &found {
            Some(first) if *first != token => {
                return Err(invalid_token(
                    "the request carries two different security tokens (header, query \
                     parameter or form field); send one",
                ));
            }
            _ => found = Some(token),
        }
    }
    Ok(found)
}

/// An opened, current security token: the key its requests are signed with
/// and the policy that bounds them.
#[derive(Debug)]
pub(super) struct Temporary {
    /// The TmpSecretId with the TmpSecretKey derived from it (redacted in `Debug`).
    pub(super) credentials: Credentials,
    /// The CAM policy the token carries.
    pub(super) policy: Policy,
}

/// Opens `token` for a request signed by `q_ak` at `now`: the store must
/// hold a token key (else 403 `AccessDenied`), the token must be one it
/// minted, unchanged (else 400 `InvalidToken`), current within the allowed
/// clock skew (else 400 `ExpiredToken`), for `q_ak` (else 403
/// `InvalidAccessKeyId`: a permanent key's signature with a token is
/// refused too), and carry a policy this store reads (else 403 `AccessDenied`).
pub(super) fn open(inner: &Inner, token: &str, q_ak: &str, now: u64) -> Result<Temporary, V5Error> {
    let Some(key) = &inner.config.sts_token_key else {
        return Err(err(
            403,
            "AccessDenied",
            "Access Denied: this store does not accept temporary credentials (it has no STS \
             token key configured); sign with a permanent SecretId and SecretKey, or configure \
             the key the credentials were minted with.",
        ));
    };
    let claims = sts::open(key, token).map_err(|e| match e {
        TokenError::BadMac => invalid_token(
            "the security token was not issued for this store or was changed (its MAC does not \
             match); ask for new temporary credentials",
        ),
        other => invalid_token(&format!("{other}; ask for new temporary credentials")),
    })?;
    let skew = inner.config.max_skew_secs;
    if now > claims.expired_time.saturating_add(skew) {
        return Err(expired(format!(
            "The provided token has expired: the temporary credentials expired at {} (now {now}); \
             ask for new ones.",
            claims.expired_time
        )));
    }
    if claims.start_time > now.saturating_add(skew) {
        return Err(expired(format!(
            "The provided token is not valid yet: the temporary credentials start at {} (now \
             {now}); check the clocks.",
            claims.start_time
        )));
    }
    if claims.id.as_str() != q_ak {
        return Err(err(
            403,
            "InvalidAccessKeyId",
            "The SecretId you provided (q-ak) is not the TmpSecretId of the security token: sign \
             with the TmpSecretId and TmpSecretKey that came with the token.",
        ));
    }
    let policy = Policy::from_json(&claims.policy).map_err(|e| {
        err(
            403,
            "AccessDenied",
            format!("Access Denied: the temporary credentials carry a policy this store cannot read ({e})."),
        )
    })?;
    Ok(Temporary {
        credentials: credentials_of(key, &claims.id),
        policy,
    })
}

fn credentials_of(key: &sts::TokenKey, id: &TmpSecretId) -> Credentials {
    Credentials {
        secret_id: id.as_str().to_owned(),
        secret_key: sts::derive_tmp_secret_key(key, id).into_secret_key(),
    }
}

/// 400 `InvalidToken`, as S3 answers a malformed or unknown session token:
/// Tencent's error code list (https://cloud.tencent.com/document/product/436/7730)
/// names `ExpiredToken` but no code for a token that is not valid.
fn invalid_token(detail: &str) -> V5Error {
    err(
        400,
        "InvalidToken",
        format!("The provided token is malformed or otherwise invalid: {detail}."),
    )
}

/// 400 `ExpiredToken`, COS's code for an expired temporary key's token.
fn expired(message: String) -> V5Error {
    err(400, "ExpiredToken", message)
}
