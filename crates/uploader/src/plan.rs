//! Where each file goes: the target directory (`--prefix`, inside the
//! user's upload directory) and a job for every file the walk found. A file
//! that could not be read, or whose name cannot become a key, is a failed
//! entry of the report from the start.

use shared::DirPath;

use crate::error::Error;
use crate::job::FileJob;
use crate::report::FileReport;
use crate::walk::Walk;

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

/// The run's entries, in walk order.
pub(crate) struct Plan {
    /// One per entry: `Some` for files that failed already, `None` for jobs.
    pub(crate) reports: Vec<Option<FileReport>>,
    /// The files to upload, with the index of their entry.
    pub(crate) jobs: Vec<(usize, FileJob)>,
}

/// Plans the upload of what `walked` found into `target`.
pub(crate) fn plan(walked: Walk, target: &DirPath) -> Plan {
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
    Plan { reports, jobs }
}

#[cfg(test)]
mod tests {
    use super::*;

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
