//! Which handler a v5 request goes to, by method, path and sub-resource, and
//! which of them need a signature. A sub-resource the store does not
//! implement ([`shared::subresource`]) is answered `501 NotImplemented` for
//! every method before the body is read, so it never reaches a handler.
//!
//! A request made with temporary credentials is also the CAM action it is
//! evaluated as, before any body byte is read (`access.rs`):
//!
//! | request                         | action                    | condition values |
//! |---------------------------------|---------------------------|------------------|
//! | `PUT /<key>`                    | `PutObject`               | `Content-Length`, stored type |
//! | `POST /` (form)                 | `PostObject`              | the file's size, stored type (`post_object.rs`) |
//! | `GET /<key>`, `HEAD /<key>`     | `GetObject`, `HeadObject` | |
//! | `DELETE /<key>`                 | `DeleteObject`            | |
//! | `GET /`                         | `GetBucket`               | `prefix` (resource `<bucket>/<prefix>`) |
//! | `HEAD /`                        | `HeadBucket`              | |
//! | `GET /?uploads`                 | `ListMultipartUploads`    | `prefix` (resource `<bucket>/<prefix>`) |
//! | `POST /<key>?uploads`           | `InitiateMultipartUpload` | stored type |
//! | `PUT /<key>?partNumber&uploadId`| `UploadPart`              | `Content-Length` |
//! | `POST /<key>?uploadId`          | `CompleteMultipartUpload` | assembled size, stored type (`multipart.rs`) |
//! | `GET /<key>?uploadId`           | `ListParts`               | |
//! | `DELETE /<key>?uploadId`        | `AbortMultipartUpload`    | |
//!
//! Anything else (`PUT /`, `GET /?location`) is refused to temporary
//! credentials.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::cam::Action;
use shared::subresource::{self, Method, Target};

use super::Ctx;
use super::access::{Access, Asked, declared_length};
use super::auth::authorize;
use super::error::{V5Error, err, not_implemented, not_implemented_subresource};
use super::list::list_objects;
use super::multipart::{abort, complete, initiate, list_parts, list_uploads, upload_part};
use super::object::{delete_object, get_object, put_object};
use super::post_object::post_object;
use crate::http::{self, param};
use crate::inner::Inner;
use crate::key::StoreKey;
use crate::xml::Xml;

pub(super) async fn route(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    method: &str,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    let target = if ctx.path == "/" {
        Target::Bucket
    } else {
        Target::Object
    };
    // A sub-resource the store does not implement is refused before anything
    // is read, written or served: `PUT ?acl` must not replace the body,
    // `GET ?acl` must not return it, `DELETE ?tagging` must not delete it.
    if let Some(name) = unimplemented_subresource(method, target, ctx) {
        let _checked_only: Access = authorize(inner, req, ctx, true)?;
        return Err(not_implemented_subresource(method, name));
    }
    if target == Target::Bucket {
        return route_bucket(inner, req, ctx, method, payload).await;
    }
    let key = parse_key(&ctx.path)?;
    // Checks the signature and, for temporary credentials, that their policy
    // allows `action` on the key with the values `describe` adds.
    let allow =
        |required: bool, action: Action, describe: &dyn Fn(Asked) -> Result<Asked, V5Error>| {
            let access = authorize(inner, req, ctx, required)?;
            if let Some(grant) = access.grant(inner, ctx)? {
                grant.allow(&describe(grant.object(action, &key)?)?)?;
            }
            Ok::<_, V5Error>(())
        };
    let as_is = |asked: Asked| Ok(asked);
    // The type the object will be stored with (`http::content_type_for`).
    let stored_type = |asked: Asked| -> Result<Asked, V5Error> {
        let StoreKey::Object(object) = &key else {
            return Ok(asked);
        };
        let given = http::header(req, "content-type");
        Ok(asked.content_type(&http::content_type_for(object, given)))
    };
    let reads_signed = !inner.config.public_read;
    match method {
        "PUT" if ctx.has("uploadId") => {
            allow(true, Action::UploadPart, &|a| {
                Ok(a.length(declared_length(req)?))
            })?;
            upload_part(inner, req, ctx, &key, payload).await
        }
        "PUT" if ctx.has("partNumber") => {
            let _checked_only: Access = authorize(inner, req, ctx, true)?;
            Err(err(
                400,
                "InvalidArgument",
                "partNumber names a part of a multipart upload: send it with the uploadId that \
                 Initiate Multipart Upload returned; nothing was stored.",
            ))
        }
        "PUT" => {
            allow(true, Action::PutObject, &|a| {
                stored_type(a.length(declared_length(req)?))
            })?;
            put_object(inner, req, ctx, &key, payload).await
        }
        "POST" if ctx.has("uploads") => {
            allow(true, Action::InitiateMultipartUpload, &stored_type)?;
            initiate(inner, req, ctx, &key).await
        }
        "POST" if ctx.has("uploadId") => {
            // The assembled size is known only once the parts are chosen.
            let access = authorize(inner, req, ctx, true)?;
            complete(inner, req, ctx, &key, &access, payload).await
        }
        "GET" if ctx.has("uploadId") => {
            allow(true, Action::ListParts, &as_is)?;
            list_parts(inner, ctx, &key).await
        }
        "DELETE" if ctx.has("uploadId") => {
            allow(true, Action::AbortMultipartUpload, &as_is)?;
            abort(inner, ctx, &key).await
        }
        // A public-read GET or HEAD that presents a security token is still
        // bounded by its policy: the token was presented, so it is checked.
        "GET" => {
            allow(reads_signed, Action::GetObject, &as_is)?;
            get_object(inner, req, ctx, &key, false).await
        }
        "HEAD" => {
            allow(reads_signed, Action::HeadObject, &as_is)?;
            get_object(inner, req, ctx, &key, true).await
        }
        "DELETE" => {
            allow(true, Action::DeleteObject, &as_is)?;
            delete_object(inner, ctx, &key).await
        }
        _ => {
            let _checked_only: Access = authorize(inner, req, ctx, true)?;
            Err(err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ))
        }
    }
}

