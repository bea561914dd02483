//! Whole-object operations: `upload` (a file in one request), `stat`,
//! `list`, `create` (a directory marker), `delete` and `update` (`biz_attr`).

use std::ops::Bound;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use shared::v4::{ListData, StatData, UploadData, codes};
use shared::{DirPath, ObjectKey};

use super::Ctx;
use super::error::{V4Error, fail, params_error};
use super::form::Form;
use crate::http;
use crate::inner::Inner;
use crate::key::StoreKey;
use crate::storage::{Blob, Commit, Existing, Meta, Mode, NewMeta};
use crate::uploads::UploadError;

pub(super) fn upload_data(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &ObjectKey,
    meta: &Meta,
) -> UploadData {
    let base = http::public_base(inner, req, &ctx.bucket);
    let source_url = http::object_url(&base, key.as_str());
    let encoded = cos_sign::encode_path(key.as_str());
    UploadData {
        access_url: source_url.clone(),
        resource_path: format!("/{}/{}/{key}", ctx.appid, ctx.bucket),
        source_url,
        url: format!(
            "{}://{}/files/v2/{}/{}/{encoded}",
            req.connection_info().scheme(),
            http::host(req),
            ctx.appid,
            ctx.bucket
        ),
        vid: format!("{}{}", meta.md5, meta.mtime),
    }
}

fn stat_data(inner: &Inner, req: &HttpRequest, ctx: &Ctx, meta: &Meta, name: String) -> StatData {
    let urls = (!meta.is_dir()).then(|| {
        let base = http::public_base(inner, req, &ctx.bucket);
        http::object_url(&base, &meta.key)
    });
    StatData {
        name,
        biz_attr: meta.biz_attr.clone(),
        filesize: (!meta.is_dir()).then_some(meta.size),
        filelen: (!meta.is_dir()).then_some(meta.size),
        sha: (!meta.is_dir()).then(|| meta.sha1.clone()),
        ctime: meta.ctime.to_string(),
        mtime: meta.mtime.to_string(),
        access_url: urls.clone(),
        source_url: urls,
    }
}

/// A directory that exists only because keys lie below it: no marker, so
/// nothing but its name.
fn implied_dir(name: String) -> StatData {
    StatData {
        name,
        biz_attr: String::new(),
        filesize: None,
        filelen: None,
        sha: None,
        ctime: String::new(),
        mtime: String::new(),
        access_url: None,
        source_url: None,
    }
}

pub(super) fn stat(inner: &Inner, req: &HttpRequest, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let not_found = || {
        fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        )
    };
    if ctx.path.ends_with('/') {
        let dir = ctx.dir_path()?;
        if let Some(meta) = inner.storage.get(&ctx.bucket_full, &dir) {
            let name = dir_name(&dir);
            return Ok(ctx.ok(stat_data(inner, req, ctx, &meta, name)));
        }
        if dir == DirPath::root() || inner.storage.any_at_or_below(&ctx.bucket_full, &dir) {
            // An implied directory (objects below it, no marker).
            return Ok(ctx.ok(implied_dir(dir_name(&dir))));
        }
        return Err(not_found());
    }
    let key = ctx.file_key()?;
    let meta = inner
        .storage
        .get(&ctx.bucket_full, &key)
        .ok_or_else(not_found)?;
    Ok(ctx.ok(stat_data(
        inner,
        req,
        ctx,
        &meta,
        key.file_name().to_owned(),
    )))
}

