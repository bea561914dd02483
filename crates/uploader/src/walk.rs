//! Finding the files to upload: arguments, recursion, include/exclude globs,
//! the symlink policy, and Unicode (NFC) names.
//!
//! The one rule for names: a file argument is named by its file name; a
//! directory argument keeps its own name, like `cp -r photos dest/`, so
//! `photos/2024/a.jpg` found under the argument `./photos` is named
//! `photos/2024/a.jpg` (`.` and `..` are named after the directory they are).
//! Globs match paths inside the directory argument (`2024/a.jpg`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use unicode_normalization::UnicodeNormalization;

use crate::error::Error;
use crate::job::mtime_ns;

/// Which files to take from the arguments.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Keep only files matching at least one of these (all files when empty).
    pub include: Vec<String>,
    /// Drop files (and prune directories) matching any of these.
    pub exclude: Vec<String>,
    /// Follow symbolic links met while walking directories. When false they are
    /// skipped and listed in [`Walk::skipped`]. Paths given as arguments are always followed.
    pub follow_symlinks: bool,
}

/// A regular file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its name, `/`-separated and in Unicode NFC: for a file argument its
    /// file name, for a file under a directory argument the directory's name
    /// and the path inside it. The object key is the target prefix followed
    /// by this.
    pub rel: String,
    /// Size in bytes when seen.
    pub size: u64,
    /// Modification time, nanoseconds since the UNIX epoch.
    pub mtime_ns: i64,
}

/// An argument of the walk that was found, and the name it gives its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// The argument, as given.
    pub path: PathBuf,
    /// Its name in Unicode NFC (a directory's own name, or a file's name).
    pub name: String,
    /// True for a directory.
    pub dir: bool,
}

/// The result of a walk.
#[derive(Debug, Default)]
pub struct Walk {
    /// The arguments found, in order.
    pub roots: Vec<Root>,
    /// Files to upload, in a stable order (arguments in order, then by name).
    pub files: Vec<LocalFile>,
    /// Entries deliberately left out, with the reason (symlinks, special files).
    pub skipped: Vec<(PathBuf, String)>,
    /// Entries that could not be read or named; each becomes a failed file in the report.
    pub errors: Vec<(PathBuf, Error)>,
}

/// Compiled include/exclude patterns. A pattern without `/` matches a file or
/// directory *name* at any depth (`*.jpg`, `.git`); a pattern with `/` matches
/// the whole relative path (`raw/**`, `**/thumbs/*.png`).
#[derive(Debug, Clone)]
pub struct Filter {
    include_name: GlobSet,
    include_path: GlobSet,
    exclude_name: GlobSet,
    exclude_path: GlobSet,
    has_include: bool,
}

fn build(patterns: &[String]) -> Result<(GlobSet, GlobSet), Error> {
    let mut name = GlobSetBuilder::new();
    let mut path = GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Usage(format!("bad glob {p:?}: {e}")))?;
        if p.contains('/') {
            path.add(glob);
        } else {
            name.add(glob);
        }
    }
    let done = |b: GlobSetBuilder| {
        b.build()
            .map_err(|e| Error::Usage(format!("bad glob: {e}")))
    };
    Ok((done(name)?, done(path)?))
}

impl Filter {
    /// Compiles the patterns.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, Error> {
        let (include_name, include_path) = build(include)?;
        let (exclude_name, exclude_path) = build(exclude)?;
        Ok(Self {
            include_name,
            include_path,
            exclude_name,
            exclude_path,
            has_include: !include.is_empty(),
        })
    }

    fn excluded(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.exclude_name.is_match(name) || self.exclude_path.is_match(rel)
    }

    /// True when a file with this relative name is to be uploaded.
    pub fn accepts_file(&self, rel: &str) -> bool {
        if self.excluded(rel) {
            return false;
        }
        if !self.has_include {
            return true;
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.include_name.is_match(name) || self.include_path.is_match(rel)
    }

    /// True when a directory is to be entered.
    pub fn enters_dir(&self, rel: &str) -> bool {
        !self.excluded(rel)
    }
}

/// NFC-normalises one path component; `None` when it is not UTF-8.
fn nfc(os: &std::ffi::OsStr) -> Option<String> {
    os.to_str().map(|s| s.nfc().collect())
}

