//! Paths of the auth server's endpoints, shared with its clients.

/// `POST` `{"code": "<wx.login code>"}` → [`crate::wire::TokenResponse`].
pub const LOGIN: &str = "/v1/auth/login";
/// `POST` `{"user": "<name>"}` → [`crate::wire::TokenResponse`] (only when dev login is enabled).
pub const DEV_LOGIN: &str = "/v1/auth/dev-login";
/// `GET ?cos_path=<dir>` with `Authorization: JWT <token>` → [`crate::wire::SignResponse`].
pub const V4_SIGN: &str = "/v1/qc_cos/config";
/// `POST` [`crate::wire::V5SignRequest`] → [`crate::wire::V5SignResponse`].
pub const V5_SIGN: &str = "/v1/cos/v5/sign";
/// `POST` [`crate::wire::PostPolicyRequest`] → [`crate::wire::PostPolicyResponse`].
pub const POST_POLICY: &str = "/v1/cos/v5/post-policy";
/// `POST` [`crate::wire::CredentialsRequest`] → [`crate::wire::CredentialsResponse`]
/// (temporary COS credentials for the caller's prefix or one new key).
pub const CREDENTIALS: &str = "/v1/cos/credentials";
/// Liveness.
pub const HEALTHZ: &str = "/healthz";
/// Readiness: 200 while the database answers, else 503.
pub const READYZ: &str = "/readyz";
/// Prometheus text.
pub const METRICS: &str = "/metrics";
/// OpenAPI 3 document.
pub const OPENAPI: &str = "/openapi.json";
