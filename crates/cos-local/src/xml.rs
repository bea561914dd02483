//! Building COS XML documents.

use std::fmt::Write as _;

use quick_xml::escape::escape;

/// A small XML writer: `<Tag>text</Tag>` elements with escaped text.
#[derive(Debug, Default)]
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    pub(crate) fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    pub(crate) fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "<{tag}>");
        self
    }

    pub(crate) fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    pub(crate) fn elem(&mut self, tag: &str, text: impl AsRef<str>) -> &mut Self {
        let _ = write!(self.out, "<{tag}>{}</{tag}>", escape(text.as_ref()));
        self
    }

    /// `<tag><ID>id</ID><DisplayName>id</DisplayName></tag>`: an owner or an
    /// initiator, always the APPID in this store.
    pub(crate) fn principal(&mut self, tag: &str, id: &str) -> &mut Self {
        self.open(tag)
            .elem("ID", id)
            .elem("DisplayName", id)
            .close(tag)
    }

    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

/// ISO 8601 with milliseconds, as COS lists `LastModified`.
pub(crate) fn iso8601(unix: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 7231 date, for `Last-Modified`.
pub(crate) fn http_date(unix: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(iso8601(1_500_000_000), "2017-07-14T02:40:00.000Z");
        assert_eq!(http_date(1_500_000_000), "Fri, 14 Jul 2017 02:40:00 GMT");
    }

    #[test]
    fn escapes_text() {
        let mut x = Xml::new();
        x.elem("Key", "a<&>b");
        assert!(x.finish().ends_with("<Key>a&lt;&amp;&gt;b</Key>"));
    }
}
