//! Reading a v4 store reply: the JSON envelope `{code, message, data}`, and
//! which codes become which [`Error`].

use serde::de::DeserializeOwned;
use shared::v4::{Reply, codes};

use crate::error::{Error, snippet};
use crate::retry::{retry_after, retryable_status};

pub(super) const SERVICE: &str = "store";

/// A store reply: the code and message, plus `data` when present.
pub(super) struct V4Reply {
    pub(super) code: i64,
    pub(super) message: String,
    pub(super) data: Option<serde_json::Value>,
}

impl V4Reply {
    /// `data`, read as `T`.
    pub(super) fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let v = self.data.clone().ok_or_else(|| Error::Protocol {
            service: SERVICE,
            message: format!("reply without data (code {}, {})", self.code, self.message),
        })?;
        serde_json::from_value(v).map_err(|e| Error::Protocol {
            service: SERVICE,
            message: format!("unexpected data: {e}"),
        })
    }

    /// The error for a non-zero code the caller does not handle itself.
    pub(super) fn error(&self, key: &str) -> Error {
        match self.code {
            codes::SIGN_INVALID | codes::SIGN_BUCKET_MISMATCH | codes::SIGN_REPLAYED => {
                Error::Sign {
                    code: self.code.to_string(),
                    message: self.message.clone(),
                }
            }
            codes::FILE_EXISTS => Error::Exists {
                key: key.to_owned(),
            },
            codes::INTERNAL => Error::Server {
                service: SERVICE,
                status: 500,
                message: format!("{} ({})", self.message, self.code),
                retry_after: None,
            },
            _ => Error::Upload {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }
}

/// Sends one v4 request and reads the JSON envelope. HTTP 507 is
/// [`Error::StoreFull`]; 408, 429 and other 5xx (and a v4 internal error)
/// become retryable [`Error::Server`].
pub(super) async fn send(rb: reqwest::RequestBuilder) -> Result<V4Reply, Error> {
    let resp = rb.send().await.map_err(|e| Error::network(SERVICE, e))?;
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
    let parsed = serde_json::from_slice::<Reply<serde_json::Value>>(&body);
    let message = || match &parsed {
        Ok(r) => format!("{} ({})", r.message, r.code),
        Err(_) => snippet(&String::from_utf8_lossy(&body)),
    };
    if status == reqwest::StatusCode::INSUFFICIENT_STORAGE {
        return Err(Error::StoreFull {
            service: SERVICE,
            message: message(),
        });
    }
    if retryable_status(status) {
        let message = message();
        return Err(Error::Server {
            service: SERVICE,
            status: status.as_u16(),
            message,
            retry_after,
        });
    }
    match parsed {
        Ok(r) => Ok(V4Reply {
            code: r.code,
            message: r.message,
            data: r.data,
        }),
        Err(_) => Err(Error::Protocol {
            service: SERVICE,
            message: format!(
                "HTTP {}: not a v4 JSON reply: {}",
                status.as_u16(),
                snippet(&String::from_utf8_lossy(&body))
            ),
        }),
    }
}

/// The retryable error used after a -96 (expired) reply: the signature was
/// dropped from the cache, so the retry fetches a new one.
pub(super) fn expired() -> Error {
    Error::Server {
        service: SERVICE,
        status: 401,
        message: "signature expired (-96); renewed".into(),
        retry_after: None,
    }
}
