//! Object keys and directory paths: validated, never normalised.
//!
//! A key that is not already in canonical form is refused with a [`KeyError`]
//! that says which character and why; nothing is decoded, trimmed, collapsed,
//! case-folded or Unicode-normalised. The same rules apply where signatures are
//! issued (auth server), where objects are written (local store) and where keys
//! are built from local file names (uploader), so what was checked is exactly
//! what is stored.
//!
//! Rules for every segment (the parts between `/`):
//! * not empty (no `//`, no leading or trailing `/` inside a key), not `.` or `..`;
//! * at most [`MAX_SEGMENT_BYTES`] bytes;
//! * no control characters (general category Cc) and no line or paragraph
//!   separator (U+2028, U+2029), no `\`, no `%` (nothing may be decoded twice),
//!   none of COS's forbidden `? * : | < > "`;
//! * no format characters: nothing of Unicode general category Cf (soft hyphen,
//!   bidirectional marks, embeddings, overrides and isolates, zero-width
//!   characters, word joiner and invisible operators, the Arabic letter mark,
//!   the byte-order mark, interlinear annotation characters, tag characters
//!   U+E0000–U+E007F, ...), as of Unicode 18.0.0;
//! * no character whose compatibility form (NFKC) contains `/`, `\`, `%` or a
//!   control character (U+FF0F, U+FF3C, U+FE68, U+FF05, U+FE6A, and U+2100,
//!   U+2101, U+2105, U+2106, which fold to `a/c`, `a/s`, `c/o`, `c/u`);
//! * no look-alikes of `.` that fold to `.` (U+FF0E, U+2024, U+FE52), and no
//!   look-alikes of `/` and `\` that do not decompose at all (U+2215, U+2044,
//!   U+29F8; U+2216, U+29F5, U+29F9);
//! * the segment's NFKC form is not `.` or `..` (so `‥` U+2025 and `︰` U+FE30
//!   are refused as whole segments; inside a longer name they fold to harmless
//!   dots, as does the ellipsis `…` used in Chinese text).
//!
//! Together these guarantee that the NFKC form of an accepted segment has no
//! `/`, `\`, `%` or control character and is not `.` or `..`, so no layer that
//! folds compatibility characters can turn an accepted key into a different
//! path. Characters whose NFKC form is harmless here stay accepted, including
//! the fullwidth punctuation common in Chinese and Japanese names (`：` U+FF1A,
//! `？` U+FF1F, `（）` U+FF08/U+FF09, `。` U+3002, `·` U+00B7, `・` U+30FB).
//!
//! A whole key is at most [`MAX_KEY_BYTES`] bytes.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

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
    /// A control character, `\`, `%` or one of COS's forbidden characters.
    #[error("the key contains a forbidden character {0:?}")]
    ForbiddenChar(char),
    /// A format character (Unicode general category Cf): invisible, or it
    /// changes how the text around it is displayed.
    #[error(
        "the key contains a forbidden character {0:?} ({cp}): an invisible or \
         bidirectional format character (Unicode general category Cf)",
        cp = CodePoint(*.0)
    )]
    FormatChar(char),
    /// A character whose compatibility form (NFKC) contains a path-significant
    /// character (`like`): `folded` is that form.
    #[error(
        "the key contains a forbidden character {ch:?} ({cp}): it looks like {like:?} \
         after Unicode compatibility folding (NFKC turns it into {folded:?})",
        cp = CodePoint(*.ch)
    )]
    FoldsTo {
        /// The character as given.
        ch: char,
        /// Its NFKC form.
        folded: String,
        /// The path-significant character in `folded`.
        like: char,
    },
    /// A character that does not decompose but looks like `like`.
    #[error(
        "the key contains a forbidden character {ch:?} ({cp}): it looks like {like:?}",
        cp = CodePoint(*.ch)
    )]
    LooksLike {
        /// The character as given.
        ch: char,
        /// What it imitates.
        like: char,
    },
    /// A segment whose NFKC form is `.` or `..` (`folded`), because of `ch`.
    #[error(
        "the key has a path segment that reads as '{folded}' after Unicode compatibility \
         folding (NFKC), because of {ch:?} ({cp})",
        cp = CodePoint(*.ch)
    )]
    FoldsToDotSegment {
        /// The first character of the segment that is not an ASCII `.`.
        ch: char,
        /// `.` or `..`.
        folded: &'static str,
    },
    /// A path was expected to start with `/`.
    #[error("the path must start with '/'")]
    NotAbsolute,
}

