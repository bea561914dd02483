//! JSON bodies of the auth server's endpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every error the auth server returns: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `invalid_token`, `outside_prefix`.
    pub error_code: String,
    /// Human-readable explanation; never contains a secret.
    pub message: String,
}

/// `POST /v1/auth/login`: exchange a `wx.login` code for a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The one-time code from `wx.login` (valid five minutes, single use).
    pub code: String,
}

/// `POST /v1/auth/dev-login`: a token for a named user, without WeChat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevLoginRequest {
    /// Any user name (`[A-Za-z0-9_.-]{1,64}`); the same name is the same user.
    pub user: String,
}

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct V5SignRequest {
    /// HTTP method (`PUT`, `POST`, `GET`, `HEAD`, `DELETE`).
    pub method: String,
    /// Object key without a leading `/` (the SDK's `Key`).
    #[serde(default)]
    pub key: String,
    /// The SDKs also send `Pathname` (`/` + key); used when `Key` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pathname: Option<String>,
    /// Query parameters to sign. The SDKs send numbers for some (`partNumber`),
    /// so scalar values are accepted and signed as their text.
    #[serde(default, deserialize_with = "scalar_map")]
    pub query: BTreeMap<String, String>,
    /// Headers to sign (scalar values accepted, as for `Query`).
    #[serde(default, deserialize_with = "scalar_map")]
    pub headers: BTreeMap<String, String>,
}

impl V5SignRequest {
    /// The object key: `Key`, or `Pathname` without its leading `/`.
    pub fn object_key(&self) -> &str {
        if self.key.is_empty() {
            let p = self.pathname.as_deref().unwrap_or("");
            p.strip_prefix('/').unwrap_or(p)
        } else {
            &self.key
        }
    }
}

/// Deserialises `{"name": "text" | number | bool | null}` into text values
/// (`null` becomes the empty string, as the SDKs treat an absent value).
fn scalar_map<'de, D>(de: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(de)?;
    let mut out = BTreeMap::new();
    for (k, v) in raw.unwrap_or_default() {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            _ => {
                return Err(D::Error::custom(format!(
                    "value of {k:?} must be a string or number"
                )));
            }
        };
        out.insert(k, text);
    }
    Ok(out)
}

/// A v5 signature in the shape the SDKs' `getAuthorization` callback accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Smallest allowed file size in bytes (default 0); at most the effective
    /// `max_size`. Optional.
    #[serde(default)]
    pub min_size: Option<u64>,
    /// Required `Content-Type`: an exact type (`image/jpeg`, sent back as a
    /// fixed form field), or a type prefix ending in `/` (`image/` accepts any
    /// `image/...`; the client sends its own `Content-Type` field).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Lifetime in seconds (capped by the server's limit).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// A signed POST Object form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_sign_request_accepts_the_sdk_options_object() {
        // What cos-nodejs-sdk-v5 passes to getAuthorization (extra fields ignored).
        let body = r#"{"Bucket":"metis-1250000000","Region":"ap-shanghai","Method":"put",
            "Key":"u/7/a b.jpg","Pathname":"/u/7/a b.jpg","Query":{"partNumber":1,"uploadId":"x"},
            "Headers":{"Host":"127.0.0.1:8080","Content-Length":13},"Scope":[{"action":""}],
            "SystemClockOffset":0,"ForceSignHost":true}"#;
        let r: V5SignRequest = serde_json::from_str(body).unwrap();
        assert_eq!(r.object_key(), "u/7/a b.jpg");
        assert_eq!(r.query.get("partNumber").map(String::as_str), Some("1"));
        assert_eq!(
            r.headers.get("Content-Length").map(String::as_str),
            Some("13")
        );
        let only_path: V5SignRequest =
            serde_json::from_str(r#"{"Method":"GET","Pathname":"/u/7/x"}"#).unwrap();
        assert_eq!(only_path.object_key(), "u/7/x");
        let err = serde_json::from_str::<V5SignRequest>(r#"{"Method":"GET","Query":{"a":[1]}}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"value of "a" must be a string or number"#),
            "{err}"
        );
    }
}
