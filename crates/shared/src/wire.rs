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

/// What `POST /v1/cos/credentials` grants: one key the server picks, or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CredentialScope {
    /// Exactly one new key, `<prefix><dir>/<yyyymmdd>/<random>.<ext>`, chosen by the server.
    Key,
    /// Any key under the caller's prefix, or under `dir` inside it.
    Prefix,
}

/// `POST /v1/cos/credentials`: temporary COS credentials for the caller's own
/// prefix or for one new key. Unknown fields are refused, so a misspelt limit
/// is an error rather than a silently wider grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    /// `key` (one new key) or `prefix` (a directory).
    pub scope: CredentialScope,
    /// The file's extension (`jpg`; case and one leading `.` ignored). Required
    /// for `scope = key`, refused for `prefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    /// A directory inside the caller's prefix: relative (`photos`, `album/2026`)
    /// or absolute (`/u/12/photos`). Default: the prefix itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// The content type the upload will declare (`image/jpeg`); it must match
    /// the server's allow-list and becomes the only type the credentials allow.
    /// Default: any type of the allow-list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The file's size in bytes; at most the server's upload limit, and the
    /// largest object the credentials allow. Default: the server's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Temporary credentials, in the shape the `getAuthorization` callback of
/// cos-wx-sdk-v5, cos-js-sdk-v5 and cos-nodejs-sdk-v5 takes unchanged
/// (PascalCase, times as 10-digit UNIX seconds). `Debug` leaves out the
/// TmpSecretKey and the SecurityToken.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct CredentialsResponse {
    /// Temporary SecretId (`AKID…`), the `q-ak` of the client's signatures.
    pub tmp_secret_id: String,
    /// Temporary SecretKey the client signs its COS requests with.
    pub tmp_secret_key: String,
    /// Sent with every request as `x-cos-security-token`.
    pub security_token: String,
    /// Start of validity, UNIX seconds.
    pub start_time: u64,
    /// End of validity, UNIX seconds (`StartTime` + the configured duration).
    pub expired_time: u64,
    /// `ExpiredTime` as ISO 8601 UTC, `2026-12-02T13:23:20Z`.
    pub expiration: String,
    /// The bucket, `<name>-<appid>` (the SDKs' `Bucket`).
    pub bucket: String,
    /// The bucket's region (the SDKs' `Region`).
    pub region: String,
    /// `scope = key`: the one key the credentials may write (no leading `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `scope = prefix`: the key prefix the credentials may write under (`u/12/album/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Where to send COS requests: the bucket's endpoint, e.g.
    /// `https://metis-1250000000.cos.ap-guangzhou.myqcloud.com`, or the auth
    /// server's own URL when it runs the embedded store.
    pub endpoint: String,
}

impl std::fmt::Debug for CredentialsResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsResponse")
            .field("tmp_secret_id", &self.tmp_secret_id)
            .field("start_time", &self.start_time)
            .field("expired_time", &self.expired_time)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("key", &self.key)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
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

    #[test]
    fn credentials_travel_in_the_sdks_shape() {
        let r: CredentialsRequest =
            serde_json::from_str(r#"{"scope":"key","ext":"jpg","size":12}"#).unwrap();
        assert_eq!(r.scope, CredentialScope::Key);
        assert_eq!(
            (r.ext.as_deref(), r.size, r.dir),
            (Some("jpg"), Some(12), None)
        );
        let typo = serde_json::from_str::<CredentialsRequest>(r#"{"scope":"prefix","Size":1}"#)
            .unwrap_err();
        assert!(typo.to_string().contains("unknown field `Size`"), "{typo}");
        let reply = CredentialsResponse {
            tmp_secret_id: "AKIDx".into(),
            tmp_secret_key: "hunter2-key".into(),
            security_token: "hunter2-token".into(),
            start_time: 1_764_680_000,
            expired_time: 1_764_681_800,
            expiration: "2025-12-02T13:23:20Z".into(),
            bucket: "metis-1250000000".into(),
            region: "ap-guangzhou".into(),
            key: Some("u/12/a.jpg".into()),
            prefix: None,
            endpoint: "http://127.0.0.1:8080".into(),
        };
        let json = serde_json::to_value(&reply).unwrap();
        let mut names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "Bucket",
                "Endpoint",
                "Expiration",
                "ExpiredTime",
                "Key",
                "Region",
                "SecurityToken",
                "StartTime",
                "TmpSecretId",
                "TmpSecretKey"
            ]
        );
        let debug = format!("{reply:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
