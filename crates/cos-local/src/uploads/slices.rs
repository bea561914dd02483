//! v4 slice sessions on disk: `uploads/v4/<id>/session.json` (target, sizes,
//! declared sha), a `data` file of the declared size that slices are written
//! into at their offsets, and `parts.log`, one line per slice received.
//! Finishing hashes the data file whole and commits it as the object.

use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use shared::ObjectKey;

use super::{UploadError, create_session_dir, load_json, valid_id};
use crate::error::StoreError;
use crate::storage::{self, Blob, Commit, Mode, NewMeta, Staged, Storage};

/// Where slice sessions live.
pub(super) fn root(storage: &Storage) -> PathBuf {
    storage.root().join("uploads").join("v4")
}

/// A v4 slice-upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SliceSession {
    pub session: String,
    pub bucket: String,
    #[serde(with = "crate::key::object_key")]
    pub key: ObjectKey,
    pub filesize: u64,
    pub slice_size: u64,
    pub sha: Option<String>,
    pub biz_attr: String,
    pub insert_only: bool,
    pub created: u64,
}

/// Finds the unfinished session of `bucket`/`key`.
pub(crate) fn v4_find(
    storage: &Storage,
    bucket: &str,
    key: &ObjectKey,
) -> Result<Option<SliceSession>, StoreError> {
    for dir in storage::read_dir(&root(storage))? {
        if let Some(s) = load_json::<SliceSession>(&dir.join("session.json"))?
            && s.bucket == bucket
            && s.key == *key
        {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Loads a session by id.
pub(crate) fn v4_load(
    storage: &Storage,
    session: &str,
) -> Result<Option<SliceSession>, StoreError> {
    if !valid_id(session) {
        return Ok(None);
    }
    load_json(&root(storage).join(session).join("session.json"))
}

/// Creates a session with an empty data file of the declared size.
pub(crate) fn v4_create(storage: &Storage, s: &SliceSession) -> Result<(), StoreError> {
    let dir = root(storage).join(&s.session);
    let text = serde_json::to_vec(s).map_err(|e| StoreError::Corrupt {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    create_session_dir(storage, &dir, |dir| {
        let data = dir.join("data");
        let f = fs::File::create(&data)
            .map_err(StoreError::io(format!("create {}", data.display())))?;
        f.set_len(s.filesize)
            .map_err(StoreError::io(format!("size {}", data.display())))?;
        // session.json last: it marks the session as complete (see cleanup_at_open).
        storage::replace_file(&dir.join("session.json"), &text, storage.fsync())
    })
}

/// Removes a session.
pub(crate) fn v4_remove(storage: &Storage, session: &str) -> Result<(), StoreError> {
    if !valid_id(session) {
        return Ok(());
    }
    storage::remove_any(&root(storage).join(session))
}

/// Writes a received slice at `offset` and records it.
pub(crate) fn v4_write_slice(
    storage: &Storage,
    s: &SliceSession,
    offset: u64,
    blob: &Staged,
) -> Result<(), UploadError> {
    if offset >= s.filesize || !offset.is_multiple_of(s.slice_size) {
        return Err(UploadError::BadRequest(format!(
            "offset {offset} is not a multiple of the slice size {} inside the file",
            s.slice_size
        )));
    }
    let expected = s.slice_size.min(s.filesize - offset);
    if blob.size != expected {
        return Err(UploadError::BadRequest(format!(
            "the slice at offset {offset} must be {expected} bytes, got {}",
            blob.size
        )));
    }
    let dir = root(storage).join(&s.session);
    if !dir.join("session.json").is_file() {
        return Err(UploadError::NoSuchUpload);
    }
    let data = dir.join("data");
    storage.check_space(&format!("write {}", data.display()))?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .open(&data)
        .map_err(StoreError::io(format!("open {}", data.display())))?;
    let src_path = blob
        .path()
        .ok_or_else(|| UploadError::BadRequest("slice body missing".to_owned()))?;
    let mut src =
        fs::File::open(src_path).map_err(StoreError::io(format!("open {}", src_path.display())))?;
    out.seek(SeekFrom::Start(offset))
        .map_err(StoreError::io(format!("seek {}", data.display())))?;
    std::io::copy(&mut src, &mut out)
        .map_err(StoreError::io(format!("write {}", data.display())))?;
    if storage.fsync() {
        out.sync_data()
            .map_err(StoreError::io(format!("fsync {}", data.display())))?;
    }
    let log = dir.join("parts.log");
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(StoreError::io(format!("open {}", log.display())))?;
    f.write_all(format!("{offset} {expected}\n").as_bytes())
        .map_err(StoreError::io(format!("append {}", log.display())))?;
    if storage.fsync() {
        f.sync_data()
            .map_err(StoreError::io(format!("fsync {}", log.display())))?;
    }
    Ok(())
}

/// Slices recorded so far, `(offset, len)`, sorted, without repeats.
pub(crate) fn v4_slices(
    storage: &Storage,
    s: &SliceSession,
) -> Result<Vec<(u64, u64)>, StoreError> {
    let log = root(storage).join(&s.session).join("parts.log");
    let text = match fs::read_to_string(&log) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(StoreError::io(format!("read {}", log.display()))(e)),
    };
    let mut out: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            // A torn last line (crash mid-append) is ignored: that slice is re-sent.
            let (a, b) = l.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .filter(|&(o, l): &(u64, u64)| o < s.filesize && l == s.slice_size.min(s.filesize - o))
        .collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Checks completeness and `sha`, then commits the session's data as the object.
pub(crate) fn v4_finish(
    storage: &Storage,
    s: &SliceSession,
    sha: Option<&str>,
    now: u64,
) -> Result<Commit, UploadError> {
    let slices = v4_slices(storage, s)?;
    let mut next = 0u64;
    for (offset, len) in &slices {
        if *offset != next {
            return Err(UploadError::Incomplete);
        }
        next = offset + len;
    }
    if next != s.filesize {
        return Err(UploadError::Incomplete);
    }
    let dir = root(storage).join(&s.session);
    let data = dir.join("data");
    let (md5, sha1) = hash_file(&data)?;
    let actual = hex::encode(sha1);
    for declared in [s.sha.as_deref(), sha].into_iter().flatten() {
        if !declared.eq_ignore_ascii_case(&actual) {
            return Err(UploadError::ShaMismatch);
        }
    }
    // Move the data out of the session first, so the commit consumes its own copy.
    let tmp = storage.tmp_path();
    fs::rename(&data, &tmp).map_err(StoreError::io(format!("rename {}", data.display())))?;
    let blob = Blob::from_parts(tmp, s.filesize, md5, sha1);
    let mode = if s.insert_only {
        Mode::InsertOnly
    } else {
        Mode::Overwrite
    };
    let result = storage.commit(
        &s.bucket,
        &s.key,
        blob,
        NewMeta {
            content_type: crate::http::content_type_for(&s.key, None),
            biz_attr: s.biz_attr.clone(),
            user_meta: Vec::new(),
            headers: Vec::new(),
            etag: None,
        },
        mode,
        now,
    );
    // The session is over whatever the outcome: its data has been consumed.
    storage::remove_any(&dir)?;
    Ok(result?)
}

/// MD5 and SHA-1 of a whole file, computed by two threads at once (each reads the file;
/// the second read comes from the page cache), so finishing a large slice upload takes
/// the time of the slower hash rather than of both.
fn hash_file(path: &Path) -> Result<([u8; 16], [u8; 20]), StoreError> {
    fn digest<D: md5::Digest>(path: &Path) -> Result<D, StoreError> {
        let mut f =
            fs::File::open(path).map_err(StoreError::io(format!("open {}", path.display())))?;
        let mut hasher = D::new();
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(StoreError::io(format!("read {}", path.display())))?;
            if n == 0 {
                return Ok(hasher);
            }
            hasher.update(&buf[..n]);
        }
    }
    let (md5, sha1) = std::thread::scope(|scope| {
        let md5 = scope.spawn(|| digest::<Md5>(path));
        let sha1 = digest::<Sha1>(path);
        let md5 = md5.join().unwrap_or_else(|_| {
            Err(StoreError::io(format!("hash {}", path.display()))(
                std::io::Error::other("the hashing thread panicked"),
            ))
        });
        (md5, sha1)
    });
    Ok((md5?.finalize().into(), sha1?.finalize().into()))
}
