//! POST Object: an HTML-form upload, authorised by a signed policy (or a
//! `Signature` field, or an `Authorization` header), by a permanent key or
//! by temporary credentials (whose token comes in the form field, the header
//! or the query). A policy must name every form field but the signature
//! fields, `file`, `policy` and `x-cos-security-token` in a condition; a form
//! made with temporary credentials without a policy may carry only the
//! fields in [`TEMPORARY_FORM_FIELDS`] and `x-cos-meta-*`.
//!
//! The text fields come first; the `file` field is stored as it streams in,
//! with every field that matters read before it (COS ignores later ones).
//! The reply is a 204 (or `success_action_status` 200/201) or a 303 to
//! `success_action_redirect`.

use std::sync::Arc;

use actix_multipart::{Field, Multipart};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::policy::PostPolicy;
use futures_util::StreamExt as _;
use shared::ObjectKey;
use shared::cam::Action;

use super::access::Access;
use super::auth::{authorize_with_token, verify_error, verify_form_signature, with_keys};
use super::error::{V5Error, err, written};
use super::object::{FORBID_OVERWRITE, write_mode};
use super::token::{self, SECURITY_TOKEN};
use super::{Ctx, quoted};
use crate::error::StoreError;
use crate::http;
use crate::inner::Inner;
use crate::key::StoreKey;
use crate::storage::{Blob, Meta, NewMeta};
use crate::xml::Xml;

/// Largest text field.
const MAX_FIELD: usize = 64 * 1024;
/// Largest total of the text fields.
const MAX_FIELDS: usize = 1024 * 1024;

/// POST Object: reads the text fields, stores the file, drains the rest of
/// the form and answers.
pub(super) async fn post_object(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    payload: web::Payload,
) -> Result<HttpResponse, V5Error> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut fields = Fields::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| {
            err(
                400,
                "MalformedPOSTRequest",
                format!(
                    "The body of your POST request is not well-formed multipart/form-data: {e}"
                ),
            )
        })?;
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            fields.read(name, &mut field).await?;
            continue;
        }
        let (key, meta) = store_file(inner, req, ctx, &fields, &mut field).await?;
        // Drain whatever follows the file (COS ignores it). The file field must
        // be dropped first: the form does not advance while it is alive.
        drop(field);
        drain(&mut form).await;
        return Ok(reply(inner, req, ctx, &fields, &key, &meta));
    }
    Err(err(400, "InvalidArgument", "the form has no file field"))
}

/// The text fields read so far. Names are looked up in any case, as COS does.
#[derive(Debug, Default)]
struct Fields {
    list: Vec<(String, String)>,
    /// Bytes of all values so far.
    total: usize,
}

