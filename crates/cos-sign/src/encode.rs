//! The two percent-encodings COS uses.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Unreserved characters of RFC 3986: `A-Z a-z 0-9 - _ . ~` stay as they are.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The v4 path set: unreserved plus `/`.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes a COS path for a v4 fileid or URL: UTF-8, uppercase hex,
/// everything but `A-Z a-z 0-9 - _ . ~ /` encoded (Python's `quote(p, safe='~/')`).
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// Percent-encodes one v5 key or value: everything but `A-Z a-z 0-9 - _ . ~`.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes percent-escapes once. `None` if the result is not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_encoding_matches_python_quote() {
        assert_eq!(
            encode_path("/a/b(1)!'*~ c.jpg"),
            "/a/b%281%29%21%27%2A~%20c.jpg"
        );
        assert_eq!(
            encode_path("/xrzeti/测试 图片.jpg"),
            "/xrzeti/%E6%B5%8B%E8%AF%95%20%E5%9B%BE%E7%89%87.jpg"
        );
    }

    #[test]
    fn component_encoding_encodes_slash_and_space() {
        assert_eq!(encode_component("image/jpeg"), "image%2Fjpeg");
        assert_eq!(encode_component("a b+c"), "a%20b%2Bc");
        assert_eq!(decode("a%20b%2Bc").as_deref(), Some("a b+c"));
        assert_eq!(decode("%FF"), None);
    }
}
