//! JSON bodies of the auth server's endpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error the auth server returns: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `invalid_token`, `outside_prefix`.
    pub error_code: String,
    /// Human-readable explanation; never contains a secret.
    pub message: String,
}

/// `POST /v1/auth/login`: exchange a `wx.login` code for a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The one-time code from `wx.login` (valid five minutes, single use).
    pub code: String,
}

/// `POST /v1/auth/dev-login`: a token for a named user, without WeChat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DevLoginRequest {
    /// Any user name (`[A-Za-z0-9_.-]{1,64}`); the same name is the same user.
    pub user: String,
}

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The JWT, sent back as `Authorization: JWT <token>` (or `Bearer`).
    pub access_token: String,
    /// Always `JWT`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The caller's user id (the token's `sub`).
    pub user_id: String,
    /// The directory the caller may upload into, e.g. `/u/7/`.
    pub upload_prefix: String,
}

/// `GET /v1/qc_cos/config?cos_path=<dir>`: a v4 multi-effect signature.
///
/// `sign` is what the app needs; the other fields save it from hard-coding the
/// COS location and from guessing the expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignResponse {
    /// The v4 signature, used verbatim as the upload's `Authorization` header.
    pub sign: String,
    /// UNIX seconds at which `sign` stops working.
    pub expires_at: u64,
    /// The directory the signature is bound to, e.g. `/u/7/photos/`.
    pub cos_path: String,
    /// Upload URL of that directory: `<endpoint>/files/v2/<appid>/<bucket><cos_path>`;
    /// append the (percent-encoded) file name to upload.
    pub upload_url: String,
}

/// `POST /v1/cos/v5/sign`: sign one v5 request. Field names follow the options
/// object that `cos-js-sdk-v5`/`cos-wx-sdk-v5`/`cos-nodejs-sdk-v5` pass to their
/// `getAuthorization` callback, so the callback can forward it as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct V5SignRequest {
    /// HTTP method (`PUT`, `POST`, `GET`, `HEAD`, `DELETE`).
    pub method: String,
    /// Object key without a leading `/` (the SDK's `Key`); `Pathname` (`/key`) is also accepted.
    #[serde(default, alias = "Pathname")]
    pub key: String,
    /// Query parameters to sign.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Headers to sign.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// A v5 signature in the shape the SDKs' `getAuthorization` callback accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct V5SignResponse {
    /// The `Authorization` header value.
    #[serde(rename = "Authorization")]
    pub authorization: String,
    /// Start of validity (UNIX seconds).
    #[serde(rename = "StartTime")]
    pub start_time: u64,
    /// End of validity (UNIX seconds).
    #[serde(rename = "ExpiredTime")]
    pub expired_time: u64,
    /// The key the signature covers.
    #[serde(rename = "Key")]
    pub key: String,
    /// The object URL on the store.
    #[serde(rename = "Url")]
    pub url: String,
}

/// `POST /v1/cos/v5/post-policy`: a form for a browser-style POST Object upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct PostPolicyRequest {
    /// Exact key to allow (inside the caller's prefix). Mutually exclusive with `prefix`.
    #[serde(default)]
    pub key: Option<String>,
    /// Key prefix (a directory inside the caller's prefix, e.g. `/u/7/photos/`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Largest allowed file size in bytes (capped by the server's limit).
    #[serde(default)]
    pub max_size: Option<u64>,
    /// Required `Content-Type`, or a prefix of it ending in `/` (e.g. `image/`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Lifetime in seconds (capped by the server's limit).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// A signed POST Object form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostPolicyResponse {
    /// Where to POST the form (the bucket's URL).
    pub url: String,
    /// Form fields to send before the `file` part (`key`, `policy`, `q-*`, and
    /// `Content-Type` when fixed). With a prefix grant, `key` holds the prefix:
    /// append the file name.
    pub fields: BTreeMap<String, String>,
    /// UNIX seconds at which the policy expires.
    pub expires_at: u64,
    /// Largest file the policy accepts.
    pub max_size: u64,
}