/// Walks the arguments.
pub fn walk(paths: &[PathBuf], opts: &WalkOptions) -> Result<Walk, Error> {
    let filter = Filter::new(&opts.include, &opts.exclude)?;
    let mut out = Walk::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push((root.clone(), Error::io(root, e)));
                continue;
            }
        };
        if !meta.is_file() && !meta.is_dir() {
            out.skipped
                .push((root.clone(), "not a regular file or directory".into()));
            continue;
        }
        let name = match own_name(root) {
            Ok(name) => name,
            Err(e) => {
                out.errors.push((root.clone(), e));
                continue;
            }
        };
        out.roots.push(Root {
            path: root.clone(),
            name: name.clone(),
            dir: meta.is_dir(),
        });
        if meta.is_file() {
            if filter.accepts_file(&name) {
                push(&mut out, &mut seen, root.clone(), name, &meta);
            }
            continue;
        }
        let mut it = walkdir::WalkDir::new(root)
            .follow_links(opts.follow_symlinks)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let p = e.path().map_or_else(|| root.clone(), Path::to_path_buf);
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("symbolic link loop"));
                    out.errors.push((p.clone(), Error::io(p, io)));
                    continue;
                }
            };
            let inner = match rel_name(root, entry.path()) {
                Some(r) => r,
                None => {
                    if entry.file_type().is_dir() {
                        it.skip_current_dir();
                    }
                    out.errors
                        .push((entry.path().to_owned(), not_utf8(entry.path())));
                    continue;
                }
            };
            let ft = entry.file_type();
            if ft.is_symlink() {
                // Only reached when not following links.
                out.skipped.push((
                    entry.path().to_owned(),
                    "symbolic link (not followed)".into(),
                ));
                continue;
            }
            if ft.is_dir() {
                if !filter.enters_dir(&inner) {
                    it.skip_current_dir();
                }
                continue;
            }
            if !ft.is_file() {
                out.skipped
                    .push((entry.path().to_owned(), "not a regular file".into()));
                continue;
            }
            if !filter.accepts_file(&inner) {
                continue;
            }
            let rel = format!("{name}/{inner}");
            match entry.metadata() {
                Ok(meta) => push(&mut out, &mut seen, entry.path().to_owned(), rel, &meta),
                Err(e) => {
                    let p = entry.path().to_owned();
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("cannot read metadata"));
                    out.errors.push((p.clone(), Error::io(p, io)));
                }
            }
        }
    }
    Ok(out)
}

/// The name an argument gives its files: its last component in NFC, or for
/// `.`, `..` and paths ending in them, the name of the directory they are.
fn own_name(root: &Path) -> Result<String, Error> {
    let last = match root.components().next_back() {
        Some(std::path::Component::Normal(name)) => Some(name.to_owned()),
        _ => std::fs::canonicalize(root)
            .map_err(|e| Error::io(root, e))?
            .file_name()
            .map(ToOwned::to_owned),
    };
    let Some(last) = last else {
        return Err(Error::Usage(format!(
            "{}: has no name to upload it under; name a directory inside it",
            root.display()
        )));
    };
    nfc(&last).ok_or_else(|| not_utf8(root))
}

fn not_utf8(p: &Path) -> Error {
    Error::Io {
        path: p.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file name is not valid UTF-8, so it cannot become an object key",
        ),
    }
}

fn rel_name(root: &Path, p: &Path) -> Option<String> {
    let rel = p.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for c in rel.components() {
        parts.push(nfc(c.as_os_str())?);
    }
    Some(parts.join("/"))
}

