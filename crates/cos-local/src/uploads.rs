//! Upload sessions that outlive one request: v5 multipart uploads and v4 slice
//! sessions. Both live entirely on disk (`uploads/v5/<id>/`, `uploads/v4/<id>/`)
//! so they survive a restart; callers serialise state changes per upload with
//! `Inner::upload_locks` (v5, by upload id) and `Inner::session_locks` (v4, by
//! session id), and the creation of v4 sessions with `Inner::uploads_lock`.

use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

use crate::error::StoreError;
use crate::storage::{self, Blob, Meta, Mode, NewMeta, Staged, Storage};

/// Why an upload-session operation was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the upload does not exist (finished, aborted or never started)")]
    NoSuchUpload,
    #[error("{0}")]
    InvalidPart(String),
    #[error("parts must be listed in ascending order without repeats")]
    InvalidPartOrder,
    #[error("{0}")]
    TooSmall(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("not every slice has been uploaded yet")]
    Incomplete,
    #[error("the content's SHA-1 does not match the declared sha")]
    ShaMismatch,
}

fn v5_root(storage: &Storage) -> PathBuf {
    storage.root().join("uploads").join("v5")
}

fn v4_root(storage: &Storage) -> PathBuf {
    storage.root().join("uploads").join("v4")
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Removes half-created sessions and temp files left by a crash.
pub(crate) fn cleanup_at_open(storage: &Storage) -> Result<(), StoreError> {
    for (root, marker) in [
        (v5_root(storage), "upload.json"),
        (v4_root(storage), "session.json"),
    ] {
        fs::create_dir_all(&root).map_err(StoreError::io(format!("create {}", root.display())))?;
        for dir in storage::read_dir(&root)? {
            if !dir.join(marker).is_file() {
                storage::remove_any(&dir)?;
                continue;
            }
            for file in storage::read_dir(&dir)? {
                if file.extension().is_some_and(|e| e == "tmp") {
                    storage::remove_any(&file)?;
                }
            }
        }
    }
    Ok(())
}

/// A v5 multipart upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct V5Upload {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub content_type: String,
    #[serde(default)]
    pub user_meta: Vec<(String, String)>,
    pub initiated: u64,
}

/// One stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartInfo {
    pub number: u32,
    /// Hex MD5 (the part's ETag without quotes).
    pub md5: String,
    pub size: u64,
    pub mtime: u64,
    path: PathBuf,
}

pub(crate) fn v5_create(
    storage: &Storage,
    bucket: &str,
    key: &str,
    content_type: &str,
    user_meta: Vec<(String, String)>,
    now: u64,
) -> Result<V5Upload, StoreError> {
    let upload = V5Upload {
        id: uuid::Uuid::new_v4().simple().to_string(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        content_type: content_type.to_owned(),
        user_meta,
        initiated: now,
    };
    let dir = v5_root(storage).join(&upload.id);
    fs::create_dir_all(&dir).map_err(StoreError::io(format!("create {}", dir.display())))?;
    let text = serde_json::to_vec(&upload).map_err(|e| StoreError::Corrupt {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    storage::replace_file(&dir.join("upload.json"), &text, storage.fsync())?;
    Ok(upload)
}

fn load_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StoreError> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(format!("read {}", path.display()))(e)),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// The upload `id` of `bucket`/`key`, if it exists.
pub(crate) fn v5_load(
    storage: &Storage,
    id: &str,
    bucket: &str,
    key: &str,
) -> Result<V5Upload, UploadError> {
    if !valid_id(id) {
        return Err(UploadError::NoSuchUpload);
    }
    let upload: V5Upload = load_json(&v5_root(storage).join(id).join("upload.json"))?
        .ok_or(UploadError::NoSuchUpload)?;
    if upload.bucket != bucket || upload.key != key {
        return Err(UploadError::NoSuchUpload);
    }
    Ok(upload)
}

/// Every upload of `bucket`, oldest first.
pub(crate) fn v5_list(storage: &Storage, bucket: &str) -> Result<Vec<V5Upload>, StoreError> {
    let mut out = Vec::new();
    for dir in storage::read_dir(&v5_root(storage))? {
        if let Some(u) = load_json::<V5Upload>(&dir.join("upload.json"))?
            && u.bucket == bucket
        {
            out.push(u);
        }
    }
    out.sort_by(|a, b| (a.key.as_str(), a.initiated).cmp(&(b.key.as_str(), b.initiated)));
    Ok(out)
}

/// Moves a received part into the upload, replacing an earlier part with the same number.
pub(crate) fn v5_put_part(
    storage: &Storage,
    upload: &V5Upload,
    number: u32,
    mut blob: Blob,
) -> Result<String, UploadError> {
    let dir = v5_root(storage).join(&upload.id);
    if !dir.join("upload.json").is_file() {
        return Err(UploadError::NoSuchUpload);
    }
    let md5 = hex::encode(blob.md5);
    let name = format!("p{number:05}.{md5}");
    let tmp = blob.take_path();
    let dest = dir.join(&name);
    fs::rename(&tmp, &dest).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io(format!("rename into {}", dest.display()))(e)
    })?;
    let prefix = format!("p{number:05}.");
    for file in storage::read_dir(&dir)? {
        let fname = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if fname.starts_with(&prefix) && fname != name {
            storage::remove_any(&file)?;
        }
    }
    if storage.fsync() {
        storage::sync_dir(&dir)?;
    }
    Ok(md5)
}

