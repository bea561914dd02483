//! CORS for browser apps (e.g. cos-js-sdk-v5 calling `POST /v1/cos/v5/sign`
//! and, in embedded mode, posting objects to the mounted store).
//!
//! Off unless `server.cors_allowed_origins` lists origins. Only those origins
//! get `Access-Control-Allow-Origin` (echoed, never `*`); credentials are not
//! supported (the API uses the `Authorization` header, not cookies).

use actix_cors::Cors;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap};

/// Methods a browser may use cross-origin: the API's and the store's.
pub const ALLOWED_METHODS: [&str; 5] = ["GET", "HEAD", "PUT", "POST", "DELETE"];

/// Request headers a preflight may ask for besides any `x-cos-*` header
/// (`x-cos-meta-*`, `x-cos-storage-class`, `x-cos-security-token`, …): the
/// headers the v5 endpoint signs that a script may set (not `host` or
/// `content-length`, which browsers set themselves), plus `authorization` and
/// `x-request-id`.
pub fn allowed_headers() -> impl Iterator<Item = &'static str> {
    ["authorization", "x-request-id"].into_iter().chain(
        crate::grant::SIGNABLE_HEADERS
            .iter()
            .copied()
            .filter(|h| !matches!(*h, "host" | "content-length") && !h.starts_with("x-cos-")),
    )
}

/// Response headers a browser script may read: `*`, every header (a wildcard
/// for requests without credentials, which are the only cross-origin requests
/// this server allows: <https://fetch.spec.whatwg.org/#http-access-control-expose-headers>),
/// so `x-cos-meta-*` and whatever else the store answers are readable; and,
/// for browsers that read `*` as a header name, by name the headers
/// cos-js-sdk-v5 reads (`ETag` of uploads and parts, `Content-Length` and
/// `Content-Range` of downloads, `Date` for its clock-skew correction,
/// `x-cos-version-id`, `x-cos-delete-marker`, `x-cos-hash-crc64ecma`), the
/// object headers a GET sets, the uploader's `x-cos-meta-sha1`, and the
/// request ids.
pub const EXPOSED_HEADERS: [&str; 15] = [
    "*",
    "etag",
    "content-length",
    "content-range",
    "content-disposition",
    "cache-control",
    "date",
    "location",
    "x-cos-request-id",
    "x-cos-version-id",
    "x-cos-delete-marker",
    "x-cos-hash-crc64ecma",
    "x-cos-meta-sha1",
    "x-request-id",
    "content-encoding",
];

/// Seconds a browser may cache a preflight answer.
pub const MAX_AGE_SECS: usize = 600;

/// True for a request header a cross-origin request may carry.
pub fn header_allowed(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    allowed_headers().any(|h| h == name)
        || (name.starts_with("x-cos-") && name.len() > "x-cos-".len())
}

/// The CORS middleware for `origins` (which `Config` validated). Requested
/// headers are echoed: [`refused_preflight`] runs before it and refuses any
/// header outside [`allowed_headers`] and `x-cos-*`.
pub fn middleware(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(ALLOWED_METHODS)
        .allow_any_header()
        .expose_headers(EXPOSED_HEADERS)
        .max_age(MAX_AGE_SECS);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Removes the CORS headers actix-cors adds to every response
/// (`Access-Control-Expose-Headers`) when the request's origin was not allowed
/// (no `Access-Control-Allow-Origin`), so another origin gets no CORS headers.
pub fn strip_unless_allowed(headers: &mut HeaderMap) {
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
}

/// Why a CORS preflight is refused (a requested header outside the allow-list),
/// `None` for any other request.
pub fn refused_preflight(req: &ServiceRequest) -> Option<String> {
    if req.method() != Method::OPTIONS
        || !req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return None;
    }
    for value in req
        .headers()
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
    {
        let Ok(list) = value.to_str() else {
            return Some("Access-Control-Request-Headers is not ASCII".to_owned());
        };
        if let Some(bad) = list
            .split(',')
            .map(str::trim)
            .find(|h| !h.is_empty() && !header_allowed(h))
        {
            return Some(format!(
                "header {bad:?} is not allowed cross-origin (allowed: {}, x-cos-*)",
                allowed_headers().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn sdk_headers_are_allowed_and_others_refused() {
        // Every header cos-js-sdk-v5 sends from a browser, temporary
        // credentials' token and its retry marker included.
        for ok in [
            "Authorization",
            "content-type",
            "Content-MD5",
            "cache-control",
            "range",
            "x-cos-meta-sha1",
            "X-Cos-Storage-Class",
            "x-cos-security-token",
            "x-cos-sdk-retry",
            "x-cos-acl",
        ] {
            assert!(header_allowed(ok), "{ok}");
        }
        for bad in ["cookie", "x-cos-", "x-forwarded-for", "host", "x-cosmetic"] {
            assert!(!header_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn only_preflights_with_a_refused_header_are_refused() {
        let preflight = |headers: &str| {
            TestRequest::default()
                .method(Method::OPTIONS)
                .insert_header(("origin", "https://app.example.com"))
                .insert_header(("access-control-request-method", "PUT"))
                .insert_header(("access-control-request-headers", headers))
                .to_srv_request()
        };
        assert_eq!(
            refused_preflight(&preflight("authorization, content-type, x-cos-meta-a")),
            None
        );
        let why = refused_preflight(&preflight("authorization, cookie")).unwrap();
        assert!(why.contains("\"cookie\""), "{why}");
        // Not a preflight: an OPTIONS without Access-Control-Request-Method, or a PUT.
        let plain = TestRequest::default()
            .method(Method::OPTIONS)
            .insert_header(("access-control-request-headers", "cookie"))
            .to_srv_request();
        assert_eq!(refused_preflight(&plain), None);
        let put = TestRequest::default()
            .method(Method::PUT)
            .insert_header(("cookie", "a=b"))
            .to_srv_request();
        assert_eq!(refused_preflight(&put), None);
    }
}