/// Shows a character's code point as `U+XXXX`.
struct CodePoint(char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// Unicode general category Cf (format characters), as of Unicode 18.0.0 (the
/// version of `unicode_normalization::UNICODE_VERSION`), as inclusive ranges in
/// ascending order. Generated by `testdata/gen_cf_ranges.py`; a test checks it
/// against `testdata/cf-ranges.txt`.
const FORMAT_CHARS: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre mark above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, joiners, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidi isolates, deprecated format characters
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol format controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

/// True for a character of general category Cf.
fn is_format(c: char) -> bool {
    FORMAT_CHARS
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// ASCII and control characters refused as they are, and the Unicode line and
/// paragraph separators (which split log lines as a newline does).
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\\' | '%' | '?' | '*' | ':' | '|' | '<' | '>' | '"' | '\u{2028}' | '\u{2029}'
        )
}

/// What an explicitly listed look-alike imitates, and whether NFKC folds it to
/// that (`.` look-alikes) or it has no decomposition at all.
fn look_alike(c: char) -> Option<(char, bool)> {
    match c {
        '\u{FF0E}' | '\u{2024}' | '\u{FE52}' => Some(('.', true)),
        '\u{2215}' | '\u{2044}' | '\u{29F8}' => Some(('/', false)),
        '\u{2216}' | '\u{29F5}' | '\u{29F9}' => Some(('\\', false)),
        _ => None,
    }
}

/// A character that must not appear in a compatibility-folded segment.
fn path_significant(c: char) -> bool {
    matches!(c, '/' | '\\' | '%') || c.is_control()
}

fn nfkc_of(c: char) -> String {
    std::iter::once(c).nfkc().collect()
}

/// Checks one non-ASCII character.
fn check_char(c: char) -> Result<(), KeyError> {
    if is_format(c) {
        return Err(KeyError::FormatChar(c));
    }
    if let Some((like, folds)) = look_alike(c) {
        return Err(if folds {
            KeyError::FoldsTo {
                ch: c,
                folded: nfkc_of(c),
                like,
            }
        } else {
            KeyError::LooksLike { ch: c, like }
        });
    }
    // Compatibility decomposition is per character, and canonical composition
    // never creates or consumes '/', '\', '%' or a control character, so a
    // segment's NFKC form holds one of those exactly when one of its
    // characters' decompositions does.
    let mut like = None;
    unicode_normalization::char::decompose_compatible(c, |d| {
        if like.is_none() && path_significant(d) {
            like = Some(d);
        }
    });
    match like {
        Some(like) => Err(KeyError::FoldsTo {
            ch: c,
            folded: nfkc_of(c),
            like,
        }),
        None => Ok(()),
    }
}

fn check_segment(seg: &str) -> Result<(), KeyError> {
    if seg.is_empty() {
        return Err(KeyError::EmptySegment);
    }
    if seg == "." || seg == ".." {
        return Err(KeyError::DotSegment);
    }
    if seg.len() > MAX_SEGMENT_BYTES {
        return Err(KeyError::SegmentTooLong(seg.len()));
    }
    for c in seg.chars() {
        if forbidden(c) {
            return Err(KeyError::ForbiddenChar(c));
        }
        if !c.is_ascii() {
            check_char(c)?;
        }
    }
    if !seg.is_ascii() {
        // Only the first three folded characters can decide ".", "..".
        let folded: String = seg.nfkc().take(3).collect();
        let dots = match folded.as_str() {
            "." => Some("."),
            ".." => Some(".."),
            _ => None,
        };
        if let Some(folded) = dots {
            // The segment is not literally "." or "..", so some character is not '.'.
            let ch = seg.chars().find(|&c| c != '.').unwrap_or('.');
            return Err(KeyError::FoldsToDotSegment { ch, folded });
        }
    }
    Ok(())
}