impl Fields {
    fn get(&self, name: &str) -> Option<String> {
        self.list
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Reads one text field, refusing one over [`MAX_FIELD`] bytes or a total
    /// over [`MAX_FIELDS`].
    async fn read(&mut self, name: String, field: &mut Field) -> Result<(), V5Error> {
        let value = http::read_small(field, MAX_FIELD).await.map_err(|_| {
            err(
                400,
                "MalformedPOSTRequest",
                format!("form field {name:?} is too large"),
            )
        })?;
        self.total += value.len();
        if self.total > MAX_FIELDS {
            return Err(err(
                400,
                "MalformedPOSTRequest",
                "the form fields are too large",
            ));
        }
        self.list
            .push((name, String::from_utf8_lossy(&value).into_owned()));
        Ok(())
    }

    /// The `x-cos-meta-*` fields, with lower-case names.
    fn user_meta(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-cos-meta-"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect()
    }
}

/// The `file` field: checks the form's authorisation, then receives, checks
/// and commits the file under the form's key.
///
/// Under temporary credentials the policy decides `PostObject` on the key
/// with the type the object will be stored with before the file is read,
/// the file is cut off (its temp file removed, nothing stored) as soon as it
/// grows past the largest size the policy allows, and the policy decides
/// again with the file's size once it is in.
async fn store_file(
    inner: &Arc<Inner>,
    req: &HttpRequest,
    ctx: &Ctx,
    fields: &Fields,
    field: &mut Field,
) -> Result<(ObjectKey, Arc<Meta>), V5Error> {
    let raw_key = fields
        .get("key")
        .ok_or_else(|| err(400, "InvalidArgument", "the form has no key field"))?;
    let now = shared::clock::unix_now();
    let (accepted, access) = authorize_form(inner, req, ctx, fields, now)?;
    if let Some(accepted) = &accepted {
        check_fields_covered(&accepted.policy, fields)?;
    }
    let filename = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .map(str::to_owned);
    let key = form_key(&raw_key, filename.as_deref())?;
    // The header, or the form field (which the policy must then name).
    let mode = write_mode(
        http::header(req, FORBID_OVERWRITE)
            .map(str::to_owned)
            .or_else(|| fields.get(FORBID_OVERWRITE))
            .as_deref(),
    )?;
    let content_type = http::content_type_for(
        &key,
        fields
            .get("Content-Type")
            .filter(|v| !v.is_empty())
            .or_else(|| field.content_type().map(ToString::to_string))
            .as_deref(),
    );
    let grant = access.grant(inner, ctx)?;
    let asked = match &grant {
        Some(grant) => {
            if accepted.is_none() {
                check_temporary_form_fields(fields)?;
            }
            let object = StoreKey::Object(key.clone());
            let asked = grant
                .object(Action::PostObject, &object)?
                .content_type(&content_type);
            let cap = grant
                .largest_allowed_length(&asked)
                .ok_or_else(|| grant.denied(&asked, ""))?;
            Some((grant, asked, cap))
        }
        None => None,
    };
    let max = inner.config.max_object_size;
    let cap = asked.as_ref().map_or(max, |(_, _, cap)| (*cap).min(max));
    let mut writer = inner.storage.writer(cap).await?;
    match (http::stream_into(&mut writer, field).await, &asked) {
        (Err(StoreError::TooLarge { .. }), Some((grant, asked, _))) if cap < max => {
            // Dropping the writer removes the temp file; the rest of the
            // file is never read.
            return Err(grant.denied(
                asked,
                &format!(" (the file is larger than the {cap} bytes they allow)"),
            ));
        }
        (result, _) => result?,
    }
    let blob = http::finish(writer).await?;
    if let Some(accepted) = &accepted {
        check_policy_size(accepted, blob.size)?;
    }
    if let Some((grant, asked, _)) = asked {
        grant.allow(&asked.length(blob.size))?;
    }
    check_content_md5(fields, &blob)?;
    let new = NewMeta {
        content_type,
        biz_attr: String::new(),
        user_meta: fields.user_meta(),
        headers: http::stored_headers(|name| fields.get(name)),
        etag: None,
    };
    let (i, b, k) = (Arc::clone(inner), ctx.bucket.clone(), key.clone());
    let commit = http::blocking(move || i.storage.commit(&b, &k, blob, new, mode, now)).await?;
    Ok((key, written(commit)?))
}

/// Checks the form's authorisation: a `policy` field (verified with its
/// signature and conditions; the size condition is returned to be checked
/// once the file is in), else a `Signature` field, else the request's own
/// signature, which is then required. A security token (form field, header
/// or query) makes each of them be checked with its temporary credentials.
fn authorize_form(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    fields: &Fields,
    now: u64,
) -> Result<(Option<cos_sign::policy::Accepted>, Access), V5Error> {
    let token = token::presented(req, ctx, fields.get(SECURITY_TOKEN))?;
    if fields.get("policy").is_some() {
        let lookup = |n: &str| fields.get(n);
        let q_ak = fields.get("q-ak").unwrap_or_default();
        let mut accepted = None;
        let access = with_keys(inner, token.as_deref(), &q_ak, |keys| {
            let verified = cos_sign::policy::verify(
                keys,
                &lookup,
                &ctx.bucket,
                now,
                inner.config.max_skew_secs,
            )
            .map_err(|e| verify_error(&e))?;
            accepted = Some(verified);
            Ok(())
        })?;
        return Ok((accepted, access));
    }
    if let Some(sig) = fields.get("Signature") {
        let access = verify_form_signature(inner, req, &sig, token.as_deref())?;
        return Ok((None, access));
    }
    let access = authorize_with_token(inner, req, ctx, true, token)?;
    Ok((None, access))
}

/// The fields a form made with temporary credentials may carry when it has
/// no POST policy (the wx SDK's postObject: `key`, `success_action_status`,
/// `Signature`, `x-cos-security-token`, an empty `Content-Type`), besides
/// `x-cos-meta-*`: the fields the store honours and that the credentials'
/// CAM policy binds (`key`, the stored type, the size) or that change
/// nothing but the reply and the object's own headers. Any other field
/// (`acl`, `x-cos-acl`, `x-cos-grant-*`, `x-cos-storage-class`, …) asks for
/// something the store does not implement and the policy cannot bind, so
/// the form is refused rather than stored without it.
const TEMPORARY_FORM_FIELDS: &[&str] = &[
    "key",
    "Signature",
    SECURITY_TOKEN,
    "success_action_status",
    "success_action_redirect",
    "Content-Type",
    "Content-MD5",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Expires",
    FORBID_OVERWRITE,
];

fn check_temporary_form_fields(fields: &Fields) -> Result<(), V5Error> {
    let allowed = |name: &str| {
        name.to_ascii_lowercase().starts_with("x-cos-meta-")
            || TEMPORARY_FORM_FIELDS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(name))
    };
    match fields.list.iter().find(|(name, _)| !allowed(name)) {
        None => Ok(()),
        Some((name, _)) => Err(err(
            403,
            "AccessDenied",
            format!(
                "Access Denied: the form field {name:?} is not accepted from temporary \
                 credentials without a POST policy: the store does not honour it and their \
                 policy cannot allow it. Leave it out; nothing was stored."
            ),
        )),
    }
}

