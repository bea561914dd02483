//! Object keys and directory paths: validated, never normalised.
//!
//! A key that is not already in canonical form is refused with a [`KeyError`]
//! that says why; nothing is decoded, trimmed, collapsed or case-folded. The same
//! rules apply where signatures are issued (auth server), where objects are
//! written (local store) and where keys are built from local file names
//! (uploader), so what was checked is exactly what is stored.
//!
//! Rules for every segment (the parts between `/`):
//! * not empty (no `//`, no leading or trailing `/` inside a key), not `.` or `..`;
//! * at most [`MAX_SEGMENT_BYTES`] bytes;
//! * no control characters, no `\`, no `%` (nothing may be decoded twice), none
//!   of COS's forbidden `? * : | < > "`;
//! * no bidirectional overrides or invisible format characters (U+200B–U+200F,
//!   U+202A–U+202E, U+2066–U+2069, U+FEFF);
//! * no look-alikes of `.` and `/` that other layers fold (U+FF0E, U+FF0F,
//!   U+2024, U+2215, U+2044, U+FE52, U+29F8).
//!
//! A whole key is at most [`MAX_KEY_BYTES`] bytes.

use std::fmt;

/// Longest key, in UTF-8 bytes (COS and S3 allow 1,024; we keep room for prefixes).
pub const MAX_KEY_BYTES: usize = 850;
/// Longest segment, in UTF-8 bytes (a common file-system name limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a key or path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing to name.
    #[error("the key is empty")]
    Empty,
    /// Too many bytes.
    #[error("the key is {0} bytes long; the limit is {MAX_KEY_BYTES}")]
    TooLong(usize),
    /// A segment is too long.
    #[error("a path segment is {0} bytes long; the limit is {MAX_SEGMENT_BYTES}")]
    SegmentTooLong(usize),
    /// `//`, or a `/` at the start or end of a key.
    #[error("the key has an empty path segment ('//' or a stray '/')")]
    EmptySegment,
    /// `.` or `..`.
    #[error("the key has a '.' or '..' path segment")]
    DotSegment,
    /// A forbidden character.
    #[error("the key contains a forbidden character {0:?}")]
    ForbiddenChar(char),
    /// A path was expected to start with `/`.
    #[error("the path must start with '/'")]
    NotAbsolute,
}

fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\\' | '%' | '?' | '*' | ':' | '|' | '<' | '>' | '"'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FF0E}'
                | '\u{FF0F}'
                | '\u{2024}'
                | '\u{2215}'
                | '\u{2044}'
                | '\u{FE52}'
                | '\u{29F8}'
        )
}

fn check_segments(s: &str) -> Result<(), KeyError> {
    for seg in s.split('/') {
        if seg.is_empty() {
            return Err(KeyError::EmptySegment);
        }
        if seg == "." || seg == ".." {
            return Err(KeyError::DotSegment);
        }
        if seg.len() > MAX_SEGMENT_BYTES {
            return Err(KeyError::SegmentTooLong(seg.len()));
        }
        if let Some(c) = seg.chars().find(|&c| forbidden(c)) {
            return Err(KeyError::ForbiddenChar(c));
        }
    }
    Ok(())
}

/// A validated object key, as the v5 API writes it: `u/12/photos/a.jpg`
/// (no leading or trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates a v5-style key (no leading `/`).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        if s.is_empty() {
            return Err(KeyError::Empty);
        }
        if s.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(s.len()));
        }
        check_segments(s)?;
        Ok(Self(s.to_owned()))
    }

    /// Validates a v4-style path `/u/12/a.jpg` (leading `/` required, no trailing `/`).
    pub fn from_v4_path(s: &str) -> Result<Self, KeyError> {
        let rest = s.strip_prefix('/').ok_or(KeyError::NotAbsolute)?;
        Self::parse(rest)
    }

    /// The key, `u/12/a.jpg`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The v4 path, `/u/12/a.jpg`.
    pub fn v4_path(&self) -> String {
        format!("/{}", self.0)
    }

    /// The last segment (the file name).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The directory holding this key (`/` for a top-level key).
    pub fn parent(&self) -> DirPath {
        match self.0.rsplit_once('/') {
            Some((dir, _)) => DirPath(format!("/{dir}/")),
            None => DirPath("/".to_owned()),
        }
    }

    /// True when the key lies inside `dir` (whole-segment prefix).
    pub fn is_within(&self, dir: &DirPath) -> bool {
        self.v4_path().starts_with(dir.as_str())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated directory path in v4 form: starts and ends with `/`
/// (`/` is the bucket root, `/u/12/photos/` a directory).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirPath(String);

impl DirPath {
    /// The bucket root.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// Validates a directory path. A leading `/` is required; one trailing `/` is
    /// optional (`/u/12/photos` and `/u/12/photos/` name the same directory, as
    /// the mini-program sends the former).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let rest = s.strip_prefix('/').ok_or(KeyError::NotAbsolute)?;
        if rest.is_empty() {
            return Ok(Self::root());
        }
        let inner = rest.strip_suffix('/').unwrap_or(rest);
        if inner.len() + 2 > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(inner.len() + 2));
        }
        check_segments(inner)?;
        Ok(Self(format!("/{inner}/")))
    }

    /// The path, always with leading and trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path without its trailing `/` (`/u/12`), as Metis binds a v4 signature;
    /// the root stays `/`.
    pub fn without_trailing_slash(&self) -> &str {
        if self.0 == "/" {
            &self.0
        } else {
            &self.0[..self.0.len() - 1]
        }
    }

    /// The v5 key prefix (`u/12/`; empty for the root).
    pub fn key_prefix(&self) -> &str {
        &self.0[1..]
    }

    /// True when `self` equals `other` or lies below it (whole segments).
    pub fn is_within(&self, other: &DirPath) -> bool {
        self.0.starts_with(other.as_str())
    }

    /// Appends a file name, validating the result.
    pub fn join(&self, name: &str) -> Result<ObjectKey, KeyError> {
        ObjectKey::parse(&format!("{}{name}", self.key_prefix()))
    }
}

