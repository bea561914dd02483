//! Where each file goes: the target directory (`--prefix`, inside the
//! user's upload directory), a job for every file the walk found (its key is
//! the target followed by the file's name from the walk: a directory argument
//! keeps its own name), and the line that says so before anything is sent
//! ([`RunPlan`]). A file that could not be read, or whose name cannot become
//! a key, is a failed entry of the report from the start.

use std::path::PathBuf;

use shared::DirPath;

use crate::error::Error;
use crate::job::FileJob;
use crate::report::{FileReport, human_bytes};
use crate::walk::{Root, Walk};

/// Resolves `--prefix` against the user's upload prefix.
pub fn target_dir(upload_prefix: &DirPath, prefix: Option<&str>) -> Result<DirPath, Error> {
    let p = match prefix.map(str::trim) {
        None | Some("") => return Ok(upload_prefix.clone()),
        Some(p) => p,
    };
    let bad = |e: shared::KeyError| Error::Usage(format!("bad prefix {p:?}: {e}"));
    let dir = if p.starts_with('/') {
        DirPath::parse(p).map_err(bad)?
    } else {
        DirPath::parse(&format!("{}{p}", upload_prefix.as_str())).map_err(bad)?
    };
    if !dir.is_within(upload_prefix) {
        return Err(Error::Usage(format!(
            "prefix {dir} is outside your upload directory {upload_prefix}"
        )));
    }
    Ok(dir)
}

/// What a run is about to do, as told before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// Files considered (those that already failed included).
    pub files: u64,
    /// Bytes of the files to upload.
    pub bytes: u64,
    /// The arguments, as given.
    pub from: Vec<PathBuf>,
    /// Where they go: for one argument, its own destination
    /// (`/u/7/photos/` for a directory, `/u/7/a.jpg` for a file); for
    /// several, the target directory they all go into.
    pub to: String,
    /// The auth server's URL.
    pub server: String,
    /// `--dry-run`: nothing will be sent.
    pub dry_run: bool,
}

impl RunPlan {
    /// `Uploading 304 files (1.2 GiB) from ./photos to /u/1/photos/ on http://127.0.0.1:8080`.
    pub fn line(&self) -> String {
        let from = match self.from.as_slice() {
            [one] => one.display().to_string(),
            many => format!("{} paths", many.len()),
        };
        format!(
            "{} {} file{} ({}) from {from} to {} on {}{}",
            if self.dry_run {
                "Would upload"
            } else {
                "Uploading"
            },
            self.files,
            if self.files == 1 { "" } else { "s" },
            human_bytes(self.bytes),
            self.to,
            self.server,
            if self.dry_run { " (dry run)" } else { "" },
        )
    }
}

/// Where the arguments go: one argument's own destination, or the target.
pub(crate) fn destination(roots: &[Root], target: &DirPath) -> String {
    match roots {
        [one] if one.dir => format!("{}{}/", target.as_str(), one.name),
        [one] => format!("{}{}", target.as_str(), one.name),
        _ => target.as_str().to_owned(),
    }
}

/// The run's entries, in walk order.
pub(crate) struct Plan {
    /// One per entry: `Some` for files that failed already, `None` for jobs.
    pub(crate) reports: Vec<Option<FileReport>>,
    /// The files to upload, with the index of their entry.
    pub(crate) jobs: Vec<(usize, FileJob)>,
    /// Where the arguments go.
    pub(crate) to: String,
}

/// Plans the upload of what `walked` found into `target`.
pub(crate) fn plan(walked: Walk, target: &DirPath) -> Plan {
    let to = destination(&walked.roots, target);
    for (p, why) in &walked.skipped {
        tracing::info!(path = %p.display(), reason = %why, "skipped");
    }

    let mut reports: Vec<Option<FileReport>> = Vec::new();
    for (path, err) in walked.errors {
        reports.push(Some(FileReport::failed(path, String::new(), 0, &err)));
    }
    let mut jobs: Vec<(usize, FileJob)> = Vec::new();
    for f in walked.files {
        match target.join(&f.rel) {
            Ok(key) => {
                jobs.push((
                    reports.len(),
                    FileJob {
                        path: f.path,
                        size: f.size,
                        mtime_ns: f.mtime_ns,
                        key,
                        sign_dir: target.clone(),
                    },
                ));
                reports.push(None);
            }
            Err(source) => {
                let err = Error::Key {
                    path: f.rel.clone(),
                    source,
                };
                reports.push(Some(FileReport::failed(
                    f.path,
                    String::new(),
                    f.size,
                    &err,
                )));
            }
        }
    }
    Plan { reports, jobs, to }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_line_names_the_destination() {
        let plan = RunPlan {
            files: 1,
            bytes: 1000,
            from: vec!["./a.jpg".into()],
            to: "/u/7/a.jpg".into(),
            server: "http://h:1".into(),
            dry_run: false,
        };
        assert_eq!(
            plan.line(),
            "Uploading 1 file (1000 B) from ./a.jpg to /u/7/a.jpg on http://h:1"
        );
        let several = RunPlan {
            files: 3,
            from: vec!["a".into(), "b".into()],
            to: "/u/7/".into(),
            dry_run: true,
            ..plan
        };
        assert_eq!(
            several.line(),
            "Would upload 3 files (1000 B) from 2 paths to /u/7/ on http://h:1 (dry run)"
        );
        let home = DirPath::parse("/u/7/").unwrap();
        let root = |name: &str, dir| Root {
            path: name.into(),
            name: name.into(),
            dir,
        };
        assert_eq!(destination(&[root("photos", true)], &home), "/u/7/photos/");
        assert_eq!(destination(&[root("a.jpg", false)], &home), "/u/7/a.jpg");
        assert_eq!(
            destination(&[root("photos", true), root("a.jpg", false)], &home),
            "/u/7/"
        );
    }

    #[test]
    fn prefixes_resolve_inside_the_upload_directory() {
        let home = DirPath::parse("/u/7/").unwrap();
        assert_eq!(target_dir(&home, None).unwrap(), home);
        assert_eq!(
            target_dir(&home, Some("photos/2024")).unwrap().as_str(),
            "/u/7/photos/2024/"
        );
        assert_eq!(
            target_dir(&home, Some("/u/7/x/")).unwrap().as_str(),
            "/u/7/x/"
        );
        for bad in ["/u/70/x", "../8", "a//b"] {
            let r = target_dir(&home, Some(bad));
            assert!(matches!(r, Err(Error::Usage(_))), "{bad}: {r:?}");
        }
    }
}
