//! Signature checks of v5 requests: the `Authorization` header or presigned
//! `q-*` query parameters (and POST Object's `Signature` field), with the
//! host-without-port fallback the SDKs need, and how a failed check is
//! answered. A request that presents a security token is verified with the
//! TmpSecretKey of its temporary credentials (`token.rs`) and bounded by
//! their policy (`access.rs`).

use actix_web::HttpRequest;
use cos_sign::KeyStore;

use super::Ctx;
use super::access::Access;
use super::error::{V5Error, err};
use super::token;
use crate::http;
use crate::inner::Inner;

/// Checks the request's signature (header or presigned query). `required`:
/// anonymous requests are refused; a request that carries a signature or a
/// security token is always checked, even where none is required.
pub(super) fn authorize(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    required: bool,
) -> Result<Access, V5Error> {
    let token = token::presented(req, ctx, None)?;
    authorize_with_token(inner, req, ctx, required, token)
}

/// [`authorize`] with the security token already found (POST Object also
/// looks in its form fields).
pub(super) fn authorize_with_token(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    required: bool,
    token: Option<String>,
) -> Result<Access, V5Error> {
    let parsed = match http::header(req, "authorization").filter(|v| !v.trim().is_empty()) {
        Some(value) => Some(cos_sign::v5::ParsedAuthorization::from_header(value)),
        None => {
            let pairs: Vec<(&str, &str)> = ctx
                .params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            cos_sign::v5::ParsedAuthorization::from_query(&pairs).transpose()
        }
    };
    let auth = match parsed {
        None if token.is_some() => return Err(token_unsigned()),
        None if required => {
            return Err(err(
                403,
                "AccessDenied",
                "Access Denied: the request is not signed and this operation needs a signature.",
            ));
        }
        None => return Ok(Access::Unrestricted),
        Some(Err(e)) => return Err(verify_error(&e)),
        Some(Ok(a)) => a,
    };
    let headers = http::header_pairs(req.headers());
    let params: Vec<(&str, &str)> = ctx
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let check = |keys: &dyn KeyStore| {
        verify_with_host_fallback(
            inner,
            keys,
            &auth,
            req.method().as_str(),
            &ctx.path,
            &params,
            &headers,
        )
    };
    with_keys(inner, token.as_deref(), &auth.secret_id, check)
}

/// Runs `check` with the keys that may have signed a request by `q_ak`: the
/// temporary credentials of `token` when the request presents one (opened
/// and checked first), else the store's permanent keys.
pub(super) fn with_keys(
    inner: &Inner,
    token: Option<&str>,
    q_ak: &str,
    check: impl FnOnce(&dyn KeyStore) -> Result<(), V5Error>,
) -> Result<Access, V5Error> {
    match token {
        None => {
            check(&inner.config.credentials)?;
            Ok(Access::Unrestricted)
        }
        Some(token) => {
            let temporary = token::open(inner, token, q_ak, shared::clock::unix_now())?;
            check(&temporary.credentials)?;
            Ok(Access::Temporary(Box::new(temporary)))
        }
    }
}

/// A security token without a signature: the token is only good with a
/// signature made with its TmpSecretKey.
pub(super) fn token_unsigned() -> V5Error {
    err(
        403,
        "AccessDenied",
        "Access Denied: the request presents a security token but no signature; sign it with \
         the TmpSecretId and TmpSecretKey that came with the token.",
    )
}

