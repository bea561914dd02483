//! `POST /v1/cos/credentials`: temporary COS credentials (TmpSecretId,
//! TmpSecretKey, SecurityToken) whose policy allows uploading one new key the
//! server picks, or anything under a directory of the caller's prefix. This is
//! the flow Tencent recommends for mini-programs and browsers today; the
//! signature endpoints stay for existing (v4) clients.

use actix_web::{HttpRequest, HttpResponse, web};
use rand::Rng as _;
use shared::cam::{Policy, Scope};
use shared::wire::{ApiError, CredentialsRequest, CredentialsResponse};
use time::OffsetDateTime;
use time::macros::format_description;

use super::{Data, count_refusal, ok_json, sign_limit};
use crate::auth::{AuthUser, client_ip};
use crate::db::{AuditRecord, Kind};
use crate::error::{AppError, ErrorCode};
use crate::grant::credentials::{KeyName, credential_grant};
use crate::sts::{IssueError, Request};

/// What an app is told when STS fails (the cause is logged).
const STS_UNAVAILABLE: &str = "upload credentials are not available right now (the storage service's token service \
     did not answer); try again in a minute";

/// Temporary credentials for one new key, or for a directory, inside the
/// caller's prefix.
#[utoipa::path(
    post, path = "/v1/cos/credentials", tag = "signing",
    request_body = CredentialsRequest,
    security(("jwt" = [])),
    responses(
        (status = 200, description = "Temporary credentials, in the shape the SDKs' getAuthorization callback takes unchanged. Their policy allows, on `Key` (scope key) or under `Prefix` (scope prefix): PutObject and PostObject up to the size limit and of an allowed content type, the multipart upload actions (InitiateMultipartUpload with an allowed type; UploadPart and CompleteMultipartUpload up to the size limit; ListParts, AbortMultipartUpload, ListMultipartUploads), HeadObject and GetObject; with scope prefix also GetBucket (listing) of the prefix. Nothing else: no DeleteObject, no other key or prefix, no other bucket.", body = CredentialsResponse),
        (status = 400, description = "`invalid_input` (malformed JSON body, an unknown field, an unknown scope, scope key without ext or scope prefix with ext), `invalid_path` (dir is not a valid directory; the message says why), `extension_not_allowed` (ext outside sts.allowed_extensions; the message lists them), `invalid_content_type` (content_type is not type/subtype, or outside sts.allowed_content_types; the message lists them) or `too_large` (size above signing.max_upload_size; the message gives both)", body = ApiError),
        (status = 401, description = "`missing_token`, `invalid_token` or `token_expired`", body = ApiError),
        (status = 403, description = "`outside_prefix`: an absolute dir that is not inside /u/<id>/", body = ApiError),
        (status = 429, description = "`rate_limited` (per user, shared with the signing endpoints); see Retry-After", body = ApiError),
        (status = 500, description = "`internal_error`: a server fault (the cause is logged, not shown)", body = ApiError),
        (status = 503, description = "`sts_unavailable`: Tencent STS could not be reached or refused after the retries (the cause is logged, not shown); try again later", body = ApiError),
    )
)]
pub async fn credentials(
    user: AuthUser,
    req: HttpRequest,
    state: Data,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, AppError> {
    sign_limit(&state, &user)?;
    let now = shared::clock::unix_now();
    let random = hex::encode(rand::rngs::OsRng.r#gen::<[u8; 16]>());
    let date = key_date(now)?;
    let (scope, limits) = count_refusal(
        &state,
        credential_grant(
            &user.prefix,
            &body,
            &state.upload_rules,
            KeyName {
                date: &date,
                random: &random,
            },
        ),
    )?;
    let policy = Policy::for_upload(&state.cam_bucket, &scope, &limits);
    let prefix = matches!(scope, Scope::Prefix(_));
    let request = Request {
        user_id: user.id,
        policy: &policy,
        prefix,
    };
    let issued = state
        .issuer
        .issue(&request, now)
        .await
        .map_err(|e| match e {
            IssueError::Unavailable(cause) => {
                tracing::error!(error = %cause, user_id = user.id, "no temporary credentials: Tencent STS failed");
                AppError::new(ErrorCode::StsUnavailable, STS_UNAVAILABLE)
            }
            other => {
                tracing::error!(error = %other, user_id = user.id, "no temporary credentials");
                AppError::internal()
            }
        })?;
    let expiration = crate::sts::expiration(issued.expired_time).ok_or_else(|| {
        tracing::error!(issued.expired_time, "ExpiredTime cannot be formatted");
        AppError::internal()
    })?;
    let (kind, target, key, key_prefix) = match &scope {
        Scope::Key(k) => (
            Kind::CredentialsKey,
            k.as_str().to_owned(),
            Some(k.as_str().to_owned()),
            None,
        ),
        Scope::Prefix(dir) => (
            Kind::CredentialsPrefix,
            format!("{}*", dir.key_prefix()),
            None,
            Some(dir.key_prefix().to_owned()),
        ),
    };
    state.metrics.credential_issued(prefix, issued.source);
    state.audit.record(AuditRecord {
        user_id: user.id,
        kind,
        target,
        expires_at: issued.expired_time,
        ip: client_ip(&req, state.trust_forwarded_for).to_string(),
        issued_at: now,
        source: Some(issued.source.as_str()),
    });
    Ok(ok_json(&CredentialsResponse {
        tmp_secret_id: issued.tmp_secret_id,
        tmp_secret_key: issued.tmp_secret_key.expose_secret().to_owned(),
        security_token: issued.security_token,
        start_time: issued.start_time,
        expired_time: issued.expired_time,
        expiration,
        bucket: state.bucket_full.clone(),
        region: state.cam_bucket.region().to_owned(),
        key,
        prefix: key_prefix,
        endpoint: state.cos.v5_endpoint.clone(),
    }))
}

/// The UTC date of `now`, `yyyymmdd`, for the key.
fn key_date(now: u64) -> Result<String, AppError> {
    i64::try_from(now)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(format_description!("[year][month][day]")).ok())
        .ok_or_else(|| {
            tracing::error!(now, "the clock cannot be formatted as a date");
            AppError::internal()
        })
}
