//! Objects on disk: streamed, hashed temp files committed atomically, and the
//! in-memory index rebuilt at open.
//!
//! Layout under the data directory:
//! * `tmp/`: bodies being received; emptied at open.
//! * `blobs/<id>`: committed bodies, named by a random id (never by key).
//! * `buckets/<bucket>/meta/<sha1(key)>.json`: one sidecar per key with the key
//!   itself, its size, hashes, content type and the blob id. Renaming the sidecar
//!   into place is the commit point of every write; blobs no sidecar names are
//!   removed at open.
//! * `uploads/`: v4 slice sessions and v5 multipart uploads (see `crate::uploads`).
//!
//! Durability (with `fsync` on): a commit makes the body durable (file fsync,
//! rename into `blobs/`, fsync of `blobs/`) before it writes the sidecar (file
//! fsync, rename, fsync of `meta/`), so a durable sidecar always names a durable
//! body. With `fsync` off, a crash of the machine can still leave a sidecar
//! whose body is missing or short: opening the store logs a warning and removes
//! such a sidecar, so the broken object is neither listed nor served.
//!
//! This file holds the index and the commit; `body.rs` the temp files bodies
//! stream into; `files.rs` small file-system helpers.

mod body;
mod files;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use shared::{DirPath, ObjectKey};

pub(crate) use self::body::{Blob, BlobWriter, Staged, TempBody};
pub(crate) use self::files::{Writes, read_dir, remove_any, replace_file, sync_dir, write_file};
use crate::error::StoreError;
use crate::key::AsStoreKey;

/// Metadata of one stored object or directory marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// The key (`a/b.jpg`, or `a/b/` for a directory marker).
    pub key: String,
    /// Blob id; `None` for a directory marker.
    pub blob: Option<String>,
    pub size: u64,
    /// Lower-case hex MD5 of the content.
    pub md5: String,
    /// Lower-case hex SHA-1 of the content.
    pub sha1: String,
    /// ETag without quotes: the MD5, or `<md5 of md5s>-<n>` after a multipart upload.
    pub etag: String,
    pub content_type: String,
    #[serde(default)]
    pub biz_attr: String,
    pub ctime: u64,
    pub mtime: u64,
    /// `x-cos-meta-*` headers, lower-case names.
    #[serde(default)]
    pub user_meta: Vec<(String, String)>,
    /// Standard headers the upload set and GET/HEAD return
    /// (`crate::http::STORED_HEADERS`), by their canonical names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

impl Meta {
    pub(crate) fn is_dir(&self) -> bool {
        self.blob.is_none()
    }
}

/// What a commit writes besides the body.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewMeta {
    pub content_type: String,
    pub biz_attr: String,
    pub user_meta: Vec<(String, String)>,
    /// `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Expires`.
    pub headers: Vec<(String, String)>,
    /// Overrides the ETag (multipart); default: the MD5.
    pub etag: Option<String>,
}

/// Whether a commit may replace an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Overwrite,
    /// v4 `insertOnly=1`, v5 `x-cos-forbid-overwrite: true`: refuse when the
    /// key exists.
    InsertOnly,
}

/// What a write did: an insert-only write finding its key taken is an
/// outcome, not an error.
#[derive(Debug)]
#[must_use]
pub(crate) enum Commit {
    /// Stored: the commit point has passed.
    Written(Arc<Meta>),
    /// [`Mode::InsertOnly`] and the key was taken: nothing was written.
    Refused(Existing),
}

/// What an insert-only write found under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// An object with the same content (the same SHA-1).
    SameContent,
    /// Another object, or a directory marker.
    OtherContent,
}

impl Existing {
    /// What `new` would find in `old`: the same content only when both are
    /// objects with the same SHA-1.
    fn of(old: &Meta, new: &Meta) -> Self {
        if old.sha1 == new.sha1 && !old.is_dir() && !new.is_dir() {
            Existing::SameContent
        } else {
            Existing::OtherContent
        }
    }
}

type Index = HashMap<String, BTreeMap<String, Arc<Meta>>>;

/// A key's metadata and its opened body (`None` for a directory marker).
pub(crate) type Opened = (Arc<Meta>, Option<fs::File>);

#[derive(Debug)]
pub(crate) struct Storage {
    root: PathBuf,
    writes: Writes,
    index: Mutex<Index>,
}

fn hex_name(key: &str) -> String {
    hex::encode(Sha1::digest(key.as_bytes()))
}