fn check_segments(s: &str) -> Result<(), KeyError> {
    s.split('/').try_for_each(check_segment)
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
            ("u/me/\u{202E}gpj.exe", KeyError::FormatChar('\u{202E}')),
            (
                "u/me/\u{FF0E}\u{FF0E}/x",
                KeyError::FoldsTo {
                    ch: '\u{FF0E}',
                    folded: ".".into(),
                    like: '.',
                },
            ),
            (
                "u/me\u{FF0F}x",
                KeyError::FoldsTo {
                    ch: '\u{FF0F}',
                    folded: "/".into(),
                    like: '/',
                },
            ),
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

#[cfg(test)]
mod unicode_tests {
    use super::*;

    use proptest::prelude::*;

    const CF_RANGES: &str = include_str!("../testdata/cf-ranges.txt");

    /// `(version, ranges)` from `testdata/cf-ranges.txt`.
    fn cf_data() -> (String, Vec<(u32, u32)>) {
        let mut lines = CF_RANGES.lines();
        let header = lines.next().unwrap();
        let version = header
            .strip_prefix("# Unicode ")
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .to_owned();
        let ranges = lines
            .map(|l| {
                let (a, b) = l.split_once("..").unwrap();
                (
                    u32::from_str_radix(a, 16).unwrap(),
                    u32::from_str_radix(b, 16).unwrap(),
                )
            })
            .collect();
        (version, ranges)
    }

    #[test]
    fn format_table_is_the_generated_cf_list() {
        let (version, ranges) = cf_data();
        let table: Vec<(u32, u32)> = FORMAT_CHARS
            .iter()
            .map(|&(a, b)| (u32::from(a), u32::from(b)))
            .collect();
        assert_eq!(table, ranges);
        let (ma, mi, pa) = unicode_normalization::UNICODE_VERSION;
        assert_eq!(
            version,
            format!("{ma}.{mi}.{pa}"),
            "unicode-normalization moved to another Unicode version: regenerate \
             testdata/cf-ranges.txt with gen_cf_ranges.py and update FORMAT_CHARS"
        );
    }

    #[test]
    fn is_format_agrees_with_the_generated_list_on_every_code_point() {
        let (_, ranges) = cf_data();
        for cp in 0..=0x10FFFF_u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let want = ranges.iter().any(|&(a, b)| (a..=b).contains(&cp));
            assert_eq!(is_format(c), want, "U+{cp:04X}");
        }
    }

    #[test]
    fn refuses_line_and_paragraph_separators() {
        for c in ['\u{2028}', '\u{2029}'] {
            let key = format!("u/1/a{c}b.jpg");
            assert_eq!(ObjectKey::parse(&key), Err(KeyError::ForbiddenChar(c)));
        }
    }

    #[test]
    fn refuses_every_format_character() {
        for c in [
            '\u{00AD}',
            '\u{061C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200D}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2061}',
            '\u{2062}',
            '\u{2063}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{FFFB}',
            '\u{13430}',
            '\u{1BCA0}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
        ] {
            for key in [format!("u/me/a{c}b.jpg"), format!("u/m{c}e/a.jpg")] {
                assert_eq!(
                    ObjectKey::parse(&key),
                    Err(KeyError::FormatChar(c)),
                    "{key:?}"
                );
            }
            let msg = ObjectKey::parse(&format!("{c}")).unwrap_err().to_string();
            assert!(
                msg.contains(&format!("U+{:04X}", u32::from(c))) && msg.contains("Cf"),
                "{msg}"
            );
        }
    }

    #[test]
    fn refuses_characters_that_fold_to_path_significant_ones() {
        for (c, folded, like) in [
            ('\u{FF0F}', "/", '/'),
            ('\u{FF3C}', "\\", '\\'),
            ('\u{FE68}', "\\", '\\'),
            ('\u{FF05}', "%", '%'),
            ('\u{FE6A}', "%", '%'),
            ('\u{2100}', "a/c", '/'),
            ('\u{2101}', "a/s", '/'),
            ('\u{2105}', "c/o", '/'),
            ('\u{2106}', "c/u", '/'),
            ('\u{FF0E}', ".", '.'),
            ('\u{2024}', ".", '.'),
            ('\u{FE52}', ".", '.'),
        ] {
            let want = KeyError::FoldsTo {
                ch: c,
                folded: folded.to_owned(),
                like,
            };
            for key in [format!("u/me/x{c}y.jpg"), format!("u/{c}/x")] {
                assert_eq!(ObjectKey::parse(&key).as_ref(), Err(&want), "{key:?}");
            }
            assert_eq!(DirPath::parse(&format!("/u/me{c}x/")).as_ref(), Err(&want));
            let msg = want.to_string();
            assert!(
                msg.contains(&format!(
                    "looks like {like:?} after Unicode compatibility folding"
                )),
                "{msg}"
            );
        }
    }

    #[test]
    fn refuses_look_alikes_that_do_not_decompose() {
        for (c, like) in [
            ('\u{2215}', '/'),
            ('\u{2044}', '/'),
            ('\u{29F8}', '/'),
            ('\u{2216}', '\\'),
            ('\u{29F5}', '\\'),
            ('\u{29F9}', '\\'),
        ] {
            // None of these has a compatibility decomposition: only the list catches them.
            assert_eq!(nfkc_of(c), c.to_string());
            let want = KeyError::LooksLike { ch: c, like };
            assert_eq!(ObjectKey::parse(&format!("u/me{c}x")), Err(want.clone()));
            assert!(
                want.to_string().contains(&format!("looks like {like:?}")),
                "{want}"
            );
        }
    }

    #[test]
    fn refuses_segments_that_fold_to_dot_segments() {
        for (seg, ch, folded) in [
            ("\u{2025}", '\u{2025}', ".."),
            ("\u{FE30}", '\u{FE30}', ".."),
        ] {
            let got = ObjectKey::parse(&format!("u/me/{seg}/x"));
            let want = KeyError::FoldsToDotSegment { ch, folded };
            assert_eq!(got.as_ref(), Err(&want), "{seg:?}");
            assert_eq!(DirPath::parse(&format!("/u/me/{seg}")).as_ref(), Err(&want));
            let msg = want.to_string();
            assert!(
                msg.contains("path segment")
                    && msg.contains("'..'")
                    && msg.contains(&format!("U+{:04X}", u32::from(ch))),
                "{msg}"
            );
        }
        // Inside a longer name these fold to ordinary dots: accepted as given.
        for k in [
            "u/me/a\u{2025}b",
            "u/me/\u{FE30}x",
            "u/me/等等\u{2026}\u{2026}.jpg",
            "u/me/\u{2026}",
        ] {
            assert_eq!(ObjectKey::parse(k).unwrap().as_str(), k);
        }
    }

    #[test]
    fn accepts_cjk_names_and_fullwidth_punctuation() {
        for k in [
            "u/12/测试 图片.jpg",
            "u/12/截图：2024（1）.png",
            "u/12/照片。jpg",
            "u/12/为什么？.png",
            "u/12/张三·李四/合影.jpg",
            "u/12/ファイル・一覧「１」.txt",
            "u/12/【重要】报告，最终版！.pdf",
            "u/12/《红楼梦》第１章；注释.txt",
            "u/12/〇〇、①②.jpg",
            "u/12/한국어 사진.jpg",
            "u/12/ＡＢＣ１２３.png",
            "u/12/（）",
            "u/12/。",
            "u/12/…",
        ] {
            assert_eq!(ObjectKey::parse(k).unwrap().as_str(), k, "{k:?}");
            assert_eq!(
                DirPath::parse(&format!("/{k}")).map(|_| ()),
                Ok(()),
                "{k:?}"
            );
        }
    }

    /// The property the rules promise, checked independently of them.
    fn nfkc_is_harmless(seg: &str) -> bool {
        let folded: String = seg.nfkc().collect();
        !folded.contains(['/', '\\', '%'])
            && !folded.chars().any(char::is_control)
            && folded != "."
            && folded != ".."
    }

    fn interesting_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => any::<char>(),
            2 => proptest::char::range('a', 'z'),
            1 => Just('.'),
            2 => proptest::char::range('\u{4E00}', '\u{9FFF}'),
            2 => proptest::char::range('\u{FF00}', '\u{FFEF}'),
            1 => proptest::char::range('\u{2000}', '\u{2BFF}'),
            1 => proptest::char::range('\u{FE10}', '\u{FE6F}'),
            1 => proptest::char::range('\u{0300}', '\u{036F}'),
            1 => prop::sample::select(vec![
                '\u{2025}', '\u{FE30}', '\u{FF3C}', '\u{FE68}', '\u{FF05}', '\u{FE6A}',
                '\u{2100}', '\u{2101}', '\u{2105}', '\u{2106}', '\u{061C}', '\u{00AD}',
                '\u{2060}', '\u{2064}', '\u{180E}', '\u{FF0E}', '\u{FF0F}', '\u{2024}',
                '\u{FE52}', '\u{2026}', '\u{E0020}', '\u{FFF9}',
            ]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn accepted_segments_stay_harmless_under_nfkc(
            chars in proptest::collection::vec(interesting_char(), 1..6)
        ) {
            let seg: String = chars.into_iter().filter(|&c| c != '/').collect();
            prop_assume!(!seg.is_empty());
            if check_segment(&seg).is_ok() {
                prop_assert!(nfkc_is_harmless(&seg), "{:?} folds to {:?}", seg, seg.nfkc().collect::<String>());
                // And nothing was rewritten: the key is the segment as given.
                let key = format!("u/12/{seg}");
                let parsed = ObjectKey::parse(&key);
                prop_assert_eq!(parsed.as_ref().map(ObjectKey::as_str), Ok(key.as_str()));
            }
        }

        #[test]
        fn accepted_keys_have_only_harmless_segments(
            chars in proptest::collection::vec(
                prop_oneof![4 => interesting_char(), 1 => Just('/')], 1..16)
        ) {
            let key: String = chars.into_iter().collect();
            if ObjectKey::parse(&key).is_ok() {
                for seg in key.split('/') {
                    prop_assert!(nfkc_is_harmless(seg), "{:?} in {:?}", seg, key);
                }
            }
        }
    }
}
