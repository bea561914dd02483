//! v5 multipart uploads on disk: `uploads/v5/<id>/upload.json` (bucket, key,
//! content type, user metadata, stored headers) and one file per part, `p<number>.<md5>`.
//! Completing concatenates the listed parts into a new object.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use shared::ObjectKey;

use super::{UploadError, create_session_dir, load_json, valid_id};
use crate::error::StoreError;
use crate::key::StoreKey;
use crate::storage::{self, Blob, Commit, Mode, NewMeta, Storage};

/// Where multipart uploads live.
pub(super) fn root(storage: &Storage) -> PathBuf {
    storage.root().join("uploads").join("v5")
}

/// A v5 multipart upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct V5Upload {
    pub id: String,
    pub bucket: String,
    #[serde(with = "crate::key::object_key")]
    pub key: ObjectKey,
    pub content_type: String,
    #[serde(default)]
    pub user_meta: Vec<(String, String)>,
    /// Standard headers given at initiate, for the completed object.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub initiated: u64,
    /// Initiated with `x-cos-forbid-overwrite: true`: the complete refuses
    /// an existing key.
    #[serde(default)]
    pub forbid_overwrite: bool,
}

/// What an upload is initiated with, besides its target.
#[derive(Debug)]
pub(crate) struct NewUpload<'a> {
    pub content_type: &'a str,
    pub user_meta: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub forbid_overwrite: bool,
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
    key: &ObjectKey,
    new: NewUpload<'_>,
    now: u64,
) -> Result<V5Upload, StoreError> {
    let upload = V5Upload {
        id: uuid::Uuid::new_v4().simple().to_string(),
        bucket: bucket.to_owned(),
        key: key.clone(),
        content_type: new.content_type.to_owned(),
        user_meta: new.user_meta,
        headers: new.headers,
        initiated: now,
        forbid_overwrite: new.forbid_overwrite,
    };
    let dir = root(storage).join(&upload.id);
    let text = serde_json::to_vec(&upload).map_err(|e| StoreError::Corrupt {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    create_session_dir(storage, &dir, |dir| {
        storage::replace_file(&dir.join("upload.json"), &text, storage.fsync())
    })?;
    Ok(upload)
}

/// The upload `id` of `bucket`/`key`, if it exists.
pub(crate) fn v5_load(
    storage: &Storage,
    id: &str,
    bucket: &str,
    key: &StoreKey,
) -> Result<V5Upload, UploadError> {
    if !valid_id(id) {
        return Err(UploadError::NoSuchUpload);
    }
    let upload: V5Upload =
        load_json(&root(storage).join(id).join("upload.json"))?.ok_or(UploadError::NoSuchUpload)?;
    let same_key = matches!(key, StoreKey::Object(k) if *k == upload.key);
    if upload.bucket != bucket || !same_key {
        return Err(UploadError::NoSuchUpload);
    }
    Ok(upload)
}

/// Every upload of `bucket`, by key, the oldest first.
pub(crate) fn v5_list(storage: &Storage, bucket: &str) -> Result<Vec<V5Upload>, StoreError> {
    let mut out = Vec::new();
    for dir in storage::read_dir(&root(storage))? {
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
    let dir = root(storage).join(&upload.id);
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
    let dir = root(storage).join(&upload.id);
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

/// The stored parts a complete names, in order: each must have been
/// uploaded with that ETag, and every part but the last must be at least
/// `min_part_size`. Their sizes add up to the object's.
pub(crate) fn v5_choose_parts(
    storage: &Storage,
    upload: &V5Upload,
    requested: &[(u32, String)],
    min_part_size: u64,
) -> Result<Vec<PartInfo>, UploadError> {
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
    Ok(chosen)
}

/// Assembles the `chosen` parts ([`v5_choose_parts`]) into the object and
/// removes the upload; an insert-only complete that finds the key taken
/// keeps the upload. The whole must not exceed `max_object_size`.
pub(crate) fn v5_complete(
    storage: &Storage,
    upload: &V5Upload,
    chosen: &[PartInfo],
    max_object_size: u64,
    mode: Mode,
    now: u64,
) -> Result<Commit, UploadError> {
    let total: u64 = chosen.iter().map(|p| p.size).sum();
    if total > max_object_size {
        return Err(StoreError::TooLarge {
            limit: max_object_size,
        }
        .into());
    }
    let tmp = storage.tmp_path();
    storage.check_space(&format!("write {}", tmp.display()))?;
    let (md5, sha1, size) = concat_into(&tmp, chosen, storage.fsync())?;
    let blob = Blob::from_parts(tmp, size, md5, sha1);
    let mut etag_hasher = Md5::new();
    for p in chosen {
        let mut raw = [0u8; 16];
        hex::decode_to_slice(&p.md5, &mut raw)
            .map_err(|_| UploadError::InvalidPart(format!("part {} has a bad ETag", p.number)))?;
        etag_hasher.update(raw);
    }
    let etag = format!("{}-{}", hex::encode(etag_hasher.finalize()), chosen.len());
    let commit = storage.commit(
        &upload.bucket,
        &upload.key,
        blob,
        NewMeta {
            content_type: upload.content_type.clone(),
            biz_attr: String::new(),
            user_meta: upload.user_meta.clone(),
            headers: upload.headers.clone(),
            etag: Some(etag),
        },
        mode,
        now,
    )?;
    if let Commit::Written(_) = &commit {
        storage::remove_any(&root(storage).join(&upload.id))?;
    }
    Ok(commit)
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

/// Removes an upload (one already gone is no error).
pub(crate) fn v5_abort(storage: &Storage, upload: &V5Upload) -> Result<(), StoreError> {
    storage::remove_any(&root(storage).join(&upload.id))
}
