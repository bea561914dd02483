//! What temporary credentials may do, as pure functions of the request
//! (`POST /v1/cos/credentials`): the directory inside the caller's prefix, the
//! key the server picks, the extension, content type and size. The result is
//! a [`shared::cam::Scope`] and [`UploadLimits`], from which
//! [`shared::cam::Policy::for_upload`] builds the policy.
//!
//! Every refusal carries a message an app can show as it is ("this server
//! does not allow uploading .exe files; allowed: jpg, png").

use shared::cam::{Scope, UploadLimits};
use shared::wire::{CredentialScope, CredentialsRequest};
use shared::{DirPath, ObjectKey};

use super::{check_dir, key_error};
use crate::error::{AppError, ErrorCode};

/// The server's rules for uploads with temporary credentials (from `[sts]`
/// and `signing.max_upload_size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRules {
    /// Allowed extensions, lower case, without `.`.
    pub extensions: Vec<String>,
    /// Allowed content types: `type/subtype` or `type/*`, lower case.
    pub content_types: Vec<String>,
    /// Largest object, bytes.
    pub max_size: u64,
}

/// The random part and the date of a new key, chosen by the caller (the
/// handler draws 128 bits from the OS's CSPRNG and reads the clock).
#[derive(Debug, Clone, Copy)]
pub struct KeyName<'a> {
    /// The UTC date, `yyyymmdd`.
    pub date: &'a str,
    /// 32 lower-case hex digits.
    pub random: &'a str,
}

/// What the credentials may do: where, and within which limits.
pub fn credential_grant(
    prefix: &DirPath,
    req: &CredentialsRequest,
    rules: &UploadRules,
    name: KeyName<'_>,
) -> Result<(Scope, UploadLimits), AppError> {
    let dir = credential_dir(prefix, req.dir.as_deref())?;
    let scope = match (req.scope, req.ext.as_deref()) {
        (CredentialScope::Key, Some(ext)) => {
            let ext = check_extension(ext, &rules.extensions)?;
            Scope::Key(new_key(&dir, &ext, name)?)
        }
        (CredentialScope::Key, None) => {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!(
                    "scope \"key\" needs ext, the file's extension (allowed: {})",
                    rules.extensions.join(", ")
                ),
            ));
        }
        (CredentialScope::Prefix, None) => Scope::Prefix(dir),
        (CredentialScope::Prefix, Some(_)) => {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "ext applies to scope \"key\" only (a prefix takes any allowed extension)",
            ));
        }
    };
    let limits = UploadLimits {
        max_size: check_size(req.size, rules.max_size)?,
        content_types: check_upload_type(req.content_type.as_deref(), &rules.content_types)?,
    };
    Ok((scope, limits))
}

/// The directory the credentials are for: the caller's prefix (no `dir`), a
/// directory relative to it (`photos`, `album/2026`), or an absolute one
/// (`/u/12/photos`) that must lie inside it (403 otherwise). Validated with
/// [`DirPath`]'s rules; never rewritten.
pub fn credential_dir(prefix: &DirPath, dir: Option<&str>) -> Result<DirPath, AppError> {
    match dir {
        None | Some("") => Ok(prefix.clone()),
        Some(absolute) if absolute.starts_with('/') => check_dir(prefix, Some(absolute), "dir"),
        Some(relative) => {
            let joined = format!("{}{relative}", prefix.as_str());
            let dir = DirPath::parse(&joined).map_err(|e| key_error(ErrorCode::InvalidPath, &e))?;
            // Inside by construction; checked anyway, failing closed.
            if !dir.is_within(prefix) {
                return Err(AppError::outside_prefix(
                    &format!("dir {}", dir.as_str()),
                    prefix.as_str(),
                ));
            }
            Ok(dir)
        }
    }
}

/// `<dir><yyyymmdd>/<random>.<ext>`.
fn new_key(dir: &DirPath, ext: &str, name: KeyName<'_>) -> Result<ObjectKey, AppError> {
    dir.join(&format!("{}/{}.{ext}", name.date, name.random))
        .map_err(|e| key_error(ErrorCode::InvalidPath, &e))
}

/// The extension, lower-cased and without one leading `.`, if the server allows it.
pub fn check_extension(ext: &str, allowed: &[String]) -> Result<String, AppError> {
    let ext = ext.strip_prefix('.').unwrap_or(ext).to_ascii_lowercase();
    if allowed.contains(&ext) {
        return Ok(ext);
    }
    let shown: String = ext.chars().take(32).filter(|c| !c.is_control()).collect();
    Err(AppError::new(
        ErrorCode::ExtensionNotAllowed,
        format!(
            "this server does not allow uploading .{shown} files; allowed: {}",
            allowed.join(", ")
        ),
    ))
}