impl fmt::Display for DirPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_unicode_keys() {
        for k in [
            "a.jpg",
            "u/12/photos/a.jpg",
            "u/12/测试 图片.jpg",
            "x/.hidden",
            "a..b",
            "é/ñ.png",
        ] {
            assert_eq!(ObjectKey::parse(k).unwrap().as_str(), k);
        }
    }

    #[test]
    fn refuses_the_hostile_table() {
        let cases: &[(&str, KeyError)] = &[
            ("", KeyError::Empty),
            ("../u/other/x.jpg", KeyError::DotSegment),
            ("u/me/../other/x", KeyError::DotSegment),
            ("u/me/./x", KeyError::DotSegment),
            ("u/me/.", KeyError::DotSegment),
            ("u/me//x", KeyError::EmptySegment),
            ("/u/me/x", KeyError::EmptySegment),
            ("u/me/x/", KeyError::EmptySegment),
            ("u/me/%2e%2e/x", KeyError::ForbiddenChar('%')),
            ("u/me\\..\\x", KeyError::ForbiddenChar('\\')),
            ("u/me/x\u{0}.jpg", KeyError::ForbiddenChar('\u{0}')),
            ("u/me/x\n.jpg", KeyError::ForbiddenChar('\n')),
            ("u/me/x\u{7f}.jpg", KeyError::ForbiddenChar('\u{7f}')),
            ("u/me/\u{202E}gpj.exe", KeyError::ForbiddenChar('\u{202E}')),
            (
                "u/me/\u{FF0E}\u{FF0E}/x",
                KeyError::ForbiddenChar('\u{FF0E}'),
            ),
            ("u/me\u{FF0F}x", KeyError::ForbiddenChar('\u{FF0F}')),
            ("u/me/a?b", KeyError::ForbiddenChar('?')),
        ];
        for (input, want) in cases {
            assert_eq!(ObjectKey::parse(input).as_ref(), Err(want), "{input:?}");
        }
        assert_eq!(
            ObjectKey::parse(&"a".repeat(900)),
            Err(KeyError::TooLong(900))
        );
        assert_eq!(
            ObjectKey::parse(&"a".repeat(300)),
            Err(KeyError::SegmentTooLong(300))
        );
    }

    #[test]
    fn directory_prefixes_compare_by_whole_segment() {
        let u12 = DirPath::parse("/u/12").unwrap();
        assert_eq!(u12.as_str(), "/u/12/");
        assert!(DirPath::parse("/u/12/photos").unwrap().is_within(&u12));
        assert!(!DirPath::parse("/u/123").unwrap().is_within(&u12));
        assert!(ObjectKey::parse("u/12/a.jpg").unwrap().is_within(&u12));
        assert!(!ObjectKey::parse("u/123/a.jpg").unwrap().is_within(&u12));
        assert_eq!(DirPath::parse("u/12"), Err(KeyError::NotAbsolute));
        assert_eq!(DirPath::parse("/u//12"), Err(KeyError::EmptySegment));
        assert_eq!(DirPath::parse("/u/12//"), Err(KeyError::EmptySegment));
        assert_eq!(DirPath::parse("/").unwrap(), DirPath::root());
    }

    #[test]
    fn keys_know_their_parent() {
        let k = ObjectKey::parse("u/12/a.jpg").unwrap();
        assert_eq!(k.parent().as_str(), "/u/12/");
        assert_eq!(k.file_name(), "a.jpg");
        assert_eq!(k.v4_path(), "/u/12/a.jpg");
        assert_eq!(ObjectKey::parse("a.jpg").unwrap().parent(), DirPath::root());
    }
}