impl Storage {
    /// Opens (creating) the layout, clears `tmp/`, loads every sidecar and
    /// removes blobs nothing refers to.
    pub(crate) fn open(root: &Path, writes: Writes) -> Result<Self, StoreError> {
        let fsync = writes.fsync;
        for sub in ["tmp", "blobs", "buckets", "uploads"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir)
                .map_err(StoreError::io(format!("create {}", dir.display())))?;
        }
        let tmp = root.join("tmp");
        for entry in read_dir(&tmp)? {
            remove_any(&entry)?;
        }
        let mut index: Index = HashMap::new();
        let mut referenced = HashSet::new();
        for bucket_dir in read_dir(&root.join("buckets"))? {
            let Some(bucket) = bucket_dir
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
            else {
                continue;
            };
            let meta_dir = bucket_dir.join("meta");
            if !meta_dir.is_dir() {
                continue;
            }
            let map = index.entry(bucket).or_default();
            let mut repaired = false;
            for file in read_dir(&meta_dir)? {
                let name = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if !name.ends_with(".json") {
                    // A sidecar being written when the process died.
                    remove_any(&file)?;
                    continue;
                }
                let text =
                    fs::read(&file).map_err(StoreError::io(format!("read {}", file.display())))?;
                let meta: Meta =
                    serde_json::from_slice(&text).map_err(|e| StoreError::Corrupt {
                        path: file.display().to_string(),
                        reason: e.to_string(),
                    })?;
                if let Some(blob) = &meta.blob {
                    if let Some(problem) = body_problem(&root.join("blobs").join(blob), meta.size)?
                    {
                        // Only possible after a crash of the machine with `fsync` off
                        // (or a body removed by hand): never list or serve it.
                        tracing::warn!(
                            bucket = %bucket_name(&bucket_dir),
                            key = %meta.key,
                            blob = %blob,
                            problem,
                            "metadata names a missing or torn body; removing the object"
                        );
                        remove_any(&file)?;
                        repaired = true;
                        continue;
                    }
                    referenced.insert(blob.clone());
                }
                map.insert(meta.key.clone(), Arc::new(meta));
            }
            if repaired && fsync {
                sync_dir(&meta_dir)?;
            }
        }
        for blob in read_dir(&root.join("blobs"))? {
            let name = blob
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !referenced.contains(name) {
                remove_any(&blob)?;
            }
        }
        Ok(Self {
            root: root.to_owned(),
            writes,
            index: Mutex::new(index),
        })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn fsync(&self) -> bool {
        self.writes.fsync
    }

    /// Fails as a full disk would when one is simulated (see [`Writes`]).
    pub(crate) fn check_space(&self, what: &str) -> Result<(), StoreError> {
        self.writes.check_space(what)
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        // A panic while holding the lock cannot leave the index half-updated:
        // every critical section below mutates it in a single step.
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn tmp_path(&self) -> PathBuf {
        self.root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// A writer for a new body, limited to `limit` bytes.
    pub(crate) async fn writer(&self, limit: u64) -> Result<BlobWriter, StoreError> {
        BlobWriter::create(self.tmp_path(), limit, self.writes).await
    }

    /// A writer for a body that is only a staging copy: it is copied into a
    /// file that is fsync'd before the request is acknowledged (a v4 slice
    /// goes into its session's data file, which is hashed as a whole when the
    /// upload finishes), so it is neither hashed nor fsync'd itself, and is
    /// usually deleted before the kernel writes it back at all.
    pub(crate) async fn staging_writer(&self, limit: u64) -> Result<TempBody, StoreError> {
        let writes = Writes {
            fsync: false,
            ..self.writes
        };
        TempBody::create(self.tmp_path(), limit, writes).await
    }

    fn meta_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket).join("meta")
    }

    fn blob_path(&self, id: &str) -> PathBuf {
        self.root.join("blobs").join(id)
    }

    /// Looks a key up.
    pub(crate) fn get(&self, bucket: &str, key: &impl AsStoreKey) -> Option<Arc<Meta>> {
        self.lock()
            .get(bucket)
            .and_then(|m| m.get(key.store_key()))
            .cloned()
    }

    /// Looks a key up and opens its body under the index lock, so a concurrent
    /// overwrite cannot remove the blob between the two.
    pub(crate) fn open_object(
        &self,
        bucket: &str,
        key: &impl AsStoreKey,
    ) -> Result<Option<Opened>, StoreError> {
        let index = self.lock();
        let Some(meta) = index
            .get(bucket)
            .and_then(|m| m.get(key.store_key()))
            .cloned()
        else {
            return Ok(None);
        };
        let file = match &meta.blob {
            Some(id) => {
                let path = self.blob_path(id);
                Some(
                    fs::File::open(&path)
                        .map_err(StoreError::io(format!("open {}", path.display())))?,
                )
            }
            None => None,
        };
        Ok(Some((meta, file)))
    }

