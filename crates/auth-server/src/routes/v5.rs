//! `POST /v1/cos/v5/sign` (the `Authorization` of one v5 request, as the SDKs'
//! `getAuthorization` asks for it) and `POST /v1/cos/v5/post-policy` (a signed
//! POST Object form).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use cos_sign::policy::{Condition, PostPolicy};
use cos_sign::v5::{self, KeyTime};
use shared::ObjectKey;
use shared::wire::{
    ApiError, PostPolicyRequest, PostPolicyResponse, V5SignRequest, V5SignResponse,
};

use super::{Data, count_refusal, grant_dir, grant_key, ok_json, sign_limit};
use crate::auth::{AuthUser, client_ip};
use crate::db::{AuditRecord, Kind};
use crate::error::{AppError, ErrorCode};
use crate::grant::{check_bucket_listing, check_v5_query, v5_signed_headers, valid_content_type};

/// Sign one v5 request for a key inside the caller's prefix, or a listing of
/// it (`GET /?prefix=…`, `GET /?uploads&prefix=…`). The body is the options
/// object the SDKs pass to `getAuthorization`; `host` is always signed.
#[utoipa::path(
    post, path = "/v1/cos/v5/sign", tag = "signing",
    request_body = V5SignRequest,
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Authorization for exactly this request", body = V5SignResponse),
        (status = 400, description = "`invalid_key` (the message says why), `unsupported_method`, `query_not_allowed` (a sub-resource such as `acl`, a list parameter outside prefix, delimiter, marker, max-keys, encoding-type and the multipart listing's, or a non-numeric max-keys), `header_not_allowed`, `host_mismatch` (a Host other than the bucket's) or `invalid_input` (malformed JSON body, a header given twice, a control character or an over-long value)", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: the key, or a listing's prefix, is not inside /u/<id>/ (a listing needs a prefix starting with u/<id>/)", body = ApiError),
        (status = 429, description = "`rate_limited` (per user); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn v5_sign(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    body: web::Json<V5SignRequest>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    let body = body.into_inner();
    let method = body.method.to_ascii_uppercase();
    if !state.v5_methods.contains(&method) {
        return Err(AppError::new(
            ErrorCode::UnsupportedMethod,
            format!(
                "method {:?} is not signed here (allowed: {})",
                body.method,
                state.v5_methods.join(", ")
            ),
        ));
    }
    // An object request, or one of the two bucket-level requests the SDKs
    // make on the caller's own keys: listing its objects or its unfinished
    // multipart uploads.
    let key = if body.object_key().is_empty() && method == "GET" {
        count_refusal(&state, check_bucket_listing(&user.prefix, &body.query))?;
        None
    } else {
        let key = grant_key(&state, &user.prefix, body.object_key())?;
        check_v5_query(&method, &body.query)?;
        Some(key)
    };
    let headers = v5_signed_headers(&body.headers, &state.v5_host)?;
    let now = shared::clock::unix_now();
    let end = now + state.sign_ttl_secs;
    let key_time = KeyTime::new(now, end).map_err(|_| AppError::internal())?;
    let path = key
        .as_ref()
        .map_or_else(|| "/".to_owned(), ObjectKey::v4_path);
    let params: Vec<(&str, &str)> = body
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let hdrs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let signature = v5::sign(
        &state.cos.credentials,
        &v5::Request {
            method: &method,
            path: &path,
            params: &params,
            headers: &hdrs,
        },
        key_time,
    );
    state.metrics.signed_v5.inc();
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind: Kind::V5,
        target: match &key {
            Some(k) => format!("{method} {}", k.as_str()),
            None => format!(
                "{method} ?{}prefix={}",
                if body.query.contains_key("uploads") {
                    "uploads&"
                } else {
                    ""
                },
                body.query.get("prefix").map_or("", String::as_str)
            ),
        },
        expires_at: end,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
        source: None,
    });
    Ok(ok_json(&V5SignResponse {
        authorization: signature.to_authorization(),
        start_time: now,
        expired_time: end,
        key: key.as_ref().map_or("", ObjectKey::as_str).to_owned(),
        url: format!("{}{}", state.cos.v5_endpoint, cos_sign::encode_path(&path)),
    }))
}