/// The parts stored so far, by number.
pub(crate) fn v5_parts(storage: &Storage, upload: &V5Upload) -> Result<Vec<PartInfo>, StoreError> {
    let dir = v5_root(storage).join(&upload.id);
    let mut out = Vec::new();
    for file in storage::read_dir(&dir)? {
        let fname = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(rest) = fname.strip_prefix('p') else {
            continue;
        };
        let Some((num, md5)) = rest.split_once('.') else {
            continue;
        };
        if md5.len() != 32 {
            continue;
        }
        let Ok(number) = num.parse::<u32>() else {
            continue;
        };
        let md = fs::metadata(&file).map_err(StoreError::io(format!("stat {}", file.display())))?;
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        out.push(PartInfo {
            number,
            md5: md5.to_owned(),
            size: md.len(),
            mtime,
            path: file.clone(),
        });
    }
    out.sort_by_key(|p| p.number);
    Ok(out)
}

/// Assembles the listed parts into the object and removes the upload.
#[allow(clippy::too_many_arguments)]
pub(crate) fn v5_complete(
    storage: &Storage,
    upload: &V5Upload,
    requested: &[(u32, String)],
    min_part_size: u64,
    max_object_size: u64,
    now: u64,
) -> Result<Arc<Meta>, UploadError> {
    if requested.is_empty() {
        return Err(UploadError::BadRequest("the part list is empty".to_owned()));
    }
    if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(UploadError::InvalidPartOrder);
    }
    let stored = v5_parts(storage, upload)?;
    let mut chosen = Vec::with_capacity(requested.len());
    for (i, (number, etag)) in requested.iter().enumerate() {
        let want = etag.trim().trim_matches('"').to_ascii_lowercase();
        let part = stored
            .iter()
            .find(|p| p.number == *number && p.md5 == want)
            .ok_or_else(|| {
                UploadError::InvalidPart(format!(
                    "part {number} with ETag {etag} has not been uploaded"
                ))
            })?;
        if i + 1 < requested.len() && part.size < min_part_size {
            return Err(UploadError::TooSmall(format!(
                "part {number} is {} bytes; every part but the last must be at least {min_part_size} bytes",
                part.size
            )));
        }
        chosen.push(part.clone());
    }
    let total: u64 = chosen.iter().map(|p| p.size).sum();
    if total > max_object_size {
        return Err(StoreError::TooLarge {
            limit: max_object_size,
        }
        .into());
    }
    let tmp = storage.tmp_path();
    let (md5, sha1, size) = concat_into(&tmp, &chosen, storage.fsync())?;
    let blob = Blob::from_parts(tmp, size, md5, sha1);
    let mut etag_hasher = Md5::new();
    for p in &chosen {
        let mut raw = [0u8; 16];
        hex::decode_to_slice(&p.md5, &mut raw)
            .map_err(|_| UploadError::InvalidPart(format!("part {} has a bad ETag", p.number)))?;
        etag_hasher.update(raw);
    }
    let etag = format!("{}-{}", hex::encode(etag_hasher.finalize()), chosen.len());
    let meta = storage.commit(
        &upload.bucket,
        &upload.key,
        blob,
        NewMeta {
            content_type: upload.content_type.clone(),
            biz_attr: String::new(),
            user_meta: upload.user_meta.clone(),
            etag: Some(etag),
        },
        Mode::Overwrite,
        now,
    )?;
    storage::remove_any(&v5_root(storage).join(&upload.id))?;
    Ok(meta)
}

