//! Slice upload: a session per target file (`upload_slice_init`), slices
//! written into its data file at their offsets (`upload_slice_data`), listed
//! for a resume (`upload_slice_list`), and the file committed once complete
//! (`upload_slice_finish`).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use shared::v4::{SliceList, SlicePart, SliceSession, codes};

use super::Ctx;
use super::error::{V4Error, fail, params_error};
use super::form::Form;
use super::objects::{conflict, upload_data};
use crate::error::StoreError;
use crate::http;
use crate::inner::Inner;
use crate::storage::{Blob, Commit, Existing};
use crate::uploads::{self, UploadError};

/// Smallest and largest accepted slice sizes.
const MIN_SLICE: u64 = 64 * 1024;
pub(super) const MAX_SLICE: u64 = 8 * 1024 * 1024;

pub(super) async fn slice_init(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let key = ctx.file_key()?;
    let filesize = form
        .number("filesize")?
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing filesize"))?;
    if filesize == 0 {
        return Err(params_error(
            "ERROR_CGI_PARAM: filesize must be positive; use op=upload for empty files",
        ));
    }
    if filesize > inner.config.max_object_size {
        return Err(StoreError::TooLarge {
            limit: inner.config.max_object_size,
        }
        .into());
    }
    let slice_size = form.number("slice_size")?.unwrap_or(1024 * 1024);
    if !(MIN_SLICE..=MAX_SLICE).contains(&slice_size) {
        return Err(params_error(format!(
            "ERROR_CGI_PARAM: slice_size must be from {MIN_SLICE} to {MAX_SLICE} bytes"
        )));
    }
    let sha = form
        .get("sha")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(s) = &sha
        && (s.len() != 40 || !s.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(params_error(
            "ERROR_CGI_PARAM: sha must be 40 hex digits (SHA-1 of the whole file)",
        ));
    }
    let insert_only = form.insert_only()?;
    if insert_only && let Some(existing) = inner.storage.get(&ctx.bucket_full, &key) {
        let found = if sha.as_deref() == Some(existing.sha1.as_str()) {
            Existing::SameContent
        } else {
            Existing::OtherContent
        };
        return Err(conflict(inner, req, ctx, &key, found));
    }
    let _guard = inner
        .slice_target_locks
        .lock((ctx.bucket_full.clone(), key.clone()))
        .await;
    let wanted = uploads::SliceSession {
        session: uuid::Uuid::new_v4().simple().to_string(),
        bucket: ctx.bucket_full.clone(),
        key: key.clone(),
        filesize,
        slice_size,
        sha,
        biz_attr: form.get("biz_attr").unwrap_or("").to_owned(),
        insert_only,
        created: shared::clock::unix_now(),
    };
    let i = Arc::clone(inner);
    let session = http::blocking(move || {
        if let Some(old) = uploads::v4_find(&i.storage, &wanted.bucket, &wanted.key)? {
            if old.filesize == wanted.filesize
                && old.slice_size == wanted.slice_size
                && old.sha == wanted.sha
            {
                // Same upload again: resume the existing session.
                return Ok(old);
            }
            uploads::v4_remove(&i.storage, &old.session)?;
        }
        uploads::v4_create(&i.storage, &wanted)?;
        Ok::<_, StoreError>(wanted)
    })
    .await?;
    Ok(ctx.ok(SliceSession {
        session: session.session,
        slice_size: session.slice_size,
        offset: 0,
    }))
}

async fn load_session(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    form: &Form,
) -> Result<uploads::SliceSession, V4Error> {
    let key = ctx.file_key()?;
    let id = form
        .get("session")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing session"))?
        .to_owned();
    let i = Arc::clone(inner);
    let s = http::blocking(move || uploads::v4_load(&i.storage, &id))
        .await?
        .ok_or(UploadError::NoSuchUpload)?;
    if s.bucket != ctx.bucket_full || s.key != key {
        return Err(params_error(
            "ERROR_CGI_PARAM: the session belongs to another file",
        ));
    }
    Ok(s)
}