/// Form fields a policy need not name, as in S3's rules for POST policies:
/// the signature fields, `file`, `policy` itself, and `x-cos-security-token`
/// (checked with the temporary key it belongs to, not by the policy).
const UNCONDITIONED_FIELDS: &[&str] = &[
    "q-sign-algorithm",
    "q-ak",
    "q-key-time",
    "q-signature",
    "Signature",
    "file",
    "policy",
    "x-cos-security-token",
];

/// Every other form field (`key`, `Content-Type`, `success_action_status`,
/// `x-cos-acl`, `x-cos-meta-*`, …) must be named by a condition of the
/// policy, so a client cannot add to a server-issued form what the server
/// did not allow. Names compare in any case, as fields are looked up.
fn check_fields_covered(policy: &PostPolicy, fields: &Fields) -> Result<(), V5Error> {
    use cos_sign::policy::Condition;
    let named = |name: &str| {
        policy.conditions.iter().any(|c| match c {
            Condition::Exact(f, _) | Condition::Eq(f, _) | Condition::StartsWith(f, _) => {
                f.eq_ignore_ascii_case(name)
            }
            _ => false,
        })
    };
    let exempt = |name: &str| {
        UNCONDITIONED_FIELDS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
    };
    match fields
        .list
        .iter()
        .find(|(name, _)| !exempt(name) && !named(name))
    {
        None => Ok(()),
        Some((name, _)) => Err(err(
            403,
            "AccessDenied",
            format!(
                "Invalid according to Policy: the form field {name:?} is not covered by any \
                 condition of the policy. Every field but the signature fields, file, policy \
                 and x-cos-security-token must be; ask for a policy that allows it, or leave \
                 the field out. Nothing was stored."
            ),
        )),
    }
}

/// The form's `key` with `${filename}` replaced by the file's name, validated.
fn form_key(raw_key: &str, filename: Option<&str>) -> Result<ObjectKey, V5Error> {
    let key_text = raw_key.replace("${filename}", filename.unwrap_or_default());
    ObjectKey::parse(&key_text)
        .map_err(|e| err(400, "InvalidArgument", format!("invalid object key: {e}")))
}

/// The policy's `content-length-range`, once the size is known.
fn check_policy_size(accepted: &cos_sign::policy::Accepted, size: u64) -> Result<(), V5Error> {
    accepted.check_size(size).map_err(|e| {
        let too_small = accepted
            .content_length_range
            .is_some_and(|(min, _)| size < min);
        if too_small {
            err(
                400,
                "EntityTooSmall",
                format!("Your proposed upload is smaller than the policy allows: {e}"),
            )
        } else {
            err(
                400,
                "EntityTooLarge",
                format!("Your proposed upload exceeds the policy's maximum: {e}"),
            )
        }
    })
}

/// The `Content-MD5` field, if any, against what was received.
fn check_content_md5(fields: &Fields, blob: &Blob) -> Result<(), V5Error> {
    let Some(md5) = fields.get("Content-MD5") else {
        return Ok(());
    };
    let expected = STANDARD.decode(md5.trim()).map_err(|_| {
        err(
            400,
            "InvalidDigest",
            "The Content-MD5 you specified is not valid base64.",
        )
    })?;
    if expected != blob.md5 {
        return Err(err(
            400,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    Ok(())
}

/// Reads and discards the rest of the form.
async fn drain(form: &mut Multipart) {
    while let Some(rest) = form.next().await {
        if let Ok(mut f) = rest {
            while f.next().await.is_some() {}
        }
    }
}

/// The answer to a stored form: a redirect to `success_action_redirect`, or
/// the `success_action_status` (204 by default; 201 carries a `PostResponse`).
fn reply(
    inner: &Inner,
    req: &HttpRequest,
    ctx: &Ctx,
    fields: &Fields,
    key: &ObjectKey,
    meta: &Meta,
) -> HttpResponse {
    let etag = quoted(&meta.etag);
    if let Some(redirect) = fields
        .get("success_action_redirect")
        .filter(|r| !r.is_empty())
    {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let target = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            cos_sign::encode_component(&ctx.bucket),
            cos_sign::encode_component(key.as_str()),
            cos_sign::encode_component(&etag)
        );
        return HttpResponse::SeeOther()
            .insert_header(("Location", target))
            .insert_header(("ETag", etag))
            .insert_header(("x-cos-request-id", ctx.rid.as_str()))
            .finish();
    }
    let base = http::public_base(inner, req, inner.bucket_short(&ctx.bucket));
    let location = http::object_url(&base, key.as_str());
    let status = match fields.get("success_action_status").as_deref() {
        Some("200") => StatusCode::OK,
        Some("201") => StatusCode::CREATED,
        _ => StatusCode::NO_CONTENT,
    };
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header(("ETag", etag.clone()))
        .insert_header(("Location", location.clone()))
        .insert_header(("x-cos-request-id", ctx.rid.as_str()));
    if status != StatusCode::CREATED {
        return builder.finish();
    }
    let mut x = Xml::new();
    x.open("PostResponse")
        .elem("Location", &location)
        .elem("Bucket", &ctx.bucket)
        .elem("Key", key.as_str())
        .elem("ETag", &etag)
        .close("PostResponse");
    builder.content_type("application/xml").body(x.finish())
}
