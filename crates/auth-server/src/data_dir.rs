//! The data directory (database, embedded store, dev secrets): created with a
//! `.gitignore` that ignores everything in it, so a data directory inside a
//! git checkout (the default `./data` is one) is never committed, dev secrets
//! included.

use std::io;
use std::path::Path;

/// The name of the file that keeps the directory out of git.
pub const GITIGNORE: &str = ".gitignore";

/// What that file says.
const GITIGNORE_TEXT: &str = "# Written by auth-server when it created this data directory: \
                              secrets, database and uploads stay out of git.\n*\n";

/// Creates `dir` (and its parents) unless it exists. A directory this call
/// creates gets the `.gitignore`; an existing one is left as it is.
pub fn create(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => std::fs::write(dir.join(GITIGNORE), GITIGNORE_TEXT),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_directory_ignores_everything_and_an_existing_one_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/data");
        create(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join(GITIGNORE)).unwrap();
        assert_eq!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            ["*"]
        );
        // Again: nothing changes, nothing fails.
        create(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(GITIGNORE)).unwrap(), text);
        // A directory that already existed gets no file of ours.
        create(tmp.path()).unwrap();
        assert!(!tmp.path().join(GITIGNORE).exists());
        // A file where the directory should be is an error.
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let r = create(&file).map_err(|e| e.kind());
        assert_eq!(r, Err(io::ErrorKind::AlreadyExists));
    }
}
