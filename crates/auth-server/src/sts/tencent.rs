//! Tencent STS `GetFederationToken` (API 3.0, service `sts`, version
//! `2018-08-13`, <https://cloud.tencent.com/document/api/1312/48195>): a JSON
//! POST to `<scheme>://<sts.endpoint>/` signed with TC3-HMAC-SHA256
//! ([`cos_sign::tc3`]) by the server's permanent key, which never leaves it.
//!
//! ```text
//! POST / HTTP/1.1
//! Host: sts.tencentcloudapi.com
//! Content-Type: application/json; charset=utf-8
//! X-TC-Action: GetFederationToken      X-TC-Version: 2018-08-13
//! X-TC-Timestamp: <now>                X-TC-Region: <cos.region>
//! Authorization: TC3-HMAC-SHA256 Credential=<id>/<date>/sts/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=…
//!
//! {"Name":"cos-upload-kit","Policy":"<URL-encoded policy JSON>","DurationSeconds":1800}
//! ```
//! The reply is `{"Response":{"Credentials":{"Token","TmpSecretId","TmpSecretKey"},
//! "ExpiredTime","Expiration","RequestId"}}`, or `{"Response":{"Error":{"Code",
//! "Message"},"RequestId"}}` (with HTTP 200). STS returns no StartTime:
//! StartTime = ExpiredTime − DurationSeconds, as Tencent's own STS SDKs do.
//!
//! Each call has `sts.timeout_secs`; transport failures, HTTP 5xx and the
//! error codes `InternalError*` and `RequestLimitExceeded*` are tried again,
//! [`ATTEMPTS`] times in all, with a growing, jittered pause. Every attempt is
//! counted and timed in `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cos_sign::{Credentials, SecretKey, tc3};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::{Issued, Source};
use crate::config::{CosConfig, StsConfig};
use crate::metrics::{Metrics, StsOutcome};

/// The API action.
pub const ACTION: &str = "GetFederationToken";
/// The API version.
pub const VERSION: &str = "2018-08-13";
/// The service (credential scope).
pub const SERVICE: &str = "sts";
/// The `Name` of the federated identity, as STS records it.
pub const NAME: &str = "cos-upload-kit";
/// The request's content type (signed exactly as sent).
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Calls made for one credential at most (the first and two retries).
pub const ATTEMPTS: u32 = 3;
/// The pause before the first retry; it doubles, plus up to half of it at random.
const BACKOFF: Duration = Duration::from_millis(200);
/// Longest text kept from an STS error message.
const MAX_MESSAGE: usize = 200;

/// Why a call failed. Never holds the secret or the request's signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StsError {
    /// No reply: connection refused or reset, DNS, TLS, timeout.
    #[error("no reply: {0}")]
    Transport(String),
    /// An HTTP status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A 200 whose body is not a GetFederationToken reply.
    #[error("unreadable reply: {0}")]
    Unreadable(&'static str),
    /// STS answered with an error.
    #[error("{code}: {message} (RequestId {request_id})")]
    Api {
        /// E.g. `AuthFailure.SignatureFailure`, `InternalError`.
        code: String,
        /// STS's message, shortened.
        message: String,
        /// STS's request id, for Tencent support.
        request_id: String,
    },
    /// The request could not be signed (a malformed SecretId).
    #[error("cannot sign the request: {0}")]
    Sign(String),
}

impl StsError {
    /// Worth trying again: no reply, a 5xx, or STS saying it failed
    /// internally or is throttling.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status(s) => *s >= 500,
            Self::Api { code, .. } => {
                code.starts_with("InternalError") || code.starts_with("RequestLimitExceeded")
            }
            Self::Unreadable(_) | Self::Sign(_) => false,
        }
    }

    fn outcome(&self) -> StsOutcome {
        match self {
            Self::Api { .. } => StsOutcome::StsError,
            _ => StsOutcome::TransportError,
        }
    }
}

/// The JSON body, fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    name: &'a str,
    policy: String,
    duration_seconds: u64,
}

/// `{"Name":"cos-upload-kit","Policy":<URL-encoded policy>,"DurationSeconds":d}`.
pub fn request_body(policy_json: &str, duration_secs: u64) -> Vec<u8> {
    serde_json::to_vec(&Body {
        name: NAME,
        policy: cos_sign::encode_component(policy_json),
        duration_seconds: duration_secs,
    })
    .unwrap_or_else(|_| unreachable!("strings and a number serialise"))
}

