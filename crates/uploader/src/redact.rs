//! Keeping credentials out of error text: signatures, tokens and passwords
//! in a URL are replaced with `redacted` before a transport error is kept.

/// `error` with the credentials in its URL, if it has one, redacted.
pub(crate) fn redacted(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        redact_url(url);
    }
    error
}

/// Query parameters whose values are credentials: v4 `sign`, v5 presigned
/// `q-signature`/`q-ak`/`q-key-time`…, security tokens, `Authorization`.
fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("q-")
        || [
            "sign",
            "token",
            "auth",
            "secret",
            "credential",
            "key",
            "password",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// Replaces credentials in a URL (query values of [`is_secret_param`] names,
/// the password) with `redacted`; leaves the rest as it was.
fn redact_url(url: &mut reqwest::Url) {
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    if !url.query_pairs().any(|(k, _)| is_secret_param(&k)) {
        return;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_secret_param(&k) {
                "redacted".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_credentials_are_left_as_they_are() {
        let mut u = reqwest::Url::parse("http://h/k?uploadId=a%2Fb&partNumber=3").unwrap();
        let before = u.to_string();
        redact_url(&mut u);
        assert_eq!(u.to_string(), before);
        let mut u =
            reqwest::Url::parse("http://h/k?q-sign-algorithm=sha1&q-ak=AKID&uploads").unwrap();
        redact_url(&mut u);
        assert_eq!(
            u.query(),
            Some("q-sign-algorithm=redacted&q-ak=redacted&uploads=")
        );
    }
}
