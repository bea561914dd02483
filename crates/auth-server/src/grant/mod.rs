//! What the server agrees to sign, as pure functions of the request: a
//! directory or key inside the caller's prefix, the v5 query parameters and
//! headers a signature may cover, the bucket's `host`, a POST policy's content
//! type; and ([`credentials`]) what temporary credentials may do. The
//! handlers in [`crate::routes`] call these and sign only what they return.

pub mod credentials;

use std::collections::BTreeMap;

use shared::{DirPath, ObjectKey};

use crate::error::{AppError, ErrorCode};

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

/// Headers a v5 signature may cover (besides `x-cos-meta-*`). Any other
/// `x-cos-*` header, e.g. `x-cos-copy-source` (which would read another user's
/// object) or `x-cos-acl`, is refused; other headers (`User-Agent`, `Accept`…)
/// are left out of the signature.
pub const SIGNABLE_HEADERS: &[&str] = &[
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

/// Checks the sub-resource parameters a v5 signature for `method` may cover
/// (object operations and multipart upload only), plus, for `GET`, the
/// `response-*` parameters that set the headers of the reply
/// (`response-content-disposition=attachment; filename=…` and the like).
pub fn check_v5_query(method: &str, query: &BTreeMap<String, String>) -> Result<(), AppError> {
    let has = |k: &str| query.contains_key(k);
    let allowed: &[&str] = match method {
        "PUT" => &["partNumber", "uploadId"],
        "POST" => &["uploads", "uploadId"],
        "GET" => &[
            "uploadId",
            "max-parts",
            "part-number-marker",
            "encoding-type",
            "response-content-type",
            "response-content-language",
            "response-expires",
            "response-cache-control",
            "response-content-disposition",
            "response-content-encoding",
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

/// A bucket-level `GET` the SDKs make on the caller's own keys: listing
/// objects (`getBucket`, `GET /?prefix=…&delimiter=&marker=&max-keys=&encoding-type=`)
/// or unfinished multipart uploads (`GET /?uploads&prefix=…`, which
/// `uploadFile`/`sliceUploadFile` call to resume). Allowed only with a signed
/// `prefix` inside the caller's own prefix (it starts with `u/<id>/`, whole
/// segments), so the listing cannot show another user's keys; the other list
/// parameters are free (the prefix bounds what they can reach).
pub fn check_bucket_listing(
    prefix: &DirPath,
    query: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    const OBJECTS: [&str; 5] = ["prefix", "delimiter", "marker", "max-keys", "encoding-type"];
    const UPLOADS: [&str; 7] = [
        "uploads",
        "prefix",
        "delimiter",
        "encoding-type",
        "max-uploads",
        "key-marker",
        "upload-id-marker",
    ];
    let (what, allowed): (&str, &[&str]) = if query.contains_key("uploads") {
        ("a multipart upload listing", &UPLOADS)
    } else {
        ("an object listing", &OBJECTS)
    };
    for (k, v) in query {
        if !allowed.contains(&k.as_str()) {
            return Err(AppError::new(
                ErrorCode::QueryNotAllowed,
                format!("query parameter {k:?} cannot be signed for {what}"),
            ));
        }
        check_text("query parameter", k, v)?;
    }
    let count_ok = |k: &str| {
        query
            .get(k)
            .is_none_or(|v| v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
    };
    if !count_ok("max-keys") || !count_ok("max-uploads") {
        return Err(AppError::new(
            ErrorCode::QueryNotAllowed,
            format!("max-keys and max-uploads must be numbers in {what}"),
        ));
    }
    let requested = query.get("prefix").map_or("", String::as_str);
    if !requested.starts_with(prefix.key_prefix()) {
        return Err(AppError::outside_prefix(
            &format!("listing prefix {requested:?}"),
            prefix.as_str(),
        ));
    }
    Ok(())
}

/// The headers a v5 signature covers, lower-cased, from the headers a client
/// asked to have signed: `host` is always signed, as `v5_host` (a client
/// `Host` naming another host is refused); `x-cos-meta-*` and
/// [`SIGNABLE_HEADERS`] are kept; any other `x-cos-*` header is refused; other
/// headers are left out.
pub fn v5_signed_headers(
    requested: &BTreeMap<String, String>,
    v5_host: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let mut headers: Vec<(String, String)> = Vec::with_capacity(requested.len() + 1);
    for (name, value) in requested {
        let lower = name.to_ascii_lowercase();
        check_text("header", name, value)?;
        if lower == "host" {
            if !value.eq_ignore_ascii_case(v5_host) {
                return Err(AppError::new(
                    ErrorCode::HostMismatch,
                    format!("Host must be {v5_host}"),
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
    headers.push(("host".to_owned(), v5_host.to_owned()));
    Ok(headers)
}

/// `host[:port]` of a URL, lower-cased (the v5 `host` header).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// An exact MIME type, or a type prefix `<type>/` (one `/`, at the end).
pub fn valid_content_type(ct: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

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
    fn v5_headers_keep_the_signable_refuse_other_cos_headers_and_always_bind_host() {
        let host = "metis-1250000000.cos.ap-shanghai.myqcloud.com";
        let signed = v5_signed_headers(
            &map(&[
                ("Content-Type", "image/jpeg"),
                ("x-cos-meta-sha1", "ab"),
                ("User-Agent", "sdk"),
                ("Host", "METIS-1250000000.cos.ap-shanghai.myqcloud.com"),
            ]),
            host,
        )
        .unwrap();
        assert_eq!(
            signed,
            [
                ("content-type".to_owned(), "image/jpeg".to_owned()),
                ("x-cos-meta-sha1".to_owned(), "ab".to_owned()),
                ("host".to_owned(), host.to_owned()),
            ]
        );
        let code =
            |pairs: &[(&str, &str)]| v5_signed_headers(&map(pairs), host).map_err(|e| e.code());
        assert_eq!(
            code(&[("x-cos-copy-source", "b/u/1/x")]),
            Err(ErrorCode::HeaderNotAllowed)
        );
        assert_eq!(
            code(&[("Host", "evil.example")]),
            Err(ErrorCode::HostMismatch)
        );
        assert_eq!(
            code(&[("content-type", "a/b"), ("Content-Type", "a/b")]),
            Err(ErrorCode::InvalidInput)
        );
        assert_eq!(
            code(&[("range", "bytes=0-1\n")]),
            Err(ErrorCode::InvalidInput)
        );
    }

    #[test]
    fn query_rules_per_method() {
        let code = |method: &str, pairs: &[(&str, &str)]| {
            check_v5_query(method, &map(pairs)).map_err(|e| e.code())
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
            code(
                "GET",
                &[
                    (
                        "response-content-disposition",
                        "attachment; filename=\"a b.txt\""
                    ),
                    ("response-content-type", "text/plain"),
                    ("response-cache-control", "max-age=600"),
                    ("response-content-language", "zh-CN"),
                    ("response-expires", "Thu, 01 Dec 1994 16:00:00 GMT"),
                    ("response-content-encoding", "gzip"),
                ]
            ),
            Ok(())
        );
        assert_eq!(
            code("HEAD", &[("response-content-type", "text/plain")]),
            Err(ErrorCode::QueryNotAllowed)
        );
        assert_eq!(
            code(
                "GET",
                &[("response-content-disposition", "a\r\nx-cos-acl: x")]
            ),
            Err(ErrorCode::InvalidInput)
        );
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