/// `/a/b/` → `b`; root → empty.
fn dir_name(dir: &DirPath) -> String {
    dir.without_trailing_slash()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn list(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    query: &[(String, String)],
) -> Result<HttpResponse, V4Error> {
    // `/dir/` lists the directory; `/dir/abc` lists entries of `/dir/` whose names start with `abc`.
    let (dir, name_prefix) = match ctx.path.rsplit_once('/') {
        Some((d, p)) => (format!("{d}/"), p.to_owned()),
        None => ("/".to_owned(), String::new()),
    };
    let dir = shared::DirPath::parse(&dir)
        .map_err(|e| params_error(format!("ERROR_CMD_COS_PATH_INVALID: {e}")))?;
    let num: usize = match http::param(query, "num") {
        None | Some("") => 20,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| params_error("ERROR_CMD_COS_INVALID_LIST_NUM: num must be 1 to 1000"))?,
    };
    let pattern = http::param(query, "pattern").unwrap_or("eListBoth");
    let (want_files, want_dirs) = match pattern {
        "eListBoth" | "" => (true, true),
        "eListFileOnly" => (true, false),
        "eListDirOnly" => (false, true),
        other => {
            return Err(params_error(format!(
                "ERROR_CMD_COS_INVALID_QUERY_FLAG: unknown pattern {other:?}"
            )));
        }
    };
    let context = http::param(query, "context").unwrap_or("").to_owned();
    let base = dir.key_prefix().to_owned();
    let prefix = format!("{base}{name_prefix}");
    let start = if context.is_empty() || context < prefix {
        Bound::Included(prefix.as_str())
    } else {
        Bound::Excluded(context.as_str())
    };
    // Entries: (cursor key, info). A subdirectory's cursor is `base/sub/`, and
    // keys below it are skipped.
    let mut infos: Vec<StatData> = Vec::new();
    let mut last_dir: Option<String> = None;
    let mut cursor = String::new();
    let mut more = false;
    let skip_under = context.ends_with('/').then(|| context.clone());
    inner.storage.scan(&ctx.bucket_full, start, |m| {
        if !m.key.starts_with(&prefix) {
            return false;
        }
        if skip_under
            .as_ref()
            .is_some_and(|s| m.key.starts_with(s.as_str()))
        {
            return true;
        }
        let rest = &m.key[base.len()..];
        let entry = match rest.find('/') {
            Some(i) => {
                let sub = format!("{base}{}", &rest[..=i]);
                if last_dir.as_deref() == Some(sub.as_str()) {
                    return true;
                }
                last_dir = Some(sub.clone());
                if !want_dirs {
                    return true;
                }
                // A directory marker sorts before everything below it, so the
                // first key seen under `sub` is its marker if it has one. (No
                // other storage call here: `scan` holds the index lock.)
                let meta = (m.key == sub).then(|| Arc::clone(m));
                (sub.clone(), rest[..i].to_owned(), meta)
            }
            None => {
                if !want_files || rest.is_empty() {
                    return true;
                }
                (m.key.clone(), rest.to_owned(), Some(Arc::clone(m)))
            }
        };
        if infos.len() >= num {
            more = true;
            return false;
        }
        let (key, name, meta) = entry;
        let info = match meta {
            Some(meta) => stat_data(inner, req, ctx, &meta, name),
            None => implied_dir(name),
        };
        infos.push(info);
        cursor = key;
        true
    });
    Ok(ctx.ok(ListData {
        context: if more { cursor } else { String::new() },
        listover: !more,
        infos,
    }))
}

pub(super) fn check_sha(declared: Option<&str>, blob: &Blob) -> Result<(), V4Error> {
    if let Some(sha) = declared.map(str::trim).filter(|s| !s.is_empty())
        && !sha.eq_ignore_ascii_case(&hex::encode(blob.sha1))
    {
        return Err(UploadError::ShaMismatch.into());
    }
    Ok(())
}

/// The reply COS gives to an `insertOnly=1` upload whose key is taken:
/// `-4018` with the existing object's URLs for the same content, `-177` for
/// other content.
pub(super) fn conflict(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    key: &ObjectKey,
    existing: Existing,
) -> V4Error {
    match existing {
        Existing::SameContent => {
            let mut err = fail(
                409,
                codes::SAME_FILE_UPLOADED,
                "ERROR_CMD_COS_FILE_SAME: the same file has already been uploaded",
            );
            if let Some(meta) = inner.storage.get(&ctx.bucket_full, key) {
                err.data = serde_json::to_value(upload_data(inner, req, ctx, key, &meta)).ok();
            }
            err
        }
        Existing::OtherContent => fail(
            409,
            codes::FILE_EXISTS,
            "ERROR_CMD_COS_FILE_EXIST: another file already exists at this path and \
             insertOnly=1 (the default) keeps it; send insertOnly=0 to overwrite it",
        ),
    }
}

