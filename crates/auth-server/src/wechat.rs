//! WeChat `jscode2session`: exchange a `wx.login` code for an openid.
//!
//! The request URL carries the mini-program secret, so it is never logged;
//! `session_key` is read and dropped, never stored or returned.

use std::time::Duration;

use serde::Deserialize;

use crate::config::WechatConfig;

/// What WeChat says about a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user's openid for this mini-program.
    pub openid: String,
    /// The unionid, when the mini-program is bound to an Open Platform account.
    pub unionid: Option<String>,
}

/// Why a login failed on WeChat's side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WechatError {
    /// `-1`: system busy.
    #[error("WeChat is busy (errcode -1)")]
    Busy,
    /// `40029`: invalid code.
    #[error("invalid code (errcode 40029)")]
    InvalidCode,
    /// `40163`: code already used.
    #[error("code already used (errcode 40163)")]
    CodeUsed,
    /// `45011`: per-user minute quota.
    #[error("WeChat rate limit (errcode 45011)")]
    RateLimited,
    /// `40226`: high-risk user blocked.
    #[error("user blocked by WeChat (errcode 40226)")]
    Blocked,
    /// Another errcode (e.g. a misconfigured appid or secret).
    #[error("WeChat error {errcode}: {errmsg}")]
    Other {
        /// The code.
        errcode: i64,
        /// WeChat's message.
        errmsg: String,
    },
    /// Network error, timeout, 5xx or an unreadable reply.
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
    /// No WeChat appid/secret configured.
    #[error("WeChat login is not configured")]
    NotConfigured,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    // Read so the reply parses; never kept.
    #[serde(default, rename = "session_key")]
    _session_key: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    errcode: Option<serde_json::Value>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// A `jscode2session` client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: WechatConfig,
}

impl Client {
    /// Builds a client (no request is made).
    pub fn new(config: WechatConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, config })
    }

    /// Exchanges `code` for the user's openid.
    pub async fn code_to_session(&self, code: &str) -> Result<Session, WechatError> {
        let (Some(appid), Some(secret)) = (&self.config.appid, &self.config.secret) else {
            return Err(WechatError::NotConfigured);
        };
        let url = format!("{}/sns/jscode2session", self.config.api_base);
        let resp = self
            .http
            .get(url)
            .query(&[
                ("appid", appid.as_str()),
                ("secret", secret.expose_secret()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            // `without_url`: the URL holds the secret.
            .map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(WechatError::Unavailable(format!("HTTP {status}")));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
        parse_reply(&body)
    }
}

/// Interprets a `jscode2session` body (WeChat may send `errcode` as a number
/// or a string, and `errcode: 0` on success).
pub fn parse_reply(body: &[u8]) -> Result<Session, WechatError> {
    let reply: Reply = serde_json::from_slice(body)
        .map_err(|_| WechatError::Unavailable("reply is not the expected JSON".into()))?;
    let errcode = match &reply.errcode {
        None | Some(serde_json::Value::Null) => 0,
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| WechatError::Unavailable("errcode is not an integer".into()))?,
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| WechatError::Unavailable("errcode is not an integer".into()))?,
        Some(_) => {
            return Err(WechatError::Unavailable(
                "errcode has an unexpected type".into(),
            ));
        }
    };
    match errcode {
        0 => {}
        -1 => return Err(WechatError::Busy),
        40029 => return Err(WechatError::InvalidCode),
        40163 => return Err(WechatError::CodeUsed),
        45011 => return Err(WechatError::RateLimited),
        40226 => return Err(WechatError::Blocked),
        other => {
            return Err(WechatError::Other {
                errcode: other,
                errmsg: reply.errmsg.unwrap_or_default().chars().take(200).collect(),
            });
        }
    }
    match reply.openid {
        Some(openid) if valid_id(&openid) => Ok(Session {
            openid,
            unionid: reply.unionid.filter(|u| valid_id(u)),
        }),
        _ => Err(WechatError::Unavailable("reply has no valid openid".into())),
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_and_every_errcode_form() {
        let ok = parse_reply(br#"{"openid":"o-1","session_key":"sk","unionid":"u-1","errcode":0}"#)
            .unwrap();
        assert_eq!(ok.openid, "o-1");
        assert_eq!(ok.unionid.as_deref(), Some("u-1"));
        assert_eq!(
            parse_reply(br#"{"openid":"o-2","session_key":"sk"}"#)
                .unwrap()
                .unionid,
            None
        );
        let cases: &[(&[u8], WechatError)] = &[
            (br#"{"errcode":-1,"errmsg":"busy"}"#, WechatError::Busy),
            (
                br#"{"errcode":40029,"errmsg":"invalid code"}"#,
                WechatError::InvalidCode,
            ),
            (
                br#"{"errcode":"40029","errmsg":"invalid code"}"#,
                WechatError::InvalidCode,
            ),
            (br#"{"errcode":40163}"#, WechatError::CodeUsed),
            (br#"{"errcode":45011}"#, WechatError::RateLimited),
            (br#"{"errcode":"40226"}"#, WechatError::Blocked),
        ];
        for (body, want) in cases {
            assert_eq!(&parse_reply(body).unwrap_err(), want);
        }
        assert!(matches!(
            parse_reply(br#"{"errcode":40013,"errmsg":"invalid appid"}"#),
            Err(WechatError::Other { errcode: 40013, .. })
        ));
        for bad in [
            &b"not json"[..],
            br#"{"errcode":0}"#,
            br#"{"errcode":[1]}"#,
            br#"{"openid":""}"#,
        ] {
            assert!(matches!(parse_reply(bad), Err(WechatError::Unavailable(_))));
        }
    }
}