/// The content types the credentials allow: exactly the declared one (lower
/// case) when it matches the allow-list, else the whole allow-list.
pub fn check_upload_type(
    declared: Option<&str>,
    allowed: &[String],
) -> Result<Vec<String>, AppError> {
    let Some(declared) = declared else {
        return Ok(allowed.to_vec());
    };
    let lower = declared.to_ascii_lowercase();
    if !content_type_pattern(&lower) || lower.ends_with("/*") {
        return Err(AppError::new(
            ErrorCode::InvalidContentType,
            "content_type must be a MIME type such as image/jpeg (type/subtype, no parameters)",
        ));
    }
    if allowed.iter().any(|pattern| type_matches(pattern, &lower)) {
        return Ok(vec![lower]);
    }
    Err(AppError::new(
        ErrorCode::InvalidContentType,
        format!(
            "this server does not allow uploading files of type {lower}; allowed: {}",
            allowed.join(", ")
        ),
    ))
}

/// The size limit of the credentials: the declared size, if the server accepts it.
pub fn check_size(declared: Option<u64>, max: u64) -> Result<u64, AppError> {
    match declared {
        None => Ok(max),
        Some(size) if size <= max => Ok(size),
        Some(size) => Err(AppError::new(
            ErrorCode::TooLarge,
            format!(
                "the file is {}; this server accepts files of at most {}",
                human_size(size),
                human_size(max)
            ),
        )),
    }
}

/// `type/subtype` or `type/*`, both made of MIME token characters, lower case.
pub fn content_type_pattern(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&^_.+-".contains(&b))
    };
    match t.split_once('/') {
        Some((ty, "*")) => token(ty),
        Some((ty, sub)) => token(ty) && token(sub),
        None => false,
    }
}

/// `pattern` (`image/*` or exact) covers `t` (both lower case).
fn type_matches(pattern: &str, t: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => t.starts_with(prefix),
        None => pattern == t,
    }
}