fn push(
    out: &mut Walk,
    seen: &mut HashMap<String, PathBuf>,
    path: PathBuf,
    rel: String,
    meta: &std::fs::Metadata,
) {
    if let Some(first) = seen.get(&rel) {
        let msg = format!(
            "maps to the same name {rel:?} as {} (names are compared after NFC normalisation)",
            first.display()
        );
        out.errors.push((
            path.clone(),
            Error::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, msg),
            },
        ));
        return;
    }
    seen.insert(rel.clone(), path.clone());
    out.files.push(LocalFile {
        path,
        rel,
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path, bytes: usize) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, vec![b'x'; bytes]).unwrap();
    }

    fn rels(w: &Walk) -> Vec<&str> {
        w.files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn walks_recursively_in_a_stable_order_with_globs() {
        let d = tempfile::tempdir().unwrap();
        let r = &d.path().join("photos");
        touch(&r.join("b.jpg"), 3);
        touch(&r.join("a.png"), 1);
        touch(&r.join("sub/c.jpg"), 2);
        touch(&r.join(".git/config"), 2);
        touch(&r.join("raw/d.jpg"), 2);
        let all = walk(&[r.to_owned()], &WalkOptions::default()).unwrap();
        assert_eq!(
            rels(&all),
            vec![
                "photos/.git/config",
                "photos/a.png",
                "photos/b.jpg",
                "photos/raw/d.jpg",
                "photos/sub/c.jpg"
            ]
        );
        assert_eq!(all.files[2].size, 3);
        let opts = WalkOptions {
            include: vec!["*.jpg".into()],
            exclude: vec![".git".into(), "raw/**".into()],
            follow_symlinks: false,
        };
        // Globs match paths inside the directory.
        let some = walk(&[r.to_owned()], &opts).unwrap();
        assert_eq!(rels(&some), vec!["photos/b.jpg", "photos/sub/c.jpg"]);
        let bad_glob = walk(
            &[r.to_owned()],
            &WalkOptions {
                include: vec!["[".into()],
                ..WalkOptions::default()
            },
        );
        assert!(matches!(bad_glob, Err(Error::Usage(_))), "{bad_glob:?}");
    }

    #[test]
    fn file_arguments_use_their_name_and_names_become_nfc() {
        let d = tempfile::tempdir().unwrap();
        // "é" decomposed (NFD) on disk.
        let nfd = d.path().join("cafe\u{301}.jpg");
        touch(&nfd, 4);
        let w = walk(std::slice::from_ref(&nfd), &WalkOptions::default()).unwrap();
        assert_eq!(rels(&w), vec!["caf\u{e9}.jpg"]);
        // The same file given twice maps to one name: the second is an error.
        let w = walk(&[nfd.clone(), nfd], &WalkOptions::default()).unwrap();
        assert_eq!(w.files.len(), 1);
        assert_eq!(w.errors.len(), 1);
    }

    #[test]
    fn symlinks_are_skipped_unless_followed() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("root");
        touch(&r.join("real.txt"), 1);
        touch(&d.path().join("outside/o.txt"), 1);
        std::os::unix::fs::symlink(r.join("real.txt"), r.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(d.path().join("outside"), r.join("dirlink")).unwrap();
        let w = walk(std::slice::from_ref(&r), &WalkOptions::default()).unwrap();
        assert_eq!(rels(&w), vec!["root/real.txt"]);
        assert_eq!(w.skipped.len(), 2);
        let w = walk(
            &[r],
            &WalkOptions {
                follow_symlinks: true,
                ..WalkOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            rels(&w),
            vec!["root/dirlink/o.txt", "root/link.txt", "root/real.txt"]
        );
    }

    #[test]
    fn a_directory_keeps_its_own_name_and_a_file_its_file_name() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("photos/2024/a.jpg"), 1);
        touch(&d.path().join("photos/b.jpg"), 1);
        touch(&d.path().join("c.jpg"), 1);
        let in_photos = d.path().join("photos/2024");
        for (arg, want) in [
            (
                d.path().join("photos"),
                vec!["photos/2024/a.jpg", "photos/b.jpg"],
            ),
            (
                d.path().join("photos/"),
                vec!["photos/2024/a.jpg", "photos/b.jpg"],
            ),
            (
                in_photos.join(".."),
                vec!["photos/2024/a.jpg", "photos/b.jpg"],
            ),
            (in_photos.join("."), vec!["2024/a.jpg"]),
            (d.path().join("c.jpg"), vec!["c.jpg"]),
        ] {
            let w = walk(std::slice::from_ref(&arg), &WalkOptions::default()).unwrap();
            assert_eq!(rels(&w), want, "{}", arg.display());
            assert_eq!(w.roots.len(), 1, "{}", arg.display());
            assert_eq!(w.roots[0].dir, arg.is_dir(), "{}", arg.display());
        }
        // Two arguments of the same name meet at the same keys.
        touch(&d.path().join("other/photos/b.jpg"), 1);
        let w = walk(
            &[d.path().join("photos"), d.path().join("other/photos")],
            &WalkOptions::default(),
        )
        .unwrap();
        assert_eq!(rels(&w), vec!["photos/2024/a.jpg", "photos/b.jpg"]);
        assert_eq!(w.errors.len(), 1, "{:?}", w.errors);
    }

    #[test]
    fn missing_arguments_are_reported_not_fatal() {
        let d = tempfile::tempdir().unwrap();
        let w = walk(&[d.path().join("nope")], &WalkOptions::default()).unwrap();
        assert!(w.files.is_empty());
        assert_eq!(w.errors.len(), 1);
    }
}