fn concat_into(
    dest: &Path,
    parts: &[PartInfo],
    fsync: bool,
) -> Result<([u8; 16], [u8; 20], u64), StoreError> {
    let mut out =
        fs::File::create(dest).map_err(StoreError::io(format!("create {}", dest.display())))?;
    let mut md5 = Md5::new();
    let mut sha1 = Sha1::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1024 * 1024];
    let result = (|| {
        for p in parts {
            let mut f = fs::File::open(&p.path)
                .map_err(StoreError::io(format!("open {}", p.path.display())))?;
            loop {
                let n = f
                    .read(&mut buf)
                    .map_err(StoreError::io(format!("read {}", p.path.display())))?;
                if n == 0 {
                    break;
                }
                md5.update(&buf[..n]);
                sha1.update(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(StoreError::io(format!("write {}", dest.display())))?;
                size += n as u64;
            }
        }
        if fsync {
            out.sync_all()
                .map_err(StoreError::io(format!("fsync {}", dest.display())))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(dest);
        return Err(e);
    }
    Ok((md5.finalize().into(), sha1.finalize().into(), size))
}

/// Removes an upload. False when there was none.
pub(crate) fn v5_abort(storage: &Storage, upload: &V5Upload) -> Result<(), StoreError> {
    storage::remove_any(&v5_root(storage).join(&upload.id))
}

/// A v4 slice-upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SliceSession {
    pub session: String,
    pub bucket: String,
    pub key: String,
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
    key: &str,
) -> Result<Option<SliceSession>, StoreError> {
    for dir in storage::read_dir(&v4_root(storage))? {
        if let Some(s) = load_json::<SliceSession>(&dir.join("session.json"))?
            && s.bucket == bucket
            && s.key == key
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
    load_json(&v4_root(storage).join(session).join("session.json"))
}

/// Creates a session with an empty data file of the declared size.
pub(crate) fn v4_create(storage: &Storage, s: &SliceSession) -> Result<(), StoreError> {
    let dir = v4_root(storage).join(&s.session);
    fs::create_dir_all(&dir).map_err(StoreError::io(format!("create {}", dir.display())))?;
    let data = dir.join("data");
    let f =
        fs::File::create(&data).map_err(StoreError::io(format!("create {}", data.display())))?;
    f.set_len(s.filesize)
        .map_err(StoreError::io(format!("size {}", data.display())))?;
    let text = serde_json::to_vec(s).map_err(|e| StoreError::Corrupt {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    // session.json last: it marks the session as complete (see cleanup_at_open).
    storage::replace_file(&dir.join("session.json"), &text, storage.fsync())
}

/// Removes a session.
pub(crate) fn v4_remove(storage: &Storage, session: &str) -> Result<(), StoreError> {
    if !valid_id(session) {
        return Ok(());
    }
    storage::remove_any(&v4_root(storage).join(session))
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
    let dir = v4_root(storage).join(&s.session);
    if !dir.join("session.json").is_file() {
        return Err(UploadError::NoSuchUpload);
    }
    let data = dir.join("data");
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
    let log = v4_root(storage).join(&s.session).join("parts.log");
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
) -> Result<Arc<Meta>, UploadError> {
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
    let dir = v4_root(storage).join(&s.session);
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