/// A signed POST Object form for a key, or a key prefix, inside the caller's prefix.
#[utoipa::path(
    post, path = "/v1/cos/v5/post-policy", tag = "signing",
    request_body = PostPolicyRequest,
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Form fields; POST them with the `file` part last to `url`. The policy allows files of min_size..=max_size bytes (`content-length-range`) and, with content_type, either exactly that Content-Type (returned as a fixed `Content-Type` field) or, for a prefix ending in `/` such as `image/`, any Content-Type starting with it (`[\"starts-with\", \"$Content-Type\", \"image/\"]`; the client sends its own `Content-Type` field)", body = PostPolicyResponse),
        (status = 400, description = "`invalid_key`, `invalid_path`, `invalid_content_type` (not a printable MIME type of at most 128 characters, or a prefix other than `<type>/`) or `invalid_input` (malformed JSON body, both key and prefix, zero expiry, min_size above the effective max_size)", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: the key or prefix is not inside /u/<id>/", body = ApiError),
        (status = 429, description = "`rate_limited` (per user); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
    )
)]
pub async fn post_policy(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    body: web::Json<PostPolicyRequest>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    let body = body.into_inner();
    let (key_field, key_condition, target) = match (&body.key, &body.prefix) {
        (Some(_), Some(_)) => {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "give either key or prefix, not both",
            ));
        }
        (Some(k), None) => {
            let key = grant_key(&state, &user.prefix, k)?;
            let k = key.as_str().to_owned();
            (k.clone(), Condition::Exact("key".into(), k.clone()), k)
        }
        (None, p) => {
            let dir = grant_dir(&state, &user.prefix, p.as_deref(), "prefix")?;
            let kp = dir.key_prefix().to_owned();
            (
                kp.clone(),
                Condition::StartsWith("key".into(), kp.clone()),
                format!("{kp}*"),
            )
        }
    };
    let max_size = body
        .max_size
        .unwrap_or(state.max_upload_size)
        .min(state.max_upload_size);
    let min_size = body.min_size.unwrap_or(0);
    if min_size > max_size {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("min_size {min_size} exceeds the largest allowed size {max_size}"),
        ));
    }
    let ttl = body
        .expires_in
        .unwrap_or(state.sign_ttl_secs)
        .min(state.sign_ttl_secs);
    if ttl == 0 {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "expires_in must be at least 1",
        ));
    }
    // The store refuses a form field no condition names (as S3 does), so the policy names
    // every field its clients send: the status they ask for and the content's SHA-1 (the
    // uploader's resume check) may take any value.
    let mut conditions = vec![
        key_condition,
        Condition::ContentLengthRange(min_size, max_size),
        Condition::StartsWith("success_action_status".into(), String::new()),
        Condition::StartsWith("x-cos-meta-sha1".into(), String::new()),
    ];
    let mut fixed_type = None;
    if let Some(ct) = &body.content_type {
        if !valid_content_type(ct) {
            return Err(AppError::new(
                ErrorCode::InvalidContentType,
                "content_type must be a printable MIME type of at most 128 characters, \
                 or a type prefix such as image/",
            ));
        }
        if ct.ends_with('/') {
            conditions.push(Condition::StartsWith("Content-Type".into(), ct.clone()));
        } else {
            conditions.push(Condition::Eq("Content-Type".into(), ct.clone()));
            fixed_type = Some(ct.clone());
        }
    } else {
        // No type asked for: the client names its own (or none, and the store guesses).
        conditions.push(Condition::StartsWith("Content-Type".into(), String::new()));
    }
    let now = shared::clock::unix_now();
    let key_time = KeyTime::new(now, now + ttl).map_err(|_| AppError::internal())?;
    let policy = PostPolicy::for_upload(
        &state.cos.credentials,
        &state.bucket_full,
        key_time,
        conditions,
    );
    let form = cos_sign::policy::sign(&state.cos.credentials, key_time, &policy).map_err(|e| {
        tracing::error!(error = %e, "policy signing failed");
        AppError::internal()
    })?;
    let mut fields = BTreeMap::new();
    fields.insert("key".to_owned(), key_field);
    fields.insert("policy".to_owned(), form.policy);
    fields.insert(
        "q-sign-algorithm".to_owned(),
        form.q_sign_algorithm.to_owned(),
    );
    fields.insert("q-ak".to_owned(), form.q_ak);
    fields.insert("q-key-time".to_owned(), form.q_key_time);
    fields.insert("q-signature".to_owned(), form.q_signature);
    if let Some(ct) = fixed_type {
        fields.insert("Content-Type".to_owned(), ct);
    }
    state.metrics.signed_policy.inc();
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind: Kind::Policy,
        target,
        expires_at: now + ttl,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
        source: None,
    });
    Ok(ok_json(&PostPolicyResponse {
        url: format!("{}/", state.cos.v5_endpoint),
        fields,
        expires_at: now + ttl,
        max_size,
    }))
}