pub(super) async fn slice_data(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    mut form: Form,
) -> Result<HttpResponse, V4Error> {
    let s = load_session(inner, ctx, &form).await?;
    let offset = form
        .number("offset")?
        .ok_or_else(|| params_error("ERROR_CGI_PARAM: missing offset"))?;
    // `filecontent` is staged when `op` came first, as clients send it.
    let blob = form
        .slice
        .take()
        .or_else(|| form.file.take().map(Blob::into_staged))
        .ok_or_else(|| {
            params_error(
                "ERROR_CGI_PARAM: missing filecontent: upload_slice_data sends the slice in \
                 the filecontent field of a multipart/form-data body",
            )
        })?;
    let _guard = inner.slice_session_locks.lock(s.session.clone()).await;
    let i = Arc::clone(inner);
    let s2 = s.clone();
    tokio::task::spawn_blocking(move || uploads::v4_write_slice(&i.storage, &s2, offset, &blob))
        .await
        .map_err(|e| fail(500, codes::INTERNAL, e.to_string()))??;
    Ok(ctx.ok(SliceSession {
        session: s.session,
        slice_size: s.slice_size,
        offset,
    }))
}

pub(super) async fn slice_finish(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let s = load_session(inner, ctx, form).await?;
    if let Some(size) = form.number("filesize")?
        && size != s.filesize
    {
        return Err(fail(
            400,
            codes::FILE_SIZE_MISMATCH,
            format!(
                "ERROR_CMD_COS_FILE_SIZE_NOT_EQU: filesize {size} differs from {} given at init",
                s.filesize
            ),
        ));
    }
    let sha = form
        .get("sha")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if s.sha.is_some() && sha.is_none() {
        return Err(params_error(
            "ERROR_CMD_SHA_MISSING: sha was given at init and is required at finish",
        )
        .with_code(-29094));
    }
    let _guard = inner.slice_session_locks.lock(s.session.clone()).await;
    let i = Arc::clone(inner);
    let now = shared::clock::unix_now();
    let key = s.key.clone();
    let result = tokio::task::spawn_blocking(move || {
        uploads::v4_finish(&i.storage, &s, sha.as_deref(), now)
    })
    .await
    .map_err(|e| fail(500, codes::INTERNAL, e.to_string()))?;
    match result? {
        Commit::Written(meta) => Ok(ctx.ok(upload_data(inner, req, ctx, &key, &meta))),
        Commit::Refused(existing) => Err(conflict(inner, req, ctx, &key, existing)),
    }
}

pub(super) async fn slice_list(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let s = if form.get("session").is_some_and(|v| !v.is_empty()) {
        load_session(inner, ctx, form).await?
    } else {
        let key = ctx.file_key()?;
        let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
        http::blocking(move || uploads::v4_find(&i.storage, &b, &key))
            .await?
            .ok_or(UploadError::NoSuchUpload)?
    };
    let (i, s2) = (Arc::clone(inner), s.clone());
    let parts = http::blocking(move || uploads::v4_slices(&i.storage, &s2)).await?;
    Ok(ctx.ok(SliceList {
        session: s.session.clone(),
        filesize: s.filesize,
        slice_size: s.slice_size,
        listparts: parts
            .into_iter()
            .map(|(offset, datalen)| SlicePart { offset, datalen })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::{APPID, BUCKET, Running};

    /// While one key's session is being created (its target lock is held),
    /// sessions for other keys are created, and an init for that key waits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slice_init_holds_up_only_its_own_key() {
        let run = Running::start().await;
        let init = json!({"op": "upload_slice_init", "filesize": 100_000, "slice_size": 65_536});
        let held_key = (
            format!("{BUCKET}-{APPID}"),
            shared::ObjectKey::parse("a.bin").unwrap(),
        );
        // The timeout is a hang guard only: with one lock for every key the
        // init of `b.bin` would wait forever.
        tokio::time::timeout(std::time::Duration::from_secs(120), async {
            let held = run.store.inner.slice_target_locks.lock(held_key).await;
            let mut init_a = std::pin::pin!(run.post_v4("/a.bin", init.clone()));
            tokio::select! {
                biased;
                r = &mut init_a => panic!("an init of a locked key went through: {r}"),
                r = run.post_v4("/b.bin", init.clone()) => assert_eq!(r["code"], 0, "{r}"),
            }
            drop(held);
            let r = init_a.await;
            assert_eq!(
                r["code"], 0,
                "the waiting init goes on once the lock is free: {r}"
            );
        })
        .await
        .unwrap();
        assert_eq!(
            run.store.inner.slice_target_locks.len(),
            0,
            "no lock outlives its init"
        );
        run.handle.stop(true).await;
    }
}