/// The headers of one call (besides `Host`, which the caller's URL sets),
/// `Authorization` included.
pub fn signed_headers(
    credentials: &Credentials,
    host: &str,
    region: &str,
    body: &[u8],
    timestamp: u64,
) -> Result<Vec<(&'static str, String)>, StsError> {
    let signature = tc3::sign(
        credentials,
        &tc3::Request {
            service: SERVICE,
            host,
            method: tc3::Method::Post { payload: body },
            content_type: CONTENT_TYPE,
            extra_headers: &[("X-TC-Action", ACTION)],
            timestamp,
        },
    )
    .map_err(|e| StsError::Sign(e.to_string()))?;
    Ok(vec![
        ("Authorization", signature.authorization()),
        ("Content-Type", CONTENT_TYPE.to_owned()),
        ("X-TC-Action", ACTION.to_owned()),
        ("X-TC-Version", VERSION.to_owned()),
        ("X-TC-Timestamp", timestamp.to_string()),
        ("X-TC-Region", region.to_owned()),
    ])
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Reply,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(rename = "Error")]
    error: Option<ReplyError>,
    #[serde(rename = "Credentials")]
    credentials: Option<ReplyCredentials>,
    #[serde(rename = "ExpiredTime")]
    expired_time: Option<u64>,
    #[serde(rename = "RequestId", default)]
    request_id: String,
}

#[derive(Deserialize)]
struct ReplyError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Deserialize)]
struct ReplyCredentials {
    #[serde(rename = "Token")]
    token: String,
    #[serde(rename = "TmpSecretId")]
    tmp_secret_id: String,
    #[serde(rename = "TmpSecretKey")]
    tmp_secret_key: String,
}

/// Reads a 200 reply: the credentials with StartTime = ExpiredTime − duration,
/// or the error STS gave.
pub fn parse_reply(body: &[u8], duration_secs: u64) -> Result<Issued, StsError> {
    let reply = serde_json::from_slice::<Envelope>(body)
        .map_err(|_| StsError::Unreadable("not the JSON of an API 3.0 reply"))?
        .response;
    if let Some(e) = reply.error {
        return Err(StsError::Api {
            code: e.code.chars().take(MAX_MESSAGE).collect(),
            message: e.message.chars().take(MAX_MESSAGE).collect(),
            request_id: reply.request_id.chars().take(MAX_MESSAGE).collect(),
        });
    }
    let (Some(c), Some(expired_time)) = (reply.credentials, reply.expired_time) else {
        return Err(StsError::Unreadable("no Credentials or ExpiredTime"));
    };
    if c.token.is_empty() || c.tmp_secret_id.is_empty() || c.tmp_secret_key.is_empty() {
        return Err(StsError::Unreadable("empty credentials"));
    }
    let start_time = expired_time
        .checked_sub(duration_secs)
        .filter(|t| (1_000_000_000..10_000_000_000).contains(t))
        .ok_or(StsError::Unreadable("ExpiredTime is not a plausible time"))?;
    Ok(Issued {
        tmp_secret_id: c.tmp_secret_id,
        tmp_secret_key: SecretKey::new(c.tmp_secret_key),
        security_token: c.token,
        start_time,
        expired_time,
        source: Source::Sts,
    })
}

/// The STS client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    host: String,
    region: String,
    credentials: Credentials,
    duration_secs: u64,
    metrics: Arc<Metrics>,
}