/// Requests on the bucket itself.
async fn route_bucket(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    method: &str,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    // Checks the signature and, for temporary credentials, that their policy
    // allows listing the request's `prefix`.
    let allow_listing = |action: Action| {
        let access = authorize(inner, req, ctx, true)?;
        if let Some(grant) = access.grant(inner, ctx)? {
            let prefix = param(&ctx.params, "prefix").unwrap_or("");
            grant.allow(&grant.listing(action, prefix))?;
        }
        Ok::<_, V5Error>(())
    };
    match method {
        "GET" if ctx.has("uploads") => {
            allow_listing(Action::ListMultipartUploads)?;
            list_uploads(inner, ctx).await
        }
        "GET" if ctx.has("location") => {
            authorize(inner, req, ctx, true)?.permanent_only("read the bucket's location")?;
            let mut x = Xml::new();
            x.elem("LocationConstraint", "local");
            Ok(ctx.xml(StatusCode::OK, x.finish()))
        }
        "GET" => {
            allow_listing(Action::GetBucket)?;
            list_objects(inner, ctx)
        }
        "HEAD" => {
            let access = authorize(inner, req, ctx, !inner.config.public_read)?;
            if let Some(grant) = access.grant(inner, ctx)? {
                grant.allow(&grant.bucket(Action::HeadBucket))?;
            }
            Ok(HttpResponse::Ok()
                .insert_header(("x-cos-request-id", ctx.rid.as_str()))
                .insert_header(("x-cos-bucket-region", "local"))
                .finish())
        }
        "POST" => post_object(inner, req, ctx, payload).await,
        "PUT" => {
            authorize(inner, req, ctx, true)?.permanent_only("create buckets")?;
            Err(err(
                409,
                "BucketAlreadyOwnedByYou",
                "Every bucket of this APPID exists in the local store.",
            ))
        }
        "OPTIONS" => Err(not_implemented()),
        _ => {
            let _checked_only: Access = authorize(inner, req, ctx, true)?;
            Err(not_implemented())
        }
    }
}

/// The first sub-resource of the query the store does not implement for this
/// method and target (any sub-resource, for a method COS does not have).
fn unimplemented_subresource<'a>(method: &str, target: Target, ctx: &'a Ctx) -> Option<&'a str> {
    let mut names = ctx.params.iter().map(|(k, _)| k.as_str());
    match Method::parse(method) {
        Some(method) => subresource::first_unimplemented(method, target, names),
        None => names.find(|n| subresource::lookup(n).is_some()),
    }
}

/// `/a/b.jpg` → `a/b.jpg`; `/a/b/` → the directory marker `a/b/`. Never normalised.
fn parse_key(path: &str) -> Result<StoreKey, V5Error> {
    let bad = |e: shared::KeyError| err(400, "InvalidArgument", format!("invalid object key: {e}"));
    if path.ends_with('/') {
        let dir = shared::DirPath::parse(path).map_err(bad)?;
        if dir.as_str() != path {
            return Err(err(400, "InvalidArgument", "invalid object key"));
        }
        return Ok(StoreKey::Dir(dir));
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    shared::ObjectKey::parse(rest)
        .map(StoreKey::Object)
        .map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::AsStoreKey as _;

    #[test]
    fn keys_are_validated_not_normalised() {
        assert_eq!(parse_key("/a/b.jpg").unwrap().store_key(), "a/b.jpg");
        assert_eq!(parse_key("/a/b/").unwrap().store_key(), "a/b/");
        for bad in ["/a//b", "/a/../b", "//"] {
            let e = parse_key(bad).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code),
                (400, "InvalidArgument"),
                "{bad}: {e:?}"
            );
        }
    }
}