    /// Visits keys of `bucket` in order from `start` until `visit` returns false.
    pub(crate) fn scan(
        &self,
        bucket: &str,
        start: Bound<&str>,
        mut visit: impl FnMut(&Arc<Meta>) -> bool,
    ) {
        let index = self.lock();
        let Some(map) = index.get(bucket) else { return };
        let range = map.range::<str, _>((start, Bound::Unbounded));
        for (_, meta) in range {
            if !visit(meta) {
                break;
            }
        }
    }

    /// True when `dir` has a marker or anything lies below it.
    pub(crate) fn any_at_or_below(&self, bucket: &str, dir: &DirPath) -> bool {
        self.has_prefix(bucket, dir.store_key(), "")
    }

    /// True when anything lies below `dir` (its own marker aside).
    pub(crate) fn any_below(&self, bucket: &str, dir: &DirPath) -> bool {
        self.has_prefix(bucket, dir.store_key(), dir.store_key())
    }

    /// True when any key starts with `prefix` (other than `except`).
    fn has_prefix(&self, bucket: &str, prefix: &str, except: &str) -> bool {
        let mut found = false;
        self.scan(bucket, Bound::Included(prefix), |m| {
            if !m.key.starts_with(prefix) {
                return false;
            }
            if m.key != except {
                found = true;
                return false;
            }
            true
        });
        found
    }