/// `1.5 GiB (1610612736 bytes)`.
fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            #[allow(clippy::cast_precision_loss)] // One decimal is shown.
            let value = bytes as f64 / unit as f64;
            return format!("{value:.1} {name} ({bytes} bytes)");
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> UploadRules {
        UploadRules {
            extensions: vec!["jpg".into(), "png".into(), "mp4".into()],
            content_types: vec!["image/*".into(), "video/mp4".into()],
            max_size: 1 << 30,
        }
    }

    fn prefix() -> DirPath {
        DirPath::parse("/u/12/").unwrap()
    }

    const NAME: KeyName<'static> = KeyName {
        date: "20261202",
        random: "0123456789abcdef0123456789abcdef",
    };

    fn request(scope: CredentialScope) -> CredentialsRequest {
        CredentialsRequest {
            scope,
            ext: None,
            dir: None,
            content_type: None,
            size: None,
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, AppError>) -> Result<T, ErrorCode> {
        r.map_err(|e| e.code())
    }

    #[test]
    fn a_key_is_dir_date_random_ext() {
        let mut req = request(CredentialScope::Key);
        req.ext = Some(".JPG".into());
        req.dir = Some("photos".into());
        let (scope, limits) = credential_grant(&prefix(), &req, &rules(), NAME).unwrap();
        let key =
            ObjectKey::parse("u/12/photos/20261202/0123456789abcdef0123456789abcdef.jpg").unwrap();
        assert_eq!(scope, Scope::Key(key));
        assert_eq!(limits.max_size, 1 << 30);
        assert_eq!(limits.content_types, ["image/*", "video/mp4"]);
        req.dir = None;
        let (scope, _) = credential_grant(&prefix(), &req, &rules(), NAME).unwrap();
        let key = ObjectKey::parse("u/12/20261202/0123456789abcdef0123456789abcdef.jpg").unwrap();
        assert_eq!(scope, Scope::Key(key));
    }

    #[test]
    fn directories_are_relative_or_absolute_inside_the_prefix() {
        let p = prefix();
        for (dir, want) in [
            (None, Ok("/u/12/")),
            (Some(""), Ok("/u/12/")),
            (Some("album/2026"), Ok("/u/12/album/2026/")),
            (Some("album/2026/"), Ok("/u/12/album/2026/")),
            (Some("/u/12/album"), Ok("/u/12/album/")),
            (Some("/u/12"), Ok("/u/12/")),
            (Some("/u/123/"), Err(ErrorCode::OutsidePrefix)),
            (Some("/u/1/"), Err(ErrorCode::OutsidePrefix)),
            (Some("/"), Err(ErrorCode::OutsidePrefix)),
            (Some("../13"), Err(ErrorCode::InvalidPath)),
            (Some("a/../../13"), Err(ErrorCode::InvalidPath)),
            (Some("a//b"), Err(ErrorCode::InvalidPath)),
            (Some("%2e%2e"), Err(ErrorCode::InvalidPath)),
            (Some("a\\b"), Err(ErrorCode::InvalidPath)),
            (Some("a\u{202E}b"), Err(ErrorCode::InvalidPath)),
            (Some("\u{FF0E}\u{FF0E}"), Err(ErrorCode::InvalidPath)),
            (Some("/u/12/../13"), Err(ErrorCode::InvalidPath)),
        ] {
            let got = code(credential_dir(&p, dir)).map(|d| d.as_str().to_owned());
            assert_eq!(got, want.map(str::to_owned), "{dir:?}");
        }
    }

    #[test]
    fn scope_and_ext_go_together() {
        let r = rules();
        let key = request(CredentialScope::Key);
        assert_eq!(
            code(credential_grant(&prefix(), &key, &r, NAME)),
            Err(ErrorCode::InvalidInput)
        );
        let mut with_ext = request(CredentialScope::Prefix);
        with_ext.ext = Some("jpg".into());
        assert_eq!(
            code(credential_grant(&prefix(), &with_ext, &r, NAME)),
            Err(ErrorCode::InvalidInput)
        );
        let mut prefix_req = request(CredentialScope::Prefix);
        prefix_req.dir = Some("album".into());
        let (scope, _) = credential_grant(&prefix(), &prefix_req, &r, NAME).unwrap();
        assert_eq!(
            scope,
            Scope::Prefix(DirPath::parse("/u/12/album/").unwrap())
        );
    }

    #[test]
    fn refusals_say_what_is_allowed() {
        let r = rules();
        let e = check_extension("exe", &r.extensions).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ExtensionNotAllowed);
        assert!(
            e.to_string()
                .contains("does not allow uploading .exe files; allowed: jpg, png, mp4"),
            "{e}"
        );
        for bad in ["", ".", "j/pg", "jpg\n", "jpeg"] {
            assert_eq!(
                code(check_extension(bad, &r.extensions)),
                Err(ErrorCode::ExtensionNotAllowed),
                "{bad:?}"
            );
        }
        assert_eq!(check_extension("PNG", &r.extensions).unwrap(), "png");

        assert_eq!(
            check_upload_type(Some("Image/JPEG"), &r.content_types).unwrap(),
            ["image/jpeg"]
        );
        assert_eq!(
            check_upload_type(Some("video/mp4"), &r.content_types).unwrap(),
            ["video/mp4"]
        );
        let e = check_upload_type(Some("text/html"), &r.content_types).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidContentType);
        assert!(e.to_string().contains("allowed: image/*, video/mp4"), "{e}");
        for bad in [
            "video/webm",
            "image/*",
            "image",
            "image/jpeg; charset=x",
            "image/jp\"eg",
            "*/*",
            "imagex/jpeg",
        ] {
            assert_eq!(
                code(check_upload_type(Some(bad), &r.content_types)),
                Err(ErrorCode::InvalidContentType),
                "{bad:?}"
            );
        }

        assert_eq!(code(check_size(None, 100)), Ok(100));
        assert_eq!(code(check_size(Some(0), 100)), Ok(0));
        assert_eq!(code(check_size(Some(100), 100)), Ok(100));
        let e = check_size(Some(3 << 29), 1 << 30).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooLarge);
        assert!(
            e.to_string()
                .contains("the file is 1.5 GiB (1610612736 bytes); this server accepts files of at most 1.0 GiB (1073741824 bytes)"),
            "{e}"
        );
    }

    #[test]
    fn content_type_patterns() {
        for ok in [
            "image/*",
            "image/jpeg",
            "video/mp4",
            "application/vnd.ms-excel",
        ] {
            assert!(content_type_pattern(ok), "{ok}");
        }
        for bad in [
            "*",
            "*/*",
            "image/",
            "/jpeg",
            "Image/jpeg",
            "image/jp eg",
            "a/b/c",
        ] {
            assert!(!content_type_pattern(bad), "{bad}");
        }
    }
}
