//! State shared by every worker.

use std::sync::Arc;

use shared::cam::Bucket;

use crate::config::CosConfig;
use crate::db::{AuditLog, Db, Users};
use crate::grant::credentials::UploadRules;
use crate::jwt::JwtKeys;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::sts::Issuer;

/// Everything a handler needs; built once, shared through `web::Data`.
#[derive(Debug)]
pub struct AppState {
    /// Token keys.
    pub jwt: JwtKeys,
    /// The database (readiness checks; queries go through `users` and `audit`).
    pub db: Db,
    /// Users table.
    pub users: Users,
    /// Audit queue.
    pub audit: AuditLog,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Rate limiters.
    pub limits: Limits,
    /// WeChat client.
    pub wechat: crate::wechat::Client,
    /// The COS account (real or embedded) signatures are issued for.
    pub cos: CosConfig,
    /// `host[:port]` of the v5 endpoint, signed into every v5 signature.
    pub v5_host: String,
    /// v5 bucket name `<bucket>-<appid>`.
    pub bucket_full: String,
    /// Dev login on.
    pub dev_login: bool,
    /// Signature lifetime.
    pub sign_ttl_secs: u64,
    /// POST policy size cap.
    pub max_upload_size: u64,
    /// Methods the v5 endpoint signs.
    pub v5_methods: Vec<String>,
    /// The bucket as CAM policies name it.
    pub cam_bucket: Bucket,
    /// What temporary credentials may upload.
    pub upload_rules: UploadRules,
    /// Issues temporary credentials.
    pub issuer: Issuer,
    /// Trust `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The OpenAPI document, rendered once.
    pub openapi_json: String,
}