/// Verifies against the request's headers. The SDKs sign `host` as the URL's
/// host name without the port (Python: `urlparse(url).hostname`) while the
/// `Host` header carries `host:port`; on a mismatch the check is repeated
/// once with the port removed from `host`, which names the same server.
fn verify_with_host_fallback(
    inner: &Inner,
    keys: &dyn KeyStore,
    auth: &cos_sign::v5::ParsedAuthorization,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    headers: &[(String, String)],
) -> Result<(), V5Error> {
    let now = shared::clock::unix_now();
    let check = |headers: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = cos_sign::v5::Request {
            method,
            path,
            params,
            headers: &refs,
        };
        cos_sign::v5::verify(auth, keys, &request, now, inner.config.max_skew_secs)
    };
    let with_host = |host: &str| -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("host") {
                    (k.clone(), host.to_owned())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    };
    let arrived = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone());
    let signs_host = auth.header_list.iter().any(|h| h == "host");
    let result = match (check(headers), &arrived) {
        (Err(cos_sign::VerifyError::SignatureMismatch), Some(host))
            if signs_host && http::host_without_port(host) != host =>
        {
            check(&with_host(http::host_without_port(host)))
        }
        (other, _) => other,
    };
    match (result, arrived) {
        (Err(cos_sign::VerifyError::SignatureMismatch), Some(arrived)) if signs_host => {
            // Never accepted: only to say which host the request was signed for.
            let signed_for = other_names_of(&arrived)
                .into_iter()
                .find(|h| check(&with_host(h)).is_ok());
            Err(host_mismatch(&arrived, signed_for.as_deref()))
        }
        (result, _) => result.map_err(|e| verify_error(&e)),
    }
}

/// Other spellings of the host `arrived` that a client may have signed
/// instead: the loopback names for one another, with and without the port.
fn other_names_of(arrived: &str) -> Vec<String> {
    let name = http::host_without_port(arrived);
    let port = arrived
        .strip_prefix(name)
        .or_else(|| arrived.strip_prefix(&format!("[{name}]")))
        .unwrap_or("");
    let loopback = ["127.0.0.1", "localhost", "[::1]"];
    let mut names: Vec<String> = Vec::new();
    if loopback.contains(&name) || name == "::1" {
        for other in loopback {
            names.push(format!("{other}{port}"));
            names.push(other.to_owned());
        }
    }
    names.dedup();
    names.retain(|h| h != arrived && h != name);
    names
}

/// A signature over `host` that matches no spelling of the host the request
/// arrived for: say that the host is signed, and for which host it was
/// signed when another loopback name matches.
fn host_mismatch(arrived: &str, signed_for: Option<&str>) -> V5Error {
    let detail = match signed_for {
        Some(signed) => format!(
            "the request was signed for host {signed:?} but sent to {arrived:?}; the host is \
             part of the signature, so send the request to the host it was signed for, or \
             sign the host you send it to"
        ),
        None => format!(
            "the host is part of this signature (q-header-list names host) and the request \
             arrived for {arrived:?}: check that it was signed for exactly that host \
             (127.0.0.1 and localhost differ), as well as the method, path, query and headers"
        ),
    };
    err(
        403,
        "SignatureDoesNotMatch",
        format!(
            "The request signature we calculated does not match the signature you provided: \
             {detail}."
        ),
    )
}

pub(super) fn verify_error(e: &cos_sign::VerifyError) -> V5Error {
    use cos_sign::VerifyError as E;
    match e {
        E::Expired { .. } => err(403, "AccessDenied", format!("Request has expired: {e}")),
        E::NotYetValid { .. } => err(
            403,
            "RequestTimeTooSkewed",
            format!(
                "The difference between the request time and the server's time is too large: {e}"
            ),
        ),
        E::SignatureMismatch | E::SignedHeaderMissing(_) | E::SignedParamMissing(_) => err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "The request signature we calculated does not match the signature you provided: {e}"
            ),
        ),
        E::UnknownSecretId => err(
            403,
            "InvalidAccessKeyId",
            "The SecretId you provided does not exist in our records.",
        ),
        E::PolicyCondition(m) => err(
            403,
            "AccessDenied",
            format!("Invalid according to Policy: {m}"),
        ),
        other => err(403, "AccessDenied", format!("Access Denied: {other}")),
    }
}

/// The `Signature` form field: a whole v5 Authorization computed for `POST /`
/// (only `host` signed, as the wx SDK's postObject does), by a permanent key
/// or by the temporary credentials of `token`.
pub(super) fn verify_form_signature(
    inner: &Inner,
    req: &HttpRequest,
    sig: &str,
    token: Option<&str>,
) -> Result<Access, V5Error> {
    let auth = cos_sign::v5::ParsedAuthorization::from_header(sig).map_err(|e| verify_error(&e))?;
    let headers = http::header_pairs(req.headers());
    with_keys(inner, token, &auth.secret_id, |keys| {
        verify_with_host_fallback(inner, keys, &auth, "post", "/", &[], &headers)
    })
}