pub(super) async fn upload(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    mut form: Form,
) -> Result<HttpResponse, V4Error> {
    let key = ctx.file_key()?;
    let blob = form.file.take().ok_or_else(|| {
        params_error(
            "ERROR_CGI_PARAM: missing filecontent: op=upload sends the file in the \
             filecontent field of a multipart/form-data body",
        )
    })?;
    check_sha(form.get("sha"), &blob)?;
    let mode = if form.insert_only()? {
        Mode::InsertOnly
    } else {
        Mode::Overwrite
    };
    let new = NewMeta {
        content_type: http::content_type_for(&key, form.file_type.as_deref()),
        biz_attr: form.get("biz_attr").unwrap_or("").to_owned(),
        user_meta: Vec::new(),
        headers: Vec::new(),
        etag: None,
    };
    let (i, b, k) = (Arc::clone(inner), ctx.bucket_full.clone(), key.clone());
    let now = shared::clock::unix_now();
    match http::blocking(move || i.storage.commit(&b, &k, blob, new, mode, now)).await? {
        Commit::Written(meta) => Ok(ctx.ok(upload_data(inner, req, ctx, &key, &meta))),
        Commit::Refused(existing) => Err(conflict(inner, req, ctx, &key, existing)),
    }
}

#[derive(Debug, Serialize)]
struct CreateData {
    ctime: String,
    resource_path: String,
}

pub(super) async fn create(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let dir = ctx.dir_path()?;
    if dir == DirPath::root() {
        return Err(params_error(
            "ERROR_CMD_COS_PATH_INVALID: the bucket root always exists",
        ));
    }
    let biz = form.get("biz_attr").unwrap_or("").to_owned();
    let (i, b, d) = (Arc::clone(inner), ctx.bucket_full.clone(), dir.clone());
    let now = shared::clock::unix_now();
    let commit =
        http::blocking(move || i.storage.put_dir(&b, &d, &biz, Mode::InsertOnly, now)).await?;
    let Commit::Written(meta) = commit else {
        return Err(fail(
            409,
            codes::PATH_CONFLICT,
            "ERROR_CMD_COS_PATH_CONFLICT: the directory already exists",
        ));
    };
    Ok(ctx.ok(CreateData {
        ctime: meta.ctime.to_string(),
        resource_path: format!("/{}/{}{}", ctx.appid, ctx.bucket, dir.as_str()),
    }))
}

pub(super) async fn delete(inner: &Arc<Inner>, ctx: &Ctx) -> Result<HttpResponse, V4Error> {
    let key = ctx.store_key()?;
    if let StoreKey::Dir(dir) = &key {
        if *dir == DirPath::root() {
            return Err(params_error(
                "ERROR_CMD_COS_PATH_INVALID: the bucket root cannot be deleted",
            ));
        }
        if inner.storage.any_below(&ctx.bucket_full, dir) {
            return Err(fail(
                409,
                codes::DIR_NOT_EMPTY,
                "ERROR_CMD_COS_DIR_NOT_EMPTY: the directory is not empty",
            ));
        }
    }
    let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
    let removed = http::blocking(move || i.storage.delete(&b, &key)).await?;
    if removed.is_none() {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        ));
    }
    Ok(ctx.ok(serde_json::json!({})))
}

pub(super) async fn update(
    inner: &Arc<Inner>,
    ctx: &Ctx,
    form: &Form,
) -> Result<HttpResponse, V4Error> {
    let key = ctx.store_key()?;
    let biz = form.get("biz_attr").map(str::to_owned);
    let (i, b) = (Arc::clone(inner), ctx.bucket_full.clone());
    let updated = http::blocking(move || i.storage.update_biz_attr(&b, &key, biz)).await?;
    if !updated {
        return Err(fail(
            404,
            codes::NOT_FOUND,
            "ERROR_CMD_FILE_NOTEXIST: no such file or directory",
        ));
    }
    Ok(ctx.ok(serde_json::json!({})))
}