    /// Commits a received body under `key`. Blocking: call from a blocking context.
    pub(crate) fn commit(
        &self,
        bucket: &str,
        key: &ObjectKey,
        mut blob: Blob,
        new: NewMeta,
        mode: Mode,
        now: u64,
    ) -> Result<Commit, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let md5 = hex::encode(blob.md5);
        let meta = Meta {
            key: key.as_str().to_owned(),
            blob: Some(id.clone()),
            size: blob.size,
            etag: new.etag.unwrap_or_else(|| md5.clone()),
            md5,
            sha1: hex::encode(blob.sha1),
            content_type: new.content_type,
            biz_attr: new.biz_attr,
            ctime: now,
            mtime: now,
            user_meta: new.user_meta,
            headers: new.headers,
        };
        if mode == Mode::InsertOnly
            && let Some(old) = self.get(bucket, key)
        {
            // Refuse early without touching the disk; checked again under the lock.
            return Ok(Commit::Refused(Existing::of(&old, &meta)));
        }
        // Durability order (each step is durable before the next starts, when
        // `fsync` is on): the body's data (fsynced by whoever produced the
        // blob: `BlobWriter::finish`, the multipart concatenation, the slice
        // writes), its rename into `blobs/` and an fsync of `blobs/`, and only
        // then the sidecar (`install`: file fsync, rename, fsync of `meta/`),
        // the commit point. A power loss at any moment leaves either no
        // sidecar (the body is an orphan, removed at open) or a sidecar whose
        // body is durable.
        let blob_path = self.blob_path(&id);
        let tmp = blob.take_path();
        fs::rename(&tmp, &blob_path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StoreError::io(format!("rename into {}", blob_path.display()))(e)
        })?;
        if self.fsync()
            && let Err(e) = sync_dir(&self.root.join("blobs"))
        {
            let _ = fs::remove_file(&blob_path);
            return Err(e);
        }
        let result = self.install(bucket, meta, mode);
        if !matches!(result, Ok(Commit::Written(_))) {
            let _ = fs::remove_file(&blob_path);
        }
        result
    }

    /// Writes an explicit directory marker (`a/b/` for `/a/b/`).
    pub(crate) fn put_dir(
        &self,
        bucket: &str,
        dir: &DirPath,
        biz_attr: &str,
        mode: Mode,
        now: u64,
    ) -> Result<Commit, StoreError> {
        let empty_md5 = hex::encode(Md5::digest(b""));
        let meta = Meta {
            key: dir.store_key().to_owned(),
            blob: None,
            size: 0,
            etag: empty_md5.clone(),
            md5: empty_md5,
            sha1: hex::encode(Sha1::digest(b"")),
            content_type: "application/x-directory".to_owned(),
            biz_attr: biz_attr.to_owned(),
            ctime: now,
            mtime: now,
            user_meta: Vec::new(),
            headers: Vec::new(),
        };
        self.install(bucket, meta, mode)
    }

    /// Writes the sidecar and swaps it in: the commit point.
    fn install(&self, bucket: &str, meta: Meta, mode: Mode) -> Result<Commit, StoreError> {
        let dir = self.meta_dir(bucket);
        fs::create_dir_all(&dir).map_err(StoreError::io(format!("create {}", dir.display())))?;
        let name = hex_name(&meta.key);
        let final_path = dir.join(format!("{name}.json"));
        let tmp_path = dir.join(format!("{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let text = serde_json::to_vec(&meta).map_err(|e| StoreError::Corrupt {
            path: final_path.display().to_string(),
            reason: e.to_string(),
        })?;
        self.check_space(&format!("write {}", tmp_path.display()))?;
        write_file(&tmp_path, &text, self.fsync())?;
        let meta = Arc::new(meta);
        let old = {
            let mut index = self.lock();
            let map = index.entry(bucket.to_owned()).or_default();
            if mode == Mode::InsertOnly
                && let Some(old) = map.get(&meta.key)
            {
                let existing = Existing::of(old, &meta);
                drop(index);
                let _ = fs::remove_file(&tmp_path);
                return Ok(Commit::Refused(existing));
            }
            if let Err(e) = fs::rename(&tmp_path, &final_path) {
                drop(index);
                let _ = fs::remove_file(&tmp_path);
                return Err(StoreError::io(format!(
                    "rename into {}",
                    final_path.display()
                ))(e));
            }
            map.insert(meta.key.clone(), Arc::clone(&meta))
        };
        if self.fsync() {
            sync_dir(&dir)?;
        }
        if let Some(old_blob) = old.and_then(|o| o.blob.clone())
            && meta.blob.as_deref() != Some(old_blob.as_str())
        {
            let _ = fs::remove_file(self.blob_path(&old_blob));
        }
        Ok(Commit::Written(meta))
    }

    /// Replaces the `biz_attr` of a stored key (v4 `update`). False when absent.
    /// Runs entirely under the index lock so a concurrent overwrite cannot be undone.
    pub(crate) fn update_biz_attr(
        &self,
        bucket: &str,
        key: &impl AsStoreKey,
        biz_attr: Option<String>,
    ) -> Result<bool, StoreError> {
        let key = key.store_key();
        let dir = self.meta_dir(bucket);
        let name = hex_name(key);
        let final_path = dir.join(format!("{name}.json"));
        let mut index = self.lock();
        let Some(map) = index.get_mut(bucket) else {
            return Ok(false);
        };
        let Some(old) = map.get(key) else {
            return Ok(false);
        };
        let mut meta = (**old).clone();
        if let Some(b) = biz_attr {
            meta.biz_attr = b;
        }
        let text = serde_json::to_vec(&meta).map_err(|e| StoreError::Corrupt {
            path: final_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let tmp_path = dir.join(format!("{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        self.check_space(&format!("write {}", tmp_path.display()))?;
        write_file(&tmp_path, &text, self.fsync())?;
        if let Err(e) = fs::rename(&tmp_path, &final_path) {
            let _ = fs::remove_file(&tmp_path);
            return Err(StoreError::io(format!(
                "rename into {}",
                final_path.display()
            ))(e));
        }
        map.insert(key.to_owned(), Arc::new(meta));
        drop(index);
        if self.fsync() {
            sync_dir(&dir)?;
        }
        Ok(true)
    }

    /// Removes a key. Returns what was removed.
    pub(crate) fn delete(
        &self,
        bucket: &str,
        key: &impl AsStoreKey,
    ) -> Result<Option<Arc<Meta>>, StoreError> {
        let key = key.store_key();
        let dir = self.meta_dir(bucket);
        let path = dir.join(format!("{}.json", hex_name(key)));
        let old = {
            let mut index = self.lock();
            let Some(map) = index.get_mut(bucket) else {
                return Ok(None);
            };
            if !map.contains_key(key) {
                return Ok(None);
            }
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(format!("remove {}", path.display()))(e)),
            }
            map.remove(key)
        };
        if self.fsync() {
            sync_dir(&dir)?;
        }
        if let Some(blob) = old.as_ref().and_then(|o| o.blob.clone()) {
            let _ = fs::remove_file(self.blob_path(&blob));
        }
        Ok(old)
    }

    /// Number of files in `tmp/` (tests and diagnostics).
    pub(crate) fn tmp_count(&self) -> usize {
        read_dir(&self.root.join("tmp"))
            .map(|v| v.len())
            .unwrap_or(0)
    }
}

/// Why the body a sidecar names cannot be served: missing, or not the size the
/// sidecar records. `Ok(None)` when it is fine; an error the file system gives
/// for any other reason (permissions…) fails the open rather than losing data.
fn body_problem(path: &Path, size: u64) -> Result<Option<String>, StoreError> {
    match fs::metadata(path) {
        Ok(md) if md.is_file() && md.len() == size => Ok(None),
        Ok(md) if md.is_file() => Ok(Some(format!("the body is {} bytes, not {size}", md.len()))),
        Ok(_) => Ok(Some("the body is not a regular file".to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Some("the body is missing".to_owned()))
        }
        Err(e) => Err(StoreError::io(format!("stat {}", path.display()))(e)),
    }
}

fn bucket_name(bucket_dir: &Path) -> String {
    bucket_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