impl Client {
    /// A client for `sts`'s endpoint, signing with `cos`'s key for its region.
    pub fn new(
        sts: &StsConfig,
        cos: &CosConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(sts.timeout)
            .connect_timeout(sts.timeout.min(Duration::from_secs(3)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            url: format!("{}://{}/", sts.scheme.as_str(), sts.endpoint),
            host: sts.endpoint.clone(),
            region: cos.region.clone(),
            credentials: cos.credentials.clone(),
            duration_secs: sts.duration_secs,
            metrics,
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks STS for credentials carrying `policy_json`, trying again as the
    /// module documentation says.
    pub async fn get_federation_token(&self, policy_json: &str) -> Result<Issued, StsError> {
        let body = request_body(policy_json, self.duration_secs);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.call(&body).await;
            let outcome = result
                .as_ref()
                .map_or_else(StsError::outcome, |_| StsOutcome::Ok);
            self.metrics.sts_call(outcome, started.elapsed());
            match result {
                Ok(issued) => return Ok(issued),
                Err(e) if e.retryable() && attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "STS GetFederationToken failed; retrying");
                    let base = BACKOFF * 2u32.pow(attempt - 1);
                    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() / 2);
                    let jitter = Duration::from_millis(u64::try_from(jitter).unwrap_or(0));
                    tokio::time::sleep(base + jitter).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One call.
    async fn call(&self, body: &[u8]) -> Result<Issued, StsError> {
        let timestamp = shared::clock::unix_now();
        let headers = signed_headers(&self.credentials, &self.host, &self.region, body, timestamp)?;
        // The Host sent is the one signed (a client may drop a default port).
        let mut request = self
            .http
            .post(&self.url)
            .header("Host", &self.host)
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| StsError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(StsError::Status(status.as_u16()));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| StsError::Transport(e.without_url().to_string()))?;
        parse_reply(&bytes, self.duration_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_policy_url_encoded() {
        let body = request_body(r#"{"version":"2.0","statement":[]}"#, 1800);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"Name":"cos-upload-kit","Policy":"%7B%22version%22%3A%222.0%22%2C%22statement%22%3A%5B%5D%7D","DurationSeconds":1800}"#
        );
    }

    #[test]
    fn the_headers_verify_as_tc3_and_name_the_action_version_and_region() {
        let creds = Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        let body = request_body("{}", 900);
        let headers = signed_headers(
            &creds,
            "sts.tencentcloudapi.com",
            "ap-guangzhou",
            &body,
            1_551_113_065,
        )
        .unwrap();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-TC-Action"), Some("GetFederationToken"));
        assert_eq!(get("X-TC-Version"), Some("2018-08-13"));
        assert_eq!(get("X-TC-Region"), Some("ap-guangzhou"));
        assert_eq!(get("X-TC-Timestamp"), Some("1551113065"));
        let auth = get("Authorization").unwrap();
        assert!(
            auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sts/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="),
            "{auth}"
        );
        let mut all: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.push(("Host", "sts.tencentcloudapi.com"));
        let verified = tc3::verify(
            auth,
            &creds,
            &tc3::Received {
                method: tc3::Method::Post { payload: &body },
                headers: &all,
            },
            &tc3::Expect {
                service: "sts",
                now: 1_551_113_065,
                max_skew: 300,
            },
        );
        assert!(verified.is_ok(), "{verified:?}");
    }

    #[test]
    fn replies_are_credentials_or_the_error() {
        let ok = br#"{"Response":{"Credentials":{"Token":"tok","TmpSecretId":"AKIDtmp","TmpSecretKey":"key"},
            "ExpiredTime":1764681800,"Expiration":"2025-12-02T13:23:20Z","RequestId":"r-1"}}"#;
        let issued = parse_reply(ok, 1800).unwrap();
        assert_eq!(
            (
                issued.tmp_secret_id.as_str(),
                issued.security_token.as_str()
            ),
            ("AKIDtmp", "tok")
        );
        assert_eq!(
            (issued.start_time, issued.expired_time),
            (1_764_680_000, 1_764_681_800)
        );
        assert_eq!(issued.tmp_secret_key.expose_secret(), "key");
        assert_eq!(issued.source, Source::Sts);

        let err = br#"{"Response":{"Error":{"Code":"InternalError.GetRoleError","Message":"try later"},"RequestId":"r-2"}}"#;
        let e = parse_reply(err, 1800).unwrap_err();
        assert_eq!(
            e,
            StsError::Api {
                code: "InternalError.GetRoleError".into(),
                message: "try later".into(),
                request_id: "r-2".into()
            }
        );
        assert!(e.retryable());
        for (code, retry) in [
            ("RequestLimitExceeded", true),
            ("InternalError", true),
            ("AuthFailure.SignatureFailure", false),
            ("InvalidParameter.OverTimeError", false),
        ] {
            let e = StsError::Api {
                code: code.into(),
                message: String::new(),
                request_id: String::new(),
            };
            assert_eq!(e.retryable(), retry, "{code}");
        }
        assert!(StsError::Status(502).retryable());
        assert!(!StsError::Status(404).retryable());
        assert!(StsError::Transport("refused".into()).retryable());
        for bad in [
            &b"<html>"[..],
            br#"{"Response":{}}"#,
            br#"{"Response":{"Credentials":{"Token":"","TmpSecretId":"a","TmpSecretKey":"b"},"ExpiredTime":1764681800}}"#,
            br#"{"Response":{"Credentials":{"Token":"t","TmpSecretId":"a","TmpSecretKey":"b"},"ExpiredTime":100}}"#,
        ] {
            let e = parse_reply(bad, 1800).unwrap_err();
            assert!(matches!(e, StsError::Unreadable(_)), "{e:?}");
            assert!(!e.retryable());
        }
    }
}
