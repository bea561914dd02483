//! Which handler a v5 request goes to, by method, path and sub-resource, and
//! which of them need a signature. A sub-resource the store does not
//! implement ([`shared::subresource`]) is answered `501 NotImplemented` for
//! every method before the body is read, so it never reaches a handler.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::subresource::{self, Method, Target};

use super::Ctx;
use super::auth::authorize;
use super::error::{V5Error, err, not_implemented, not_implemented_subresource};
use super::list::list_objects;
use super::multipart::{abort, complete, initiate, list_parts, list_uploads, upload_part};
use super::object::{delete_object, get_object, put_object};
use super::post_object::post_object;
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
        authorize(inner, req, ctx, true)?;
        return Err(not_implemented_subresource(method, name));
    }
    if target == Target::Bucket {
        return match method {
            "GET" if ctx.has("uploads") => {
                authorize(inner, req, ctx, true)?;
                list_uploads(inner, ctx).await
            }
            "GET" if ctx.has("location") => {
                authorize(inner, req, ctx, true)?;
                let mut x = Xml::new();
                x.elem("LocationConstraint", "local");
                Ok(ctx.xml(StatusCode::OK, x.finish()))
            }
            "GET" => {
                authorize(inner, req, ctx, true)?;
                list_objects(inner, ctx)
            }
            "HEAD" => {
                authorize(inner, req, ctx, !inner.config.public_read)?;
                Ok(HttpResponse::Ok()
                    .insert_header(("x-cos-request-id", ctx.rid.as_str()))
                    .insert_header(("x-cos-bucket-region", "local"))
                    .finish())
            }
            "POST" => post_object(inner, req, ctx, payload).await,
            "PUT" => {
                authorize(inner, req, ctx, true)?;
                Err(err(
                    409,
                    "BucketAlreadyOwnedByYou",
                    "Every bucket of this APPID exists in the local store.",
                ))
            }
            "OPTIONS" => Err(not_implemented()),
            _ => {
                authorize(inner, req, ctx, true)?;
                Err(not_implemented())
            }
        };
    }
    let key = parse_key(&ctx.path)?;
    match method {
        "PUT" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            upload_part(inner, req, ctx, &key, payload).await
        }
        "PUT" if ctx.has("partNumber") => {
            authorize(inner, req, ctx, true)?;
            Err(err(
                400,
                "InvalidArgument",
                "partNumber names a part of a multipart upload: send it with the uploadId that \
                 Initiate Multipart Upload returned; nothing was stored.",
            ))
        }
        "PUT" => {
            authorize(inner, req, ctx, true)?;
            put_object(inner, req, ctx, &key, payload).await
        }
        "POST" if ctx.has("uploads") => {
            authorize(inner, req, ctx, true)?;
            initiate(inner, req, ctx, &key).await
        }
        "POST" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            complete(inner, req, ctx, &key, payload).await
        }
        "GET" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            list_parts(inner, ctx, &key).await
        }
        "DELETE" if ctx.has("uploadId") => {
            authorize(inner, req, ctx, true)?;
            abort(inner, ctx, &key).await
        }
        "GET" => {
            authorize(inner, req, ctx, !inner.config.public_read)?;
            get_object(inner, req, ctx, &key, false).await
        }
        "HEAD" => {
            authorize(inner, req, ctx, !inner.config.public_read)?;
            get_object(inner, req, ctx, &key, true).await
        }
        "DELETE" => {
            authorize(inner, req, ctx, true)?;
            delete_object(inner, ctx, &key).await
        }
        _ => {
            authorize(inner, req, ctx, true)?;
            Err(err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ))
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
