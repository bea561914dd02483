//! GET Bucket: listing keys by prefix, delimiter and marker.

use std::ops::Bound;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::error::{V5Error, err};
use super::{Ctx, quoted};
use crate::http::param;
use crate::inner::Inner;
use crate::storage::Meta;
use crate::xml::{Xml, iso8601};

pub(super) fn list_objects(inner: &Inner, ctx: &Ctx) -> Result<HttpResponse, V5Error> {
    let prefix = param(&ctx.params, "prefix").unwrap_or("");
    let delimiter = param(&ctx.params, "delimiter").unwrap_or("");
    let marker = param(&ctx.params, "marker").unwrap_or("");
    let url_encode = param(&ctx.params, "encoding-type") == Some("url");
    let max_keys = match param(&ctx.params, "max-keys") {
        None | Some("") => 1000,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| {
                err(
                    400,
                    "InvalidArgument",
                    "max-keys must be a non-negative integer",
                )
            })?
            .min(1000),
    };
    let mut contents: Vec<Arc<Meta>> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    let mut last = String::new();
    let start = if marker.is_empty() || marker < prefix {
        Bound::Included(prefix)
    } else {
        Bound::Excluded(marker)
    };
    let skip_under_marker = !delimiter.is_empty()
        && marker.ends_with(delimiter)
        && marker.starts_with(prefix)
        && !marker.is_empty();
    inner.storage.scan(&ctx.bucket, start, |m| {
        if !m.key.starts_with(prefix) {
            return false;
        }
        if skip_under_marker && m.key.starts_with(marker) {
            return true;
        }
        let rest = &m.key[prefix.len()..];
        let entry = if !delimiter.is_empty()
            && let Some(i) = rest.find(delimiter)
        {
            let cp = format!("{prefix}{}", &rest[..i + delimiter.len()]);
            if prefixes.last() == Some(&cp) {
                return true;
            }
            Err(cp)
        } else {
            Ok(m)
        };
        if contents.len() + prefixes.len() >= max_keys {
            truncated = true;
            return false;
        }
        match entry {
            Ok(m) => {
                last = m.key.clone();
                contents.push(Arc::clone(m));
            }
            Err(cp) => {
                last = cp.clone();
                prefixes.push(cp);
            }
        }
        true
    });
    let enc = |s: &str| -> String {
        if url_encode {
            cos_sign::encode_component(s)
        } else {
            s.to_owned()
        }
    };
    let mut x = Xml::new();
    x.open("ListBucketResult")
        .elem("Name", &ctx.bucket)
        .elem("EncodingType", if url_encode { "url" } else { "" })
        .elem("Prefix", enc(prefix))
        .elem("Marker", enc(marker))
        .elem("MaxKeys", max_keys.to_string())
        .elem("Delimiter", enc(delimiter))
        .elem("IsTruncated", truncated.to_string());
    if truncated {
        x.elem("NextMarker", enc(&last));
    }
    for p in &prefixes {
        x.open("CommonPrefixes")
            .elem("Prefix", enc(p))
            .close("CommonPrefixes");
    }
    for m in &contents {
        x.open("Contents")
            .elem("Key", enc(&m.key))
            .elem("LastModified", iso8601(m.mtime))
            .elem("ETag", quoted(&m.etag))
            .elem("Size", m.size.to_string())
            .principal("Owner", &inner.config.appid)
            .elem("StorageClass", "STANDARD")
            .close("Contents");
    }
    x.close("ListBucketResult");
    Ok(ctx.xml(StatusCode::OK, x.finish()))
}
